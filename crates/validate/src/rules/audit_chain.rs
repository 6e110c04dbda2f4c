use berth_model::Stage;
use berth_model::audit::{Anchor, ChainProblem, RecordFile, verify_stage, verify_undeclared};
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
    /// first). The stage's domain file anchors the newest record: its `audit_head` is that
    /// record's sha256. Records in a directory berth.toml declares no stage for are
    /// reported. A record that does not load is left to the `schema/*` rules. `berth log`
    /// runs the same check and exits 1 on the same problems.
    ///
    /// ## Why it matters
    /// The trail says who promoted what, when and with whose approval, and
    /// `domain/not-promoted` trusts it to tell promoted rows from hand-edited ones. An
    /// edited, removed, inserted or reordered record breaks the chain at the next one; two
    /// branches that each promoted into the same stage and were merged give two records
    /// with one number (a fork). Without the anchor the newest record could be edited
    /// unseen: nothing after it would link to it.
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
        let view = r.view;
        let config = view.config();
        let chain_of = |d: &berth_model::DomainName, e: &berth_model::EnvName| -> &[RecordFile] {
            view.audit_chains
                .iter()
                .find(|c| &c.domain == d && &c.env == e)
                .map_or(&[], |c| c.files.as_slice())
        };
        for stage in Stage::all(config) {
            let files = chain_of(&stage.domain, &stage.env);
            let domain_file = view
                .domain_files
                .iter()
                .find(|f| f.stage.as_ref() == Some(&(stage.domain.clone(), stage.env.clone())));
            let problems = match domain_file.map(|f| f.file.loaded()) {
                // A domain file that does not load is its own finding, and anchors nothing.
                Some(None) => berth_model::audit::verify_chain_in(&stage.domain, &stage.env, files),
                loaded => verify_stage(
                    &stage.domain,
                    &stage.env,
                    files,
                    Anchor::of(loaded.flatten().and_then(|l| l.value.audit_head)),
                    &stage.file(config),
                ),
            };
            for p in problems {
                report(view, &stage.to_string(), &p, sink);
            }
        }
        for chain in &view.audit_chains {
            let declared = config
                .domain(&chain.domain)
                .is_some_and(|d| d.ladder.contains(&chain.env));
            if declared {
                continue;
            }
            let dir = berth_model::Layout::audit_dir(&chain.domain, &chain.env);
            let stage = format!("{}/{}", chain.domain, chain.env);
            for p in verify_undeclared(&dir, &chain.domain, &chain.env, &chain.files) {
                report(view, &stage, &p, sink);
            }
        }
    }
}

const HELP: &str = "audit records are written by `berth promote` only and never edited: restore the trail from version control (`git log -- index/audit/`)";

/// One problem of the trail of `stage`, as a finding.
fn report(view: &RepoView<'_>, stage: &str, p: &ChainProblem, sink: &mut Sink<'_>) {
    let loaded = record(view, p.file());
    let span = |field: &str| loaded.map(|l| Span::value(&l.root, &[field]));
    let (message, span) = match p {
        // A record that does not load is a `schema/*` finding already.
        ChainProblem::Unreadable { .. } => return,
        ChainProblem::BadName { .. } => (
            format!(
                "not a berth audit record name (<seq>-<time>-<component>-<version>.yaml), in the audit trail of {stage}"
            ),
            None,
        ),
        ChainProblem::WrongStage { names, .. } => (
            format!("the record is about {names}, but it is in the audit trail of {stage}"),
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
        ChainProblem::Unanchored { .. } => (
            format!(
                "the audit trail of {stage} has records, but this domain file carries no audit_head: the newest record is not protected"
            ),
            None,
        ),
        ChainProblem::HeadMismatch {
            expected, found, ..
        } => (
            format!(
                "audit_head is {}, but the newest audit record of {stage} hashes to {}: the newest record was edited, removed or added by hand",
                short(Some(found)),
                short(expected.as_ref())
            ),
            domain_span(view, p.file()),
        ),
        ChainProblem::Undeclared { .. } => (
            format!(
                "audit records of {stage}, a stage berth.toml does not declare: records are written by `berth promote` into declared stages only"
            ),
            None,
        ),
    };
    let help = match p {
        ChainProblem::Fork { .. } => {
            "keep both records, renumber and relink the later branch's records after the others, and check the domain file against the last record"
        }
        ChainProblem::Unanchored { .. } => {
            "check the trail (`git log -p -- index/audit/`), then run `berth log --anchor`; every promotion writes the anchor too"
        }
        _ => HELP,
    };
    sink.report(Diagnostic::new(p.file(), message).at(span).help(help));
}

/// Where `audit_head` is in the domain file at `path`.
fn domain_span(view: &RepoView<'_>, path: &Utf8Path) -> Option<Span> {
    let f = view.domain_files.iter().find(|f| f.file.path == path)?;
    f.file
        .loaded()
        .map(|l| Span::value(&l.root, &["audit_head"]))
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
