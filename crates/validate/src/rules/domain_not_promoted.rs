use berth_model::layout::Layout;

use crate::declare_rule;
use crate::diagnostic::{Diagnostic, Span};
use crate::rule::{RepoCx, Rule, RuleInfo, Sink};

declare_rule! {
    /// ## What it checks
    /// Every row of a domain file has an audit record under
    /// `index/audit/<domain>/<env>/` that put that component version into that stage (a
    /// promotion or a rollback). Rows naming a version that does not exist are left to
    /// `domain/unknown-version`.
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
    /// ## How to fix
    /// Revert the edit and promote with `berth promote COMPONENT VERSION --domain D --env
    /// E`, which checks the gates and writes the record.
    pub struct DomainNotPromoted => "domain/not-promoted", Error;
}

impl Rule for DomainNotPromoted {
    fn info(&self) -> &'static RuleInfo {
        &Self::INFO
    }

    fn check_repository(&self, r: &RepoCx<'_>, sink: &mut Sink<'_>) {
        for df in &r.view.domain_files {
            let (Some((d, e)), Some(index)) = (&df.stage, df.file.loaded()) else {
                continue;
            };
            for (i, row) in index.value.components.iter().enumerate() {
                if r.view.version(&row.name, &row.version).is_none() {
                    continue;
                }
                let recorded = r
                    .view
                    .audit_records(d, e)
                    .any(|a| a.component == row.name && a.version == row.version);
                if !recorded {
                    sink.report(
                        Diagnostic::new(
                            &df.file.path,
                            format!(
                                "{} {} runs in {d}/{e} but no audit record under {} promoted it",
                                row.name,
                                row.version,
                                Layout::audit_dir(d, e)
                            ),
                        )
                        .at(Span::value(&index.root, &["components", &i.to_string()]))
                        .help(format!(
                            "revert the hand edit and run `berth promote {} {} --domain {d} --env {e}`",
                            row.name, row.version
                        )),
                    );
                }
            }
        }
    }
}
