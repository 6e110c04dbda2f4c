use crate::declare_rule;
use crate::rule::{Rule, RuleInfo, Sink, VersionCx};
use crate::rules::from_problem;

declare_rule! {
    /// ## What it checks
    /// Every domain in `metadata.yaml` `domains` is declared in `berth.toml`
    /// (`[domains.<name>]`).
    ///
    /// ## Why it matters
    /// A version can only be promoted into a declared domain; an unknown name is usually a
    /// typo that silently keeps the version out of the domain it was meant for.
    ///
    /// ## Example
    /// ```yaml
    /// domains: ["cloud", "clod"]
    /// ```
    ///
    /// ## How to fix
    /// Use a declared domain, or declare the new one with its ladder in `berth.toml`.
    pub struct MetadataUnknownDomain => berth_model::Code::MetadataUnknownDomain, Error;
}

impl Rule for MetadataUnknownDomain {
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
