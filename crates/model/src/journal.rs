//! The roll-forward journal: what a writer intends, written down before it changes the
//! tree, so that the next writer finishes the job when the first one was killed.
//!
//! ```text
//! .berth/journal/<name>.json      one intent per file, removed when the job is done
//! ```
//!
//! A writer holding the lock writes an [`Intent`] (atomically, fsynced), then changes the
//! tree, then removes the intent. A crash in between leaves the intent behind; the next
//! writer (any `add`, `promote`, `index`) replays every pending intent under the lock before
//! doing its own work. Replaying is idempotent: files to create that already hold the
//! planned bytes are skipped, index rows are recomputed from the tree. The journal lives in
//! `.berth/` (never committed).
//!
//! Replaying [`Intent::Writes`] needs nothing but the bytes ([`Repository::apply_writes`]);
//! [`Intent::IndexRows`] needs the verdict of the validator and lives in `berth-index`.

use camino::{Utf8Path, Utf8PathBuf};
use serde::{Deserialize, Serialize};

use crate::ids::ComponentPath;
use crate::repo::{Error, Repository, Result};
use crate::store::{Store as _, StoreError, StoreLock};

/// Where pending intents live.
pub const JOURNAL_DIR: &str = ".berth/journal";

/// The largest journal file read back (a whole-stage promotion of many components).
const JOURNAL_LIMIT: u64 = 256 << 20;

/// One planned write.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PlannedWrite {
    /// The file, relative to the repository root.
    pub path: Utf8PathBuf,
    /// Its content.
    pub text: String,
    /// True for a file that must not exist yet (an audit record); false to replace.
    pub create_new: bool,
}

/// What a writer is about to do.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "intent", rename_all = "kebab-case")]
pub enum Intent {
    /// `index/components.yaml` rows of these components must be recomputed (a version was
    /// renamed into place).
    IndexRows {
        /// The components whose rows may change.
        components: Vec<ComponentPath>,
    },
    /// These files are written, in order (audit records, then a domain file).
    Writes {
        /// The writes.
        writes: Vec<PlannedWrite>,
    },
}

/// A pending intent and its journal file.
#[derive(Debug, Clone)]
pub struct Pending {
    /// The journal file, relative to the repository root.
    pub file: Utf8PathBuf,
    /// The intent.
    pub intent: Intent,
}

/// True when the repository at `root` has intents of killed writers waiting (one
/// directory listing; `berth.toml` is not read).
pub fn pending_at(root: &Utf8Path) -> bool {
    crate::store::LocalStore::new(root).is_ok_and(|s| {
        s.list(Utf8Path::new(JOURNAL_DIR))
            .is_ok_and(|e| e.iter().any(|e| e.name.ends_with(".json")))
    })
}

impl Repository {
    /// Records `intent` before the tree changes; [`Repository::journal_done`] removes it.
    pub fn journal_begin(&self, lock: &StoreLock, intent: &Intent) -> Result<Pending> {
        let nanos = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.as_nanos());
        let file =
            Utf8Path::new(JOURNAL_DIR).join(format!("{nanos:032}-{}.json", std::process::id()));
        let bytes = serde_json::to_vec(intent).map_err(|source| Error::Render {
            file: file.clone(),
            source,
        })?;
        self.store().create_new(lock, &file, &bytes)?;
        Ok(Pending {
            file,
            intent: intent.clone(),
        })
    }

    /// Removes a finished intent.
    pub fn journal_done(&self, lock: &StoreLock, pending: &Pending) -> Result<()> {
        self.store().remove(lock, &pending.file)?;
        Ok(())
    }

    /// True when intents of killed writers wait to be replayed (one directory listing).
    pub fn has_pending(&self) -> bool {
        self.store()
            .list(Utf8Path::new(JOURNAL_DIR))
            .is_ok_and(|e| e.iter().any(|e| e.name.ends_with(".json")))
    }

    /// Every pending intent, oldest first. A journal file that cannot be read or parsed was
    /// cut short by a crash while it was being written: the job it announced never started,
    /// so it is left out (and removed by [`Repository::journal_done`] of the caller, see
    /// `berth_index::recover`).
    pub fn pending(&self) -> Result<Vec<Pending>> {
        let entries = match self.store().list(Utf8Path::new(JOURNAL_DIR)) {
            Ok(e) => e,
            Err(e) if e.is_not_found() => return Ok(Vec::new()),
            Err(e) => return Err(e.into()),
        };
        let mut out = Vec::new();
        for e in entries {
            if !e.name.ends_with(".json") {
                continue;
            }
            let file = Utf8Path::new(JOURNAL_DIR).join(&e.name);
            let intent = self
                .store()
                .read(&file, JOURNAL_LIMIT)
                .ok()
                .and_then(|b| serde_json::from_slice::<Intent>(&b).ok());
            if let Some(intent) = intent {
                out.push(Pending { file, intent });
            } else {
                out.push(Pending {
                    file,
                    intent: Intent::Writes { writes: Vec::new() },
                });
            }
        }
        Ok(out)
    }

    /// Carries out planned writes, idempotently: a file to create that already holds the
    /// planned bytes is skipped; one that holds other bytes is an error (someone else wrote
    /// that record: a person must look).
    pub fn apply_writes(&self, lock: &StoreLock, writes: &[PlannedWrite]) -> Result<()> {
        for w in writes {
            if w.create_new {
                match self.store().create_new(lock, &w.path, w.text.as_bytes()) {
                    Ok(()) => {}
                    Err(StoreError::AlreadyExists { .. }) => {
                        let have = self.read_bytes(&w.path)?;
                        if have != w.text.as_bytes() {
                            return Err(Error::Io(std::io::Error::new(
                                std::io::ErrorKind::AlreadyExists,
                                format!(
                                    "{}: exists with other content than the interrupted write planned; it was not written by this promotion (check `berth validate` and the git history)",
                                    self.path(&w.path)
                                ),
                            )));
                        }
                    }
                    Err(e) => return Err(e.into()),
                }
            } else {
                self.store()
                    .write_atomic(lock, &w.path, w.text.as_bytes())?;
            }
        }
        Ok(())
    }
}
