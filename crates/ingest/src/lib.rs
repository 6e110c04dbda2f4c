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
//! ## Moving instead of copying ([`Transfer::Move`], `berth add --move`)
//!
//! Copying writes every byte a second time and fsyncs it, which bounds a large image's add
//! by the disk's write speed. A CI job whose build output exists only to be added can hand
//! the files over instead:
//!
//! 1. each artifact file is renamed from its source path into the add's work directory
//!    under `.berth/tmp/` (the repository's filesystem), so from then on its producer can
//!    no longer rewrite it through its old name;
//! 2. it is read once where it is: inspected, verified and hashed (the whole-file SHA-256
//!    on a second thread), then fsynced (`sync_all`), so bytes its producer left
//!    unwritten are durable before it is renamed into the tree;
//! 3. everything goes on as for a copy: manifest, metadata, lock, rename into place,
//!    index.
//!
//! **On success the source path no longer exists**: the file is in the tree. **On refusal
//! it is restored**: when the add is refused or fails before its files entered the tree
//! (a bad archive, a digest mismatch, metadata problems, an immutability conflict, an I/O
//! error), every moved file is renamed back to its source path, byte for byte. A format
//! already stored with identical bytes (a retried job: the add succeeds and changes
//! nothing) has its files put back too: the repository already has them. A file is put
//! back only where nothing has taken its path meanwhile; when it cannot be, it stays in
//! the work directory and the add fails with [`AddError::NotRestored`] naming where. If
//! berth is killed mid-add, the next add in the repository puts the files back (a journal
//! in the work directory lists them). The errors that say the version *was* added
//! ([`AddError::Validate`], [`AddError::Index`]) leave the files in the tree.
//!
//! A file is copied instead, its source left in place, when it cannot be handed over by a
//! rename: it is on another filesystem than the repository (`EXDEV`), it is a symbolic
//! link, or it has other hard links (through which it could still change).
//! [`AddOutcome::copied`] lists those files and why. A process that still holds the file
//! open can still write to it: move only files whose producer has finished (`berth validate
//! --verify-artifacts` re-hashes what is stored).
//!
//! This crate is *not* the validator: it refuses the few things that must never enter the
//! tree (wrong names, wrong architecture, unknown domains, corrupt artifacts), and leaves
//! policy (labels, base images, ages) to `berth validate`. Whether the new version becomes
//! the component's latest is the [`Verdict`] the caller hands in (berth-validate's
//! `Checker` in the CLI).

use std::collections::BTreeMap;
use std::io;

use berth_formats::{DebInfo, Destination, FileDigest, FormatError, ImageInfo, Progress};
use berth_model::checks::{self, Problem};
use berth_model::journal::Intent;
use berth_model::repo::load_metadata_limited;
use berth_model::store::WorkDir;
use berth_model::{
    Arch, Checked, ComponentPath, DebFields, FileEntry, Finding, Format, Layout, Manifest,
    Metadata, Repository, Sha256Digest, Timestamp, Verdict, Version, yaml,
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

/// How artifact files get into the repository.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum Transfer {
    /// Copy each file; the source stays where it is.
    #[default]
    Copy,
    /// Move each file into the repository (no copy, no second write): on success the
    /// source path no longer exists; on refusal the file is put back. See the crate docs.
    Move,
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
    /// Copy the files (the default) or move them in.
    pub transfer: Transfer,
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
    /// With [`Transfer::Move`]: the files that were copied instead of moved (their source
    /// is still in place), each with why.
    pub copied: Vec<(Utf8PathBuf, String)>,
    /// When the version is not the component's latest: its error findings (empty when it
    /// is good but older than the latest, or a pre-release).
    pub findings: Vec<Finding>,
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
        "{what} exists with different content: published versions are immutable.\n{}\n  publish a new version instead",
        differences.iter().map(|d| format!("  {d}")).collect::<Vec<_>>().join("\n")
    )]
    Immutable {
        /// `<component> <version> <format>`.
        what: String,
        /// What differs, one line each: the manifest digest, and every file whose sha256
        /// differs, is new or is missing.
        differences: Vec<String>,
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
    /// The index could not be updated (the artifacts are in place).
    #[error(
        "the version was added, but updating index/components.yaml failed: {0}; run `berth index`"
    )]
    Index(#[from] berth_index::IndexError),
    /// With [`Transfer::Move`]: files the add did not take could not be put back at their
    /// source paths (something else has taken the path, or its directory is gone). They
    /// are kept where [`Unrestored::kept_at`] says.
    #[error("{}", not_restored_text(error.as_deref(), files))]
    NotRestored {
        /// Why the add did not take them; `None` when it succeeded and they were not needed
        /// (identical content was already stored).
        error: Option<Box<AddError>>,
        /// The files.
        files: Vec<Unrestored>,
    },
}

/// A moved file that could not be put back at its source path.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Unrestored {
    /// Where it came from (absolute).
    pub source: Utf8PathBuf,
    /// Where it is now, in the add's work directory under `.berth/tmp/`.
    pub kept_at: Utf8PathBuf,
    /// Why it could not be put back.
    pub reason: String,
}

fn not_restored_text(error: Option<&AddError>, files: &[Unrestored]) -> String {
    let mut s = match error {
        Some(e) => format!("{e}\n"),
        None => "identical content was already published; ".to_owned(),
    };
    s.push_str("--move: could not put these files back where they came from:");
    for f in files {
        s.push_str(&format!(
            "\n  {}: {}; the file is kept at {}",
            f.source, f.reason, f.kept_at
        ));
    }
    s
}

impl From<berth_model::StoreError> for AddError {
    fn from(e: berth_model::StoreError) -> Self {
        AddError::Repo(berth_model::Error::Store(e))
    }
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

/// Adds artifacts to a repository (see the crate docs for the guarantees).
pub fn add(
    repo: &Repository,
    req: &AddRequest,
    verdict: &dyn Verdict,
    progress: ProgressFn<'_>,
) -> Result<AddOutcome, AddError> {
    if req.docker.is_none() && req.debs.is_empty() && req.generic.is_empty() {
        return Err(AddError::NoArtifacts);
    }
    // Files a killed `add --move` had taken go back first, so that re-running the same
    // command finds its sources where they were.
    if req.transfer == Transfer::Move {
        let lock = repo.lock()?;
        sweep_stale(repo, None);
        drop(lock);
    }
    let work = repo.store().work_dir("add")?;
    let mut mover = Mover {
        handed_over: if req.transfer == Transfer::Move {
            ledger::handed_over(repo, req)
        } else {
            BTreeMap::new()
        },
        transfer: req.transfer,
        work: work.abs.clone(),
        moved: Vec::new(),
        copied: Vec::new(),
    };
    let result = add_staged(repo, req, verdict, &work, &mut mover, progress);
    // What the add did not take goes back where it came from: every moved file when it was
    // refused, those of formats already stored with identical bytes when it succeeded.
    // Files that entered the tree are no longer in the work directory and stay.
    let unrestored = mover.put_back();
    if unrestored.is_empty() {
        let _ = std::fs::remove_dir_all(work.abs.as_std_path());
        return result.map(|o| AddOutcome {
            copied: mover.copied,
            ..o
        });
    }
    // Keep the work directory (and the files in it); a later sweep retries putting them
    // back.
    Err(AddError::NotRestored {
        error: result.err().map(Box::new),
        files: unrestored,
    })
}

/// The add proper: stage every artifact in `mover`'s work directory, then under the lock
/// move them into place.
fn add_staged(
    repo: &Repository,
    req: &AddRequest,
    verdict: &dyn Verdict,
    work: &WorkDir,
    mover: &mut Mover,
    progress: ProgressFn<'_>,
) -> Result<AddOutcome, AddError> {
    // Each format is staged in `<work>/version/<format>/`: for a new version that directory
    // is renamed into the tree as a whole, with metadata.yaml.
    let new_version = work.abs.join("version");
    let new_version_rel = work.rel.join("version");
    fs_err::create_dir_all(&new_version)?;

    // 1. Read every artifact once, copying or moving it into the work directory (no lock
    //    needed: nothing in the tree changes yet).
    let mut staged = Vec::new();
    if let Some(src) = &req.docker {
        staged.push(stage_docker(req, src, &new_version, mover, progress)?);
    }
    if !req.debs.is_empty() {
        staged.push(stage_debs(req, &new_version, mover, progress)?);
    }
    if !req.generic.is_empty() {
        staged.push(stage_generic(req, &new_version, mover, progress)?);
    }

    // 2. Under the lock: finish what killed writers left, decide, check, move into place,
    //    update the index.
    let lock = repo.lock()?;
    sweep_stale(repo, Some(&work.abs));
    berth_index::recover(repo, &lock, verdict)?;
    let c = &req.component;
    let v = &req.version;
    repo.check_placement(c)?;
    let version_rel = Layout::version_dir(c, v);
    let version_exists = repo.has_version(c, v)?;
    if !version_exists && repo.store().exists(&version_rel) {
        // Something that is not a directory (a link, a file) has the version's name.
        return Err(AddError::Repo(
            berth_model::StoreError::NotADirectory {
                path: repo.path(&version_rel),
                what: "not a directory",
            }
            .into(),
        ));
    }

    let (metadata, metadata_text, metadata_file) = resolve_metadata(repo, req, version_exists)?;
    let meta_rel = Layout::metadata_path(c, v);
    let mut problems = checks::name_mismatch(&metadata, c);
    problems.extend(checks::invalid_values(&metadata));
    problems.extend(checks::against_config(&metadata, repo.config()));
    problems.extend(checks::unknown_keys(&metadata));
    for s in &staged {
        problems.extend(checks::arch_mismatch(
            &metadata,
            repo.config(),
            &s.archs,
            s.what,
        ));
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
        copied: Vec::new(),
        findings: Vec::new(),
    };
    // Which formats are new, which are identical retries, which are refused.
    let mut to_move = Vec::new();
    for s in staged {
        let target = Layout::format_dir(c, v, &s.format);
        if repo.store().exists(&target) {
            let existing = repo.manifest(c, v, &s.format)?.value;
            if same_content(&existing, &s.manifest) {
                outcome
                    .formats
                    .push((s.format, FormatStatus::Unchanged, existing));
            } else {
                return Err(immutable(c, v, &s.format, &existing, &s.manifest));
            }
        } else {
            to_move.push((s, target));
        }
    }

    // Every path this add writes is checked before the first change, so a refusal (a link
    // where `index/` should be) leaves the tree as it was.
    repo.store().check_writable(&Layout::components_index())?;
    repo.store().check_writable(&meta_rel)?;
    for (_, target) in &to_move {
        repo.store().check_writable(target)?;
    }
    // The index row is recomputed even when nothing new is stored: a retried add finishes
    // what a killed one left (the journal says so too).
    let pending = repo.journal_begin(
        &lock,
        &Intent::IndexRows {
            components: vec![c.clone()],
        },
    )?;
    // Files handed over by a move: where each goes, so that a retry of this command (if it
    // is killed from here on) finds them.
    ledger::record(
        repo,
        &lock,
        &mover.moved,
        &work.abs.join("version"),
        &version_rel,
    );
    if !version_exists {
        // A new version: metadata + formats in one directory (every staged format is new),
        // one rename.
        write_new(&new_version.join("metadata.yaml"), metadata_text.as_bytes())?;
        sync_tree(&new_version)?;
        repo.store()
            .rename(&lock, &new_version_rel, &version_rel, false)?;
        outcome.metadata_written = true;
    } else {
        if !repo.store().exists(&meta_rel) {
            repo.store()
                .create_new(&lock, &meta_rel, metadata_text.as_bytes())?;
            outcome.metadata_written = true;
        }
        for (s, target) in &to_move {
            sync_tree(&s.dir)?;
            let staged_rel = new_version_rel.join(s.format.as_str());
            repo.store().rename(&lock, &staged_rel, target, false)?;
        }
    }
    for (s, _) in to_move {
        outcome
            .formats
            .push((s.format, FormatStatus::Added, s.manifest));
    }
    outcome.formats.sort_by(|a, b| a.0.cmp(&b.0));

    // 3. The component's row of the index, with the same code as `berth index`.
    let mut index = berth_index::read(repo)?.unwrap_or_default();
    let opts = berth_index::IndexOptions::from_config(repo.config());
    let mut changed = false;
    if let Some(change) = berth_index::update_component(repo, &mut index, c, &opts, verdict)? {
        outcome.latest_change = Some((change.before, change.after));
        changed = true;
    }
    // Components whose verdict this version may change (a dependency of theirs that did
    // not resolve may now): their rows too.
    for d in verdict.affected_by(c) {
        if d != *c {
            changed |=
                berth_index::update_component(repo, &mut index, &d, &opts, verdict)?.is_some();
        }
    }
    if changed {
        berth_index::write(repo, &lock, &index)?;
    }
    // What keeps the version from being latest, if it is not.
    if index.latest(c.as_str()) != Some(v) {
        outcome.findings = verdict.findings(c, v)?;
    }
    repo.journal_done(&lock, &pending)?;
    Ok(outcome)
}

/// The refusal of different bytes for a stored format: the digests that differ, so the
/// two sides never look the same (an image archive can differ while its image ID does not).
fn immutable(
    c: &ComponentPath,
    v: &Version,
    f: &Format,
    existing: &Manifest,
    new: &Manifest,
) -> AddError {
    let mut lines = Vec::new();
    if existing.sha256.text() != new.sha256.text() {
        lines.push(format!(
            "sha256 (manifest): {} stored, {} new",
            existing.sha256.text(),
            new.sha256.text()
        ));
    }
    let files = |m: &Manifest| -> BTreeMap<String, String> {
        m.files
            .iter()
            .map(|f| (f.path.clone(), f.sha256.text()))
            .collect()
    };
    let (old, now) = (files(existing), files(new));
    for name in old
        .keys()
        .chain(now.keys())
        .collect::<std::collections::BTreeSet<_>>()
    {
        match (old.get(name), now.get(name)) {
            (Some(a), Some(b)) if a != b => {
                lines.push(format!("{name}: sha256 {a} stored, {b} new"))
            }
            (Some(_), None) => lines.push(format!("{name}: stored, not in the new artifacts")),
            (None, Some(_)) => lines.push(format!("{name}: new, not in the stored format")),
            _ => {}
        }
    }
    AddError::Immutable {
        what: format!("{c} {v} {f}"),
        differences: lines,
    }
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
    let existing = if version_exists && repo.store().exists(&existing_rel) {
        Some(repo.metadata(c, v)?)
    } else {
        None
    };
    let given: Option<(Metadata, Utf8PathBuf)> = match &req.metadata {
        MetadataSource::File(f) => {
            let limits = repo.limits();
            let bytes = berth_model::store::read_regular(f, limits.yaml_bytes)?;
            Some((
                load_metadata_limited(
                    f,
                    &bytes,
                    usize::try_from(limits.string_bytes).unwrap_or(usize::MAX),
                )
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

/// The journal of a work directory: one JSON line `[source, staged]` per moved file (the
/// source absolute, the staged path relative to the work directory), written before the
/// rename, so that the sweep can put back the files of a killed add.
const MOVE_JOURNAL: &str = "moved.jsonl";

/// How one add gets its artifact files into its work directory ([`Transfer`]), and what it
/// moved there.
struct Mover {
    transfer: Transfer,
    /// Sources of this request that an earlier `add --move` handed over (the ledger): where
    /// each is stored now (absolute).
    handed_over: BTreeMap<Utf8PathBuf, Utf8PathBuf>,
    /// The add's work directory.
    work: Utf8PathBuf,
    /// (source, staged), both absolute, in the order moved.
    moved: Vec<(Utf8PathBuf, Utf8PathBuf)>,
    /// Files copied although a move was asked for, and why.
    copied: Vec<(Utf8PathBuf, String)>,
}

/// `berth_formats::ingest_*`.
type ReadOnce<T> = fn(&Utf8Path, Destination<'_>, Progress<'_>) -> Result<T, FormatError>;

impl Mover {
    /// Puts `src` at `staged` (a new path in the work directory) and reads it once with
    /// `read`: copying it there, or, for [`Transfer::Move`], renaming it there first and
    /// reading it in place. A file that cannot be renamed is copied (see the crate docs).
    fn take<T>(
        &mut self,
        src: &Utf8Path,
        staged: &Utf8Path,
        progress: ProgressFn<'_>,
        read: ReadOnce<T>,
    ) -> Result<T, AddError> {
        if self.transfer == Transfer::Move
            && std::fs::symlink_metadata(src).is_err()
            && let Some(stored) = self.handed_over.get(src).cloned()
        {
            // A retried `add --move` whose first run handed this file over and was killed
            // before it could say so: read the stored copy (the add then finds identical
            // content and changes nothing).
            let total = fs_err::metadata(&stored)?.len();
            let p = move |n| progress(src, n, total);
            return Ok(read(&stored, Destination::CopyTo(staged), Some(&p))?);
        }
        let total = fs_err::metadata(src)?.len();
        let p = move |n| progress(src, n, total);
        if self.transfer == Transfer::Move {
            match self.move_in(src, staged)? {
                None => {
                    return Ok(read(
                        staged,
                        Destination::InPlace { shown_as: src },
                        Some(&p),
                    )?);
                }
                Some(why) => self.copied.push((src.to_owned(), why)),
            }
        }
        Ok(read(src, Destination::CopyTo(staged), Some(&p))?)
    }

    /// Renames `src` to `staged`; `Some(why)` when it must be copied instead.
    fn move_in(&mut self, src: &Utf8Path, staged: &Utf8Path) -> Result<Option<String>, AddError> {
        let meta = fs_err::symlink_metadata(src)?;
        if meta.file_type().is_symlink() {
            return Ok(Some("it is a symbolic link".to_owned()));
        }
        if !meta.is_file() {
            return Ok(Some("it is not a regular file".to_owned()));
        }
        #[cfg(unix)]
        {
            use std::os::unix::fs::MetadataExt as _;
            if meta.nlink() > 1 {
                return Ok(Some(format!(
                    "it has {} hard links, through which it could still change",
                    meta.nlink()
                )));
            }
        }
        let source = Utf8PathBuf::try_from(std::path::absolute(src)?)
            .map_err(|e| io::Error::other(format!("{src}: {e}")))?;
        self.journal(&source, staged)?;
        match std::fs::rename(src, staged) {
            Ok(()) => {
                self.moved.push((source, staged.to_owned()));
                Ok(None)
            }
            Err(e) if e.kind() == io::ErrorKind::CrossesDevices => Ok(Some(
                "it is on another filesystem than the repository".to_owned(),
            )),
            Err(e) => Err(io::Error::new(
                e.kind(),
                format!("moving {src} into the repository ({staged}): {e}"),
            )
            .into()),
        }
    }

    /// Records a move in the work directory's journal, before it happens.
    fn journal(&self, source: &Utf8Path, staged: &Utf8Path) -> Result<(), AddError> {
        use std::io::Write as _;
        let rel = staged.strip_prefix(&self.work).unwrap_or(staged);
        let line = serde_json::to_string(&[source.as_str(), rel.as_str()])
            .map_err(|e| io::Error::other(e.to_string()))?;
        let path = self.work.join(MOVE_JOURNAL);
        let mut f = fs_err::OpenOptions::new()
            .create(true)
            .append(true)
            .open(&path)?;
        f.write_all(format!("{line}\n").as_bytes())?;
        Ok(())
    }

    /// Puts back every moved file still in the work directory, last moved first; returns
    /// those that could not be.
    fn put_back(&self) -> Vec<Unrestored> {
        self.moved
            .iter()
            .rev()
            .filter_map(|(source, staged)| put_back(staged, source))
            .collect()
    }
}

/// Puts `staged` back at `source` unless it is no longer there (it entered the tree, or
/// was never moved). Never replaces what now has the path `source`.
fn put_back(staged: &Utf8Path, source: &Utf8Path) -> Option<Unrestored> {
    let missing = |p: &Utf8Path| matches!(std::fs::symlink_metadata(p), Err(e) if e.kind() == io::ErrorKind::NotFound);
    if missing(staged) {
        return None;
    }
    if berth_model::store::same_file(staged, source) {
        // Put back already (by an add killed before it removed the second name).
        let _ = std::fs::remove_file(staged);
        return None;
    }
    // link(2) refuses to replace an existing path; where hard links are not supported, a
    // rename after checking that the path is free.
    let done = match std::fs::hard_link(staged, source) {
        Ok(()) => {
            // A leftover second name in the work directory goes with the directory.
            let _ = std::fs::remove_file(staged);
            Ok(())
        }
        Err(e) if e.kind() == io::ErrorKind::AlreadyExists => Err(io::Error::new(
            e.kind(),
            "something else has taken that path since",
        )),
        Err(_) if missing(source) => std::fs::rename(staged, source).map_err(|r| {
            if r.kind() == io::ErrorKind::NotFound {
                io::Error::new(r.kind(), "its directory is gone")
            } else {
                r
            }
        }),
        Err(e) => Err(e),
    };
    done.err().map(|e| Unrestored {
        source: source.to_owned(),
        kept_at: staged.to_owned(),
        reason: e.to_string(),
    })
}

/// Puts back the files a killed add had moved into `work` (its journal); returns those
/// that could not be.
fn put_back_journal(work: &Utf8Path) -> Vec<Unrestored> {
    let Ok(text) = fs_err::read_to_string(work.join(MOVE_JOURNAL)) else {
        return Vec::new();
    };
    text.lines()
        // A line cut short by the kill was never followed by its rename.
        .filter_map(|l| serde_json::from_str::<[Utf8PathBuf; 2]>(l).ok())
        .collect::<Vec<_>>()
        .iter()
        .rev()
        .filter_map(|[source, rel]| put_back(&work.join(rel), source))
        .collect()
}

fn stage_docker(
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

/// fsyncs every directory below `dir` (artifacts are fsynced when read: the copy, or a
/// moved file in place).
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

/// Removes work directories of adds whose process died (no process holds their `.alive`
/// lock), after putting back the files they had moved in; a directory holding files that
/// cannot go back is kept. `keep` is the caller's own work directory. Called under the
/// writer lock.
fn sweep_stale(repo: &Repository, keep: Option<&Utf8Path>) {
    let Some(root) = repo.store().local_root() else {
        return;
    };
    let tmp_root = root.join(berth_model::store::TMP_DIR);
    let Ok(entries) = repo
        .store()
        .list(Utf8Path::new(berth_model::store::TMP_DIR))
    else {
        return;
    };
    for e in entries {
        if !e.is_dir || !e.name.starts_with("add-") {
            continue;
        }
        let dir = tmp_root.join(&e.name);
        if Some(dir.as_path()) == keep || !WorkDir::is_abandoned(&dir) {
            continue;
        }
        // Files a killed `--move` had taken go back first.
        if put_back_journal(&dir).is_empty() {
            let _ = std::fs::remove_dir_all(dir.as_std_path());
        }
    }
}

/// The ledger of files handed over by `add --move`: `.berth/moved/<sha256 of the source
/// path>.json` holding the source and where it went in the tree. A retry of an add that was
/// killed after its files entered the tree finds them through it. Entries older than a week
/// are pruned.
mod ledger {
    use std::collections::BTreeMap;

    use berth_model::{Repository, Sha256Digest, StoreLock};
    use camino::{Utf8Path, Utf8PathBuf};
    use serde::{Deserialize, Serialize};

    use super::AddRequest;

    const DIR: &str = ".berth/moved";
    const KEEP_SECS: u64 = 7 * 24 * 3600;

    #[derive(Serialize, Deserialize)]
    struct Entry {
        source: Utf8PathBuf,
        target: Utf8PathBuf,
        at: u64,
    }

    fn now() -> u64 {
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.as_secs())
    }

    fn file_of(source: &Utf8Path) -> Utf8PathBuf {
        Utf8Path::new(DIR).join(format!(
            "{}.json",
            Sha256Digest::of(source.as_str().as_bytes()).hex()
        ))
    }

    /// Records where the moved files (source, staged absolute path below `staged_root`) go:
    /// `version_rel` in the tree. Best effort: a ledger that cannot be written only costs a
    /// retry its shortcut.
    pub(super) fn record(
        repo: &Repository,
        lock: &StoreLock,
        moved: &[(Utf8PathBuf, Utf8PathBuf)],
        staged_root: &Utf8Path,
        version_rel: &Utf8Path,
    ) {
        prune(repo, lock);
        for (source, staged) in moved {
            let Ok(tail) = staged.strip_prefix(staged_root) else {
                continue;
            };
            let e = Entry {
                source: source.clone(),
                target: version_rel.join(tail),
                at: now(),
            };
            if let Ok(bytes) = serde_json::to_vec(&e) {
                let _ = repo.store().write_atomic(lock, &file_of(source), &bytes);
            }
        }
    }

    /// The sources of `req` that no longer exist and that the ledger says were handed over
    /// into files that are still stored (regular files of the tree): source → stored file.
    pub(super) fn handed_over(
        repo: &Repository,
        req: &AddRequest,
    ) -> BTreeMap<Utf8PathBuf, Utf8PathBuf> {
        let mut out = BTreeMap::new();
        let sources = req.docker.iter().chain(&req.debs).chain(&req.generic);
        for src in sources {
            if std::fs::symlink_metadata(src).is_ok() {
                continue;
            }
            let Ok(abs) = std::path::absolute(src) else {
                continue;
            };
            let Ok(abs) = Utf8PathBuf::try_from(abs) else {
                continue;
            };
            let Some(e) = repo
                .store()
                .read(&file_of(&abs), 1 << 16)
                .ok()
                .and_then(|b| serde_json::from_slice::<Entry>(&b).ok())
            else {
                continue;
            };
            let stored = matches!(
                repo.store().stat(&e.target),
                Ok(Some(m)) if m.kind == berth_model::store::EntryKind::File
            );
            if e.source == abs && stored {
                out.insert(src.clone(), repo.path(&e.target));
            }
        }
        out
    }

    fn prune(repo: &Repository, lock: &StoreLock) {
        let Ok(entries) = repo.store().list(Utf8Path::new(DIR)) else {
            return;
        };
        let cutoff = now().saturating_sub(KEEP_SECS);
        for e in entries {
            let rel = Utf8Path::new(DIR).join(&e.name);
            let old = repo
                .store()
                .read(&rel, 1 << 16)
                .ok()
                .and_then(|b| serde_json::from_slice::<Entry>(&b).ok())
                .is_none_or(|x| x.at < cutoff);
            if old {
                let _ = repo.store().remove(lock, &rel);
            }
        }
    }
}

/// The built_at of a manifest as a timestamp, when valid (for callers that report it).
pub fn built_at(m: &Manifest) -> Option<Timestamp> {
    m.built_at.as_ref().and_then(|b| b.get().copied())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn dir() -> (tempfile::TempDir, Utf8PathBuf) {
        let t = tempfile::tempdir().expect("tempdir");
        let p = Utf8PathBuf::from_path_buf(t.path().to_path_buf()).expect("utf-8");
        (t, p)
    }

    #[test]
    fn put_back_restores_and_never_replaces() {
        let (_t, d) = dir();
        let (src, staged) = (d.join("src"), d.join("staged"));
        fs_err::write(&staged, b"moved").expect("write");
        assert_eq!(put_back(&staged, &src), None);
        assert_eq!(fs_err::read(&src).expect("back"), b"moved");
        assert!(!staged.exists());
        // Nothing to do when the file is no longer staged (it entered the tree).
        assert_eq!(put_back(&staged, &src), None);

        // The producer wrote a new file at the old path: it is kept, and so is ours.
        fs_err::write(&staged, b"ours").expect("write");
        fs_err::write(&src, b"theirs").expect("write");
        let u = put_back(&staged, &src).expect("not restored");
        assert_eq!(
            (u.source.as_path(), u.kept_at.as_path()),
            (src.as_path(), staged.as_path())
        );
        assert_eq!(fs_err::read(&src).expect("theirs"), b"theirs");
        assert_eq!(fs_err::read(&staged).expect("ours"), b"ours");

        // Already put back by an add killed before it removed the second name.
        fs_err::remove_file(&src).expect("rm");
        fs_err::hard_link(&staged, &src).expect("link");
        assert_eq!(put_back(&staged, &src), None);
        assert!(!staged.exists());
        assert_eq!(fs_err::read(&src).expect("back"), b"ours");

        // The source's directory is gone.
        fs_err::write(&staged, b"x").expect("write");
        let u = put_back(&staged, &d.join("gone/src")).expect("not restored");
        assert!(u.reason.contains("directory is gone"), "{}", u.reason);
    }

    #[test]
    fn the_journal_puts_back_what_a_killed_add_moved() {
        let (_t, d) = dir();
        let work = d.join("add-1-x");
        fs_err::create_dir_all(work.join("version/generic")).expect("mkdir");
        let mut m = Mover {
            handed_over: BTreeMap::new(),
            transfer: Transfer::Move,
            work: work.clone(),
            moved: Vec::new(),
            copied: Vec::new(),
        };
        let src = d.join("build/out.bin");
        fs_err::create_dir_all(d.join("build")).expect("mkdir");
        fs_err::write(&src, b"artifact").expect("write");
        let staged = work.join("version/generic/out.bin");
        assert_eq!(m.move_in(&src, &staged).expect("move"), None);
        assert!(!src.exists() && staged.exists());
        // A half-written last line (the kill came before its rename) is ignored.
        let mut j = fs_err::read_to_string(work.join(MOVE_JOURNAL)).expect("journal");
        j.push_str("[\"/nowhere");
        fs_err::write(work.join(MOVE_JOURNAL), j).expect("write");
        assert_eq!(put_back_journal(&work), Vec::new());
        assert_eq!(fs_err::read(&src).expect("back"), b"artifact");
    }
}
