//! `berth site` benchmarks: synthetic repositories of 1,000 and 10,000 components (two
//! versions each) whose stages run something (staging the latest version, production the
//! oldest for two components in three), timed beside `berth validate` on the same
//! repository in the same run, with the size of what the site writes.

use std::process::Command;

use berth_model::{ComponentPath, DomainEntry, DomainIndex, Version, yaml};
use camino::{Utf8Path, Utf8PathBuf};

use crate::bench::{BenchArgs, Row, sh, time};
use crate::bench_ext::{absolute, berth_release, median_secs};
use crate::synth::{self, SynthArgs};

/// Runs a command whose exit 1 is an answer (findings), not a failure.
fn sh_answer(cmd: &str) -> Result<(), String> {
    let st = Command::new("sh")
        .args(["-c", cmd])
        .status()
        .map_err(|e| format!("{cmd}: {e}"))?;
    match st.code() {
        Some(0 | 1) => Ok(()),
        _ => Err(format!("`{cmd}` failed: {st}")),
    }
}

/// A synthetic repository with an index and domain files, made once.
fn site_repo(dir: &Utf8Path, berth: &Utf8Path, components: usize) -> Result<Utf8PathBuf, String> {
    let out = absolute(&dir.join(format!("site-{components}x2")))?;
    let done = out.join(".synth-done");
    if done.exists() {
        return Ok(out);
    }
    if out.exists() {
        fs_err::remove_dir_all(&out).map_err(|e| e.to_string())?;
    }
    eprintln!("bench: generating {out} …");
    synth::run(&SynthArgs {
        components,
        versions: 2,
        out: out.clone(),
        seed: 42,
        artifacts: false,
    })?;
    sh(&format!("{berth} --repo {out} index > /dev/null"))?;
    // What the stages run, written directly (no audit trail: the validator reports each
    // row as domain/not-promoted, which also gives the findings pages real volume).
    let repo = berth_model::Repository::open(&out).map_err(|e| e.to_string())?;
    let index = repo
        .components_index()
        .map_err(|e| e.to_string())?
        .map(|l| l.value)
        .unwrap_or_default();
    let mut files: std::collections::BTreeMap<String, Vec<DomainEntry>> = Default::default();
    for (k, e) in index.components.iter().enumerate() {
        let domain = e
            .name
            .as_str()
            .split('/')
            .next()
            .unwrap_or("core")
            .to_owned();
        files
            .entry(format!("index/domain-{domain}-staging.yaml"))
            .or_default()
            .push(entry(&e.name, &e.latest_version));
        if k % 3 != 0
            && let Some(oldest) = repo.versions(&e.name).map_err(|x| x.to_string())?.first()
        {
            files
                .entry(format!("index/domain-{domain}.yaml"))
                .or_default()
                .push(entry(&e.name, oldest));
        }
    }
    for (path, rows) in files {
        let mut d = DomainIndex {
            components: rows,
            audit_head: None,
        };
        d.components.sort();
        let text = yaml::to_canonical(&d).map_err(|e| e.to_string())?;
        fs_err::write(out.join(path), text).map_err(|e| e.to_string())?;
    }
    fs_err::write(&done, b"").map_err(|e| e.to_string())?;
    Ok(out)
}

fn entry(c: &ComponentPath, v: &Version) -> DomainEntry {
    DomainEntry {
        name: c.clone(),
        version: v.clone(),
    }
}

/// Files below `dir`: (count, total bytes, largest path and size, files over 1 MiB).
fn sizes(dir: &Utf8Path) -> Result<(usize, u64, (String, u64), usize), String> {
    let mut stack = vec![dir.to_owned()];
    let (mut n, mut total, mut largest, mut over) = (0, 0, (String::new(), 0), 0);
    while let Some(d) = stack.pop() {
        for e in fs_err::read_dir(&d).map_err(|e| e.to_string())? {
            let e = e.map_err(|e| e.to_string())?;
            let p = Utf8PathBuf::from_path_buf(e.path()).map_err(|p| format!("{}", p.display()))?;
            let meta = e.metadata().map_err(|e| e.to_string())?;
            if meta.is_dir() {
                stack.push(p);
            } else if !p.file_name().is_some_and(|f| f.starts_with('.')) {
                n += 1;
                total += meta.len();
                if meta.len() > 1 << 20 {
                    over += 1;
                }
                if meta.len() > largest.1 {
                    largest = (p.strip_prefix(dir).unwrap_or(&p).to_string(), meta.len());
                }
            }
        }
    }
    Ok((n, total, largest, over))
}

/// The rows: `berth site` and `berth validate` at 1,000 and 10,000 components.
pub fn site_rows(args: &BenchArgs, rows: &mut Vec<Row>) -> Result<(), String> {
    let berth = absolute(&berth_release()?)?;
    for n in [1_000usize, 10_000] {
        let repo = site_repo(&args.dir, &berth, n)?;
        let out = absolute(&args.dir.join(format!("site-{n}-out")))?;
        // Warm the page cache so both commands read from memory.
        sh(&format!(
            "find {repo} -name '*.yaml' -print0 | xargs -0 cat > /dev/null"
        ))?;
        let site = format!("{berth} --repo {repo} site --out {out} > /dev/null");
        let validate = format!("{berth} --repo {repo} validate --format json > /dev/null");
        // The first run into an empty directory writes every file.
        if out.exists() {
            fs_err::remove_dir_all(&out).map_err(|e| e.to_string())?;
        }
        let first = time(1, || sh(&site))?;
        // Interleaved, so both see the same machine load; the site is up to date (the
        // steady state of a CI job whose repository changed a little).
        let (mut ours, mut theirs) = (Vec::new(), Vec::new());
        for _ in 0..args.runs.max(1) {
            theirs.extend(time(1, || sh_answer(&validate))?);
            ours.extend(time(1, || sh(&site))?);
        }
        let (files, total, (lpath, lsize), over) = sizes(&out)?;
        let ratio = median_secs(&ours) / median_secs(&theirs).max(1e-9);
        let first_ratio = median_secs(&first) / median_secs(&theirs).max(1e-9);
        rows.push(Row {
            name: format!("site: berth site, {n} components x 2 versions"),
            samples: ours,
            note: format!(
                "{ratio:.2}x validate below (target <= 2x); first run into an empty directory {:.2} s ({first_ratio:.2}x); {files} files, {:.1} MiB; largest {lpath} ({:.0} KiB); {over} over 1 MiB",
                median_secs(&first),
                total as f64 / f64::from(1u32 << 20),
                lsize as f64 / 1024.0
            ),
        });
        rows.push(Row {
            name: format!("ref: berth validate, same {n} components"),
            samples: theirs,
            note: "metadata only, --format json > /dev/null; the site runs the same validation"
                .into(),
        });
    }
    Ok(())
}
