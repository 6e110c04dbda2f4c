//! The per-version cache never changes a finding: on random sequences of edits (metadata,
//! manifests, artifacts, owners, berth.toml, versions added and removed, same-size rewrites
//! in the same clock tick), a cached run and an uncached run agree, finding for finding and
//! verdict for verdict; and a run after a change reads only what changed.

use berth_model::{Repository, Timestamp};
use berth_validate::{Options, Registry, Report, validate};
use camino::{Utf8Path, Utf8PathBuf};
use proptest::prelude::*;
use proptest::test_runner::{Config, TestRunner};

fn copy_tree(from: &Utf8Path, to: &Utf8Path) {
    std::fs::create_dir_all(to).expect("mkdir");
    for e in std::fs::read_dir(from).expect("read") {
        let e = e.expect("entry");
        let name = e.file_name().into_string().expect("utf-8");
        if e.file_type().expect("type").is_dir() {
            copy_tree(&from.join(&name), &to.join(&name));
        } else {
            std::fs::copy(from.join(&name), to.join(&name)).expect("copy");
        }
    }
}

fn base() -> (tempfile::TempDir, Utf8PathBuf) {
    let tmp = tempfile::tempdir().expect("tempdir");
    let root = Utf8PathBuf::from_path_buf(tmp.path().join("repo")).expect("utf-8");
    copy_tree(
        &Utf8Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/base"),
        &root,
    );
    (tmp, root)
}

fn run(root: &Utf8Path, cache: bool) -> Report {
    let repo = Repository::open(root.to_owned()).expect("opens");
    let opts = Options {
        cache,
        no_cache: !cache,
        now: Some(Timestamp::parse("2026-11-28T12:00:00Z").expect("valid")),
        ..Options::default()
    };
    validate(&repo, &Registry::builtin(), &opts).expect("validates")
}

const V102: &str = "components/cloud/dmp/ms-ingestion/versions/1.0.2";
const V103: &str = "components/cloud/dmp/ms-ingestion/versions/1.0.3";
const EXPORT: &str = "components/cloud/dmp/ms-export/versions/3.2.0";

#[derive(Debug, Clone)]
enum Edit {
    /// Replace text in a file (in place: same inode).
    Replace(&'static str, &'static str, &'static str),
    /// Rewrite a file with the same bytes (a touch).
    Touch(&'static str),
    /// Add a file.
    Add(&'static str, &'static str),
    /// Remove a file.
    Remove(&'static str),
    /// Copy a version to a new one.
    CopyVersion(&'static str, &'static str),
    /// Remove a version.
    RemoveVersion(&'static str),
}

fn edit() -> impl Strategy<Value = Edit> {
    prop_oneof![
        Just(Edit::Replace(
            "{V102}/metadata.yaml",
            "team: ingestion-platform",
            "team: ingestion-platfrm"
        )),
        Just(Edit::Replace(
            "{V102}/metadata.yaml",
            "team: ingestion-platfrm",
            "team: ingestion-platform"
        )),
        // Same size: only the content (and the mtime) changes.
        Just(Edit::Replace("{V103}/metadata.yaml", "amd64", "arm64")),
        Just(Edit::Replace("{V103}/metadata.yaml", "arm64", "amd64")),
        Just(Edit::Replace("{EXPORT}/metadata.yaml", "cloud", "clown")),
        Just(Edit::Replace(
            "{EXPORT}/generic/manifest.yaml",
            "3.2.0",
            "3.2.9"
        )),
        Just(Edit::Replace(
            "components/cloud/dmp/ownership.yaml",
            "ingestion-platform",
            "ingestion-platfrm"
        )),
        Just(Edit::Replace("berth.toml", "staging", "stagin")),
        Just(Edit::Touch("{V102}/metadata.yaml")),
        Just(Edit::Add("{EXPORT}/generic/extra.txt", "not listed\n")),
        Just(Edit::Add(
            "{V102}/stray.txt",
            "a file the layout does not know\n"
        )),
        Just(Edit::Remove("{EXPORT}/generic/extra.txt")),
        Just(Edit::Remove("{V102}/generic/manifest.yaml")),
        Just(Edit::CopyVersion(
            V103,
            "components/cloud/dmp/ms-ingestion/versions/1.0.4"
        )),
        Just(Edit::RemoveVersion(
            "components/cloud/dmp/ms-ingestion/versions/1.0.4"
        )),
        Just(Edit::Replace(
            "components/cloud/dmp/ms-ingestion/versions/1.0.4/metadata.yaml",
            "dmp",
            "dmx"
        )),
    ]
}

fn path(p: &str) -> String {
    p.replace("{V102}", V102)
        .replace("{V103}", V103)
        .replace("{EXPORT}", EXPORT)
}

fn apply(root: &Utf8Path, e: &Edit) {
    use std::io::Write as _;
    match e {
        Edit::Replace(p, a, b) => {
            let f = root.join(path(p));
            if let Ok(text) = std::fs::read_to_string(&f) {
                let mut out = std::fs::OpenOptions::new()
                    .write(true)
                    .truncate(true)
                    .open(&f)
                    .expect("open");
                out.write_all(text.replace(a, b).as_bytes()).expect("write");
            }
        }
        Edit::Touch(p) => {
            let f = root.join(path(p));
            if let Ok(bytes) = std::fs::read(&f) {
                std::fs::write(&f, bytes).expect("write");
            }
        }
        Edit::Add(p, text) => {
            let f = root.join(path(p));
            if f.parent().is_some_and(|d| d.exists()) {
                std::fs::write(&f, text).expect("write");
            }
        }
        Edit::Remove(p) => {
            let _ = std::fs::remove_file(root.join(path(p)));
        }
        Edit::CopyVersion(from, to) => {
            if !root.join(to).exists() {
                copy_tree(&root.join(from), &root.join(to));
            }
        }
        Edit::RemoveVersion(p) => {
            let _ = std::fs::remove_dir_all(root.join(p));
        }
    }
}

#[test]
fn cached_and_uncached_runs_agree_on_random_edits() {
    let cases = std::env::var("BERTH_FUZZ_CASES")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(10);
    let mut runner = TestRunner::new(Config {
        cases,
        failure_persistence: None,
        ..Config::default()
    });
    runner
        .run(&proptest::collection::vec(edit(), 1..7), |edits| {
            let (_t, root) = base();
            // Files older than the racy window, so that the cache keeps them.
            std::thread::sleep(std::time::Duration::from_millis(1100));
            let first = run(&root, true);
            prop_assert_eq!(&first.diagnostics, &run(&root, false).diagnostics);
            for e in &edits {
                apply(&root, e);
                let cached = run(&root, true);
                let fresh = run(&root, false);
                prop_assert_eq!(&cached.diagnostics, &fresh.diagnostics, "after {:?}", e);
                prop_assert_eq!(&cached.verdicts, &fresh.verdicts, "after {:?}", e);
            }
            Ok(())
        })
        .expect("cached and uncached runs agree");
}

#[test]
fn a_run_after_one_change_reads_only_that_version() {
    let (_t, root) = base();
    std::thread::sleep(std::time::Duration::from_millis(1100));
    let cold = run(&root, true);
    assert_eq!(cold.stats.versions_cached, 0);
    let warm = run(&root, true);
    assert_eq!(
        warm.stats.versions_cached, warm.stats.versions,
        "nothing changed"
    );
    assert_eq!(warm.diagnostics, cold.diagnostics);
    // One version changed (a rename: a new inode, as editors and git write files).
    let m = root.join(V102).join("metadata.yaml");
    let text = std::fs::read_to_string(&m).expect("read");
    std::fs::write(
        root.join("tmp.yaml"),
        text.replace("ingestion-platform", "nobody"),
    )
    .expect("write");
    std::fs::rename(root.join("tmp.yaml"), &m).expect("rename");
    let after = run(&root, true);
    assert_eq!(after.stats.versions_cached, after.stats.versions - 1);
    assert!(
        after
            .diagnostics
            .iter()
            .any(|d| d.rule == "ownership/team-not-owner"),
        "{:?}",
        after.diagnostics
    );
    assert_eq!(after.diagnostics, run(&root, false).diagnostics);
}
