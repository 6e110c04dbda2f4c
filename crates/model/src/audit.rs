//! The audit trail's pure parts: record file names, the hash chain of a stage and the
//! replay of its records, over record files already read (no I/O here).
//!
//! ```text
//! index/audit/<domain>/<env>/<seq>-<yyyymmddThhmmssZ>-<component-with-dashes>-<version>.yaml
//! index/audit/cloud/prod/000002-20261128T134000Z-cloud-dmp-ms-ingestion-1.0.3.yaml
//! ```
//!
//! `seq` numbers the records of a stage from 1 (zero-padded to six digits, so names sort;
//! the chain is ordered by the number itself). Each record's `previous_record` is the
//! sha256 of the bytes of the record before it in the same stage (none for the first):
//! editing, removing or reordering a record breaks the chain at the next record, and
//! removing records leaves a gap in the numbering. Two branches that each add a record to
//! the same stage and are merged give two records with one number: [`verify_chain_in`]
//! reports that as a fork, for a person to look at.
//!
//! `berth-promote` reads and writes the trail; `berth-validate` checks it. Both use this
//! module, so the chain means the same thing to both.

use std::collections::BTreeMap;
use std::fmt;

use camino::{Utf8Path, Utf8PathBuf};
use serde::Serialize;

use crate::files::AuditRecord;
use crate::ids::{ComponentPath, DomainName, EnvName, Sha256Digest, Version};
use crate::yaml::{self, YamlError};

/// One record file of a stage, as stored.
#[derive(Debug, Clone)]
pub struct RecordFile {
    /// Its path, relative to the repository root.
    pub path: Utf8PathBuf,
    /// The sequence number its name starts with; `None` for a name that does not.
    pub seq: Option<u64>,
    /// Its bytes.
    pub bytes: Vec<u8>,
}

impl RecordFile {
    /// A record file read from `path`; its sequence number comes from its file name.
    pub fn new(path: Utf8PathBuf, bytes: Vec<u8>) -> RecordFile {
        RecordFile {
            seq: path.file_name().and_then(record_seq),
            path,
            bytes,
        }
    }
    /// The record, parsed.
    pub fn record(&self) -> Result<AuditRecord, YamlError> {
        yaml::from_slice::<AuditRecord>(&self.path, &self.bytes).map(|l| l.value)
    }
    /// The sha256 of its bytes: what the next record's `previous_record` holds.
    pub fn digest(&self) -> Sha256Digest {
        Sha256Digest::of(&self.bytes)
    }
}

/// The leading sequence number of a record file name (`000012-…` → 12); `None` for a
/// name that does not start with digits followed by `-`.
pub fn record_seq(name: &str) -> Option<u64> {
    let digits = name.split('-').next()?;
    if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    digits.parse().ok()
}

/// True for a file name that belongs to a stage's trail: a `.yaml` file that is not a
/// dot-file (a writer's temporary file).
pub fn is_record_file_name(name: &str) -> bool {
    !name.starts_with('.') && name.ends_with(".yaml")
}

/// The file name of a record: `<seq>-<time>-<component-with-dashes>-<version>.yaml`.
pub fn record_name(seq: u64, record: &AuditRecord) -> String {
    format!(
        "{seq:06}-{}-{}-{}.yaml",
        record.at.jiff().strftime("%Y%m%dT%H%M%SZ"),
        record.component.as_str().replace('/', "-"),
        record.version
    )
}

/// Sorts the record files of one stage into chain order: sequence number, then path;
/// files without a number last.
pub fn sort_chain(files: &mut [RecordFile]) {
    files.sort_by(|a, b| {
        (a.seq.unwrap_or(u64::MAX), &a.path).cmp(&(b.seq.unwrap_or(u64::MAX), &b.path))
    });
}

/// What is wrong with a stage's audit trail.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "problem", rename_all = "kebab-case")]
pub enum ChainProblem {
    /// A record that cannot be read or parsed.
    Unreadable {
        /// The file (or the audit directory, when it cannot be listed).
        file: Utf8PathBuf,
        /// Why.
        error: String,
    },
    /// A file whose name does not start with a sequence number: not part of the chain.
    BadName {
        /// The file.
        file: Utf8PathBuf,
    },
    /// A record about another stage than the directory it sits in.
    WrongStage {
        /// The file.
        file: Utf8PathBuf,
        /// The stage it names (`cloud/staging`).
        names: String,
    },
    /// `previous_record` is not the digest of the record before: a record before it was
    /// edited, removed or inserted.
    BrokenLink {
        /// The record whose link is wrong.
        file: Utf8PathBuf,
        /// The digest of the record before it (`None`: it is the first record).
        expected: Option<Sha256Digest>,
        /// What it says.
        found: Option<Sha256Digest>,
    },
    /// Numbers are missing before this record: records were removed.
    Gap {
        /// The record after the gap.
        file: Utf8PathBuf,
        /// The number expected.
        expected: u64,
        /// The number found.
        found: u64,
    },
    /// Two records carry the same number (two branches merged, or a copy).
    Fork {
        /// The second record with that number.
        file: Utf8PathBuf,
        /// The first.
        other: Utf8PathBuf,
    },
    /// The stage has records but its domain file anchors none of them (no `audit_head`,
    /// or no domain file): its newest record is not protected.
    Unanchored {
        /// The domain file.
        file: Utf8PathBuf,
    },
    /// The domain file's `audit_head` is not the digest of the stage's newest record: the
    /// newest record was edited, removed or added by hand.
    HeadMismatch {
        /// The domain file.
        file: Utf8PathBuf,
        /// The digest of the newest record (`None`: the stage has no record).
        expected: Option<Sha256Digest>,
        /// What the domain file says.
        found: Sha256Digest,
    },
    /// Records in a directory that is no declared stage (`index/audit/<domain>/<env>/`
    /// with a domain or environment berth.toml does not declare).
    Undeclared {
        /// The directory.
        file: Utf8PathBuf,
    },
}

impl ChainProblem {
    /// The file the problem is about.
    pub fn file(&self) -> &Utf8Path {
        match self {
            ChainProblem::Unreadable { file, .. }
            | ChainProblem::BadName { file }
            | ChainProblem::WrongStage { file, .. }
            | ChainProblem::BrokenLink { file, .. }
            | ChainProblem::Gap { file, .. }
            | ChainProblem::Fork { file, .. }
            | ChainProblem::Unanchored { file }
            | ChainProblem::HeadMismatch { file, .. }
            | ChainProblem::Undeclared { file } => file,
        }
    }
}

impl fmt::Display for ChainProblem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let short = |d: &Option<Sha256Digest>| match d {
            Some(d) => d.hex()[..12].to_owned(),
            None => "none".to_owned(),
        };
        match self {
            ChainProblem::Unreadable { file, error } => {
                write!(f, "{file}: audit record cannot be read: {error}")
            }
            ChainProblem::BadName { file } => write!(
                f,
                "{file}: not a berth audit record name (<seq>-<time>-<component>-<version>.yaml); records are written by `berth promote` only"
            ),
            ChainProblem::WrongStage { file, names } => write!(
                f,
                "{file}: the record is about {names}, not the stage of its directory"
            ),
            ChainProblem::BrokenLink {
                file,
                expected,
                found,
            } => write!(
                f,
                "{file}: audit chain broken: previous_record is {}, the record before it hashes to {}; a record before it was edited, removed or inserted",
                short(found),
                short(expected)
            ),
            ChainProblem::Gap {
                file,
                expected,
                found,
            } => write!(
                f,
                "{file}: audit chain has a gap: record {expected:06} expected, {found:06} found; records were removed"
            ),
            ChainProblem::Fork { file, other } => write!(
                f,
                "{file}: has the same number as {other}: two promotions of the stage were written on different branches and merged"
            ),
            ChainProblem::Unanchored { file } => write!(
                f,
                "{file}: carries no audit_head, so the newest audit record of its stage is not protected; `berth log --anchor` writes it once the trail is checked"
            ),
            ChainProblem::HeadMismatch {
                file,
                expected,
                found,
            } => write!(
                f,
                "{file}: audit_head is {}, but the newest audit record of its stage hashes to {}; the newest record was edited, removed or added by hand",
                short(&Some(*found)),
                short(expected)
            ),
            ChainProblem::Undeclared { file } => write!(
                f,
                "{file}: audit records of a stage berth.toml does not declare; records are written by `berth promote` into declared stages only"
            ),
        }
    }
}

/// Checks the chain of the stage `domain`/`env` over its record files, in chain order
/// ([`sort_chain`]): every record readable, about its stage, numbered without gaps or
/// duplicates, and linked to the one before it.
pub fn verify_chain_in(
    domain: &DomainName,
    env: &EnvName,
    files: &[RecordFile],
) -> Vec<ChainProblem> {
    let mut out = Vec::new();
    let mut prev: Option<&RecordFile> = None;
    let mut expected_seq = 1u64;
    for f in files {
        let Some(seq) = f.seq else {
            out.push(ChainProblem::BadName {
                file: f.path.clone(),
            });
            continue;
        };
        match (prev, seq) {
            (Some(p), s) if p.seq == Some(s) => out.push(ChainProblem::Fork {
                file: f.path.clone(),
                other: p.path.clone(),
            }),
            (_, s) if s != expected_seq => out.push(ChainProblem::Gap {
                file: f.path.clone(),
                expected: expected_seq,
                found: s,
            }),
            _ => {}
        }
        match f.record() {
            Err(e) => out.push(ChainProblem::Unreadable {
                file: f.path.clone(),
                error: e.to_string(),
            }),
            Ok(r) => {
                if r.domain != *domain || r.environment != *env {
                    out.push(ChainProblem::WrongStage {
                        file: f.path.clone(),
                        names: format!("{}/{}", r.domain, r.environment),
                    });
                }
                let expected = prev.map(RecordFile::digest);
                if r.previous_record != expected {
                    out.push(ChainProblem::BrokenLink {
                        file: f.path.clone(),
                        expected,
                        found: r.previous_record,
                    });
                }
            }
        }
        expected_seq = seq + 1;
        prev = Some(f);
    }
    out
}

/// What a stage's domain file says about the head of its trail.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Anchor {
    /// The domain file carries this `audit_head`.
    Head(Sha256Digest),
    /// The domain file has no `audit_head`, or there is no domain file (a domain file
    /// that does not load is its own finding, and anchors nothing).
    Missing,
}

impl Anchor {
    /// The anchor of a domain file as loaded (`None`: no domain file).
    pub fn of(head: Option<Sha256Digest>) -> Anchor {
        head.map_or(Anchor::Missing, Anchor::Head)
    }
}

/// The whole check of one stage's trail, shared by `berth log` and `audit/chain`: the
/// chain ([`verify_chain_in`]), then the anchor: the domain file `domain_file` must carry
/// the digest of the newest record (and none when there is no record).
pub fn verify_stage(
    domain: &DomainName,
    env: &EnvName,
    files: &[RecordFile],
    anchor: Anchor,
    domain_file: &Utf8Path,
) -> Vec<ChainProblem> {
    let mut out = verify_chain_in(domain, env, files);
    match (head_of(files), anchor) {
        (Some(d), Anchor::Head(h)) if d == h => {}
        (None, Anchor::Missing) => {}
        (Some(_), Anchor::Missing) => out.push(ChainProblem::Unanchored {
            file: domain_file.to_owned(),
        }),
        (expected, Anchor::Head(found)) => out.push(ChainProblem::HeadMismatch {
            file: domain_file.to_owned(),
            expected,
            found,
        }),
    }
    out
}

/// The check of records in a directory that is no declared stage: every one is a problem
/// (and the chain is checked too, for the messages).
pub fn verify_undeclared(
    dir: &Utf8Path,
    domain: &DomainName,
    env: &EnvName,
    files: &[RecordFile],
) -> Vec<ChainProblem> {
    if files.is_empty() {
        return Vec::new();
    }
    let mut out = vec![ChainProblem::Undeclared {
        file: dir.to_owned(),
    }];
    out.extend(verify_chain_in(domain, env, files));
    out
}

/// The digest a domain file must anchor: that of the newest record of the stage.
pub fn head_of(files: &[RecordFile]) -> Option<Sha256Digest> {
    files
        .iter()
        .rfind(|f| f.seq.is_some())
        .map(RecordFile::digest)
}

/// Replays records (in chain order) into component → version: what the stage runs
/// according to its trail. A domain-file row that differs from this was not promoted
/// (hand-edited).
pub fn promoted_in<'a>(
    records: impl IntoIterator<Item = &'a AuditRecord>,
) -> BTreeMap<ComponentPath, Version> {
    let mut out = BTreeMap::new();
    for r in records {
        out.insert(r.component.clone(), r.version.clone());
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sequence_numbers() {
        assert_eq!(
            record_seq("000012-20261128T134000Z-a-b-1.0.0.yaml"),
            Some(12)
        );
        assert_eq!(record_seq("1234567-x.yaml"), Some(1_234_567));
        assert_eq!(record_seq("notes.yaml"), None);
        assert_eq!(record_seq("-1.yaml"), None);
    }

    #[test]
    fn record_file_names() {
        assert!(is_record_file_name("000001-x.yaml"));
        assert!(!is_record_file_name(".000001-x.yaml"));
        assert!(!is_record_file_name("000001-x.yml.tmp"));
    }
}
