use berth_model::layout::Layout;

use crate::declare_rule;
use crate::diagnostic::Diagnostic;
use crate::rule::{ComponentCx, Rule, RuleInfo, Sink};

declare_rule! {
    /// ## What it checks
    /// Every component has an owner: an `ownership.yaml` in one of the group directories
    /// above it (the nearest one wins).
    ///
    /// ## Why it matters
    /// Ownership routes alerts (`slack_channel`), names who approves production
    /// promotions (`approvers`) and who audits. A component without an owner cannot be
    /// promoted to production and nobody hears when it breaks.
    ///
    /// ## Example
    /// ```text
    /// components/cloud/dmp/ms-ingestion/versions/…   but no components/cloud/dmp/ownership.yaml
    /// ```
    ///
    /// ## How to fix
    /// Write `ownership.yaml` in the component's group directory with `owner_team`,
    /// `product_owner`, `slack_channel`, `source_repo`, `ci_pipeline` and `audit_contact`.
    pub struct OwnershipMissing => berth_model::Code::OwnershipMissing, Error;
}

impl Rule for OwnershipMissing {
    fn info(&self) -> &'static RuleInfo {
        &Self::INFO
    }

    fn check_component(&self, c: &ComponentCx<'_>, sink: &mut Sink<'_>) {
        if c.view.owner(c.component).is_none() {
            let group = c.component.ancestors().next().unwrap_or_default();
            sink.report(
                Diagnostic::new(
                    Layout::component_dir(c.component),
                    format!("component `{}` has no owner: no ownership.yaml above it", c.component),
                )
                .help(format!(
                    "write {} (owner_team, product_owner, slack_channel, source_repo, ci_pipeline, audit_contact)",
                    Layout::ownership_path(group)
                )),
            );
        }
    }
}
