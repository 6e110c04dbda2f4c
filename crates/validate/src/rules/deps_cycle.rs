use berth_index::DepProblem;

use crate::declare_rule;
use crate::rule::{RepoCx, Rule, RuleInfo, Sink};

declare_rule! {
    /// ## What it checks
    /// Following dependencies (each resolved to the highest matching version) never leads
    /// back to the version that started: no cycles. A cycle is reported on every version
    /// on it.
    ///
    /// ## Why it matters
    /// Promotion needs dependencies to run in a stage before the dependent version enters
    /// it; with a cycle no version of it can ever go first.
    ///
    /// ## Example
    /// ```yaml
    /// # ms-export 3.2.0
    /// dependencies: ["cloud/dmp/ms-ingestion >=1.0.0"]
    /// # ms-ingestion 1.0.3
    /// dependencies: ["cloud/dmp/ms-export >=3.0.0"]
    /// ```
    ///
    /// ## How to fix
    /// Remove one of the dependencies, or restrict a requirement so that it resolves to a
    /// version outside the cycle.
    pub struct DepsCycle => berth_model::Code::DepsCycle, Error;
}

impl Rule for DepsCycle {
    fn info(&self) -> &'static RuleInfo {
        &Self::INFO
    }

    fn check_repository(&self, r: &RepoCx<'_>, sink: &mut Sink<'_>) {
        for p in r.view.dep_problems() {
            if !matches!(p, DepProblem::Cycle { .. }) {
                continue;
            }
            let Some(d) = crate::rules::dep_finding(r.view, p) else {
                continue;
            };
            sink.report(d.help(
                "break the cycle: remove one of these dependencies or tighten a requirement",
            ));
        }
    }
}
