//! [`PublishError`]: everything that stops a publication, each naming the file or the
//! stage concerned and what to do.

use berth_model::{ComponentPath, Sha256Digest, Version};
use camino::Utf8PathBuf;

/// Why a publication failed. Nothing a client reads has changed when this is returned:
/// new indexes are only swapped in once complete.
#[derive(Debug, thiserror::Error)]
pub enum PublishError {
    /// Reading the repository failed.
    #[error(transparent)]
    Repo(#[from] berth_model::Error),
    /// A name given by the user is not valid.
    #[error(transparent)]
    Id(#[from] berth_model::IdError),
    /// The domain or environment is not configured.
    #[error("{detail}")]
    UnknownStage {
        /// What is wrong, with the configured alternatives.
        detail: String,
    },
    /// The stage has no domain file yet.
    #[error(
        "{file} does not exist: nothing was promoted into this stage yet; run `berth promote` first"
    )]
    NoDomainFile {
        /// The domain file expected.
        file: Utf8PathBuf,
    },
    /// The domain file names a version the repository does not hold.
    #[error(
        "the stage runs {component} {version}, which is not in the repository; restore the version or promote another one"
    )]
    MissingVersion {
        /// The component.
        component: ComponentPath,
        /// The version.
        version: Version,
    },
    /// An unsigned publication would replace a signed apt repository: every client would
    /// then fail with "is no longer signed".
    #[error(
        "{release} is signed; publishing without a signing key would leave its clients with an unsigned repository. Give the key (--sign-key, or [publish.apt] in berth.toml), or pass --unsigned to drop the signature on purpose"
    )]
    WouldUnsign {
        /// The signed `InRelease` that exists.
        release: Utf8PathBuf,
    },
    /// An artifact could not be read.
    #[error(transparent)]
    Format(#[from] berth_formats::FormatError),
    /// A file could not be read or written.
    #[error("{path}: {source}")]
    Io {
        /// The file or directory.
        path: Utf8PathBuf,
        /// The error.
        source: std::io::Error,
    },
    /// An artifact's bytes are not those its manifest.yaml records.
    #[error(
        "{path}: sha256 is {actual} but {manifest} records {expected}; the stored artifact is damaged, restore it from version control or re-add it"
    )]
    DigestMismatch {
        /// The artifact.
        path: Utf8PathBuf,
        /// Its manifest.
        manifest: Utf8PathBuf,
        /// What the manifest says.
        expected: Sha256Digest,
        /// What the file holds.
        actual: Sha256Digest,
    },
    /// A manifest.yaml is not usable for publishing.
    #[error("{manifest}: {detail}")]
    BadManifest {
        /// The manifest.
        manifest: Utf8PathBuf,
        /// What is wrong.
        detail: String,
    },
    /// Two different packages would take the same place in the apt pool.
    #[error(
        "two different packages are both {filename}: {first} and {second}; a Debian repository holds one package per name, version and architecture: give one of them a new version"
    )]
    DuplicatePackage {
        /// The pool path.
        filename: String,
        /// One deb.
        first: Utf8PathBuf,
        /// The other.
        second: Utf8PathBuf,
    },
    /// Signing failed (a bad key file, a wrong passphrase).
    #[error("signing with {key}: {detail}")]
    Sign {
        /// The key file.
        key: String,
        /// What went wrong.
        detail: String,
    },
    /// An image archive could not be turned into OCI blobs.
    #[error("{path}: {detail}")]
    Image {
        /// The archive.
        path: Utf8PathBuf,
        /// What is wrong.
        detail: String,
    },
    /// The registry refused or failed a request.
    #[error("registry {url}: {detail}")]
    Registry {
        /// The request URL.
        url: String,
        /// What happened.
        detail: String,
    },
}

impl PublishError {
    /// An I/O error on `path`.
    pub(crate) fn io(path: impl Into<Utf8PathBuf>) -> impl FnOnce(std::io::Error) -> Self {
        let path = path.into();
        move |source| PublishError::Io { path, source }
    }
}
