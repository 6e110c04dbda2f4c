use crate::declare_rule;
use crate::diagnostic::{Diagnostic, Span};
use crate::rule::{RepoCx, Rule, RuleInfo, Sink};

declare_rule! {
    /// ## What it checks
    /// Every version a stage runs has been through the stage before it on the domain's
    /// ladder: it runs there now, or an audit record shows it was promoted there. Domains
    /// with `allow_skip = true` are exempt; the first rung has no stage before it.
    ///
    /// ## Why it matters
    /// The ladder is the test plan: a version that reaches production without staging
    /// was never tested where it should have been.
    ///
    /// ## Example
    /// ```yaml
    /// # index/domain-cloud.yaml (prod) runs ms-export 3.2.0,
    /// # index/domain-cloud-staging.yaml never did
    /// ```
    ///
    /// ## How to fix
    /// Promote the version to the earlier stage first (`berth promote … --env staging`),
    /// or set `allow_skip = true` for the domain in `berth.toml` if skipping is policy.
    pub struct DomainStageSkipped => berth_model::Code::DomainStageSkipped, Error;
}

impl Rule for DomainStageSkipped {
    fn info(&self) -> &'static RuleInfo {
        &Self::INFO
    }

    fn check_repository(&self, r: &RepoCx<'_>, sink: &mut Sink<'_>) {
        let config = r.view.config();
        for df in &r.view.domain_files {
            let (Some((d, e)), Some(index)) = (&df.stage, df.file.loaded()) else {
                continue;
            };
            let Some(dc) = config.domain(d) else { continue };
            if dc.allow_skip {
                continue;
            }
            let Some(prev) = dc.previous(e) else { continue };
            let prev_rows = r
                .view
                .domain_file(d, prev)
                .and_then(|f| f.file.loaded())
                .map(|l| l.value.components.as_slice())
                .unwrap_or_default();
            for (i, row) in index.value.components.iter().enumerate() {
                if r.view.version(&row.name, &row.version).is_none() {
                    continue;
                }
                let ran_before = prev_rows
                    .iter()
                    .any(|p| p.name == row.name && p.version == row.version)
                    || r.view
                        .audit_records(d, prev)
                        .any(|a| a.component == row.name && a.version == row.version);
                if !ran_before {
                    sink.report(
                        Diagnostic::new(
                            &df.file.path,
                            format!(
                                "{} {} runs in {d}/{e} but never ran in {d}/{prev}, the stage before",
                                row.name, row.version
                            ),
                        )
                        .at(Span::value(&index.root, &["components", &i.to_string()]))
                        .help(format!(
                            "promote it to {prev} first (`berth promote {} {} --domain {d} --env {prev}`), or set allow_skip = true for [domains.{d}]",
                            row.name, row.version
                        )),
                    );
                }
            }
        }
    }
}
