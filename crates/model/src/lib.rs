//! berth-model: the typed files, names and layout of a berth repository, and the storage
//! seam every other berth crate reads and writes through.
//!
//! ```no_run
//! use berth_model::Repository;
//! # fn main() -> Result<(), berth_model::Error> {
//! let repo = Repository::open("examples/repo")?;
//! for c in repo.components()? {
//!     let versions = repo.versions(&c)?;
//!     println!("{c}: {} versions", versions.len());
//! }
//! # Ok(()) }
//! ```
//!
//! This crate knows no rule and no command: validation lives in `berth-validate`, index
//! generation in `berth-index`, promotion in `berth-promote`.

pub mod audit;
pub mod catalog;
pub mod checks;
pub mod codes;
pub mod config;
pub mod files;
pub mod ids;
pub mod journal;
pub mod layout;
pub mod names;
pub mod policy;
pub mod repo;
pub mod schema;
pub mod stage;
pub mod store;
pub mod verdict;
pub mod yaml;

pub use codes::Code;
pub use config::{Config, ConfigError, Severity};
pub use files::{
    ArchField, AuditAction, AuditRecord, Checked, ComponentEntry, ComponentsIndex, DebFields,
    Dependency, DomainEntry, DomainIndex, FileEntry, Manifest, Metadata, Ownership, Port,
};
pub use ids::{
    Arch, ComponentPath, DomainName, EnvName, Format, IdError, Sha256Digest, Timestamp, Version,
};
pub use layout::{Layout, PathKind};
pub use repo::{Error, Owner, Repository, Result};
pub use stage::{Stage, StageError};
pub use store::{Limits, LocalStore, Store, StoreError, StoreLock};
pub use verdict::{Finding, Verdict};
pub use yaml::{Loaded, Node, Pos, YamlError, YamlErrorKind};
