//! A directory tree opened once and reached only through it: every path below the root is
//! resolved by the kernel without following symbolic links and without leaving the root
//! (`openat2` with `RESOLVE_BENEATH | RESOLVE_NO_SYMLINKS`, or, where that system call is not
//! available, one `openat(O_NOFOLLOW)` per path component). Files are opened non-blocking
//! and checked on the open handle, so a FIFO or a device never blocks or streams forever.
//! New files and directories are created with modes 0666/0777, so the umask decides, as it
//! does for any Unix tool.

use std::fs::File;
use std::io::{self, Read as _, Write as _};
use std::os::fd::{AsFd, OwnedFd};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};

use camino::{Utf8Component, Utf8Path, Utf8PathBuf};
use rustix::fs::{self as rfs, AtFlags, Mode, OFlags, RenameFlags, ResolveFlags};
use rustix::io::Errno;

use super::{EntryKind, Meta, StoreError};

/// `openat2` is missing (old kernel) or filtered (some container sandboxes): use the
/// per-component walk from then on.
pub(crate) static NO_OPENAT2: AtomicBool = AtomicBool::new(false);

/// A directory whose descendants are only ever reached through it (see the module docs).
#[derive(Debug)]
pub(crate) struct RootDir {
    fd: OwnedFd,
    /// The root as the user named it, for messages.
    path: Utf8PathBuf,
}

/// What kind of thing a non-regular, non-directory entry is, in words.
pub(crate) fn kind_words(ft: rfs::FileType) -> &'static str {
    match ft {
        rfs::FileType::Fifo => "a FIFO (named pipe)",
        rfs::FileType::CharacterDevice => "a character device",
        rfs::FileType::BlockDevice => "a block device",
        rfs::FileType::Socket => "a socket",
        rfs::FileType::Symlink => "a symbolic link",
        rfs::FileType::Directory => "a directory",
        rfs::FileType::RegularFile => "a regular file",
        _ => "a special file",
    }
}

fn errno_io(e: Errno) -> io::Error {
    io::Error::from(e)
}

/// Checks that `rel` is a plain relative path: no root, no `..`, no `.`, not empty.
pub(crate) fn check_rel(rel: &Utf8Path) -> Result<(), StoreError> {
    if rel.as_str().is_empty() {
        return Ok(());
    }
    for c in rel.components() {
        match c {
            Utf8Component::Normal(_) => {}
            _ => {
                return Err(StoreError::OutsideTree {
                    path: rel.to_owned(),
                });
            }
        }
    }
    if rel.as_str().contains('\0') {
        return Err(StoreError::OutsideTree {
            path: rel.to_owned(),
        });
    }
    Ok(())
}

impl RootDir {
    /// Opens `path` (the root itself may be reached through symbolic links: the user named
    /// it).
    pub(crate) fn open(path: &Utf8Path) -> io::Result<RootDir> {
        let fd = rfs::open(
            path.as_std_path(),
            OFlags::PATH | OFlags::DIRECTORY | OFlags::CLOEXEC,
            Mode::empty(),
        )
        .map_err(|e| io::Error::new(errno_io(e).kind(), format!("{path}: {}", errno_io(e))))?;
        Ok(RootDir {
            fd,
            path: path.to_owned(),
        })
    }

    /// The root as named.
    pub(crate) fn path(&self) -> &Utf8Path {
        &self.path
    }

    fn io_err(&self, rel: &Utf8Path, e: Errno) -> StoreError {
        StoreError::Io {
            path: self.path.join(rel),
            source: errno_io(e),
        }
    }

    /// The error for a symbolic link at `at` (its target read for the message).
    fn symlink_error(&self, at: Utf8PathBuf) -> StoreError {
        let target = rfs::readlinkat(&self.fd, at.as_std_path(), Vec::new())
            .ok()
            .map(|t| t.to_string_lossy().into_owned());
        StoreError::Symlink {
            root: self.path.clone(),
            path: at,
            target,
        }
    }

    /// Maps an error of resolving `rel` to what went wrong, in the user's terms: a symbolic
    /// link on the way (found by looking at each component), a missing path, a component
    /// that is no directory.
    fn resolve_error(&self, rel: &Utf8Path, e: Errno) -> StoreError {
        match e {
            Errno::NOENT => StoreError::NotFound {
                path: self.path.join(rel),
            },
            Errno::LOOP | Errno::XDEV | Errno::NOTDIR => {
                // Which component is the link (or not a directory)?
                let mut at = Utf8PathBuf::new();
                for c in rel.components() {
                    at.push(c.as_str());
                    match rfs::statat(&self.fd, at.as_std_path(), AtFlags::SYMLINK_NOFOLLOW) {
                        Ok(st) => {
                            let ft = rfs::FileType::from_raw_mode(st.st_mode);
                            if ft == rfs::FileType::Symlink {
                                return self.symlink_error(at);
                            }
                            if at.as_str() != rel.as_str() && ft != rfs::FileType::Directory {
                                return StoreError::NotADirectory {
                                    path: self.path.join(&at),
                                    what: kind_words(ft),
                                };
                            }
                        }
                        Err(_) => break,
                    }
                }
                if e == Errno::NOTDIR {
                    StoreError::NotADirectory {
                        path: self.path.join(rel),
                        what: "not a directory",
                    }
                } else {
                    StoreError::OutsideTree {
                        path: rel.to_owned(),
                    }
                }
            }
            other => self.io_err(rel, other),
        }
    }

    /// Opens `rel` with `flags` (plus `O_NOFOLLOW | O_CLOEXEC`), never following a symbolic
    /// link on the way and never leaving the root.
    fn open_at(&self, rel: &Utf8Path, flags: OFlags, mode: Mode) -> Result<OwnedFd, StoreError> {
        check_rel(rel)?;
        let flags = flags | OFlags::CLOEXEC | OFlags::NOFOLLOW;
        let target = if rel.as_str().is_empty() {
            Utf8Path::new(".")
        } else {
            rel
        };
        if !NO_OPENAT2.load(Ordering::Relaxed) {
            match rfs::openat2(
                &self.fd,
                target.as_std_path(),
                flags,
                mode,
                ResolveFlags::BENEATH | ResolveFlags::NO_SYMLINKS | ResolveFlags::NO_MAGICLINKS,
            ) {
                Ok(fd) => return Ok(fd),
                Err(Errno::NOSYS | Errno::PERM) => NO_OPENAT2.store(true, Ordering::Relaxed),
                Err(Errno::AGAIN | Errno::INTR) => {
                    // openat2 asks callers to retry when a rename raced the lookup.
                    return self.open_walk(target, flags, mode);
                }
                Err(e) => return Err(self.resolve_error(rel, e)),
            }
        }
        self.open_walk(target, flags, mode)
    }

    /// The portable path: one `openat(O_NOFOLLOW)` per component.
    fn open_walk(&self, rel: &Utf8Path, flags: OFlags, mode: Mode) -> Result<OwnedFd, StoreError> {
        let parts: Vec<&str> = rel.iter().filter(|p| *p != ".").collect();
        let Some((last, dirs)) = parts.split_last() else {
            return rfs::openat(&self.fd, ".", flags, mode).map_err(|e| self.io_err(rel, e));
        };
        let mut cur: Option<OwnedFd> = None;
        for d in dirs {
            let base = cur.as_ref().map_or(self.fd.as_fd(), |f| f.as_fd());
            let next = rfs::openat(
                base,
                *d,
                OFlags::PATH | OFlags::DIRECTORY | OFlags::NOFOLLOW | OFlags::CLOEXEC,
                Mode::empty(),
            )
            .map_err(|e| self.resolve_error(rel, e))?;
            cur = Some(next);
        }
        let base = cur.as_ref().map_or(self.fd.as_fd(), |f| f.as_fd());
        rfs::openat(base, *last, flags, mode).map_err(|e| self.resolve_error(rel, e))
    }

    /// The directory `rel` as a handle for `*at` calls (`O_PATH`).
    fn dir(&self, rel: &Utf8Path) -> Result<OwnedFd, StoreError> {
        self.open_at(rel, OFlags::PATH | OFlags::DIRECTORY, Mode::empty())
    }

    /// Splits `rel` into its parent directory (opened) and its last component.
    fn parent<'a>(&self, rel: &'a Utf8Path) -> Result<(OwnedFd, &'a str), StoreError> {
        check_rel(rel)?;
        let name = rel.file_name().ok_or_else(|| StoreError::OutsideTree {
            path: rel.to_owned(),
        })?;
        let parent = rel.parent().unwrap_or(Utf8Path::new(""));
        Ok((self.dir(parent)?, name))
    }

    /// Opens a regular file for reading; anything else is refused on the open handle.
    pub(crate) fn open_file(&self, rel: &Utf8Path) -> Result<(File, Meta), StoreError> {
        let fd = self.open_at(
            rel,
            OFlags::RDONLY | OFlags::NONBLOCK | OFlags::NOCTTY,
            Mode::empty(),
        )?;
        let st = rfs::fstat(&fd).map_err(|e| self.io_err(rel, e))?;
        let meta = Meta::from_stat(&st);
        if meta.kind != EntryKind::File {
            return Err(StoreError::NotRegular {
                path: self.path.join(rel),
                what: kind_words(rfs::FileType::from_raw_mode(st.st_mode)),
            });
        }
        Ok((File::from(fd), meta))
    }

    /// Reads a whole regular file of at most `limit` bytes.
    pub(crate) fn read(&self, rel: &Utf8Path, limit: u64) -> Result<Vec<u8>, StoreError> {
        let (file, meta) = self.open_file(rel)?;
        read_limited(file, meta.size, limit, &self.path.join(rel))
    }

    /// Checks, without changing anything, that `rel` can be written: every existing
    /// component of its path is a real directory (no link, no file), and `rel` itself is
    /// missing or a regular file. Writers call this for every path before their first
    /// change, so a refusal leaves the tree as it was.
    pub(crate) fn check_writable(&self, rel: &Utf8Path) -> Result<(), StoreError> {
        check_rel(rel)?;
        let mut at = Utf8PathBuf::new();
        let parts: Vec<&str> = rel.iter().collect();
        for (i, part) in parts.iter().enumerate() {
            at.push(part);
            let last = i + 1 == parts.len();
            match rfs::statat(&self.fd, at.as_std_path(), AtFlags::SYMLINK_NOFOLLOW) {
                Err(Errno::NOENT) => return Ok(()),
                Err(e) => return Err(self.io_err(&at, e)),
                Ok(st) => {
                    let ft = rfs::FileType::from_raw_mode(st.st_mode);
                    if ft == rfs::FileType::Symlink {
                        return Err(self.symlink_error(at));
                    }
                    if last && ft != rfs::FileType::RegularFile {
                        return Err(StoreError::NotRegular {
                            path: self.path.join(&at),
                            what: kind_words(ft),
                        });
                    }
                    if !last && ft != rfs::FileType::Directory {
                        return Err(StoreError::NotADirectory {
                            path: self.path.join(&at),
                            what: kind_words(ft),
                        });
                    }
                }
            }
        }
        Ok(())
    }

    /// What `rel` is, without following a symbolic link; `None` when it does not exist.
    pub(crate) fn stat(&self, rel: &Utf8Path) -> Result<Option<Meta>, StoreError> {
        check_rel(rel)?;
        let st = if rel.as_str().is_empty() {
            rfs::fstat(&self.fd)
        } else {
            let (dir, name) = match self.parent(rel) {
                Ok(p) => p,
                Err(StoreError::NotFound { .. }) => return Ok(None),
                Err(e) => return Err(e),
            };
            rfs::statat(&dir, name, AtFlags::SYMLINK_NOFOLLOW)
        };
        match st {
            Ok(st) => Ok(Some(Meta::from_stat(&st))),
            Err(Errno::NOENT) => Ok(None),
            Err(e) => Err(self.io_err(rel, e)),
        }
    }

    /// The entries of directory `rel`, unsorted, each with its kind (never following links).
    pub(crate) fn list(&self, rel: &Utf8Path) -> Result<Vec<(String, EntryKind)>, StoreError> {
        let fd = self.open_at(rel, OFlags::RDONLY | OFlags::DIRECTORY, Mode::empty())?;
        let mut dir = rfs::Dir::new(fd).map_err(|e| self.io_err(rel, e))?;
        let mut out = Vec::new();
        while let Some(entry) = dir.read() {
            let entry = entry.map_err(|e| self.io_err(rel, e))?;
            let name = entry.file_name().to_bytes();
            if name == b"." || name == b".." {
                continue;
            }
            let name = String::from_utf8_lossy(name).into_owned();
            let kind = match entry.file_type() {
                rfs::FileType::Unknown => {
                    let fd = dir.fd().map_err(|e| self.io_err(rel, e))?;
                    match rfs::statat(fd, name.as_str(), AtFlags::SYMLINK_NOFOLLOW) {
                        Ok(st) => EntryKind::of(rfs::FileType::from_raw_mode(st.st_mode)),
                        Err(_) => EntryKind::Other,
                    }
                }
                ft => EntryKind::of(ft),
            };
            out.push((name, kind));
        }
        Ok(out)
    }

    /// The entries of directory `rel` with what `lstat` says of each, taken on the open
    /// directory (no path is resolved again). An entry gone before its `lstat` is left out.
    pub(crate) fn list_stat(&self, rel: &Utf8Path) -> Result<Vec<(String, Meta)>, StoreError> {
        let fd = self.open_at(rel, OFlags::RDONLY | OFlags::DIRECTORY, Mode::empty())?;
        let mut dir = rfs::Dir::new(fd).map_err(|e| self.io_err(rel, e))?;
        let mut names = Vec::new();
        while let Some(entry) = dir.read() {
            let entry = entry.map_err(|e| self.io_err(rel, e))?;
            let name = entry.file_name().to_bytes();
            if name != b"." && name != b".." {
                names.push(entry.file_name().to_owned());
            }
        }
        let fd = dir.fd().map_err(|e| self.io_err(rel, e))?;
        let mut out = Vec::with_capacity(names.len());
        for name in names {
            match rfs::statat(fd, name.as_c_str(), AtFlags::SYMLINK_NOFOLLOW) {
                Ok(st) => out.push((
                    String::from_utf8_lossy(name.as_bytes()).into_owned(),
                    Meta::from_stat(&st),
                )),
                Err(Errno::NOENT) => {}
                Err(e) => return Err(self.io_err(rel, e)),
            }
        }
        Ok(out)
    }

    /// One `lstat` of `rel` from the root: a change detector ([`Store::probe`]).
    pub(crate) fn probe(&self, rel: &Utf8Path) -> Option<Meta> {
        check_rel(rel).ok()?;
        let target = if rel.as_str().is_empty() {
            "."
        } else {
            rel.as_str()
        };
        rfs::statat(&self.fd, target, AtFlags::SYMLINK_NOFOLLOW)
            .ok()
            .map(|st| Meta::from_stat(&st))
    }

    /// Creates directory `rel` and its missing parents (mode 0777 less the umask); every
    /// existing component must be a real directory, not a link to one.
    pub(crate) fn create_dir_all(&self, rel: &Utf8Path) -> Result<OwnedFd, StoreError> {
        check_rel(rel)?;
        let mut cur = rfs::openat(
            &self.fd,
            ".",
            OFlags::PATH | OFlags::DIRECTORY | OFlags::CLOEXEC,
            Mode::empty(),
        )
        .map_err(|e| self.io_err(rel, e))?;
        let mut at = Utf8PathBuf::new();
        for part in rel.iter() {
            at.push(part);
            match rfs::mkdirat(&cur, part, Mode::from_raw_mode(0o777)) {
                Ok(()) | Err(Errno::EXIST) => {}
                Err(e) => return Err(self.io_err(&at, e)),
            }
            cur = rfs::openat(
                &cur,
                part,
                OFlags::PATH | OFlags::DIRECTORY | OFlags::NOFOLLOW | OFlags::CLOEXEC,
                Mode::empty(),
            )
            .map_err(|e| self.resolve_error(&at, e))?;
        }
        Ok(cur)
    }

    /// Writes `data` to a new temporary file in `tmp_dir` (a directory of this tree),
    /// fsyncs it, and renames it to `rel`: replacing what is there (`replace`), or failing
    /// with `AlreadyExists`. The parent of `rel` is created when missing. A crash leaves at
    /// most the temporary file, which [`RootDir::sweep_temp`] removes.
    pub(crate) fn write(
        &self,
        tmp_dir: &Utf8Path,
        rel: &Utf8Path,
        data: &[u8],
        replace: bool,
    ) -> Result<(), StoreError> {
        check_rel(rel)?;
        let name = rel.file_name().ok_or_else(|| StoreError::OutsideTree {
            path: rel.to_owned(),
        })?;
        let parent = rel.parent().unwrap_or(Utf8Path::new(""));
        let dir = self.create_dir_all(parent)?;
        let tmp = self.create_dir_all(tmp_dir)?;
        let result = self.write_via(&tmp, tmp_dir, &dir, name, rel, data, replace);
        match result {
            // The temporary directory is on another filesystem (a mount inside the tree):
            // write the temporary file next to its target instead.
            Err(StoreError::Io { source, .. })
                if source.raw_os_error() == Some(Errno::XDEV.raw_os_error()) =>
            {
                self.write_via(&dir, parent, &dir, name, rel, data, replace)
            }
            other => other,
        }?;
        sync_fd_dir(&dir);
        Ok(())
    }

    /// Like [`RootDir::write`] (replacing), without fsync: for caches.
    pub(crate) fn write_unsynced(
        &self,
        tmp_dir: &Utf8Path,
        rel: &Utf8Path,
        data: &[u8],
    ) -> Result<(), StoreError> {
        check_rel(rel)?;
        let name = rel.file_name().ok_or_else(|| StoreError::OutsideTree {
            path: rel.to_owned(),
        })?;
        let dir = self.create_dir_all(rel.parent().unwrap_or(Utf8Path::new("")))?;
        let tmp = self.create_dir_all(tmp_dir)?;
        let tmp_name = self.new_temp(&tmp, tmp_dir)?;
        let written = tmp_file_write(&tmp, &tmp_name, data)
            .map(drop)
            .map_err(|e| self.io_err_msg(&tmp_dir.join(&tmp_name), e))
            .and_then(|()| self.move_temp(&tmp, &tmp_name, &dir, name, rel, true));
        if written.is_err() {
            let _ = rfs::unlinkat(&tmp, tmp_name.as_str(), AtFlags::empty());
        }
        written
    }

    #[allow(clippy::too_many_arguments)]
    fn write_via(
        &self,
        tmp: &OwnedFd,
        tmp_dir: &Utf8Path,
        dir: &OwnedFd,
        name: &str,
        rel: &Utf8Path,
        data: &[u8],
        replace: bool,
    ) -> Result<(), StoreError> {
        let tmp_name = self.new_temp(tmp, tmp_dir)?;
        let tmp_rel = tmp_dir.join(&tmp_name);
        let written = tmp_file_write(tmp, &tmp_name, data)
            .and_then(|f| f.sync_all())
            .map_err(|e| self.io_err_msg(&tmp_rel, e))
            .and_then(|()| self.move_temp(tmp, &tmp_name, dir, name, rel, replace));
        if written.is_err() {
            let _ = rfs::unlinkat(tmp, tmp_name.as_str(), AtFlags::empty());
        }
        written
    }

    fn io_err_msg(&self, rel: &Utf8Path, e: io::Error) -> StoreError {
        StoreError::Io {
            path: self.path.join(rel),
            source: e,
        }
    }

    /// A fresh temporary file name in `dir` (created empty, mode 0666 less the umask).
    fn new_temp(&self, dir: &OwnedFd, dir_rel: &Utf8Path) -> Result<String, StoreError> {
        static COUNTER: AtomicU64 = AtomicU64::new(0);
        let pid = std::process::id();
        for _ in 0..64 {
            let n = COUNTER.fetch_add(1, Ordering::Relaxed);
            let nanos = std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .map_or(0, |d| d.subsec_nanos());
            let name = format!("{TEMP_PREFIX}{pid}-{n}-{nanos:08x}");
            match rfs::openat(
                dir,
                name.as_str(),
                OFlags::WRONLY | OFlags::CREATE | OFlags::EXCL | OFlags::NOFOLLOW | OFlags::CLOEXEC,
                Mode::from_raw_mode(0o666),
            ) {
                Ok(_) => return Ok(name),
                Err(Errno::EXIST) => continue,
                Err(e) => return Err(self.io_err(&dir_rel.join(&name), e)),
            }
        }
        Err(StoreError::Io {
            path: self.path.join(dir_rel),
            source: io::Error::new(
                io::ErrorKind::AlreadyExists,
                "could not find a free temporary file name",
            ),
        })
    }

    fn move_temp(
        &self,
        tmp: &OwnedFd,
        tmp_name: &str,
        dir: &OwnedFd,
        name: &str,
        rel: &Utf8Path,
        replace: bool,
    ) -> Result<(), StoreError> {
        let flags = if replace {
            RenameFlags::empty()
        } else {
            RenameFlags::NOREPLACE
        };
        match rfs::renameat_with(tmp, tmp_name, dir, name, flags) {
            Ok(()) => Ok(()),
            Err(Errno::EXIST) => Err(StoreError::AlreadyExists {
                path: self.path.join(rel),
            }),
            Err(Errno::INVAL | Errno::NOSYS) if !replace => {
                // No RENAME_NOREPLACE on this filesystem: link(2) never replaces.
                match rfs::linkat(tmp, tmp_name, dir, name, AtFlags::empty()) {
                    Ok(()) => {
                        let _ = rfs::unlinkat(tmp, tmp_name, AtFlags::empty());
                        Ok(())
                    }
                    Err(Errno::EXIST) => Err(StoreError::AlreadyExists {
                        path: self.path.join(rel),
                    }),
                    Err(e) => Err(self.io_err(rel, e)),
                }
            }
            Err(Errno::ISDIR) | Err(Errno::NOTEMPTY) => Err(StoreError::NotRegular {
                path: self.path.join(rel),
                what: "a directory",
            }),
            Err(e) => Err(self.io_err(rel, e)),
        }
    }

    /// Renames `from` to `to` inside the tree (both resolved without following links);
    /// with `replace` false an existing `to` is an `AlreadyExists` error.
    pub(crate) fn rename(
        &self,
        from: &Utf8Path,
        to: &Utf8Path,
        replace: bool,
    ) -> Result<(), StoreError> {
        let (fdir, fname) = self.parent(from)?;
        let to_parent = to.parent().unwrap_or(Utf8Path::new(""));
        check_rel(to)?;
        let tdir = self.create_dir_all(to_parent)?;
        let tname = to.file_name().ok_or_else(|| StoreError::OutsideTree {
            path: to.to_owned(),
        })?;
        let flags = if replace {
            RenameFlags::empty()
        } else {
            RenameFlags::NOREPLACE
        };
        match rfs::renameat_with(&fdir, fname, &tdir, tname, flags) {
            Ok(()) => {}
            Err(Errno::EXIST | Errno::NOTEMPTY) => {
                return Err(StoreError::AlreadyExists {
                    path: self.path.join(to),
                });
            }
            Err(Errno::NOENT) => {
                return Err(StoreError::NotFound {
                    path: self.path.join(from),
                });
            }
            Err(e) => return Err(self.io_err(to, e)),
        }
        sync_fd_dir(&tdir);
        if to_parent != from.parent().unwrap_or(Utf8Path::new("")) {
            sync_fd_dir(&fdir);
        }
        Ok(())
    }

    /// Removes the file (or symbolic link) `rel`; a missing one is not an error.
    pub(crate) fn remove_file(&self, rel: &Utf8Path) -> Result<(), StoreError> {
        let (dir, name) = match self.parent(rel) {
            Ok(p) => p,
            Err(StoreError::NotFound { .. }) => return Ok(()),
            Err(e) => return Err(e),
        };
        match rfs::unlinkat(&dir, name, AtFlags::empty()) {
            Ok(()) | Err(Errno::NOENT) => Ok(()),
            Err(e) => Err(self.io_err(rel, e)),
        }
    }

    /// Removes `rel` and everything below it, never following a symbolic link (links are
    /// removed, not their targets); a missing path is not an error.
    pub(crate) fn remove_all(&self, rel: &Utf8Path) -> Result<(), StoreError> {
        let Some(meta) = self.stat(rel)? else {
            return Ok(());
        };
        if meta.kind == EntryKind::Dir {
            for (name, _) in self.list(rel)? {
                self.remove_all(&rel.join(name))?;
            }
            let (dir, name) = self.parent(rel)?;
            match rfs::unlinkat(&dir, name, AtFlags::REMOVEDIR) {
                Ok(()) | Err(Errno::NOENT) => Ok(()),
                Err(e) => Err(self.io_err(rel, e)),
            }
        } else {
            self.remove_file(rel)
        }
    }

    /// Hard-links the regular file `rel` to `dest` (a path outside the tree, whose parent
    /// exists). `AlreadyExists` when `dest` exists.
    pub(crate) fn link_out(&self, rel: &Utf8Path, dest: &Utf8Path) -> io::Result<()> {
        let (dir, name) = self.parent(rel).map_err(io::Error::from)?;
        let st = rfs::statat(&dir, name, AtFlags::SYMLINK_NOFOLLOW).map_err(errno_io)?;
        let ft = rfs::FileType::from_raw_mode(st.st_mode);
        if ft != rfs::FileType::RegularFile {
            return Err(StoreError::NotRegular {
                path: self.path.join(rel),
                what: kind_words(ft),
            }
            .into());
        }
        rfs::linkat(&dir, name, rfs::CWD, dest.as_std_path(), AtFlags::empty()).map_err(errno_io)
    }

    /// Removes leftover temporary files of killed writers in `tmp_dir` (only files whose
    /// names carry [`TEMP_PREFIX`]; the caller holds the writer lock, so none is in use).
    pub(crate) fn sweep_temp(&self, tmp_dir: &Utf8Path) -> Result<usize, StoreError> {
        let entries = match self.list(tmp_dir) {
            Ok(e) => e,
            Err(StoreError::NotFound { .. }) => return Ok(0),
            Err(e) => return Err(e),
        };
        let mut n = 0;
        for (name, kind) in entries {
            if name.starts_with(TEMP_PREFIX) && kind != EntryKind::Dir {
                self.remove_file(&tmp_dir.join(&name))?;
                n += 1;
            }
        }
        Ok(n)
    }

    /// Opens (creating it when missing) a file of the tree for locking.
    pub(crate) fn open_lock_file(&self, rel: &Utf8Path) -> Result<File, StoreError> {
        let parent = rel.parent().unwrap_or(Utf8Path::new(""));
        self.create_dir_all(parent)?;
        let fd = self.open_at(
            rel,
            OFlags::RDWR | OFlags::CREATE,
            Mode::from_raw_mode(0o666),
        )?;
        let st = rfs::fstat(&fd).map_err(|e| self.io_err(rel, e))?;
        if rfs::FileType::from_raw_mode(st.st_mode) != rfs::FileType::RegularFile {
            return Err(StoreError::NotRegular {
                path: self.path.join(rel),
                what: kind_words(rfs::FileType::from_raw_mode(st.st_mode)),
            });
        }
        Ok(File::from(fd))
    }
}

/// The prefix of every temporary file a berth writer creates.
pub const TEMP_PREFIX: &str = ".berth-tmp-";

fn tmp_file_write(dir: &OwnedFd, name: &str, data: &[u8]) -> io::Result<File> {
    let fd = rfs::openat(
        dir,
        name,
        OFlags::WRONLY | OFlags::NOFOLLOW | OFlags::CLOEXEC,
        Mode::empty(),
    )
    .map_err(errno_io)?;
    let mut f = File::from(fd);
    f.write_all(data)?;
    Ok(f)
}

fn sync_fd_dir(dir: &OwnedFd) {
    if let Ok(fd) = rfs::openat(dir, ".", OFlags::RDONLY | OFlags::CLOEXEC, Mode::empty()) {
        let _ = rfs::fsync(fd);
    }
}

/// Reads `file` (whose size was `size` when opened) when it is at most `limit` bytes; a file
/// that grows past the limit while being read is refused too.
pub(crate) fn read_limited(
    file: File,
    size: u64,
    limit: u64,
    shown: &Utf8Path,
) -> Result<Vec<u8>, StoreError> {
    if size > limit {
        return Err(StoreError::TooLarge {
            path: shown.to_owned(),
            size,
            limit,
        });
    }
    let mut buf = Vec::with_capacity(usize::try_from(size).unwrap_or(0));
    file.take(limit.saturating_add(1))
        .read_to_end(&mut buf)
        .map_err(|e| StoreError::Io {
            path: shown.to_owned(),
            source: e,
        })?;
    if buf.len() as u64 > limit {
        return Err(StoreError::TooLarge {
            path: shown.to_owned(),
            size: buf.len() as u64,
            limit,
        });
    }
    Ok(buf)
}
