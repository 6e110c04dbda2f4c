use crate::declare_rule;
use crate::diagnostic::Diagnostic;
use crate::rule::{PathCx, Rule, RuleInfo, Sink};
use crate::view::LayoutProblem;

declare_rule! {
    /// ## What it checks
    /// Every directory on the way to a component has a valid name (lowercase `a-z`,
    /// `0-9`, `.`, `_`, `-`), and a component sits at least two levels below
    /// `components/` (`cloud/dmp/ms-ingestion`, never `ms-ingestion` alone).
    ///
    /// ## Why it matters
    /// A component is named by its path; CI jobs, dependencies and domain files refer to
    /// it by that name. A name that is not valid cannot be referred to at all, so berth
    /// does not look inside such a directory.
    ///
    /// ## Example
    /// ```text
    /// components/cloud/DMP_Tools/ms-x/versions/1.0.0/metadata.yaml
    /// ```
    ///
    /// ## How to fix
    /// Rename the directory to a lowercase name (`dmp-tools`), or move the component into
    /// a group.
    pub struct LayoutBadComponentPath => berth_model::Code::LayoutBadComponentPath, Error;
}

impl Rule for LayoutBadComponentPath {
    fn info(&self) -> &'static RuleInfo {
        &Self::INFO
    }

    fn check_path(&self, p: &PathCx<'_>, sink: &mut Sink<'_>) {
        if let Some(LayoutProblem::BadComponentPath(reason)) = &p.entry.problem {
            sink.report(Diagnostic::new(&p.entry.path, reason.as_str()).help("rename the directory: lowercase a-z, 0-9, `.`, `_`, `-`; components live at least two levels below components/"));
        }
    }
}
