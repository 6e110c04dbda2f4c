//! One fixture per rule: `tests/fixtures/<rule-id-dashed>/` is laid over the clean
//! `tests/fixtures/base/` repository (files replace or add; a `_mutations` file removes
//! files with `rm PATH` and makes symbolic links with `ln TARGET PATH`). Each fixture must
//! give findings of exactly its rule, and the base (every fixture's clean twin) none.
//! The human output of each is an insta snapshot.

use std::collections::BTreeSet;

use berth_model::{Repository, Timestamp};
use berth_validate::{Options, Registry, Report, render, validate};
use camino::{Utf8Path, Utf8PathBuf};

fn fixtures() -> Utf8PathBuf {
    Utf8Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures")
}

fn copy_tree(from: &Utf8Path, to: &Utf8Path) {
    std::fs::create_dir_all(to).expect("mkdir");
    for e in std::fs::read_dir(from).expect("read fixture dir") {
        let e = e.expect("entry");
        let name = e.file_name().into_string().expect("utf-8 name");
        if name == "_mutations" {
            continue;
        }
        if e.file_type().expect("type").is_dir() {
            copy_tree(&from.join(&name), &to.join(&name));
        } else {
            std::fs::copy(from.join(&name), to.join(&name)).expect("copy");
        }
    }
}

/// The base repository with the named fixture laid over it.
fn fixture_repo(name: &str) -> (tempfile::TempDir, Utf8PathBuf) {
    fixture_repo_of(&[name])
}

/// The base repository with several fixtures laid over it, in order.
fn fixture_repo_of(names: &[&str]) -> (tempfile::TempDir, Utf8PathBuf) {
    let tmp = tempfile::tempdir().expect("tempdir");
    let root = Utf8PathBuf::from_path_buf(tmp.path().join("repo")).expect("utf-8");
    copy_tree(&fixtures().join("base"), &root);
    for name in names.iter().copied().filter(|n| *n != "base") {
        let dir = fixtures().join(name);
        copy_tree(&dir, &root);
        if let Ok(text) = std::fs::read_to_string(dir.join("_mutations")) {
            for line in text.lines().filter(|l| !l.trim().is_empty()) {
                let words: Vec<&str> = line.split_whitespace().collect();
                match words.as_slice() {
                    ["rm", path] => std::fs::remove_file(root.join(path)).expect("rm"),
                    ["ln", target, path] => {
                        std::os::unix::fs::symlink(target, root.join(path)).expect("ln")
                    }
                    _ => panic!("{name}/_mutations: cannot read `{line}`"),
                }
            }
        }
    }
    (tmp, root)
}

fn check(root: &Utf8Path) -> Report {
    check_with(root, true)
}

fn check_with(root: &Utf8Path, verify_artifacts: bool) -> Report {
    let repo = Repository::open(root).expect("fixture opens");
    let opts = Options {
        verify_artifacts,
        no_cache: true,
        now: Some(Timestamp::parse("2026-01-01T00:00:00Z").expect("valid")),
        ..Options::default()
    };
    validate(&repo, &Registry::builtin(), &opts).expect("validates")
}

fn rule_dirs() -> Vec<String> {
    let mut names: Vec<String> = std::fs::read_dir(fixtures())
        .expect("fixtures")
        .map(|e| e.expect("entry").file_name().into_string().expect("utf-8"))
        .filter(|n| n != "base")
        .collect();
    names.sort();
    names
}

/// `manifest-digest-mismatch` → `manifest/digest-mismatch` (rule groups have no dash).
fn rule_id(dir: &str) -> String {
    dir.replacen('-', "/", 1)
}

#[test]
fn the_base_is_clean() {
    let (_t, root) = fixture_repo("base");
    let report = check(&root);
    assert!(report.diagnostics.is_empty(), "{:#?}", report.diagnostics);
    insta::assert_snapshot!("base", render::human(&report, false));
}

#[test]
fn every_builtin_rule_has_a_fixture() {
    let dirs: BTreeSet<String> = rule_dirs().iter().map(|d| rule_id(d)).collect();
    let rules: BTreeSet<String> = Registry::builtin()
        .rules()
        .map(|r| r.info().id.to_owned())
        .collect();
    assert_eq!(dirs, rules);
}

#[test]
fn each_fixture_gives_exactly_its_rule() {
    let mut wrong = Vec::new();
    for dir in rule_dirs() {
        let (_t, root) = fixture_repo(&dir);
        let report = check(&root);
        let got: BTreeSet<&str> = report.diagnostics.iter().map(|d| d.rule).collect();
        let want = rule_id(&dir);
        if got != BTreeSet::from([want.as_str()]) {
            wrong.push(format!(
                "{dir}: got {got:?}\n{}",
                render::human(&report, false)
            ));
            continue;
        }
        insta::assert_snapshot!(dir.clone(), render::human(&report, false));
    }
    assert!(wrong.is_empty(), "{}", wrong.join("\n"));
}

#[test]
fn two_runs_give_identical_output() {
    let (_t, root) = fixture_repo("schema-unknown-field");
    let a = render::human(&check(&root), false);
    let b = render::human(&check(&root), false);
    assert_eq!(a, b);
}

/// Rules that need the artifacts' bytes: silent on the fast path.
const NEEDS_ARTIFACTS: &[&str] = &[
    "manifest-built-at-mismatch",
    "manifest-digest-mismatch",
    "manifest-field-mismatch",
    "manifest-file-changed",
];

#[test]
fn the_fast_path_reads_no_artifact_and_finds_the_same_elsewhere() {
    let (_t, root) = fixture_repo("base");
    assert!(check_with(&root, false).diagnostics.is_empty());
    for dir in rule_dirs() {
        let (_t, root) = fixture_repo(&dir);
        let report = check_with(&root, false);
        assert_eq!(report.stats.artifacts_read, 0);
        let got: BTreeSet<&str> = report.diagnostics.iter().map(|d| d.rule).collect();
        let want = rule_id(&dir);
        if NEEDS_ARTIFACTS.contains(&dir.as_str()) {
            assert!(got.is_empty(), "{dir}: {got:?}");
        } else {
            assert_eq!(got, BTreeSet::from([want.as_str()]), "{dir}");
        }
    }
}

/// Several findings of several severities, for the machine formats.
fn mixed_report() -> (tempfile::TempDir, Report) {
    let (t, root) = fixture_repo_of(&[
        "schema-unknown-field",
        "layout-unexpected-file",
        "domain-not-promoted",
        "manifest-digest-mismatch",
        "ownership-missing",
    ]);
    let report = check(&root);
    (t, report)
}

fn check_jsonschema(schema: &str, text: &str) {
    let (_t, dir) = {
        let t = tempfile::tempdir().expect("tempdir");
        let p = Utf8PathBuf::from_path_buf(t.path().to_path_buf()).expect("utf-8");
        (t, p)
    };
    let file = dir.join("out.json");
    std::fs::write(&file, text).expect("write output");
    let schema = Utf8Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/schemas")
        .join(schema);
    let out = std::process::Command::new("check-jsonschema")
        .args(["--schemafile", schema.as_str(), file.as_str()])
        .output()
        .expect("check-jsonschema is installed (pip install check-jsonschema)");
    assert!(
        out.status.success(),
        "{}\n{}\n{text}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
}

#[test]
fn gitlab_code_quality_matches_its_schema_and_fingerprints_are_unique() {
    let (_t, report) = mixed_report();
    assert!(report.diagnostics.len() >= 5, "{:#?}", report.diagnostics);
    let text = render::gitlab(&report).expect("renders");
    check_jsonschema("gitlab-codequality.json", &text);
    let v: serde_json::Value = serde_json::from_str(&text).expect("json");
    let issues = v.as_array().expect("an array");
    assert_eq!(issues.len(), report.diagnostics.len());
    let prints: BTreeSet<&str> = issues
        .iter()
        .map(|i| i["fingerprint"].as_str().expect("fingerprint"))
        .collect();
    assert_eq!(prints.len(), issues.len());
    insta::assert_snapshot!("gitlab", text);
}

#[test]
fn sarif_matches_the_sarif_2_1_0_structure() {
    let (_t, report) = mixed_report();
    let text = render::sarif(&report, &Registry::builtin()).expect("renders");
    check_jsonschema("sarif-2.1.0-subset.json", &text);
    let v: serde_json::Value = serde_json::from_str(&text).expect("json");
    let results = v["runs"][0]["results"].as_array().expect("results");
    assert_eq!(results.len(), report.diagnostics.len());
    let rules = v["runs"][0]["tool"]["driver"]["rules"]
        .as_array()
        .expect("rules");
    for r in results {
        let i = r["ruleIndex"].as_u64().expect("index") as usize;
        assert_eq!(rules[i]["id"], r["ruleId"]);
    }
}

#[test]
fn json_has_a_summary_and_every_finding() {
    let (_t, report) = mixed_report();
    let text = render::json(&report).expect("renders");
    let v: serde_json::Value = serde_json::from_str(&text).expect("json");
    assert_eq!(
        v["diagnostics"].as_array().map(Vec::len),
        Some(report.diagnostics.len())
    );
    assert_eq!(v["summary"]["warnings"], 1);
    insta::assert_snapshot!("json", text);
}

#[test]
fn junit_is_well_formed_and_counts_match() {
    let (_t, report) = mixed_report();
    let text = render::junit(&report).expect("renders");
    let parsed = quick_junit::Report::deserialize_from_str(&text).expect("well-formed JUnit XML");
    assert_eq!(parsed.test_suites.len(), report.rules.len());
    let failures: usize = parsed.test_suites.iter().map(|s| s.failures).sum();
    assert_eq!(failures, report.diagnostics.len());
    let tests: usize = parsed.test_suites.iter().map(|s| s.tests).sum();
    let clean_rules = report
        .rules
        .iter()
        .filter(|r| !report.diagnostics.iter().any(|d| d.rule == r.id))
        .count();
    assert_eq!(tests, report.diagnostics.len() + clean_rules);
}

#[test]
fn human_output_of_several_findings() {
    let (_t, report) = mixed_report();
    insta::assert_snapshot!("mixed_human", render::human(&report, false));
}
