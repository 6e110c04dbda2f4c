//! `cargo xtask bench --only scale`: does a small write cost a small amount however big the
//! repository? On synthetic repositories of 1,000, 10,000 and 100,000 versions (10 per
//! component), in the same run:
//!
//! - `berth add` of one small version (a generic file, `--from-previous`);
//! - `berth promote` of one version into a first stage (the libraries it needs promoted
//!   once beforehand);
//! - `berth validate` after one version changed (the per-version cache warm), beside a cold
//!   `berth validate --no-cache` of the same repository;
//! - the peak memory of a cold `validate` and of `berth index`;
//! - two floors: `find | xargs cat` (read every YAML file, what a cold run cannot do
//!   without) and `find -newer` (one `lstat` of every path, what any change detection
//!   without a file-watching daemon does: `git status` does the same).
//!
//! Each runs on a copy of the generated repository (`cp -a`), so runs do not pile up.

use std::process::Command;

use camino::{Utf8Path, Utf8PathBuf};

use crate::bench::{BenchArgs, Row, sh, time};
use crate::bench_ext::{absolute, berth_release, median_secs};

/// The sizes measured: (components, versions each).
const SIZES: [(usize, usize); 3] = [(100, 10), (1_000, 10), (10_000, 10)];

/// Peak resident memory of one run of `cmd`, in KiB (GNU time).
pub(crate) fn peak_rss_kib(cmd: &str) -> Result<u64, String> {
    let out = Command::new("/usr/bin/time")
        .args(["-f", "%M"])
        .args(["sh", "-c", cmd])
        .output()
        .map_err(|e| format!("/usr/bin/time: {e} (apt-get install time)"))?;
    if !matches!(out.status.code(), Some(0 | 1)) {
        return Err(format!("`{cmd}` failed: {}", out.status));
    }
    Ok(String::from_utf8_lossy(&out.stderr)
        .lines()
        .last()
        .and_then(|l| l.trim().parse().ok())
        .unwrap_or(0))
}

fn sh_any(cmd: &str) -> Result<(), String> {
    let st = Command::new("sh")
        .args(["-c", cmd])
        .status()
        .map_err(|e| format!("{cmd}: {e}"))?;
    match st.code() {
        Some(0 | 1) => Ok(()),
        _ => Err(format!("`{cmd}` failed: {st}")),
    }
}

/// One size's measurements.
struct Scale {
    versions: usize,
    add: f64,
    promote: f64,
    warm: f64,
    cold: f64,
    floor: f64,
    stat_floor: f64,
    validate_kib: u64,
    index_kib: u64,
}

/// Adds the rows.
pub fn scale_rows(args: &BenchArgs, rows: &mut Vec<Row>) -> Result<(), String> {
    let berth = absolute(&berth_release()?)?;
    let mut results: Vec<Scale> = Vec::new();
    for (components, versions) in SIZES {
        let src = absolute(&crate::bench::synth_repo(
            &args.dir, components, versions, false,
        )?)?;
        let repo = absolute(&args.dir.join(format!("scale-{components}x{versions}")))?;
        if repo.exists() {
            fs_err::remove_dir_all(&repo).map_err(|e| e.to_string())?;
        }
        eprintln!("bench: copying {src} …");
        sh(&format!("cp -a {src} {repo}"))?;
        results.push(measure(args, &berth, &repo, components * versions, rows)?);
        fs_err::remove_dir_all(&repo).map_err(|e| e.to_string())?;
    }
    let base = &results[0];
    for r in &results {
        rows.push(Row {
            name: format!("scale: summary, {} versions", r.versions),
            samples: Vec::new(),
            note: format!(
                "add {:.1} ms ({:.2}x the 1,000-version repo; target <= 1.5x); promote {:.1} ms ({:.2}x; target <= 1.5x); validate after one change {:.0} ms = {:.3}x cold {:.2} s (target <= 0.1x) = {:.2}x the find -newer floor; cold = {:.2}x the find|xargs cat floor (target <= 3x); peak RSS validate {:.0} MiB, index {:.0} MiB (target < 256)",
                r.add * 1e3,
                r.add / base.add.max(1e-9),
                r.promote * 1e3,
                r.promote / base.promote.max(1e-9),
                r.warm * 1e3,
                r.warm / r.cold.max(1e-9),
                r.cold,
                r.warm / r.stat_floor.max(1e-9),
                r.cold / r.floor.max(1e-9),
                r.validate_kib as f64 / 1024.0,
                r.index_kib as f64 / 1024.0,
            ),
        });
    }
    Ok(())
}

fn measure(
    args: &BenchArgs,
    berth: &Utf8Path,
    repo: &Utf8Path,
    n: usize,
    rows: &mut Vec<Row>,
) -> Result<Scale, String> {
    let b = |rest: &str| format!("BERTH_ACTOR=bench {berth} --repo {repo} {rest} > /dev/null");
    let b: &dyn Fn(&str) -> String = &b;
    let shape = format!("{n} versions");
    let cat = format!("find {repo} -name '*.yaml' -print0 | xargs -0 cat > /dev/null");
    sh(&cat)?;
    // The index and caches, as a working copy has them.
    sh(&b("index"))?;
    // Cold validate (no cache) beside the floor, and its peak memory.
    let cold = time(args.runs, || sh_any(&b("validate --no-cache")))?;
    let floor = time(args.runs, || sh(&cat))?;
    let stat_all = format!("find {repo} -newer {repo}/berth.toml > /dev/null");
    let stat_floor = time(args.runs, || sh(&stat_all))?;
    let validate_kib = peak_rss_kib(&b("validate --no-cache"))?;
    let index_kib = peak_rss_kib(&b("index"))?;
    let warm = warm_validate(args, repo, &b)?;
    let (add, promote, svc, domain) = add_and_promote(args, berth, repo, &b)?;
    rows.push(Row {
        name: format!("scale: add one small version, {shape}"),
        samples: add.clone(),
        note: format!("{svc}; --generic, --from-previous"),
    });
    rows.push(Row {
        name: format!("scale: promote one version, {shape}"),
        samples: promote.clone(),
        note: format!("{svc} into {domain}/staging"),
    });
    rows.push(Row {
        name: format!("scale: validate after one change, {shape}"),
        samples: warm.clone(),
        note: "per-version cache warm; one metadata.yaml rewritten per run".into(),
    });
    rows.push(Row {
        name: format!("scale: validate --no-cache (cold), {shape}"),
        samples: cold.clone(),
        note: format!("peak RSS {:.0} MiB", validate_kib as f64 / 1024.0),
    });
    rows.push(Row {
        name: format!("floor: find | xargs cat, {shape}"),
        samples: floor.clone(),
        note: "the same YAML files, read by coreutils".into(),
    });
    rows.push(Row {
        name: format!("floor: find -newer (lstat every path), {shape}"),
        samples: stat_floor.clone(),
        note: "the change detection any warm run needs, single-threaded".into(),
    });
    Ok(Scale {
        versions: n,
        add: median_secs(&add),
        promote: median_secs(&promote),
        warm: median_secs(&warm),
        cold: median_secs(&cold),
        floor: median_secs(&floor),
        stat_floor: median_secs(&stat_floor),
        validate_kib,
        index_kib,
    })
}

/// `berth validate` after one version changed, the cache warm: one metadata file changed
/// per run (written to a new file and renamed, as editors and git do).
fn warm_validate(
    args: &BenchArgs,
    repo: &Utf8Path,
    b: &dyn Fn(&str) -> String,
) -> Result<Vec<std::time::Duration>, String> {
    // Validate after one version changed: warm the cache, then change one metadata file per
    // run (written to a new file and renamed, as editors and git do).
    sh_any(&b("validate"))?;
    let victim = first_metadata(repo)?;
    let mut flip = false;
    let warm = time(args.runs, || {
        let text = fs_err::read_to_string(&victim).map_err(|e| e.to_string())?;
        let next = if flip {
            text.replace("tier: gold", "tier: silver")
        } else {
            format!("{}# changed\n", text.trim_end_matches("# changed\n"))
        };
        flip = !flip;
        let tmp = victim.with_extension("yaml.new");
        fs_err::write(&tmp, next).map_err(|e| e.to_string())?;
        fs_err::rename(&tmp, &victim).map_err(|e| e.to_string())?;
        sh_any(&b("validate"))
    })?;
    Ok(warm)
}

/// `berth add` of one small version, then `berth promote` of one version (alternating
/// between two): the samples, the service and its domain.
fn add_and_promote(
    args: &BenchArgs,
    berth: &Utf8Path,
    repo: &Utf8Path,
    b: &dyn Fn(&str) -> String,
) -> Result<
    (
        Vec<std::time::Duration>,
        Vec<std::time::Duration>,
        String,
        String,
    ),
    String,
> {
    // Add one small version of a service: a new version number each run.
    let svc = first_service(repo)?;
    let small = repo.join("../small-artifact.txt");
    fs_err::write(&small, b"a small artifact\n").map_err(|e| e.to_string())?;
    sh(&b(&format!(
        "add {svc} 90.0.0 --generic {small} --from-previous"
    )))?;
    let mut i = 0;
    let add = time(args.runs, || {
        i += 1;
        sh(&b(&format!(
            "add {svc} 90.0.{i} --generic {small} --from-previous"
        )))
    })?;
    // Promote one version into staging, alternating between two (each run is a change).
    let domain = svc.split('/').next().unwrap_or("cloud").to_owned();
    for lib in ["common-utils", "auth-lib", "telemetry", "config-client"] {
        let v = latest_of(berth, repo, &format!("core/platform/{lib}"))?;
        sh(&b(&format!(
            "promote core/platform/{lib} {v} --domain {domain} --env staging"
        )))?;
    }
    let (va, vb) = ("90.0.1", "90.0.2");
    sh(&b(&format!(
        "promote {svc} {va} --domain {domain} --env staging"
    )))?;
    let mut k = 0;
    let promote = time(args.runs, || {
        k += 1;
        let v = if k % 2 == 1 { vb } else { va };
        sh(&b(&format!(
            "promote {svc} {v} --domain {domain} --env staging"
        )))
    })?;
    Ok((add, promote, svc, domain))
}

fn first_metadata(repo: &Utf8Path) -> Result<Utf8PathBuf, String> {
    let svc = first_service(repo)?;
    let versions = repo.join("components").join(&svc).join("versions");
    let mut vs: Vec<String> = fs_err::read_dir(&versions)
        .map_err(|e| e.to_string())?
        .filter_map(|e| e.ok())
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .collect();
    vs.sort();
    let v = vs.first().ok_or("no versions")?;
    Ok(versions.join(v).join("metadata.yaml"))
}

fn first_service(repo: &Utf8Path) -> Result<String, String> {
    // The generator's first service lives under cloud/grp00000.
    let dir = repo.join("components/cloud/grp00000");
    let mut names: Vec<String> = fs_err::read_dir(&dir)
        .map_err(|e| e.to_string())?
        .filter_map(|e| e.ok())
        .filter(|e| e.file_type().is_ok_and(|t| t.is_dir()))
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    let first = names.first().ok_or("no service")?;
    Ok(format!("cloud/grp00000/{first}"))
}

fn latest_of(berth: &Utf8Path, repo: &Utf8Path, c: &str) -> Result<String, String> {
    let out = Command::new(berth.as_std_path())
        .args(["--repo", repo.as_str(), "latest", c])
        .output()
        .map_err(|e| e.to_string())?;
    if !out.status.success() {
        return Err(format!(
            "berth latest {c}: {}",
            String::from_utf8_lossy(&out.stderr)
        ));
    }
    Ok(String::from_utf8_lossy(&out.stdout).trim().to_owned())
}
