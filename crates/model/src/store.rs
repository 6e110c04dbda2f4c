//! The storage seam: every read and write of a repository goes through [`Store`].
//!
//! [`LocalStore`] is a directory on a local filesystem. Writes are atomic (a temporary
//! file in the same directory, fsync, rename, fsync of the directory), so a reader never
//! sees half a file and a crash leaves the old or the new content. Writers take the
//! repository lock ([`Store::lock`]), an OS file lock that dies with its process, so a
//! crashed writer never blocks the next one.

use std::io::{self, Write};
use std::time::{Duration, Instant};

use camino::{Utf8Path, Utf8PathBuf};

/// One entry of a directory listing.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct Entry {
    /// The file or directory name.
    pub name: String,
    /// True for a directory.
    pub is_dir: bool,
    /// True for a symbolic link (not followed).
    pub is_symlink: bool,
}

/// Held while a writer changes the repository; released on drop or process death.
#[derive(Debug)]
pub struct StoreLock {
    _file: std::fs::File,
}

/// Where a repository's bytes live. Paths are relative to the repository root.
pub trait Store: Send + Sync + std::fmt::Debug {
    /// Reads a whole file.
    fn read(&self, rel: &Utf8Path) -> io::Result<Vec<u8>>;
    /// Replaces (or creates) a file atomically.
    fn write_atomic(&self, rel: &Utf8Path, data: &[u8]) -> io::Result<()>;
    /// Creates a file atomically, failing with `AlreadyExists` if it exists (audit records).
    fn create_new(&self, rel: &Utf8Path, data: &[u8]) -> io::Result<()>;
    /// True when the path exists.
    fn exists(&self, rel: &Utf8Path) -> bool;
    /// The entries of a directory, sorted by name; `NotFound` if it does not exist.
    fn list(&self, rel: &Utf8Path) -> io::Result<Vec<Entry>>;
    /// Takes the exclusive writer lock, waiting up to `timeout`.
    fn lock(&self, timeout: Duration) -> io::Result<StoreLock>;
    /// The local directory behind the store, for work that needs real paths (ingesting
    /// artifacts); `None` for remote stores.
    fn local_root(&self) -> Option<&Utf8Path>;
}

/// A repository in a local directory.
#[derive(Debug, Clone)]
pub struct LocalStore {
    root: Utf8PathBuf,
}

impl LocalStore {
    /// A store rooted at `root`.
    pub fn new(root: impl Into<Utf8PathBuf>) -> Self {
        LocalStore { root: root.into() }
    }

    fn abs(&self, rel: &Utf8Path) -> Utf8PathBuf {
        self.root.join(rel)
    }
}

/// Writes `data` to `path` atomically: temp file in the same directory, fsync, rename (or
/// link without replacing when `replace` is false), fsync of the directory.
pub fn atomic_write(path: &Utf8Path, data: &[u8], replace: bool) -> io::Result<()> {
    let dir = path.parent().unwrap_or(Utf8Path::new("."));
    fs_err::create_dir_all(dir)?;
    let mut tmp = tempfile::Builder::new()
        .prefix(".berth-tmp-")
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
    #[cfg(unix)]
    {
        use std::os::unix::fs::MetadataExt as _;
        if let (Ok(x), Ok(y)) = (std::fs::symlink_metadata(a), std::fs::symlink_metadata(b)) {
            return x.dev() == y.dev() && x.ino() == y.ino();
        }
    }
    let _ = (a, b);
    false
}

/// Flushes a directory's entries to disk (after a rename into it).
pub fn sync_dir(dir: &Utf8Path) -> io::Result<()> {
    // Opening a directory for fsync works on Unix; elsewhere it is a no-op best effort.
    match std::fs::File::open(dir) {
        Ok(f) => f.sync_all().or(Ok(())),
        Err(_) => Ok(()),
    }
}

impl Store for LocalStore {
    fn read(&self, rel: &Utf8Path) -> io::Result<Vec<u8>> {
        fs_err::read(self.abs(rel))
    }

    fn write_atomic(&self, rel: &Utf8Path, data: &[u8]) -> io::Result<()> {
        atomic_write(&self.abs(rel), data, true)
    }

    fn create_new(&self, rel: &Utf8Path, data: &[u8]) -> io::Result<()> {
        atomic_write(&self.abs(rel), data, false)
    }

    fn exists(&self, rel: &Utf8Path) -> bool {
        self.abs(rel).symlink_metadata().is_ok()
    }

    fn list(&self, rel: &Utf8Path) -> io::Result<Vec<Entry>> {
        let mut out = Vec::new();
        for e in fs_err::read_dir(self.abs(rel))? {
            let e = e?;
            let ft = e.file_type()?;
            let Ok(name) = e.file_name().into_string() else {
                // Non-UTF-8 names cannot be components; report them by a lossy name.
                out.push(Entry {
                    name: e.file_name().to_string_lossy().into_owned(),
                    is_dir: ft.is_dir(),
                    is_symlink: ft.is_symlink(),
                });
                continue;
            };
            out.push(Entry {
                name,
                is_dir: ft.is_dir(),
                is_symlink: ft.is_symlink(),
            });
        }
        out.sort();
        Ok(out)
    }

    fn lock(&self, timeout: Duration) -> io::Result<StoreLock> {
        let dir = self.abs(Utf8Path::new(crate::layout::STATE_DIR));
        fs_err::create_dir_all(&dir)?;
        let path = dir.join("lock");
        let file = fs_err::OpenOptions::new()
            .create(true)
            .truncate(false)
            .write(true)
            .open(&path)?
            .into_parts()
            .0;
        let start = Instant::now();
        loop {
            match file.try_lock() {
                Ok(()) => return Ok(StoreLock { _file: file }),
                Err(std::fs::TryLockError::WouldBlock) if start.elapsed() < timeout => {
                    std::thread::sleep(Duration::from_millis(20));
                }
                Err(std::fs::TryLockError::WouldBlock) => {
                    return Err(io::Error::new(
                        io::ErrorKind::TimedOut,
                        format!(
                            "{path}: another berth process holds the repository lock; waited {:.0?} (set BERTH_LOCK_TIMEOUT, in seconds, to wait longer)",
                            timeout
                        ),
                    ));
                }
                Err(std::fs::TryLockError::Error(e)) => {
                    return Err(io::Error::new(e.kind(), format!("{path}: {e}")));
                }
            }
        }
    }

    fn local_root(&self) -> Option<&Utf8Path> {
        Some(&self.root)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn atomic_writes_and_create_new() {
        let dir = tempfile::tempdir().expect("tempdir");
        let root = Utf8PathBuf::from_path_buf(dir.path().to_path_buf()).expect("utf8");
        let s = LocalStore::new(&root);
        let p = Utf8Path::new("a/b.yaml");
        s.write_atomic(p, b"one").expect("write");
        s.write_atomic(p, b"two").expect("replace");
        assert_eq!(s.read(p).expect("read"), b"two");
        let e = s.create_new(p, b"three").expect_err("exists");
        assert_eq!(e.kind(), io::ErrorKind::AlreadyExists);
        assert_eq!(s.read(p).expect("read"), b"two");
        // No temporary files are left behind.
        let names: Vec<_> = s
            .list(Utf8Path::new("a"))
            .expect("list")
            .into_iter()
            .map(|e| e.name)
            .collect();
        assert_eq!(names, ["b.yaml"]);
    }

    #[test]
    fn lock_is_exclusive_and_released_on_drop() {
        let dir = tempfile::tempdir().expect("tempdir");
        let root = Utf8PathBuf::from_path_buf(dir.path().to_path_buf()).expect("utf8");
        let a = LocalStore::new(&root);
        let b = LocalStore::new(&root);
        let held = a.lock(Duration::from_millis(10)).expect("first lock");
        let e = b
            .lock(Duration::from_millis(50))
            .expect_err("second waits then fails");
        assert_eq!(e.kind(), io::ErrorKind::TimedOut);
        drop(held);
        b.lock(Duration::from_millis(50)).expect("free again");
    }
}
