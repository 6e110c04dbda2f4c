use berth_index::DepProblem;

use crate::declare_rule;
use crate::rule::{RepoCx, Rule, RuleInfo, Sink};

declare_rule! {
    /// ## What it checks
    /// A dependency written by its last segment (`common-utils`) names exactly one
    /// component.
    ///
    /// ## Why it matters
    /// When two groups both have a `common-utils`, a bare name could mean either; berth
    /// refuses to guess which one a version needs.
    ///
    /// ## Example
    /// ```yaml
    /// dependencies: ["common-utils >=1.2.0"]   # core/platform/common-utils and ran/oam/common-utils
    /// ```
    ///
    /// ## How to fix
    /// Write the full component path: `core/platform/common-utils >=1.2.0`.
    pub struct DepsAmbiguous => berth_model::Code::DepsAmbiguous, Error;
}

impl Rule for DepsAmbiguous {
    fn info(&self) -> &'static RuleInfo {
        &Self::INFO
    }

    fn check_repository(&self, r: &RepoCx<'_>, sink: &mut Sink<'_>) {
        for p in r.view.dep_problems() {
            if !matches!(p, DepProblem::Ambiguous { .. }) {
                continue;
            }
            let Some(d) = crate::rules::dep_finding(r.view, p) else {
                continue;
            };
            sink.report(
                d.help("write the full component path, e.g. `cloud/dmp/ms-ingestion >=1.0.0`"),
            );
        }
    }
}
