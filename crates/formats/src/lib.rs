//! berth-formats: the artifact readers of berth.
//!
//! Each reader takes a file, reads it in one streaming pass, verifies what the format lets
//! it verify, and returns the facts berth writes into `manifest.yaml`:
//!
//! - [`inspect_image`]: `docker save` archives and OCI archives (single image or image
//!   index). Every blob is checked against its digest while it streams; only small JSON
//!   members are kept in memory, so a multi-GiB image needs a few MiB.
//! - [`inspect_deb`]: Debian packages; the control fields, and the package's size and
//!   sha256 in the same pass. `control.tar` is decompressed through a size limit.
//! - [`hash_file`] / [`hash_reader`]: size and sha256 of any file (the generic format).
//! - [`ingest_image`], [`ingest_deb`], [`ingest_file`]: the same readers, copying the file
//!   in the same single read (the copy and the whole-file SHA-256 on a second thread), or,
//!   with [`Destination::InPlace`], hashing it where it is and fsyncing it (`berth add
//!   --move`).
//!
//! Every failure is a [`FormatError`] that names the file and, where it helps, the member
//! or blob. Readers never panic on bad input, and refuse archives whose members could
//! escape an extraction directory (absolute names, `..`, links pointing outside) or that
//! hold the same name twice.
//!
//! This crate is *not* about where artifacts live (that is `berth-model`'s store) nor about
//! rules over the facts (that is `berth-validate`).

mod deb;
pub mod derive;
mod error;
mod hash;
mod image;
mod tarwalk;
mod tee;

pub use deb::{
    CONTROL_FILE_LIMIT, CONTROL_TAR_LIMIT, DebInfo, ingest_deb, inspect_deb, inspect_deb_from,
    parse_control,
};
pub use error::{ControlError, FormatError};
pub use hash::{Destination, FileDigest, Progress, hash_file, hash_reader, ingest_file};
pub use image::{
    ImageArchiveKind, ImageInfo, JSON_MEMBER_LIMIT, Platform, ingest_image, inspect_image,
    inspect_image_from,
};
