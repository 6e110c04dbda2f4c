//! berth-publish: what one stage of a domain runs, in the form native clients read.
//!
//! A stage is one rung of a domain's ladder (`cloud` / `staging`); its domain file
//! (`index/domain-cloud-staging.yaml`, written by `berth promote`) names one version per
//! component. This crate turns the artifacts of exactly those versions into:
//!
//! - [`apt`]: a signed apt repository (`dists/<suite>/…`, `pool/`) that a stock
//!   `apt-get update && apt-get install` accepts with the key;
//! - [`oci`]: an OCI image layout whose `index.json` names every image
//!   `<component>:<version>`, and (feature `push`, on by default) a push of the same
//!   images to a registry through the OCI distribution API;
//! - [`generic`]: a plain tree `<component>/<version>/…` with a `SHA256SUMS` per version.
//!
//! Every output is rebuilt incrementally (artifacts already published are not read
//! again) and swapped in so that a client never sees a mix of two publications.
//!
//! ```no_run
//! use berth_model::{DomainName, EnvName, Repository};
//! # fn main() -> Result<(), berth_publish::PublishError> {
//! let repo = Repository::open("examples/repo")?;
//! let stage = berth_publish::Contents::load(
//!     &repo,
//!     &DomainName::parse("cloud")?,
//!     &EnvName::parse("staging")?,
//! )?;
//! let report = berth_publish::apt::publish(
//!     &repo,
//!     &stage,
//!     "/srv/apt/cloud-staging".into(),
//!     &berth_publish::apt::AptOptions::new("cloud-staging"),
//! )?;
//! println!("{} packages", report.packages);
//! # Ok(()) }
//! ```
//!
//! This crate is *not* where stages change (that is `berth-promote`), nor where artifacts
//! are read and verified on the way in (`berth-formats`, `berth add`): it trusts the
//! `manifest.yaml` files of the repository for sizes and digests.

pub mod apt;
mod deb822;
mod error;
mod fsutil;
pub mod generic;
pub mod oci;
#[cfg(feature = "push")]
pub mod push;
pub mod sign;
mod xzcat;

pub use error::PublishError;

use berth_model::{
    ComponentPath, DomainEntry, DomainName, EnvName, Format, Layout, Manifest, Repository, Stage,
    Version,
};
use camino::Utf8PathBuf;

/// Shorthand for this crate's results.
pub type Result<T, E = PublishError> = std::result::Result<T, E>;

/// What one stage of a domain runs: the stage (berth's one [`Stage`]) and the rows of its
/// domain file. Dereferences to the stage (`contents.domain`, `contents.env`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Contents {
    /// The stage.
    pub stage: Stage,
    /// One version per component, sorted by component.
    pub entries: Vec<DomainEntry>,
}

impl std::ops::Deref for Contents {
    type Target = Stage;
    fn deref(&self) -> &Stage {
        &self.stage
    }
}

impl Contents {
    /// Reads the domain file of `domain` / `env`. The domain must be configured in
    /// berth.toml and `env` on its ladder; the file must exist (a stage nothing was ever
    /// promoted into has nothing to publish, and saying so beats publishing emptiness).
    pub fn load(repo: &Repository, domain: &DomainName, env: &EnvName) -> Result<Contents> {
        let stage =
            Stage::new(repo.config(), domain.as_str(), Some(env.as_str())).map_err(|e| {
                PublishError::UnknownStage {
                    detail: e.to_string(),
                }
            })?;
        let file = stage.file(repo.config());
        let Some(loaded) = repo.domain_index(domain, env)? else {
            return Err(PublishError::NoDomainFile {
                file: repo.path(&file),
            });
        };
        let mut entries = loaded.value.components;
        entries.sort();
        Ok(Contents { stage, entries })
    }

    /// A stage's contents given directly (embedding code, benchmarks).
    pub fn from_entries(domain: DomainName, env: EnvName, mut entries: Vec<DomainEntry>) -> Self {
        entries.sort();
        Contents {
            stage: Stage { domain, env },
            entries,
        }
    }

    /// `domain-env`, for names and messages.
    pub fn name(&self) -> String {
        format!("{}-{}", self.domain, self.env)
    }
}

/// One format directory of one stage entry, with its manifest.
#[derive(Debug, Clone)]
pub(crate) struct Artifact {
    pub component: ComponentPath,
    pub version: Version,
    /// The format directory, relative to the repository root (read through its store).
    pub dir: Utf8PathBuf,
    /// Its `manifest.yaml`, absolute (for messages).
    pub manifest_path: Utf8PathBuf,
    pub manifest: Manifest,
}

/// The format directories of `format` among the stage's versions; versions without one
/// are skipped (a stage may run images and packages side by side).
pub(crate) fn artifacts(
    repo: &Repository,
    stage: &Contents,
    format: &Format,
) -> Result<Vec<Artifact>> {
    let mut out = Vec::new();
    for e in &stage.entries {
        let dir_rel = Layout::format_dir(&e.name, &e.version, format);
        let manifest_rel = Layout::manifest_path(&e.name, &e.version, format);
        let Some(loaded) = repo.read_yaml_opt::<Manifest>(&manifest_rel)? else {
            if !repo
                .store()
                .exists(&Layout::version_dir(&e.name, &e.version))
            {
                return Err(PublishError::MissingVersion {
                    component: e.name.clone(),
                    version: e.version.clone(),
                });
            }
            continue;
        };
        out.push(Artifact {
            component: e.name.clone(),
            version: e.version.clone(),
            dir: dir_rel,
            manifest_path: repo.path(&manifest_rel),
            manifest: loaded.value,
        });
    }
    Ok(out)
}
