use berth_model::layout::Layout;

use crate::declare_rule;
use crate::diagnostic::{Diagnostic, Span};
use crate::rule::{RepoCx, Rule, RuleInfo, Sink};

declare_rule! {
    /// ## What it checks
    /// Every row of a domain file says what the audit trail under
    /// `index/audit/<domain>/<env>/` says the stage runs: the records of the stage (each a
    /// promotion or a rollback) are replayed in chain order, and the last record about a
    /// component gives its version. A row with another version, or for a component the
    /// trail never put there, was not promoted. Rows naming a version that does not exist
    /// are left to `domain/unknown-version`; a tampered trail is `audit/chain`'s.
    ///
    /// ## Why it matters
    /// Domain files hold only promoted versions: a row without a record was edited by
    /// hand, skipping the gates (validation, approvals, previous stage) and leaving no
    /// trace of who did it and why.
    ///
    /// ## Example
    /// ```yaml
    /// # index/domain-cloud.yaml, and no record in index/audit/cloud/prod/
    /// components:
    ///   - name: cloud/dmp/ms-export
    ///     version: 3.2.0
    /// ```
    ///
    /// or the last record of `index/audit/cloud/prod/` about `cloud/dmp/ms-export` put
    /// 3.1.0 there, and the row was edited to 3.2.0.
    ///
    /// ## How to fix
    /// Revert the edit and promote with `berth promote COMPONENT VERSION --domain D --env
    /// E`, which checks the gates and writes the record.
    pub struct DomainNotPromoted => berth_model::Code::DomainNotPromoted, Error;
}

impl Rule for DomainNotPromoted {
    fn info(&self) -> &'static RuleInfo {
        &Self::INFO
    }

    fn check_repository(&self, r: &RepoCx<'_>, sink: &mut Sink<'_>) {
        // A trail whose stage has no domain file at all: every promotion it records is lost.
        for chain in &r.view.audit_chains {
            let (d, e) = (&chain.domain, &chain.env);
            if r.view.domain_file(d, e).is_some() || r.view.config().domain(d).is_none() {
                continue;
            }
            for (c, v) in r.view.promoted(d, e) {
                sink.report(
                    Diagnostic::new(
                        Layout::audit_dir(d, e),
                        format!(
                            "the audit trail says {c} {v} runs in {d}/{e}, but {} does not exist: a promotion was interrupted, or the file was removed",
                            Layout::domain_file(r.view.config(), d, Some(e))
                        ),
                    )
                    .help(format!(
                        "run `berth promote {c} {v} --domain {d} --env {e}` again: it restores the row without a second record"
                    )),
                );
            }
        }
        for df in &r.view.domain_files {
            let (Some((d, e)), Some(index)) = (&df.stage, df.file.loaded()) else {
                continue;
            };
            let promoted = r.view.promoted(d, e);
            // Rows the trail has and the domain file lacks: an interrupted promotion (the
            // next writer finishes it from the journal) or a row removed by hand.
            for (c, v) in &promoted {
                if index.value.version_of(c).is_none() {
                    sink.report(
                        Diagnostic::new(
                            &df.file.path,
                            format!(
                                "the audit trail under {} says {c} {v} runs in {d}/{e}, but this file has no row for it: a promotion was interrupted, or the row was removed by hand",
                                Layout::audit_dir(d, e)
                            ),
                        )
                        .at(Span::key(&index.root, &["components"]))
                        .help(format!(
                            "run `berth promote {c} {v} --domain {d} --env {e}` again (it restores the row without a second record), or roll back through `berth rollback`"
                        )),
                    );
                }
            }
            for (i, row) in index.value.components.iter().enumerate() {
                if r.view.version(&row.name, &row.version).is_none() {
                    continue;
                }
                let promote = format!(
                    "`berth promote {} {} --domain {d} --env {e}`",
                    row.name, row.version
                );
                let (message, help) = match promoted.get(&row.name) {
                    Some(v) if *v == row.version => continue,
                    Some(v) => (
                        format!(
                            "{} {} runs in {d}/{e} but the audit trail under {} says {v} runs there: the row was edited by hand",
                            row.name,
                            row.version,
                            Layout::audit_dir(d, e)
                        ),
                        format!(
                            "revert the hand edit (the trail says {v}); to run {} there, use {promote}",
                            row.version
                        ),
                    ),
                    None => (
                        format!(
                            "{} {} runs in {d}/{e} but no audit record under {} promoted it",
                            row.name,
                            row.version,
                            Layout::audit_dir(d, e)
                        ),
                        format!("revert the hand edit and run {promote}"),
                    ),
                };
                sink.report(
                    Diagnostic::new(&df.file.path, message)
                        .at(Span::value(&index.root, &["components", &i.to_string()]))
                        .help(help),
                );
            }
        }
    }
}
