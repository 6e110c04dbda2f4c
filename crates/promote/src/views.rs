//! Read-only views: what a stage runs, and what promoting a whole stage would change.

use std::cmp::Ordering;

use berth_model::{ComponentPath, DomainEntry, DomainName, EnvName, Repository, Version};
use camino::Utf8PathBuf;
use serde::Serialize;

use crate::{PromoteError, Result};
use berth_model::stage::{Stage, read_stage};

/// What a stage runs: what its deploy job must deploy.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Deployed {
    /// The domain.
    pub domain: DomainName,
    /// The environment.
    pub environment: EnvName,
    /// The domain file read.
    pub file: Utf8PathBuf,
    /// Its rows, sorted by name (empty when the file does not exist yet).
    pub components: Vec<DomainEntry>,
}

/// What `stage` runs, from its domain file.
pub fn deployed(repo: &Repository, stage: &Stage) -> Result<Deployed> {
    Ok(Deployed {
        domain: stage.domain.clone(),
        environment: stage.env.clone(),
        file: stage.file(repo.config()),
        components: read_stage(repo, stage)?.components,
    })
}

/// How a row of the target stage would change.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum DiffKind {
    /// The target does not run the component yet.
    New,
    /// A higher version.
    Upgrade,
    /// A lower version.
    Downgrade,
}

/// One row that promoting the whole stage would change.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct DiffRow {
    /// The component.
    pub component: ComponentPath,
    /// What the target stage runs now, if anything.
    pub current: Option<Version>,
    /// What it would run: the source stage's version.
    pub next: Version,
    /// New, upgrade or downgrade.
    pub kind: DiffKind,
}

/// What promoting `from` into `to` would change (rows only `to` runs stay as they are).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct StageDiff {
    /// The domain.
    pub domain: DomainName,
    /// The source environment.
    pub from: EnvName,
    /// The target environment.
    pub to: EnvName,
    /// The rows that would change, sorted by component.
    pub changes: Vec<DiffRow>,
    /// How many rows both stages run at the same version.
    pub same: usize,
}

/// What `berth promote --domain D --from F --to T` would change (gates not checked).
pub fn stage_diff(repo: &Repository, from: &Stage, to: &Stage) -> Result<StageDiff> {
    if from.domain != to.domain {
        return Err(PromoteError::Usage(format!(
            "{from} and {to} are stages of different domains"
        )));
    }
    let source = read_stage(repo, from)?;
    let target = read_stage(repo, to)?;
    let mut changes = Vec::new();
    let mut same = 0;
    for e in &source.components {
        let current = target.version_of(&e.name).cloned();
        let kind = match current.as_ref().map(|c| e.version.cmp(c)) {
            None => DiffKind::New,
            Some(Ordering::Equal) => {
                same += 1;
                continue;
            }
            Some(Ordering::Greater) => DiffKind::Upgrade,
            Some(Ordering::Less) => DiffKind::Downgrade,
        };
        changes.push(DiffRow {
            component: e.name.clone(),
            current,
            next: e.version.clone(),
            kind,
        });
    }
    Ok(StageDiff {
        domain: to.domain.clone(),
        from: from.env.clone(),
        to: to.env.clone(),
        changes,
        same,
    })
}
