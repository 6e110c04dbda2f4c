use crate::declare_rule;
use crate::rule::{Rule, RuleInfo, Sink, VersionCx};
use crate::rules::from_problem;

declare_rule! {
    /// ## What it checks
    /// Every environment in `metadata.yaml` `environments` is a rung of some domain's
    /// ladder in `berth.toml`.
    ///
    /// ## Why it matters
    /// Promotion gates check that a version lists the environment it enters; a name no
    /// ladder has (`qa`, `production`) never matches, so the version can never get there.
    ///
    /// ## Example
    /// ```yaml
    /// environments: ["staging", "production"]
    /// ```
    ///
    /// ## How to fix
    /// Use the names of the ladders (`staging`, `prod`), or add the rung to a ladder.
    pub struct MetadataUnknownEnvironment => berth_model::Code::MetadataUnknownEnvironment, Error;
}

impl Rule for MetadataUnknownEnvironment {
    fn info(&self) -> &'static RuleInfo {
        &Self::INFO
    }

    fn check_version(&self, v: &VersionCx<'_>, sink: &mut Sink<'_>) {
        let Some((file, m)) = v.metadata() else {
            return;
        };
        for p in berth_model::checks::against_config(&m.value, v.config()) {
            if p.rule.id() == Self::INFO.id {
                sink.report(from_problem(file, &m.root, &p));
            }
        }
    }
}
