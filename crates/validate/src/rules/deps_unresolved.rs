use berth_index::DepProblem;

use crate::declare_rule;
use crate::rule::{RepoCx, Rule, RuleInfo, Sink};

declare_rule! {
    /// ## What it checks
    /// Every entry of `metadata.yaml` `dependencies` names an existing component (full
    /// path, or its last segment when unique) and some version of it meets the SemVer
    /// requirement.
    ///
    /// ## Why it matters
    /// Promotion requires every dependency to run in the same stage; a dependency that
    /// resolves to nothing can never be satisfied, and a typo hides a real dependency.
    ///
    /// ## Example
    /// ```yaml
    /// dependencies: ["comon-utils >=1.2.0"]
    /// ```
    ///
    /// ## How to fix
    /// Correct the name (see the "did you mean"), relax the requirement, or publish the
    /// needed version first.
    pub struct DepsUnresolved => berth_model::Code::DepsUnresolved, Error;
}

impl Rule for DepsUnresolved {
    fn info(&self) -> &'static RuleInfo {
        &Self::INFO
    }

    fn check_repository(&self, r: &RepoCx<'_>, sink: &mut Sink<'_>) {
        for p in r.view.dep_problems() {
            if !matches!(p, DepProblem::Unresolved { .. }) {
                continue;
            }
            let Some(d) = crate::rules::dep_finding(r.view, p) else {
                continue;
            };
            sink.report(
                d.help("name an existing component (full path or unique last segment) and a requirement one of its versions meets"),
            );
        }
    }
}
