//! berth-index over real (temporary) repositories: determinism, incremental updates,
//! the "good" check, pre-release policy and dependency problems.

use berth_index::{DepProblem, DepStatus, IndexOptions, Resolver};
use berth_model::{ComponentPath, ComponentsIndex, Repository, Version};
use berth_model::{Finding, Verdict};
use camino::{Utf8Path, Utf8PathBuf};
use proptest::prelude::*;

fn c(s: &str) -> ComponentPath {
    ComponentPath::parse(s).expect("valid path")
}
fn v(s: &str) -> Version {
    Version::parse(s).expect("valid version")
}

struct Tmp {
    _guard: tempfile::TempDir,
    root: Utf8PathBuf,
}

fn new_repo(config: &str) -> Tmp {
    let guard = tempfile::tempdir().expect("tempdir");
    let root = Utf8PathBuf::from_path_buf(guard.path().join("repo")).expect("utf-8");
    std::fs::create_dir_all(root.join("components")).expect("mkdir");
    std::fs::write(root.join("berth.toml"), config).expect("berth.toml");
    Tmp {
        _guard: guard,
        root,
    }
}

/// Writes a version's metadata.yaml; `deps` as written in the file.
fn add(root: &Utf8Path, comp: &str, version: &str, deps: &[&str]) {
    let p = c(comp);
    let dir = root
        .join("components")
        .join(comp)
        .join("versions")
        .join(version);
    std::fs::create_dir_all(&dir).expect("mkdir");
    let deps: Vec<String> = deps.iter().map(|d| format!("\"{d}\"")).collect();
    std::fs::write(
        dir.join("metadata.yaml"),
        format!(
            "architecture: amd64\ndomains: [\"cloud\"]\nenvironments: [\"prod\"]\ndependencies: [{}]\ngroup: {}\nservice_name: {}\nteam: t\n",
            deps.join(", "),
            p.group(),
            p.name()
        ),
    )
    .expect("write metadata");
}

/// The tests' verdict (berth-validate's Checker in real use): the metadata loads, its
/// values are valid and its names match the path.
fn sound(repo: &Repository) -> impl Verdict + '_ {
    move |c: &ComponentPath, v: &Version| -> Vec<Finding> {
        match repo.metadata(c, v) {
            Ok(m) => berth_model::checks::invalid_values(&m.value)
                .into_iter()
                .chain(berth_model::checks::name_mismatch(&m.value, c))
                .map(|p| Finding::new(p.rule.id(), "metadata.yaml", p.message))
                .collect(),
            Err(e) => vec![Finding::new("schema/parse", "metadata.yaml", e.to_string())],
        }
    }
}

fn open(t: &Tmp) -> Repository {
    Repository::open(t.root.clone()).expect("opens")
}

fn built(repo: &Repository) -> ComponentsIndex {
    let opts = IndexOptions::from_config(repo.config());
    berth_index::build(repo, &opts, &sound(repo)).expect("builds")
}

fn version_strategy() -> impl Strategy<Value = String> {
    (
        0u8..3,
        0u8..11,
        0u8..3,
        prop_oneof![Just(""), Just("-rc.1"), Just("-0")],
    )
        .prop_map(|(a, b, c, p)| format!("{a}.{b}.{c}{p}"))
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 24, ..ProptestConfig::default() })]

    /// The same set of versions, created on disk in two different orders, gives the same
    /// bytes; and building one component at a time gives the same index as the whole tree.
    #[test]
    fn index_is_independent_of_creation_order(
        set in proptest::collection::btree_set(
            (prop_oneof![Just("a/b/x"), Just("a/y"), Just("z/q/r"), Just("a/b/x-2")], version_strategy()),
            1..16),
        seed in any::<u64>(),
    ) {
        let items: Vec<_> = set.into_iter().collect();
        let mut reversed = items.clone();
        reversed.reverse();
        // A seeded shuffle too, so that neither order is simply sorted.
        let mut shuffled = items.clone();
        let mut s = seed | 1;
        for i in (1..shuffled.len()).rev() {
            s ^= s << 13; s ^= s >> 7; s ^= s << 17;
            shuffled.swap(i, (s % (i as u64 + 1)) as usize);
        }
        let mut texts = Vec::new();
        for order in [&reversed, &shuffled] {
            let t = new_repo("");
            for (comp, ver) in order.iter() {
                add(&t.root, comp, ver, &[]);
            }
            let repo = open(&t);
            let whole = built(&repo);
            // Incremental, one component at a time, in the shuffled order.
            let mut inc = ComponentsIndex::default();
            let opts = IndexOptions::default();
            for (comp, _) in order.iter() {
                berth_index::update_component(&repo, &mut inc, &c(comp), &opts, &sound(&repo))
                    .expect("updates");
            }
            prop_assert_eq!(&inc, &whole);
            texts.push(berth_index::render(&whole).expect("renders"));
        }
        prop_assert_eq!(&texts[0], &texts[1]);
    }
}

#[test]
fn erroneous_versions_and_prereleases_are_never_latest_by_default() {
    let t = new_repo("");
    add(&t.root, "cloud/dmp/svc", "1.0.0", &[]);
    add(&t.root, "cloud/dmp/svc", "1.1.0", &[]);
    add(&t.root, "cloud/dmp/svc", "2.0.0-rc.1", &[]);
    // 1.2.0 names the wrong service: not good.
    let bad = t.root.join("components/cloud/dmp/svc/versions/1.2.0");
    std::fs::create_dir_all(&bad).expect("mkdir");
    std::fs::write(
        bad.join("metadata.yaml"),
        "architecture: amd64\ndomains: [\"cloud\"]\nenvironments: [\"prod\"]\ngroup: dmp\nservice_name: other\nteam: t\n",
    )
    .expect("write");
    // 1.3.0 has no metadata at all; 1.4.0 has a broken domain value.
    std::fs::create_dir_all(t.root.join("components/cloud/dmp/svc/versions/1.3.0")).expect("mkdir");
    let broken = t.root.join("components/cloud/dmp/svc/versions/1.4.0");
    std::fs::create_dir_all(&broken).expect("mkdir");
    std::fs::write(
        broken.join("metadata.yaml"),
        "architecture: amd64\ndomains: [\"Cloud\"]\nenvironments: [\"prod\"]\ngroup: dmp\nservice_name: svc\nteam: t\n",
    )
    .expect("write");
    // A component with only a pre-release is left out of the index.
    add(&t.root, "cloud/dmp/early", "0.1.0-alpha", &[]);
    let repo = open(&t);
    let index = built(&repo);
    assert_eq!(
        berth_index::latest(&index, "cloud/dmp/svc").expect("present"),
        &v("1.1.0")
    );
    assert!(berth_index::latest(&index, "cloud/dmp/early").is_err());

    // berth.toml may let pre-releases in.
    std::fs::write(
        t.root.join("berth.toml"),
        "[repository]\nlatest_includes_prereleases = true\n",
    )
    .expect("write");
    let repo = open(&t);
    let index = built(&repo);
    assert_eq!(
        berth_index::latest(&index, "svc").expect("present"),
        &v("2.0.0-rc.1")
    );
    assert_eq!(
        berth_index::latest(&index, "early").expect("present"),
        &v("0.1.0-alpha")
    );
}

#[test]
fn regenerate_writes_only_on_change_and_check_sees_edits() {
    let t = new_repo("");
    add(&t.root, "cloud/dmp/svc", "1.0.0", &[]);
    let repo = open(&t);
    let opts = IndexOptions::default();
    let good = sound(&repo);
    let first = berth_index::regenerate(&repo, &opts, &good).expect("writes");
    assert!(first.written);
    assert_eq!(first.changes.len(), 1);
    assert!(
        berth_index::check(&repo, &opts, &good)
            .expect("checks")
            .is_fresh()
    );
    let again = berth_index::regenerate(&repo, &opts, &good).expect("runs");
    assert!(!again.written && again.changes.is_empty());
    add(&t.root, "cloud/dmp/svc", "1.0.1", &[]);
    let ck = berth_index::check(&repo, &opts, &good).expect("checks");
    assert!(!ck.is_fresh());
    assert!(
        ck.unified_diff().contains("+    latest_version: 1.0.1"),
        "{}",
        ck.unified_diff()
    );
    // A component that disappears leaves the index on an incremental update.
    let mut index = berth_index::build(&repo, &opts, &good).expect("builds");
    std::fs::remove_dir_all(t.root.join("components/cloud/dmp/svc")).expect("rm");
    let change =
        berth_index::update_component(&repo, &mut index, &c("cloud/dmp/svc"), &opts, &good)
            .expect("updates")
            .expect("a change");
    assert_eq!(change.after, None);
    assert!(index.components.is_empty());
}

#[test]
fn dependency_problems_carry_component_version_text_and_index() {
    let t = new_repo("");
    add(&t.root, "core/lib/common-utils", "1.2.0", &[]);
    add(&t.root, "core/lib/common-utils", "1.3.0", &[]);
    add(&t.root, "core/lib/common-utils", "2.0.0-rc.1", &[]);
    add(&t.root, "ran/x/dup", "1.0.0", &[]);
    add(&t.root, "cloud/x/dup", "1.0.0", &[]);
    add(
        &t.root,
        "cloud/dmp/app",
        "1.0.0",
        &[
            "common-utils >=1.2.0",
            "nothing >=1",
            "dup",
            "common-utils >=2",
            "cloud/dmp/a",
            "core/lib/common-utils ^2.0.0-rc.1",
        ],
    );
    // a → b → c → a: a cycle of three.
    add(&t.root, "cloud/dmp/a", "1.0.0", &["cloud/dmp/b"]);
    add(&t.root, "cloud/dmp/b", "1.0.0", &["cloud/dmp/c >=1"]);
    add(&t.root, "cloud/dmp/c", "1.0.0", &["a"]);
    let repo = open(&t);
    let r = Resolver::new(&repo).expect("resolver");
    let edges = r
        .dependencies(&c("cloud/dmp/app"), &v("1.0.0"))
        .expect("resolves");
    assert_eq!(edges.len(), 6);
    assert!(matches!(&edges[0].status, DepStatus::Resolved(p) if p.version == v("1.3.0")));
    // The requirement names the pre-release: it may match it.
    assert!(matches!(&edges[5].status, DepStatus::Resolved(p) if p.version == v("2.0.0-rc.1")));
    let problems = r
        .problems(&c("cloud/dmp/app"), &v("1.0.0"))
        .expect("problems");
    let summary: Vec<(&str, usize, &str)> = problems
        .iter()
        .map(|p| (p.rule(), p.index(), p.dependency()))
        .collect();
    assert_eq!(
        summary,
        [
            ("deps/unresolved", 1, "nothing >=1"),
            ("deps/ambiguous", 2, "dup"),
            ("deps/unresolved", 3, "common-utils >=2"),
        ]
    );
    assert!(
        problems[2]
            .to_string()
            .contains("it has 1.2.0, 1.3.0, 2.0.0-rc.1"),
        "{}",
        problems[2]
    );
    assert_eq!(
        problems[1].field_path(),
        ["dependencies".to_owned(), "2".to_owned()]
    );
    match &problems[1] {
        DepProblem::Ambiguous { candidates, .. } => {
            assert_eq!(candidates, &[c("cloud/x/dup"), c("ran/x/dup")]);
        }
        other => panic!("{other:?}"),
    }
    // The cycle is reported on each member, starting and ending there.
    for (comp, want) in [
        (
            "cloud/dmp/a",
            "cloud/dmp/a 1.0.0 → cloud/dmp/b 1.0.0 → cloud/dmp/c 1.0.0 → cloud/dmp/a 1.0.0",
        ),
        (
            "cloud/dmp/c",
            "cloud/dmp/c 1.0.0 → cloud/dmp/a 1.0.0 → cloud/dmp/b 1.0.0 → cloud/dmp/c 1.0.0",
        ),
    ] {
        let ps = r.problems(&c(comp), &v("1.0.0")).expect("problems");
        assert_eq!(ps.len(), 1, "{ps:?}");
        assert_eq!(ps[0].rule(), "deps/cycle");
        assert!(ps[0].to_string().contains(want), "{}", ps[0]);
    }
    // app depends on a, which is on a cycle app is not part of: app's edge resolves, and
    // the tree shows the cycle where it closes, without looping.
    let tree = r.tree(&c("cloud/dmp/app"), &v("1.0.0")).expect("tree");
    let rules: Vec<&str> = tree.problems().iter().map(|p| p.rule()).collect();
    assert_eq!(
        rules,
        [
            "deps/unresolved",
            "deps/ambiguous",
            "deps/unresolved",
            "deps/cycle"
        ]
    );
}
