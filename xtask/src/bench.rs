//! `cargo xtask bench`: every benchmark of the project, printed as one table.
//!
//! Each row is the median of several runs of one measured thing, next to the tool a user
//! would otherwise run on the same input in the same run. Inputs are synthetic
//! repositories made by `cargo xtask synth` under `target/bench/` and reused between runs.
//! Timings on a shared 2-core machine vary; compare rows of one run, not runs.

use std::process::Command;
use std::time::{Duration, Instant};

use berth_model::Repository;
use camino::{Utf8Path, Utf8PathBuf};
use rayon::prelude::*;

use crate::synth::{self, SynthArgs};

/// Options of `cargo xtask bench`.
#[derive(Debug, Clone, clap::Args)]
pub struct BenchArgs {
    /// Only run benchmarks whose name contains this text.
    #[arg(long)]
    pub only: Option<String>,
    /// Runs per measurement (the median is reported).
    #[arg(long, default_value_t = 5)]
    pub runs: usize,
    /// Where synthetic inputs are kept between runs.
    #[arg(long, default_value = "target/bench")]
    pub dir: Utf8PathBuf,
}

/// One row of the result table.
#[derive(Debug, Clone)]
pub struct Row {
    /// What was measured.
    pub name: String,
    /// All samples.
    pub samples: Vec<Duration>,
    /// Context: input size, what it compares with.
    pub note: String,
}

impl Row {
    fn median(&self) -> Duration {
        let mut s = self.samples.clone();
        s.sort();
        s.get(s.len() / 2).copied().unwrap_or_default()
    }
}

/// Times `f` `runs` times.
pub fn time(
    runs: usize,
    mut f: impl FnMut() -> Result<(), String>,
) -> Result<Vec<Duration>, String> {
    let mut out = Vec::with_capacity(runs);
    for _ in 0..runs.max(1) {
        let t = Instant::now();
        f()?;
        out.push(t.elapsed());
    }
    Ok(out)
}

/// Runs a shell command (for the comparison tools), failing on a non-zero exit.
pub fn sh(cmd: &str) -> Result<(), String> {
    let st = Command::new("sh")
        .args(["-c", cmd])
        .status()
        .map_err(|e| format!("{cmd}: {e}"))?;
    if st.success() {
        Ok(())
    } else {
        Err(format!("`{cmd}` failed: {st}"))
    }
}

/// A synthetic repository under the bench directory, made once.
pub fn synth_repo(
    dir: &Utf8Path,
    components: usize,
    versions: usize,
    artifacts: bool,
) -> Result<Utf8PathBuf, String> {
    let name = format!(
        "synth-{components}x{versions}{}",
        if artifacts { "-art" } else { "" }
    );
    let out = dir.join(&name);
    let done = out.join(".synth-done");
    if done.exists() {
        return Ok(out);
    }
    if out.exists() {
        fs_err::remove_dir_all(&out).map_err(|e| e.to_string())?;
    }
    eprintln!("bench: generating {name} …");
    synth::run(&SynthArgs {
        components,
        versions,
        out: out.clone(),
        seed: 42,
        artifacts,
    })?;
    fs_err::write(&done, b"").map_err(|e| e.to_string())?;
    Ok(out)
}

/// The workspace root (xtask runs from it through the cargo alias).
pub fn workspace_root() -> Utf8PathBuf {
    Utf8Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .map(Utf8Path::to_owned)
        .unwrap_or_default()
}

fn wanted(args: &BenchArgs, name: &str) -> bool {
    args.only.as_deref().is_none_or(|o| name.contains(o))
}

/// Runs the benchmarks and prints the table.
pub fn run(args: &BenchArgs) -> Result<(), String> {
    let mut rows: Vec<Row> = Vec::new();
    fs_err::create_dir_all(&args.dir).map_err(|e| e.to_string())?;

    if wanted(args, "model") {
        let repo_dir = synth_repo(&args.dir, 10_000, 10, false)?;
        let note = "10,000 components x 10 versions".to_owned();
        // Warm the page cache once so every row measures the same (warm) state.
        sh(&format!(
            "find {repo_dir} -name '*.yaml' -print0 | xargs -0 cat > /dev/null"
        ))?;
        rows.push(Row {
            name: "model: open + list components and versions".into(),
            samples: time(args.runs, || {
                let repo = Repository::open(&repo_dir).map_err(|e| e.to_string())?;
                let comps = repo.components().map_err(|e| e.to_string())?;
                let n: usize = comps
                    .par_iter()
                    .map(|c| repo.versions(c).map(|v| v.len()).unwrap_or(0))
                    .sum();
                if n != 100_000 {
                    return Err(format!("listed {n} versions, expected 100000"));
                }
                Ok(())
            })?,
            note: note.clone(),
        });
        rows.push(Row {
            name: "model: load every metadata.yaml (typed, rayon)".into(),
            samples: time(args.runs, || {
                let repo = Repository::open(&repo_dir).map_err(|e| e.to_string())?;
                let comps = repo.components().map_err(|e| e.to_string())?;
                let loaded: usize = comps
                    .par_iter()
                    .map(|c| {
                        let vs = repo.versions(c).unwrap_or_default();
                        vs.iter().filter(|v| repo.metadata(c, v).is_ok()).count()
                    })
                    .sum();
                if loaded != 100_000 {
                    return Err(format!("loaded {loaded} metadata files, expected 100000"));
                }
                Ok(())
            })?,
            note: note.clone(),
        });
        rows.push(Row {
            name: "floor: find -name '*.yaml' | xargs cat".into(),
            samples: time(args.runs, || {
                sh(&format!(
                    "find {repo_dir} -name '*.yaml' -print0 | xargs -0 cat > /dev/null"
                ))
            })?,
            note: format!("{note}; the same files, read by coreutils"),
        });
    }

    crate::bench_ext::more(args, &mut rows)?;
    print_table(&rows);
    Ok(())
}

fn fmt_d(d: Duration) -> String {
    let s = d.as_secs_f64();
    if s >= 1.0 {
        format!("{s:.2} s")
    } else if s >= 0.001 {
        format!("{:.1} ms", s * 1e3)
    } else {
        format!("{:.0} µs", s * 1e6)
    }
}

/// Prints rows as an aligned table.
pub fn print_table(rows: &[Row]) {
    let w = rows
        .iter()
        .map(|r| r.name.chars().count())
        .max()
        .unwrap_or(10);
    println!(
        "{:<w$}  {:>10}  {:>10}  {:>10}  {:>4}  note",
        "benchmark", "median", "min", "max", "runs"
    );
    for r in rows {
        let min = r.samples.iter().min().copied().unwrap_or_default();
        let max = r.samples.iter().max().copied().unwrap_or_default();
        println!(
            "{:<w$}  {:>10}  {:>10}  {:>10}  {:>4}  {}",
            r.name,
            fmt_d(r.median()),
            fmt_d(min),
            fmt_d(max),
            r.samples.len(),
            r.note
        );
    }
}
