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

use berth_formats::FormatError;
use berth_model::checks::{self, Problem};
use berth_model::journal::Intent;
use berth_model::repo::load_metadata_limited;
use berth_model::store::WorkDir;
use berth_model::{
    ComponentPath, Finding, Format, Layout, Manifest, Metadata, Repository, Timestamp, Verdict,
    Version, yaml,
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
    /// A format added to a version a stage has run: promoted versions are frozen.
    #[error("{0}")]
    Frozen(Box<Frozen>),
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

mod ledger;
mod mover;
mod stage;

pub use berth_formats::derive::set_digest;

use mover::{Mover, sweep_stale};
use stage::{stage_debs, stage_docker, stage_generic, sync_tree, write_new};

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
    // 1. Read every artifact once, copying or moving it into the work directory (no lock
    //    needed: nothing in the tree changes yet).
    let staged = stage_all(req, work, mover, progress)?;

    // 2. Under the lock: finish what killed writers left, decide, check, move into place,
    //    update the index.
    let lock = repo.lock()?;
    sweep_stale(repo, Some(&work.abs));
    berth_index::recover(repo, &lock, verdict)?;
    let (c, v) = (&req.component, &req.version);
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
    if version_exists {
        frozen(repo, c, v, &staged)?;
    }
    let (metadata, metadata_text, metadata_file) = resolve_metadata(repo, req, version_exists)?;
    check_metadata(repo, c, &metadata, metadata_file, &staged)?;
    let mut outcome = AddOutcome {
        component: c.clone(),
        version: v.clone(),
        formats: Vec::new(),
        metadata_written: false,
        latest_change: None,
        copied: Vec::new(),
        findings: Vec::new(),
    };
    let to_move = new_formats(repo, c, v, staged, &mut outcome)?;

    // Every path this add writes is checked before the first change, so a refusal (a link
    // where `index/` should be) leaves the tree as it was.
    let meta_rel = Layout::metadata_path(c, v);
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
    let new_version = work.abs.join("version");
    ledger::record(repo, &lock, &mover.moved, &new_version, &version_rel);
    let commit = Commit {
        repo,
        lock: &lock,
        staged_rel: work.rel.join("version"),
        staged_abs: new_version,
        version_rel,
    };
    outcome.metadata_written = if version_exists {
        commit.extend_existing(&meta_rel, &metadata_text, &to_move)?
    } else {
        commit.new_version(&metadata_text)?
    };
    for (s, _) in to_move {
        outcome
            .formats
            .push((s.format, FormatStatus::Added, s.manifest));
    }
    outcome.formats.sort_by(|a, b| a.0.cmp(&b.0));

    // 3. The component's row of the index, with the same code as `berth index`.
    update_index(repo, &lock, verdict, &mut outcome)?;
    repo.journal_done(&lock, &pending)?;
    Ok(outcome)
}

/// Every format of the request, staged in `<work>/version/<format>/`: for a new version
/// that directory is renamed into the tree as a whole, with metadata.yaml.
fn stage_all(
    req: &AddRequest,
    work: &WorkDir,
    mover: &mut Mover,
    progress: ProgressFn<'_>,
) -> Result<Vec<stage::Staged>, AddError> {
    let new_version = work.abs.join("version");
    fs_err::create_dir_all(&new_version)?;
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
    Ok(staged)
}

/// The metadata against the path, the config and the artifacts: the add is refused with
/// every problem at once.
fn check_metadata(
    repo: &Repository,
    c: &ComponentPath,
    metadata: &Metadata,
    file: Utf8PathBuf,
    staged: &[stage::Staged],
) -> Result<(), AddError> {
    let mut problems = checks::name_mismatch(metadata, c);
    problems.extend(checks::invalid_values(metadata));
    problems.extend(checks::against_config(metadata, repo.config()));
    problems.extend(checks::unknown_keys(metadata));
    for s in staged {
        problems.extend(checks::arch_mismatch(
            metadata,
            repo.config(),
            &s.archs,
            s.what,
        ));
    }
    if problems.is_empty() {
        Ok(())
    } else {
        Err(AddError::Metadata { file, problems })
    }
}

/// Which staged formats are new (with where each goes); identical retries are noted in
/// `outcome`, different bytes for a stored format refuse the add.
fn new_formats(
    repo: &Repository,
    c: &ComponentPath,
    v: &Version,
    staged: Vec<stage::Staged>,
    outcome: &mut AddOutcome,
) -> Result<Vec<(stage::Staged, Utf8PathBuf)>, AddError> {
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
    Ok(to_move)
}

/// A version a stage has run, and the formats that were to be added to it.
#[derive(Debug, thiserror::Error)]
#[error(
    "{component} {version} has run in {stage} ({evidence}): a promoted version is frozen, no format can be added to it; publish a new version with all its formats"
)]
pub struct Frozen {
    /// The component.
    pub component: ComponentPath,
    /// The version.
    pub version: Version,
    /// The stage that ran it.
    pub stage: String,
    /// The audit record (or domain file) that says so.
    pub evidence: Utf8PathBuf,
    /// The formats that were to be added.
    pub formats: Vec<Format>,
}

/// Refuses a new format for a version a stage has run (identical bytes of an existing
/// format are not new: a retried job still succeeds).
fn frozen(
    repo: &Repository,
    c: &ComponentPath,
    v: &Version,
    staged: &[stage::Staged],
) -> Result<(), AddError> {
    let new: Vec<Format> = staged
        .iter()
        .filter(|s| !repo.store().exists(&Layout::format_dir(c, v, &s.format)))
        .map(|s| s.format.clone())
        .collect();
    if new.is_empty() {
        return Ok(());
    }
    match berth_model::stage::ran_by(repo, c, v)? {
        Some((stage, evidence)) => Err(AddError::Frozen(Box::new(Frozen {
            component: c.clone(),
            version: v.clone(),
            stage: stage.to_string(),
            evidence,
            formats: new,
        }))),
        None => Ok(()),
    }
}

/// Moving staged files into the tree, under the lock.
struct Commit<'a> {
    repo: &'a Repository,
    lock: &'a berth_model::StoreLock,
    /// The staged version directory, relative to the root and absolute.
    staged_rel: Utf8PathBuf,
    staged_abs: Utf8PathBuf,
    /// Where the version goes.
    version_rel: Utf8PathBuf,
}

impl Commit<'_> {
    /// A new version: metadata and formats in one directory, one rename. Returns true (the
    /// metadata was written).
    fn new_version(&self, metadata_text: &str) -> Result<bool, AddError> {
        write_new(
            &self.staged_abs.join("metadata.yaml"),
            metadata_text.as_bytes(),
        )?;
        sync_tree(&self.staged_abs)?;
        self.repo
            .store()
            .rename(self.lock, &self.staged_rel, &self.version_rel, false)?;
        Ok(true)
    }

    /// New formats of an existing version, each renamed into place (and its metadata when
    /// it had none). Returns true when the metadata was written.
    fn extend_existing(
        &self,
        meta_rel: &Utf8Path,
        metadata_text: &str,
        to_move: &[(stage::Staged, Utf8PathBuf)],
    ) -> Result<bool, AddError> {
        let mut written = false;
        if !self.repo.store().exists(meta_rel) {
            self.repo
                .store()
                .create_new(self.lock, meta_rel, metadata_text.as_bytes())?;
            written = true;
        }
        for (s, target) in to_move {
            sync_tree(&s.dir)?;
            let staged_rel = self.staged_rel.join(s.format.as_str());
            self.repo
                .store()
                .rename(self.lock, &staged_rel, target, false)?;
        }
        Ok(written)
    }
}

/// The component's row of the index (and those of components waiting on it), and what
/// keeps the version from being latest when it is not.
fn update_index(
    repo: &Repository,
    lock: &berth_model::StoreLock,
    verdict: &dyn Verdict,
    outcome: &mut AddOutcome,
) -> Result<(), AddError> {
    let (c, v) = (&outcome.component, &outcome.version);
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
        berth_index::write(repo, lock, &index)?;
    }
    if index.latest(c.as_str()) != Some(v) {
        outcome.findings = verdict.findings(c, v)?;
    }
    Ok(())
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

/// The built_at of a manifest as a timestamp, when valid (for callers that report it).
pub fn built_at(m: &Manifest) -> Option<Timestamp> {
    m.built_at.as_ref().and_then(|b| b.get().copied())
}
