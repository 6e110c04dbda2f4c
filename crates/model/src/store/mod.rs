//! The storage seam: every read and write of a repository's tree goes through [`Store`],
//! and [`Store`] keeps the promises of PRODUCT.md §9 in one place:
//!
//! - **Nothing outside the tree, no symbolic link followed.** Every path is resolved below
//!   the root by the kernel, never following a link on the way (`openat2` with
//!   `RESOLVE_BENEATH | RESOLVE_NO_SYMLINKS`, or `O_NOFOLLOW` per component where that call
//!   is missing). A link anywhere on a path is [`StoreError::Symlink`], whose message is the
//!   `layout/symlink-escape` rule's.
//! - **Only regular files are read**, checked on the open handle (opened non-blocking, so a
//!   FIFO never hangs a reader and a device never streams forever): [`StoreError::NotRegular`].
//! - **Every file has a size limit checked before it is read** ([`Limits`]):
//!   [`StoreError::TooLarge`].
//! - **Writes are atomic and serialised.** Every write method takes the [`StoreLock`], so
//!   only the lock holder writes. A write goes to a temporary file under `.berth/tmp/`
//!   (fsynced), then is renamed into place (the directory fsynced): a reader sees the old or
//!   the new bytes, never half. Taking the lock removes temporary files that a killed writer
//!   left there; nothing else is ever left behind in the tree.
//! - **Files follow the umask**, like any Unix tool: created with mode 0666, directories
//!   0777, less the umask.
//!
//! [`LocalStore`] is a directory on a local filesystem. Writers take the repository lock
//! ([`Store::lock`]), an OS file lock that dies with its process, so a crashed writer never
//! blocks the next one.

mod root;

use std::fs::File;
use std::io::{self, Write};
use std::sync::Arc;
use std::time::{Duration, Instant};

use camino::{Utf8Path, Utf8PathBuf};

use root::RootDir;
pub use root::TEMP_PREFIX;

/// What kind of thing a directory entry is (symbolic links are never followed).
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, serde::Serialize, serde::Deserialize,
)]
pub enum EntryKind {
    /// A regular file.
    File,
    /// A directory.
    Dir,
    /// A symbolic link.
    Symlink,
    /// A FIFO, socket or device.
    Other,
}

impl EntryKind {
    fn of(ft: rustix::fs::FileType) -> EntryKind {
        match ft {
            rustix::fs::FileType::RegularFile => EntryKind::File,
            rustix::fs::FileType::Directory => EntryKind::Dir,
            rustix::fs::FileType::Symlink => EntryKind::Symlink,
            _ => EntryKind::Other,
        }
    }
}

/// One entry of a directory listing.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct Entry {
    /// The file or directory name.
    pub name: String,
    /// True for a directory (never for a link to one).
    pub is_dir: bool,
    /// True for a symbolic link (not followed).
    pub is_symlink: bool,
    /// What it is.
    pub kind: EntryKind,
}

/// What a path is, as `stat` says without following a symbolic link.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
pub struct Meta {
    /// File, directory, link or special file.
    pub kind: EntryKind,
    /// Size in bytes.
    pub size: u64,
    /// Modification time, nanoseconds since the epoch (until the year 2262).
    pub mtime_ns: i64,
    /// Inode-change time, nanoseconds since the epoch.
    pub ctime_ns: i64,
    /// Inode number.
    pub ino: u64,
    /// Device.
    pub dev: u64,
}

impl Meta {
    fn from_stat(st: &rustix::fs::Stat) -> Meta {
        let ns = |s: i64, n: u64| {
            s.saturating_mul(1_000_000_000)
                .saturating_add(i64::try_from(n).unwrap_or(0))
        };
        Meta {
            kind: EntryKind::of(rustix::fs::FileType::from_raw_mode(st.st_mode)),
            size: u64::try_from(st.st_size).unwrap_or(0),
            mtime_ns: ns(st.st_mtime, st.st_mtime_nsec),
            ctime_ns: ns(st.st_ctime, st.st_ctime_nsec),
            ino: st.st_ino,
            dev: st.st_dev,
        }
    }

    /// A key that changes whenever the file's content may have: size, mtime, ctime, inode
    /// and device. A cache keyed by it cannot be hit by a changed file.
    pub fn change_key(&self) -> String {
        format!(
            "{}:{}:{}:{}:{}",
            self.size, self.mtime_ns, self.ctime_ns, self.ino, self.dev
        )
    }
}

/// Size limits of files berth reads, checked before a byte is read (`[limits]` in
/// berth.toml).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    /// Hand-written and per-version YAML: metadata.yaml, manifest.yaml, ownership.yaml,
    /// audit records.
    pub yaml_bytes: u64,
    /// Generated indexes that grow with the repository: `index/components.yaml` and the
    /// domain files.
    pub index_bytes: u64,
    /// The longest single YAML value (a string, a key).
    pub string_bytes: u64,
}

impl Limits {
    /// `berth.toml` itself, read before any limit is known.
    pub const CONFIG_BYTES: u64 = 1 << 20;
    /// The defaults: 1 MiB for YAML files, 64 MiB for indexes, 64 KiB per value.
    pub const DEFAULT: Limits = Limits {
        yaml_bytes: 1 << 20,
        index_bytes: 64 << 20,
        string_bytes: 64 << 10,
    };
}

impl Default for Limits {
    fn default() -> Self {
        Limits::DEFAULT
    }
}

/// Why the store refused or failed. Each variant names the file; callers match on the
/// variant, never on the message.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// The path does not exist.
    #[error("{path}: No such file or directory")]
    NotFound {
        /// The path.
        path: Utf8PathBuf,
    },
    /// A symbolic link lies on the path: berth does not follow links inside a repository.
    #[error("{}", crate::layout::symlink_message(path, target.as_deref()))]
    Symlink {
        /// The repository root.
        root: Utf8PathBuf,
        /// The link, relative to the root.
        path: Utf8PathBuf,
        /// Where it points (read, never followed), when it could be read.
        target: Option<String>,
    },
    /// A path that is not a plain relative path below the root (`..`, absolute).
    #[error("`{path}` is not a path inside the repository (no `..`, no absolute paths)")]
    OutsideTree {
        /// The path as given.
        path: Utf8PathBuf,
    },
    /// A file was expected and something else is there.
    #[error("{path} is {what}, not a regular file; berth reads regular files only")]
    NotRegular {
        /// The path.
        path: Utf8PathBuf,
        /// What it is, in words (`a FIFO (named pipe)`).
        what: &'static str,
    },
    /// A directory was expected on the path.
    #[error("{path} is {what}, not a directory")]
    NotADirectory {
        /// The path.
        path: Utf8PathBuf,
        /// What it is.
        what: &'static str,
    },
    /// The file is over its size limit.
    #[error(
        "{path} is {size} bytes, over the limit of {limit} bytes for this kind of file; refusing to read it (raise [limits] in berth.toml if it is legitimate)"
    )]
    TooLarge {
        /// The path.
        path: Utf8PathBuf,
        /// Its size (at least).
        size: u64,
        /// The limit.
        limit: u64,
    },
    /// `create_new` or a non-replacing rename found the path taken.
    #[error("{path} already exists")]
    AlreadyExists {
        /// The path.
        path: Utf8PathBuf,
    },
    /// Another writer holds the repository lock for too long.
    #[error(
        "{path}: another berth process holds the repository lock; waited {waited:.0?} (set BERTH_LOCK_TIMEOUT, in seconds, to wait longer)"
    )]
    LockTimeout {
        /// The lock file.
        path: Utf8PathBuf,
        /// How long this process waited.
        waited: Duration,
    },
    /// Any other I/O error.
    #[error("{path}: {source}")]
    Io {
        /// The path.
        path: Utf8PathBuf,
        /// The error.
        source: io::Error,
    },
}

impl StoreError {
    /// True when the path does not exist.
    pub fn is_not_found(&self) -> bool {
        matches!(self, StoreError::NotFound { .. })
            || matches!(self, StoreError::Io { source, .. } if source.kind() == io::ErrorKind::NotFound)
    }

    /// The path the error is about (relative to the root for [`StoreError::Symlink`] and
    /// [`StoreError::OutsideTree`], as given or absolute for the others).
    pub fn path(&self) -> &Utf8Path {
        match self {
            StoreError::NotFound { path }
            | StoreError::Symlink { path, .. }
            | StoreError::OutsideTree { path }
            | StoreError::NotRegular { path, .. }
            | StoreError::NotADirectory { path, .. }
            | StoreError::TooLarge { path, .. }
            | StoreError::AlreadyExists { path }
            | StoreError::LockTimeout { path, .. }
            | StoreError::Io { path, .. } => path,
        }
    }

    /// The closest `io::ErrorKind`.
    pub fn kind(&self) -> io::ErrorKind {
        match self {
            StoreError::NotFound { .. } => io::ErrorKind::NotFound,
            StoreError::AlreadyExists { .. } => io::ErrorKind::AlreadyExists,
            StoreError::LockTimeout { .. } => io::ErrorKind::TimedOut,
            StoreError::TooLarge { .. } => io::ErrorKind::FileTooLarge,
            StoreError::NotRegular { .. } | StoreError::NotADirectory { .. } => {
                io::ErrorKind::InvalidInput
            }
            StoreError::Symlink { .. } | StoreError::OutsideTree { .. } => {
                io::ErrorKind::PermissionDenied
            }
            StoreError::Io { source, .. } => source.kind(),
        }
    }
}

impl From<StoreError> for io::Error {
    fn from(e: StoreError) -> Self {
        io::Error::new(e.kind(), e)
    }
}

/// Held while a writer changes the repository; released on drop or process death. Every
/// write method of [`Store`] asks for it.
#[derive(Debug)]
pub struct StoreLock {
    _file: File,
}

/// Where a repository's bytes live. Paths are relative to the repository root; none may
/// hold `..` or pass through a symbolic link.
pub trait Store: Send + Sync + std::fmt::Debug {
    /// Reads a whole regular file of at most `limit` bytes.
    fn read(&self, rel: &Utf8Path, limit: u64) -> Result<Vec<u8>, StoreError>;
    /// Opens a regular file for streaming (artifacts), with what `stat` says of it.
    fn open(&self, rel: &Utf8Path) -> Result<(File, Meta), StoreError>;
    /// What is at `rel` (not following a link); `None` when nothing is.
    fn stat(&self, rel: &Utf8Path) -> Result<Option<Meta>, StoreError>;
    /// True when something exists at `rel` (a link counts, unfollowed).
    fn exists(&self, rel: &Utf8Path) -> bool {
        matches!(self.stat(rel), Ok(Some(_)))
    }
    /// The entries of a directory, sorted by name; `NotFound` if it does not exist.
    fn list(&self, rel: &Utf8Path) -> Result<Vec<Entry>, StoreError>;
    /// [`Store::list`] with what `stat` says of every entry (not following links); an entry
    /// removed between the listing and its `stat` is left out.
    fn list_stat(&self, rel: &Utf8Path) -> Result<Vec<(Entry, Meta)>, StoreError> {
        let mut out = Vec::new();
        for e in self.list(rel)? {
            if let Some(m) = self.stat(&rel.join(&e.name))? {
                out.push((e, m));
            }
        }
        Ok(out)
    }
    /// What is at `rel`, for comparing with what an earlier [`Store::stat`] or
    /// [`Store::list_stat`] said, and nothing else: a local store answers with one
    /// `lstat` from its root, which follows a link standing for a *directory* on the
    /// way. A caller that probes a directory's files also probes the directory, so that a
    /// directory replaced by a link shows as a change. Never use the answer to decide
    /// what to read.
    fn probe(&self, rel: &Utf8Path) -> Option<Meta> {
        self.stat(rel).ok().flatten()
    }
    /// Checks, changing nothing, that `rel` could be written: no link and no file on its
    /// path, and `rel` missing or a regular file. Writers check every path first, so that
    /// a refusal leaves the tree as it was.
    fn check_writable(&self, rel: &Utf8Path) -> Result<(), StoreError>;
    /// Replaces (or creates) a file atomically.
    fn write_atomic(&self, lock: &StoreLock, rel: &Utf8Path, data: &[u8])
    -> Result<(), StoreError>;
    /// Creates a file atomically, failing with [`StoreError::AlreadyExists`] if it exists.
    fn create_new(&self, lock: &StoreLock, rel: &Utf8Path, data: &[u8]) -> Result<(), StoreError>;
    /// Creates a directory and its parents.
    fn create_dir_all(&self, lock: &StoreLock, rel: &Utf8Path) -> Result<(), StoreError>;
    /// Renames a file or directory inside the tree; with `replace` false an existing
    /// target is [`StoreError::AlreadyExists`].
    fn rename(
        &self,
        lock: &StoreLock,
        from: &Utf8Path,
        to: &Utf8Path,
        replace: bool,
    ) -> Result<(), StoreError>;
    /// Removes a file, or a directory and everything in it (links are removed, never
    /// followed). A missing path is not an error.
    fn remove(&self, lock: &StoreLock, rel: &Utf8Path) -> Result<(), StoreError>;
    /// Takes the exclusive writer lock, waiting up to `timeout`; removes what killed
    /// writers left in `.berth/tmp/`.
    fn lock(&self, timeout: Duration) -> Result<StoreLock, StoreError>;
    /// A private work directory under `.berth/tmp/` for a process that stages files before
    /// taking the lock (`berth add`). It is created with no link on its path.
    fn work_dir(&self, prefix: &str) -> Result<WorkDir, StoreError>;
    /// Hard-links the regular file `rel` to `dest`, a new path outside the tree (a
    /// published repository). Fails where the store has no local files.
    fn link_out(&self, rel: &Utf8Path, dest: &Utf8Path) -> io::Result<()>;
    /// Replaces a file of berth's private state (`.berth/…`: caches) atomically, without
    /// the writer lock and without fsync: such files are rebuilt when missing, and a reader
    /// sees the old or the new bytes.
    fn write_private(&self, rel: &Utf8Path, data: &[u8]) -> Result<(), StoreError>;
    /// The local directory behind the store, for messages and for work that needs real
    /// paths (a work directory's files); `None` for remote stores.
    fn local_root(&self) -> Option<&Utf8Path>;
}

/// A work directory under `.berth/tmp/`: its path relative to the root and absolute. While
/// the value lives, the directory's `.alive` file is locked, so a sweep can tell a dead
/// process's work directory ([`WorkDir::is_abandoned`]) from a live one.
#[derive(Debug)]
pub struct WorkDir {
    /// Relative to the repository root (`.berth/tmp/add-…`).
    pub rel: Utf8PathBuf,
    /// Absolute.
    pub abs: Utf8PathBuf,
    _alive: File,
}

/// The file whose lock says a work directory is in use.
pub const ALIVE_FILE: &str = ".alive";

impl WorkDir {
    /// True when no living process holds the `.alive` lock of the work directory `abs`
    /// (its owner was killed). Directories without the file are not abandoned (unknown).
    pub fn is_abandoned(abs: &Utf8Path) -> bool {
        let Ok(f) = std::fs::OpenOptions::new()
            .read(true)
            .custom_flags_nofollow()
            .open(abs.join(ALIVE_FILE))
        else {
            return false;
        };
        matches!(f.try_lock(), Ok(()))
    }
}

trait NoFollow {
    fn custom_flags_nofollow(&mut self) -> &mut Self;
}

impl NoFollow for std::fs::OpenOptions {
    fn custom_flags_nofollow(&mut self) -> &mut Self {
        use std::os::unix::fs::OpenOptionsExt as _;
        self.custom_flags(rustix::fs::OFlags::NOFOLLOW.bits() as i32)
    }
}

/// berth's private state inside a repository: `.berth/` (git-ignored).
pub const TMP_DIR: &str = ".berth/tmp";
const LOCK_FILE: &str = ".berth/lock";

/// A repository in a local directory (see the module docs for its guarantees).
#[derive(Debug, Clone)]
pub struct LocalStore {
    root: Arc<RootDir>,
}

impl LocalStore {
    /// A store rooted at `root`, which must be an existing directory.
    pub fn new(root: impl Into<Utf8PathBuf>) -> io::Result<Self> {
        let root: Utf8PathBuf = root.into();
        Ok(LocalStore {
            root: Arc::new(RootDir::open(&root)?),
        })
    }
}

impl Store for LocalStore {
    fn read(&self, rel: &Utf8Path, limit: u64) -> Result<Vec<u8>, StoreError> {
        self.root.read(rel, limit)
    }

    fn open(&self, rel: &Utf8Path) -> Result<(File, Meta), StoreError> {
        self.root.open_file(rel)
    }

    fn stat(&self, rel: &Utf8Path) -> Result<Option<Meta>, StoreError> {
        self.root.stat(rel)
    }

    fn list(&self, rel: &Utf8Path) -> Result<Vec<Entry>, StoreError> {
        let mut out: Vec<Entry> = self
            .root
            .list(rel)?
            .into_iter()
            .map(|(name, kind)| Entry {
                name,
                is_dir: kind == EntryKind::Dir,
                is_symlink: kind == EntryKind::Symlink,
                kind,
            })
            .collect();
        out.sort();
        Ok(out)
    }

    fn list_stat(&self, rel: &Utf8Path) -> Result<Vec<(Entry, Meta)>, StoreError> {
        let mut out: Vec<(Entry, Meta)> = self
            .root
            .list_stat(rel)?
            .into_iter()
            .map(|(name, meta)| {
                let kind = meta.kind;
                let entry = Entry {
                    name,
                    is_dir: kind == EntryKind::Dir,
                    is_symlink: kind == EntryKind::Symlink,
                    kind,
                };
                (entry, meta)
            })
            .collect();
        out.sort_by(|a, b| a.0.cmp(&b.0));
        Ok(out)
    }

    fn probe(&self, rel: &Utf8Path) -> Option<Meta> {
        self.root.probe(rel)
    }

    fn check_writable(&self, rel: &Utf8Path) -> Result<(), StoreError> {
        self.root.check_writable(rel)
    }

    fn write_atomic(
        &self,
        _lock: &StoreLock,
        rel: &Utf8Path,
        data: &[u8],
    ) -> Result<(), StoreError> {
        self.root.write(Utf8Path::new(TMP_DIR), rel, data, true)
    }

    fn create_new(&self, _lock: &StoreLock, rel: &Utf8Path, data: &[u8]) -> Result<(), StoreError> {
        self.root.write(Utf8Path::new(TMP_DIR), rel, data, false)
    }

    fn create_dir_all(&self, _lock: &StoreLock, rel: &Utf8Path) -> Result<(), StoreError> {
        self.root.create_dir_all(rel).map(drop)
    }

    fn rename(
        &self,
        _lock: &StoreLock,
        from: &Utf8Path,
        to: &Utf8Path,
        replace: bool,
    ) -> Result<(), StoreError> {
        self.root.rename(from, to, replace)
    }

    fn remove(&self, _lock: &StoreLock, rel: &Utf8Path) -> Result<(), StoreError> {
        self.root.remove_all(rel)
    }

    fn lock(&self, timeout: Duration) -> Result<StoreLock, StoreError> {
        let rel = Utf8Path::new(LOCK_FILE);
        let file = self.root.open_lock_file(rel)?;
        let path = self.root.path().join(rel);
        let start = Instant::now();
        loop {
            match file.try_lock() {
                Ok(()) => {
                    // No other writer runs: temporary files in .berth/tmp are leftovers.
                    self.root.sweep_temp(Utf8Path::new(TMP_DIR))?;
                    return Ok(StoreLock { _file: file });
                }
                Err(std::fs::TryLockError::WouldBlock) if start.elapsed() < timeout => {
                    std::thread::sleep(Duration::from_millis(20));
                }
                Err(std::fs::TryLockError::WouldBlock) => {
                    return Err(StoreError::LockTimeout {
                        path,
                        waited: timeout,
                    });
                }
                Err(std::fs::TryLockError::Error(source)) => {
                    return Err(StoreError::Io { path, source });
                }
            }
        }
    }

    fn work_dir(&self, prefix: &str) -> Result<WorkDir, StoreError> {
        let tmp = Utf8Path::new(TMP_DIR);
        self.root.create_dir_all(tmp)?;
        let nanos = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.as_nanos());
        for i in 0..64u32 {
            let rel = tmp.join(format!("{prefix}-{}-{nanos:x}-{i}", std::process::id()));
            if self.root.stat(&rel)?.is_some() {
                continue;
            }
            self.root.create_dir_all(&rel)?;
            let alive = self.root.open_lock_file(&rel.join(ALIVE_FILE))?;
            alive.lock().map_err(|source| StoreError::Io {
                path: self.root.path().join(&rel),
                source,
            })?;
            return Ok(WorkDir {
                abs: self.root.path().join(&rel),
                rel,
                _alive: alive,
            });
        }
        Err(StoreError::AlreadyExists {
            path: self.root.path().join(tmp),
        })
    }

    fn link_out(&self, rel: &Utf8Path, dest: &Utf8Path) -> io::Result<()> {
        self.root.link_out(rel, dest)
    }

    fn write_private(&self, rel: &Utf8Path, data: &[u8]) -> Result<(), StoreError> {
        if !rel.starts_with(".berth") {
            return Err(StoreError::OutsideTree {
                path: rel.to_owned(),
            });
        }
        self.root.write_unsynced(Utf8Path::new(TMP_DIR), rel, data)
    }

    fn local_root(&self) -> Option<&Utf8Path> {
        Some(self.root.path())
    }
}

// ---------------------------------------------------------------------------------------
// Files outside a repository: sources given to `berth add`, published output, caches.

/// Opens a file outside any repository (a `berth add` source) for reading, refusing
/// anything but a regular file on the open handle: a FIFO is opened non-blocking (it never
/// hangs), a device is refused before a byte is read. Symbolic links given by the user are
/// followed: the user named the file.
pub fn open_regular(path: &Utf8Path) -> Result<(File, Meta), StoreError> {
    use std::os::unix::fs::OpenOptionsExt as _;
    let file = std::fs::OpenOptions::new()
        .read(true)
        .custom_flags((rustix::fs::OFlags::NONBLOCK | rustix::fs::OFlags::NOCTTY).bits() as i32)
        .open(path.as_std_path())
        .map_err(|source| {
            if source.kind() == io::ErrorKind::NotFound {
                StoreError::NotFound {
                    path: path.to_owned(),
                }
            } else {
                StoreError::Io {
                    path: path.to_owned(),
                    source,
                }
            }
        })?;
    let st = rustix::fs::fstat(&file).map_err(|e| StoreError::Io {
        path: path.to_owned(),
        source: e.into(),
    })?;
    let meta = Meta::from_stat(&st);
    if meta.kind != EntryKind::File {
        return Err(StoreError::NotRegular {
            path: path.to_owned(),
            what: root::kind_words(rustix::fs::FileType::from_raw_mode(st.st_mode)),
        });
    }
    Ok((file, meta))
}

/// Reads a regular file outside any repository, refusing one over `limit` bytes before
/// reading it (`berth add --metadata FILE`).
pub fn read_regular(path: &Utf8Path, limit: u64) -> Result<Vec<u8>, StoreError> {
    let (file, meta) = open_regular(path)?;
    root::read_limited(file, meta.size, limit, path)
}

/// Writes `data` to `path` (outside a repository: caches, published output) atomically:
/// temp file in the same directory (mode 0666 less the umask), fsync, rename (or link
/// without replacing when `replace` is false), fsync of the directory.
pub fn atomic_write(path: &Utf8Path, data: &[u8], replace: bool) -> io::Result<()> {
    use std::os::unix::fs::PermissionsExt as _;
    let dir = path.parent().unwrap_or(Utf8Path::new("."));
    fs_err::create_dir_all(dir)?;
    let mut tmp = tempfile::Builder::new()
        .prefix(TEMP_PREFIX)
        .permissions(std::fs::Permissions::from_mode(0o666))
        .tempfile_in(dir)
        .map_err(|e| {
            io::Error::new(e.kind(), format!("creating a temporary file in {dir}: {e}"))
        })?;
    tmp.write_all(data)?;
    tmp.as_file().sync_all()?;
    if replace {
        tmp.persist(path).map_err(|e| {
            io::Error::new(e.error.kind(), format!("replacing {path}: {}", e.error))
        })?;
    } else {
        tmp.persist_noclobber(path)
            .map_err(|e| io::Error::new(e.error.kind(), format!("creating {path}: {}", e.error)))?;
    }
    sync_dir(dir)
}

/// True when `a` and `b` are the same file: two hard links (same device and inode).
/// Symbolic links are not followed, so a link pointing at `b` is not `b`.
pub fn same_file(a: &Utf8Path, b: &Utf8Path) -> bool {
    use std::os::unix::fs::MetadataExt as _;
    if let (Ok(x), Ok(y)) = (std::fs::symlink_metadata(a), std::fs::symlink_metadata(b)) {
        return x.dev() == y.dev() && x.ino() == y.ino();
    }
    false
}

/// Flushes a directory's entries to disk (after a rename into it).
pub fn sync_dir(dir: &Utf8Path) -> io::Result<()> {
    match std::fs::File::open(dir) {
        Ok(f) => f.sync_all().or(Ok(())),
        Err(_) => Ok(()),
    }
}

/// Starts writing `len` bytes of `file` from `offset` back to disk without waiting, so that
/// a later `fsync` waits for the tail only (Linux starts write-back of dirty pages for
/// `POSIX_FADV_DONTNEED`; the range then leaves the page cache once written, as a copy
/// nobody reads soon should). Advice only: an error is ignored.
pub fn start_writeback(file: &File, offset: u64, len: u64) {
    if let Some(len) = std::num::NonZeroU64::new(len) {
        let _ = rustix::fs::fadvise(file, offset, Some(len), rustix::fs::Advice::DontNeed);
    }
}

#[cfg(test)]
mod tests;
