//! A repository: discovery, listing and typed reads and writes, all through the [`Store`].

use std::io;
use std::sync::Arc;
use std::time::Duration;

use camino::{Utf8Path, Utf8PathBuf};
use serde::Serialize;
use serde::de::DeserializeOwned;

use crate::config::{Config, ConfigError};
use crate::files::{ComponentsIndex, DomainIndex, Manifest, Metadata, Ownership};
use crate::ids::{ComponentPath, DomainName, EnvName, Format, IdError, Version};
use crate::layout::{self, Layout};
use crate::store::{EntryKind, Limits, LocalStore, Store, StoreError, StoreLock};
use crate::yaml::{self, Loaded, YamlError};

/// What can go wrong reading or writing a repository.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// A file could not be read or written (the message names it).
    #[error("{0}")]
    Io(#[from] io::Error),
    /// The store refused or failed (a link on the path, not a regular file, too large, …;
    /// the message names the file).
    #[error(transparent)]
    Store(#[from] StoreError),
    /// A component may not be created where asked: inside another component, or where a
    /// group of components is.
    #[error("cannot place component `{component}`: {reason}")]
    Placement {
        /// The component asked for.
        component: String,
        /// Why not, naming what is in the way.
        reason: String,
    },
    /// A YAML file is not valid (names file, line and column).
    #[error(transparent)]
    Yaml(#[from] YamlError),
    /// `berth.toml` is not valid.
    #[error(transparent)]
    Config(#[from] ConfigError),
    /// No `berth.toml` here or above.
    #[error(
        "no berth repository at {start} or above it (no berth.toml found); run `berth init`, or pass --repo DIR / set BERTH_REPO"
    )]
    NotARepository {
        /// Where the search started.
        start: Utf8PathBuf,
    },
    /// A name or version given by the user is not valid.
    #[error(transparent)]
    Id(#[from] IdError),
    /// Something asked for is not in the repository.
    #[error("{what} `{name}` is not in the repository{hint}")]
    NotFound {
        /// What kind of thing.
        what: &'static str,
        /// Its name.
        name: String,
        /// A hint (`; did you mean …?`), possibly empty.
        hint: String,
    },
    /// A canonical file could not be rendered.
    #[error("rendering {file}: {source}")]
    Render {
        /// The file.
        file: Utf8PathBuf,
        /// Why.
        source: serde_json::Error,
    },
}

/// Shorthand for this crate's results.
pub type Result<T, E = Error> = std::result::Result<T, E>;

/// The environment variable that names the repository.
pub const REPO_ENV: &str = "BERTH_REPO";

/// An open repository.
#[derive(Debug, Clone)]
pub struct Repository {
    root: Utf8PathBuf,
    config: Config,
    layout: Layout,
    store: Arc<dyn Store>,
}

/// The owner of a component: the nearest `ownership.yaml` above it.
#[derive(Debug, Clone)]
pub struct Owner {
    /// The group path that holds the file (`cloud/dmp`).
    pub group: String,
    /// The file, relative to the repository root.
    pub file: Utf8PathBuf,
    /// Its content.
    pub ownership: Loaded<Ownership>,
}

impl Repository {
    /// Opens the repository whose root (holding `berth.toml`) is `root`.
    pub fn open(root: impl Into<Utf8PathBuf>) -> Result<Self> {
        let root = root.into();
        let store: Arc<dyn Store> = Arc::new(LocalStore::new(&root).map_err(|e| {
            if e.kind() == io::ErrorKind::NotFound {
                Error::NotARepository {
                    start: root.clone(),
                }
            } else {
                Error::Io(e)
            }
        })?);
        Self::with_store(root, store)
    }

    /// Opens a repository through any [`Store`]; `root` is used for messages.
    pub fn with_store(root: Utf8PathBuf, store: Arc<dyn Store>) -> Result<Self> {
        let cfg_path = Utf8Path::new(layout::CONFIG_FILE);
        let bytes = store.read(cfg_path, Limits::CONFIG_BYTES).map_err(|e| {
            if e.is_not_found() {
                Error::NotARepository {
                    start: root.clone(),
                }
            } else {
                Error::Store(e)
            }
        })?;
        let text = String::from_utf8(bytes).map_err(|_| ConfigError {
            file: root.join(cfg_path),
            pos: None,
            message: "not UTF-8 text".into(),
        })?;
        let config = Config::parse(&root.join(cfg_path), &text)?;
        let layout = Layout::new(&config);
        Ok(Repository {
            root,
            config,
            layout,
            store,
        })
    }

    /// Finds the repository at `start` or the nearest directory above it holding
    /// `berth.toml`, as git finds its repository.
    pub fn discover(start: &Utf8Path) -> Result<Self> {
        let start = if start.is_absolute() {
            start.to_owned()
        } else {
            let cwd = std::env::current_dir()?;
            let cwd = Utf8PathBuf::from_path_buf(cwd).map_err(|p| {
                io::Error::new(
                    io::ErrorKind::InvalidInput,
                    format!("the working directory {} is not UTF-8", p.display()),
                )
            })?;
            cwd.join(start)
        };
        let mut dir: Option<&Utf8Path> = Some(&start);
        while let Some(d) = dir {
            if d.join(layout::CONFIG_FILE).is_file() {
                return Self::open(d);
            }
            dir = d.parent();
        }
        Err(Error::NotARepository { start })
    }

    /// The repository a command should use: `explicit` (`--repo`), else `$BERTH_REPO`, else
    /// discovery from the working directory.
    pub fn locate(explicit: Option<&Utf8Path>) -> Result<Self> {
        if let Some(p) = explicit {
            return Self::open(p);
        }
        if let Ok(p) = std::env::var(REPO_ENV)
            && !p.is_empty()
        {
            return Self::open(Utf8PathBuf::from(p));
        }
        Self::discover(Utf8Path::new("."))
    }

    /// Creates a new repository in `dir` with the commented `berth.toml` template, the
    /// `components/` and `index/` directories and a `.gitignore` for berth's state.
    /// Refuses a directory that already holds `berth.toml`.
    pub fn init(dir: &Utf8Path) -> Result<Self> {
        fs_err::create_dir_all(dir)?;
        let store = LocalStore::new(dir)?;
        let lock = store.lock(Duration::from_secs(lock_timeout_secs()))?;
        store
            .create_new(
                &lock,
                Utf8Path::new(layout::CONFIG_FILE),
                Config::template().as_bytes(),
            )
            .map_err(|e| match e {
                StoreError::AlreadyExists { .. } => Error::Io(io::Error::new(
                    io::ErrorKind::AlreadyExists,
                    format!("{dir}/berth.toml already exists: this is already a berth repository"),
                )),
                e => Error::Store(e),
            })?;
        store.create_dir_all(&lock, Utf8Path::new(layout::COMPONENTS_DIR))?;
        store.create_dir_all(&lock, Utf8Path::new(layout::INDEX_DIR))?;
        let gi = Utf8Path::new(".gitignore");
        if !store.exists(gi) {
            store.write_atomic(&lock, gi, GITIGNORE.as_bytes())?;
        }
        drop(lock);
        Self::open(dir)
    }

    /// The root directory.
    pub fn root(&self) -> &Utf8Path {
        &self.root
    }
    /// `berth.toml`.
    pub fn config(&self) -> &Config {
        &self.config
    }
    /// The layout (paths and known formats).
    pub fn layout(&self) -> &Layout {
        &self.layout
    }
    /// Registers a format directory name (embedding code).
    pub fn register_format(&mut self, name: &str) {
        self.layout.register_format(name);
    }
    /// The storage seam.
    pub fn store(&self) -> &dyn Store {
        self.store.as_ref()
    }
    /// The absolute path of a repository-relative path (for messages and local work).
    pub fn path(&self, rel: &Utf8Path) -> Utf8PathBuf {
        self.root.join(rel)
    }

    /// Takes the exclusive writer lock. Waits up to `$BERTH_LOCK_TIMEOUT` seconds
    /// (default 120): CI jobs that write at once queue up instead of failing.
    pub fn lock(&self) -> Result<StoreLock> {
        Ok(self.store.lock(Duration::from_secs(lock_timeout_secs()))?)
    }

    /// The size limits of files berth reads (`[limits]` in berth.toml).
    pub fn limits(&self) -> Limits {
        self.config.limits()
    }

    /// The size limit of a file of the tree: the index limit for `index/components.yaml`
    /// and domain files, the YAML limit for everything else.
    pub fn limit_for(&self, rel: &Utf8Path) -> u64 {
        let limits = self.limits();
        let generated = rel.parent() == Some(Utf8Path::new(layout::INDEX_DIR))
            && rel.extension() == Some("yaml");
        if generated {
            limits.index_bytes
        } else {
            limits.yaml_bytes
        }
    }

    /// The bytes of a file of the tree, within its size limit ([`Repository::limit_for`]).
    pub fn read_bytes(&self, rel: &Utf8Path) -> Result<Vec<u8>, StoreError> {
        self.store.read(rel, self.limit_for(rel))
    }

    /// True when `rel` is a directory (a link to one is not).
    pub fn is_dir(&self, rel: &Utf8Path) -> Result<bool> {
        Ok(matches!(self.store.stat(rel)?, Some(m) if m.kind == EntryKind::Dir))
    }

    /// True when the version directory exists.
    pub fn has_version(&self, c: &ComponentPath, v: &Version) -> Result<bool> {
        self.is_dir(&Layout::version_dir(c, v))
    }

    /// Checks that `c` may hold versions: no enclosing directory is a component (holds
    /// `versions/`), and `c` is not a group with components below it.
    pub fn check_placement(&self, c: &ComponentPath) -> Result<()> {
        for group in c.ancestors() {
            let versions = Utf8Path::new(layout::COMPONENTS_DIR)
                .join(group)
                .join(layout::VERSIONS_DIR);
            if self.store.exists(&versions) {
                return Err(Error::Placement {
                    component: c.to_string(),
                    reason: format!(
                        "`{group}` is a component (it has {versions}); a component cannot hold another"
                    ),
                });
            }
        }
        let dir = Layout::component_dir(c);
        if self.has_component(c)? {
            return Ok(());
        }
        match self.store.list(&dir) {
            Ok(entries) => {
                if let Some(e) = entries.iter().find(|e| e.is_dir) {
                    return Err(Error::Placement {
                        component: c.to_string(),
                        reason: format!(
                            "{dir} is a group of components (it holds `{}`), not a component",
                            e.name
                        ),
                    });
                }
                Ok(())
            }
            Err(e) if e.is_not_found() => Ok(()),
            Err(e) => Err(e.into()),
        }
    }

    /// Every component, sorted by path: each directory below `components/` that holds a
    /// `versions/` directory. Directories with invalid names are skipped here (the
    /// validator reports them). Kept in a catalog under `.berth/cache/` that one `stat` per
    /// group directory keeps honest ([`crate::catalog`]).
    pub fn components(&self) -> Result<Vec<ComponentPath>> {
        crate::catalog::components(self)
    }

    /// True when `c` is a component of this repository (its `versions/` is a directory).
    pub fn has_component(&self, c: &ComponentPath) -> Result<bool> {
        self.is_dir(&Layout::versions_dir(c))
    }

    /// Resolves a user-given component name (full path, or a unique last segment) to a
    /// component that exists, with a "did you mean" hint when it does not.
    pub fn resolve_component(&self, name: &str) -> Result<ComponentPath> {
        if let Ok(c) = ComponentPath::parse(name)
            && self.has_component(&c)?
        {
            return Ok(c);
        }
        let all = self.components()?;
        let by_last: Vec<&ComponentPath> = all.iter().filter(|c| c.name() == name).collect();
        if let [one] = by_last.as_slice() {
            return Ok((*one).clone());
        }
        let hint = if by_last.len() > 1 {
            format!(
                "; `{name}` is ambiguous, give the full path: {}",
                by_last
                    .iter()
                    .map(|c| c.as_str())
                    .collect::<Vec<_>>()
                    .join(", ")
            )
        } else {
            crate::names::hint(
                crate::names::closest_component(name, &all).map(ComponentPath::as_str),
            )
        };
        Err(Error::NotFound {
            what: "component",
            name: name.to_owned(),
            hint,
        })
    }

    /// The versions of a component, ascending by SemVer. Directories whose names are not
    /// SemVer are skipped (the validator reports them as `layout/bad-version`).
    pub fn versions(&self, c: &ComponentPath) -> Result<Vec<Version>> {
        let entries = match self.store.list(&Layout::versions_dir(c)) {
            Ok(e) => e,
            Err(e) if e.is_not_found() => {
                return Err(Error::NotFound {
                    what: "component",
                    name: c.to_string(),
                    hint: String::new(),
                });
            }
            Err(e) => return Err(e.into()),
        };
        let mut out: Vec<Version> = entries
            .into_iter()
            .filter(|e| e.is_dir && !e.name.starts_with('.'))
            .filter_map(|e| Version::parse(&e.name).ok())
            .collect();
        out.sort();
        Ok(out)
    }

    /// The format directories of a version that this layout knows, sorted.
    pub fn formats(&self, c: &ComponentPath, v: &Version) -> Result<Vec<Format>> {
        let entries = self.store.list(&Layout::version_dir(c, v))?;
        Ok(entries
            .into_iter()
            .filter(|e| e.is_dir && self.layout.knows_format(&e.name))
            .filter_map(|e| Format::parse(&e.name).ok())
            .collect())
    }

    /// Reads and parses a YAML file of the repository.
    pub fn read_yaml<T: DeserializeOwned>(&self, rel: &Utf8Path) -> Result<Loaded<T>> {
        let bytes = self.read_bytes(rel)?;
        Ok(self.parse_yaml(&self.path(rel), &bytes)?)
    }

    /// Parses YAML bytes with this repository's value-length limit.
    pub fn parse_yaml<T: DeserializeOwned>(
        &self,
        file: &Utf8Path,
        bytes: &[u8],
    ) -> Result<Loaded<T>, YamlError> {
        yaml::from_slice_limited(file, bytes, self.max_string())
    }

    fn max_string(&self) -> usize {
        usize::try_from(self.limits().string_bytes).unwrap_or(usize::MAX)
    }

    /// Reads a YAML file when it exists.
    pub fn read_yaml_opt<T: DeserializeOwned>(&self, rel: &Utf8Path) -> Result<Option<Loaded<T>>> {
        match self.read_bytes(rel) {
            Ok(bytes) => Ok(Some(self.parse_yaml(&self.path(rel), &bytes)?)),
            Err(e) if e.is_not_found() => Ok(None),
            Err(e) => Err(e.into()),
        }
    }

    /// A version's `metadata.yaml`, with its `x-…` and unknown keys in `extra`.
    pub fn metadata(&self, c: &ComponentPath, v: &Version) -> Result<Loaded<Metadata>> {
        let rel = Layout::metadata_path(c, v);
        let bytes = self.read_bytes(&rel)?;
        Ok(load_metadata_limited(
            &self.path(&rel),
            &bytes,
            self.max_string(),
        )?)
    }

    /// A format's `manifest.yaml`.
    pub fn manifest(&self, c: &ComponentPath, v: &Version, f: &Format) -> Result<Loaded<Manifest>> {
        self.read_yaml(&Layout::manifest_path(c, v, f))
    }

    /// The nearest `ownership.yaml` above a component.
    pub fn owner(&self, c: &ComponentPath) -> Result<Option<Owner>> {
        for group in c.ancestors() {
            let rel = Layout::ownership_path(group);
            if let Some(ownership) = self.read_yaml_opt::<Ownership>(&rel)? {
                return Ok(Some(Owner {
                    group: group.to_owned(),
                    file: rel,
                    ownership,
                }));
            }
        }
        Ok(None)
    }

    /// `index/components.yaml`, when present.
    pub fn components_index(&self) -> Result<Option<Loaded<ComponentsIndex>>> {
        self.read_yaml_opt(&Layout::components_index())
    }

    /// The domain file of a stage, when present.
    pub fn domain_index(
        &self,
        d: &DomainName,
        env: &EnvName,
    ) -> Result<Option<Loaded<DomainIndex>>> {
        self.read_yaml_opt(&Layout::domain_file(&self.config, d, Some(env)))
    }

    /// Writes `value` as canonical YAML, atomically, under the writer lock.
    pub fn write_yaml<T: Serialize>(
        &self,
        lock: &StoreLock,
        rel: &Utf8Path,
        value: &T,
    ) -> Result<()> {
        let text = yaml::to_canonical(value).map_err(|source| Error::Render {
            file: self.path(rel),
            source,
        })?;
        self.store.write_atomic(lock, rel, text.as_bytes())?;
        Ok(())
    }
}

/// What `berth init` writes to `.gitignore`: berth's private state, and the temporary files
/// of writers (never committed, even by `git add -A`).
pub const GITIGNORE: &str = "# berth's lock, caches and temporary files\n/.berth/\n.berth-tmp-*\n";

/// Seconds to wait for the writer lock: `$BERTH_LOCK_TIMEOUT`, default 120.
fn lock_timeout_secs() -> u64 {
    std::env::var("BERTH_LOCK_TIMEOUT")
        .ok()
        .and_then(|s| s.parse::<u64>().ok())
        .unwrap_or(120)
}

/// Parses `metadata.yaml` bytes, filling [`Metadata::extra`] from the keys the struct does
/// not know (so `x-…` keys survive a rewrite and typos can be reported with positions).
pub fn load_metadata(file: &Utf8Path, bytes: &[u8]) -> Result<Loaded<Metadata>, YamlError> {
    load_metadata_limited(file, bytes, Limits::DEFAULT.string_bytes as usize)
}

/// [`load_metadata`] with a longest-value limit (`[limits] string_bytes`).
pub fn load_metadata_limited(
    file: &Utf8Path,
    bytes: &[u8],
    max_string: usize,
) -> Result<Loaded<Metadata>, YamlError> {
    let mut loaded: Loaded<Metadata> = yaml::from_slice_limited(file, bytes, max_string)?;
    for uk in loaded.unknown.iter().filter(|u| u.parent.is_empty()) {
        if let Some(node) = loaded.root.get(&uk.key) {
            let value = yaml::from_node::<serde_json::Value>(file, node.clone())
                .map(|l| l.value)
                .unwrap_or(serde_json::Value::Null);
            loaded.value.extra.insert(uk.key.clone(), value);
        }
    }
    Ok(loaded)
}
