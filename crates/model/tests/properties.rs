//! Property tests: names and versions round-trip, the canonical writer is idempotent and
//! PyYAML-safe, and the loader never panics.

use berth_model::repo::load_metadata;
use berth_model::{ComponentPath, ComponentsIndex, Version, yaml};
use camino::Utf8Path;
use proptest::prelude::*;

fn segment() -> impl Strategy<Value = String> {
    "[a-z0-9][a-z0-9._-]{0,12}".prop_filter("not . or ..", |s| s != "." && s != "..")
}

proptest! {
    #[test]
    fn component_paths_round_trip(segs in prop::collection::vec(segment(), 2..5)) {
        let text = segs.join("/");
        let p = ComponentPath::parse(&text).expect("generated paths are valid");
        prop_assert_eq!(p.to_string(), text.clone());
        prop_assert_eq!(ComponentPath::parse(&p.to_string()).expect("reparses"), p);
    }

    #[test]
    fn invalid_component_paths_are_refused(s in "\\PC{0,30}") {
        // Whatever the input, parsing never panics, and anything accepted re-displays as is.
        if let Ok(p) = ComponentPath::parse(&s) {
            prop_assert_eq!(p.as_str(), s.as_str());
            prop_assert!(p.segments().count() >= 2);
        }
    }

    #[test]
    fn versions_round_trip(maj in 0u64..1000, min in 0u64..1000, pat in 0u64..1000,
                           pre in prop::option::of("[a-z]{1,5}(\\.[1-9][0-9]{0,2})?")) {
        let text = match &pre {
            Some(p) => format!("{maj}.{min}.{pat}-{p}"),
            None => format!("{maj}.{min}.{pat}"),
        };
        let v = Version::parse(&text).expect("valid semver");
        prop_assert_eq!(v.to_string(), text);
        prop_assert_eq!(v.is_prerelease(), pre.is_some());
    }

    #[test]
    fn loader_never_panics_on_arbitrary_bytes(bytes in prop::collection::vec(any::<u8>(), 0..400)) {
        let _ = load_metadata(Utf8Path::new("fuzz.yaml"), &bytes);
    }

    #[test]
    fn loader_never_panics_on_yamlish_text(text in "[a-z:\\-\\[\\]{}&*!|>'\" \\n#,0-9.]{0,200}") {
        let _ = load_metadata(Utf8Path::new("fuzz.yaml"), text.as_bytes());
    }

    #[test]
    fn canonical_writer_is_idempotent(labels in prop::collection::btree_map("[ -~]{1,12}", "\\PC{0,16}", 0..6)) {
        // Arbitrary label keys and values (quotes, colons, `#`, numbers, `yes`…) survive a
        // write-read-write cycle byte for byte.
        let text = "architecture: amd64\ndomains: [\"cloud\"]\nenvironments: [\"prod\"]\ngroup: g\nservice_name: s\nteam: t\n";
        let mut m = load_metadata(Utf8Path::new("m.yaml"), text.as_bytes()).expect("base loads").value;
        m.labels = labels.clone();
        let once = yaml::to_canonical(&m).expect("renders");
        let back = load_metadata(Utf8Path::new("m.yaml"), once.as_bytes()).expect("reloads");
        prop_assert_eq!(&back.value.labels, &labels);
        let twice = yaml::to_canonical(&back.value).expect("renders");
        prop_assert_eq!(once, twice);
    }
}

/// Generated YAML must read back identically in YAML 1.1 tools: the seed's helper uses
/// PyYAML. Tricky strings go through berth's writer and PyYAML's safe_load.
#[test]
fn pyyaml_reads_canonical_output_back_unchanged() {
    let tricky = [
        "yes",
        "no",
        "on",
        "off",
        "y",
        "n",
        "true",
        "null",
        "~",
        "1_000",
        "12:30",
        "1.10",
        "1.0",
        "0x1f",
        "0o17",
        "1e3",
        ".inf",
        "2025-05-10",
        "2025-05-10T22:15:00Z",
        "#channel",
        "a: b",
        "a #b",
        " lead",
        "trail ",
        "",
        "-",
        "- x",
        "?",
        "'quoted'",
        "\"dq\"",
        "tab\tin",
        "new\nline",
        "ünïcödé",
        "1.0.2",
        "python:3.11-alpine",
        "<<",
        "=",
        "@at",
        "%pct",
        "`tick",
        "!bang",
        "&amp",
        "*star",
        "|pipe",
        ">gt",
        "[x]",
        "{y}",
        "x,y",
        "+1",
        "-1",
        "0",
        "010",
    ];
    let labels: std::collections::BTreeMap<String, String> = tricky
        .iter()
        .enumerate()
        .map(|(i, s)| (format!("k{i:02}"), (*s).to_owned()))
        .collect();
    let text = yaml::to_canonical(&labels).expect("renders");
    let dir = tempfile::tempdir().expect("tempdir");
    let f = dir.path().join("labels.yaml");
    std::fs::write(&f, &text).expect("write");
    let out = std::process::Command::new("python3")
        .args([
            "-c",
            "import sys, json, yaml; print(json.dumps(yaml.safe_load(open(sys.argv[1]))))",
            f.to_str().expect("utf-8"),
        ])
        .output()
        .expect("python3 with PyYAML is installed (.ci/run installs it)");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let back: std::collections::BTreeMap<String, serde_json::Value> =
        serde_json::from_slice(&out.stdout).expect("json");
    for (k, v) in &labels {
        assert_eq!(
            back.get(k).and_then(|x| x.as_str()),
            Some(v.as_str()),
            "{k}: {v:?} in\n{text}"
        );
    }

    // And the index as PyYAML sees it: names and versions stay strings.
    let idx: ComponentsIndex = yaml::from_str(
        Utf8Path::new("c.yaml"),
        "components:\n  - name: a/b\n    latest_version: 1.10.0\n",
    )
    .expect("loads")
    .value;
    let text = yaml::to_canonical(&idx).expect("renders");
    assert_eq!(
        text,
        "components:\n  - name: a/b\n    latest_version: 1.10.0\n"
    );
}
