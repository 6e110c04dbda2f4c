use crate::declare_rule;
use crate::rule::{Rule, RuleInfo, Sink, VersionCx};
use crate::rules::from_problem;

declare_rule! {
    /// ## What it checks
    /// Every architecture in `metadata.yaml` is allowed by `berth.toml`
    /// `[repository] architectures` (`all` always is).
    ///
    /// ## Why it matters
    /// The platform runs only the architectures it lists; an artifact for anything else
    /// cannot be deployed anywhere.
    ///
    /// ## Example
    /// ```yaml
    /// architecture: s390x
    /// ```
    ///
    /// ## How to fix
    /// Build for an allowed architecture, or add the architecture to
    /// `[repository] architectures`.
    pub struct MetadataArchNotAllowed => berth_model::Code::MetadataArchNotAllowed, Error;
}

impl Rule for MetadataArchNotAllowed {
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
