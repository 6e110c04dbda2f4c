use crate::declare_rule;
use crate::diagnostic::{Diagnostic, Span};
use crate::rule::{Rule, RuleInfo, Sink, VersionCx};

declare_rule! {
    /// ## What it checks
    /// A version's `metadata.yaml` `team` is allowed to publish under its group: it is the
    /// `owner_team` of the nearest `ownership.yaml`, or listed in its `teams`.
    ///
    /// ## Why it matters
    /// The ownership map is the governance record: a team publishing into another
    /// team's group bypasses their review, and alerts go to people who do not know the
    /// service.
    ///
    /// ## Example
    /// ```yaml
    /// # ownership.yaml: owner_team: cloud-dmp, teams: ["ingestion-platform"]
    /// team: billing
    /// ```
    ///
    /// ## How to fix
    /// Set `team` to the owning team, or have the group's owners add your team to
    /// `teams` in their `ownership.yaml`.
    pub struct OwnershipTeamNotOwner => berth_model::Code::OwnershipTeamNotOwner, Error;
}

impl Rule for OwnershipTeamNotOwner {
    fn info(&self) -> &'static RuleInfo {
        &Self::INFO
    }

    fn check_version(&self, v: &VersionCx<'_>, sink: &mut Sink<'_>) {
        let Some((file, meta)) = v.metadata() else {
            return;
        };
        let Some(owner) = v.view.owner(v.component()) else {
            return;
        };
        let Some(o) = owner.loaded() else { return };
        let team = &meta.value.team;
        if !o.value.allows_team(team) {
            let mut allowed = vec![o.value.owner_team.clone()];
            allowed.extend(o.value.teams.iter().cloned());
            sink.report(
                Diagnostic::new(
                    file,
                    format!(
                        "team `{team}` may not publish {}: {} allows {}",
                        v.component(),
                        owner.path,
                        allowed.join(", ")
                    ),
                )
                .at(Span::value(&meta.root, &["team"]))
                .help(format!(
                    "set `team: {}`, or ask the owners to add `{team}` to `teams` in {}",
                    o.value.owner_team, owner.path
                )),
            );
        }
    }
}
