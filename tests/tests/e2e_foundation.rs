//! End to end: init, ls, show and schema through the built binary.

use berth_tests::{example_repo, redact, run, tempdir, workspace};

#[test]
fn init_then_ls_and_show_on_an_empty_repository() {
    let (_g, dir) = tempdir();
    let r = run(&dir, &["init", "new-repo"]);
    assert_eq!(r.code, 0, "{r:?}");
    let root = dir.join("new-repo");
    let toml = std::fs::read_to_string(root.join("berth.toml")).expect("berth.toml written");
    for domain in ["[domains.cloud]", "[domains.core]", "[domains.ran]"] {
        assert!(toml.contains(domain), "template lacks {domain}");
    }
    // A second init refuses and keeps the file.
    let again = run(&dir, &["init", "new-repo"]);
    assert_eq!(again.code, 2, "{again:?}");
    assert!(again.stderr.contains("already"), "{}", again.stderr);
    // Discovery from a subdirectory, as git does.
    let sub = root.join("components");
    let ls = run(&sub, &["ls", "--format", "json"]);
    assert_eq!(ls.code, 0, "{ls:?}");
    assert_eq!(ls.stdout.trim(), "[]");
    let show = run(&sub, &["show", "cloud/dmp/nothing"]);
    assert_eq!(show.code, 1, "{show:?}");
    assert!(
        show.stderr.contains("not in the repository"),
        "{}",
        show.stderr
    );
}

#[test]
fn outside_a_repository_is_a_usage_error() {
    let (_g, dir) = tempdir();
    let r = run(&dir, &["ls"]);
    assert_eq!(r.code, 2);
    assert!(r.stderr.contains("no berth repository"), "{}", r.stderr);
}

#[test]
fn ls_and_show_on_the_example_repository() {
    let (_g, root) = example_repo();
    let ls = run(&root, &["ls"]);
    assert_eq!(ls.code, 0, "{ls:?}");
    insta::assert_snapshot!("ls_human", ls.stdout);
    let ls_json = run(&root, &["ls", "--format", "json"]);
    insta::assert_snapshot!("ls_json", ls_json.stdout);
    let show = run(&root, &["show", "ms-ingestion"]);
    assert_eq!(show.code, 0, "{show:?}");
    insta::assert_snapshot!("show_component", show.stdout);
    let show_v = run(
        &root,
        &["--format", "yaml", "show", "cloud/dmp/ms-export", "3.2.0"],
    );
    assert_eq!(show_v.code, 0, "{show_v:?}");
    insta::assert_snapshot!("show_version_yaml", redact(&show_v.stdout, &root));
    let missing = run(&root, &["show", "ms-ingestion", "9.9.9"]);
    assert_eq!(missing.code, 1);
    assert!(
        missing.stderr.contains("1.0.2, 1.0.3"),
        "{}",
        missing.stderr
    );
    let typo = run(&root, &["show", "cloud/dmp/ms-ingestoin"]);
    assert_eq!(typo.code, 1);
    assert!(
        typo.stderr
            .contains("did you mean `cloud/dmp/ms-ingestion`"),
        "{}",
        typo.stderr
    );
}

#[test]
fn berth_repo_env_and_flag_select_the_repository() {
    let (_g, root) = example_repo();
    let (_g2, elsewhere) = tempdir();
    let by_flag = run(
        &elsewhere,
        &["--repo", root.as_str(), "ls", "--format", "json"],
    );
    assert_eq!(by_flag.code, 0, "{by_flag:?}");
    let out = berth_tests::berth(&elsewhere)
        .env("BERTH_REPO", root.as_str())
        .args(["ls", "--format", "json"])
        .output()
        .expect("runs");
    assert_eq!(String::from_utf8_lossy(&out.stdout), by_flag.stdout);
}

#[test]
fn schemas_accept_the_examples_and_reject_a_broken_file() {
    berth_tests::require_tool(
        "check-jsonschema",
        "check-jsonschema (pip install check-jsonschema)",
    );
    let (_g, root) = example_repo();
    let out = root.join("schemas");
    let r = run(&root, &["schema", "--out", out.as_str()]);
    assert_eq!(r.code, 0, "{r:?}");
    let check = |schema: &str, files: &[camino::Utf8PathBuf]| {
        let mut cmd = std::process::Command::new("check-jsonschema");
        cmd.arg("--schemafile").arg(out.join(schema).as_str());
        for f in files {
            cmd.arg(f.as_str());
        }
        cmd.output().expect("check-jsonschema runs")
    };
    let metas: Vec<_> = glob(&root, "metadata.yaml");
    assert!(metas.len() >= 7);
    let ok = check("metadata.schema.json", &metas);
    assert!(
        ok.status.success(),
        "{}",
        String::from_utf8_lossy(&ok.stdout)
    );
    let owners: Vec<_> = glob(&root, "ownership.yaml");
    let ok = check("ownership.schema.json", &owners);
    assert!(
        ok.status.success(),
        "{}",
        String::from_utf8_lossy(&ok.stdout)
    );
    let seed = workspace().join("crates/model/tests/fixtures/seed");
    for (schema, file) in [
        ("components.schema.json", "components.yaml"),
        ("domain.schema.json", "domain-cloud.yaml"),
        ("ownership.schema.json", "ownership.yaml"),
        ("metadata.schema.json", "metadata.yaml"),
    ] {
        let ok = check(schema, &[seed.join(file)]);
        assert!(
            ok.status.success(),
            "{file}: {}",
            String::from_utf8_lossy(&ok.stdout)
        );
    }
    // A broken file is rejected: a typo'd key and a port out of range.
    let bad = root.join("bad-metadata.yaml");
    std::fs::write(
        &bad,
        "architecture: amd64\ndomains: [cloud]\nenvironments: [prod]\ngroup: g\nservice_name: s\nteem: t\nport_exposed: 70000\n",
    )
    .expect("write");
    let rejected = check("metadata.schema.json", &[bad]);
    assert!(!rejected.status.success());
    let text = String::from_utf8_lossy(&rejected.stdout);
    assert!(text.contains("team") || text.contains("teem"), "{text}");
    // The seed's placeholder digest is rejected by the manifest schema.
    let rejected = check("manifest.schema.json", &[seed.join("manifest.yaml")]);
    assert!(!rejected.status.success());
}

fn glob(root: &camino::Utf8Path, name: &str) -> Vec<camino::Utf8PathBuf> {
    let mut out = Vec::new();
    let mut stack = vec![root.to_owned()];
    while let Some(d) = stack.pop() {
        for e in std::fs::read_dir(&d).expect("read dir") {
            let e = e.expect("entry");
            let p = d.join(e.file_name().into_string().expect("utf-8"));
            if e.file_type().expect("type").is_dir() {
                stack.push(p);
            } else if p.file_name() == Some(name) {
                out.push(p);
            }
        }
    }
    out.sort();
    out
}
