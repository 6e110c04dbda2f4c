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
//!
//! The I/O-free parts (record names, [`ChainProblem`], the chain check over files already
//! read, the replay [`promoted_in`]) live in [`berth_model::audit`], shared with the
//! validator's `audit/chain` and `domain/not-promoted`; they are re-exported here.

use std::collections::BTreeMap;

use berth_model::audit::{Anchor, is_record_file_name, sort_chain};
pub use berth_model::audit::{ChainProblem, RecordFile, promoted_in, record_name};
use berth_model::journal::PlannedWrite;
use berth_model::{
    AuditRecord, ComponentPath, DomainName, EnvName, Repository, Sha256Digest, StoreError, Version,
    yaml,
};
use camino::Utf8PathBuf;
use serde::Serialize;

use crate::Result;
use berth_model::Stage;
use berth_model::stage::read_stage;

/// Every record file of a stage, in chain order (sequence number, then name); files
/// that are not `.yaml` and dot-files (temporary files of a writer) are left out.
pub fn record_files(repo: &Repository, stage: &Stage) -> Result<Vec<RecordFile>, StoreError> {
    let dir = stage.audit_dir();
    let entries = match repo.store().list(&dir) {
        Ok(e) => e,
        Err(e) if e.is_not_found() => return Ok(Vec::new()),
        Err(e) => return Err(e),
    };
    let mut out = Vec::new();
    for e in entries {
        if e.is_dir || !is_record_file_name(&e.name) {
            continue;
        }
        let path = dir.join(&e.name);
        let bytes = repo.read_bytes(&path)?;
        out.push(RecordFile::new(path, bytes));
    }
    sort_chain(&mut out);
    Ok(out)
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

    /// The digest of the newest record (after the ones [`ChainHead::next`] linked): what
    /// the stage's domain file anchors.
    pub(crate) fn last(&self) -> Option<Sha256Digest> {
        self.last
    }

    /// Links `record` to the chain: the file it goes to and its bytes (written later, with
    /// the rest of the promotion, through the journal).
    pub(crate) fn next(
        &mut self,
        repo: &Repository,
        stage: &Stage,
        mut record: AuditRecord,
    ) -> Result<PlannedWrite> {
        record.previous_record = self.last;
        let path = stage.audit_dir().join(record_name(self.next_seq, &record));
        let text = yaml::to_canonical(&record).map_err(|source| berth_model::Error::Render {
            file: repo.path(&path),
            source,
        })?;
        self.next_seq += 1;
        self.last = Some(Sha256Digest::of(text.as_bytes()));
        Ok(PlannedWrite {
            path,
            text,
            create_new: true,
        })
    }
}

/// Checks the trail of one stage: every record readable, about its stage, numbered
/// without gaps or duplicates, linked to the one before it, and the newest anchored by the
/// stage's domain file ([`berth_model::audit::verify_stage`], the check `audit/chain`
/// shares).
pub fn verify_chain(repo: &Repository, d: &DomainName, env: &EnvName) -> Vec<ChainProblem> {
    let stage = Stage {
        domain: d.clone(),
        env: env.clone(),
    };
    match record_files(repo, &stage) {
        Ok(files) => verify_chain_in(repo, &stage, &files),
        Err(e) => vec![ChainProblem::Unreadable {
            file: stage.audit_dir(),
            error: e.to_string(),
        }],
    }
}

/// [`verify_chain`] over record files already read (in the order [`record_files`] gives).
pub fn verify_chain_in(
    repo: &Repository,
    stage: &Stage,
    files: &[RecordFile],
) -> Vec<ChainProblem> {
    // A domain file that does not load anchors nothing (and is its own finding).
    let head = read_stage(repo, stage).ok().and_then(|d| d.audit_head);
    berth_model::audit::verify_stage(
        &stage.domain,
        &stage.env,
        files,
        Anchor::of(head),
        &stage.file(repo.config()),
    )
}

/// The stage directories under `index/audit/` that berth.toml does not declare, with
/// their record files (in chain order).
pub fn undeclared_trails(
    repo: &Repository,
) -> Result<Vec<(DomainName, EnvName, Vec<RecordFile>)>, StoreError> {
    let declared = Stage::all(repo.config());
    let root = Utf8PathBuf::from(berth_model::layout::AUDIT_DIR);
    let domains = match repo.store().list(&root) {
        Ok(e) => e,
        Err(e) if e.is_not_found() => return Ok(Vec::new()),
        Err(e) => return Err(e),
    };
    let mut out = Vec::new();
    for d in domains.iter().filter(|e| e.is_dir) {
        for e in repo
            .store()
            .list(&root.join(&d.name))?
            .iter()
            .filter(|e| e.is_dir)
        {
            let (Ok(domain), Ok(env)) = (DomainName::parse(&d.name), EnvName::parse(&e.name))
            else {
                continue;
            };
            let stage = Stage { domain, env };
            if declared.contains(&stage) {
                continue;
            }
            let files = record_files(repo, &stage)?;
            if !files.is_empty() {
                out.push((stage.domain, stage.env, files));
            }
        }
    }
    Ok(out)
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
        out.problems.extend(verify_chain_in(repo, &stage, &files));
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
    // Records in a stage berth.toml does not declare: never written by berth.
    let undeclared = undeclared_trails(repo).map_err(berth_model::Error::from)?;
    for (domain, env, files) in undeclared {
        if filter.domain.as_ref().is_some_and(|d| d != &domain)
            || filter.env.as_ref().is_some_and(|e| e != &env)
        {
            continue;
        }
        let dir = berth_model::Layout::audit_dir(&domain, &env);
        out.problems.extend(berth_model::audit::verify_undeclared(
            &dir, &domain, &env, &files,
        ));
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

/// What [`anchor`] did to one stage.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Anchored {
    /// The stage.
    pub stage: Stage,
    /// The head written (`None`: the stage has no record).
    pub head: Option<Sha256Digest>,
    /// True when the domain file changed.
    pub written: bool,
}

/// Writes each declared stage's `audit_head` (for trails written before berth anchored
/// them): under the lock, only for a stage whose chain is intact, never changing what the
/// stage runs. A stage with chain problems is refused with them: a person restores the
/// trail first. `berth log --anchor`.
pub fn anchor(repo: &Repository) -> Result<(Vec<Anchored>, Vec<ChainProblem>)> {
    let lock = repo.lock()?;
    let mut done = Vec::new();
    let mut problems = Vec::new();
    for stage in Stage::all(repo.config()) {
        let files = record_files(repo, &stage).map_err(berth_model::Error::from)?;
        let chain = berth_model::audit::verify_chain_in(&stage.domain, &stage.env, &files);
        if !chain.is_empty() {
            problems.extend(chain);
            continue;
        }
        let head = berth_model::audit::head_of(&files);
        let mut index = read_stage(repo, &stage)?;
        let written = index.audit_head != head;
        if written {
            index.audit_head = head;
            repo.write_yaml(&lock, &stage.file(repo.config()), &index)?;
        }
        done.push(Anchored {
            stage,
            head,
            written,
        });
    }
    Ok((done, problems))
}
