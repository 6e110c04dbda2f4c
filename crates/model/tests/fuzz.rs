//! Fuzzing on stable Rust: arbitrary bytes and structured mutations of real files fed to
//! every reader of berth-model (the YAML loader and each typed file, `berth.toml`), asserting
//! no panic and a parse tree bounded by the input (alias expansion included).
//!
//! The budget is `BERTH_FUZZ_CASES` per property (default: a short run for CI);
//! `cargo xtask fuzz` runs a long one in release mode.

use berth_model::files::{AuditRecord, ComponentsIndex, DomainIndex, Manifest, Ownership};
use berth_model::yaml::{self, Node, NodeKind};
use berth_model::{Config, Metadata};
use camino::Utf8Path;
use proptest::prelude::*;
use proptest::test_runner::{Config as PConfig, TestRunner};

fn cases(default: u32) -> u32 {
    std::env::var("BERTH_FUZZ_CASES")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(default)
}

fn runner(default: u32) -> TestRunner {
    TestRunner::new(PConfig {
        cases: cases(default),
        failure_persistence: None,
        ..PConfig::default()
    })
}

/// Real files of every kind: the seed's examples and berth's own output.
fn corpus() -> Vec<(&'static str, String)> {
    let root = Utf8Path::new(env!("CARGO_MANIFEST_DIR")).join("../../examples/repo");
    let read = |rel: &str| std::fs::read_to_string(root.join(rel)).expect("example file");
    vec![
        ("metadata", read("components/cloud/dmp/ms-export/versions/3.2.0/metadata.yaml")),
        ("manifest", read("components/cloud/dmp/ms-export/versions/3.2.0/docker/manifest.yaml")),
        ("manifest", read("components/core/platform/common-utils/versions/1.3.0/deb/manifest.yaml")),
        ("ownership", read("components/cloud/dmp/ownership.yaml")),
        ("index", read("index/components.yaml")),
        ("domain", "components:\n  - name: cloud/dmp/ms-ingestion\n    version: 1.0.2\n".to_owned()),
        (
            "audit",
            "action: promote\nactor: ci-bot\nat: 2026-11-28T13:40:00Z\ncomponent: cloud/dmp/ms-ingestion\nversion: 1.0.3\ndomain: cloud\nenvironment: prod\nprevious_version: 1.0.2\nreason: smoke tests green\napprovals: [\"priya.k\"]\n".to_owned(),
        ),
        ("config", read("berth.toml")),
        ("config", Config::template().to_owned()),
    ]
}

/// Loads `bytes` as every typed file; none may panic.
fn load_all(bytes: &[u8]) {
    let f = Utf8Path::new("fuzz.yaml");
    if let Ok(root) = std::str::from_utf8(bytes).map(|t| yaml::parse(f, t))
        && let Ok(node) = root
    {
        // The tree is bounded by the input plus the alias budget.
        assert!(
            nodes(&node) <= bytes.len() + 10_001,
            "tree of {} nodes from {} bytes",
            nodes(&node),
            bytes.len()
        );
    }
    let _ = berth_model::repo::load_metadata(f, bytes);
    let _ = yaml::from_slice::<Metadata>(f, bytes);
    let _ = yaml::from_slice::<Manifest>(f, bytes);
    let _ = yaml::from_slice::<Ownership>(f, bytes);
    let _ = yaml::from_slice::<ComponentsIndex>(f, bytes);
    let _ = yaml::from_slice::<DomainIndex>(f, bytes);
    let _ = yaml::from_slice::<AuditRecord>(f, bytes);
    let _ = yaml::from_slice::<serde_json::Value>(f, bytes);
    if let Ok(text) = std::str::from_utf8(bytes) {
        let _ = Config::parse(Utf8Path::new("berth.toml"), text);
    }
}

fn nodes(n: &Node) -> usize {
    match &n.kind {
        NodeKind::Scalar { .. } => 1,
        NodeKind::Seq(items) => 1 + items.iter().map(nodes).sum::<usize>(),
        NodeKind::Map(e) => 1 + e.iter().map(|(k, v)| nodes(k) + nodes(v)).sum::<usize>(),
    }
}

#[test]
fn arbitrary_bytes_never_panic_any_reader() {
    runner(300)
        .run(&proptest::collection::vec(any::<u8>(), 0..2000), |bytes| {
            load_all(&bytes);
            Ok(())
        })
        .expect("no panic");
}

#[test]
fn yaml_shaped_text_never_panics_any_reader() {
    let strategy = "[a-z_:\\-\\[\\]{}&*!|>'\"?%@` \\n\\t#,0-9.~]{0,600}";
    runner(300)
        .run(&strategy, |text| {
            load_all(text.as_bytes());
            Ok(())
        })
        .expect("no panic");
}

/// Structured mutations of real files: byte flips, cut lines, duplicated lines, changed
/// indentation, inserted anchors and aliases, spliced pieces of other files.
#[derive(Debug, Clone)]
enum Mutation {
    Flip(usize, u8),
    Truncate(usize),
    DropLine(usize),
    DupLine(usize),
    Indent(usize, usize),
    Insert(usize, &'static str),
    Splice(usize, usize),
}

fn mutation() -> impl Strategy<Value = Mutation> {
    let pieces = prop::sample::select(vec![
        "&a ",
        "*a",
        "- ",
        ": ",
        "\n  ",
        "[",
        "]",
        "{",
        "\"",
        "'",
        "---\n",
        "!!binary ",
        "<<: *a\n",
        "\u{feff}",
        "\u{0}",
        "? ",
        "|\n",
    ]);
    prop_oneof![
        (any::<usize>(), 1..=255u8).prop_map(|(i, x)| Mutation::Flip(i, x)),
        any::<usize>().prop_map(Mutation::Truncate),
        any::<usize>().prop_map(Mutation::DropLine),
        any::<usize>().prop_map(Mutation::DupLine),
        (any::<usize>(), 0usize..9).prop_map(|(i, n)| Mutation::Indent(i, n)),
        (any::<usize>(), pieces).prop_map(|(i, p)| Mutation::Insert(i, p)),
        (any::<usize>(), any::<usize>()).prop_map(|(a, b)| Mutation::Splice(a, b)),
    ]
}

fn apply(text: &str, m: &Mutation, other: &str) -> Vec<u8> {
    let mut bytes = text.as_bytes().to_vec();
    let mut lines: Vec<String> = text.lines().map(str::to_owned).collect();
    let li = |i: usize, n: usize| if n == 0 { 0 } else { i % n };
    match m {
        Mutation::Flip(i, x) => {
            if !bytes.is_empty() {
                let k = i % bytes.len();
                bytes[k] ^= x;
            }
            return bytes;
        }
        Mutation::Truncate(i) => {
            bytes.truncate(li(*i, bytes.len() + 1));
            return bytes;
        }
        Mutation::DropLine(i) => {
            if !lines.is_empty() {
                let k = li(*i, lines.len());
                lines.remove(k);
            }
        }
        Mutation::DupLine(i) => {
            if !lines.is_empty() {
                let k = li(*i, lines.len());
                lines.insert(k, lines[k].clone());
            }
        }
        Mutation::Indent(i, n) => {
            if !lines.is_empty() {
                let k = li(*i, lines.len());
                lines[k] = format!("{}{}", " ".repeat(*n), lines[k].trim_start());
            }
        }
        Mutation::Insert(i, p) => {
            let k = li(*i, bytes.len() + 1);
            bytes.splice(k..k, p.bytes());
            return bytes;
        }
        Mutation::Splice(a, b) => {
            let o: Vec<&str> = other.lines().collect();
            if !o.is_empty() {
                let k = li(*a, lines.len() + 1);
                lines.insert(k, o[li(*b, o.len())].to_owned());
            }
        }
    }
    let mut out = lines.join("\n");
    out.push('\n');
    out.into_bytes()
}

#[test]
fn mutated_real_files_never_panic_any_reader() {
    let corpus = corpus();
    let n = corpus.len();
    let strategy = (0..n, 0..n, proptest::collection::vec(mutation(), 1..6));
    runner(600)
        .run(&strategy, |(i, j, ms)| {
            let mut text = corpus[i].1.clone();
            let mut bytes = Vec::new();
            for m in &ms {
                bytes = apply(&text, m, &corpus[j].1);
                text = String::from_utf8_lossy(&bytes).into_owned();
            }
            load_all(&bytes);
            Ok(())
        })
        .expect("no panic");
}

proptest! {
    #![proptest_config(PConfig { cases: cases(64), failure_persistence: None, ..PConfig::default() })]

    /// Alias chains never expand beyond the budget: the loader refuses instead of allocating.
    #[test]
    fn alias_chains_are_bounded(depth in 1usize..12, width in 1usize..20) {
        let mut text = String::from("a0: &a0 [x, x, x]\n");
        for d in 1..depth {
            let refs: Vec<String> = (0..width).map(|_| format!("*a{}", d - 1)).collect();
            text.push_str(&format!("a{d}: &a{d} [{}]\n", refs.join(", ")));
        }
        match yaml::parse(Utf8Path::new("a.yaml"), &text) {
            Ok(n) => prop_assert!(nodes(&n) <= text.len() + 10_001),
            Err(e) => prop_assert_eq!(e.kind, berth_model::YamlErrorKind::Limit),
        }
    }

    /// Deep nesting is refused with a limit error, never a stack overflow.
    #[test]
    fn deep_nesting_is_refused(depth in 100usize..5000, flow in any::<bool>()) {
        let text = if flow {
            format!("{}{}", "[".repeat(depth), "]".repeat(depth))
        } else {
            (0..depth).map(|i| format!("{}k:\n", " ".repeat(i))).collect::<String>()
        };
        let r = yaml::parse(Utf8Path::new("d.yaml"), &text);
        if depth > 128 {
            prop_assert!(r.is_err());
        }
    }
}
