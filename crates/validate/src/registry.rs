//! The rules a validation runs: the built-in ones plus any embedding code registers.

use std::sync::Arc;

use berth_model::{Config, Severity};

use crate::rule::Rule;
use crate::rules;

/// A set of rules, by id.
#[derive(Clone, Default)]
pub struct Registry {
    rules: Vec<Arc<dyn Rule>>,
}

impl std::fmt::Debug for Registry {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_list()
            .entries(self.rules.iter().map(|r| r.info().id))
            .finish()
    }
}

/// One row of `berth validate --list-rules`.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct RuleRow {
    /// The id.
    pub id: &'static str,
    /// Its default severity.
    pub default_severity: Severity,
    /// Its severity under `berth.toml`.
    pub severity: Severity,
    /// One line about what it checks.
    pub summary: String,
}

impl Registry {
    /// No rules at all.
    pub fn empty() -> Self {
        Registry::default()
    }

    /// Every built-in rule (PRODUCT.md §5).
    pub fn builtin() -> Self {
        let mut r = Registry::empty();
        for rule in rules::all() {
            r.rules.push(rule);
        }
        r.sort();
        r
    }

    fn sort(&mut self) {
        self.rules.sort_by_key(|r| r.info().id);
    }

    /// Adds a rule; a rule with the same id replaces the earlier one.
    pub fn register(&mut self, rule: impl Rule + 'static) -> &mut Self {
        let id = rule.info().id;
        self.rules.retain(|r| r.info().id != id);
        self.rules.push(Arc::new(rule));
        self.sort();
        self
    }

    /// The rules, sorted by id.
    pub fn rules(&self) -> impl Iterator<Item = &dyn Rule> {
        self.rules.iter().map(|r| r.as_ref())
    }

    /// The rule with this id.
    pub fn get(&self, id: &str) -> Option<&dyn Rule> {
        self.rules().find(|r| r.info().id == id)
    }

    /// The closest rule id to `id`, for "did you mean" hints.
    pub fn suggest(&self, id: &str) -> Option<&'static str> {
        berth_model::names::closest(id, self.rules().map(|r| r.info().id))
    }

    /// The severity of `rule` under `config` (`[rules]` overrides the default).
    pub fn severity(rule: &dyn Rule, config: &Config) -> Severity {
        let info = rule.info();
        config
            .rules
            .get(info.id)
            .copied()
            .unwrap_or(info.default_severity)
    }

    /// `[rules]` keys of `config` that name no rule here.
    pub fn unknown_ids(&self, config: &Config) -> Vec<String> {
        config
            .rules
            .keys()
            .filter(|k| self.get(k).is_none())
            .cloned()
            .collect()
    }

    /// The rows of `--list-rules`.
    pub fn list(&self, config: &Config) -> Vec<RuleRow> {
        self.rules()
            .map(|r| RuleRow {
                id: r.info().id,
                default_severity: r.info().default_severity,
                severity: Self::severity(r, config),
                summary: r.info().summary(),
            })
            .collect()
    }
}
