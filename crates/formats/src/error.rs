//! The one error type of this crate.

use std::io;

use berth_model::Sha256Digest;
use camino::Utf8PathBuf;

/// Why an artifact could not be read. Every variant names the file, and the archive member
/// or blob where that helps; the message says what to do where there is something to do.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum FormatError {
    /// The file could not be opened: missing, not a regular file (a FIFO, a device), a
    /// symbolic link inside a repository. The message names the file.
    #[error(transparent)]
    Open(#[from] berth_model::store::StoreError),

    /// The file could not be read.
    #[error("cannot read {path}: {source}")]
    Io {
        /// The artifact file.
        path: Utf8PathBuf,
        /// The underlying error.
        #[source]
        source: io::Error,
    },

    /// The file is not an archive of the expected kind at all.
    #[error("{path} is not {expected}: {detail}")]
    NotAnArchive {
        /// The artifact file.
        path: Utf8PathBuf,
        /// What it should have been ("a tar archive", "a Debian package").
        expected: &'static str,
        /// What was found instead.
        detail: String,
    },

    /// The file ends early: a member, a header or the end-of-archive marker is cut off.
    #[error("{path} is truncated ({detail}); copy or download it again")]
    Truncated {
        /// The artifact file.
        path: Utf8PathBuf,
        /// Where it ends and what was still expected.
        detail: String,
    },

    /// The archive is damaged in a way that is not a plain truncation (bad header checksum,
    /// bad compressed stream, bytes after the end marker).
    #[error("{path} is corrupt: {detail}; rebuild the artifact")]
    Corrupt {
        /// The artifact file.
        path: Utf8PathBuf,
        /// What is wrong.
        detail: String,
    },

    /// A member name is absolute (`/etc/passwd`).
    #[error(
        "{path}: member `{member}` has an absolute path; archives must hold relative names only"
    )]
    AbsolutePath {
        /// The artifact file.
        path: Utf8PathBuf,
        /// The offending member name.
        member: String,
    },

    /// A member name climbs out of the archive with `..`.
    #[error("{path}: member `{member}` contains `..`; archives must not climb out of their root")]
    PathTraversal {
        /// The artifact file.
        path: Utf8PathBuf,
        /// The offending member name.
        member: String,
    },

    /// A symbolic or hard link points outside the archive.
    #[error("{path}: link `{member}` points to `{target}`, outside the archive")]
    LinkEscapes {
        /// The artifact file.
        path: Utf8PathBuf,
        /// The link member.
        member: String,
        /// Where it points.
        target: String,
    },

    /// The same member name occurs twice, so two readers could see different content.
    #[error("{path}: member `{member}` occurs more than once; rebuild the archive")]
    DuplicateEntry {
        /// The artifact file.
        path: Utf8PathBuf,
        /// The repeated member name.
        member: String,
    },

    /// A member of a kind berth does not accept (device, fifo, non-UTF-8 name, …).
    #[error("{path}: member `{member}` is not supported: {detail}")]
    UnsupportedEntry {
        /// The artifact file.
        path: Utf8PathBuf,
        /// The member name (lossy UTF-8).
        member: String,
        /// What kind of member it is.
        detail: String,
    },

    /// A member or blob does not hash to the digest that names or references it.
    #[error(
        "{path}: `{member}` has sha256 {actual} but {expected} was expected; the archive is corrupt, rebuild it"
    )]
    DigestMismatch {
        /// The artifact file.
        path: Utf8PathBuf,
        /// The member or blob.
        member: String,
        /// The digest the archive promises.
        expected: Sha256Digest,
        /// The digest of the bytes actually present.
        actual: Sha256Digest,
    },

    /// A blob has another size than its descriptor says.
    #[error(
        "{path}: `{member}` is {actual} bytes but its descriptor says {expected}; the archive is corrupt, rebuild it"
    )]
    SizeMismatch {
        /// The artifact file.
        path: Utf8PathBuf,
        /// The blob.
        member: String,
        /// The size in the descriptor.
        expected: u64,
        /// The size in the archive.
        actual: u64,
    },

    /// A manifest, index or manifest.json refers to a blob or member that is not there.
    #[error("{path}: `{member}` (referenced by {referenced_by}) is missing from the archive")]
    MissingMember {
        /// The artifact file.
        path: Utf8PathBuf,
        /// The missing member or blob.
        member: String,
        /// Who refers to it.
        referenced_by: String,
    },

    /// A JSON member (manifest, index, config) cannot be parsed.
    #[error("{path}: `{member}` is not valid: {detail}")]
    InvalidJson {
        /// The artifact file.
        path: Utf8PathBuf,
        /// The member or blob.
        member: String,
        /// The parse error.
        detail: String,
    },

    /// The archive is well formed but does not describe exactly one image.
    #[error("{path}: {detail}")]
    InvalidImage {
        /// The artifact file.
        path: Utf8PathBuf,
        /// What is wrong and what to do.
        detail: String,
    },

    /// The structure of a `.deb` is wrong (members missing or out of order).
    #[error("{path}: {detail}")]
    InvalidDeb {
        /// The artifact file.
        path: Utf8PathBuf,
        /// What is wrong.
        detail: String,
    },

    /// A member would expand beyond the limit berth accepts (a decompression bomb, or a
    /// JSON member too large to be a manifest).
    #[error("{path}: `{member}` is larger than {limit} bytes{}; berth refuses to expand it", expanded_note(*.expanded))]
    TooLarge {
        /// The artifact file.
        path: Utf8PathBuf,
        /// The member.
        member: String,
        /// The limit in bytes.
        limit: u64,
        /// True when the limit applies to decompressed data.
        expanded: bool,
    },

    /// The control file of a `.deb` cannot be parsed.
    #[error("{path}: control file: {source}")]
    InvalidControl {
        /// The artifact file.
        path: Utf8PathBuf,
        /// What is wrong with it.
        #[source]
        source: ControlError,
    },

    /// A required control field is missing.
    #[error(
        "{path}: the control file has no `{field}` field; every .deb needs Package, Version and Architecture"
    )]
    MissingControlField {
        /// The artifact file.
        path: Utf8PathBuf,
        /// The missing field.
        field: &'static str,
    },

    /// A field (control field or image config field) holds a value berth cannot use.
    #[error("{path}: {field} `{value}` is invalid: {reason}")]
    InvalidField {
        /// The artifact file.
        path: Utf8PathBuf,
        /// The field name.
        field: String,
        /// The value found.
        value: String,
        /// Why it is rejected.
        reason: String,
    },
}

fn expanded_note(expanded: bool) -> &'static str {
    if expanded { " when decompressed" } else { "" }
}

impl FormatError {
    /// The artifact file the error is about.
    pub fn path(&self) -> &camino::Utf8Path {
        match self {
            FormatError::Open(e) => e.path(),
            FormatError::Io { path, .. }
            | FormatError::NotAnArchive { path, .. }
            | FormatError::Truncated { path, .. }
            | FormatError::Corrupt { path, .. }
            | FormatError::AbsolutePath { path, .. }
            | FormatError::PathTraversal { path, .. }
            | FormatError::LinkEscapes { path, .. }
            | FormatError::DuplicateEntry { path, .. }
            | FormatError::UnsupportedEntry { path, .. }
            | FormatError::DigestMismatch { path, .. }
            | FormatError::SizeMismatch { path, .. }
            | FormatError::MissingMember { path, .. }
            | FormatError::InvalidJson { path, .. }
            | FormatError::InvalidImage { path, .. }
            | FormatError::InvalidDeb { path, .. }
            | FormatError::TooLarge { path, .. }
            | FormatError::InvalidControl { path, .. }
            | FormatError::MissingControlField { path, .. }
            | FormatError::InvalidField { path, .. } => path,
        }
    }
}

/// Why a deb822 control paragraph was rejected by [`crate::parse_control`].
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("line {line}: {detail}")]
pub struct ControlError {
    /// 1-based line number.
    pub line: usize,
    /// What is wrong.
    pub detail: String,
}
