use crate::declare_rule;
use crate::diagnostic::Diagnostic;
use crate::rule::{PathCx, Rule, RuleInfo, Sink};
use crate::view::LayoutProblem;

declare_rule! {
    /// ## What it checks
    /// Every directory inside a version directory is a known format: `docker`, `deb`,
    /// `generic`, or one listed in `berth.toml` `[repository] extra_formats`.
    ///
    /// ## Why it matters
    /// berth verifies, indexes and publishes only the formats it knows; artifacts in an
    /// unknown directory would be stored but never checked.
    ///
    /// ## Example
    /// ```text
    /// components/cloud/dmp/ms-ingestion/versions/1.0.2/rpm/ms-ingestion.rpm
    /// ```
    ///
    /// ## How to fix
    /// Move the artifacts to `generic/` (with `berth add --generic`), or register the
    /// format under `[repository] extra_formats`.
    pub struct LayoutUnknownFormat => berth_model::Code::LayoutUnknownFormat, Error;
}

impl Rule for LayoutUnknownFormat {
    fn info(&self) -> &'static RuleInfo {
        &Self::INFO
    }

    fn check_path(&self, p: &PathCx<'_>, sink: &mut Sink<'_>) {
        if let Some(LayoutProblem::UnknownFormat(reason)) = &p.entry.problem {
            sink.report(Diagnostic::new(&p.entry.path, reason.as_str()).help("use docker/, deb/ or generic/ (berth add --generic), or register the format in berth.toml [repository] extra_formats"));
        }
    }
}
