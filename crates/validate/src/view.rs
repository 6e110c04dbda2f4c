//! What rules check, read through the store once:
//!
//! - a [`Context`]: the repository, `berth.toml`, the ownership files, "now";
//! - one [`VersionEntry`] per component version, with its files parsed (positions kept)
//!   and its artifacts' facts under `--verify-artifacts`: built, checked by the path, file
//!   and version rules, summarised, and dropped, so memory does not grow with the parse
//!   trees of every version;
//! - the [`RepoView`]: the paths outside versions, one [`VersionSummary`] per version, the
//!   index, the domain files and the audit trail, for component and repository rules.

use std::collections::{BTreeMap, HashMap};
use std::sync::OnceLock;

use berth_index::DepProblem;
use berth_model::audit::{self, RecordFile};
use berth_model::files::{
    AuditRecord, ComponentsIndex, Dependency, DomainIndex, Manifest, Metadata, Ownership,
};
use berth_model::layout::{self, Layout, PathKind};
use berth_model::store::{Entry, EntryKind, Meta, StoreError};
use berth_model::yaml::{Loaded, YamlError, YamlErrorKind};
use berth_model::{
    Checked, ComponentPath, Config, DomainName, EnvName, Format, Repository, Timestamp, Version,
};
use camino::{Utf8Path, Utf8PathBuf};
use rayon::prelude::*;
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};

use crate::artifacts::ArtifactFacts;
use crate::diagnostic::Span;

/// A YAML file of the repository and what loading it gave.
#[derive(Debug, Clone)]
pub struct YamlFile<T> {
    /// The file, relative to the repository root.
    pub path: Utf8PathBuf,
    /// The loaded file, or why it did not load (positions included).
    pub load: Result<Loaded<T>, YamlError>,
}

impl<T> YamlFile<T> {
    /// The loaded file, when it loaded.
    pub fn loaded(&self) -> Option<&Loaded<T>> {
        self.load.as_ref().ok()
    }
}

/// Why a path does not belong in the tree: one `layout/*` rule each.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum LayoutProblem {
    /// A group or component directory whose name is not valid, or a component at depth 1.
    BadComponentPath(String),
    /// A version directory whose name is not SemVer.
    BadVersion(String),
    /// A directory in a version directory that is no known format.
    UnknownFormat(String),
    /// Any other file or directory that does not belong where it is.
    UnexpectedFile(String),
    /// A symbolic link (never followed).
    SymlinkEscape(String),
}

/// One path of the walked tree.
#[derive(Debug, Clone)]
pub struct PathEntry {
    /// Relative to the repository root.
    pub path: Utf8PathBuf,
    /// A directory (a link to one is not).
    pub is_dir: bool,
    /// A symbolic link.
    pub is_symlink: bool,
    /// What the layout says it is.
    pub kind: PathKind,
    /// Why it does not belong, if it does not.
    pub problem: Option<LayoutProblem>,
    /// What `stat` said, when the walk asked (caching runs).
    pub meta: Option<Meta>,
}

/// One format directory of a version.
#[derive(Debug, Clone)]
pub struct FormatEntry {
    /// The format (`docker`, `deb`, `generic`, or a registered one).
    pub format: Format,
    /// The directory, relative to the repository root.
    pub dir: Utf8PathBuf,
    /// Its `manifest.yaml`, `None` when missing.
    pub manifest: Option<YamlFile<Manifest>>,
    /// The other files present, relative to the format directory, sorted.
    pub files: Vec<String>,
    /// Those of [`FormatEntry::files`] that a `layout/*` rule reports already (a symbolic
    /// link, a FIFO): manifest rules do not report them again as unlisted.
    pub odd: Vec<String>,
    /// What the artifacts hold, read again (only with `--verify-artifacts`).
    pub facts: Option<ArtifactFacts>,
}

impl FormatEntry {
    /// The manifest, when it exists and loaded, with its path.
    pub fn manifest(&self) -> Option<(&Utf8Path, &Loaded<Manifest>)> {
        let m = self.manifest.as_ref()?;
        Some((m.path.as_path(), m.loaded()?))
    }
}

/// One component version, fully read: what version-scope rules check.
#[derive(Debug, Clone)]
pub struct VersionEntry {
    /// The component.
    pub component: ComponentPath,
    /// The version.
    pub version: Version,
    /// The version directory, relative to the repository root.
    pub dir: Utf8PathBuf,
    /// Every path below the version directory, as walked.
    pub paths: Vec<PathEntry>,
    /// Its `metadata.yaml`, `None` when missing.
    pub metadata: Option<YamlFile<Metadata>>,
    /// Its format directories, sorted by name.
    pub formats: Vec<FormatEntry>,
}

impl VersionEntry {
    /// The metadata, when it exists and loaded, with its path.
    pub fn metadata(&self) -> Option<(&Utf8Path, &Loaded<Metadata>)> {
        let m = self.metadata.as_ref()?;
        Some((m.path.as_path(), m.loaded()?))
    }

    /// What later rules need of the version, its parse trees left behind.
    pub fn summary(&self) -> VersionSummary {
        VersionSummary {
            component: self.component.clone(),
            version: self.version.clone(),
            metadata: self.metadata().map(|(path, m)| MetaSummary::of(path, m)),
        }
    }
}

/// One dependency entry of a version's metadata, with where it is written.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DepRef {
    /// Its index in `dependencies`.
    pub index: usize,
    /// The entry as written.
    pub text: String,
    /// The entry parsed, when valid.
    pub dep: Option<Dependency>,
    /// Where it is in the file.
    pub span: Span,
}

/// What repository rules need of a `metadata.yaml` that loaded.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct MetaSummary {
    /// The file, relative to the repository root.
    pub path: Utf8PathBuf,
    /// The domains that parsed.
    pub domains: Vec<DomainName>,
    /// The environments that parsed.
    pub environments: Vec<EnvName>,
    /// Every `dependencies` entry.
    pub deps: Vec<DepRef>,
}

impl MetaSummary {
    fn of(path: &Utf8Path, m: &Loaded<Metadata>) -> MetaSummary {
        MetaSummary {
            path: path.to_owned(),
            domains: m.value.domain_names().cloned().collect(),
            environments: m.value.env_names().cloned().collect(),
            deps: m
                .value
                .dependencies
                .iter()
                .enumerate()
                .map(|(index, d)| DepRef {
                    index,
                    text: d.text(),
                    dep: d.get().cloned(),
                    span: Span::value(&m.root, &["dependencies", &index.to_string()]),
                })
                .collect(),
        }
    }

    /// The `dependencies` entries as the resolver reads them.
    pub fn dependencies(&self) -> Vec<Checked<Dependency>> {
        self.deps
            .iter()
            .map(|d| match &d.dep {
                Some(dep) => Checked::Valid(dep.clone()),
                None => Checked::Invalid {
                    raw: d.text.clone(),
                    error: String::new(),
                },
            })
            .collect()
    }
}

/// One component version as repository rules see it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct VersionSummary {
    /// The component.
    pub component: ComponentPath,
    /// The version.
    pub version: Version,
    /// Its metadata, when it loaded.
    pub metadata: Option<MetaSummary>,
}

impl VersionSummary {
    /// The metadata, when it loaded.
    pub fn metadata(&self) -> Option<&MetaSummary> {
        self.metadata.as_ref()
    }
}

/// A domain file (`index/domain-<stem>.yaml`).
#[derive(Debug, Clone)]
pub struct DomainFile {
    /// The stem (`cloud-staging`).
    pub stem: String,
    /// The stage it holds, when the stem names a declared domain and rung.
    pub stage: Option<(DomainName, EnvName)>,
    /// The file.
    pub file: YamlFile<DomainIndex>,
}

/// The record files of one stage's audit trail (`index/audit/<domain>/<env>/`), as read.
#[derive(Debug, Clone)]
pub struct AuditChain {
    /// The domain of the directory.
    pub domain: DomainName,
    /// The environment of the directory.
    pub env: EnvName,
    /// The record files that could be read, in chain order (sequence number, then name).
    /// A file that cannot be read is left out here; `schema/parse` reports it.
    pub files: Vec<RecordFile>,
}

/// What every rule may look at: the repository, its config, its owners and "now".
#[derive(Debug)]
pub struct Context<'r> {
    /// The repository.
    pub repo: &'r Repository,
    /// "Now", for future-build checks.
    pub now: Timestamp,
    /// Whether artifacts are read again (`--verify-artifacts`).
    pub verified: bool,
    /// `ownership.yaml` files by group path (`cloud/dmp`): all of them for a whole run, the
    /// ones above one component for a single version's check.
    pub ownership: BTreeMap<String, YamlFile<Ownership>>,
}

impl<'r> Context<'r> {
    /// A context whose ownership files are the ones above `c` (a single version's check).
    pub fn for_component(
        repo: &'r Repository,
        c: &ComponentPath,
        now: Timestamp,
        verified: bool,
    ) -> Self {
        let ownership = c
            .ancestors()
            .filter_map(|g| {
                let rel = Layout::ownership_path(g);
                repo.store()
                    .exists(&rel)
                    .then(|| (g.to_owned(), load(repo, &rel)))
            })
            .collect();
        Context {
            repo,
            now,
            verified,
            ownership,
        }
    }

    /// `berth.toml`.
    pub fn config(&self) -> &'r Config {
        self.repo.config()
    }

    /// The layout.
    pub fn layout(&self) -> &'r Layout {
        self.repo.layout()
    }

    /// The nearest `ownership.yaml` above a component (loaded or not).
    pub fn owner(&self, c: &ComponentPath) -> Option<&YamlFile<Ownership>> {
        c.ancestors().find_map(|g| self.ownership.get(g))
    }
}

/// Reads and parses a YAML file through the store; I/O errors become load errors.
pub(crate) fn load<T: DeserializeOwned>(repo: &Repository, rel: &Utf8Path) -> YamlFile<T> {
    let load = match repo.read_bytes(rel) {
        Ok(bytes) => repo.parse_yaml(rel, &bytes),
        Err(e) => Err(io_error(rel, &e)),
    };
    YamlFile {
        path: rel.to_owned(),
        load,
    }
}

fn io_error(rel: &Utf8Path, e: &StoreError) -> YamlError {
    YamlError::new(
        rel,
        None,
        YamlErrorKind::Io,
        format!("cannot read the file: {e}"),
    )
}

fn load_metadata(repo: &Repository, rel: &Utf8Path) -> YamlFile<Metadata> {
    let load = match repo.read_bytes(rel) {
        Ok(bytes) => berth_model::repo::load_metadata_limited(
            rel,
            &bytes,
            usize::try_from(repo.limits().string_bytes).unwrap_or(usize::MAX),
        ),
        Err(e) => Err(io_error(rel, &e)),
    };
    YamlFile {
        path: rel.to_owned(),
        load,
    }
}

/// Reads the artifacts of one format directory again (`--verify-artifacts`).
pub type FactReader<'f> = dyn Fn(&Repository, &FormatEntry) -> ArtifactFacts + Sync + 'f;

/// What went wrong building the view: the tree could not be listed.
pub type WalkError = StoreError;

/// Walks one version directory and reads its files: the entry version rules check. With
/// `stat`, every walked path carries its `stat` (the cache key of the version).
pub fn load_version(
    repo: &Repository,
    c: &ComponentPath,
    v: &Version,
    facts: Option<&FactReader<'_>>,
    stat: bool,
) -> Result<VersionEntry, WalkError> {
    let paths = walk_dir(repo, &Layout::version_dir(c, v), Walk::Into, stat)?;
    Ok(load_version_from(repo, c, v, paths, facts))
}

/// [`load_version`] over the paths of the version directory, already walked.
pub fn load_version_from(
    repo: &Repository,
    c: &ComponentPath,
    v: &Version,
    paths: Vec<PathEntry>,
    facts: Option<&FactReader<'_>>,
) -> VersionEntry {
    let dir = Layout::version_dir(c, v);
    let mut entry = VersionEntry {
        component: c.clone(),
        version: v.clone(),
        dir,
        paths,
        metadata: None,
        formats: Vec::new(),
    };
    fn format_mut<'a>(v: &'a mut VersionEntry, f: &Format) -> &'a mut FormatEntry {
        let i = match v.formats.iter().position(|x| &x.format == f) {
            Some(i) => i,
            None => {
                v.formats.push(FormatEntry {
                    format: f.clone(),
                    dir: Layout::format_dir(&v.component, &v.version, f),
                    manifest: None,
                    files: Vec::new(),
                    odd: Vec::new(),
                    facts: None,
                });
                v.formats.len() - 1
            }
        };
        &mut v.formats[i]
    }
    let mut manifests = Vec::new();
    let mut metadata = None;
    for i in 0..entry.paths.len() {
        let p = &entry.paths[i];
        // A file in a format directory is an artifact whatever its layout problem (a link,
        // a FIFO): the manifest rules judge it too.
        if p.problem.is_some() && !matches!(p.kind, PathKind::Artifact(..)) {
            continue;
        }
        match p.kind.clone() {
            PathKind::Metadata(..) => metadata = Some(p.path.clone()),
            PathKind::FormatDir(_, _, f) => {
                format_mut(&mut entry, &f);
            }
            PathKind::Manifest(_, _, f) => manifests.push((f, entry.paths[i].path.clone())),
            PathKind::Artifact(_, _, f, rel) if !p.is_dir => {
                let odd = p.problem.is_some();
                let fe = format_mut(&mut entry, &f);
                fe.files.push(rel.to_string());
                if odd {
                    fe.odd.push(rel.to_string());
                }
            }
            _ => {}
        }
    }
    entry.metadata = metadata.map(|m| load_metadata(repo, &m));
    for (f, path) in manifests {
        format_mut(&mut entry, &f).manifest = Some(load(repo, &path));
    }
    entry.formats.sort_by(|a, b| a.format.cmp(&b.format));
    for f in &mut entry.formats {
        f.files.sort();
        if let Some(read) = facts {
            f.facts = Some(read(repo, f));
        }
    }
    entry
}

/// Everything component and repository rules look at, read once.
#[derive(Debug)]
pub struct RepoView<'r> {
    /// The repository, its config and owners.
    pub cx: Context<'r>,
    /// Every walked path outside version directories, parents before children, siblings by
    /// name (directories that do not belong are not descended).
    pub paths: Vec<PathEntry>,
    /// Every component version, sorted by component then version.
    pub versions: Vec<VersionSummary>,
    /// `index/components.yaml`, when present.
    pub components_index: Option<YamlFile<ComponentsIndex>>,
    /// Domain files, sorted by path.
    pub domain_files: Vec<DomainFile>,
    /// Audit records, sorted by path.
    pub audit: Vec<YamlFile<AuditRecord>>,
    /// The audit trail of every stage directory `index/audit/<domain>/<env>/` whose names
    /// are valid, sorted by domain then environment (the same reads as [`RepoView::audit`]).
    pub audit_chains: Vec<AuditChain>,
    pub(crate) deps: OnceLock<Vec<DepProblem>>,
}

/// The tree outside version directories, walked: the paths, and the version directories
/// found (component, version), sorted.
#[derive(Debug)]
pub struct Outline {
    /// Every path outside version directories (version directories themselves included).
    pub paths: Vec<PathEntry>,
    /// The version directories, sorted by component then version, each with what `stat`
    /// said of it when the walk asked.
    pub versions: Vec<(ComponentPath, Version, Option<Meta>)>,
}

impl Outline {
    /// Walks the tree down to the version directories (in parallel over directories).
    pub fn walk(repo: &Repository, stat: bool) -> Result<Self, WalkError> {
        let paths = walk_dir(repo, Utf8Path::new(""), Walk::ToVersions, stat)?;
        let mut versions: Vec<(ComponentPath, Version, Option<Meta>)> = paths
            .iter()
            .filter(|p| p.problem.is_none())
            .filter_map(|p| match &p.kind {
                PathKind::VersionDir(c, v) => Some((c.clone(), v.clone(), p.meta)),
                _ => None,
            })
            .collect();
        versions.par_sort_unstable_by(|a, b| (&a.0, &a.1).cmp(&(&b.0, &b.1)));
        Ok(Outline { paths, versions })
    }
}

impl<'r> RepoView<'r> {
    /// The repository-level view over an outline and version summaries (sorted): loads the
    /// ownership files, the index, the domain files and the audit trail.
    pub fn build(
        repo: &'r Repository,
        now: Timestamp,
        verified: bool,
        outline: Outline,
        versions: Vec<VersionSummary>,
    ) -> Self {
        let cx = Context {
            repo,
            now,
            verified,
            ownership: load_ownership(repo, &outline.paths),
        };
        Self::with_context(cx, outline.paths, versions)
    }

    /// [`RepoView::build`] with a context already made (its ownership files loaded).
    pub fn with_context(
        cx: Context<'r>,
        paths: Vec<PathEntry>,
        versions: Vec<VersionSummary>,
    ) -> Self {
        let repo = cx.repo;
        let mut components_index = None;
        let mut domain_paths = Vec::new();
        let mut audit_paths = Vec::new();
        for p in paths.iter().filter(|p| p.problem.is_none()) {
            match &p.kind {
                PathKind::ComponentsIndex => components_index = Some(p.path.clone()),
                PathKind::DomainFile(stem) => domain_paths.push((stem.clone(), p.path.clone())),
                PathKind::Audit(_) if !p.is_dir && p.path.extension() == Some("yaml") => {
                    audit_paths.push(p.path.clone());
                }
                _ => {}
            }
        }
        let config = repo.config();
        let mut domain_files: Vec<DomainFile> = domain_paths
            .into_par_iter()
            .map(|(stem, p)| DomainFile {
                stage: Layout::resolve_domain_stem(config, &stem),
                stem,
                file: load(repo, &p),
            })
            .collect();
        domain_files.sort_by(|a, b| a.file.path.cmp(&b.file.path));
        let read: Vec<(YamlFile<AuditRecord>, Option<Vec<u8>>)> = audit_paths
            .into_par_iter()
            .map(|p| match repo.read_bytes(&p) {
                Ok(bytes) => (
                    YamlFile {
                        load: repo.parse_yaml(&p, &bytes),
                        path: p,
                    },
                    Some(bytes),
                ),
                Err(e) => (
                    YamlFile {
                        load: Err(io_error(&p, &e)),
                        path: p,
                    },
                    None,
                ),
            })
            .collect();
        let mut audit = Vec::with_capacity(read.len());
        let mut chains: BTreeMap<(DomainName, EnvName), Vec<RecordFile>> = BTreeMap::new();
        for (file, bytes) in read {
            if let (Some(bytes), Some(stage)) = (bytes, audit_stage(&file.path)) {
                chains
                    .entry(stage)
                    .or_default()
                    .push(RecordFile::new(file.path.clone(), bytes));
            }
            audit.push(file);
        }
        audit.sort_by(|a, b| a.path.cmp(&b.path));
        let audit_chains = chains
            .into_iter()
            .map(|((domain, env), mut files)| {
                audit::sort_chain(&mut files);
                AuditChain { domain, env, files }
            })
            .collect();
        RepoView {
            cx,
            paths,
            versions,
            components_index: components_index.map(|p| load(repo, &p)),
            domain_files,
            audit,
            audit_chains,
            deps: OnceLock::new(),
        }
    }

    /// The repository.
    pub fn repo(&self) -> &'r Repository {
        self.cx.repo
    }

    /// `berth.toml`.
    pub fn config(&self) -> &'r Config {
        self.cx.config()
    }

    /// The layout.
    pub fn layout(&self) -> &'r Layout {
        self.cx.layout()
    }

    /// One component version.
    pub fn version(&self, c: &ComponentPath, v: &Version) -> Option<&VersionSummary> {
        self.version_index(c, v).map(|i| &self.versions[i])
    }

    /// Where a component version is in [`RepoView::versions`].
    pub fn version_index(&self, c: &ComponentPath, v: &Version) -> Option<usize> {
        self.versions
            .binary_search_by(|e| (&e.component, &e.version).cmp(&(c, v)))
            .ok()
    }

    /// The versions of a component (empty when it does not exist).
    pub fn versions_of(&self, c: &ComponentPath) -> &[VersionSummary] {
        let start = self.versions.partition_point(|e| &e.component < c);
        let end = self.versions.partition_point(|e| &e.component <= c);
        &self.versions[start..end]
    }

    /// True when the component has at least one version directory.
    pub fn has_component(&self, c: &ComponentPath) -> bool {
        !self.versions_of(c).is_empty()
    }

    /// The nearest `ownership.yaml` above a component (loaded or not).
    pub fn owner(&self, c: &ComponentPath) -> Option<&YamlFile<Ownership>> {
        self.cx.owner(c)
    }

    /// Every component version some declared stage has run: its audit trail records it
    /// entering, or its domain file lists it ([`berth_model::stage::ran_by`] for a whole
    /// run).
    pub fn ran_anywhere(&self) -> std::collections::HashSet<(ComponentPath, Version)> {
        let config = self.config();
        let mut out = std::collections::HashSet::new();
        for stage in berth_model::Stage::all(config) {
            for r in self.audit_records(&stage.domain, &stage.env) {
                out.insert((r.component.clone(), r.version.clone()));
            }
            if let Some(d) = self.domain_file(&stage.domain, &stage.env)
                && let Some(l) = d.file.loaded()
            {
                for e in &l.value.components {
                    out.insert((e.name.clone(), e.version.clone()));
                }
            }
        }
        out
    }

    /// Audit records of one stage that loaded.
    pub fn audit_records<'a>(
        &'a self,
        domain: &'a DomainName,
        env: &'a EnvName,
    ) -> impl Iterator<Item = &'a AuditRecord> + 'a {
        let dir = Layout::audit_dir(domain, env);
        self.audit
            .iter()
            .filter(move |f| f.path.starts_with(&dir))
            .filter_map(|f| f.loaded().map(|l| &l.value))
            .filter(move |r| &r.domain == domain && &r.environment == env)
    }

    /// What a stage runs according to its audit trail: the records of
    /// `index/audit/<domain>/<env>/` that loaded and are about that stage, replayed in
    /// chain order ([`berth_model::audit::promoted_in`]). Empty when the stage has no trail.
    pub fn promoted(&self, domain: &DomainName, env: &EnvName) -> BTreeMap<ComponentPath, Version> {
        let Some(chain) = self
            .audit_chains
            .iter()
            .find(|c| &c.domain == domain && &c.env == env)
        else {
            return BTreeMap::new();
        };
        let records = chain.files.iter().filter_map(|f| {
            let i = self
                .audit
                .binary_search_by(|a| a.path.as_path().cmp(f.path.as_path()))
                .ok()?;
            let r = &self.audit[i].loaded()?.value;
            (&r.domain == domain && &r.environment == env).then_some(r)
        });
        audit::promoted_in(records)
    }

    /// The domain file of a stage.
    pub fn domain_file(&self, domain: &DomainName, env: &EnvName) -> Option<&DomainFile> {
        self.domain_files.iter().find(|d| {
            d.stage
                .as_ref()
                .is_some_and(|(dd, ee)| dd == domain && ee == env)
        })
    }

    /// The dependency problems of every version (computed once, on first use).
    pub fn dep_problems(&self) -> &[DepProblem] {
        self.deps.get_or_init(|| crate::deps::analyse(self))
    }
}

/// Loads every `ownership.yaml` the outline found.
pub(crate) fn load_ownership(
    repo: &Repository,
    paths: &[PathEntry],
) -> BTreeMap<String, YamlFile<Ownership>> {
    let found: Vec<(String, Utf8PathBuf)> = paths
        .iter()
        .filter(|p| p.problem.is_none())
        .filter_map(|p| match &p.kind {
            PathKind::Ownership(g) => Some((g.clone(), p.path.clone())),
            _ => None,
        })
        .collect();
    found
        .into_par_iter()
        .map(|(g, p)| (g, load(repo, &p)))
        .collect::<HashMap<_, _>>()
        .into_iter()
        .collect()
}

/// The stage of a record file `index/audit/<domain>/<env>/<name>.yaml` that belongs to a
/// trail (valid names, not a dot-file).
fn audit_stage(rel: &Utf8Path) -> Option<(DomainName, EnvName)> {
    let parts: Vec<&str> = rel.as_str().split('/').collect();
    let [_, _, d, e, name] = parts.as_slice() else {
        return None;
    };
    if rel.parent()?.parent()?.parent()? != Utf8Path::new(layout::AUDIT_DIR)
        || !audit::is_record_file_name(name)
    {
        return None;
    }
    Some((DomainName::parse(d).ok()?, EnvName::parse(e).ok()?))
}

/// How far a walk goes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Walk {
    /// The whole tree outside version directories (a version directory is listed, not
    /// entered).
    ToVersions,
    /// Everything below the starting directory.
    Into,
}

/// Walks `rel` (in parallel over directories), classifying every path. Directories that do
/// not belong, berth's private state and symbolic links are not descended; no link is ever
/// followed. Listings are sorted and rayon keeps the order of results: the walk is
/// deterministic without a sort.
pub(crate) fn walk_dir(
    repo: &Repository,
    rel: &Utf8Path,
    how: Walk,
    stat: bool,
) -> Result<Vec<PathEntry>, WalkError> {
    let layout = repo.layout();
    let mut out = Vec::new();
    let mut subdirs = Vec::new();
    let entries: Vec<(Entry, Option<Meta>)> = if stat {
        repo.store()
            .list_stat(rel)?
            .into_iter()
            .map(|(e, m)| (e, Some(m)))
            .collect()
    } else {
        repo.store()
            .list(rel)?
            .into_iter()
            .map(|e| (e, None))
            .collect()
    };
    for (e, meta) in entries {
        let path = if rel.as_str().is_empty() {
            Utf8PathBuf::from(&e.name)
        } else {
            rel.join(&e.name)
        };
        let kind = layout.classify(&path, e.is_dir);
        if matches!(kind, PathKind::Private) {
            continue;
        }
        let problem = match e.kind {
            EntryKind::Symlink => Some(LayoutProblem::SymlinkEscape(
                berth_model::layout::symlink_message(&path, link_target(repo, &path).as_deref()),
            )),
            EntryKind::Other => Some(LayoutProblem::UnexpectedFile(format!(
                "`{path}` is {}; a repository holds regular files and directories only",
                special_kind(repo, &path)
            ))),
            _ => layout_problem(layout, &path, e.is_dir, &kind),
        };
        let stop = how == Walk::ToVersions && matches!(kind, PathKind::VersionDir(..));
        if e.is_dir && problem.is_none() && !stop {
            subdirs.push(path.clone());
        }
        out.push(PathEntry {
            path,
            is_dir: e.is_dir,
            is_symlink: e.is_symlink,
            kind,
            problem,
            meta,
        });
    }
    let nested = subdirs
        .par_iter()
        .map(|d| walk_dir(repo, d, how, stat))
        .collect::<Result<Vec<_>, _>>()?;
    out.reserve_exact(nested.iter().map(Vec::len).sum());
    for n in nested {
        out.extend(n);
    }
    Ok(out)
}

/// Where a symbolic link points, for the message (read, never followed).
fn link_target(repo: &Repository, rel: &Utf8Path) -> Option<String> {
    let abs = repo.store().local_root()?.join(rel);
    std::fs::read_link(abs.as_std_path())
        .ok()
        .map(|t| t.display().to_string())
}

/// What a special file is, in words.
fn special_kind(repo: &Repository, rel: &Utf8Path) -> &'static str {
    use std::os::unix::fs::FileTypeExt as _;
    let Some(abs) = repo.store().local_root().map(|r| r.join(rel)) else {
        return "a special file";
    };
    match std::fs::symlink_metadata(abs.as_std_path()).map(|m| m.file_type()) {
        Ok(t) if t.is_fifo() => "a FIFO (named pipe)",
        Ok(t) if t.is_socket() => "a socket",
        Ok(t) if t.is_char_device() => "a character device",
        Ok(t) if t.is_block_device() => "a block device",
        _ => "a special file",
    }
}

/// Which `layout/*` problem a path has, if any.
fn layout_problem(
    layout: &Layout,
    rel: &Utf8Path,
    is_dir: bool,
    kind: &PathKind,
) -> Option<LayoutProblem> {
    let PathKind::Unexpected(reason) = kind else {
        return None;
    };
    let reason = reason.clone();
    let parts: Vec<&str> = rel.as_str().split('/').collect();
    if parts.first() != Some(&layout::COMPONENTS_DIR) {
        return Some(LayoutProblem::UnexpectedFile(reason));
    }
    let rest = &parts[1..];
    let Some(vi) = rest.iter().position(|s| *s == layout::VERSIONS_DIR) else {
        return Some(if is_dir {
            LayoutProblem::BadComponentPath(reason)
        } else {
            LayoutProblem::UnexpectedFile(reason)
        });
    };
    if ComponentPath::parse(&rest[..vi].join("/")).is_err() {
        return Some(LayoutProblem::BadComponentPath(reason));
    }
    if let Some(v) = rest.get(vi + 1)
        && Version::parse(v).is_err()
    {
        return Some(LayoutProblem::BadVersion(reason));
    }
    if rest.len() == vi + 3 && is_dir && !layout.knows_format(rest[vi + 2]) {
        return Some(LayoutProblem::UnknownFormat(reason));
    }
    Some(LayoutProblem::UnexpectedFile(reason))
}
