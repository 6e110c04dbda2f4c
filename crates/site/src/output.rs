//! Writing a rendered site: only files whose bytes changed are rewritten (atomically: a
//! temporary file in the same directory, then a rename), files the site wrote before and
//! no longer has are removed, and nothing else in the directory is touched.
//!
//! The list of files the site wrote lives in [`MANIFEST`] in the output directory; only
//! paths listed there are ever removed. Files are created with mode 0666 less the umask,
//! like any Unix tool's output. They are not fsynced one by one: a crash leaves every
//! file either old or new, and the next run rewrites whatever differs.

use std::collections::BTreeSet;
use std::io::Write;
use std::os::unix::fs::PermissionsExt;

use camino::{Utf8Path, Utf8PathBuf};
use rayon::prelude::*;

use crate::{Page, Result, SiteError};

/// The file, in the output directory, that lists every file the site wrote.
pub const MANIFEST: &str = ".berth-site-files";

/// What writing a site did.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct WriteReport {
    /// Files written (new or changed), sorted.
    pub written: Vec<String>,
    /// Files left alone because their bytes were already right.
    pub unchanged: usize,
    /// Files of an earlier run that the site no longer has, removed, sorted.
    pub removed: Vec<String>,
}

/// Writes `pages` below `out`, incrementally. Refuses a directory that holds
/// `berth.toml` (a repository, not a site).
pub fn write_pages(out: &Utf8Path, pages: &[Page]) -> Result<WriteReport> {
    if out.join("berth.toml").exists() {
        return Err(SiteError::OutIsRepository {
            out: out.to_owned(),
        });
    }
    fs_err::create_dir_all(out).map_err(SiteError::io(out))?;
    let manifest_path = out.join(MANIFEST);
    let old: BTreeSet<String> = match fs_err::read_to_string(&manifest_path) {
        Ok(t) => t
            .lines()
            .filter(|l| safe_rel(l))
            .map(str::to_owned)
            .collect(),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => BTreeSet::new(),
        Err(e) => return Err(SiteError::io(&manifest_path)(e)),
    };

    let results: Vec<(String, bool)> = pages
        .par_iter()
        .map(|p| {
            let changed = write_if_changed(&out.join(&p.path), &p.bytes)?;
            Ok((p.path.clone(), changed))
        })
        .collect::<Result<_>>()?;
    let mut report = WriteReport::default();
    for (path, changed) in results {
        if changed {
            report.written.push(path);
        } else {
            report.unchanged += 1;
        }
    }
    report.written.sort();

    let new: BTreeSet<&str> = pages.iter().map(|p| p.path.as_str()).collect();
    for stale in old.iter().filter(|p| !new.contains(p.as_str())) {
        let path = out.join(stale);
        match fs_err::remove_file(&path) {
            Ok(()) => report.removed.push(stale.clone()),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
            Err(e) => return Err(SiteError::io(&path)(e)),
        }
        // Empty directories left behind go too (never the output directory itself).
        let mut dir = path.parent().map(Utf8Path::to_owned);
        while let Some(d) = dir {
            if d == out || !d.starts_with(out) || std::fs::remove_dir(&d).is_err() {
                break;
            }
            dir = d.parent().map(Utf8Path::to_owned);
        }
    }

    let mut listing = String::new();
    for p in &new {
        listing.push_str(p);
        listing.push('\n');
    }
    write_if_changed(&manifest_path, listing.as_bytes())?;
    Ok(report)
}

/// A path the manifest may name: relative, no `..`, no empty or dot segments.
fn safe_rel(p: &str) -> bool {
    !p.is_empty()
        && !p.starts_with('/')
        && p.split('/').all(|s| !s.is_empty() && s != "." && s != "..")
}

/// Writes `bytes` to `path` unless it already holds exactly them; true when written.
fn write_if_changed(path: &Utf8PathBuf, bytes: &[u8]) -> Result<bool> {
    if let Ok(meta) = std::fs::metadata(path)
        && meta.is_file()
        && meta.len() == bytes.len() as u64
        && std::fs::read(path).is_ok_and(|old| old == bytes)
    {
        return Ok(false);
    }
    let dir = path.parent().unwrap_or(Utf8Path::new("."));
    fs_err::create_dir_all(dir).map_err(SiteError::io(dir))?;
    let mut tmp = tempfile::Builder::new()
        .prefix(".tmp-berth-site-")
        .permissions(std::fs::Permissions::from_mode(0o666))
        .tempfile_in(dir)
        .map_err(SiteError::io(dir))?;
    tmp.write_all(bytes).map_err(SiteError::io(path))?;
    tmp.persist(path)
        .map_err(|e| SiteError::io(path)(e.error))?;
    Ok(true)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn page(path: &str, text: &str) -> Page {
        Page {
            path: path.to_owned(),
            bytes: text.as_bytes().to_vec(),
        }
    }

    #[test]
    fn writes_only_changes_removes_only_its_own_files() {
        let t = tempfile::tempdir().expect("tempdir");
        let out = Utf8PathBuf::from_path_buf(t.path().join("site")).expect("utf-8");
        fs_err::create_dir_all(&out).expect("mkdir");
        fs_err::write(out.join("CNAME"), "mine").expect("foreign file");
        let r = write_pages(
            &out,
            &[page("index.html", "a"), page("c/x/y/index.html", "b")],
        )
        .expect("first");
        assert_eq!(r.written, vec!["c/x/y/index.html", "index.html"]);
        let mode = fs_err::metadata(out.join("index.html"))
            .expect("meta")
            .permissions()
            .mode();
        assert_ne!(
            mode & 0o777,
            0o600,
            "files follow the umask, not tempfile's 0600"
        );
        let r = write_pages(&out, &[page("index.html", "a2")]).expect("second");
        assert_eq!(r.written, vec!["index.html"]);
        assert_eq!(r.removed, vec!["c/x/y/index.html"]);
        assert!(
            !out.join("c").exists(),
            "empty directories of removed pages go too"
        );
        assert!(
            out.join("CNAME").exists(),
            "files the site did not write stay"
        );
        let r = write_pages(&out, &[page("index.html", "a2")]).expect("third");
        assert!(r.written.is_empty() && r.removed.is_empty() && r.unchanged == 1);
        // No temporary file is left behind.
        let names: Vec<String> = fs_err::read_dir(&out)
            .expect("ls")
            .map(|e| e.expect("entry").file_name().to_string_lossy().into_owned())
            .collect();
        assert!(
            names.iter().all(|n| !n.starts_with(".tmp-berth-site-")),
            "{names:?}"
        );
    }

    #[test]
    fn a_repository_is_never_a_site() {
        let t = tempfile::tempdir().expect("tempdir");
        let out = Utf8PathBuf::from_path_buf(t.path().to_path_buf()).expect("utf-8");
        fs_err::write(out.join("berth.toml"), "").expect("write");
        let e = write_pages(&out, &[page("index.html", "a")]).expect_err("refused");
        assert!(e.to_string().contains("berth.toml"), "{e}");
        assert!(!out.join("index.html").exists());
    }

    #[test]
    fn the_manifest_never_leads_outside() {
        assert!(safe_rel("c/x/index.html"));
        assert!(!safe_rel("../etc/passwd"));
        assert!(!safe_rel("/etc/passwd"));
        assert!(!safe_rel("a//b"));
    }
}
