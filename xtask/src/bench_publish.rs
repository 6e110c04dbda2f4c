//! `publish apt` beside the tools a user would otherwise run: Packages + Release for
//! 2,000 debs built by dpkg-deb, cold and after one more deb, against
//! `apt-ftparchive packages` (alone, and with the gzip/xz/release steps that make its
//! output a repository) and `dpkg-scanpackages` on the same files in the same run.

use std::process::Command;

use camino::Utf8Path;

use crate::bench::{BenchArgs, Row, sh, time};
use crate::bench_ext::{berth_release, median_secs};

/// Debs in the stage.
const DEBS: usize = 2000;

/// Builds the fixture with the `apt_bench` example of berth-publish: 2,000 debs made by
/// dpkg-deb (kept between runs), a repository with one component per deb whose stage
/// `bench`/`staging` runs them, and the domain files with and without one more deb.
fn fixture(work: &Utf8Path) -> Result<(), String> {
    let st = Command::new(std::env::var("CARGO").unwrap_or_else(|_| "cargo".into()))
        .args([
            "run",
            "--quiet",
            "--release",
            "-p",
            "berth-publish",
            "--example",
            "apt_bench",
            "--",
        ])
        .arg(work)
        .arg(DEBS.to_string())
        .stdout(std::process::Stdio::null())
        .status()
        .map_err(|e| e.to_string())?;
    if st.success() {
        Ok(())
    } else {
        Err("the apt_bench fixture failed (needs dpkg-deb)".into())
    }
}

/// The same index built by the tools a user would otherwise run: apt-ftparchive (Packages
/// alone, and with gzip, xz and Release) and dpkg-scanpackages.
fn references(work: &Utf8Path, runs: usize) -> Result<[Vec<std::time::Duration>; 3], String> {
    let ref_dir = work.join("ref");
    fs_err::create_dir_all(&ref_dir).map_err(|e| e.to_string())?;
    let ftp = time(runs, || {
        sh(&format!(
            "cd {work} && apt-ftparchive packages debs > {ref_dir}/Packages"
        ))
    })?;
    let ftp_repo = time(runs, || {
        sh(&format!(
            "cd {work} && apt-ftparchive packages debs > {ref_dir}/Packages \
             && gzip -c {ref_dir}/Packages > {ref_dir}/Packages.gz \
             && xz -c {ref_dir}/Packages > {ref_dir}/Packages.xz \
             && apt-ftparchive release {ref_dir} > {ref_dir}/Release"
        ))
    })?;
    let scan = time(1, || {
        sh(&format!(
            "cd {work} && dpkg-scanpackages debs > {ref_dir}/Packages.scan 2> /dev/null"
        ))
    })?;

    Ok([ftp, ftp_repo, scan])
}

/// Publications into an empty output directory, a fresh one per run (deleting the
/// previous one right before would time the filesystem's inode reuse, not berth).
fn cold_runs(
    work: &Utf8Path,
    runs: usize,
    publish: &dyn Fn(&Utf8Path) -> String,
) -> Result<Vec<std::time::Duration>, String> {
    let cold_dirs: Vec<_> = (0..runs)
        .map(|i| work.join(format!("out-cold-{i}")))
        .collect();
    for d in &cold_dirs {
        let _ = fs_err::remove_dir_all(d);
    }
    sh("sync")?;
    let mut cold = Vec::new();
    for d in &cold_dirs {
        cold.extend(time(1, || sh(&publish(d)))?);
    }
    for d in &cold_dirs {
        let _ = fs_err::remove_dir_all(d);
    }
    Ok(cold)
}

/// Adds the publish rows.
pub fn publish_rows(args: &BenchArgs, rows: &mut Vec<Row>) -> Result<(), String> {
    let berth = berth_release()?;
    let work = crate::bench_ext::absolute(&args.dir.join("publish"))?;
    fixture(&work)?;
    let repo = work.join("repo");
    let debs = work.join("debs");
    let domain_file = repo.join("index/domain-bench-staging.yaml");
    let set_stage = |which: &str| {
        fs_err::copy(work.join(format!("domain-{which}.yaml")), &domain_file)
            .map(|_| ())
            .map_err(|e| e.to_string())
    };
    let publish = |out: &Utf8Path| -> String {
        format!(
            "{berth} --repo {repo} publish apt --domain bench --env staging --out {out} > /dev/null"
        )
    };
    let runs = args.runs.max(1);
    // Warm the page cache: every row reads the same files from memory.
    sh(&format!(
        "cat {debs}/*.deb > /dev/null; find {repo} -type f -print0 | xargs -0 cat > /dev/null"
    ))?;

    set_stage("base")?;
    let cold = cold_runs(&work, runs, &publish)?;

    // Incremental: the stage published, then one more deb promoted into it.
    let inc = work.join("out-inc");
    let _ = fs_err::remove_dir_all(&inc);
    let mut plus_one = Vec::new();
    for _ in 0..runs {
        set_stage("base")?;
        sh(&publish(&inc))?;
        set_stage("plus-one")?;
        sh("sync")?;
        plus_one.extend(time(1, || sh(&publish(&inc)))?);
    }
    let unchanged = time(runs, || sh(&publish(&inc)))?;
    let _ = fs_err::remove_dir_all(&inc);
    set_stage("base")?;

    let [ftp, ftp_repo, scan] = references(&work, runs)?;

    let (c, p, f, fr) = (
        median_secs(&cold),
        median_secs(&plus_one),
        median_secs(&ftp),
        median_secs(&ftp_repo),
    );
    let note = format!("{DEBS} debs built by dpkg-deb");
    rows.push(Row {
        name: "publish apt: cold (Packages .gz .xz, Release, pool)".into(),
        samples: cold,
        note: format!(
            "{note}; {:.2}x apt-ftparchive packages, {:.2}x its gzip+xz+release pipeline; includes 2,000 pool hard links",
            c / f,
            c / fr
        ),
    });
    rows.push(Row {
        name: "publish apt: +1 deb to a published stage".into(),
        samples: plus_one,
        note: format!(
            "1 deb read; {:.2}x apt-ftparchive packages, {:.2}x its pipeline",
            p / f,
            p / fr
        ),
    });
    rows.push(Row {
        name: "publish apt: nothing changed".into(),
        samples: unchanged,
        note: "0 debs read".into(),
    });
    rows.push(Row {
        name: "ref: apt-ftparchive packages".into(),
        samples: ftp,
        note: format!("{note}; Packages only, no cache db"),
    });
    rows.push(Row {
        name: "ref: apt-ftparchive packages+gzip+xz+release".into(),
        samples: ftp_repo,
        note: "the same index files berth writes".into(),
    });
    rows.push(Row {
        name: "ref: dpkg-scanpackages".into(),
        samples: scan,
        note: "1 run".into(),
    });
    Ok(())
}
