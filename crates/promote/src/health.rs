//! "Has no error finding": the first gate, as a parameter.

use std::collections::HashMap;

use berth_model::{ComponentPath, Repository, Severity, Version, checks};

use crate::{PromoteError, Result};

/// Answers whether a component version has error findings.
pub trait Health: Sync {
    /// The error findings of `c` at `v`, one message each; empty when it has none.
    fn problems(&self, c: &ComponentPath, v: &Version) -> Vec<String>;
}

impl<F> Health for F
where
    F: Fn(&ComponentPath, &Version) -> Vec<String> + Sync,
{
    fn problems(&self, c: &ComponentPath, v: &Version) -> Vec<String> {
        self(c, v)
    }
}

/// The built-in stand-in: `metadata.yaml` loads, its values are valid, its names match
/// the path and it agrees with `berth.toml` (the checks berth-model shares with
/// `berth add`). Use [`ValidatorHealth`] for the full rule set.
#[derive(Debug, Clone, Copy)]
pub struct BasicHealth<'r> {
    repo: &'r Repository,
}

impl<'r> BasicHealth<'r> {
    /// The basic check over `repo`.
    pub fn new(repo: &'r Repository) -> Self {
        BasicHealth { repo }
    }
}

impl Health for BasicHealth<'_> {
    fn problems(&self, c: &ComponentPath, v: &Version) -> Vec<String> {
        let meta = match self.repo.metadata(c, v) {
            Ok(m) => m.value,
            Err(e) => return vec![e.to_string()],
        };
        checks::invalid_values(&meta)
            .into_iter()
            .chain(checks::name_mismatch(&meta, c))
            .chain(checks::against_config(&meta, self.repo.config()))
            .map(|p| format!("{}: {}", p.rule, p.message))
            .collect()
    }
}

/// berth-validate's verdict: the error findings of its built-in rules (after
/// `berth.toml`'s `[rules]` severities), by component version.
#[derive(Debug, Clone, Default)]
pub struct ValidatorHealth {
    by_version: HashMap<(ComponentPath, Version), Vec<String>>,
}

impl ValidatorHealth {
    /// Runs the built-in rules over `repo` (artifacts are not re-read).
    pub fn run(repo: &Repository) -> Result<Self> {
        let report = berth_validate::validate(
            repo,
            &berth_validate::Registry::builtin(),
            &berth_validate::Options::default(),
        )
        .map_err(|e| PromoteError::Validate(e.to_string()))?;
        Ok(Self::from_report(&report, repo))
    }

    /// The error findings of an existing report.
    pub fn from_report(report: &berth_validate::Report, repo: &Repository) -> Self {
        let mut by_version: HashMap<(ComponentPath, Version), Vec<String>> = HashMap::new();
        for d in report
            .diagnostics
            .iter()
            .filter(|d| d.severity == Severity::Error)
        {
            if let Some(key) = berth_validate::version_of(&d.file, repo.layout()) {
                by_version.entry(key).or_default().push(format!(
                    "{} {}: {}",
                    d.location(),
                    d.rule,
                    d.message
                ));
            }
        }
        ValidatorHealth { by_version }
    }
}

impl Health for ValidatorHealth {
    fn problems(&self, c: &ComponentPath, v: &Version) -> Vec<String> {
        self.by_version
            .get(&(c.clone(), v.clone()))
            .cloned()
            .unwrap_or_default()
    }
}
