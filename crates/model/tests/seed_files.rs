//! The seed's five example files load unchanged and re-write canonically; bad YAML gets a
//! positioned message, never a panic.

use berth_model::repo::load_metadata;
use berth_model::{ComponentsIndex, DomainIndex, Manifest, Ownership, yaml};
use camino::{Utf8Path, Utf8PathBuf};

fn fixture(rel: &str) -> (Utf8PathBuf, Vec<u8>) {
    let p = Utf8Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures")
        .join(rel);
    let bytes = std::fs::read(&p).expect("fixture exists");
    (Utf8PathBuf::from(rel), bytes)
}

#[test]
fn seed_metadata_loads_and_rewrites() {
    let (name, bytes) = fixture("seed/metadata.yaml");
    let m = load_metadata(&name, &bytes).expect("seed metadata loads");
    assert!(m.unknown.is_empty(), "{:?}", m.unknown);
    assert_eq!(m.value.service_name, "ms-ingestion");
    assert_eq!(
        m.value
            .port_exposed
            .as_ref()
            .and_then(|p| p.get())
            .map(|p| p.0),
        Some(8443)
    );
    let dep = m.value.deps().next().expect("one dependency");
    assert_eq!(
        (dep.name.as_str(), dep.req_text.as_str()),
        ("common-utils", ">=1.2.0")
    );
    insta::assert_snapshot!(yaml::to_canonical(&m.value).expect("renders"));
}

#[test]
fn seed_manifest_placeholder_digest_is_an_invalid_value_with_position() {
    let (name, bytes) = fixture("seed/manifest.yaml");
    let m: yaml::Loaded<Manifest> = yaml::from_slice(&name, &bytes).expect("still understood");
    // The rest of the file is understood…
    assert_eq!(m.value.format.text(), "docker");
    assert_eq!(m.value.version.text(), "1.0.2");
    assert_eq!(m.value.base_image.as_deref(), Some("python:3.11-alpine"));
    assert_eq!(
        m.value
            .labels
            .get("org.label-schema.schema-version")
            .map(String::as_str),
        Some("1.0")
    );
    // …and the placeholder digest is an invalid value that points at its line and column.
    let err = m.value.sha256.error().expect("placeholder is invalid");
    assert!(err.contains("64"), "{err}");
    let at = m.root.locate_value(&["sha256"]).0;
    assert_eq!((at.line, at.col), (4, 9));
    insta::assert_snapshot!(yaml::to_canonical(&m.value).expect("renders"));
}

#[test]
fn seed_ownership_components_and_domain_load_and_rewrite() {
    let (n, b) = fixture("seed/ownership.yaml");
    let o: yaml::Loaded<Ownership> = yaml::from_slice(&n, &b).expect("loads");
    assert_eq!(o.value.slack_channel, "#cloud-dmp-alerts");
    insta::assert_snapshot!("ownership", yaml::to_canonical(&o.value).expect("renders"));

    let (n, b) = fixture("seed/components.yaml");
    let mut c: yaml::Loaded<ComponentsIndex> = yaml::from_slice(&n, &b).expect("loads");
    assert_eq!(
        c.value
            .latest("cloud/dmp/ms-export")
            .map(ToString::to_string)
            .as_deref(),
        Some("3.2.0")
    );
    c.value.canonicalize();
    insta::assert_snapshot!("components", yaml::to_canonical(&c.value).expect("renders"));

    let (n, b) = fixture("seed/domain-cloud.yaml");
    let mut d: yaml::Loaded<DomainIndex> = yaml::from_slice(&n, &b).expect("loads");
    d.value.components.sort();
    insta::assert_snapshot!(
        "domain_cloud",
        yaml::to_canonical(&d.value).expect("renders")
    );
}

#[test]
fn bad_yaml_corpus_gives_positioned_messages() {
    let mut report = String::new();
    for case in [
        "syntax",
        "wrong-type",
        "missing-field",
        "duplicate-key",
        "alias-bomb",
        "deep-nesting",
        "non-utf8",
        "empty",
    ] {
        let (name, bytes) = fixture(&format!("bad/{case}.yaml"));
        let err = load_metadata(&name, &bytes).expect_err(case);
        assert!(err.pos.is_some(), "{case}: {err}");
        report.push_str(&format!("{err}\n"));
    }
    // An unknown key loads, is reported with its position and a suggestion.
    let (name, bytes) = fixture("bad/unknown-field.yaml");
    let m = load_metadata(&name, &bytes).expect("loads");
    let uk = &m.unknown[0];
    report.push_str(&format!(
        "{name}:{}: unknown key `{}`, did you mean `{}`?\n",
        uk.pos,
        uk.key,
        uk.suggestion().unwrap_or("-")
    ));
    insta::assert_snapshot!(report);
}
