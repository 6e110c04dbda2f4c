//! The audit trail: one record per promotion or rollback, one file per record, never
//! rewritten, chained stage by stage.
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
//! removing records leaves a gap in the numbering. Records are created with
//! `Store::create_new` under the repository lock, so two writers never clobber one
//! another. Two branches that each add a record to the same stage and are merged give two
//! records with one number: [`verify_chain`] reports that as a fork, for a person to look at.

use std::collections::BTreeMap;
use std::fmt;
use std::io;

use berth_model::{
    AuditRecord, ComponentPath, DomainName, EnvName, Repository, Sha256Digest, Version, yaml,
};
use camino::{Utf8Path, Utf8PathBuf};
use serde::Serialize;

use crate::stage::Stage;
use crate::{PromoteError, Result};

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
    /// The record, parsed.
    pub fn record(&self) -> Result<AuditRecord, berth_model::YamlError> {
        yaml::from_slice::<AuditRecord>(&self.path, &self.bytes).map(|l| l.value)
    }
    /// The sha256 of its bytes: what the next record's `previous_record` holds.
    pub fn digest(&self) -> Sha256Digest {
        Sha256Digest::of(&self.bytes)
    }
}

/// The leading sequence number of a record file name (`000012-…` → 12).
fn seq_of(name: &str) -> Option<u64> {
    let digits = name.split('-').next()?;
    if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    digits.parse().ok()
}

/// Every record file of a stage, in chain order (sequence number, then name); files
/// that are not `.yaml` and dot-files (temporary files of a writer) are left out.
pub fn record_files(repo: &Repository, stage: &Stage) -> io::Result<Vec<RecordFile>> {
    let dir = stage.audit_dir();
    let entries = match repo.store().list(&dir) {
        Ok(e) => e,
        Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(Vec::new()),
        Err(e) => return Err(e),
    };
    let mut out = Vec::new();
    for e in entries {
        if e.is_dir || e.name.starts_with('.') || !e.name.ends_with(".yaml") {
            continue;
        }
        let path = dir.join(&e.name);
        let bytes = repo.store().read(&path)?;
        out.push(RecordFile {
            seq: seq_of(&e.name),
            path,
            bytes,
        });
    }
    out.sort_by(|a, b| {
        (a.seq.unwrap_or(u64::MAX), &a.path).cmp(&(b.seq.unwrap_or(u64::MAX), &b.path))
    });
    Ok(out)
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

/// Where the next record of a stage goes: its number and the digest it links to.
#[derive(Debug, Clone)]
pub(crate) struct ChainHead {
    next_seq: u64,
    last: Option<Sha256Digest>,
}

impl ChainHead {
    /// Reads the head of a stage's chain (call under the repository lock).
    pub(crate) fn read(repo: &Repository, stage: &Stage) -> Result<ChainHead> {
        let files = record_files(repo, stage).map_err(berth_model::Error::from)?;
        let numbered: Vec<&RecordFile> = files.iter().filter(|f| f.seq.is_some()).collect();
        Ok(ChainHead {
            next_seq: numbered.last().and_then(|f| f.seq).unwrap_or(0) + 1,
            last: numbered.last().map(|f| f.digest()),
        })
    }

    /// Links `record` to the chain and creates its file; never replaces a file.
    pub(crate) fn append(
        &mut self,
        repo: &Repository,
        stage: &Stage,
        mut record: AuditRecord,
    ) -> Result<Utf8PathBuf> {
        record.previous_record = self.last;
        let path = stage.audit_dir().join(record_name(self.next_seq, &record));
        let text = yaml::to_canonical(&record).map_err(|source| berth_model::Error::Render {
            file: repo.path(&path),
            source,
        })?;
        repo.store()
            .create_new(&path, text.as_bytes())
            .map_err(|source| PromoteError::Audit {
                file: repo.path(&path),
                source,
            })?;
        self.next_seq += 1;
        self.last = Some(Sha256Digest::of(text.as_bytes()));
        Ok(path)
    }
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
            | ChainProblem::Fork { file, .. } => file,
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
        }
    }
}

/// Checks the chain of one stage: every record readable, about its stage, numbered
/// without gaps or duplicates, and linked to the one before it.
pub fn verify_chain(repo: &Repository, d: &DomainName, env: &EnvName) -> Vec<ChainProblem> {
    let stage = Stage {
        domain: d.clone(),
        env: env.clone(),
    };
    match record_files(repo, &stage) {
        Ok(files) => verify_chain_in(&stage, &files),
        Err(e) => vec![ChainProblem::Unreadable {
            file: stage.audit_dir(),
            error: e.to_string(),
        }],
    }
}

/// [`verify_chain`] over record files already read (in the order [`record_files`] gives).
pub fn verify_chain_in(stage: &Stage, files: &[RecordFile]) -> Vec<ChainProblem> {
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
                if r.domain != stage.domain || r.environment != stage.env {
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

/// What a stage runs according to its audit trail: every record replayed in order.
/// A domain file row that differs from this was not promoted (hand-edited): the
/// validator's `domain/not-promoted`.
pub fn promoted_by_audit(
    repo: &Repository,
    d: &DomainName,
    env: &EnvName,
) -> Result<BTreeMap<ComponentPath, Version>> {
    let stage = Stage {
        domain: d.clone(),
        env: env.clone(),
    };
    let files = record_files(repo, &stage).map_err(berth_model::Error::from)?;
    let records: Vec<AuditRecord> = files.iter().filter_map(|f| f.record().ok()).collect();
    Ok(promoted_in(
        records
            .iter()
            .filter(|r| r.domain == *d && r.environment == *env),
    ))
}

/// Replays records (in chain order) into component → version.
pub fn promoted_in<'a>(
    records: impl IntoIterator<Item = &'a AuditRecord>,
) -> BTreeMap<ComponentPath, Version> {
    let mut out = BTreeMap::new();
    for r in records {
        out.insert(r.component.clone(), r.version.clone());
    }
    out
}

/// Which records `berth log` shows.
#[derive(Debug, Clone, Default)]
pub struct LogFilter {
    /// A component: full path, or its last segment.
    pub component: Option<String>,
    /// One domain.
    pub domain: Option<DomainName>,
    /// One environment.
    pub env: Option<EnvName>,
}

/// One record with its file.
#[derive(Debug, Clone, Serialize)]
pub struct LogEntry {
    /// The record file.
    pub file: Utf8PathBuf,
    /// The record.
    #[serde(flatten)]
    pub record: AuditRecord,
}

/// The audit history: records oldest first, and what is wrong with the chains read.
#[derive(Debug, Clone, Default, Serialize)]
pub struct Log {
    /// The records that match, oldest first.
    pub entries: Vec<LogEntry>,
    /// Problems of the chains of every stage looked at (whatever the component filter).
    pub problems: Vec<ChainProblem>,
}

/// The audit history of the declared stages that `filter` selects.
pub fn log(repo: &Repository, filter: &LogFilter) -> Result<Log> {
    let mut out = Log::default();
    let wanted = |c: &ComponentPath| match &filter.component {
        None => true,
        Some(n) if n.contains('/') => c.as_str() == n,
        Some(n) => c.name() == n,
    };
    for stage in Stage::all(repo.config()) {
        if filter.domain.as_ref().is_some_and(|d| d != &stage.domain)
            || filter.env.as_ref().is_some_and(|e| e != &stage.env)
        {
            continue;
        }
        let files = match record_files(repo, &stage) {
            Ok(f) => f,
            Err(e) => {
                out.problems.push(ChainProblem::Unreadable {
                    file: stage.audit_dir(),
                    error: e.to_string(),
                });
                continue;
            }
        };
        out.problems.extend(verify_chain_in(&stage, &files));
        for f in &files {
            if let Ok(record) = f.record()
                && wanted(&record.component)
            {
                out.entries.push(LogEntry {
                    file: f.path.clone(),
                    record,
                });
            }
        }
    }
    out.entries.sort_by(|a, b| {
        (
            a.record.at,
            &a.record.domain,
            &a.record.environment,
            &a.file,
        )
            .cmp(&(
                b.record.at,
                &b.record.domain,
                &b.record.environment,
                &b.file,
            ))
    });
    Ok(out)
}

/// The versions a stage ran for `c` according to its trail, oldest first (each record's
/// previous version and version).
pub(crate) fn ran(files: &[RecordFile], c: &ComponentPath) -> Vec<(AuditRecord, Utf8PathBuf)> {
    files
        .iter()
        .filter_map(|f| f.record().ok().map(|r| (r, f.path.clone())))
        .filter(|(r, _)| &r.component == c)
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sequence_numbers() {
        assert_eq!(seq_of("000012-20261128T134000Z-a-b-1.0.0.yaml"), Some(12));
        assert_eq!(seq_of("1234567-x.yaml"), Some(1_234_567));
        assert_eq!(seq_of("notes.yaml"), None);
        assert_eq!(seq_of("-1.yaml"), None);
    }
}
