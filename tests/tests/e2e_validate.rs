//! End to end: `berth validate` and `berth explain` through the built binary, and the
//! custom-rule example program run through the library.

use std::process::Command;

use berth_tests::{example_repo, run, workspace};
use camino::{Utf8Path, Utf8PathBuf};

const INGESTION_102: &str = "components/cloud/dmp/ms-ingestion/versions/1.0.2/metadata.yaml";

fn edit(root: &Utf8Path, rel: &str, from: &str, to: &str) {
    let p = root.join(rel);
    let text = std::fs::read_to_string(&p).expect("read");
    assert!(text.contains(from), "{rel} lacks {from:?}");
    std::fs::write(&p, text.replacen(from, to, 1)).expect("write");
}

#[test]
fn the_example_repository_is_valid_with_and_without_artifacts() {
    let (_g, root) = example_repo();
    let r = run(&root, &["validate"]);
    assert_eq!(r.code, 0, "{r:?}");
    assert!(r.stdout.contains("validate: no findings"), "{}", r.stdout);
    let v = run(&root, &["validate", "--verify-artifacts", "--no-cache"]);
    assert_eq!(v.code, 0, "{v:?}");
}

#[test]
fn findings_exit_1_severities_come_from_berth_toml_and_deny_warnings_fails() {
    let (_g, root) = example_repo();
    edit(
        &root,
        INGESTION_102,
        "team: ingestion-platform",
        "team: billing",
    );
    let r = run(&root, &["validate"]);
    assert_eq!(r.code, 1, "{r:?}");
    assert!(
        r.stdout.contains("error[ownership/team-not-owner]"),
        "{}",
        r.stdout
    );
    assert!(r.stdout.contains("metadata.yaml:7:7"), "{}", r.stdout);
    // Downgraded to a warning in berth.toml: passes, unless warnings are denied.
    let toml = root.join("berth.toml");
    let mut cfg = std::fs::read_to_string(&toml).expect("berth.toml");
    cfg.push_str("\"ownership/team-not-owner\" = \"warn\"\n");
    std::fs::write(&toml, &cfg).expect("write berth.toml");
    let w = run(&root, &["validate"]);
    assert_eq!(w.code, 0, "{w:?}");
    assert!(
        w.stdout.contains("warning[ownership/team-not-owner]"),
        "{}",
        w.stdout
    );
    let d = run(&root, &["validate", "--deny", "warnings"]);
    assert_eq!(d.code, 1, "{d:?}");
    // Off: not even reported.
    std::fs::write(&toml, cfg.replace("= \"warn\"\n", "= \"off\"\n")).expect("write");
    let off = run(&root, &["validate", "--deny", "warnings"]);
    assert_eq!(off.code, 0, "{off:?}");
    assert!(!off.stdout.contains("team-not-owner"), "{}", off.stdout);
    // A typo in [rules] is pointed out on stderr.
    std::fs::write(
        &toml,
        cfg.replace("ownership/team-not-owner", "ownership/team-not-ownr"),
    )
    .expect("write");
    let typo = run(&root, &["validate"]);
    assert!(
        typo.stderr
            .contains("did you mean `ownership/team-not-owner`"),
        "{}",
        typo.stderr
    );
}

#[test]
fn paths_restrict_the_findings() {
    let (_g, root) = example_repo();
    edit(
        &root,
        INGESTION_102,
        "team: ingestion-platform",
        "team: billing",
    );
    let other = run(&root, &["validate", "cloud/dmp/ms-export"]);
    assert_eq!(other.code, 0, "{other:?}");
    let by_name = run(&root, &["validate", "ms-ingestion"]);
    assert_eq!(by_name.code, 1, "{by_name:?}");
    let sub = root.join("components/cloud/dmp/ms-ingestion/versions/1.0.2");
    let by_dir = run(&sub, &["validate", "."]);
    assert_eq!(by_dir.code, 1, "{by_dir:?}");
    let bad = run(&root, &["validate", "no/such/thing"]);
    assert_eq!(bad.code, 2, "{bad:?}");
}

#[test]
fn machine_formats_and_byte_identical_runs() {
    let (_g, root) = example_repo();
    edit(
        &root,
        INGESTION_102,
        "team: ingestion-platform",
        "teem: ingestion-platform",
    );
    for format in ["json", "gitlab", "sarif", "junit", "human"] {
        let a = run(&root, &["--format", format, "validate"]);
        let b = run(&root, &["--format", format, "validate"]);
        assert_eq!(a.code, 1, "{format}: {a:?}");
        assert_eq!(a.stdout, b.stdout, "{format} is not deterministic");
        if format != "junit" && format != "human" {
            let v: serde_json::Value = serde_json::from_str(&a.stdout).expect("JSON");
            assert!(!v.is_null());
        }
    }
    let json = run(&root, &["--format", "json", "validate"]);
    let v: serde_json::Value = serde_json::from_str(&json.stdout).expect("JSON");
    assert_eq!(v["diagnostics"][0]["rule"], "schema/missing-field");
    let yaml = run(&root, &["--format", "yaml", "validate"]);
    assert_eq!(yaml.code, 2, "{yaml:?}");
}

#[test]
fn verify_artifacts_uses_the_hash_cache_unless_told_not_to() {
    let (_g, root) = example_repo();
    let cache = root.join(".berth-test-cache");
    let first = run(
        &root,
        &["--format", "json", "validate", "--verify-artifacts"],
    );
    assert_eq!(first.code, 0, "{first:?}");
    let v: serde_json::Value = serde_json::from_str(&first.stdout).expect("JSON");
    assert!(v["stats"]["artifacts_read"].as_u64() > Some(0), "{v}");
    assert!(cache.exists(), "the cache lives in $BERTH_CACHE_DIR");
    let second = run(
        &root,
        &["--format", "json", "validate", "--verify-artifacts"],
    );
    let v2: serde_json::Value = serde_json::from_str(&second.stdout).expect("JSON");
    assert_eq!(v2["stats"]["artifacts_read"], 0, "{v2}");
    assert_eq!(v2["diagnostics"], v["diagnostics"]);
    // Without the per-version cache, the artifacts' facts come from the hash cache.
    // (Files younger than a second are never cached per version: there may be none.)
    let _ = std::fs::remove_file(root.join(".berth/cache/validate-verify.bin"));
    let third = run(
        &root,
        &["--format", "json", "validate", "--verify-artifacts"],
    );
    let v2: serde_json::Value = serde_json::from_str(&third.stdout).expect("JSON");
    assert_eq!(v2["stats"]["artifacts_read"], 0, "{v2}");
    assert_eq!(
        v2["stats"]["artifacts_cached"],
        v["stats"]["artifacts_read"]
    );
    let forced = run(
        &root,
        &[
            "--format",
            "json",
            "validate",
            "--verify-artifacts",
            "--no-cache",
        ],
    );
    let v3: serde_json::Value = serde_json::from_str(&forced.stdout).expect("JSON");
    assert_eq!(v3["stats"]["artifacts_cached"], 0, "{v3}");
    // A changed artifact is read again (its size and mtime changed) and caught.
    let notes = root.join("components/cloud/dmp/ms-export/versions/3.2.0/generic/RELEASE-NOTES.md");
    std::fs::write(&notes, "rewritten after publication\n").expect("write");
    let changed = run(&root, &["validate", "--verify-artifacts"]);
    assert_eq!(changed.code, 1, "{changed:?}");
    assert!(
        changed.stdout.contains("manifest/file-changed"),
        "{}",
        changed.stdout
    );
}

#[test]
fn list_rules_and_explain() {
    let (_g, root) = example_repo();
    let list = run(&root, &["validate", "--list-rules"]);
    assert_eq!(list.code, 0, "{list:?}");
    let line = list
        .stdout
        .lines()
        .find(|l| l.starts_with("manifest/missing-label"))
        .expect("listed");
    // Default error, set to warn by examples/repo/berth.toml.
    assert!(line.contains("error") && line.contains("warn"), "{line}");
    assert_eq!(list.stdout.lines().count(), 38, "{}", list.stdout);
    let ex = run(&root, &["explain", "manifest/digest-mismatch"]);
    assert_eq!(ex.code, 0, "{ex:?}");
    for section in [
        "## What it checks",
        "## Why it matters",
        "## Example",
        "## How to fix",
    ] {
        assert!(ex.stdout.contains(section), "{}", ex.stdout);
    }
    let typo = run(&root, &["explain", "manifest/digest-mismatc"]);
    assert_eq!(typo.code, 1, "{typo:?}");
    assert!(typo.stderr.contains("did you mean"), "{}", typo.stderr);
}

/// The example program `examples/custom_rule.rs`, built once.
fn custom_rule_bin() -> Utf8PathBuf {
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
    let status = Command::new(cargo)
        .args([
            "build",
            "--quiet",
            "-p",
            "berth-examples",
            "--example",
            "custom_rule",
        ])
        .current_dir(workspace())
        .status()
        .expect("cargo build");
    assert!(status.success(), "building examples/custom_rule.rs failed");
    let target = std::env::var("CARGO_TARGET_DIR")
        .map(Utf8PathBuf::from)
        .unwrap_or_else(|_| workspace().join("target"));
    target.join("debug/examples/custom_rule")
}

#[test]
fn the_custom_rule_example_reports_a_privileged_port() {
    let bin = custom_rule_bin();
    let (_g, root) = example_repo();
    let clean = Command::new(bin.as_std_path())
        .arg(&root)
        .output()
        .expect("runs");
    assert_eq!(clean.status.code(), Some(0), "{clean:?}");
    edit(
        &root,
        INGESTION_102,
        "port_exposed: 8443",
        "port_exposed: 443",
    );
    let out = Command::new(bin.as_std_path())
        .arg(&root)
        .output()
        .expect("runs");
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(1), "{stdout}");
    assert!(
        stdout.contains("error[example/privileged-port]: port 443 is privileged"),
        "{stdout}"
    );
    assert!(stdout.contains("metadata.yaml:8:15"), "{stdout}");
    // `x-privileged: true` allows it, and the built-in rules accept the `x-` key.
    let p = root.join(INGESTION_102);
    let mut text = std::fs::read_to_string(&p).expect("read");
    text.push_str("x-privileged: true\n");
    std::fs::write(&p, text).expect("write");
    let ok = Command::new(bin.as_std_path())
        .arg(&root)
        .output()
        .expect("runs");
    assert_eq!(
        ok.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&ok.stdout)
    );
}

/// `--verify-artifacts` against edited manifests of a docker image and of a deb: each
/// recomputed field that differs is reported, with the rule that owns it.
#[test]
fn verify_artifacts_reports_edited_docker_digests_and_deb_fields() {
    let (_g, root) = example_repo();
    let docker = "components/cloud/dmp/ms-ingestion/versions/1.0.3/docker/manifest.yaml";
    let text = std::fs::read_to_string(root.join(docker)).expect("read");
    let sha = text
        .lines()
        .find_map(|l| l.strip_prefix("sha256: "))
        .expect("sha256")
        .to_owned();
    let id = text
        .lines()
        .find_map(|l| l.strip_prefix("image_id: "))
        .expect("image_id")
        .to_owned();
    let zeros = "0".repeat(64);
    let ones = "1".repeat(64);
    edit(
        &root,
        docker,
        &format!("sha256: {sha}"),
        &format!("sha256: {zeros}"),
    );
    edit(
        &root,
        docker,
        &format!("image_id: {id}"),
        &format!("image_id: {ones}"),
    );
    let deb = "components/core/platform/common-utils/versions/1.3.0/deb/manifest.yaml";
    edit(
        &root,
        deb,
        "package: common-utils",
        "package: common-utils-patched",
    );
    let r = run(
        &root,
        &[
            "--format",
            "json",
            "validate",
            "--verify-artifacts",
            "--no-cache",
        ],
    );
    assert_eq!(r.code, 1, "{r:?}");
    let report: serde_json::Value = serde_json::from_str(&r.stdout).expect("json");
    let found: Vec<(String, String, String)> = report["diagnostics"]
        .as_array()
        .expect("diagnostics")
        .iter()
        .map(|d| {
            let s = |k: &str| d[k].as_str().unwrap_or_default().to_owned();
            (s("rule"), s("file"), s("message"))
        })
        .collect();
    let has = |rule: &str, file: &str, text: &str| {
        found
            .iter()
            .any(|(r, f, m)| r == rule && f == file && m.contains(text))
    };
    assert!(
        has(
            "manifest/digest-mismatch",
            docker,
            &format!("sha256 {zeros} is not the image's digest {sha}")
        ),
        "{found:#?}"
    );
    assert!(
        has(
            "manifest/digest-mismatch",
            docker,
            &format!("image_id {ones}")
        ),
        "{found:#?}"
    );
    assert!(
        has(
            "manifest/field-mismatch",
            deb,
            "deb.package says common-utils-patched, but the artifact says common-utils"
        ),
        "{found:#?}"
    );
}
