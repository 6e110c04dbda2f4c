//! Benchmarks of the later crates (add, index, validate, publish), appended to the table
//! of [`crate::bench`]. They drive the release `berth` binary as a user would.

use std::io::Write;
use std::process::Command;
use std::time::Duration;

use berth_model::{ComponentsIndex, yaml};
use camino::{Utf8Path, Utf8PathBuf};
use sha2::{Digest as _, Sha256};

use crate::bench::{BenchArgs, Row, sh, time};
use crate::synth::Rng;

/// The release `berth` binary, built once.
pub fn berth_release() -> Result<Utf8PathBuf, String> {
    let st = Command::new(std::env::var("CARGO").unwrap_or_else(|_| "cargo".into()))
        .args([
            "build",
            "--quiet",
            "--release",
            "-p",
            "berth-cli",
            "--bin",
            "berth",
        ])
        .status()
        .map_err(|e| e.to_string())?;
    if !st.success() {
        return Err("building the release berth binary failed".into());
    }
    let target = std::env::var("CARGO_TARGET_DIR").unwrap_or_else(|_| "target".into());
    Ok(Utf8PathBuf::from(target).join("release/berth"))
}

fn wanted(args: &BenchArgs, name: &str) -> bool {
    args.only.as_deref().is_none_or(|o| name.contains(o))
}

/// Adds the rows of the benchmarks defined here.
pub fn more(args: &BenchArgs, rows: &mut Vec<Row>) -> Result<(), String> {
    if wanted(args, "add") {
        add_rows(args, rows)?;
    }
    if wanted(args, "latest") || wanted(args, "index") || wanted(args, "validate") {
        repo_rows(args, rows)?;
    }
    if wanted(args, "publish") {
        crate::bench_publish::publish_rows(args, rows)?;
    }
    if wanted(args, "scale") {
        crate::bench_scale::scale_rows(args, rows)?;
    }
    if wanted(args, "site") {
        crate::bench_site::site_rows(args, rows)?;
    }
    Ok(())
}

/// A 1 GiB OCI archive: oci-layout, index.json, a config, a manifest and one uncompressed
/// layer (a tar holding 1 GiB of pseudo-random bytes). Made once.
fn big_oci_archive(dir: &Utf8Path) -> Result<Utf8PathBuf, String> {
    let out = dir.join("big-1gib.oci.tar");
    if out.exists() {
        return Ok(out);
    }
    eprintln!("bench: writing a 1 GiB OCI archive …");
    let e = |x: std::io::Error| x.to_string();
    // The layer: a tar with one file of random bytes, hashed while written.
    let layer_path = dir.join("big-layer.tar");
    let size: u64 = 1 << 30;
    {
        let f = fs_err::File::create(&layer_path).map_err(e)?;
        let mut b = tar::Builder::new(std::io::BufWriter::with_capacity(1 << 20, f));
        let mut h = tar::Header::new_gnu();
        h.set_size(size);
        h.set_mode(0o644);
        h.set_mtime(1_700_000_000);
        h.set_entry_type(tar::EntryType::Regular);
        let mut rng = Rng::new(7);
        let reader = RandReader {
            rng: &mut rng,
            left: size,
        };
        b.append_data(&mut h, "data.bin", reader).map_err(e)?;
        b.into_inner().map_err(e)?.flush().map_err(e)?;
    }
    let layer_digest = hex::encode(Sha256::digest(fs_err::read(&layer_path).map_err(e)?));
    let layer_size = fs_err::metadata(&layer_path).map_err(e)?.len();
    let config = serde_json::to_vec(&serde_json::json!({
        "created": "2025-05-10T22:15:00Z",
        "architecture": "amd64",
        "os": "linux",
        "config": {"Labels": {"org.opencontainers.image.revision": "bench"}},
        "rootfs": {"type": "layers", "diff_ids": [format!("sha256:{layer_digest}")]},
    }))
    .map_err(|x| x.to_string())?;
    let config_digest = hex::encode(Sha256::digest(&config));
    let manifest = serde_json::to_vec(&serde_json::json!({
        "schemaVersion": 2,
        "mediaType": "application/vnd.oci.image.manifest.v1+json",
        "config": {"mediaType": "application/vnd.oci.image.config.v1+json", "digest": format!("sha256:{config_digest}"), "size": config.len()},
        "layers": [{"mediaType": "application/vnd.oci.image.layer.v1.tar", "digest": format!("sha256:{layer_digest}"), "size": layer_size}],
    }))
    .map_err(|x| x.to_string())?;
    let manifest_digest = hex::encode(Sha256::digest(&manifest));
    let index = serde_json::to_vec(&serde_json::json!({
        "schemaVersion": 2,
        "manifests": [{"mediaType": "application/vnd.oci.image.manifest.v1+json", "digest": format!("sha256:{manifest_digest}"), "size": manifest.len()}],
    }))
    .map_err(|x| x.to_string())?;
    let f = fs_err::File::create(&out).map_err(e)?;
    let mut b = tar::Builder::new(std::io::BufWriter::with_capacity(1 << 20, f));
    let mut add = |name: &str, data: &[u8]| -> Result<(), String> {
        let mut h = tar::Header::new_gnu();
        h.set_size(data.len() as u64);
        h.set_mode(0o644);
        h.set_mtime(1_700_000_000);
        b.append_data(&mut h, name, data).map_err(e)
    };
    add("oci-layout", br#"{"imageLayoutVersion":"1.0.0"}"#)?;
    add("index.json", &index)?;
    add(&format!("blobs/sha256/{config_digest}"), &config)?;
    add(&format!("blobs/sha256/{manifest_digest}"), &manifest)?;
    let mut h = tar::Header::new_gnu();
    h.set_size(layer_size);
    h.set_mode(0o644);
    h.set_mtime(1_700_000_000);
    b.append_data(
        &mut h,
        format!("blobs/sha256/{layer_digest}"),
        fs_err::File::open(&layer_path).map_err(e)?,
    )
    .map_err(e)?;
    b.into_inner().map_err(e)?.flush().map_err(e)?;
    fs_err::remove_file(&layer_path).map_err(e)?;
    Ok(out)
}

struct RandReader<'a> {
    rng: &'a mut Rng,
    left: u64,
}

impl std::io::Read for RandReader<'_> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let n = (buf.len() as u64).min(self.left) as usize;
        for chunk in buf[..n].chunks_mut(8) {
            let r = self.rng.next().to_le_bytes();
            chunk.copy_from_slice(&r[..chunk.len()]);
        }
        self.left -= n as u64;
        Ok(n)
    }
}

const BENCH_META: &str = "architecture: amd64\ndomains: [\"cloud\"]\nenvironments: [\"staging\", \"prod\"]\ngroup: bench\nservice_name: big\nteam: bench\n";

/// The add benchmark's fixtures: the release binary, the 1 GiB archive, its metadata, and
/// a scratch repository made afresh before each run.
struct AddBench {
    berth: Utf8PathBuf,
    archive: Utf8PathBuf,
    meta: Utf8PathBuf,
    repo: Utf8PathBuf,
    runs: usize,
}

impl AddBench {
    fn fresh_repo(&self) -> Result<(), String> {
        if self.repo.exists() {
            fs_err::remove_dir_all(&self.repo).map_err(|e| e.to_string())?;
        }
        sh(&format!("{} init {} > /dev/null", self.berth, self.repo))
    }

    /// `berth add` of the archive with `flag` (`--docker`, `--generic`).
    fn add_cmd(&self, flag: &str, source: &Utf8Path, extra: &str) -> String {
        format!(
            "{} --repo {} add cloud/bench/big 1.0.0 {flag} {source} --metadata {} --no-progress {extra} > /dev/null",
            self.berth, self.repo, self.meta
        )
    }

    /// `cmd` timed once per run, each into a fresh repository.
    fn each_fresh(&self, cmd: &str) -> Result<Vec<Duration>, String> {
        let mut samples = Vec::new();
        for _ in 0..self.runs {
            self.fresh_repo()?;
            samples.extend(time(1, || sh(cmd))?);
        }
        Ok(samples)
    }

    /// What a user would otherwise run: cp then sync, openssl, sha256sum, and dd with fsync.
    fn references(&self) -> Result<[Vec<Duration>; 4], String> {
        let archive = &self.archive;
        let cp_out = archive.with_file_name("cp-copy.tar");
        let mut cp_sync = Vec::new();
        for _ in 0..self.runs {
            let _ = fs_err::remove_file(&cp_out);
            sh("sync")?;
            cp_sync.extend(time(1, || sh(&format!("cp {archive} {cp_out} && sync")))?);
        }
        let _ = fs_err::remove_file(&cp_out);
        let openssl = time(self.runs, || {
            sh(&format!("openssl dgst -sha256 {archive} > /dev/null"))
        })?;
        let sha256sum = time(1, || sh(&format!("sha256sum {archive} > /dev/null")))?;
        let dd_out = archive.with_file_name("dd-copy.tar");
        let dd = time(1, || {
            sh(&format!(
                "dd if={archive} of={dd_out} bs=1M conv=fsync status=none"
            ))
        })?;
        let _ = fs_err::remove_file(&dd_out);
        Ok([cp_sync, openssl, sha256sum, dd])
    }

    /// The read-verify-copy-hash pipeline alone, into tmpfs (no disk write-back): what
    /// berth itself costs, separated from the disk's speed.
    fn pipeline(&self) -> Result<Vec<Duration>, String> {
        let shm = Utf8PathBuf::from("/dev/shm/berth-bench-ingest.tar");
        let samples = time(self.runs, || {
            let _ = fs_err::remove_file(&shm);
            berth_formats::ingest_image(
                &self.archive,
                berth_formats::Destination::CopyTo(&shm),
                None,
            )
            .map(|_| ())
            .map_err(|e| e.to_string())
        })?;
        let _ = fs_err::remove_file(&shm);
        Ok(samples)
    }

    /// `--move`: each run hands over a fresh copy of the archive, made on the same
    /// filesystem with cp and written back with sync before the clock starts (the
    /// producer's write, not berth's). Samples and peak RSS.
    fn moved(&self) -> Result<(Vec<Duration>, u64), String> {
        let handed = self.archive.with_file_name("add-move-src.oci.tar");
        let move_cmd = self.add_cmd("--docker", &handed, "--move");
        let fresh_handover = || -> Result<(), String> {
            self.fresh_repo()?;
            sh(&format!("cp {} {handed} && sync", self.archive))
        };
        let mut samples = Vec::new();
        for _ in 0..self.runs {
            fresh_handover()?;
            samples.extend(time(1, || {
                sh(&move_cmd)?;
                if handed.exists() {
                    return Err(format!("berth add --move left {handed} in place"));
                }
                Ok(())
            })?);
        }
        fresh_handover()?;
        let rss = crate::bench_scale::peak_rss_kib(&move_cmd)?;
        if handed.exists() {
            fs_err::remove_file(&handed).map_err(|e| e.to_string())?;
        }
        Ok((samples, rss))
    }
}

fn add_rows(args: &BenchArgs, rows: &mut Vec<Row>) -> Result<(), String> {
    let b = AddBench {
        berth: berth_release()?,
        archive: big_oci_archive(&args.dir)?,
        meta: args.dir.join("big-metadata.yaml"),
        repo: args.dir.join("add-repo"),
        runs: args.runs.clamp(1, 3),
    };
    fs_err::write(&b.meta, BENCH_META).map_err(|e| e.to_string())?;
    // Warm the page cache so both sides read from memory.
    sh(&format!("cat {} > /dev/null", b.archive))?;
    let add_cmd = b.add_cmd("--docker", &b.archive, "");
    let samples = b.each_fresh(&add_cmd)?;
    // The same bytes as a generic file: one SHA-256 (an image needs two: the archive's and
    // its blobs').
    let generic = b.each_fresh(&b.add_cmd("--generic", &b.archive, ""))?;
    let [cp_sync, openssl, sha256sum, dd] = b.references()?;
    b.fresh_repo()?;
    let rss_kib = crate::bench_scale::peak_rss_kib(&add_cmd)?;
    let pipeline = b.pipeline()?;
    let (move_samples, move_rss_kib) = b.moved()?;
    let size_gib = fs_err::metadata(&b.archive)
        .map_err(|e| e.to_string())?
        .len() as f64
        / f64::from(1u32 << 30);
    push_add_rows(
        AddSamples {
            samples,
            generic,
            cp_sync,
            openssl,
            sha256sum,
            dd,
            pipeline,
            move_samples,
            rss_kib,
            move_rss_kib,
            size_gib,
        },
        rows,
    );
    fs_err::remove_dir_all(&b.repo).map_err(|e| e.to_string())?;
    Ok(())
}

/// What the add benchmark measured.
struct AddSamples {
    samples: Vec<Duration>,
    generic: Vec<Duration>,
    cp_sync: Vec<Duration>,
    openssl: Vec<Duration>,
    sha256sum: Vec<Duration>,
    dd: Vec<Duration>,
    pipeline: Vec<Duration>,
    move_samples: Vec<Duration>,
    rss_kib: u64,
    move_rss_kib: u64,
    size_gib: f64,
}

/// The add benchmark's rows, side by side with the reference tools.
fn push_add_rows(m: AddSamples, rows: &mut Vec<Row>) {
    let AddSamples {
        samples,
        generic,
        cp_sync,
        openssl,
        sha256sum,
        dd,
        pipeline,
        move_samples,
        rss_kib,
        move_rss_kib,
        size_gib,
    } = m;
    let mib_s = |d: f64| size_gib * 1024.0 / d;
    let (a, o) = (median_secs(&samples), median_secs(&openssl));
    let (m, p) = (median_secs(&move_samples), median_secs(&pipeline));
    let (g, c) = (median_secs(&generic), median_secs(&cp_sync));
    let slower = o.max(c);
    let dd_speed = mib_s(median_secs(&dd));
    let sha_speed = mib_s(median_secs(&sha256sum));
    let mut row = |name: &str, samples: Vec<Duration>, note: String| {
        rows.push(Row {
            name: name.into(),
            samples,
            note,
        });
    };
    row(
        "add pipeline: read+verify+copy+hash to tmpfs",
        pipeline,
        format!(
            "{:.0} MiB/s; {:.2}x openssl's speed (berth-formats::ingest_image, in process)",
            mib_s(p),
            o / p
        ),
    );
    row(
        "ref: dd conv=fsync, same file to the same disk",
        dd,
        format!("{dd_speed:.0} MiB/s: the disk's durable write speed bounds `berth add`"),
    );
    row(
        "add: berth add, 1 GiB OCI archive",
        samples,
        format!(
            "{:.0} MiB/s; {:.2}x openssl's speed; peak RSS {:.1} MiB",
            mib_s(a),
            o / a,
            rss_kib as f64 / 1024.0
        ),
    );
    row(
        "add: berth add --generic, same 1 GiB file",
        generic,
        format!(
            "{:.0} MiB/s; {:.2}x the slower of cp+sync and openssl (target <= 1.1x)",
            mib_s(g),
            g / slower
        ),
    );
    row(
        "ref: cp + sync, same file",
        cp_sync,
        format!(
            "{:.0} MiB/s; berth add (image) = {:.2}x the slower of this and openssl (target <= 1.1x; an image is hashed twice, archive and blobs)",
            mib_s(c),
            a / slower
        ),
    );
    row(
        "add --move: berth add --move, 1 GiB OCI archive",
        move_samples,
        format!(
            "{:.0} MiB/s; {:.2}x openssl's speed; peak RSS {:.1} MiB; each run moves a fresh cp of the archive, written back (sync) before the clock starts",
            mib_s(m),
            o / m,
            move_rss_kib as f64 / 1024.0
        ),
    );
    row(
        "floor: openssl dgst -sha256, same file",
        openssl,
        format!("{:.0} MiB/s", mib_s(o)),
    );
    row(
        "ref: sha256sum, same file",
        sha256sum,
        format!("{sha_speed:.0} MiB/s"),
    );
}

/// The median of samples, in seconds.
pub(crate) fn median_secs(s: &[Duration]) -> f64 {
    let mut v = s.to_vec();
    v.sort();
    v.get(v.len() / 2).map_or(0.0, Duration::as_secs_f64)
}

/// Runs a shell command whose exit 1 is an answer (`berth validate` with findings), not a
/// failure: any other status fails.
fn sh_findings_ok(cmd: &str) -> Result<(), String> {
    let st = Command::new("sh")
        .args(["-c", cmd])
        .status()
        .map_err(|e| format!("{cmd}: {e}"))?;
    match st.code() {
        Some(0 | 1) => Ok(()),
        _ => Err(format!("`{cmd}` failed: {st}")),
    }
}

/// The standard output of a shell command, trimmed; fails on a non-zero exit.
fn sh_out(cmd: &str) -> Result<String, String> {
    let out = Command::new("sh")
        .args(["-c", cmd])
        .output()
        .map_err(|e| format!("{cmd}: {e}"))?;
    if !out.status.success() {
        return Err(format!(
            "`{cmd}` failed: {}: {}",
            out.status,
            String::from_utf8_lossy(&out.stderr).trim()
        ));
    }
    Ok(String::from_utf8_lossy(&out.stdout).trim().to_owned())
}

/// An absolute form of `p` (commands below change directory).
pub(crate) fn absolute(p: &Utf8Path) -> Result<Utf8PathBuf, String> {
    let abs = std::path::absolute(p).map_err(|e| format!("{p}: {e}"))?;
    Utf8PathBuf::from_path_buf(abs).map_err(|p| format!("{} is not UTF-8", p.display()))
}

/// The rows of `index/components.yaml` in `repo`.
fn read_index(repo: &Utf8Path) -> Result<ComponentsIndex, String> {
    let path = repo.join("index/components.yaml");
    let bytes = fs_err::read(&path).map_err(|e| e.to_string())?;
    yaml::from_slice::<ComponentsIndex>(&path, &bytes)
        .map(|l| l.value)
        .map_err(|e| e.to_string())
}

/// Fills the index of `repo` with `berth index` unless it already has rows.
fn ensure_index(berth: &Utf8Path, repo: &Utf8Path) -> Result<ComponentsIndex, String> {
    let index = read_index(repo)?;
    if !index.components.is_empty() {
        return Ok(index);
    }
    eprintln!("bench: berth index on {repo} …");
    sh(&format!("{berth} --repo {repo} index > /dev/null"))?;
    read_index(repo)
}

/// `berth index`, `berth latest` (beside the seed's Python helper) and `berth validate`
/// (metadata only beside `find | xargs cat`; `--verify-artifacts` on a warm hash cache beside
/// the metadata-only run).
fn repo_rows(args: &BenchArgs, rows: &mut Vec<Row>) -> Result<(), String> {
    let berth = absolute(&berth_release()?)?;
    let repo = absolute(&crate::bench::synth_repo(&args.dir, 10_000, 10, false)?)?;
    let shape = "10,000 components x 10 versions";
    let cat_yaml = format!("find {repo} -name '*.yaml' -print0 | xargs -0 cat > /dev/null");
    // Warm the page cache so every row measures the same (warm) state.
    sh(&cat_yaml)?;
    if wanted(args, "index") {
        index_rows(args, rows, &berth, &repo, shape)?;
    }
    if wanted(args, "latest") {
        latest_rows(args, rows, &berth, &repo)?;
    }
    if wanted(args, "validate") {
        ensure_index(&berth, &repo)?;
        let validate =
            format!("{berth} --repo {repo} validate --no-cache --format json > /dev/null");
        sh_findings_ok(&validate)?;
        let ours = time(args.runs, || sh_findings_ok(&validate))?;
        let floor = time(args.runs, || sh(&cat_yaml))?;
        let ratio = median_secs(&ours) / median_secs(&floor).max(1e-9);
        rows.push(Row {
            name: "validate: metadata only, 100,000 versions".into(),
            samples: ours,
            note: format!(
                "{shape}; {ratio:.2}x the floor below (target <= 3x); --format json > /dev/null"
            ),
        });
        rows.push(Row {
            name: "floor: find -name '*.yaml' | xargs cat".into(),
            samples: floor,
            note: format!("{shape}; the same files, read by coreutils"),
        });
        verify_rows(args, rows, &berth)?;
    }
    Ok(())
}

fn index_rows(
    args: &BenchArgs,
    rows: &mut Vec<Row>,
    berth: &Utf8Path,
    repo: &Utf8Path,
    shape: &str,
) -> Result<(), String> {
    let index_file = repo.join("index/components.yaml");
    let cmd = format!("{berth} --repo {repo} index > /dev/null");
    // The first run on a fresh repository: from the empty index the generator writes.
    let empty = yaml::to_canonical(&ComponentsIndex::default()).map_err(|e| e.to_string())?;
    fs_err::write(&index_file, empty).map_err(|e| e.to_string())?;
    let first = time(1, || sh(&cmd))?;
    let rows_n = read_index(repo)?.components.len();
    // `berth index` writes only when the bytes differ: the later runs are the steady state
    // a CI job sees, and must leave the file alone.
    let mtime = || {
        fs_err::metadata(&index_file)
            .and_then(|m| m.modified())
            .map_err(|e| e.to_string())
    };
    let before = mtime()?;
    let steady = time(args.runs, || sh(&cmd))?;
    let untouched = mtime()? == before;
    rows.push(Row {
        name: "index: berth index, 100,000 versions (steady)".into(),
        note: format!(
            "{shape}, {rows_n} rows; validates every version; {}; first run (writes) {:.2} s",
            if untouched {
                "file left untouched"
            } else {
                "FILE REWRITTEN"
            },
            median_secs(&first)
        ),
        samples: steady,
    });
    Ok(())
}

fn latest_rows(
    args: &BenchArgs,
    rows: &mut Vec<Row>,
    berth: &Utf8Path,
    repo: &Utf8Path,
) -> Result<(), String> {
    let index = ensure_index(berth, repo)?;
    let n = index.components.len();
    // Near the end: the Python helper scans the list, berth does not.
    let name = index
        .components
        .iter()
        .rev()
        .nth(1)
        .or(index.components.last())
        .map(|e| e.name.to_string())
        .ok_or("the index has no rows")?;
    let helper =
        absolute(&crate::bench::workspace_root().join("tests/fixtures/seed/get_latest.py"))?;
    let berth_cmd = format!("{berth} --repo {repo} latest {name}");
    let py_cmd = format!("cd {repo} && python3 {helper} {name}");
    // Both must give the same answer before their times mean anything.
    let (a, b) = (sh_out(&berth_cmd)?, sh_out(&py_cmd)?);
    if a != b {
        return Err(format!(
            "berth latest {name} printed {a:?}, get_latest.py {b:?}"
        ));
    }
    let ours = time(args.runs.max(20), || {
        sh(&format!("{berth_cmd} > /dev/null"))
    })?;
    let python = time(args.runs.clamp(1, 5), || {
        sh(&format!("{py_cmd} > /dev/null"))
    })?;
    let ratio = median_secs(&python) / median_secs(&ours).max(1e-9);
    rows.push(Row {
        name: format!("latest: berth latest, {n}-row index"),
        samples: ours,
        note: format!(
            "whole process; {ratio:.0}x faster than the seed's helper below (target >= 10x); {name} = {a}"
        ),
    });
    rows.push(Row {
        name: "ref: seed get_latest.py (PyYAML), same index".into(),
        samples: python,
        note: "whole process: python3 + yaml.safe_load, cd into the repository".into(),
    });
    Ok(())
}

fn verify_rows(args: &BenchArgs, rows: &mut Vec<Row>, berth: &Utf8Path) -> Result<(), String> {
    let repo = absolute(&crate::bench::synth_repo(&args.dir, 2_000, 10, true)?)?;
    let shape = "2,000 components x 10 versions, tiny generic artifacts";
    // A private hash cache, warmed by one run.
    let cache = absolute(&args.dir.join("validate-cache"))?;
    fs_err::create_dir_all(&cache).map_err(|e| e.to_string())?;
    ensure_index(berth, &repo)?;
    sh(&format!(
        "find {repo} -type f -print0 | xargs -0 cat > /dev/null"
    ))?;
    let base = format!("BERTH_CACHE_DIR={cache} {berth} --repo {repo} validate --format json");
    let meta_cmd = format!("{base} > /dev/null");
    let verify_cmd = format!("{base} --verify-artifacts > /dev/null");
    let cold = time(1, || {
        sh_findings_ok(&format!("{base} --verify-artifacts --no-cache > /dev/null"))
    })?;
    sh_findings_ok(&verify_cmd)?;
    sh_findings_ok(&meta_cmd)?;
    // Interleaved, so both see the same machine load.
    let (mut meta, mut verify) = (Vec::new(), Vec::new());
    for _ in 0..args.runs.max(1) {
        meta.extend(time(1, || sh_findings_ok(&meta_cmd))?);
        verify.extend(time(1, || sh_findings_ok(&verify_cmd))?);
    }
    let ratio = median_secs(&verify) / median_secs(&meta).max(1e-9);
    rows.push(Row {
        name: "validate --verify-artifacts, warm hash cache".into(),
        samples: verify,
        note: format!(
            "{shape}; {ratio:.2}x the metadata-only run below (target <= 1.5x); without the cache (--no-cache) {:.2} s",
            median_secs(&cold)
        ),
    });
    rows.push(Row {
        name: "ref: validate, metadata only, same repository".into(),
        samples: meta,
        note: format!("{shape}; no artifact byte read"),
    });
    Ok(())
}
