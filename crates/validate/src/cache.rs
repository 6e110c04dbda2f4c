//! The per-version cache: `.berth/cache/validate.bin` (`validate-verify.bin` for
//! `--verify-artifacts` runs), berth's private state, never committed.
//!
//! For every version it keeps the findings of its path, file and version rules and its
//! [`VersionSummary`], under the version's *paths*: the version directory and every path
//! below it, each with what `lstat` said (kind, size, mtime, ctime, inode, device). A run
//! probes those paths again (one `lstat` each, no directory read) and, when every answer
//! is the same, takes the findings from here instead of reading the files. A file written,
//! replaced or removed changes its own answer; a path added changes its directory's
//! mtime. The whole cache is keyed by what else the findings depend on: berth's version,
//! `berth.toml`, the rules and their severities, and every `ownership.yaml`: a change to
//! any of them starts afresh. Findings that depend on the clock (`manifest/future-build`)
//! are never cached, nor is a version with a path changed within the last second (git's
//! "racily clean" rule: a coarse clock could hide a second write).
//!
//! A cache that cannot be read is empty; one that cannot be written is not an error.

use std::collections::HashMap;

use berth_model::store::Meta;
use berth_model::{ComponentPath, DomainName, EnvName, Layout, Repository, Severity, Version};
use camino::{Utf8Path, Utf8PathBuf};
use serde::{Deserialize, Serialize};
use sha2::{Digest as _, Sha256};

use crate::diagnostic::{Diagnostic, Span};
use crate::registry::Registry;
use crate::view::{DepRef, MetaSummary, PathEntry, VersionSummary};

const FORMAT: u32 = 2;
/// The largest cache file read back.
const LIMIT: u64 = 1 << 30;

/// What the whole cache is keyed by: SHA-256 bytes.
type Stamp = [u8; 32];

/// What `lstat` said of one path, condensed: the first 16 bytes of the SHA-256 of its
/// kind, size, mtime, ctime, inode and device. Two answers that differ in any of them
/// differ here (but for a 2⁻¹²⁸ chance).
type Probe = [u8; 16];

fn probe_of(m: &Meta) -> Probe {
    let mut h = Sha256::new();
    h.update([m.kind as u8]);
    h.update(m.size.to_le_bytes());
    h.update(m.mtime_ns.to_le_bytes());
    h.update(m.ctime_ns.to_le_bytes());
    h.update(m.ino.to_le_bytes());
    h.update(m.dev.to_le_bytes());
    let full: [u8; 32] = h.finalize().into();
    let mut out = [0; 16];
    out.copy_from_slice(&full[..16]);
    out
}

/// A finding, its file relative to the version directory when it is below it.
#[derive(Debug, Clone, Serialize, Deserialize)]
struct CachedDiag {
    rule: String,
    severity: Severity,
    file: String,
    in_version: bool,
    span: Option<Span>,
    message: String,
    help: Option<String>,
}

/// A [`MetaSummary`] without what the version's place gives: the file's name (relative to
/// the version directory) and each dependency as written (parsed again when read back).
#[derive(Debug, Clone, Serialize, Deserialize)]
struct CachedMeta {
    file: String,
    domains: Vec<DomainName>,
    environments: Vec<EnvName>,
    deps: Vec<(String, Span)>,
}

/// One version.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub(crate) struct Entry {
    version: String,
    /// The version directory.
    dir: Probe,
    /// Every path below it (relative to it).
    paths: Vec<(String, Probe)>,
    /// How many YAML files the version has (for the run's statistics).
    yaml_files: u32,
    metadata: Option<CachedMeta>,
    diags: Vec<CachedDiag>,
}

/// The versions of one component.
#[derive(Debug, Serialize, Deserialize)]
struct Component {
    path: String,
    versions: Vec<Entry>,
}

#[derive(Debug, Serialize, Deserialize)]
struct File {
    format: u32,
    key: Stamp,
    components: Vec<Component>,
}

/// What a run keeps of one version for the next run.
#[derive(Debug)]
pub(crate) enum Slot<'c> {
    /// Unchanged: the entry read.
    Kept(&'c Entry),
    /// Checked afresh, and cacheable.
    New(Box<Entry>),
    /// Not cacheable (racy, clock-dependent, or no cache).
    Skip,
}

/// The cache of one run, as read.
#[derive(Debug)]
pub(crate) struct VersionCache<'g> {
    file: Option<Utf8PathBuf>,
    key: Stamp,
    registry: Option<&'g Registry>,
    old: HashMap<String, Vec<Entry>>,
    old_count: usize,
}

impl<'g> VersionCache<'g> {
    /// No cache.
    pub(crate) fn disabled() -> Self {
        VersionCache {
            file: None,
            key: [0; 32],
            registry: None,
            old: HashMap::new(),
            old_count: 0,
        }
    }

    /// The cache of `repo` for these rules (`verified`: the `--verify-artifacts` cache),
    /// valid for owners in `owners` (the outline's ownership files).
    pub(crate) fn open(
        repo: &Repository,
        registry: &'g Registry,
        verified: bool,
        owners: &[&PathEntry],
    ) -> Self {
        let file = cache_file(verified).to_owned();
        // An owner changed this very moment cannot be told from its next change.
        if owners.iter().filter_map(|o| o.meta.as_ref()).any(recent) {
            return Self::disabled();
        }
        let key = global_key(repo, registry, verified, owners);
        let components = repo
            .store()
            .read(&file, LIMIT)
            .ok()
            .and_then(|b| postcard::from_bytes::<File>(&b).ok())
            .filter(|f| f.format == FORMAT && f.key == key)
            .map(|f| f.components)
            .unwrap_or_default();
        let old_count = components.iter().map(|c| c.versions.len()).sum();
        VersionCache {
            file: Some(file),
            key,
            registry: Some(registry),
            old: components
                .into_iter()
                .map(|c| (c.path, c.versions))
                .collect(),
            old_count,
        }
    }

    /// The entry, summary, findings and YAML file count of `c` `v` when none of its
    /// paths changed: `dir` is what the outline's `lstat` said of its directory, and every
    /// path below it is probed again.
    pub(crate) fn get(
        &self,
        repo: &Repository,
        c: &ComponentPath,
        v: &Version,
        dir: &Meta,
    ) -> Option<(&Entry, VersionSummary, Vec<Diagnostic>, usize)> {
        let registry = self.registry?;
        let version = v.to_string();
        let e = self
            .old
            .get(c.as_str())?
            .iter()
            .find(|e| e.version == version)?;
        if e.dir != probe_of(dir) {
            return None;
        }
        let dir_rel = Layout::version_dir(c, v);
        let store = repo.store();
        for (p, probe) in &e.paths {
            if store.probe(&dir_rel.join(p)).as_ref().map(probe_of) != Some(*probe) {
                return None;
            }
        }
        let mut diags = Vec::with_capacity(e.diags.len());
        for d in &e.diags {
            // The rule ids come back as the registry's own `&'static str`.
            let rule = registry.get(&d.rule)?.info().id;
            diags.push(Diagnostic {
                rule,
                severity: d.severity,
                file: if d.in_version {
                    dir_rel.join(&d.file)
                } else {
                    Utf8PathBuf::from(&d.file)
                },
                span: d.span,
                message: d.message.clone(),
                help: d.help.clone(),
            });
        }
        let metadata = e.metadata.as_ref().map(|m| MetaSummary {
            path: dir_rel.join(&m.file),
            domains: m.domains.clone(),
            environments: m.environments.clone(),
            deps: m
                .deps
                .iter()
                .enumerate()
                .map(|(index, (text, span))| DepRef {
                    index,
                    text: text.clone(),
                    dep: text.parse().ok(),
                    span: *span,
                })
                .collect(),
        });
        let summary = VersionSummary {
            component: c.clone(),
            version: v.clone(),
            metadata,
        };
        Some((e, summary, diags, e.yaml_files as usize))
    }

    /// What to keep of `c` `v`, checked afresh: `dir` is what `lstat` said of its directory
    /// and `paths` the paths below it as walked. Nothing when the cache is off, a path
    /// changed too recently to trust, or a finding depends on the clock.
    #[allow(clippy::too_many_arguments)]
    pub(crate) fn entry(
        &self,
        c: &ComponentPath,
        v: &Version,
        dir: &Meta,
        paths: &[PathEntry],
        yaml_files: usize,
        summary: &VersionSummary,
        diags: &[Diagnostic],
    ) -> Option<Entry> {
        if self.file.is_none()
            || recent(dir)
            || diags
                .iter()
                .any(|d| d.rule == berth_model::Code::ManifestFutureBuild.id())
        {
            return None;
        }
        let dir_rel = Layout::version_dir(c, v);
        let mut probed = Vec::with_capacity(paths.len());
        for p in paths {
            // A path the walk could not stat, or changed this very second: not cached.
            let (Some(m), Ok(rel)) = (&p.meta, p.path.strip_prefix(&dir_rel)) else {
                return None;
            };
            if recent(m) {
                return None;
            }
            probed.push((rel.as_str().to_owned(), probe_of(m)));
        }
        let metadata = match &summary.metadata {
            Some(m) => {
                let file = m.path.strip_prefix(&dir_rel).ok()?;
                Some(CachedMeta {
                    file: file.as_str().to_owned(),
                    domains: m.domains.clone(),
                    environments: m.environments.clone(),
                    deps: m.deps.iter().map(|d| (d.text.clone(), d.span)).collect(),
                })
            }
            None => None,
        };
        Some(Entry {
            version: v.to_string(),
            dir: probe_of(dir),
            paths: probed,
            yaml_files: u32::try_from(yaml_files).unwrap_or(u32::MAX),
            metadata,
            diags: diags
                .iter()
                .map(|d| {
                    let (file, in_version) = match d.file.strip_prefix(&dir_rel) {
                        Ok(rel) => (rel.as_str().to_owned(), true),
                        Err(_) => (d.file.as_str().to_owned(), false),
                    };
                    CachedDiag {
                        rule: d.rule.to_owned(),
                        severity: d.severity,
                        file,
                        in_version,
                        span: d.span,
                        message: d.message.clone(),
                        help: d.help.clone(),
                    }
                })
                .collect(),
        })
    }

    /// Writes the cache back when this run changed it: one slot per version of the run,
    /// in the outline's order (versions that are gone drop out). Best effort.
    pub(crate) fn save(&self, repo: &Repository, slots: Vec<(&ComponentPath, Slot<'_>)>) {
        let Some(file) = &self.file else { return };
        let kept = slots
            .iter()
            .filter(|(_, s)| matches!(s, Slot::Kept(_)))
            .count();
        if kept == slots.len() && kept == self.old_count {
            return;
        }
        // Written from references, in the layout of `File`.
        #[derive(Serialize)]
        struct ComponentOut<'a> {
            path: &'a str,
            versions: Vec<&'a Entry>,
        }
        #[derive(Serialize)]
        struct FileOut<'a> {
            format: u32,
            key: Stamp,
            components: Vec<ComponentOut<'a>>,
        }
        let mut components: Vec<ComponentOut<'_>> = Vec::new();
        for (c, slot) in &slots {
            let entry: &Entry = match slot {
                Slot::Kept(e) => e,
                Slot::New(e) => e,
                Slot::Skip => continue,
            };
            match components.last_mut() {
                Some(last) if last.path == c.as_str() => last.versions.push(entry),
                _ => components.push(ComponentOut {
                    path: c.as_str(),
                    versions: vec![entry],
                }),
            }
        }
        let data = FileOut {
            format: FORMAT,
            key: self.key,
            components,
        };
        if let Ok(bytes) = postcard::to_allocvec(&data) {
            let _ = repo.store().write_private(file, &bytes);
        }
    }
}

/// What every cached finding depends on besides the version's own files.
fn global_key(
    repo: &Repository,
    registry: &Registry,
    verified: bool,
    owners: &[&PathEntry],
) -> Stamp {
    let mut h = Sha256::new();
    h.update(FORMAT.to_le_bytes());
    h.update(env!("CARGO_PKG_VERSION").as_bytes());
    h.update(serde_json::to_vec(repo.config()).unwrap_or_default());
    for f in repo.layout().formats() {
        h.update(f.as_bytes());
        h.update([0]);
    }
    for r in registry.rules() {
        h.update(r.info().id.as_bytes());
        h.update([Registry::severity(r, repo.config()) as u8, 0]);
    }
    h.update([u8::from(verified)]);
    for o in owners {
        h.update(o.path.as_str().as_bytes());
        if let Some(m) = &o.meta {
            h.update(m.change_key().as_bytes());
        }
    }
    h.finalize().into()
}

/// How recent a change must be for its stamp not to be trusted: a filesystem's clock
/// ticks coarsely (milliseconds), so a file written twice within one tick can keep its
/// mtime and size. A version with a path changed this recently is checked but not cached
/// (git's "racily clean" rule).
const RACY_NS: i128 = 1_000_000_000;

/// True when `m` says its path changed within the last [`RACY_NS`].
fn recent(m: &Meta) -> bool {
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_nanos() as i128);
    i128::from(m.mtime_ns.max(m.ctime_ns)) >= now - RACY_NS
}

/// The cache file of `repo` (for tests that look at it).
pub fn cache_file(verified: bool) -> &'static Utf8Path {
    Utf8Path::new(if verified {
        ".berth/cache/validate-verify.bin"
    } else {
        ".berth/cache/validate.bin"
    })
}

/// The components waiting on a dependency name: those with a version whose dependency of
/// that name did not resolve, or resolved ambiguously, when the repository was last
/// validated as a whole. When a component of that name gains a version, their verdicts may
/// change ([`berth_model::Verdict::affected_by`]). `.berth/cache/waiting.bin`.
#[derive(Debug, Default, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) struct Waiting {
    format: u32,
    /// Dependency name as written (a full path or a last segment) → dependent components.
    by_name: std::collections::BTreeMap<String, std::collections::BTreeSet<String>>,
}

const WAITING: &str = ".berth/cache/waiting.bin";

impl Waiting {
    /// The waiting map of the dependency problems of a whole run.
    pub(crate) fn of(problems: &[berth_index::DepProblem]) -> Self {
        let mut w = Waiting {
            format: FORMAT,
            ..Waiting::default()
        };
        for p in problems {
            w.note(p);
        }
        w
    }

    /// Records one problem (unresolved and ambiguous ones matter).
    pub(crate) fn note(&mut self, p: &berth_index::DepProblem) {
        use berth_index::DepProblem;
        if !matches!(
            p,
            DepProblem::Unresolved { .. } | DepProblem::Ambiguous { .. }
        ) {
            return;
        }
        if let Ok(d) = p.dependency().parse::<berth_model::Dependency>() {
            self.by_name
                .entry(d.name)
                .or_default()
                .insert(p.component().to_string());
        }
    }

    /// The map written by the last whole run, when there is one.
    pub(crate) fn load(repo: &Repository) -> Option<Self> {
        let bytes = repo.store().read(Utf8Path::new(WAITING), LIMIT).ok()?;
        postcard::from_bytes::<Waiting>(&bytes)
            .ok()
            .filter(|w| w.format == FORMAT)
    }

    /// Writes the map (best effort).
    pub(crate) fn save(&self, repo: &Repository) {
        if let Ok(bytes) = postcard::to_allocvec(self) {
            let _ = repo.store().write_private(Utf8Path::new(WAITING), &bytes);
        }
    }

    /// Adds the entries of `other`.
    pub(crate) fn merge(&mut self, other: &Waiting) {
        for (k, v) in &other.by_name {
            self.by_name
                .entry(k.clone())
                .or_default()
                .extend(v.iter().cloned());
        }
    }

    /// The components waiting on `c`, by its full path or its last segment.
    pub(crate) fn on(&self, c: &ComponentPath) -> Vec<ComponentPath> {
        let mut out: std::collections::BTreeSet<String> = std::collections::BTreeSet::new();
        for key in [c.as_str(), c.name()] {
            if let Some(v) = self.by_name.get(key) {
                out.extend(v.iter().cloned());
            }
        }
        out.iter()
            .filter_map(|s| ComponentPath::parse(s).ok())
            .collect()
    }
}
