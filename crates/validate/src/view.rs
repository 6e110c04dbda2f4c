//! The typed view of a repository that rules check: the tree walked once, every YAML file
//! read and parsed once, artifact facts when `--verify-artifacts` asked for them.

use std::collections::{BTreeMap, HashMap};
use std::sync::OnceLock;

use berth_index::DepProblem;
use berth_model::audit::{self, RecordFile};
use berth_model::files::{
    AuditRecord, ComponentsIndex, DomainIndex, Manifest, Metadata, Ownership,
};
use berth_model::layout::{self, Layout, PathKind};
use berth_model::store::{EntryKind, StoreError};
use berth_model::yaml::{Loaded, YamlError, YamlErrorKind};
use berth_model::{
    ComponentPath, Config, DomainName, EnvName, Format, Repository, Timestamp, Version,
};
use camino::{Utf8Path, Utf8PathBuf};
use rayon::prelude::*;
use serde::de::DeserializeOwned;

use crate::artifacts::ArtifactFacts;

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
    /// A symbolic link that points outside the repository (or nowhere).
    SymlinkEscape(String),
}

/// One path of the walked tree.
#[derive(Debug, Clone)]
pub struct PathEntry {
    /// Relative to the repository root.
    pub path: Utf8PathBuf,
    /// A directory (symbolic links: whether the target is one).
    pub is_dir: bool,
    /// A symbolic link.
    pub is_symlink: bool,
    /// What the layout says it is.
    pub kind: PathKind,
    /// Why it does not belong, if it does not.
    pub problem: Option<LayoutProblem>,
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

/// One component version.
#[derive(Debug, Clone)]
pub struct VersionEntry {
    /// The component.
    pub component: ComponentPath,
    /// The version.
    pub version: Version,
    /// The version directory, relative to the repository root.
    pub dir: Utf8PathBuf,
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

/// Everything the rules look at, read once.
#[derive(Debug)]
pub struct RepoView<'r> {
    /// The repository.
    pub repo: &'r Repository,
    /// Every walked path, parents before children, siblings by name (directories that do
    /// not belong are not descended).
    pub paths: Vec<PathEntry>,
    /// Every component version, sorted by component then version.
    pub versions: Vec<VersionEntry>,
    /// `ownership.yaml` files by group path (`cloud/dmp`).
    pub ownership: BTreeMap<String, YamlFile<Ownership>>,
    /// `index/components.yaml`, when present.
    pub components_index: Option<YamlFile<ComponentsIndex>>,
    /// Domain files, sorted by path.
    pub domain_files: Vec<DomainFile>,
    /// Audit records, sorted by path.
    pub audit: Vec<YamlFile<AuditRecord>>,
    /// The audit trail of every stage directory `index/audit/<domain>/<env>/` whose names
    /// are valid, sorted by domain then environment (the same reads as [`RepoView::audit`]).
    pub audit_chains: Vec<AuditChain>,
    /// "Now", for future-build checks.
    pub now: Timestamp,
    /// Whether artifacts were read again (`--verify-artifacts`).
    pub verified: bool,
    deps: OnceLock<Vec<DepProblem>>,
}

/// Reads and parses a YAML file through the store; I/O errors become load errors.
fn load<T: DeserializeOwned>(repo: &Repository, rel: &Utf8Path) -> YamlFile<T> {
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

impl<'r> RepoView<'r> {
    /// Walks and loads `repo`. With `facts`, every format directory's artifacts are read
    /// again by that function (in parallel over versions).
    pub fn build(
        repo: &'r Repository,
        now: Timestamp,
        facts: Option<&FactReader<'_>>,
    ) -> Result<Self, WalkError> {
        let paths = walk(repo)?;
        let mut versions: HashMap<(ComponentPath, Version), VersionEntry> = HashMap::new();
        let mut ownership_paths = Vec::new();
        let mut components_index = None;
        let mut domain_paths = Vec::new();
        let mut audit_paths = Vec::new();
        fn version_mut<'a>(
            map: &'a mut HashMap<(ComponentPath, Version), VersionEntry>,
            c: &ComponentPath,
            v: &Version,
        ) -> &'a mut VersionEntry {
            map.entry((c.clone(), v.clone()))
                .or_insert_with(|| VersionEntry {
                    component: c.clone(),
                    version: v.clone(),
                    dir: Layout::version_dir(c, v),
                    metadata: None,
                    formats: Vec::new(),
                })
        }
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
        // Placeholder loads are replaced below, in parallel.
        let pending = |rel: &Utf8Path| YamlError::new(rel, None, YamlErrorKind::Io, "");
        for p in &paths {
            // A file in a format directory is an artifact whatever its layout problem (a link,
            // a FIFO): the manifest rules judge it too.
            if p.problem.is_some() && !matches!(p.kind, PathKind::Artifact(..)) {
                continue;
            }
            match &p.kind {
                PathKind::VersionDir(c, v) => {
                    version_mut(&mut versions, c, v);
                }
                PathKind::Metadata(c, v) => {
                    version_mut(&mut versions, c, v).metadata = Some(YamlFile {
                        path: p.path.clone(),
                        load: Err(pending(&p.path)),
                    });
                }
                PathKind::FormatDir(c, v, f) => {
                    format_mut(version_mut(&mut versions, c, v), f);
                }
                PathKind::Manifest(c, v, f) => {
                    format_mut(version_mut(&mut versions, c, v), f).manifest = Some(YamlFile {
                        path: p.path.clone(),
                        load: Err(pending(&p.path)),
                    });
                }
                PathKind::Artifact(c, v, f, rel) if !p.is_dir => {
                    let entry = format_mut(version_mut(&mut versions, c, v), f);
                    entry.files.push(rel.to_string());
                    if p.problem.is_some() {
                        entry.odd.push(rel.to_string());
                    }
                }
                PathKind::Ownership(g) => ownership_paths.push((g.clone(), p.path.clone())),
                PathKind::ComponentsIndex => components_index = Some(p.path.clone()),
                PathKind::DomainFile(stem) => domain_paths.push((stem.clone(), p.path.clone())),
                PathKind::Audit(_) if !p.is_dir && p.path.extension() == Some("yaml") => {
                    audit_paths.push(p.path.clone());
                }
                _ => {}
            }
        }
        let mut versions: Vec<VersionEntry> = versions.into_values().collect();
        versions.par_sort_unstable_by(|a, b| {
            (&a.component, &a.version).cmp(&(&b.component, &b.version))
        });
        versions.par_iter_mut().for_each(|v| {
            if let Some(m) = &mut v.metadata {
                *m = load_metadata(repo, &m.path);
            }
            v.formats.sort_by(|a, b| a.format.cmp(&b.format));
            for f in &mut v.formats {
                f.files.sort();
                if let Some(m) = &mut f.manifest {
                    *m = load(repo, &m.path);
                }
                if let Some(read) = facts {
                    f.facts = Some(read(repo, f));
                }
            }
        });
        let ownership = ownership_paths
            .into_par_iter()
            .map(|(g, p)| (g, load(repo, &p)))
            .collect();
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
        Ok(RepoView {
            repo,
            paths,
            versions,
            ownership,
            components_index: components_index.map(|p| load(repo, &p)),
            domain_files,
            audit,
            audit_chains,
            now,
            verified: facts.is_some(),
            deps: OnceLock::new(),
        })
    }

    /// `berth.toml`.
    pub fn config(&self) -> &'r Config {
        self.repo.config()
    }

    /// The layout.
    pub fn layout(&self) -> &'r Layout {
        self.repo.layout()
    }

    /// One component version.
    pub fn version(&self, c: &ComponentPath, v: &Version) -> Option<&VersionEntry> {
        self.version_index(c, v).map(|i| &self.versions[i])
    }

    /// Where a component version is in [`RepoView::versions`].
    pub fn version_index(&self, c: &ComponentPath, v: &Version) -> Option<usize> {
        self.versions
            .binary_search_by(|e| (&e.component, &e.version).cmp(&(c, v)))
            .ok()
    }

    /// The versions of a component (empty when it does not exist).
    pub fn versions_of(&self, c: &ComponentPath) -> &[VersionEntry] {
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
        c.ancestors().find_map(|g| self.ownership.get(g))
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

/// Walks the tree (in parallel over directories), classifying every path. Directories
/// that do not belong, berth's private state and symbolic links are not descended; no link
/// is ever followed.
fn walk(repo: &Repository) -> Result<Vec<PathEntry>, WalkError> {
    // Listings are sorted and rayon keeps the order of results: the walk is deterministic
    // without a sort.
    walk_dir(repo, Utf8Path::new(""))
}

fn walk_dir(repo: &Repository, rel: &Utf8Path) -> Result<Vec<PathEntry>, WalkError> {
    let layout = repo.layout();
    let mut out = Vec::new();
    let mut subdirs = Vec::new();
    for e in repo.store().list(rel)? {
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
        if e.is_dir && problem.is_none() {
            subdirs.push(path.clone());
        }
        out.push(PathEntry {
            path,
            is_dir: e.is_dir,
            is_symlink: e.is_symlink,
            kind,
            problem,
        });
    }
    let nested = subdirs
        .par_iter()
        .map(|d| walk_dir(repo, d))
        .collect::<Result<Vec<_>, _>>()?;
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
