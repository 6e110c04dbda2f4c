use std::collections::BTreeMap;

use berth_model::{DebFields, Format};

use crate::declare_rule;
use crate::diagnostic::{Diagnostic, Span};
use crate::rule::{Rule, RuleInfo, Sink, VersionCx};

declare_rule! {
    /// ## What it checks
    /// With `--verify-artifacts`: every field `berth add` derived from the artifact still
    /// says what the artifact says. docker: `platforms`, `labels` and `base_image` (when
    /// the image names its base; a base given with `--base-image` for an image that names
    /// none is the user's word); deb: `package`, `version`, `architecture`, `depends` and
    /// `installed_size` of the first package. The digests are `manifest/digest-mismatch`'s,
    /// the build time `manifest/built-at-mismatch`'s.
    ///
    /// ## Why it matters
    /// Policy rules read these fields: a manifest whose `base_image` and label were edited
    /// to hide a disallowed base passes `manifest/base-image-not-allowed` unless the
    /// fields are checked against the image itself.
    ///
    /// ## Example
    /// ```yaml
    /// base_image: debian:12          # the image's own label says alpine:3.19
    /// labels:
    ///   org.opencontainers.image.base.name: debian:12
    /// ```
    ///
    /// ## How to fix
    /// Manifests are generated, never typed: restore manifest.yaml from version control,
    /// or publish the artifact again as a new version with `berth add`.
    pub struct ManifestFieldMismatch => berth_model::Code::ManifestFieldMismatch, Error;
}

const HELP: &str = "manifests are generated from the artifact: restore manifest.yaml from version control (`git checkout -- FILE`), or publish a new version with `berth add`";

impl Rule for ManifestFieldMismatch {
    fn info(&self) -> &'static RuleInfo {
        &Self::INFO
    }

    fn check_version(&self, v: &VersionCx<'_>, sink: &mut Sink<'_>) {
        for f in &v.entry.formats {
            let (Some((path, m)), Some(facts)) = (f.manifest(), &f.facts) else {
                continue;
            };
            let mut report = |field: &str, key: &[&str], recorded: String, actual: String| {
                sink.report(
                    Diagnostic::new(
                        path,
                        format!("{field} says {recorded}, but the artifact says {actual}"),
                    )
                    .at(Span::value(&m.root, key))
                    .help(HELP),
                );
            };
            if f.format.as_str() == Format::DOCKER {
                let Some(Ok(img)) = &facts.image else {
                    continue;
                };
                if m.value.platforms != img.platforms {
                    report(
                        "platforms",
                        &["platforms"],
                        list(&m.value.platforms),
                        list(&img.platforms),
                    );
                }
                for (k, recorded, actual) in differences(&m.value.labels, &img.labels) {
                    report(&format!("label `{k}`"), &["labels", &k], recorded, actual);
                }
                if let Some(actual) = &img.base_image
                    && m.value.base_image.as_ref() != Some(actual)
                {
                    report(
                        "base_image",
                        &["base_image"],
                        shown(m.value.base_image.as_deref()),
                        actual.clone(),
                    );
                }
            } else if f.format.as_str() == Format::DEB {
                let Some(first) = m.value.files.first() else {
                    continue;
                };
                let Some(Ok(deb)) = facts.debs.get(&first.path) else {
                    continue;
                };
                let Some(recorded) = &m.value.deb else {
                    report("deb", &["deb"], "nothing".into(), "control fields".into());
                    continue;
                };
                for (field, r, a) in deb_differences(recorded, &deb.fields) {
                    report(&format!("deb.{field}"), &["deb", field], r, a);
                }
            }
        }
    }
}

/// `[a, b]`.
fn list(v: &[String]) -> String {
    format!("[{}]", v.join(", "))
}

/// A value, or `nothing`.
fn shown(v: Option<&str>) -> String {
    v.map_or_else(|| "nothing".to_owned(), ToOwned::to_owned)
}

/// Every label that differs: (key, recorded, actual).
fn differences(
    recorded: &BTreeMap<String, String>,
    actual: &BTreeMap<String, String>,
) -> Vec<(String, String, String)> {
    let mut keys: Vec<&String> = recorded.keys().chain(actual.keys()).collect();
    keys.sort();
    keys.dedup();
    keys.into_iter()
        .filter(|k| recorded.get(*k) != actual.get(*k))
        .map(|k| {
            (
                k.clone(),
                shown(recorded.get(k).map(String::as_str)),
                shown(actual.get(k).map(String::as_str)),
            )
        })
        .collect()
}

/// Every control field that differs: (field, recorded, actual).
fn deb_differences(r: &DebFields, a: &DebFields) -> Vec<(&'static str, String, String)> {
    let num = |v: Option<u64>| v.map_or_else(|| "nothing".to_owned(), |n| n.to_string());
    [
        ("package", r.package.clone(), a.package.clone()),
        ("version", r.version.clone(), a.version.clone()),
        (
            "architecture",
            r.architecture.clone(),
            a.architecture.clone(),
        ),
        (
            "depends",
            shown(r.depends.as_deref()),
            shown(a.depends.as_deref()),
        ),
        (
            "installed_size",
            num(r.installed_size),
            num(a.installed_size),
        ),
    ]
    .into_iter()
    .filter(|(_, x, y)| x != y)
    .collect()
}
