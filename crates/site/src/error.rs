//! What can stop a site from being built. A repository with odd content never does: a
//! component whose metadata does not load still gets a page saying so.

use camino::Utf8PathBuf;

/// Why `berth site` could not build or write the site.
#[derive(Debug, thiserror::Error)]
pub enum SiteError {
    /// Reading the repository failed (the message names the file).
    #[error(transparent)]
    Repo(#[from] berth_model::Error),
    /// The validator could not walk the repository.
    #[error(transparent)]
    Validate(#[from] berth_validate::ValidateError),
    /// Dependency resolution could not start (the message names the file).
    #[error(transparent)]
    Index(#[from] berth_index::IndexError),
    /// A page could not be rendered (a template bug, never bad input).
    #[error("rendering {page}: {source}")]
    Render {
        /// The page, relative to the output directory.
        page: Utf8PathBuf,
        /// Why.
        source: askama::Error,
    },
    /// A JSON file of the site could not be serialized.
    #[error("rendering {page}: {source}")]
    Json {
        /// The file, relative to the output directory.
        page: Utf8PathBuf,
        /// Why.
        source: serde_json::Error,
    },
    /// A file or directory of the output could not be read, written or removed.
    #[error("{path}: {source}")]
    Io {
        /// The file or directory.
        path: Utf8PathBuf,
        /// Why.
        source: std::io::Error,
    },
    /// The output directory is a berth repository (or the repository itself).
    #[error(
        "{out} holds berth.toml: it is a repository, not a site; write the site elsewhere, e.g. `--out public`"
    )]
    OutIsRepository {
        /// The output directory.
        out: Utf8PathBuf,
    },
    /// The output directory lies in the repository's tree, which only the store writes.
    #[error(
        "{out} is inside the repository's {part}/ directory; write the site beside the tree instead, e.g. `--out public`"
    )]
    OutInsideTree {
        /// The output directory.
        out: Utf8PathBuf,
        /// The directory of the tree it is in (`components`, `index`, `.berth`).
        part: &'static str,
    },
}

impl SiteError {
    pub(crate) fn io(path: impl Into<Utf8PathBuf>) -> impl FnOnce(std::io::Error) -> SiteError {
        let path = path.into();
        move |source| SiteError::Io { path, source }
    }
}

/// Shorthand for this crate's results.
pub type Result<T, E = SiteError> = std::result::Result<T, E>;
