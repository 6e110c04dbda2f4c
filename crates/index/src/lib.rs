//! berth-index: the components index (`index/components.yaml`), "latest", queries over
//! metadata, and dependency resolution.
//!
//! Four things live here, each usable alone by other teams' Rust tools:
//!
//! - **Building the index** ([`build()`], [`update_component`], [`regenerate`], [`check`]):
//!   the latest *good* version of every component, written byte-deterministically in the
//!   seed's shape. What "good" means is the [`berth_model::Verdict`] the caller hands in
//!   (berth-validate's `Checker`): this crate does not judge versions.
//! - **Latest** ([`latest()`], [`latest_in_file`]): what a deploy job asks, answered from the
//!   index file alone.
//! - **Queries** ([`query()`]): "which services does ingestion-platform own in cloud
//!   prod", "who uses common-utils >=1.2".
//! - **Dependencies** ([`Resolver`]): each `dependencies` entry resolved to the highest
//!   matching version, with unresolved, ambiguous and cyclic dependencies reported as
//!   [`DepProblem`] data (the validator's `deps/*` findings).
//!
//! ```
//! use berth_index::{IndexOptions, build, latest};
//! use berth_model::{ComponentPath, Finding, Repository, Version};
//! # fn main() -> Result<(), Box<dyn std::error::Error>> {
//! # let root = concat!(env!("CARGO_MANIFEST_DIR"), "/../../examples/repo");
//! let repo = Repository::open(root)?;
//! let opts = IndexOptions::from_config(repo.config());
//! // The verdict: berth-validate's Checker in real use; here every version is good.
//! let good = |_: &ComponentPath, _: &Version| Vec::<Finding>::new();
//! let index = build(&repo, &opts, &good)?;
//! assert_eq!(latest(&index, "cloud/dmp/ms-ingestion")?.to_string(), "1.0.3");
//! // A unique last segment works too.
//! assert_eq!(latest(&index, "common-utils")?.to_string(), "1.3.0");
//! # Ok(()) }
//! ```
//!
//! Architecture Invariant: this crate depends on `berth-model` only (never on
//! `berth-validate`, which depends on it); it never prints; every write goes through
//! [`Repository::write_yaml`] under the repository lock.
//!
//! It is *not* for: validating files (berth-validate), promotion and domain files
//! (berth-promote), or rendering for people (berth-cli).

use camino::Utf8PathBuf;

pub mod build;
pub mod deps;
pub mod latest;
pub mod query;

pub use build::{
    Change, Check, IndexOptions, Regenerated, assemble, build, changes, check, component_latest,
    pick_latest, read, recover, regenerate, render, try_pick_latest, update_component, write,
};
pub use deps::{
    DepEdge, DepNode, DepProblem, DepStatus, NameMatch, Pinned, Resolution, Resolver, TreeEdge,
};
pub use latest::{find_root, latest, latest_checked, latest_entry, latest_in_file, latest_in_text};
pub use query::{DependsOn, Hit, Query, QueryResult, query};

#[doc(no_inline)]
pub use berth_model::Repository;

/// What can go wrong in this crate. Every variant names the file or the name at fault.
#[derive(Debug, thiserror::Error)]
pub enum IndexError {
    /// Reading the repository failed (the message names the file).
    #[error(transparent)]
    Repo(#[from] berth_model::Error),
    /// A file could not be read or written.
    #[error("{path}: {source}")]
    Io {
        /// The file.
        path: Utf8PathBuf,
        /// Why.
        source: std::io::Error,
    },
    /// `index/components.yaml` is not valid (names file, line and column).
    #[error(transparent)]
    Yaml(#[from] berth_model::YamlError),
    /// No `berth.toml` at the given place or above it.
    #[error(
        "no berth repository at {start} or above it (no berth.toml found); pass --repo DIR or set BERTH_REPO"
    )]
    NotARepository {
        /// Where the search started.
        start: Utf8PathBuf,
    },
    /// The repository has no `index/components.yaml`.
    #[error("{path} does not exist; run `berth index` to generate it")]
    NoIndex {
        /// The missing file.
        path: Utf8PathBuf,
    },
    /// A component is not in the index (or not in the repository).
    #[error("component `{name}` is not in {file}{hint}")]
    UnknownComponent {
        /// The name asked for.
        name: String,
        /// Where it was looked up (`index/components.yaml`, or `components/`).
        file: Utf8PathBuf,
        /// A hint (`; did you mean …?`), possibly empty.
        hint: String,
    },
    /// A last segment names several components.
    #[error("`{name}` is ambiguous, give the full path: {}", candidates.join(", "))]
    AmbiguousComponent {
        /// The name asked for.
        name: String,
        /// The components it could mean.
        candidates: Vec<String>,
    },
    /// The index names a version whose directory does not exist (a hand-edited or stale
    /// index): a deploy job must not be handed it.
    #[error(
        "{file} names {component} {version}, but {dir} does not exist; the index is stale or was edited by hand: run `berth index` (and `berth validate`)"
    )]
    MissingVersion {
        /// The index file.
        file: Utf8PathBuf,
        /// The component.
        component: String,
        /// The version it names.
        version: String,
        /// The version directory that is missing.
        dir: Utf8PathBuf,
    },
    /// A version asked for does not exist.
    #[error("{component} has no version {version}; it has: {available}")]
    UnknownVersion {
        /// The component.
        component: String,
        /// The version asked for.
        version: String,
        /// The versions it has, comma-separated.
        available: String,
    },
    /// A query argument is not valid.
    #[error("{0}")]
    BadQuery(String),
    /// The index could not be rendered.
    #[error("rendering {path}: {source}")]
    Render {
        /// The file.
        path: Utf8PathBuf,
        /// Why.
        source: serde_json::Error,
    },
}

impl IndexError {
    /// True for a negative answer (an unknown component or version), as opposed to a
    /// broken repository or I/O failure: the CLI exits 1 for these, 2 for the rest.
    pub fn is_negative(&self) -> bool {
        matches!(
            self,
            IndexError::UnknownComponent { .. }
                | IndexError::AmbiguousComponent { .. }
                | IndexError::UnknownVersion { .. }
                | IndexError::MissingVersion { .. }
                | IndexError::Repo(berth_model::Error::NotFound { .. })
        )
    }
}

impl From<berth_model::store::StoreError> for IndexError {
    fn from(e: berth_model::store::StoreError) -> Self {
        IndexError::Repo(e.into())
    }
}

/// Shorthand for this crate's results.
pub type Result<T, E = IndexError> = std::result::Result<T, E>;

/// "did you mean" over `candidates`, for messages.
pub(crate) fn did_you_mean<'a>(name: &str, candidates: impl Iterator<Item = &'a str>) -> String {
    berth_model::names::hint(berth_model::names::closest(name, candidates))
}
