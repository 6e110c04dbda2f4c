//! SIGKILL at random moments: `add` (copy and `--move`) and `promote` (one component and a
//! whole stage) are killed many times (bounded), and after each kill the same command is
//! run again. After every round: no partial version is visible, the re-run succeeds,
//! `validate` is clean, no source file of a move is lost, and no temporary file is left in
//! the tree. The counts are printed (`cargo test --test e2e_crash -- --nocapture`).

use std::process::Stdio;
use std::time::{Duration, Instant};

use berth_tests::{example_repo, run, tempdir};
use camino::{Utf8Path, Utf8PathBuf};

/// Rounds per mode; `BERTH_CRASH_ROUNDS` raises it for a longer run.
fn rounds() -> usize {
    std::env::var("BERTH_CRASH_ROUNDS")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(30)
}

/// A small deterministic generator, seeded per mode (printed, so a failure can be replayed).
struct Rng(u64);
impl Rng {
    fn below(&mut self, n: u64) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0 % n.max(1)
    }
}

/// Runs berth, killing it with SIGKILL after `after`; true when the kill landed (the process
/// was still running).
fn run_killed(root: &Utf8Path, args: &[String], after: Duration) -> bool {
    let mut child = berth_tests::berth(root)
        .args(args)
        .env("BERTH_ACTOR", "ci-bot")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("spawn");
    let start = Instant::now();
    while start.elapsed() < after {
        if child.try_wait().expect("wait").is_some() {
            return false;
        }
        std::thread::sleep(Duration::from_micros(300));
    }
    let landed = child.try_wait().expect("wait").is_none();
    let _ = child.kill();
    let _ = child.wait();
    landed
}

fn berth_ok(root: &Utf8Path, args: &[String]) {
    let r = berth_tests::berth(root)
        .args(args)
        .env("BERTH_ACTOR", "ci-bot")
        .output()
        .expect("run");
    assert!(
        r.status.success(),
        "berth {args:?} after a kill: {}{}",
        String::from_utf8_lossy(&r.stdout),
        String::from_utf8_lossy(&r.stderr)
    );
}

/// How long the command takes unkilled (the kill window).
fn timed(root: &Utf8Path, args: &[String]) -> Duration {
    let t = Instant::now();
    berth_ok(root, args);
    t.elapsed()
}

/// The checks after every round.
#[track_caller]
fn assert_sound(root: &Utf8Path, round: &str) {
    let r = run(root, &["validate"]);
    assert_eq!(
        r.code, 0,
        "{round}: validate after the re-run: {}",
        r.stdout
    );
    // Every visible version is whole: metadata and, per format, a manifest whose files all exist.
    for e in walk(&root.join("components")) {
        if e.file_name() == Some("metadata.yaml") {
            let vdir = e.parent().expect("version dir");
            for f in std::fs::read_dir(vdir).expect("read") {
                let f = f.expect("entry");
                if f.file_type().expect("type").is_dir() {
                    let m = Utf8PathBuf::from_path_buf(f.path())
                        .expect("utf-8")
                        .join("manifest.yaml");
                    assert!(
                        m.exists(),
                        "{round}: {m} missing: a partial version is visible"
                    );
                }
            }
        }
    }
    // No temporary file anywhere in the tree, and none left in berth's state after a writer.
    let stray: Vec<_> = walk(root)
        .into_iter()
        .filter(|p| p.file_name().is_some_and(|n| n.starts_with(".berth-tmp-")))
        .collect();
    assert!(
        stray.is_empty(),
        "{round}: stray temporary files: {stray:?}"
    );
}

fn walk(dir: &Utf8Path) -> Vec<Utf8PathBuf> {
    let mut out = Vec::new();
    let Ok(rd) = std::fs::read_dir(dir) else {
        return out;
    };
    for e in rd {
        let e = e.expect("entry");
        let p = Utf8PathBuf::from_path_buf(e.path()).expect("utf-8");
        if e.file_type().expect("type").is_dir() {
            out.extend(walk(&p));
        } else {
            out.push(p);
        }
    }
    out
}

fn big_file(path: &Utf8Path, mib: usize, seed: u8) {
    use std::io::Write as _;
    let mut f = std::fs::File::create(path).expect("create");
    let mut block = vec![seed; 1 << 20];
    for i in 0..mib {
        block[0] = i as u8;
        f.write_all(&block).expect("write");
    }
}

fn s(args: &[&str]) -> Vec<String> {
    args.iter().map(|a| (*a).to_owned()).collect()
}

#[test]
fn killed_adds_are_repaired_by_their_retry() {
    let (_g, root) = example_repo();
    let (_t, dir) = tempdir();
    let n = rounds();
    let mut landed = [0usize; 2];
    for (mode, moving) in [(0usize, false), (1, true)] {
        let mut rng = Rng(0x9e37_79b9_7f4a_7c15 ^ (mode as u64 + 1));
        let src = dir.join(format!("artifact-{mode}.bin"));
        // Calibrate the window on one unkilled add.
        big_file(&src, 4, 1);
        let mut args = s(&[
            "add",
            "ran/oam/ms-cell-config",
            "",
            "--generic",
            src.as_str(),
            "--from-previous",
        ]);
        if moving {
            args.push("--move".into());
        }
        // The shortest of three unkilled adds (the first one warms the caches).
        let mut window = Duration::MAX;
        for w in 0..3 {
            args[2] = format!("2.{}.0", mode * 10 + w);
            if !src.exists() {
                big_file(&src, 4, 1);
            }
            window = window.min(timed(&root, &args));
        }
        for i in 1..=n {
            let version = format!("3.{mode}.{i}");
            args[2] = version.clone();
            if !src.exists() {
                big_file(&src, 4, i as u8);
            }
            let content = std::fs::read(&src).expect("source");
            let at = Duration::from_micros(rng.below(window.as_micros() as u64 + 1));
            if run_killed(&root, &args, at) {
                landed[mode] += 1;
            }
            let round = format!(
                "add {} {version} killed after {at:?}",
                if moving { "--move" } else { "(copy)" }
            );
            // Before any retry, a deploy job asking for the latest version never gets an
            // answer that lags the tree: a version that is visible is the latest (a killed
            // add's journal is finished by `latest` itself).
            let vdir = root.join(format!(
                "components/ran/oam/ms-cell-config/versions/{version}"
            ));
            if vdir.exists() {
                let latest = run(&root, &["latest", "ran/oam/ms-cell-config"]);
                assert_eq!(
                    latest.stdout.trim(),
                    version,
                    "{round}: before the retry: {latest:?}"
                );
            }
            // The same command again: it succeeds (finishing or redoing the add).
            berth_ok(&root, &args);
            assert_sound(&root, &round);
            let stored = root.join(format!(
                "components/ran/oam/ms-cell-config/versions/{version}/generic/artifact-{mode}.bin"
            ));
            assert_eq!(std::fs::read(&stored).expect("stored"), content, "{round}");
            // The index names the new version: it was not left stale by the kill.
            let latest = run(&root, &["latest", "ran/oam/ms-cell-config"]);
            assert_eq!(latest.stdout.trim(), version, "{round}: {latest:?}");
            if moving {
                // No source lost: it is in the tree, and not left in berth's work area.
                assert!(!src.exists(), "{round}: a moved file stays behind");
                let tmp = walk(&root.join(".berth/tmp"));
                assert!(
                    tmp.iter()
                        .all(|p| p.file_name() != Some(&*format!("artifact-{mode}.bin"))),
                    "{round}: {tmp:?}"
                );
            }
        }
    }
    eprintln!(
        "crash test, add: {n} rounds copy ({} kills landed), {n} rounds --move ({} kills landed), 0 failures",
        landed[0], landed[1]
    );
    assert!(
        landed[0] * 3 > n && landed[1] * 3 > n,
        "too few kills landed: {landed:?}"
    );
}

#[test]
fn killed_promotions_are_repaired_by_their_retry() {
    let (_g, root) = example_repo();
    let (_t, dir) = tempdir();
    let n = rounds();
    // Versions to promote: common-utils and ms-ingestion, one new version per round.
    let notes = dir.join("notes.txt");
    std::fs::write(&notes, b"notes").expect("write");
    for i in 1..=n {
        berth_ok(
            &root,
            &s(&[
                "add",
                "cloud/dmp/ms-export",
                &format!("4.0.{i}"),
                "--generic",
                notes.as_str(),
                "--from-previous",
            ]),
        );
    }
    // The stage's dependencies first (unkilled).
    for (c, v, approver) in [
        ("common-utils", "1.3.0", "lars.n"),
        ("ms-ingestion", "1.0.3", "priya.k"),
    ] {
        berth_ok(
            &root,
            &s(&["promote", c, v, "--domain", "cloud", "--env", "staging"]),
        );
        berth_ok(
            &root,
            &s(&[
                "promote",
                c,
                v,
                "--domain",
                "cloud",
                "--env",
                "prod",
                "--approved-by",
                approver,
            ]),
        );
    }
    let mut rng = Rng(0x51ed_2701_4f3c_91a7);
    let mut landed = [0usize; 2];
    let one = |v: &str| {
        s(&[
            "promote",
            "ms-export",
            v,
            "--domain",
            "cloud",
            "--env",
            "staging",
        ])
    };
    let whole = s(&[
        "promote",
        "--domain",
        "cloud",
        "--from",
        "staging",
        "--to",
        "prod",
        "--approved-by",
        "priya.k",
    ]);
    let window_one = timed(&root, &one("4.0.1"));
    // The first whole-stage run reads the artifacts cold; later ones find them in the hash
    // cache: the window follows the last retry's duration.
    let mut window_whole = timed(&root, &whole);
    for i in 2..=n {
        let v = format!("4.0.{i}");
        // One component into staging.
        let at = Duration::from_micros(rng.below(window_one.as_micros() as u64 + 1));
        if run_killed(&root, &one(&v), at) {
            landed[0] += 1;
        }
        berth_ok(&root, &one(&v));
        let round = format!("promote ms-export {v} killed after {at:?}");
        assert_sound(&root, &round);
        let d = run(
            &root,
            &[
                "deployed",
                "--domain",
                "cloud",
                "--env",
                "staging",
                "--component",
                "ms-export",
            ],
        );
        assert_eq!(d.stdout.trim(), v, "{round}: {d:?}");
        // The whole stage into prod.
        let at = Duration::from_micros(rng.below(window_whole.as_micros() as u64 + 1));
        if run_killed(&root, &whole, at) {
            landed[1] += 1;
        }
        let retry = Instant::now();
        berth_ok(&root, &whole);
        window_whole = retry.elapsed();
        let round = format!("promote --from staging --to prod ({v}) killed after {at:?}");
        assert_sound(&root, &round);
        let d = run(
            &root,
            &["deployed", "--domain", "cloud", "--component", "ms-export"],
        );
        assert_eq!(d.stdout.trim(), v, "{round}: {d:?}");
        // Exactly one record per change: the retry wrote no second one.
        let log = run(
            &root,
            &[
                "log",
                "ms-export",
                "--domain",
                "cloud",
                "--env",
                "prod",
                "--format",
                "json",
            ],
        );
        let entries: serde_json::Value = serde_json::from_str(&log.stdout).expect("json");
        let to_v = entries["entries"]
            .as_array()
            .expect("entries")
            .iter()
            .filter(|e| e["version"] == v.as_str())
            .count();
        assert_eq!(to_v, 1, "{round}: records for {v}: {}", log.stdout);
    }
    eprintln!(
        "crash test, promote: {} rounds one component ({} kills landed), {} rounds whole stage ({} kills landed), 0 failures",
        n - 1,
        landed[0],
        n - 1,
        landed[1]
    );
    assert!(
        landed[0] * 3 > n && landed[1] * 3 > n,
        "too few kills landed: {landed:?}"
    );
}
