use crate::declare_rule;
use crate::diagnostic::{Diagnostic, Span};
use crate::rule::{RepoCx, Rule, RuleInfo, Sink};

declare_rule! {
    /// ## What it checks
    /// Every row of a domain file (`index/domain-<domain>[-<env>].yaml`) names a
    /// component and version that exist.
    ///
    /// ## Why it matters
    /// Deploy jobs deploy exactly what the domain file says; a version that does not
    /// exist makes the deploy fail, in production.
    ///
    /// ## Example
    /// ```yaml
    /// # index/domain-cloud.yaml
    /// components:
    ///   - name: cloud/dmp/ms-ingestion
    ///     version: 1.0.9
    /// ```
    ///
    /// ## How to fix
    /// Domain files are written by `berth promote` and `berth rollback`; use them instead
    /// of editing the file, and revert the hand edit.
    pub struct DomainUnknownVersion => berth_model::Code::DomainUnknownVersion, Error;
}

impl Rule for DomainUnknownVersion {
    fn info(&self) -> &'static RuleInfo {
        &Self::INFO
    }

    fn check_repository(&self, r: &RepoCx<'_>, sink: &mut Sink<'_>) {
        for df in &r.view.domain_files {
            let Some(index) = df.file.loaded() else {
                continue;
            };
            for (i, row) in index.value.components.iter().enumerate() {
                let i = i.to_string();
                let versions = r.view.versions_of(&row.name);
                let (message, field) = if versions.is_empty() {
                    (format!("component `{}` does not exist", row.name), "name")
                } else if r.view.version(&row.name, &row.version).is_none() {
                    let have: Vec<String> =
                        versions.iter().map(|v| v.version.to_string()).collect();
                    (
                        format!(
                            "{} has no version {}; it has {}",
                            row.name,
                            row.version,
                            have.join(", ")
                        ),
                        "version",
                    )
                } else {
                    continue;
                };
                sink.report(
                    Diagnostic::new(&df.file.path, message)
                        .at(Span::value(&index.root, &["components", &i, field]))
                        .help("revert the hand edit; change what a stage runs with `berth promote` or `berth rollback`"),
                );
            }
        }
    }
}
