//! berth-ingest: `berth add`. Reads artifacts with `berth-formats`, writes them with a
//! `manifest.yaml` generated from what was read into
//! `components/<component>/versions/<version>/<format>/`, writes or checks
//! `metadata.yaml`, then updates that component's row of `index/components.yaml`.
//!
//! Guarantees:
//! - **Immutable**: a format that exists is never changed. Adding identical bytes again
//!   succeeds and changes nothing (a retried CI job); different bytes are refused with
//!   both digests.
//! - **Atomic**: everything is assembled in a temporary directory under `.berth/tmp/` (same
//!   filesystem), fsynced, then renamed into place under the repository lock. A crash at
//!   any moment leaves no partial version or format visible; leftovers of a crashed add
//!   are swept by the next one.
//! - **One read per artifact**: each artifact is copied, hashed and inspected in a single
//!   read (the copy and the whole-file hash run on a second thread).
//!
//! This crate is *not* the validator: it refuses the few things that must never enter the
//! tree (wrong names, wrong architecture, unknown domains, corrupt artifacts), and leaves
//! policy (labels, base images, ages) to `berth validate`.

use std::collections::BTreeMap;
use std::io;

use berth_formats::{DebInfo, FileDigest, FormatError, ImageInfo};
use berth_model::checks::{self, Problem};
use berth_model::repo::load_metadata;
use berth_model::{
    Arch, Checked, ComponentPath, DebFields, FileEntry, Format, Layout, Manifest, Metadata,
    Repository, Sha256Digest, Timestamp, Version, yaml,
};
use camino::{Utf8Path, Utf8PathBuf};

/// Where `metadata.yaml` comes from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum MetadataSource {
    /// A file the caller wrote.
    File(Utf8PathBuf),
    /// The metadata of the component's highest existing version.
    FromPrevious,
    /// The version must already have one (adding another format to it).
    Existing,
}

/// What to add.
#[derive(Debug, Clone)]
pub struct AddRequest {
    /// The component.
    pub component: ComponentPath,
    /// The version.
    pub version: Version,
    /// A docker-save or OCI image archive.
    pub docker: Option<Utf8PathBuf>,
    /// Debian packages.
    pub debs: Vec<Utf8PathBuf>,
    /// Any files.
    pub generic: Vec<Utf8PathBuf>,
    /// Where the metadata comes from.
    pub metadata: MetadataSource,
    /// The base image, when the image has no `org.opencontainers.image.base.name` label.
    pub base_image: Option<String>,
}

/// What happened to one format.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FormatStatus {
    /// Written now.
    Added,
    /// Already there with identical bytes: nothing changed.
    Unchanged,
}

/// The result of an add.
#[derive(Debug, Clone)]
pub struct AddOutcome {
    /// The component.
    pub component: ComponentPath,
    /// The version.
    pub version: Version,
    /// Per format: what happened and the manifest it has.
    pub formats: Vec<(Format, FormatStatus, Manifest)>,
    /// True when metadata.yaml was written now.
    pub metadata_written: bool,
    /// The index row after the add: (before, after), when it changed.
    pub latest_change: Option<(Option<Version>, Option<Version>)>,
}

impl AddOutcome {
    /// True when the add changed nothing (a retried job).
    pub fn unchanged(&self) -> bool {
        !self.metadata_written && self.formats.iter().all(|f| f.1 == FormatStatus::Unchanged)
    }
}

/// Why an add was refused; nothing was changed.
#[derive(Debug, thiserror::Error)]
pub enum AddError {
    /// Nothing to add.
    #[error("nothing to add: give --docker FILE, --deb FILE or --generic FILE")]
    NoArtifacts,
    /// An artifact could not be read or is broken.
    #[error(transparent)]
    Format(#[from] FormatError),
    /// The metadata does not fit the path, the config or the artifacts.
    #[error("{file}: refused:\n{}", problems.iter().map(|p| format!("  - [{}] {} ({})", p.rule, p.message, p.help)).collect::<Vec<_>>().join("\n"))]
    Metadata {
        /// The metadata file in question.
        file: Utf8PathBuf,
        /// What is wrong.
        problems: Vec<Problem>,
    },
    /// No metadata to use.
    #[error(
        "{component} {version} has no metadata.yaml yet: give --metadata FILE or --from-previous"
    )]
    NoMetadata {
        /// The component.
        component: ComponentPath,
        /// The version.
        version: Version,
    },
    /// `--from-previous` on a component without versions.
    #[error(
        "--from-previous: {0} has no earlier version to copy metadata from; give --metadata FILE"
    )]
    NoPrevious(ComponentPath),
    /// Different metadata for a version that has one.
    #[error(
        "{file} exists and differs from {given}: published metadata is immutable; publish a new version instead"
    )]
    MetadataChanged {
        /// The existing metadata.yaml.
        file: Utf8PathBuf,
        /// The metadata given now.
        given: Utf8PathBuf,
    },
    /// Different bytes for a format that exists.
    #[error(
        "{what} exists with different content: published versions are immutable.\n  existing sha256: {existing}\n  new sha256:      {new}\n  publish a new version instead"
    )]
    Immutable {
        /// `<component> <version> <format>`.
        what: String,
        /// The stored manifest's sha256.
        existing: String,
        /// The new artifact's sha256.
        new: String,
    },
    /// Two artifacts of one format share a file name.
    #[error("two {format} artifacts are both named `{name}`; rename one")]
    DuplicateName {
        /// The format.
        format: Format,
        /// The file name.
        name: String,
    },
    /// Reading or writing the repository failed.
    #[error(transparent)]
    Repo(#[from] berth_model::Error),
    /// The repository could not be validated for the index update (the artifacts are in
    /// place).
    #[error(
        "the version was added, but validating the repository for the index failed: {0}; run `berth index`"
    )]
    Validate(String),
    /// The index could not be updated (the artifacts are in place).
    #[error(
        "the version was added, but updating index/components.yaml failed: {0}; run `berth index`"
    )]
    Index(#[from] berth_index::IndexError),
}

impl From<io::Error> for AddError {
    fn from(e: io::Error) -> Self {
        AddError::Repo(berth_model::Error::Io(e))
    }
}

/// Progress of the bytes read, per artifact: (file, bytes so far, total bytes).
pub type ProgressFn<'a> = &'a (dyn Fn(&Utf8Path, u64, u64) + Sync);

/// One format ready to move into place.
struct Staged {
    format: Format,
    dir: Utf8PathBuf,
    manifest: Manifest,
    archs: Vec<Arch>,
    what: &'static str,
}

/// The temporary area of the repository (same filesystem as the tree).
const TMP_DIR: &str = ".berth/tmp";

/// Adds artifacts to a repository (see the crate docs for the guarantees).
pub fn add(
    repo: &Repository,
    req: &AddRequest,
    progress: ProgressFn<'_>,
) -> Result<AddOutcome, AddError> {
    if req.docker.is_none() && req.debs.is_empty() && req.generic.is_empty() {
        return Err(AddError::NoArtifacts);
    }
    let root = repo.root().to_owned();
    let tmp_root = root.join(TMP_DIR);
    fs_err::create_dir_all(&tmp_root)?;
    let work = tempfile::Builder::new()
        .prefix(&format!("add-{}-", std::process::id()))
        .tempdir_in(&tmp_root)
        .map_err(|e| {
            io::Error::new(
                e.kind(),
                format!("creating a work directory in {tmp_root}: {e}"),
            )
        })?;
    let work_dir = Utf8PathBuf::from_path_buf(work.path().to_path_buf())
        .map_err(|p| io::Error::other(format!("{} is not UTF-8", p.display())))?;

    // 1. Read every artifact once, copying it into the work directory (no lock needed:
    //    nothing in the tree changes yet).
    let mut staged = Vec::new();
    if let Some(src) = &req.docker {
        staged.push(stage_docker(req, src, &work_dir, progress)?);
    }
    if !req.debs.is_empty() {
        staged.push(stage_debs(req, &work_dir, progress)?);
    }
    if !req.generic.is_empty() {
        staged.push(stage_generic(req, &work_dir, progress)?);
    }

    // 2. Under the lock: decide, check, move into place, update the index.
    let _lock = repo.lock()?;
    sweep_stale(&tmp_root, &work_dir);
    let c = &req.component;
    let v = &req.version;
    let version_dir = repo.path(&Layout::version_dir(c, v));
    let version_exists = version_dir.is_dir();

    let (metadata, metadata_text, metadata_file) = resolve_metadata(repo, req, version_exists)?;
    let meta_path = repo.path(&Layout::metadata_path(c, v));
    let mut problems = checks::name_mismatch(&metadata, c);
    problems.extend(checks::invalid_values(&metadata));
    problems.extend(checks::against_config(&metadata, repo.config()));
    problems.extend(metadata.unknown_keys().map(|k| {
        Problem {
            rule: "schema/unknown-field",
            field: vec![k.to_owned()],
            message: format!("unknown key `{k}`"),
            help: yaml::suggest(k, Metadata::FIELDS)
                .map(|s| format!("did you mean `{s}`? custom keys start with `x-`"))
                .unwrap_or_else(|| "remove it, or prefix custom keys with `x-`".to_owned()),
        }
    }));
    for s in &staged {
        problems.extend(checks::arch_mismatch(&metadata, &s.archs, s.what));
    }
    if !problems.is_empty() {
        return Err(AddError::Metadata {
            file: metadata_file,
            problems,
        });
    }

    let mut outcome = AddOutcome {
        component: c.clone(),
        version: v.clone(),
        formats: Vec::new(),
        metadata_written: false,
        latest_change: None,
    };
    // Which formats are new, which are identical retries, which are refused.
    let mut to_move = Vec::new();
    for s in staged {
        let target = repo.path(&Layout::format_dir(c, v, &s.format));
        if target.exists() {
            let existing = repo.manifest(c, v, &s.format)?.value;
            if same_content(&existing, &s.manifest) {
                outcome
                    .formats
                    .push((s.format, FormatStatus::Unchanged, existing));
            } else {
                return Err(AddError::Immutable {
                    what: format!("{c} {v} {}", s.format),
                    existing: existing.sha256.text(),
                    new: s.manifest.sha256.text(),
                });
            }
        } else {
            to_move.push((s, target));
        }
    }

    if !version_exists {
        // A new version: assemble metadata + formats in one directory, one rename.
        let new_version = work_dir.join("version");
        fs_err::create_dir_all(&new_version)?;
        write_new(&new_version.join("metadata.yaml"), metadata_text.as_bytes())?;
        for (s, _) in &to_move {
            fs_err::rename(&s.dir, new_version.join(s.format.as_str()))?;
        }
        sync_tree(&new_version)?;
        let versions_dir = repo.path(&Layout::versions_dir(c));
        fs_err::create_dir_all(&versions_dir)?;
        fs_err::rename(&new_version, &version_dir)?;
        berth_model::store::sync_dir(&versions_dir)?;
        outcome.metadata_written = true;
    } else {
        if !meta_path.exists() {
            write_new(&meta_path, metadata_text.as_bytes())?;
            outcome.metadata_written = true;
        }
        for (s, target) in &to_move {
            sync_tree(&s.dir)?;
            fs_err::rename(&s.dir, target)?;
        }
        berth_model::store::sync_dir(&version_dir)?;
    }
    for (s, _) in to_move {
        outcome
            .formats
            .push((s.format, FormatStatus::Added, s.manifest));
    }
    outcome.formats.sort_by(|a, b| a.0.cmp(&b.0));

    // 3. The component's row of the index, with the same code as `berth index`.
    if !outcome.unchanged() {
        let mut index = repo
            .components_index()?
            .map(|l| l.value)
            .unwrap_or_default();
        let opts = berth_index::IndexOptions::from_config(repo.config());
        let good = berth_validate::verdict(repo).map_err(|e| AddError::Validate(e.to_string()))?;
        if let Some(change) = berth_index::update_component(repo, &mut index, c, &opts, &good)? {
            berth_index::write(repo, &index)?;
            outcome.latest_change = Some((change.before, change.after));
        }
    }
    Ok(outcome)
}

/// Same artifacts: the same files with the same digests (the manifest's other fields are
/// derived from them).
fn same_content(a: &Manifest, b: &Manifest) -> bool {
    let key = |m: &Manifest| {
        let mut f: Vec<(String, String)> = m
            .files
            .iter()
            .map(|f| (f.path.clone(), f.sha256.text()))
            .collect();
        f.sort();
        (m.sha256.text(), f)
    };
    key(a) == key(b)
}

/// Where the metadata comes from, its canonical text, and the file to name in messages.
fn resolve_metadata(
    repo: &Repository,
    req: &AddRequest,
    version_exists: bool,
) -> Result<(Metadata, String, Utf8PathBuf), AddError> {
    let c = &req.component;
    let v = &req.version;
    let existing_rel = Layout::metadata_path(c, v);
    let existing_path = repo.path(&existing_rel);
    let existing = if version_exists && existing_path.exists() {
        Some(repo.metadata(c, v)?)
    } else {
        None
    };
    let given: Option<(Metadata, Utf8PathBuf)> = match &req.metadata {
        MetadataSource::File(f) => {
            let bytes = fs_err::read(f)?;
            Some((
                load_metadata(f, &bytes)
                    .map_err(berth_model::Error::from)?
                    .value,
                f.clone(),
            ))
        }
        MetadataSource::FromPrevious => {
            let prev = repo
                .versions(c)
                .ok()
                .and_then(|vs| vs.into_iter().filter(|x| x != v).max())
                .ok_or_else(|| AddError::NoPrevious(c.clone()))?;
            let rel = Layout::metadata_path(c, &prev);
            Some((repo.metadata(c, &prev)?.value, repo.path(&rel)))
        }
        MetadataSource::Existing => None,
    };
    let canonical = |m: &Metadata| -> Result<String, AddError> {
        let mut m = m.clone();
        m.canonicalize();
        yaml::to_canonical(&m).map_err(|source| {
            AddError::Repo(berth_model::Error::Render {
                file: existing_path.clone(),
                source,
            })
        })
    };
    match (existing, given) {
        (Some(ex), Some((g, gfile))) => {
            // A later add of another format checks the existing metadata instead of
            // rewriting it: the given one must say the same.
            if canonical(&ex.value)? != canonical(&g)?
                && !matches!(req.metadata, MetadataSource::FromPrevious)
            {
                return Err(AddError::MetadataChanged {
                    file: existing_path,
                    given: gfile,
                });
            }
            let text = canonical(&ex.value)?;
            Ok((ex.value, text, existing_path))
        }
        (Some(ex), None) => {
            let text = canonical(&ex.value)?;
            Ok((ex.value, text, existing_path))
        }
        (None, Some((g, gfile))) => {
            let text = canonical(&g)?;
            Ok((g, text, gfile))
        }
        (None, None) => Err(AddError::NoMetadata {
            component: c.clone(),
            version: v.clone(),
        }),
    }
}

fn file_name(src: &Utf8Path) -> Result<String, AddError> {
    src.file_name().map(str::to_owned).ok_or_else(|| {
        AddError::from(io::Error::new(
            io::ErrorKind::InvalidInput,
            format!("{src} names no file"),
        ))
    })
}

fn progress_for<'a>(src: &'a Utf8Path, total: u64, progress: ProgressFn<'a>) -> impl Fn(u64) + 'a {
    move |n| progress(src, n, total)
}

fn stage_docker(
    req: &AddRequest,
    src: &Utf8Path,
    work: &Utf8Path,
    progress: ProgressFn<'_>,
) -> Result<Staged, AddError> {
    let dir = work.join(Format::DOCKER);
    fs_err::create_dir_all(&dir)?;
    let dest = dir.join("image.tar");
    let total = fs_err::metadata(src)?.len();
    let p = progress_for(src, total, progress);
    let info: ImageInfo = berth_formats::ingest_image(src, &dest, Some(&p))?;
    let manifest = Manifest {
        format: Checked::Valid(Format::docker()),
        version: Checked::Valid(req.version.clone()),
        base_image: info.base_image.clone().or_else(|| req.base_image.clone()),
        sha256: Checked::Valid(info.digest),
        built_at: info.created.map(Checked::Valid),
        labels: info.labels.clone(),
        image_id: Some(Checked::Valid(info.image_id)),
        platforms: info
            .platforms
            .iter()
            .map(|p| match &p.variant {
                Some(var) => format!("{}/{}/{var}", p.os, p.architecture),
                None => format!("{}/{}", p.os, p.architecture),
            })
            .collect(),
        deb: None,
        files: vec![entry("image.tar", &info.file)],
    };
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

fn stage_debs(
    req: &AddRequest,
    work: &Utf8Path,
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
        let total = fs_err::metadata(src)?.len();
        let p = progress_for(src, total, progress);
        let info = berth_formats::ingest_deb(src, &dir.join(&name), Some(&p))?;
        infos.insert(name, info);
    }
    let files: Vec<FileEntry> = infos.iter().map(|(n, i)| entry(n, &i.file)).collect();
    let first = infos.values().next().ok_or(AddError::NoArtifacts)?;
    let deb = DebFields {
        package: first.package.clone(),
        version: first.version.clone(),
        architecture: first.architecture.to_string(),
        depends: first.depends.clone(),
        installed_size: first.installed_size,
    };
    let manifest = file_set_manifest(Format::deb(), &req.version, files, Some(deb));
    write_manifest(&dir, &manifest)?;
    Ok(Staged {
        format: Format::deb(),
        dir,
        manifest,
        archs: infos.values().map(|i| i.architecture.clone()).collect(),
        what: "package",
    })
}

fn stage_generic(
    req: &AddRequest,
    work: &Utf8Path,
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
        let total = fs_err::metadata(src)?.len();
        let p = progress_for(src, total, progress);
        let d = berth_formats::ingest_file(src, &dir.join(&name), Some(&p))?;
        files.push(entry(&name, &d));
    }
    files.sort();
    let manifest = file_set_manifest(Format::generic(), &req.version, files, None);
    write_manifest(&dir, &manifest)?;
    Ok(Staged {
        format: Format::generic(),
        dir,
        manifest,
        archs: Vec::new(),
        what: "files",
    })
}

/// The manifest of a deb or generic format: files, and the digest of the set.
fn file_set_manifest(
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

fn entry(name: &str, d: &FileDigest) -> FileEntry {
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

fn write_manifest(dir: &Utf8Path, m: &Manifest) -> Result<(), AddError> {
    let text = yaml::to_canonical(m).map_err(|source| {
        AddError::Repo(berth_model::Error::Render {
            file: dir.join("manifest.yaml"),
            source,
        })
    })?;
    write_new(&dir.join("manifest.yaml"), text.as_bytes())
}

fn write_new(path: &Utf8Path, data: &[u8]) -> Result<(), AddError> {
    berth_model::store::atomic_write(path, data, false)?;
    Ok(())
}

/// fsyncs every file and directory below `dir` (artifacts are fsynced by the copy).
fn sync_tree(dir: &Utf8Path) -> Result<(), AddError> {
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

/// Removes work directories of adds whose process died. Work directories are named
/// `add-<pid>-…`; one whose process still runs (it may be staging without the lock) is kept.
fn sweep_stale(tmp_root: &Utf8Path, keep: &Utf8Path) {
    let Ok(entries) = fs_err::read_dir(tmp_root) else {
        return;
    };
    for e in entries.flatten() {
        let p = e.path();
        if p == keep.as_std_path() {
            continue;
        }
        let name = e.file_name().to_string_lossy().into_owned();
        let pid = name
            .strip_prefix("add-")
            .and_then(|r| r.split('-').next())
            .and_then(|p| p.parse::<u32>().ok());
        let alive = match pid {
            Some(pid) if std::path::Path::new("/proc/self").exists() => {
                std::path::Path::new("/proc").join(pid.to_string()).exists()
            }
            // Without /proc we cannot tell: keep it.
            _ => true,
        };
        if !alive {
            let _ = std::fs::remove_dir_all(&p);
        }
    }
}

/// The built_at of a manifest as a timestamp, when valid (for callers that report it).
pub fn built_at(m: &Manifest) -> Option<Timestamp> {
    m.built_at.as_ref().and_then(|b| b.get().copied())
}
