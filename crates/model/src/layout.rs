//! The tree: where every file lives, and what any path of the tree is.
//!
//! ```text
//! berth.toml
//! components/<group…>/ownership.yaml
//! components/<component>/versions/<version>/metadata.yaml
//! components/<component>/versions/<version>/<format>/manifest.yaml (+ artifacts)
//! index/components.yaml
//! index/domain-<domain>[-<env>].yaml
//! index/audit/<domain>/<env>/<record>.yaml
//! ```

use camino::{Utf8Path, Utf8PathBuf};

use crate::config::Config;
use crate::ids::{ComponentPath, DomainName, EnvName, Format, Version};

/// `berth.toml`.
pub const CONFIG_FILE: &str = "berth.toml";
/// The directory that holds components.
pub const COMPONENTS_DIR: &str = "components";
/// The directory of generated indexes and domain files.
pub const INDEX_DIR: &str = "index";
/// The audit trail.
pub const AUDIT_DIR: &str = "index/audit";
/// berth's private state inside a repository (the writer lock); never committed.
pub const STATE_DIR: &str = ".berth";
/// Per-version metadata file name.
pub const METADATA_FILE: &str = "metadata.yaml";
/// Per-format manifest file name.
pub const MANIFEST_FILE: &str = "manifest.yaml";
/// Per-group ownership file name.
pub const OWNERSHIP_FILE: &str = "ownership.yaml";
/// The directory below a component that holds its versions.
pub const VERSIONS_DIR: &str = "versions";

/// Paths of the tree, relative to the repository root, and the formats it knows.
#[derive(Debug, Clone)]
pub struct Layout {
    formats: Vec<String>,
}

impl Default for Layout {
    fn default() -> Self {
        Layout {
            formats: Format::BUILTIN.iter().map(|s| (*s).to_owned()).collect(),
        }
    }
}

/// What a path of the tree is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PathKind {
    /// `berth.toml`.
    Config,
    /// A directory on the way to components (`components/cloud/dmp`).
    GroupDir(String),
    /// `ownership.yaml` of a group.
    Ownership(String),
    /// A component's directory.
    ComponentDir(ComponentPath),
    /// Its `versions/` directory.
    VersionsDir(ComponentPath),
    /// A version directory.
    VersionDir(ComponentPath, Version),
    /// A version's `metadata.yaml`.
    Metadata(ComponentPath, Version),
    /// A format directory.
    FormatDir(ComponentPath, Version, Format),
    /// A format's `manifest.yaml`.
    Manifest(ComponentPath, Version, Format),
    /// Any other file inside a format directory (path relative to it).
    Artifact(ComponentPath, Version, Format, Utf8PathBuf),
    /// The `index/` directory.
    IndexDir,
    /// `index/components.yaml`.
    ComponentsIndex,
    /// `index/domain-<stem>.yaml`; resolve the stem with [`Layout::resolve_domain_stem`].
    DomainFile(String),
    /// Inside `index/audit/`.
    Audit(Utf8PathBuf),
    /// berth's own state (`.berth/`), or a dot-file such as `.gitignore`.
    Private,
    /// Something that does not belong there, and why.
    Unexpected(String),
}

impl Layout {
    /// A layout that knows the built-in formats plus the config's `extra_formats`.
    pub fn new(config: &Config) -> Self {
        let mut l = Layout::default();
        l.formats
            .extend(config.repository.extra_formats.iter().cloned());
        l
    }

    /// Registers another format directory name (embedding code).
    pub fn register_format(&mut self, name: &str) {
        if !self.formats.iter().any(|f| f == name) {
            self.formats.push(name.to_owned());
        }
    }

    /// The format names this layout knows.
    pub fn formats(&self) -> &[String] {
        &self.formats
    }

    /// True for a known format name.
    pub fn knows_format(&self, name: &str) -> bool {
        self.formats.iter().any(|f| f == name)
    }

    /// `components/<component>`.
    pub fn component_dir(c: &ComponentPath) -> Utf8PathBuf {
        Utf8Path::new(COMPONENTS_DIR).join(c.as_str())
    }
    /// `components/<component>/versions`.
    pub fn versions_dir(c: &ComponentPath) -> Utf8PathBuf {
        Self::component_dir(c).join(VERSIONS_DIR)
    }
    /// `components/<component>/versions/<version>`.
    pub fn version_dir(c: &ComponentPath, v: &Version) -> Utf8PathBuf {
        Self::versions_dir(c).join(v.to_string())
    }
    /// `…/versions/<version>/metadata.yaml`.
    pub fn metadata_path(c: &ComponentPath, v: &Version) -> Utf8PathBuf {
        Self::version_dir(c, v).join(METADATA_FILE)
    }
    /// `…/versions/<version>/<format>`.
    pub fn format_dir(c: &ComponentPath, v: &Version, f: &Format) -> Utf8PathBuf {
        Self::version_dir(c, v).join(f.as_str())
    }
    /// `…/versions/<version>/<format>/manifest.yaml`.
    pub fn manifest_path(c: &ComponentPath, v: &Version, f: &Format) -> Utf8PathBuf {
        Self::format_dir(c, v, f).join(MANIFEST_FILE)
    }
    /// `components/<group>/ownership.yaml`.
    pub fn ownership_path(group: &str) -> Utf8PathBuf {
        Utf8Path::new(COMPONENTS_DIR)
            .join(group)
            .join(OWNERSHIP_FILE)
    }
    /// `index/components.yaml`.
    pub fn components_index() -> Utf8PathBuf {
        Utf8Path::new(INDEX_DIR).join("components.yaml")
    }
    /// `index/domain-<domain>.yaml` for production (`env` = `None` or the last rung),
    /// `index/domain-<domain>-<env>.yaml` for an earlier rung.
    pub fn domain_file(config: &Config, d: &DomainName, env: Option<&EnvName>) -> Utf8PathBuf {
        let production = config.domain(d).and_then(|dc| dc.production());
        let name = match env {
            Some(e) if Some(e) != production => format!("domain-{d}-{e}.yaml"),
            _ => format!("domain-{d}.yaml"),
        };
        Utf8Path::new(INDEX_DIR).join(name)
    }
    /// `index/audit/<domain>/<env>`.
    pub fn audit_dir(d: &DomainName, env: &EnvName) -> Utf8PathBuf {
        Utf8Path::new(AUDIT_DIR).join(d.as_str()).join(env.as_str())
    }

    /// Which domain and environment a domain-file stem (`cloud-staging`) names; the
    /// production file (`cloud`) gives the last rung.
    pub fn resolve_domain_stem(config: &Config, stem: &str) -> Option<(DomainName, EnvName)> {
        for (d, dc) in &config.domains {
            if stem == d.as_str() {
                return dc.production().map(|p| (d.clone(), p.clone()));
            }
            if let Some(env) = stem
                .strip_prefix(d.as_str())
                .and_then(|r| r.strip_prefix('-'))
                && let Some(e) = dc.ladder.iter().find(|e| e.as_str() == env)
                && Some(e) != dc.production()
            {
                return Some((d.clone(), e.clone()));
            }
        }
        None
    }

    /// Classifies a path relative to the repository root.
    pub fn classify(&self, rel: &Utf8Path, is_dir: bool) -> PathKind {
        let parts: Vec<&str> = rel.as_str().split('/').filter(|s| !s.is_empty()).collect();
        if parts
            .last()
            .is_some_and(|n| n.starts_with(crate::store::TEMP_PREFIX))
        {
            return PathKind::Unexpected(
                "a temporary file left by an older berth writer that was killed; delete it".into(),
            );
        }
        match parts.as_slice() {
            [] => PathKind::Unexpected("the repository root itself".into()),
            [CONFIG_FILE] if !is_dir => PathKind::Config,
            [first, ..] if first.starts_with('.') => PathKind::Private,
            [INDEX_DIR] => PathKind::IndexDir,
            [INDEX_DIR, "components.yaml"] if !is_dir => PathKind::ComponentsIndex,
            [INDEX_DIR, "audit", rest @ ..] => PathKind::Audit(rest.join("/").into()),
            [INDEX_DIR, name] if !is_dir => match name
                .strip_prefix("domain-")
                .and_then(|n| n.strip_suffix(".yaml"))
            {
                Some(stem) if !stem.is_empty() => PathKind::DomainFile(stem.to_owned()),
                _ => PathKind::Unexpected(format!(
                    "`index/` holds components.yaml, domain-<domain>[-<env>].yaml and audit/; `{name}` is none of them"
                )),
            },
            [COMPONENTS_DIR, rest @ ..] => self.classify_component_part(rest, is_dir),
            _ => PathKind::Unexpected(format!(
                "a repository holds berth.toml, components/ and index/; `{}` is outside them",
                parts[0]
            )),
        }
    }

    fn classify_component_part(&self, rest: &[&str], is_dir: bool) -> PathKind {
        let Some(vi) = rest.iter().position(|s| *s == VERSIONS_DIR) else {
            // A group directory, or a file in one.
            return match rest {
                [] => PathKind::GroupDir(String::new()),
                [.., OWNERSHIP_FILE] if !is_dir => {
                    PathKind::Ownership(rest[..rest.len() - 1].join("/"))
                }
                _ if is_dir => {
                    let joined = rest.join("/");
                    if rest.iter().all(|s| is_name(s)) {
                        PathKind::GroupDir(joined)
                    } else {
                        PathKind::Unexpected(format!(
                            "`{joined}` is not a valid group or component name: lowercase a-z, 0-9, `.`, `_`, `-`"
                        ))
                    }
                }
                _ => PathKind::Unexpected(format!(
                    "files in group directories: only ownership.yaml belongs there, not `{}`",
                    rest.last().copied().unwrap_or_default()
                )),
            };
        };
        let comp_str = rest[..vi].join("/");
        let comp = match ComponentPath::parse(&comp_str) {
            Ok(c) => c,
            Err(e) => return PathKind::Unexpected(e.to_string()),
        };
        let after = &rest[vi + 1..];
        let Some(vname) = after.first() else {
            return if is_dir {
                PathKind::VersionsDir(comp)
            } else {
                PathKind::Unexpected("`versions` must be a directory".into())
            };
        };
        let version = match Version::parse(vname) {
            Ok(v) => v,
            Err(e) => return PathKind::Unexpected(e.to_string()),
        };
        match &after[1..] {
            [] if is_dir => PathKind::VersionDir(comp, version),
            [METADATA_FILE] if !is_dir => PathKind::Metadata(comp, version),
            [fmt, tail @ ..] if self.knows_format(fmt) => {
                let format = match Format::parse(fmt) {
                    Ok(f) => f,
                    Err(e) => return PathKind::Unexpected(e.to_string()),
                };
                match tail {
                    [] if is_dir => PathKind::FormatDir(comp, version, format),
                    [MANIFEST_FILE] if !is_dir => PathKind::Manifest(comp, version, format),
                    [] => PathKind::Unexpected(format!("`{fmt}` must be a directory")),
                    _ => PathKind::Artifact(comp, version, format, tail.join("/").into()),
                }
            }
            [other, ..] if is_dir && after.len() == 2 => PathKind::Unexpected(format!(
                "unknown format directory `{other}`; known: {}",
                self.formats.join(", ")
            )),
            [other, ..] => PathKind::Unexpected(format!(
                "a version directory holds metadata.yaml and format directories ({}), not `{other}`",
                self.formats.join(", ")
            )),
            [] => PathKind::Unexpected("a version must be a directory".into()),
        }
    }
}

/// The message of `layout/symlink-escape`: what the validator reports for a symbolic link
/// in the tree, and what every command says when it refuses a path through one.
pub fn symlink_message(rel: &Utf8Path, target: Option<&str>) -> String {
    let to = target.map(|t| format!(" to `{t}`")).unwrap_or_default();
    format!(
        "`{rel}` is a symbolic link{to}: berth never follows symbolic links inside a repository \
         (they could lead outside it); replace the link with the file or directory itself"
    )
}

fn is_name(s: &str) -> bool {
    DomainName::parse(s).is_ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn c(s: &str) -> ComponentPath {
        ComponentPath::parse(s).expect("valid")
    }
    fn v(s: &str) -> Version {
        Version::parse(s).expect("valid")
    }

    #[test]
    fn paths_and_back() {
        let l = Layout::default();
        let comp = c("cloud/dmp/ms-ingestion");
        let ver = v("1.0.2");
        let fmt = Format::docker();
        assert_eq!(
            l.classify(&Layout::manifest_path(&comp, &ver, &fmt), false),
            PathKind::Manifest(comp.clone(), ver.clone(), fmt.clone())
        );
        assert_eq!(
            l.classify(&Layout::metadata_path(&comp, &ver), false),
            PathKind::Metadata(comp.clone(), ver.clone())
        );
        assert_eq!(
            l.classify(
                &Layout::format_dir(&comp, &ver, &fmt).join("image.tar"),
                false
            ),
            PathKind::Artifact(comp.clone(), ver.clone(), fmt, "image.tar".into())
        );
        assert_eq!(
            l.classify(Utf8Path::new("components/cloud/dmp/ownership.yaml"), false),
            PathKind::Ownership("cloud/dmp".into())
        );
        assert_eq!(
            l.classify(Utf8Path::new("index/domain-cloud-staging.yaml"), false),
            PathKind::DomainFile("cloud-staging".into())
        );
        assert!(matches!(
            l.classify(Utf8Path::new("components/cloud/dmp/ms-ingestion/versions/1.0.2/rpm"), true),
            PathKind::Unexpected(m) if m.contains("unknown format")
        ));
        assert!(matches!(
            l.classify(
                Utf8Path::new("components/cloud/dmp/ms-ingestion/versions/v1/metadata.yaml"),
                false
            ),
            PathKind::Unexpected(_)
        ));
    }
}
