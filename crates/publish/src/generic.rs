//! `publish generic`: a plain tree of the generic files a stage runs.
//!
//! ```text
//! OUT/<component>/<version>/<files…>
//! OUT/<component>/<version>/SHA256SUMS     `sha256sum -c SHA256SUMS` checks them
//! OUT/.berth-publish-generic.json          what this directory publishes
//! ```
//!
//! Each version directory is built complete beside its final place and renamed into it,
//! so a client never sees it half-written; a version already published with the same
//! SHA256SUMS is left alone. Versions the stage no longer runs are removed afterwards.
//! Files are hard links into the repository where the filesystem allows, else copies.

use std::collections::BTreeSet;

use berth_model::{Format, Repository};
use camino::{Utf8Path, Utf8PathBuf};
use serde::{Deserialize, Serialize};

use crate::fsutil;
use crate::{Contents, PublishError, Result};

/// The state file in the output directory.
pub const STATE_FILE: &str = ".berth-publish-generic.json";
/// The checksum file in every version directory.
pub const SUMS_FILE: &str = "SHA256SUMS";

#[derive(Debug, Default, Serialize, Deserialize)]
struct State {
    #[serde(default)]
    stage: Option<String>,
    /// Version directories published, relative to the output directory.
    #[serde(default)]
    dirs: BTreeSet<String>,
}

/// What a publication did.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct GenericReport {
    /// The output directory.
    pub out: Utf8PathBuf,
    /// Version directories published (`cloud/dmp/ms-export/3.2.0`).
    pub versions: Vec<String>,
    /// Files published, over all versions.
    pub files: usize,
    /// Version directories written this time.
    pub written: usize,
    /// Version directories already up to date.
    pub kept: usize,
    /// Version directories removed (no longer run by the stage).
    pub removed: usize,
}

/// Publishes the stage's generic files into `out`.
pub fn publish(repo: &Repository, stage: &Contents, out: Utf8PathBuf) -> Result<GenericReport> {
    fs_err::create_dir_all(&out).map_err(PublishError::io(&out))?;
    let _lock = crate::apt::lock_dir(&out)?;
    let state_path = out.join(STATE_FILE);
    let mut state: State = std::fs::read(&state_path)
        .ok()
        .and_then(|b| serde_json::from_slice(&b).ok())
        .unwrap_or_default();
    let stage_name = stage.name();
    if let Some(other) = state.stage.as_deref().filter(|s| *s != stage_name) {
        return Err(PublishError::UnknownStage {
            detail: format!(
                "{out} holds the generic files of stage {other}; publish each stage into its own directory"
            ),
        });
    }
    let mut report = GenericReport {
        out: out.clone(),
        ..GenericReport::default()
    };
    let mut dirs = BTreeSet::new();
    for art in crate::artifacts(repo, stage, &Format::generic())? {
        let rel = format!("{}/{}", art.component, art.version);
        let mut files: Vec<(&str, String)> = Vec::new();
        for f in &art.manifest.files {
            if !is_relative_plain(&f.path) || f.path == SUMS_FILE {
                return Err(PublishError::BadManifest {
                    manifest: art.manifest_path.clone(),
                    detail: format!(
                        "`{}` cannot be published as a generic file (a plain relative path other than {SUMS_FILE} is needed)",
                        f.path
                    ),
                });
            }
            let sha = f.sha256.get().ok_or_else(|| PublishError::BadManifest {
                manifest: art.manifest_path.clone(),
                detail: format!("the sha256 of {} is not valid", f.path),
            })?;
            files.push((f.path.as_str(), sha.hex()));
        }
        files.sort();
        let sums: String = files.iter().map(|(p, h)| format!("{h}  {p}\n")).collect();
        let dir = out.join(&rel);
        let up_to_date = std::fs::read_to_string(dir.join(SUMS_FILE)).is_ok_and(|s| s == sums)
            && art
                .manifest
                .files
                .iter()
                .all(|f| std::fs::metadata(dir.join(&f.path)).is_ok_and(|m| m.len() == f.size));
        if up_to_date {
            report.kept += 1;
        } else {
            let tmp = fsutil::temp_beside(&dir, "version-new");
            let built = (|| -> Result<()> {
                for f in &art.manifest.files {
                    fsutil::link_or_copy(repo.store(), &art.dir.join(&f.path), &tmp.join(&f.path))?;
                }
                fsutil::write_new(&tmp.join(SUMS_FILE), sums.as_bytes())
            })();
            if let Err(e) = built.and_then(|()| fsutil::swap_dir(&tmp, &dir)) {
                let _ = std::fs::remove_dir_all(&tmp);
                return Err(e);
            }
            report.written += 1;
        }
        report.files += files.len();
        report.versions.push(rel.clone());
        dirs.insert(rel);
    }
    for gone in state.dirs.difference(&dirs) {
        let dir = out.join(gone);
        if !is_relative_plain(gone) {
            continue;
        }
        match fs_err::remove_dir_all(&dir) {
            Ok(()) => report.removed += 1,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
            Err(e) => return Err(PublishError::io(&dir)(e)),
        }
        if let Some(parent) = dir.parent() {
            fsutil::remove_empty_dirs(parent, &out);
        }
    }
    state.stage = Some(stage_name);
    state.dirs = dirs;
    let bytes = serde_json::to_vec_pretty(&state).map_err(|e| PublishError::Io {
        path: state_path.clone(),
        source: std::io::Error::other(e),
    })?;
    berth_model::store::atomic_write(&state_path, &bytes, true)
        .map_err(PublishError::io(&state_path))?;
    Ok(report)
}

/// A relative path of plain segments (no `..`, `.`, empty or hidden-at-top segments).
fn is_relative_plain(p: &str) -> bool {
    let path = Utf8Path::new(p);
    !p.is_empty()
        && !path.is_absolute()
        && !p.starts_with('.')
        && p.split('/').all(|s| !s.is_empty() && s != "." && s != "..")
}
