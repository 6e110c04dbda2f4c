//! berth-validate: the rules of a berth repository, the engine that runs them, and the
//! renderers of their findings.
//!
//! - [`Rule`]: a stable id, a default severity, documentation (its doc comment, printed by
//!   `berth explain`) and a check at the scope that keeps it short (path, file, version,
//!   component, repository). Built-in rules live one per file in [`rules`]; embedding code
//!   writes its own with the same trait and [`declare_rule!`] and adds them to a
//!   [`Registry`].
//! - [`validate`]: walks the tree once, reads and parses every YAML file once, then runs
//!   every rule in parallel (rayon) over versions. Without
//!   [`Options::verify_artifacts`] no artifact byte is read; with it every artifact is
//!   re-hashed and re-inspected through berth-formats, with a hash cache outside the tree.
//! - [`Diagnostic`]: findings as data; [`render`] turns a [`Report`] into human
//!   (rustc-style, through annotate-snippets), JSON, GitLab Code Quality, JUnit or SARIF.
//!
//! ```
//! # fn main() -> Result<(), Box<dyn std::error::Error>> {
//! # let root = concat!(env!("CARGO_MANIFEST_DIR"), "/../../examples/repo");
//! use berth_validate::{Options, Registry, validate};
//! let repo = berth_model::Repository::open(root)?;
//! let report = validate(&repo, &Registry::builtin(), &Options::default())?;
//! assert!(!report.fails(false), "{:?}", report.diagnostics);
//! // "Latest" is the highest version without an error finding:
//! let bad = berth_validate::erroneous_versions(&report, &repo);
//! assert!(bad.is_empty());
//! # Ok(()) }
//! ```
//!
//! Architecture Invariant: a rule never prints and never writes; rendering is separate
//! from checking; this crate writes nothing into the repository (the hash cache lives
//! outside it).
//!
//! It is *not* for: building the index (berth-index) or promoting (berth-promote); both
//! call [`erroneous_versions`] to learn which versions are good.

pub mod artifacts;
mod deps;
pub mod diagnostic;
pub mod engine;
pub mod policy;
pub mod registry;
pub mod render;
pub mod rule;
pub mod rules;
pub mod view;

use std::collections::HashSet;

pub use berth_model::Severity;
pub use diagnostic::{Diagnostic, Span};
pub use engine::{Options, Report, Stats, ValidateError, erroneous_in, validate, version_of};
pub use registry::{Registry, RuleRow};
pub use rule::{ComponentCx, FileCx, FileOutcome, PathCx, RepoCx, Rule, RuleInfo, Sink, VersionCx};
pub use view::RepoView;

use berth_model::{ComponentPath, Repository, Version};

/// The component versions that have at least one error finding in `report`: what "latest"
/// and promotion leave out.
pub fn erroneous_versions(report: &Report, repo: &Repository) -> HashSet<(ComponentPath, Version)> {
    erroneous_in(&report.diagnostics, repo.layout())
}

/// An `is_good` verdict for berth-index (`berth_index::IsGood`): true when the version
/// has no error finding in `report`.
pub fn is_good(
    report: &Report,
    repo: &Repository,
) -> impl Fn(&ComponentPath, &Version) -> bool + Sync + use<> {
    let bad = erroneous_versions(report, repo);
    move |c: &ComponentPath, v: &Version| !bad.contains(&(c.clone(), v.clone()))
}

/// The validator's verdict for the index and for promotion gates: runs every built-in rule
/// on the YAML files (no artifact bytes) and returns "this version has no error finding".
/// This is what `berth index`, `berth add` and `berth promote` use for "good".
pub fn verdict(
    repo: &Repository,
) -> Result<impl Fn(&ComponentPath, &Version) -> bool + Sync + use<>, ValidateError> {
    let report = validate(repo, &Registry::builtin(), &Options::default())?;
    Ok(is_good(&report, repo))
}
