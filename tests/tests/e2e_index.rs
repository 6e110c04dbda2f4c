//! End to end: `berth index [--check]`, `berth latest`, `berth query`, `berth deps`, and
//! the seed's Python helper reading what berth writes.

use std::collections::BTreeMap;
use std::process::Command;

use berth_model::{ComponentPath, ComponentsIndex, Repository, Version};
use berth_tests::{berth, example_repo, require_tool, run, tempdir, workspace};
use camino::{Utf8Path, Utf8PathBuf};

const INDEX: &str = "index/components.yaml";

/// Adds a version to a repository by copying an existing version's metadata.yaml.
fn copy_version(root: &Utf8Path, comp: &str, from: &str, to: &str) {
    let base = root.join("components").join(comp).join("versions");
    std::fs::create_dir_all(base.join(to)).expect("mkdir");
    std::fs::copy(
        base.join(from).join("metadata.yaml"),
        base.join(to).join("metadata.yaml"),
    )
    .expect("copy metadata");
}

#[test]
fn the_committed_example_index_is_fresh_and_check_catches_stale_and_edited_files() {
    let (_g, root) = example_repo();
    let fresh = run(&root, &["index", "--check"]);
    assert_eq!(
        fresh.code, 0,
        "examples/repo/index/components.yaml is stale: run `berth index` there\n{fresh:?}"
    );

    // A new version makes the committed file stale.
    copy_version(&root, "cloud/dmp/ms-ingestion", "1.0.3", "1.0.4");
    let stale = run(&root, &["index", "--check"]);
    assert_eq!(stale.code, 1, "{stale:?}");
    assert!(
        stale
            .stderr
            .contains("index/components.yaml is stale; run `berth index`"),
        "{}",
        stale.stderr
    );
    insta::assert_snapshot!("check_stale_diff", stale.stdout);
    // --check wrote nothing.
    let text = std::fs::read_to_string(root.join(INDEX)).expect("index");
    assert!(text.contains("latest_version: 1.0.3") && !text.contains("1.0.4"));

    let write = run(&root, &["index"]);
    assert_eq!(write.code, 0, "{write:?}");
    insta::assert_snapshot!("index_write", write.stdout);
    assert_eq!(run(&root, &["index", "--check"]).code, 0);
    assert_eq!(run(&root, &["latest", "ms-ingestion"]).stdout, "1.0.4\n");
    let again = run(&root, &["index"]);
    assert!(again.stdout.contains("unchanged"), "{again:?}");

    // Hand edits are caught, even ones that mean the same to a YAML reader.
    let good = std::fs::read_to_string(root.join(INDEX)).expect("index");
    for edited in [
        good.replace("latest_version: 1.0.4", "latest_version: 1.0.2"),
        good.replace("latest_version: 3.2.0", "latest_version: \"3.2.0\""),
        format!("# edited by hand\n{good}"),
        good.replace(
            "  - name: ran/oam/ms-cell-config\n    latest_version: 2.1.0\n",
            "",
        ),
    ] {
        assert_ne!(edited, good);
        std::fs::write(root.join(INDEX), &edited).expect("edit");
        let r = run(&root, &["index", "--check"]);
        assert_eq!(r.code, 1, "not caught:\n{edited}\n{r:?}");
        assert!(
            r.stdout.starts_with(
                "--- a/index/components.yaml (committed)\n+++ b/index/components.yaml (generated)\n"
            ),
            "{}",
            r.stdout
        );
    }
    let json = run(&root, &["--format", "json", "index", "--check"]);
    assert_eq!(json.code, 1);
    let v: serde_json::Value = serde_json::from_str(&json.stdout).expect("json");
    assert_eq!(v["fresh"], false);

    std::fs::remove_file(root.join(INDEX)).expect("rm");
    let missing = run(&root, &["index", "--check"]);
    assert_eq!(missing.code, 1);
    assert!(
        missing.stderr.contains("does not exist"),
        "{}",
        missing.stderr
    );
    assert!(
        missing.stdout.contains("--- /dev/null"),
        "{}",
        missing.stdout
    );
}

#[test]
fn latest_prints_the_version_only_and_exits_by_the_answer() {
    let (_g, root) = example_repo();
    for (name, want) in [
        ("cloud/dmp/ms-ingestion", "1.0.3\n"),
        ("ms-export", "3.2.0\n"),
        ("common-utils", "1.3.0\n"),
    ] {
        let r = run(&root, &["latest", name]);
        assert_eq!(
            (r.code, r.stdout.as_str(), r.stderr.as_str()),
            (0, want, ""),
            "{name}"
        );
    }
    // Discovery from a subdirectory, --repo from elsewhere, and $BERTH_REPO.
    assert_eq!(
        run(&root.join("components/cloud"), &["latest", "ms-ingestion"]).stdout,
        "1.0.3\n"
    );
    let (_g2, elsewhere) = tempdir();
    assert_eq!(
        run(
            &elsewhere,
            &["--repo", root.as_str(), "latest", "ms-ingestion"]
        )
        .stdout,
        "1.0.3\n"
    );
    let out = berth(&elsewhere)
        .env("BERTH_REPO", root.as_str())
        .args(["latest", "ms-ingestion"])
        .output()
        .expect("runs");
    assert_eq!(String::from_utf8_lossy(&out.stdout), "1.0.3\n");

    let unknown = run(&root, &["latest", "cloud/dmp/ms-ingestoin"]);
    assert_eq!(unknown.code, 1);
    assert_eq!(unknown.stdout, "");
    assert!(
        unknown
            .stderr
            .contains("not in index/components.yaml; did you mean `cloud/dmp/ms-ingestion`?"),
        "{}",
        unknown.stderr
    );
    // A component on disk that the index does not know yet: the hint says why.
    copy_version(&root, "cloud/dmp/ms-ingestion", "1.0.3", "1.0.4");
    let dir = root.join("components/cloud/dmp/ms-new/versions/0.1.0");
    std::fs::create_dir_all(&dir).expect("mkdir");
    let new = run(&root, &["latest", "cloud/dmp/ms-new"]);
    assert_eq!(new.code, 1);
    assert!(new.stderr.contains("run `berth index`"), "{}", new.stderr);
    // It reads the index, not the tree: 1.0.4 appears only after `berth index`.
    assert_eq!(run(&root, &["latest", "ms-ingestion"]).stdout, "1.0.3\n");

    std::fs::remove_file(root.join(INDEX)).expect("rm");
    let no_index = run(&root, &["latest", "ms-ingestion"]);
    assert_eq!(no_index.code, 2);
    assert!(
        no_index.stderr.contains("run `berth index`"),
        "{}",
        no_index.stderr
    );
    let not_repo = run(&elsewhere, &["latest", "ms-ingestion"]);
    assert_eq!(not_repo.code, 2, "{not_repo:?}");
    std::fs::write(root.join(INDEX), "components:\n  - name: [\n").expect("write");
    let broken = run(&root, &["latest", "ms-ingestion"]);
    assert_eq!(broken.code, 2);
    assert!(
        broken.stderr.contains("index/components.yaml:"),
        "{}",
        broken.stderr
    );
}

#[test]
fn query_answers_the_seed_questions() {
    let (_g, root) = example_repo();
    let q = |args: &[&str]| {
        let mut all = vec!["query"];
        all.extend_from_slice(args);
        run(&root, &all)
    };
    // Which services does ingestion-platform own in cloud prod?
    let own = q(&[
        "--team",
        "ingestion-platform",
        "--domain",
        "cloud",
        "--env",
        "prod",
    ]);
    assert_eq!(own.code, 0, "{own:?}");
    insta::assert_snapshot!("query_team_domain_env", own.stdout);
    // Who uses common-utils >=1.2?
    let users = q(&["--depends-on", "common-utils >=1.2"]);
    assert_eq!(users.code, 0, "{users:?}");
    insta::assert_snapshot!("query_depends_on", users.stdout);
    let users_json = q(&["--depends-on", "common-utils >=1.2", "--format", "json"]);
    insta::assert_snapshot!("query_depends_on_json", users_json.stdout);
    // Who could still run a common-utils below 1.3, in any version? ms-export needs
    // >=1.3.0 and ms-alarm-relay ^1.3: they are not in the answer.
    let old = q(&[
        "--depends-on",
        "core/platform/common-utils <1.3",
        "--all-versions",
        "--format",
        "yaml",
    ]);
    assert_eq!(old.code, 0, "{old:?}");
    insta::assert_snapshot!("query_depends_on_old_all_versions_yaml", old.stdout);
    // arm64 includes the arch-independent library.
    let arm = q(&["--arch", "arm64", "--format", "table"]);
    insta::assert_snapshot!("query_arch_arm64", arm.stdout);
    // ANDed: the team owns nothing in ran.
    let none = q(&["--team", "cloud-dmp", "--domain", "ran"]);
    assert_eq!(none.code, 1);
    assert!(
        none.stderr.contains("no component version matches"),
        "{}",
        none.stderr
    );
    let none_json = q(&["--team", "cloud-dmp", "--domain", "ran", "--format", "json"]);
    assert_eq!((none_json.code, none_json.stdout.trim()), (1, "[]"));
    // Labels: none in the examples yet, so a label filter matches nothing.
    assert_eq!(q(&["--label", "tier=gold"]).code, 1);
    // Bad input.
    let bad = q(&["--label", "tier"]);
    assert_eq!(bad.code, 2);
    let unknown = q(&["--depends-on", "nothing-here"]);
    assert_eq!(unknown.code, 1, "{unknown:?}");
    let bad_domain = q(&["--domain", "Cloud"]);
    assert_eq!(bad_domain.code, 2);
}

#[test]
fn query_filters_by_label() {
    let (_g, root) = example_repo();
    let meta = root.join("components/cloud/dmp/ms-export/versions/3.2.0/metadata.yaml");
    let mut text = std::fs::read_to_string(&meta).expect("read");
    text.push_str("labels:\n  tier: gold\n  pii: \"yes\"\n");
    std::fs::write(&meta, text).expect("write");
    let r = run(
        &root,
        &[
            "query",
            "--label",
            "tier=gold",
            "--label",
            "pii=yes",
            "--format",
            "json",
        ],
    );
    assert_eq!(r.code, 0, "{r:?}");
    let hits: serde_json::Value = serde_json::from_str(&r.stdout).expect("json");
    assert_eq!(hits.as_array().map(Vec::len), Some(1));
    assert_eq!(hits[0]["component"], "cloud/dmp/ms-export");
    assert_eq!(
        run(
            &root,
            &["query", "--label", "tier=gold", "--label", "pii=no"]
        )
        .code,
        1
    );
}

#[test]
fn deps_resolves_and_reports_problems() {
    let (_g, root) = example_repo();
    let flat = run(&root, &["deps", "cloud/dmp/ms-export", "3.2.0"]);
    assert_eq!(flat.code, 0, "{flat:?}");
    insta::assert_snapshot!("deps_flat", flat.stdout);
    let flat_json = run(&root, &["--format", "json", "deps", "ms-export", "3.2.0"]);
    insta::assert_snapshot!("deps_flat_json", flat_json.stdout);
    // The version defaults to the latest.
    let tree = run(&root, &["deps", "ms-export", "--tree"]);
    assert_eq!(tree.code, 0, "{tree:?}");
    insta::assert_snapshot!("deps_tree", tree.stdout);
    let tree_json = run(&root, &["--format", "json", "deps", "ms-export", "--tree"]);
    insta::assert_snapshot!("deps_tree_json", tree_json.stdout);
    let missing = run(&root, &["deps", "ms-export", "9.9.9"]);
    assert_eq!(missing.code, 1);
    assert!(
        missing
            .stderr
            .contains("has no version 9.9.9; it has: 3.2.0"),
        "{}",
        missing.stderr
    );

    // Break things: an unknown name, an impossible requirement, and a cycle between
    // common-utils 1.3.0 and ms-export.
    let meta = root.join("components/cloud/dmp/ms-export/versions/3.2.0/metadata.yaml");
    let text = std::fs::read_to_string(&meta).expect("read").replace(
        "dependencies: [\"common-utils >=1.3.0\", \"cloud/dmp/ms-ingestion >=1.0.0\"]",
        "dependencies: [\"common-utils >=1.3.0\", \"cloud/dmp/ms-ingestion >=2\", \"ms-imaginary\"]",
    );
    std::fs::write(&meta, text).expect("write");
    let cu = root.join("components/core/platform/common-utils/versions/1.3.0/metadata.yaml");
    let text = std::fs::read_to_string(&cu).expect("read").replace(
        "group: platform",
        "dependencies: [\"ms-export\"]\ngroup: platform",
    );
    std::fs::write(&cu, text).expect("write");
    let bad = run(&root, &["deps", "ms-export", "3.2.0"]);
    assert_eq!(bad.code, 1, "{bad:?}");
    assert!(
        bad.stderr.contains("3 dependency problems"),
        "{}",
        bad.stderr
    );
    insta::assert_snapshot!("deps_problems", bad.stdout);
    let bad_json = run(&root, &["--format", "json", "deps", "ms-export", "3.2.0"]);
    insta::assert_snapshot!("deps_problems_json", bad_json.stdout);
    let bad_tree = run(&root, &["deps", "ms-ingestion", "1.0.3", "--tree"]);
    assert_eq!(bad_tree.code, 1, "{bad_tree:?}");
    insta::assert_snapshot!("deps_problems_tree", bad_tree.stdout);
    // show lists the resolved dependencies too.
    let show = run(&root, &["show", "ms-export", "3.2.0"]);
    assert!(
        show.stdout
            .contains("depends on ms-imaginary ✗ deps/unresolved"),
        "{}",
        show.stdout
    );
}

// ---------------------------------------------------------------------------------------
// The seed's Python helper against berth's output.

/// Runs the seed helper (verbatim, imported from tests/fixtures/seed/get_latest.py) in one
/// Python process over `names`, in `root`. PyYAML parses the file once: `yaml.safe_load`
/// is memoized by file content, which changes nothing but the time.
fn python_latest(root: &Utf8Path, names: &[String]) -> Vec<Option<String>> {
    require_tool("python3", "python3 python3-yaml");
    let driver = root.join("driver.py");
    std::fs::write(
        &driver,
        r#"import sys, yaml
sys.path.insert(0, sys.argv[1])
import get_latest
_cache = {}
_real = yaml.safe_load
def _memo(stream):
    text = stream.read()
    if text not in _cache:
        _cache[text] = _real(text)
    return _cache[text]
get_latest.yaml.safe_load = _memo
out = []
for name in open(sys.argv[2], encoding="utf-8").read().split("\n"):
    if name:
        r = get_latest.get_latest_version(name)
        out.append("-" if r is None else type(r).__name__ + " " + str(r))
sys.stdout.write("\n".join(out) + "\n")
"#,
    )
    .expect("write driver");
    let list = root.join("names.txt");
    std::fs::write(&list, names.join("\n") + "\n").expect("write names");
    let out = Command::new("python3")
        .arg(driver.as_str())
        .arg(workspace().join("tests/fixtures/seed").as_str())
        .arg(list.as_str())
        .current_dir(root)
        .output()
        .expect("python3 runs");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let text = String::from_utf8(out.stdout).expect("utf-8");
    let answers: Vec<Option<String>> = text
        .lines()
        .map(|l| match l {
            "-" => None,
            other => Some(
                other
                    .strip_prefix("str ")
                    .unwrap_or(&format!("NOT A STRING: {other}"))
                    .to_owned(),
            ),
        })
        .collect();
    assert_eq!(answers.len(), names.len());
    answers
}

#[test]
fn the_seed_python_helper_agrees_with_berth_latest_on_the_example() {
    let (_g, root) = example_repo();
    let repo = Repository::open(root.clone()).expect("opens");
    let mut names: Vec<String> = repo
        .components()
        .expect("lists")
        .iter()
        .map(ToString::to_string)
        .collect();
    names.push("cloud/dmp/nothing".into());
    let py = python_latest(&root, &names);
    for (name, want) in names.iter().zip(&py) {
        let r = run(&root, &["latest", name]);
        match want {
            Some(v) => assert_eq!((r.code, r.stdout.trim_end()), (0, v.as_str()), "{name}"),
            None => assert_eq!(r.code, 1, "{name}"),
        }
    }
    assert_eq!(py.iter().filter(|v| v.is_some()).count(), 5);
}

/// Versions that are valid SemVer but trip YAML 1.1 readers or naive parsers.
const TRICKY_VERSIONS: &[&str] = &[
    "1.10.0",
    "0.0.0",
    "1.0.0-0",
    "1.0.0-alpha.1",
    "1.0.0+20130313144700",
    "1.0.0-rc.1+build.1",
    "10.20.30",
    "1.1.2-prerelease+meta",
    "1.0.0-x-y-z.--",
    "1.0.0-0A.is.legal",
    "18446744073709551615.0.0",
    "2.0.0+21AF26D3----117B344092BD",
    "1.0.0-alpha0.valid",
    "1.2.3----RC-SNAPSHOT.12.9.1--.12+788",
    "10.2.3-DEV-SNAPSHOT",
    "1.0.0+0.build.1-rc.10000aaa-kk-0.1",
    "2025.5.10",
    "1.2.3-2025-05-10",
    "1.2.3-12.30",
    "0.0.1-e5",
    "1.0.0+0x1f",
    "1.0.0-yes.no.on.off",
    "1.0.0+1-000",
    "3.0.0-inf",
    "1.0.0-nan",
    "1.2.3-1e3",
    "7.0.0+001",
];
/// Segments that YAML 1.1 would read as something else when alone.
const TRICKY_SEGMENTS: &[&str] = &[
    "yes",
    "no",
    "on",
    "off",
    "null",
    "true",
    "y",
    "n",
    "1e3",
    "0x1f",
    "1_000",
    "12",
    "1.10",
    "2025-05-10",
    "0o17",
    "inf",
    "nan",
    "svc",
    "a.b",
    "x_y",
];

fn synthetic_index(n: usize) -> ComponentsIndex {
    let rows = (0..n).map(|i| {
        let a = TRICKY_SEGMENTS[i % TRICKY_SEGMENTS.len()];
        let b = TRICKY_SEGMENTS[(i / TRICKY_SEGMENTS.len()) % TRICKY_SEGMENTS.len()];
        let name = ComponentPath::parse(&format!("{a}/{b}/ms-{i}")).expect("valid name");
        let v = Version::parse(TRICKY_VERSIONS[(i * 7) % TRICKY_VERSIONS.len()])
            .expect("valid version");
        (name, Some(v))
    });
    berth_index::assemble(rows)
}

/// A repository holding only berth.toml and a generated index of `n` components.
fn synthetic_repo(n: usize) -> (tempfile::TempDir, Utf8PathBuf, ComponentsIndex) {
    let (g, dir) = tempdir();
    std::fs::write(dir.join("berth.toml"), "").expect("berth.toml");
    let repo = Repository::open(dir.clone()).expect("opens");
    let index = synthetic_index(n);
    let lock = repo.lock().expect("locks");
    berth_index::write(&repo, &lock, &index).expect("writes with the canonical writer");
    (g, dir, index)
}

#[test]
fn the_seed_python_helper_agrees_with_berth_on_10000_components() {
    let (_g, root, index) = synthetic_repo(10_000);
    assert_eq!(index.components.len(), 10_000);
    let mut names: Vec<String> = index
        .components
        .iter()
        .map(|e| e.name.to_string())
        .collect();
    names.push("yes/no/ms-unknown".into());
    let py = python_latest(&root, &names);
    let file = root.join(INDEX);
    let text = std::fs::read_to_string(&file).expect("index");
    let full: ComponentsIndex = berth_model::yaml::from_str(&file, &text)
        .expect("parses")
        .value;
    assert_eq!(full, index, "the index reads back as written");
    let mut by_name = BTreeMap::new();
    for (i, (name, want)) in names.iter().zip(&py).enumerate() {
        // In process: the full loader for every name, the fast scanner (which reads the
        // whole file per call) on a sample.
        let slow = berth_index::latest(&full, name)
            .ok()
            .map(ToString::to_string);
        assert_eq!(&slow, want, "{name}");
        if i % 50 == 0 || i + 1 == names.len() {
            let fast = berth_index::latest_in_text(&file, &text, name)
                .ok()
                .map(|v| v.to_string());
            assert_eq!(&fast, want, "{name}");
        }
        by_name.insert(name.clone(), want.clone());
    }
    // The binary, on a sample (one process per name). `berth latest` never answers with a
    // version whose directory is missing, so the sample's versions exist.
    for name in names.iter().step_by(397).chain(names.last()) {
        if let Some(v) = &by_name[name] {
            std::fs::create_dir_all(root.join(format!("components/{name}/versions/{v}")))
                .expect("version dir");
        }
        let r = run(&root, &["latest", name]);
        match &by_name[name] {
            Some(v) => assert_eq!((r.code, r.stdout.trim_end()), (0, v.as_str()), "{name}"),
            None => assert_eq!((r.code, r.stdout.as_str()), (1, ""), "{name}"),
        }
    }
    // A tricky version spelled out: the row berth wrote as 1.10.0 (a YAML 1.1 float if
    // unquoted and read carelessly: 1.1) reads back as "1.10.0" in PyYAML.
    let row = index
        .components
        .iter()
        .find(|e| e.latest_version.to_string() == "1.10.0")
        .expect("the generator writes a 1.10.0 row");
    let i = names
        .iter()
        .position(|n| n == row.name.as_str())
        .expect("asked about every row");
    assert_eq!(py[i].as_deref(), Some("1.10.0"), "{}", row.name);
}

#[test]
fn berth_index_reads_prerelease_policy_from_berth_toml() {
    let (_g, root) = example_repo();
    copy_version(&root, "core/platform/common-utils", "1.3.0", "2.0.0-rc.1");
    assert_eq!(run(&root, &["index"]).code, 0);
    assert_eq!(run(&root, &["latest", "common-utils"]).stdout, "1.3.0\n");
    let toml = std::fs::read_to_string(root.join("berth.toml")).expect("read");
    std::fs::write(
        root.join("berth.toml"),
        toml.replace(
            "latest_includes_prereleases = false",
            "latest_includes_prereleases = true",
        ),
    )
    .expect("write");
    assert_eq!(run(&root, &["index", "--check"]).code, 1);
    assert_eq!(run(&root, &["index"]).code, 0);
    assert_eq!(
        run(&root, &["latest", "common-utils"]).stdout,
        "2.0.0-rc.1\n"
    );
}

/// Where the answers to "is this version good?" used to disagree (`query` without an index
/// file judged by parse alone, `promote` judged before taking the lock, `add` and `index`
/// ran the validator): a version whose only fault is a dependency no component provides.
/// One verdict now answers all of them, so they agree.
#[test]
fn query_index_latest_add_and_promote_agree_on_a_version_only_the_validator_faults() {
    let (_g, root) = example_repo();
    let comp = "cloud/dmp/ms-ingestion";
    copy_version(&root, comp, "1.0.3", "1.1.0");
    let meta = root
        .join("components")
        .join(comp)
        .join("versions/1.1.0/metadata.yaml");
    let text = std::fs::read_to_string(&meta).expect("read");
    let faulty = text.replace(
        "dependencies: [\"common-utils >=1.2.0\"]",
        "dependencies: [\"common-utils >=1.2.0\", \"no-such-lib >=1.0\"]",
    );
    assert_ne!(faulty, text);
    std::fs::write(&meta, faulty).expect("write");

    // The version is well-formed YAML with every field: only the dependency rule faults it.
    let v = run(&root, &["--format", "json", "validate"]);
    let findings: serde_json::Value = serde_json::from_str(&v.stdout).expect("json");
    let on_it: Vec<&str> = findings["diagnostics"]
        .as_array()
        .expect("diagnostics")
        .iter()
        .filter(|d| d["file"].as_str().is_some_and(|f| f.contains("/1.1.0/")))
        .filter(|d| d["severity"] == "error")
        .filter_map(|d| d["rule"].as_str())
        .collect();
    assert_eq!(on_it, ["deps/unresolved"], "{}", v.stdout);

    // `query` with no index file to read: it judges the tree with the same verdict.
    std::fs::remove_file(root.join(INDEX)).expect("rm index");
    let q = run(
        &root,
        &["--format", "json", "query", "--team", "ingestion-platform"],
    );
    assert_eq!(q.code, 0, "{q:?}");
    let rows: serde_json::Value = serde_json::from_str(&q.stdout).expect("json");
    let row = rows
        .as_array()
        .expect("rows")
        .iter()
        .find(|r| r["component"] == comp)
        .unwrap_or_else(|| panic!("{comp} listed: {}", q.stdout));
    assert_eq!(row["version"], "1.0.3", "{}", q.stdout);

    // `index` writes the same latest; `latest` reads it back.
    let i = run(&root, &["index"]);
    assert_eq!(i.code, 0, "{i:?}");
    let written = std::fs::read_to_string(root.join(INDEX)).expect("index");
    assert!(
        written.contains(&format!("  - name: {comp}\n    latest_version: 1.0.3\n")),
        "{written}"
    );
    assert_eq!(run(&root, &["latest", comp]).stdout, "1.0.3\n");

    // `promote` refuses it at the valid gate, naming the finding.
    let p = run(
        &root,
        &[
            "promote", comp, "1.1.0", "--domain", "cloud", "--env", "staging",
        ],
    );
    assert_eq!(p.code, 1, "{p:?}");
    assert!(
        p.stderr.contains("valid") && p.stderr.contains("deps/unresolved"),
        "{}",
        p.stderr
    );

    // `add` of another version carrying the same fault keeps the index where it is, and
    // says why.
    let artifact = root.join("payload.txt");
    std::fs::write(&artifact, "payload\n").expect("write");
    let a = run(
        &root,
        &[
            "add",
            comp,
            "1.2.0",
            "--generic",
            artifact.as_str(),
            "--metadata",
            meta.as_str(),
        ],
    );
    assert_eq!(a.code, 0, "{a:?}");
    assert!(a.stdout.contains("deps/unresolved"), "{}", a.stdout);
    assert_eq!(run(&root, &["latest", comp]).stdout, "1.0.3\n");
    assert_eq!(run(&root, &["index", "--check"]).code, 0);
}
