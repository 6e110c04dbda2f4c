use crate::declare_rule;
use crate::diagnostic::{Diagnostic, Span};
use crate::rule::{RepoCx, Rule, RuleInfo, Sink};

declare_rule! {
    /// ## What it checks
    /// Every version a stage runs lists that domain in its `metadata.yaml` `domains` and
    /// that environment in `environments`.
    ///
    /// ## Why it matters
    /// `domains` and `environments` are the service team's statement of where the build
    /// may run; running it elsewhere ignores that statement (a lab-only build in
    /// production, a cloud service on RAN nodes).
    ///
    /// ## Example
    /// ```yaml
    /// # metadata.yaml of the version index/domain-cloud.yaml runs
    /// domains: ["cloud"]
    /// environments: ["staging"]      # but it runs in prod
    /// ```
    ///
    /// ## How to fix
    /// Roll the stage back (`berth rollback`), or, if the version may run there, publish
    /// a new version whose metadata lists the domain and environment.
    pub struct DomainNotAllowed => berth_model::Code::DomainNotAllowed, Error;
}

impl Rule for DomainNotAllowed {
    fn info(&self) -> &'static RuleInfo {
        &Self::INFO
    }

    fn check_repository(&self, r: &RepoCx<'_>, sink: &mut Sink<'_>) {
        for df in &r.view.domain_files {
            let (Some((d, e)), Some(index)) = (&df.stage, df.file.loaded()) else {
                continue;
            };
            for (i, row) in index.value.components.iter().enumerate() {
                let Some(v) = r.view.version(&row.name, &row.version) else {
                    continue;
                };
                let Some(m) = v.metadata() else {
                    continue;
                };
                let meta_path = &m.path;
                let mut missing = Vec::new();
                if !m.domains.contains(d) {
                    missing.push(format!("domain `{d}`"));
                }
                if !m.environments.contains(e) {
                    missing.push(format!("environment `{e}`"));
                }
                if missing.is_empty() {
                    continue;
                }
                sink.report(
                    Diagnostic::new(
                        &df.file.path,
                        format!(
                            "{} {} runs in {d}/{e}, but its metadata does not list {}",
                            row.name,
                            row.version,
                            missing.join(" nor ")
                        ),
                    )
                    .at(Span::value(&index.root, &["components", &i.to_string()]))
                    .help(format!(
                        "roll the stage back with `berth rollback {} --domain {d} --env {e}`; {meta_path} decides where the version may run",
                        row.name
                    )),
                );
            }
        }
    }
}
