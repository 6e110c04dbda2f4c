use berth_model::audit::{ChainProblem, verify_chain_in};
use berth_model::files::AuditRecord;
use berth_model::yaml::Loaded;
use camino::Utf8Path;

use crate::declare_rule;
use crate::diagnostic::{Diagnostic, Span};
use crate::rule::{RepoCx, Rule, RuleInfo, Sink};
use crate::view::RepoView;

declare_rule! {
    /// ## What it checks
    /// The audit trail of every stage, `index/audit/<domain>/<env>/`, is the chain
    /// `berth promote` wrote: every file is named `<seq>-<time>-<component>-<version>.yaml`,
    /// numbered from 1 without gaps or duplicates, about the stage of its directory, and
    /// its `previous_record` is the sha256 of the record file before it (none for the
    /// first). A record that does not load is left to the `schema/*` rules.
    ///
    /// ## Why it matters
    /// The trail says who promoted what, when and with whose approval, and
    /// `domain/not-promoted` trusts it to tell promoted rows from hand-edited ones. An
    /// edited, removed, inserted or reordered record breaks the chain at the next one; two
    /// branches that each promoted into the same stage and were merged give two records
    /// with one number (a fork).
    ///
    /// ## Example
    /// ```yaml
    /// # index/audit/cloud/staging/000002-20261128T134000Z-cloud-dmp-ms-ingestion-1.0.3.yaml
    /// previous_record: 9f2c…   # 000001-… was edited afterwards and hashes to 41d0…
    /// ```
    ///
    /// ## How to fix
    /// Restore the trail from version control (`git log -- index/audit/`): records are
    /// written by `berth promote` and `berth rollback` only and are never edited. A fork
    /// after a merge needs a person: keep both records, renumber the later branch's
    /// records after the others and relink them, and check that the domain file says what
    /// the last record says. `berth log` shows the same problems.
    pub struct AuditChain => berth_model::Code::AuditChain, Error;
}

impl Rule for AuditChain {
    fn info(&self) -> &'static RuleInfo {
        &Self::INFO
    }

    fn check_repository(&self, r: &RepoCx<'_>, sink: &mut Sink<'_>) {
        const HELP: &str = "audit records are written by `berth promote` only and never edited: restore the trail from version control (`git log -- index/audit/`)";
        for chain in &r.view.audit_chains {
            let stage = format!("{}/{}", chain.domain, chain.env);
            for p in verify_chain_in(&chain.domain, &chain.env, &chain.files) {
                let loaded = record(r.view, p.file());
                let span = |field: &str| loaded.map(|l| Span::value(&l.root, &[field]));
                let (message, span) = match &p {
                    // A record that does not load is a `schema/*` finding already.
                    ChainProblem::Unreadable { .. } => continue,
                    ChainProblem::BadName { .. } => (
                        format!(
                            "not a berth audit record name (<seq>-<time>-<component>-<version>.yaml), in the audit trail of {stage}"
                        ),
                        None,
                    ),
                    ChainProblem::WrongStage { names, .. } => (
                        format!(
                            "the record is about {names}, but it is in the audit trail of {stage}"
                        ),
                        span("domain"),
                    ),
                    ChainProblem::BrokenLink {
                        expected, found, ..
                    } => (
                        format!(
                            "audit chain of {stage} broken: previous_record is {}, but the record before it hashes to {}; a record before it was edited, removed or inserted",
                            short(found.as_ref()),
                            short(expected.as_ref())
                        ),
                        span("previous_record"),
                    ),
                    ChainProblem::Gap {
                        expected, found, ..
                    } => (
                        format!(
                            "audit chain of {stage} has a gap: record {expected:06} expected, {found:06} found; records were removed"
                        ),
                        None,
                    ),
                    ChainProblem::Fork { other, .. } => (
                        format!(
                            "has the same number as {other}: two promotions into {stage} were written on different branches and merged"
                        ),
                        None,
                    ),
                };
                let help = match p {
                    ChainProblem::Fork { .. } => {
                        "keep both records, renumber and relink the later branch's records after the others, and check the domain file against the last record"
                    }
                    _ => HELP,
                };
                sink.report(Diagnostic::new(p.file(), message).at(span).help(help));
            }
        }
    }
}

/// The loaded record at `path`, from the view's parsed audit files.
fn record<'v>(view: &'v RepoView<'_>, path: &Utf8Path) -> Option<&'v Loaded<AuditRecord>> {
    let i = view
        .audit
        .binary_search_by(|a| a.path.as_path().cmp(path))
        .ok()?;
    view.audit[i].loaded()
}

/// The first twelve hex digits of a digest, `none` for no digest.
fn short(d: Option<&berth_model::Sha256Digest>) -> String {
    d.map_or_else(|| "none".to_owned(), |d| d.hex()[..12].to_owned())
}
