//! Checks of a `metadata.yaml` against its path and `berth.toml`: pure functions over the
//! typed files, shared by `berth add` (which refuses) and `berth-validate`'s rules (which
//! report). Each problem names the rule id it belongs to and the field it is about, so the
//! caller can point at `file:line:column` through the loaded file's [`crate::Node`].

use crate::codes::Code;
use crate::config::Config;
use crate::files::{ArchField, Metadata};
use crate::ids::{Arch, ComponentPath};

/// One problem found by a check.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Problem {
    /// The rule it belongs to.
    pub rule: Code,
    /// The path of the field in the file (`["domains", "1"]`), empty for the whole file.
    pub field: Vec<String>,
    /// What is wrong.
    pub message: String,
    /// How to fix it.
    pub help: String,
}

fn problem(rule: Code, field: &[&str], message: String, help: String) -> Problem {
    Problem {
        rule,
        field: field.iter().map(|s| (*s).to_owned()).collect(),
        message,
        help,
    }
}

/// `metadata/name-mismatch`: `group` must be the path segment above the service and
/// `service_name` the last segment.
pub fn name_mismatch(meta: &Metadata, component: &ComponentPath) -> Vec<Problem> {
    let mut out = Vec::new();
    if meta.service_name != component.name() {
        out.push(problem(
            Code::MetadataNameMismatch,
            &["service_name"],
            format!(
                "service_name `{}` does not match the component path `{component}`",
                meta.service_name
            ),
            format!(
                "set `service_name: {}`, or move the version to the right component",
                component.name()
            ),
        ));
    }
    if meta.group != component.group() {
        out.push(problem(
            Code::MetadataNameMismatch,
            &["group"],
            format!(
                "group `{}` does not match the component path `{component}`",
                meta.group
            ),
            format!("set `group: {}`", component.group()),
        ));
    }
    out
}

/// Invalid values kept by [`crate::Checked`] fields: `schema/invalid-value`.
pub fn invalid_values(meta: &Metadata) -> Vec<Problem> {
    let mut out = Vec::new();
    let mut push = |field: Vec<String>, error: &str| {
        out.push(Problem {
            rule: Code::SchemaInvalidValue,
            field,
            message: error.to_owned(),
            help: "correct the value".to_owned(),
        });
    };
    match &meta.architecture {
        ArchField::One(a) => {
            if let Some(e) = a.error() {
                push(vec!["architecture".into()], e);
            }
        }
        ArchField::Many(list) => {
            for (i, a) in list.iter().enumerate() {
                if let Some(e) = a.error() {
                    push(vec!["architecture".into(), i.to_string()], e);
                }
            }
        }
    }
    for (i, d) in meta.domains.iter().enumerate() {
        if let Some(e) = d.error() {
            push(vec!["domains".into(), i.to_string()], e);
        }
    }
    for (i, d) in meta.environments.iter().enumerate() {
        if let Some(e) = d.error() {
            push(vec!["environments".into(), i.to_string()], e);
        }
    }
    for (i, d) in meta.dependencies.iter().enumerate() {
        if let Some(e) = d.error() {
            push(vec!["dependencies".into(), i.to_string()], e);
        }
    }
    if let Some(e) = meta.port_exposed.as_ref().and_then(|p| p.error()) {
        push(vec!["port_exposed".into()], e);
    }
    if matches!(meta.architecture, ArchField::Many(_)) && meta.multi_arch != Some(true) {
        push(
            vec!["architecture".into()],
            "a list of architectures needs `multi_arch: true`",
        );
    }
    out
}

/// `schema/unknown-field`: keys of `metadata.yaml` that are neither known nor `x-…`.
pub fn unknown_keys(meta: &Metadata) -> Vec<Problem> {
    meta.unknown_keys()
        .map(|k| {
            problem(
                Code::SchemaUnknownField,
                &[k],
                format!("unknown key `{k}`"),
                crate::names::closest(k, Metadata::FIELDS.iter().copied())
                    .map(|s| format!("did you mean `{s}`? custom keys start with `x-`"))
                    .unwrap_or_else(|| "remove it, or prefix custom keys with `x-`".to_owned()),
            )
        })
        .collect()
}

/// `metadata/unknown-domain`, `metadata/unknown-environment`, `metadata/arch-not-allowed`:
/// the metadata against `berth.toml`.
pub fn against_config(meta: &Metadata, config: &Config) -> Vec<Problem> {
    let mut out = Vec::new();
    let known_domains: Vec<String> = config.domains.keys().map(ToString::to_string).collect();
    for (i, d) in meta.domains.iter().enumerate() {
        if let Some(d) = d.get()
            && config.domain(d).is_none()
        {
            out.push(problem(
                Code::MetadataUnknownDomain,
                &["domains", &i.to_string()],
                format!("domain `{d}` is not declared in berth.toml"),
                format!(
                    "use one of: {}; or declare it under [domains.{d}]",
                    known_domains.join(", ")
                ),
            ));
        }
    }
    for (i, e) in meta.environments.iter().enumerate() {
        if let Some(e) = e.get()
            && !config.knows_env(e)
        {
            let mut envs: Vec<String> = config
                .domains
                .values()
                .flat_map(|d| d.ladder.iter().map(ToString::to_string))
                .collect();
            envs.sort();
            envs.dedup();
            out.push(problem(
                Code::MetadataUnknownEnvironment,
                &["environments", &i.to_string()],
                format!("environment `{e}` is on no domain's ladder in berth.toml"),
                format!("use one of: {}", envs.join(", ")),
            ));
        }
    }
    let archs: Vec<(Vec<String>, &Arch)> = match &meta.architecture {
        ArchField::One(a) => a
            .get()
            .map(|a| (vec!["architecture".to_owned()], a))
            .into_iter()
            .collect(),
        ArchField::Many(list) => list
            .iter()
            .enumerate()
            .filter_map(|(i, a)| {
                a.get()
                    .map(|a| (vec!["architecture".to_owned(), i.to_string()], a))
            })
            .collect(),
    };
    for (field, a) in archs {
        if !config.allows_arch(a) {
            let allowed: Vec<String> = config
                .repository
                .architectures
                .iter()
                .map(ToString::to_string)
                .collect();
            out.push(Problem {
                rule: Code::MetadataArchNotAllowed,
                field,
                message: format!("architecture `{a}` is not allowed by berth.toml"),
                help: format!(
                    "use one of: {}, all; or add it to [repository] architectures",
                    allowed.join(", ")
                ),
            });
        }
    }
    out
}

/// `manifest/arch-mismatch`: do artifacts built for `artifact_archs` serve the metadata's
/// architectures, on architectures `berth.toml` allows?
///
/// - every architecture an artifact is built for must be allowed by the config (`all`, an
///   architecture-independent package, always is);
/// - metadata `all` (the version runs anywhere) needs artifacts that run anywhere: built
///   for `all`, or a multi-arch image covering every architecture the config allows;
/// - otherwise each listed architecture must be served by an artifact built for it or for
///   `all`.
pub fn arch_mismatch(
    meta: &Metadata,
    config: &Config,
    artifact_archs: &[Arch],
    what: &str,
) -> Vec<Problem> {
    let mut out = Vec::new();
    if artifact_archs.is_empty() {
        return out;
    }
    let have: Vec<String> = artifact_archs.iter().map(ToString::to_string).collect();
    let allowed: Vec<String> = config
        .repository
        .architectures
        .iter()
        .map(ToString::to_string)
        .collect();
    for a in artifact_archs.iter().filter(|a| !config.allows_arch(a)) {
        out.push(problem(
            Code::ManifestArchMismatch,
            &["architecture"],
            format!("the {what} is built for {a}, which berth.toml does not allow"),
            format!(
                "build it for one of: {}, all; or add `{a}` to [repository] architectures",
                allowed.join(", ")
            ),
        ));
    }
    let want = meta.architecture.archs();
    if want.is_empty() {
        return out;
    }
    let runs_anywhere = artifact_archs.iter().any(Arch::is_all)
        || config
            .repository
            .architectures
            .iter()
            .all(|c| artifact_archs.contains(c));
    let missing: Vec<String> = want
        .iter()
        .filter(|w| {
            if w.is_all() {
                !runs_anywhere
            } else {
                !artifact_archs.iter().any(|a| a.is_all() || a == **w)
            }
        })
        .map(ToString::to_string)
        .collect();
    if !missing.is_empty() {
        out.push(problem(
            Code::ManifestArchMismatch,
            &["architecture"],
            format!(
                "metadata.yaml says {} but the {what} is built for {}",
                missing.join(", "),
                have.join(", ")
            ),
            "build the artifact for the listed architectures, or correct `architecture` in metadata.yaml"
                .to_owned(),
        ));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::repo::load_metadata;
    use camino::Utf8Path;

    fn meta(text: &str) -> Metadata {
        load_metadata(Utf8Path::new("m.yaml"), text.as_bytes())
            .expect("loads")
            .value
    }

    #[test]
    fn names_and_config() {
        let m = meta(
            "architecture: s390x\ndomains: [\"cloud\", \"mars\"]\nenvironments: [\"prod\", \"qa\"]\ngroup: dmp\nservice_name: ms-x\nteam: t\n",
        );
        let c = ComponentPath::parse("cloud/dmp/ms-ingestion").expect("valid");
        let names = name_mismatch(&m, &c);
        assert_eq!(names.len(), 1);
        assert_eq!(names[0].field, ["service_name"]);
        let cfg = Config::parse(Utf8Path::new("berth.toml"), Config::template()).expect("valid");
        let rules: Vec<&str> = against_config(&m, &cfg)
            .iter()
            .map(|p| p.rule.id())
            .collect();
        assert_eq!(
            rules,
            [
                "metadata/unknown-domain",
                "metadata/unknown-environment",
                "metadata/arch-not-allowed"
            ]
        );
    }

    #[test]
    fn arch_fit() {
        let m = meta(
            "architecture: amd64\ndomains: []\nenvironments: []\ngroup: g\nservice_name: s\nteam: t\n",
        );
        let cfg = Config::parse(Utf8Path::new("berth.toml"), Config::template()).expect("valid");
        let a = |s: &str| Arch::parse(s).expect("valid");
        assert!(arch_mismatch(&m, &cfg, &[a("all")], "deb").is_empty());
        assert!(arch_mismatch(&m, &cfg, &[a("amd64"), a("arm64")], "image").is_empty());
        assert_eq!(arch_mismatch(&m, &cfg, &[a("arm64")], "image").len(), 1);
        // Metadata `all` runs anywhere: an s390x package does not, and s390x is not allowed.
        let all = meta(
            "architecture: all\ndomains: []\nenvironments: []\ngroup: g\nservice_name: s\nteam: t\n",
        );
        let p = arch_mismatch(&all, &cfg, &[a("s390x")], "package");
        assert_eq!(p.len(), 2, "{p:?}");
        assert!(p[0].message.contains("does not allow"), "{p:?}");
        assert!(p[1].message.contains("says all"), "{p:?}");
        assert!(arch_mismatch(&all, &cfg, &[a("all")], "package").is_empty());
        assert!(arch_mismatch(&all, &cfg, &[a("amd64"), a("arm64")], "image").is_empty());
        assert_eq!(arch_mismatch(&all, &cfg, &[a("amd64")], "package").len(), 1);
    }
}
