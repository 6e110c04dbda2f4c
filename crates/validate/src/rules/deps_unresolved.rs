use berth_index::DepProblem;

use crate::declare_rule;
use crate::diagnostic::{Diagnostic, Span};
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
    pub struct DepsUnresolved => "deps/unresolved", Error;
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
            let Some(v) = r.view.version(p.component(), p.version()) else {
                continue;
            };
            let Some((file, m)) = v.metadata() else {
                continue;
            };
            let [list, index] = p.field_path();
            sink.report(
                Diagnostic::new(file, p.to_string())
                    .at(Span::value(&m.root, &[list.as_str(), index.as_str()]))
                    .help("name an existing component (full path or unique last segment) and a requirement one of its versions meets"),
            );
        }
    }
}
