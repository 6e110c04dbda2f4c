//! Staging: each format's artifacts read once into the work directory, with the
//! `manifest.yaml` generated from what was read.

use std::collections::BTreeMap;
use std::io;

use berth_formats::{DebInfo, ImageInfo, derive};
use berth_model::{Arch, FileEntry, Format, Manifest, yaml};
use camino::{Utf8Path, Utf8PathBuf};

use crate::mover::Mover;
use crate::{AddError, AddRequest, ProgressFn};

/// One format ready to move into place.
pub(crate) struct Staged {
    pub(crate) format: Format,
    pub(crate) dir: Utf8PathBuf,
    pub(crate) manifest: Manifest,
    pub(crate) archs: Vec<Arch>,
    pub(crate) what: &'static str,
}

pub(crate) fn stage_docker(
    req: &AddRequest,
    src: &Utf8Path,
    work: &Utf8Path,
    mover: &mut Mover,
    progress: ProgressFn<'_>,
) -> Result<Staged, AddError> {
    let dir = work.join(Format::DOCKER);
    fs_err::create_dir_all(&dir)?;
    let dest = dir.join("image.tar");
    let info: ImageInfo = mover.take(src, &dest, progress, berth_formats::ingest_image)?;
    let manifest = derive::image_manifest(&info, &req.version, req.base_image.clone());
    write_manifest(&dir, &manifest)?;
    Ok(Staged {
        format: Format::docker(),
        dir,
        manifest,
        archs: info
            .platforms
            .iter()
            .map(|p| p.architecture.clone())
            .collect(),
        what: "image",
    })
}

pub(crate) fn stage_debs(
    req: &AddRequest,
    work: &Utf8Path,
    mover: &mut Mover,
    progress: ProgressFn<'_>,
) -> Result<Staged, AddError> {
    let dir = work.join(Format::DEB);
    fs_err::create_dir_all(&dir)?;
    let mut infos: BTreeMap<String, DebInfo> = BTreeMap::new();
    for src in &req.debs {
        let name = file_name(src)?;
        if infos.contains_key(&name) {
            return Err(AddError::DuplicateName {
                format: Format::deb(),
                name,
            });
        }
        let info = mover.take(src, &dir.join(&name), progress, berth_formats::ingest_deb)?;
        infos.insert(name, info);
    }
    let files: Vec<FileEntry> = infos
        .iter()
        .map(|(n, i)| derive::file_entry(n, &i.file))
        .collect();
    let first = infos.values().next().ok_or(AddError::NoArtifacts)?;
    let deb = derive::deb_fields(first);
    let manifest = derive::file_set_manifest(Format::deb(), &req.version, files, Some(deb));
    write_manifest(&dir, &manifest)?;
    Ok(Staged {
        format: Format::deb(),
        dir,
        manifest,
        archs: infos.values().map(|i| i.architecture.clone()).collect(),
        what: "package",
    })
}

pub(crate) fn stage_generic(
    req: &AddRequest,
    work: &Utf8Path,
    mover: &mut Mover,
    progress: ProgressFn<'_>,
) -> Result<Staged, AddError> {
    let dir = work.join(Format::GENERIC);
    fs_err::create_dir_all(&dir)?;
    let mut files = Vec::new();
    for src in &req.generic {
        let name = file_name(src)?;
        if name == berth_model::layout::MANIFEST_FILE
            || files.iter().any(|f: &FileEntry| f.path == name)
        {
            return Err(AddError::DuplicateName {
                format: Format::generic(),
                name,
            });
        }
        let d = mover.take(src, &dir.join(&name), progress, berth_formats::ingest_file)?;
        files.push(derive::file_entry(&name, &d));
    }
    files.sort();
    let manifest = derive::file_set_manifest(Format::generic(), &req.version, files, None);
    write_manifest(&dir, &manifest)?;
    Ok(Staged {
        format: Format::generic(),
        dir,
        manifest,
        archs: Vec::new(),
        what: "files",
    })
}

pub(crate) fn write_manifest(dir: &Utf8Path, m: &Manifest) -> Result<(), AddError> {
    let text = yaml::to_canonical(m).map_err(|source| {
        AddError::Repo(berth_model::Error::Render {
            file: dir.join("manifest.yaml"),
            source,
        })
    })?;
    write_new(&dir.join("manifest.yaml"), text.as_bytes())
}

pub(crate) fn write_new(path: &Utf8Path, data: &[u8]) -> Result<(), AddError> {
    berth_model::store::atomic_write(path, data, false)?;
    Ok(())
}

/// fsyncs every directory below `dir` (artifacts are fsynced when read: the copy, or a
/// moved file in place).
pub(crate) fn sync_tree(dir: &Utf8Path) -> Result<(), AddError> {
    for e in fs_err::read_dir(dir)? {
        let e = e?;
        if e.file_type()?.is_dir() {
            let p = Utf8PathBuf::from_path_buf(e.path())
                .map_err(|p| io::Error::other(format!("{} is not UTF-8", p.display())))?;
            sync_tree(&p)?;
        }
    }
    berth_model::store::sync_dir(dir)?;
    Ok(())
}

pub(crate) fn file_name(src: &Utf8Path) -> Result<String, AddError> {
    src.file_name().map(str::to_owned).ok_or_else(|| {
        AddError::from(io::Error::new(
            io::ErrorKind::InvalidInput,
            format!("{src} names no file"),
        ))
    })
}
