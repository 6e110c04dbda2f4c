use crate::declare_rule;
use crate::diagnostic::Diagnostic;
use crate::rule::{PathCx, Rule, RuleInfo, Sink};
use crate::view::LayoutProblem;

declare_rule! {
    /// ## What it checks
    /// Every directory under a component's `versions/` is named by a SemVer 2.0 version
    /// (`1.0.2`, `2.0.0-rc.1`).
    ///
    /// ## Why it matters
    /// "Latest", dependency requirements and promotion order all compare versions by
    /// SemVer; `v1.0` or `1.0` cannot be ordered and is invisible to every command.
    ///
    /// ## Example
    /// ```text
    /// components/cloud/dmp/ms-ingestion/versions/v1.0/metadata.yaml
    /// ```
    ///
    /// ## How to fix
    /// Rename the directory to its SemVer version (`1.0.0`).
    pub struct LayoutBadVersion => berth_model::Code::LayoutBadVersion, Error;
}

impl Rule for LayoutBadVersion {
    fn info(&self) -> &'static RuleInfo {
        &Self::INFO
    }

    fn check_path(&self, p: &PathCx<'_>, sink: &mut Sink<'_>) {
        if let Some(LayoutProblem::BadVersion(reason)) = &p.entry.problem {
            sink.report(Diagnostic::new(&p.entry.path, reason.as_str()).help("name version directories by SemVer 2.0: MAJOR.MINOR.PATCH, e.g. `1.0.0` or `2.0.0-rc.1`"));
        }
    }
}
