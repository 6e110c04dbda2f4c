//! How an add gets artifact files into its work directory: copied, or moved in and put
//! back on refusal (`berth add --move`), with the journal that lets the next add put back
//! the files of a killed one.

use std::collections::BTreeMap;
use std::io;

use berth_formats::{Destination, FormatError, Progress};
use berth_model::Repository;
use berth_model::store::WorkDir;
use camino::{Utf8Path, Utf8PathBuf};

use crate::{AddError, ProgressFn, Transfer, Unrestored};

/// The journal of a work directory: one JSON line `[source, staged]` per moved file (the
/// source absolute, the staged path relative to the work directory), written before the
/// rename, so that the sweep can put back the files of a killed add.
pub(crate) const MOVE_JOURNAL: &str = "moved.jsonl";

/// How one add gets its artifact files into its work directory ([`Transfer`]), and what it
/// moved there.
pub(crate) struct Mover {
    pub(crate) transfer: Transfer,
    /// Sources of this request that an earlier `add --move` handed over (the ledger): where
    /// each is stored now (absolute).
    pub(crate) handed_over: BTreeMap<Utf8PathBuf, Utf8PathBuf>,
    /// The add's work directory.
    pub(crate) work: Utf8PathBuf,
    /// (source, staged), both absolute, in the order moved.
    pub(crate) moved: Vec<(Utf8PathBuf, Utf8PathBuf)>,
    /// Files copied although a move was asked for, and why.
    pub(crate) copied: Vec<(Utf8PathBuf, String)>,
}

/// `berth_formats::ingest_*`.
pub(crate) type ReadOnce<T> =
    fn(&Utf8Path, Destination<'_>, Progress<'_>) -> Result<T, FormatError>;

impl Mover {
    /// Puts `src` at `staged` (a new path in the work directory) and reads it once with
    /// `read`: copying it there, or, for [`Transfer::Move`], renaming it there first and
    /// reading it in place. A file that cannot be renamed is copied (see the crate docs).
    pub(crate) fn take<T>(
        &mut self,
        src: &Utf8Path,
        staged: &Utf8Path,
        progress: ProgressFn<'_>,
        read: ReadOnce<T>,
    ) -> Result<T, AddError> {
        if self.transfer == Transfer::Move
            && std::fs::symlink_metadata(src).is_err()
            && let Some(stored) = self.handed_over.get(src).cloned()
        {
            // A retried `add --move` whose first run handed this file over and was killed
            // before it could say so: read the stored copy (the add then finds identical
            // content and changes nothing).
            let total = fs_err::metadata(&stored)?.len();
            let p = move |n| progress(src, n, total);
            return Ok(read(&stored, Destination::CopyTo(staged), Some(&p))?);
        }
        let total = fs_err::metadata(src)?.len();
        let p = move |n| progress(src, n, total);
        if self.transfer == Transfer::Move {
            match self.move_in(src, staged)? {
                None => {
                    return Ok(read(
                        staged,
                        Destination::InPlace { shown_as: src },
                        Some(&p),
                    )?);
                }
                Some(why) => self.copied.push((src.to_owned(), why)),
            }
        }
        Ok(read(src, Destination::CopyTo(staged), Some(&p))?)
    }

    /// Renames `src` to `staged`; `Some(why)` when it must be copied instead.
    pub(crate) fn move_in(
        &mut self,
        src: &Utf8Path,
        staged: &Utf8Path,
    ) -> Result<Option<String>, AddError> {
        let meta = fs_err::symlink_metadata(src)?;
        if meta.file_type().is_symlink() {
            return Ok(Some("it is a symbolic link".to_owned()));
        }
        if !meta.is_file() {
            return Ok(Some("it is not a regular file".to_owned()));
        }
        #[cfg(unix)]
        {
            use std::os::unix::fs::MetadataExt as _;
            if meta.nlink() > 1 {
                return Ok(Some(format!(
                    "it has {} hard links, through which it could still change",
                    meta.nlink()
                )));
            }
        }
        let source = Utf8PathBuf::try_from(std::path::absolute(src)?)
            .map_err(|e| io::Error::other(format!("{src}: {e}")))?;
        self.journal(&source, staged)?;
        match std::fs::rename(src, staged) {
            Ok(()) => {
                self.moved.push((source, staged.to_owned()));
                Ok(None)
            }
            Err(e) if e.kind() == io::ErrorKind::CrossesDevices => Ok(Some(
                "it is on another filesystem than the repository".to_owned(),
            )),
            Err(e) => Err(io::Error::new(
                e.kind(),
                format!("moving {src} into the repository ({staged}): {e}"),
            )
            .into()),
        }
    }

    /// Records a move in the work directory's journal, before it happens.
    pub(crate) fn journal(&self, source: &Utf8Path, staged: &Utf8Path) -> Result<(), AddError> {
        use std::io::Write as _;
        let rel = staged.strip_prefix(&self.work).unwrap_or(staged);
        let line = serde_json::to_string(&[source.as_str(), rel.as_str()])
            .map_err(|e| io::Error::other(e.to_string()))?;
        let path = self.work.join(MOVE_JOURNAL);
        let mut f = fs_err::OpenOptions::new()
            .create(true)
            .append(true)
            .open(&path)?;
        f.write_all(format!("{line}\n").as_bytes())?;
        Ok(())
    }

    /// Puts back every moved file still in the work directory, last moved first; returns
    /// those that could not be.
    pub(crate) fn put_back(&self) -> Vec<Unrestored> {
        self.moved
            .iter()
            .rev()
            .filter_map(|(source, staged)| put_back(staged, source))
            .collect()
    }
}

/// Puts `staged` back at `source` unless it is no longer there (it entered the tree, or
/// was never moved). Never replaces what now has the path `source`.
pub(crate) fn put_back(staged: &Utf8Path, source: &Utf8Path) -> Option<Unrestored> {
    let missing = |p: &Utf8Path| matches!(std::fs::symlink_metadata(p), Err(e) if e.kind() == io::ErrorKind::NotFound);
    if missing(staged) {
        return None;
    }
    if berth_model::store::same_file(staged, source) {
        // Put back already (by an add killed before it removed the second name).
        let _ = std::fs::remove_file(staged);
        return None;
    }
    // link(2) refuses to replace an existing path; where hard links are not supported, a
    // rename after checking that the path is free.
    let done = match std::fs::hard_link(staged, source) {
        Ok(()) => {
            // A leftover second name in the work directory goes with the directory.
            let _ = std::fs::remove_file(staged);
            Ok(())
        }
        Err(e) if e.kind() == io::ErrorKind::AlreadyExists => Err(io::Error::new(
            e.kind(),
            "something else has taken that path since",
        )),
        Err(_) if missing(source) => std::fs::rename(staged, source).map_err(|r| {
            if r.kind() == io::ErrorKind::NotFound {
                io::Error::new(r.kind(), "its directory is gone")
            } else {
                r
            }
        }),
        Err(e) => Err(e),
    };
    done.err().map(|e| Unrestored {
        source: source.to_owned(),
        kept_at: staged.to_owned(),
        reason: e.to_string(),
    })
}

/// Puts back the files a killed add had moved into `work` (its journal); returns those
/// that could not be.
pub(crate) fn put_back_journal(work: &Utf8Path) -> Vec<Unrestored> {
    let Ok(text) = fs_err::read_to_string(work.join(MOVE_JOURNAL)) else {
        return Vec::new();
    };
    text.lines()
        // A line cut short by the kill was never followed by its rename.
        .filter_map(|l| serde_json::from_str::<[Utf8PathBuf; 2]>(l).ok())
        .collect::<Vec<_>>()
        .iter()
        .rev()
        .filter_map(|[source, rel]| put_back(&work.join(rel), source))
        .collect()
}

/// Removes work directories of adds whose process died (no process holds their `.alive`
/// lock), after putting back the files they had moved in; a directory holding files that
/// cannot go back is kept. `keep` is the caller's own work directory. Called under the
/// writer lock.
pub(crate) fn sweep_stale(repo: &Repository, keep: Option<&Utf8Path>) {
    let Some(root) = repo.store().local_root() else {
        return;
    };
    let tmp_root = root.join(berth_model::store::TMP_DIR);
    let Ok(entries) = repo
        .store()
        .list(Utf8Path::new(berth_model::store::TMP_DIR))
    else {
        return;
    };
    for e in entries {
        if !e.is_dir || !e.name.starts_with("add-") {
            continue;
        }
        let dir = tmp_root.join(&e.name);
        if Some(dir.as_path()) == keep || !WorkDir::is_abandoned(&dir) {
            continue;
        }
        // Files a killed `--move` had taken go back first.
        if put_back_journal(&dir).is_empty() {
            let _ = std::fs::remove_dir_all(dir.as_std_path());
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn dir() -> (tempfile::TempDir, Utf8PathBuf) {
        let t = tempfile::tempdir().expect("tempdir");
        let p = Utf8PathBuf::from_path_buf(t.path().to_path_buf()).expect("utf-8");
        (t, p)
    }

    #[test]
    fn put_back_restores_and_never_replaces() {
        let (_t, d) = dir();
        let (src, staged) = (d.join("src"), d.join("staged"));
        fs_err::write(&staged, b"moved").expect("write");
        assert_eq!(put_back(&staged, &src), None);
        assert_eq!(fs_err::read(&src).expect("back"), b"moved");
        assert!(!staged.exists());
        // Nothing to do when the file is no longer staged (it entered the tree).
        assert_eq!(put_back(&staged, &src), None);

        // The producer wrote a new file at the old path: it is kept, and so is ours.
        fs_err::write(&staged, b"ours").expect("write");
        fs_err::write(&src, b"theirs").expect("write");
        let u = put_back(&staged, &src).expect("not restored");
        assert_eq!(
            (u.source.as_path(), u.kept_at.as_path()),
            (src.as_path(), staged.as_path())
        );
        assert_eq!(fs_err::read(&src).expect("theirs"), b"theirs");
        assert_eq!(fs_err::read(&staged).expect("ours"), b"ours");

        // Already put back by an add killed before it removed the second name.
        fs_err::remove_file(&src).expect("rm");
        fs_err::hard_link(&staged, &src).expect("link");
        assert_eq!(put_back(&staged, &src), None);
        assert!(!staged.exists());
        assert_eq!(fs_err::read(&src).expect("back"), b"ours");

        // The source's directory is gone.
        fs_err::write(&staged, b"x").expect("write");
        let u = put_back(&staged, &d.join("gone/src")).expect("not restored");
        assert!(u.reason.contains("directory is gone"), "{}", u.reason);
    }

    #[test]
    fn the_journal_puts_back_what_a_killed_add_moved() {
        let (_t, d) = dir();
        let work = d.join("add-1-x");
        fs_err::create_dir_all(work.join("version/generic")).expect("mkdir");
        let mut m = Mover {
            handed_over: BTreeMap::new(),
            transfer: Transfer::Move,
            work: work.clone(),
            moved: Vec::new(),
            copied: Vec::new(),
        };
        let src = d.join("build/out.bin");
        fs_err::create_dir_all(d.join("build")).expect("mkdir");
        fs_err::write(&src, b"artifact").expect("write");
        let staged = work.join("version/generic/out.bin");
        assert_eq!(m.move_in(&src, &staged).expect("move"), None);
        assert!(!src.exists() && staged.exists());
        // A half-written last line (the kill came before its rename) is ignored.
        let mut j = fs_err::read_to_string(work.join(MOVE_JOURNAL)).expect("journal");
        j.push_str("[\"/nowhere");
        fs_err::write(work.join(MOVE_JOURNAL), j).expect("write");
        assert_eq!(put_back_journal(&work), Vec::new());
        assert_eq!(fs_err::read(&src).expect("back"), b"artifact");
    }
}
