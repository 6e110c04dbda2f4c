//! The ledger of files handed over by `add --move`: `.berth/moved/<sha256 of the source
//! path>.json` holding the source and where it went in the tree. A retry of an add that was
//! killed after its files entered the tree finds them through it. Entries older than a week
//! are pruned.

use std::collections::BTreeMap;

use berth_model::{Repository, Sha256Digest, StoreLock};
use camino::{Utf8Path, Utf8PathBuf};
use serde::{Deserialize, Serialize};

use super::AddRequest;

pub(crate) const DIR: &str = ".berth/moved";
pub(crate) const KEEP_SECS: u64 = 7 * 24 * 3600;

#[derive(Serialize, Deserialize)]
pub(crate) struct Entry {
    source: Utf8PathBuf,
    target: Utf8PathBuf,
    at: u64,
}

pub(crate) fn now() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs())
}

pub(crate) fn file_of(source: &Utf8Path) -> Utf8PathBuf {
    Utf8Path::new(DIR).join(format!(
        "{}.json",
        Sha256Digest::of(source.as_str().as_bytes()).hex()
    ))
}

/// Records where the moved files (source, staged absolute path below `staged_root`) go:
/// `version_rel` in the tree. Best effort: a ledger that cannot be written only costs a
/// retry its shortcut.
pub(super) fn record(
    repo: &Repository,
    lock: &StoreLock,
    moved: &[(Utf8PathBuf, Utf8PathBuf)],
    staged_root: &Utf8Path,
    version_rel: &Utf8Path,
) {
    prune(repo, lock);
    for (source, staged) in moved {
        let Ok(tail) = staged.strip_prefix(staged_root) else {
            continue;
        };
        let e = Entry {
            source: source.clone(),
            target: version_rel.join(tail),
            at: now(),
        };
        if let Ok(bytes) = serde_json::to_vec(&e) {
            let _ = repo.store().write_atomic(lock, &file_of(source), &bytes);
        }
    }
}

/// The sources of `req` that no longer exist and that the ledger says were handed over
/// into files that are still stored (regular files of the tree): source → stored file.
pub(super) fn handed_over(
    repo: &Repository,
    req: &AddRequest,
) -> BTreeMap<Utf8PathBuf, Utf8PathBuf> {
    let mut out = BTreeMap::new();
    let sources = req.docker.iter().chain(&req.debs).chain(&req.generic);
    for src in sources {
        if std::fs::symlink_metadata(src).is_ok() {
            continue;
        }
        let Ok(abs) = std::path::absolute(src) else {
            continue;
        };
        let Ok(abs) = Utf8PathBuf::try_from(abs) else {
            continue;
        };
        let Some(e) = repo
            .store()
            .read(&file_of(&abs), 1 << 16)
            .ok()
            .and_then(|b| serde_json::from_slice::<Entry>(&b).ok())
        else {
            continue;
        };
        let stored = matches!(
            repo.store().stat(&e.target),
            Ok(Some(m)) if m.kind == berth_model::store::EntryKind::File
        );
        if e.source == abs && stored {
            out.insert(src.clone(), repo.path(&e.target));
        }
    }
    out
}

pub(crate) fn prune(repo: &Repository, lock: &StoreLock) {
    let Ok(entries) = repo.store().list(Utf8Path::new(DIR)) else {
        return;
    };
    let cutoff = now().saturating_sub(KEEP_SECS);
    for e in entries {
        let rel = Utf8Path::new(DIR).join(&e.name);
        let old = repo
            .store()
            .read(&rel, 1 << 16)
            .ok()
            .and_then(|b| serde_json::from_slice::<Entry>(&b).ok())
            .is_none_or(|x| x.at < cutoff);
        if old {
            let _ = repo.store().remove(lock, &rel);
        }
    }
}
