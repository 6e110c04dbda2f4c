//! The per-version cache: `.berth/cache/validate.bin` (`validate-verify.bin` for
//! `--verify-artifacts` runs), berth's private state, never committed.
//!
//! For every version it keeps the findings of its path, file and version rules and its
//! [`VersionSummary`], under a *stamp*: the SHA-256 of every path of the version directory
//! with its size, mtime, ctime, inode and device. A run that walks a version to the same
//! stamp takes its findings from here instead of reading its files; any write to any of
//! them (or a file added, removed, replaced) changes the stamp. The whole cache is keyed
//! by what else the findings depend on: berth's version, `berth.toml`, the rules and their
//! severities, and every `ownership.yaml` (size, mtime, inode): a change to any of them
//! starts afresh. Findings that depend on the clock (`manifest/future-build`) are never
//! cached.
//!
//! A cache that cannot be read is empty; one that cannot be written is not an error.

use std::collections::HashMap;
use std::sync::Mutex;

use berth_model::{ComponentPath, Repository, Severity, Version};
use camino::{Utf8Path, Utf8PathBuf};
use serde::{Deserialize, Serialize};
use sha2::{Digest as _, Sha256};

use crate::diagnostic::{Diagnostic, Span};
use crate::registry::Registry;
use crate::view::{Context, PathEntry, VersionSummary};

const FORMAT: u32 = 1;
/// The largest cache file read back.
const LIMIT: u64 = 1 << 30;

/// What the stamp of a version is: SHA-256 bytes.
pub(crate) type Stamp = [u8; 32];

#[derive(Debug, Clone, Serialize, Deserialize)]
struct CachedDiag {
    rule: String,
    severity: Severity,
    file: Utf8PathBuf,
    span: Option<Span>,
    message: String,
    help: Option<String>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
struct Entry {
    stamp: Stamp,
    summary: VersionSummary,
    diags: Vec<CachedDiag>,
}

#[derive(Debug, Serialize, Deserialize)]
struct File {
    format: u32,
    key: Stamp,
    entries: Vec<(String, Entry)>,
}

/// The cache of one run: what was read, and what this run adds.
#[derive(Debug)]
pub(crate) struct VersionCache<'g> {
    file: Option<Utf8PathBuf>,
    key: Stamp,
    registry: Option<&'g Registry>,
    old: HashMap<String, Entry>,
    hits: Mutex<Vec<String>>,
    new: Mutex<Vec<(String, Entry)>>,
}

fn name(c: &ComponentPath, v: &Version) -> String {
    format!("{c} {v}")
}

impl<'g> VersionCache<'g> {
    /// No cache.
    pub(crate) fn disabled() -> Self {
        VersionCache {
            file: None,
            key: [0; 32],
            registry: None,
            old: HashMap::new(),
            hits: Mutex::new(Vec::new()),
            new: Mutex::new(Vec::new()),
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
        let file = Utf8PathBuf::from(if verified {
            ".berth/cache/validate-verify.bin"
        } else {
            ".berth/cache/validate.bin"
        });
        // An owner changed this very moment cannot be told from its next change.
        if owners.iter().any(|o| racy(std::slice::from_ref(o))) {
            return Self::disabled();
        }
        let key = global_key(repo, registry, verified, owners);
        let old = repo
            .store()
            .read(&file, LIMIT)
            .ok()
            .and_then(|b| postcard::from_bytes::<File>(&b).ok())
            .filter(|f| f.format == FORMAT && f.key == key)
            .map(|f| f.entries.into_iter().collect())
            .unwrap_or_default();
        VersionCache {
            file: Some(file),
            key,
            registry: Some(registry),
            old,
            hits: Mutex::new(Vec::new()),
            new: Mutex::new(Vec::new()),
        }
    }

    /// The findings and summary of `c` `v` when its stamp is unchanged.
    pub(crate) fn get(
        &self,
        c: &ComponentPath,
        v: &Version,
        stamp: &Stamp,
    ) -> Option<(VersionSummary, Vec<Diagnostic>)> {
        let registry = self.registry?;
        let n = name(c, v);
        let e = self.old.get(&n).filter(|e| &e.stamp == stamp)?;
        let mut diags = Vec::with_capacity(e.diags.len());
        for d in &e.diags {
            // The rule ids come back as the registry's own `&'static str`.
            let rule = registry.get(&d.rule)?.info().id;
            diags.push(Diagnostic {
                rule,
                severity: d.severity,
                file: d.file.clone(),
                span: d.span,
                message: d.message.clone(),
                help: d.help.clone(),
            });
        }
        lock(&self.hits).push(n);
        Some((e.summary.clone(), diags))
    }

    /// Keeps the findings of `c` `v` for the next run (not those that depend on the clock).
    pub(crate) fn put(
        &self,
        c: &ComponentPath,
        v: &Version,
        stamp: Stamp,
        summary: &VersionSummary,
        diags: &[Diagnostic],
    ) {
        if self.file.is_none()
            || diags
                .iter()
                .any(|d| d.rule == berth_model::Code::ManifestFutureBuild.id())
        {
            return;
        }
        let entry = Entry {
            stamp,
            summary: summary.clone(),
            diags: diags
                .iter()
                .map(|d| CachedDiag {
                    rule: d.rule.to_owned(),
                    severity: d.severity,
                    file: d.file.clone(),
                    span: d.span,
                    message: d.message.clone(),
                    help: d.help.clone(),
                })
                .collect(),
        };
        lock(&self.new).push((name(c, v), entry));
    }

    /// Writes the cache back when this run changed it: the entries it used and the new ones
    /// (versions that are gone drop out). Best effort.
    pub(crate) fn save(self, repo: &Repository) {
        let Some(file) = self.file else { return };
        let hits = self.hits.into_inner().unwrap_or_else(|e| e.into_inner());
        let new = self.new.into_inner().unwrap_or_else(|e| e.into_inner());
        if new.is_empty() && hits.len() == self.old.len() {
            return;
        }
        let mut old = self.old;
        let mut entries: Vec<(String, Entry)> = hits
            .into_iter()
            .filter_map(|n| old.remove(&n).map(|e| (n, e)))
            .collect();
        entries.extend(new);
        entries.sort_by(|a, b| a.0.cmp(&b.0));
        let data = File {
            format: FORMAT,
            key: self.key,
            entries,
        };
        if let Ok(bytes) = postcard::to_allocvec(&data) {
            let _ = repo.store().write_private(&file, &bytes);
        }
    }
}

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
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

/// True when a path of the version changed too recently to trust its stamp.
pub(crate) fn racy<P: std::borrow::Borrow<PathEntry>>(paths: &[P]) -> bool {
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_nanos() as i128);
    paths
        .iter()
        .filter_map(|p| p.borrow().meta)
        .any(|m| m.mtime_ns.max(m.ctime_ns) >= now - RACY_NS)
}

/// The stamp of a version: every path below its directory, with what `stat` said of it.
pub(crate) fn stamp(_cx: &Context<'_>, c: &ComponentPath, paths: &[PathEntry]) -> Stamp {
    let mut h = Sha256::new();
    h.update(c.as_str().as_bytes());
    for p in paths {
        h.update(p.path.as_str().as_bytes());
        h.update([u8::from(p.is_dir), u8::from(p.is_symlink)]);
        match &p.meta {
            Some(m) => h.update(m.change_key().as_bytes()),
            None => h.update(b"-"),
        }
        h.update([0]);
    }
    h.finalize().into()
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
