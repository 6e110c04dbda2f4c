use crate::declare_rule;
use crate::diagnostic::{Diagnostic, Span};
use crate::rule::{RepoCx, Rule, RuleInfo, Sink};

declare_rule! {
    /// ## What it checks
    /// Every `latest_version` of `index/components.yaml` exists: the seed's "valid version
    /// must exist in repo".
    ///
    /// ## Why it matters
    /// CI resolves "latest" from the index; a version that does not exist fails every
    /// deploy that asks for it.
    ///
    /// ## Example
    /// ```yaml
    /// components:
    ///   - name: cloud/dmp/ms-ingestion
    ///     latest_version: 1.0.4          # only 1.0.2 and 1.0.3 exist
    /// ```
    ///
    /// ## How to fix
    /// Never edit the index by hand: run `berth index` and commit the result.
    pub struct IndexUnknownVersion => berth_model::Code::IndexUnknownVersion, Error;
}

impl Rule for IndexUnknownVersion {
    fn info(&self) -> &'static RuleInfo {
        &Self::INFO
    }

    fn check_repository(&self, r: &RepoCx<'_>, sink: &mut Sink<'_>) {
        let Some(file) = &r.view.components_index else {
            return;
        };
        let Some(index) = file.loaded() else { return };
        for (i, row) in index.value.components.iter().enumerate() {
            let versions = r.view.versions_of(&row.name);
            if versions.is_empty() || r.view.version(&row.name, &row.latest_version).is_some() {
                continue;
            }
            let have: Vec<String> = versions.iter().map(|v| v.version.to_string()).collect();
            sink.report(
                Diagnostic::new(
                    &file.path,
                    format!(
                        "{} has no version {}; it has {}",
                        row.name,
                        row.latest_version,
                        have.join(", ")
                    ),
                )
                .at(Span::value(
                    &index.root,
                    &["components", &i.to_string(), "latest_version"],
                ))
                .help("regenerate the index with `berth index`"),
            );
        }
    }
}
