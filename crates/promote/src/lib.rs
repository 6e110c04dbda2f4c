//! berth-promote: ladders, promotion gates, approvals, the audit trail and rollback.
//!
//! A domain (`cloud`) has a ladder of environments declared in `berth.toml`
//! (`["staging", "prod"]`); each rung is a [`Stage`] whose domain file says what it runs:
//! `index/domain-cloud-staging.yaml` for the earlier rungs, `index/domain-cloud.yaml` for
//! the last one (production), exactly the seed's file.
//!
//! - [`plan()`] checks a [`Request`] against every gate of the product contract (section 6)
//!   and returns a [`Plan`]: the change, the domain file before and after, and every
//!   [`Refusal`], each naming its [`Gate`] and what would satisfy it. Nothing is written:
//!   this is `--dry-run`.
//! - [`execute`] takes the repository lock, plans again on what is on disk *now*, and when
//!   no gate refuses writes one audit record per change (created, never replaced) and
//!   then the domain file (atomically). Two processes promoting at once queue on the lock:
//!   both land, or the second is refused cleanly; nothing is lost.
//! - The audit trail ([`audit`]): one record per file under
//!   `index/audit/<domain>/<env>/`, named `<seq>-<time>-<component>-<version>.yaml`,
//!   each carrying the sha256 of the previous record of the same stage.
//!   [`verify_chain`] finds a tampered trail; [`promoted_by_audit`] replays it, so a
//!   hand-edited domain file can be told apart from a promoted one.
//! - [`deployed`] and [`stage_diff`]: what a deploy job reads, and what promoting a whole
//!   stage would change.
//! - [`PromotionEvent`]: what happened (or was refused), for notifiers.
//!
//! "Has no error finding" is the [`berth_model::Verdict`] the caller hands in
//! (berth-validate's `Checker` in the CLI), consulted under the writer lock.
//!
//! ```
//! # fn main() -> Result<(), Box<dyn std::error::Error>> {
//! # let src = concat!(env!("CARGO_MANIFEST_DIR"), "/../../examples/repo");
//! # let tmp = tempfile::tempdir()?;
//! # let root = camino::Utf8PathBuf::from_path_buf(tmp.path().join("repo")).expect("utf-8");
//! # copy(src.into(), &root);
//! use berth_promote::{Context, Request, Stage, execute};
//! let repo = berth_model::Repository::open(&root)?;
//! let staging = Stage::new(repo.config(), "cloud", Some("staging"))?;
//! let cx = Context::new("ci-bot");
//! let req = Request::one(staging.clone(), "common-utils", "1.3.0");
//! let outcome = execute(&repo, &berth_validate::Checker::builtin(&repo), &req, &cx)?;
//! assert!(outcome.applied);
//! assert_eq!(berth_promote::deployed(&repo, &staging)?.components.len(), 1);
//! assert!(berth_promote::verify_chain(&repo, &staging.domain, &staging.env).is_empty());
//! # Ok(()) }
//! # fn copy(from: &camino::Utf8Path, to: &camino::Utf8Path) {
//! #     std::fs::create_dir_all(to).expect("mkdir");
//! #     for e in std::fs::read_dir(from).expect("read") {
//! #         let e = e.expect("entry");
//! #         let name = e.file_name().into_string().expect("utf-8");
//! #         if e.file_type().expect("type").is_dir() { copy(&from.join(&name), &to.join(&name)) }
//! #         else { std::fs::copy(from.join(&name), to.join(&name)).expect("copy"); }
//! #     }
//! # }
//! ```
//!
//! Architecture Invariant: every write happens inside [`execute`], under the repository
//! lock, after every gate passed on the state read under that lock; audit records are
//! created with `Store::create_new` and never rewritten; this crate never prints.
//!
//! It is *not* for: validation rules (berth-validate; `domain/not-promoted` is its rule,
//! fed by [`promoted_by_audit`]), notification transport (issue 7: [`PromotionEvent`] is
//! the seam), or rendering for people (berth-cli).

pub mod actor;
pub mod audit;
pub mod event;
pub mod gates;
pub mod plan;
pub mod tag;
pub mod views;

pub use actor::{pipeline_url_from_env, resolve_actor, resolve_actor_with};
pub use audit::{
    Anchored, ChainProblem, LogEntry, LogFilter, RecordFile, anchor, log, promoted_by_audit,
    promoted_in, record_files, undeclared_trails, verify_chain, verify_chain_in,
};
pub use berth_model::stage::{Stage, StageError, read_stage};
pub use event::PromotionEvent;
pub use gates::{Gate, Refusal};
pub use plan::{Change, Context, Outcome, Plan, Request, execute, plan};
pub use tag::PromotionTag;
pub use views::{Deployed, DiffKind, DiffRow, StageDiff, deployed, stage_diff};

use camino::Utf8PathBuf;

/// What can stop a promotion command from answering (a refused gate is not an error: it
/// is a [`Refusal`] in the [`Plan`]).
#[derive(Debug, thiserror::Error)]
pub enum PromoteError {
    /// Reading or writing the repository failed (the message names the file).
    #[error(transparent)]
    Repo(#[from] berth_model::Error),
    /// Resolving dependencies failed.
    #[error(transparent)]
    Index(#[from] berth_index::IndexError),
    /// The stage is not declared in `berth.toml`.
    #[error(transparent)]
    Stage(#[from] berth_model::StageError),
    /// A name given by the user is not valid.
    #[error(transparent)]
    Id(#[from] berth_model::IdError),
    /// A promotion tag is malformed.
    #[error("tag `{tag}` is not a promotion tag: {reason}")]
    BadTag {
        /// The tag.
        tag: String,
        /// What is wrong, and the expected form.
        reason: String,
    },
    /// A tag's version lists several domains whose ladders hold the environment.
    #[error("{component} {version} lists domains {domains}: say which one with --domain")]
    AmbiguousDomain {
        /// The component.
        component: String,
        /// The version.
        version: String,
        /// The domains its metadata lists.
        domains: String,
    },
    /// An audit record could not be created (the message names the file).
    #[error("creating audit record {file}: {source}")]
    Audit {
        /// The record.
        file: Utf8PathBuf,
        /// Why.
        source: std::io::Error,
    },
    /// A request that makes no sense (`--from` equal to `--to`, …).
    #[error("{0}")]
    Usage(String),
}

/// Shorthand for this crate's results.
pub type Result<T, E = PromoteError> = std::result::Result<T, E>;
