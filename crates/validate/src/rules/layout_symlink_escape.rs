use crate::declare_rule;
use crate::diagnostic::Diagnostic;
use crate::rule::{PathCx, Rule, RuleInfo, Sink};
use crate::view::LayoutProblem;

declare_rule! {
    /// ## What it checks
    /// No symbolic link in the tree points outside the repository, or nowhere.
    ///
    /// ## Why it matters
    /// A link to `/etc/passwd` or to another checkout makes the repository's content
    /// depend on the machine it is read on, and can leak files into published
    /// repositories. A dangling link is a file that is not there.
    ///
    /// ## Example
    /// ```text
    /// components/cloud/dmp/ms-ingestion/versions/1.0.2/generic/notes -> /etc/hostname
    /// ```
    ///
    /// ## How to fix
    /// Replace the link with the file itself (`berth add` copies artifacts in), or remove
    /// it.
    pub struct LayoutSymlinkEscape => berth_model::Code::LayoutSymlinkEscape, Error;
}

impl Rule for LayoutSymlinkEscape {
    fn info(&self) -> &'static RuleInfo {
        &Self::INFO
    }

    fn check_path(&self, p: &PathCx<'_>, sink: &mut Sink<'_>) {
        if let Some(LayoutProblem::SymlinkEscape(reason)) = &p.entry.problem {
            sink.report(
                Diagnostic::new(&p.entry.path, reason.as_str())
                    .help("replace the link by the file it points to, or remove it"),
            );
        }
    }
}
