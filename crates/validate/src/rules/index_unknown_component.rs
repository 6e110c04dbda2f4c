use crate::declare_rule;
use crate::diagnostic::{Diagnostic, Span};
use crate::rule::{RepoCx, Rule, RuleInfo, Sink};

declare_rule! {
    /// ## What it checks
    /// Every row of `index/components.yaml` names a component that exists under
    /// `components/`.
    ///
    /// ## Why it matters
    /// Deploy jobs read the index (`berth latest`, the seed's `get_latest_version`); a row
    /// for a component that is gone sends them after an artifact that does not exist.
    ///
    /// ## Example
    /// ```yaml
    /// components:
    ///   - name: cloud/dmp/ms-ingest      # the component is cloud/dmp/ms-ingestion
    ///     latest_version: 1.0.2
    /// ```
    ///
    /// ## How to fix
    /// Never edit the index by hand: run `berth index` and commit the result.
    pub struct IndexUnknownComponent => berth_model::Code::IndexUnknownComponent, Error;
}

impl Rule for IndexUnknownComponent {
    fn info(&self) -> &'static RuleInfo {
        &Self::INFO
    }

    fn check_repository(&self, r: &RepoCx<'_>, sink: &mut Sink<'_>) {
        let Some(file) = &r.view.components_index else {
            return;
        };
        let Some(index) = file.loaded() else { return };
        for (i, row) in index.value.components.iter().enumerate() {
            if !r.view.has_component(&row.name) {
                sink.report(
                    Diagnostic::new(
                        &file.path,
                        format!("component `{}` does not exist", row.name),
                    )
                    .at(Span::value(
                        &index.root,
                        &["components", &i.to_string(), "name"],
                    ))
                    .help("regenerate the index with `berth index`"),
                );
            }
        }
    }
}
