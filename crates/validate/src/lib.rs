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
//! use berth_model::{ComponentPath, Verdict, Version};
//! use berth_validate::{Checker, Options, Registry, validate};
//! let repo = berth_model::Repository::open(root)?;
//! let report = validate(&repo, &Registry::builtin(), &Options::default())?;
//! assert!(!report.fails(false), "{:?}", report.diagnostics);
//! // One verdict, two ways: the whole run's, and one version's on its own.
//! let (c, v) = (ComponentPath::parse("cloud/dmp/ms-export")?, Version::parse("3.2.0")?);
//! assert!(report.is_good(&c, &v)?);
//! assert!(Checker::builtin(&repo).is_good(&c, &v)?);
//! # Ok(()) }
//! ```
//!
//! Architecture Invariant: a rule never prints and never writes; rendering is separate
//! from checking; this crate writes nothing into the repository (the hash cache lives
//! outside it).
//!
//! It is *not* for: building the index (berth-index) or promoting (berth-promote); both
//! are handed a [`Checker`] (a [`berth_model::Verdict`]) to learn which versions are good.

pub mod artifacts;
pub mod cache;
mod checker;
mod deps;
pub mod diagnostic;
pub mod engine;
pub mod registry;
pub mod render;
pub mod rule;
pub mod rules;
pub mod view;

pub use berth_model::Severity;
pub use checker::Checker;
pub use diagnostic::{Diagnostic, Span};
pub use engine::{
    Options, Report, Stats, ValidateError, check_version, erroneous_in, validate, version_of,
};
pub use registry::{Registry, RuleRow};
pub use rule::{ComponentCx, FileCx, FileOutcome, PathCx, RepoCx, Rule, RuleInfo, Sink, VersionCx};
pub use view::{Context, RepoView};
