//! File placement: hard links where the filesystem allows, atomic renames everywhere.

use std::io;

use camino::{Utf8Path, Utf8PathBuf};

use berth_model::Store;

use crate::{PublishError, Result};

/// A fresh name beside `path` (same directory, so a rename is atomic).
pub(crate) fn temp_beside(path: &Utf8Path, what: &str) -> Utf8PathBuf {
    let dir = path.parent().unwrap_or(Utf8Path::new("."));
    dir.join(format!(".berth-{what}-{:016x}", rand::random::<u64>()))
}

/// How a file got to its place.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Placed {
    /// Already there (the same file, or a file recorded with the same content).
    Kept,
    /// Hard-linked.
    Linked,
    /// Copied (another filesystem, or links not allowed).
    Copied,
}

/// Puts the repository file `src` (relative to the root of `store`, read without following
/// links) at `dst` (replacing it atomically): a hard link when possible, else a copy into a
/// temporary name and a rename. `dst`'s parent is created.
pub(crate) fn link_or_copy(store: &dyn Store, src: &Utf8Path, dst: &Utf8Path) -> Result<Placed> {
    let shown = || {
        store
            .local_root()
            .map_or_else(|| src.to_owned(), |r| r.join(src))
    };
    // Nothing there yet (the common case): a link appears whole, no temporary name needed.
    let mut linked = store.link_out(src, dst);
    if linked
        .as_ref()
        .is_err_and(|e| e.kind() == io::ErrorKind::NotFound)
        && dst.parent().is_some_and(|p| !p.exists())
    {
        let parent = dst.parent().unwrap_or(Utf8Path::new("."));
        fs_err::create_dir_all(parent).map_err(PublishError::io(parent))?;
        linked = store.link_out(src, dst);
    }
    match linked {
        Ok(()) => return Ok(Placed::Linked),
        Err(e) if e.kind() == io::ErrorKind::AlreadyExists && same_as(store, src, dst) => {
            return Ok(Placed::Kept);
        }
        // A link on the path, not a regular file: never published.
        Err(e)
            if matches!(
                e.kind(),
                io::ErrorKind::PermissionDenied | io::ErrorKind::InvalidInput
            ) =>
        {
            return Err(PublishError::Io {
                path: shown(),
                source: e,
            });
        }
        Err(_) => {}
    }
    let tmp = temp_beside(dst, "place");
    let how = match store.link_out(src, &tmp) {
        Ok(()) => Placed::Linked,
        Err(_) => {
            let (mut from, _) = store.open(src).map_err(|e| PublishError::Io {
                path: shown(),
                source: e.into(),
            })?;
            let copied = fs_err::File::create_new(&tmp)
                .and_then(|mut to| io::copy(&mut from, &mut to).map(drop));
            copied.map_err(|e| {
                let _ = std::fs::remove_file(&tmp);
                PublishError::Io {
                    path: shown(),
                    source: io::Error::new(e.kind(), format!("copying to {tmp}: {e}")),
                }
            })?;
            Placed::Copied
        }
    };
    std::fs::rename(&tmp, dst).map_err(|e| {
        let _ = std::fs::remove_file(&tmp);
        PublishError::Io {
            path: dst.to_owned(),
            source: e,
        }
    })?;
    Ok(how)
}

/// True when `dst` is the repository file `src` (the same inode).
fn same_as(store: &dyn Store, src: &Utf8Path, dst: &Utf8Path) -> bool {
    use std::os::unix::fs::MetadataExt as _;
    match (store.stat(src), std::fs::symlink_metadata(dst)) {
        (Ok(Some(a)), Ok(b)) => a.ino == b.ino() && a.dev == b.dev(),
        _ => false,
    }
}

/// Replaces `path` by a file holding `data`: written under a temporary name beside it,
/// then renamed over it (readers see the old or the new content). Not fsynced. A file
/// that already holds exactly `data` is left alone (a publication that changed nothing
/// rewrites no cache).
pub(crate) fn replace_file(path: &Utf8Path, data: &[u8]) -> Result<()> {
    if std::fs::read(path).is_ok_and(|old| old == data) {
        return Ok(());
    }
    let tmp = temp_beside(path, "write");
    fs_err::write(&tmp, data).map_err(PublishError::io(&tmp))?;
    std::fs::rename(&tmp, path).map_err(|e| {
        let _ = std::fs::remove_file(&tmp);
        PublishError::io(path)(e)
    })
}

/// Writes a file in a directory being built (not yet visible to clients).
pub(crate) fn write_new(path: &Utf8Path, data: &[u8]) -> Result<()> {
    if let Some(parent) = path.parent() {
        fs_err::create_dir_all(parent).map_err(PublishError::io(parent))?;
    }
    fs_err::write(path, data).map_err(PublishError::io(path))
}

/// Replaces the directory `target` by the complete directory `new` (a sibling) with two
/// renames: `target` → a hidden old name, `new` → `target`; then removes the old tree.
/// A client sees the old tree, then (for the instant between the renames) none, then the
/// new one; never a mix of the two.
pub(crate) fn swap_dir(new: &Utf8Path, target: &Utf8Path) -> Result<()> {
    let old = temp_beside(target, "old");
    let had_old = match std::fs::rename(target, &old) {
        Ok(()) => true,
        Err(e) if e.kind() == io::ErrorKind::NotFound => false,
        Err(e) => return Err(PublishError::io(target)(e)),
    };
    if let Err(e) = std::fs::rename(new, target) {
        if had_old {
            let _ = std::fs::rename(&old, target);
        }
        return Err(PublishError::io(target)(e));
    }
    if let Some(parent) = target.parent() {
        let _ = berth_model::store::sync_dir(parent);
    }
    if had_old {
        std::fs::remove_dir_all(&old).map_err(PublishError::io(&old))?;
    }
    Ok(())
}

/// Removes `dir` and then its parents up to (not including) `stop` while they are empty.
pub(crate) fn remove_empty_dirs(dir: &Utf8Path, stop: &Utf8Path) {
    let mut cur = Some(dir);
    while let Some(d) = cur {
        if d == stop || !d.starts_with(stop) || std::fs::remove_dir(d).is_err() {
            break;
        }
        cur = d.parent();
    }
}

/// Every regular file below `root`, as paths relative to it, sorted; hidden entries
/// (names starting with `.`) at the top level are left out.
pub(crate) fn list_files(root: &Utf8Path) -> Result<Vec<Utf8PathBuf>> {
    fn walk(dir: &Utf8Path, rel: &Utf8Path, out: &mut Vec<Utf8PathBuf>) -> Result<()> {
        let rd = match fs_err::read_dir(dir) {
            Ok(rd) => rd,
            Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(()),
            Err(e) => return Err(PublishError::io(dir)(e)),
        };
        for entry in rd {
            let entry = entry.map_err(PublishError::io(dir))?;
            let Ok(name) = entry.file_name().into_string() else {
                continue;
            };
            if rel.as_str().is_empty() && name.starts_with('.') {
                continue;
            }
            let ft = entry.file_type().map_err(PublishError::io(dir))?;
            let (path, r) = (dir.join(&name), rel.join(&name));
            if ft.is_dir() {
                walk(&path, &r, out)?;
            } else {
                out.push(r);
            }
        }
        Ok(())
    }
    let mut out = Vec::new();
    walk(root, Utf8Path::new(""), &mut out)?;
    out.sort();
    Ok(out)
}
