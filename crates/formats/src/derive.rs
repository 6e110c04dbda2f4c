//! The `manifest.yaml` fields berth derives from an artifact: one definition, used by
//! `berth add` to write them and by `validate --verify-artifacts` to check them.

use std::collections::BTreeMap;

use berth_model::{Checked, DebFields, FileEntry, Format, Manifest, Sha256Digest, Version};

use crate::{DebInfo, FileDigest, ImageInfo};

/// `os/arch[/variant]` of every platform of an image, in index order.
pub fn platform_names(info: &ImageInfo) -> Vec<String> {
    info.platforms
        .iter()
        .map(|p| match &p.variant {
            Some(var) => format!("{}/{}/{var}", p.os, p.architecture),
            None => format!("{}/{}", p.os, p.architecture),
        })
        .collect()
}

/// The manifest of a docker format holding `image.tar`: everything from the image, and
/// `base_image` from it too, else `given_base` (what the user said, `--base-image`).
pub fn image_manifest(info: &ImageInfo, version: &Version, given_base: Option<String>) -> Manifest {
    Manifest {
        format: Checked::Valid(Format::docker()),
        version: Checked::Valid(version.clone()),
        base_image: info.base_image.clone().or(given_base),
        sha256: Checked::Valid(info.digest),
        built_at: info.created.map(Checked::Valid),
        labels: info.labels.clone(),
        image_id: Some(Checked::Valid(info.image_id)),
        platforms: platform_names(info),
        deb: None,
        files: vec![file_entry("image.tar", &info.file)],
    }
}

/// The control fields a deb manifest keeps, from one package.
pub fn deb_fields(info: &DebInfo) -> DebFields {
    DebFields {
        package: info.package.clone(),
        version: info.version.clone(),
        architecture: info.architecture.to_string(),
        depends: info.depends.clone(),
        installed_size: info.installed_size,
    }
}

/// The manifest of a deb or generic format: its files, and the digest of the set; a deb
/// format also keeps the control fields of its first package (by file name).
pub fn file_set_manifest(
    format: Format,
    version: &Version,
    files: Vec<FileEntry>,
    deb: Option<DebFields>,
) -> Manifest {
    Manifest {
        format: Checked::Valid(format),
        version: Checked::Valid(version.clone()),
        base_image: None,
        sha256: Checked::Valid(set_digest(&files)),
        built_at: None,
        labels: BTreeMap::new(),
        image_id: None,
        platforms: Vec::new(),
        deb,
        files,
    }
}

/// One file of a manifest.
pub fn file_entry(name: &str, d: &FileDigest) -> FileEntry {
    FileEntry {
        path: name.to_owned(),
        size: d.size,
        sha256: Checked::Valid(d.sha256),
    }
}

/// The `sha256` of a deb or generic format ([`Sha256Digest::of_set`]).
pub fn set_digest(files: &[FileEntry]) -> Sha256Digest {
    Sha256Digest::of_set(
        files
            .iter()
            .filter_map(|f| Some((f.path.as_str(), *f.sha256.get()?))),
    )
    .unwrap_or_else(|| Sha256Digest::of(b""))
}
