//! "What is the latest version of X?", answered from `index/components.yaml` alone.
//!
//! Every deploy job asks this, so [`latest_in_file`] reads one file and nothing else: no
//! `berth.toml`, no walk of the tree. A file in the canonical form `berth index` writes is
//! read by a strict line scanner; anything else (hand-edited, comments, quoting) goes
//! through the full YAML loader, which gives the same answer or a positioned error.

use std::io;

use berth_model::store::{Limits, Store as _, StoreError};
use berth_model::{ComponentEntry, ComponentPath, ComponentsIndex, Layout, Version};
use camino::{Utf8Path, Utf8PathBuf};

use crate::{IndexError, Result};

/// The latest version of `name` (a full component path, or its last segment when that
/// is unique) in `index`.
///
/// ```
/// use berth_model::ComponentsIndex;
/// let index: ComponentsIndex = berth_model::yaml::from_str(
///     camino::Utf8Path::new("index/components.yaml"),
///     "components:\n  - name: cloud/dmp/ms-ingestion\n    latest_version: 1.0.2\n",
/// )?.value;
/// assert_eq!(berth_index::latest(&index, "ms-ingestion")?.to_string(), "1.0.2");
/// let e = berth_index::latest(&index, "cloud/dmp/ms-ingestoin").unwrap_err();
/// assert!(e.is_negative());
/// assert!(e.to_string().contains("did you mean `cloud/dmp/ms-ingestion`"), "{e}");
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub fn latest<'i>(index: &'i ComponentsIndex, name: &str) -> Result<&'i Version> {
    latest_entry(index, name).map(|e| &e.latest_version)
}

/// The row of `name` (a full path, or a unique last segment) in `index`.
pub fn latest_entry<'i>(index: &'i ComponentsIndex, name: &str) -> Result<&'i ComponentEntry> {
    let exact = index
        .components
        .binary_search_by(|e| e.name.as_str().cmp(name))
        .ok()
        .map(|i| &index.components[i])
        .or_else(|| index.components.iter().find(|e| e.name.as_str() == name));
    if let Some(e) = exact {
        return Ok(e);
    }
    let by_last: Vec<_> = index
        .components
        .iter()
        .filter(|e| e.name.name() == name)
        .collect();
    match by_last.as_slice() {
        [one] => Ok(one),
        [] => Err(IndexError::UnknownComponent {
            name: name.to_owned(),
            file: Layout::components_index(),
            hint: crate::did_you_mean(name, index.components.iter().map(|e| e.name.as_str())),
        }),
        many => Err(IndexError::AmbiguousComponent {
            name: name.to_owned(),
            candidates: many.iter().map(|e| e.name.to_string()).collect(),
        }),
    }
}

/// [`latest`] over the text of an index file (`file` is used in messages). Canonical
/// text takes the fast path; anything else is parsed in full.
pub fn latest_in_text(file: &Utf8Path, text: &str, name: &str) -> Result<Version> {
    lookup(file, text, name).map(|(_, v)| v)
}

fn lookup(file: &Utf8Path, text: &str, name: &str) -> Result<(ComponentPath, Version)> {
    if let Some(v) = scan_canonical(text, name)
        && let Ok(c) = ComponentPath::parse(name)
    {
        return Ok((c, v));
    }
    let index = berth_model::yaml::from_str::<ComponentsIndex>(file, text)?.value;
    let e = latest_entry(&index, name)?;
    Ok((e.name.clone(), e.latest_version.clone()))
}

/// [`latest`] from an index file on disk, reading nothing else.
///
/// ```
/// # fn main() -> Result<(), Box<dyn std::error::Error>> {
/// let root = camino::Utf8Path::new(concat!(env!("CARGO_MANIFEST_DIR"), "/../../examples/repo"));
/// let v = berth_index::latest_in_file(&root.join("index/components.yaml"), "cloud/dmp/ms-export")?;
/// assert_eq!(v.to_string(), "3.2.0");
/// # Ok(()) }
/// ```
pub fn latest_in_file(path: &Utf8Path, name: &str) -> Result<Version> {
    let bytes = match berth_model::store::read_regular(path, Limits::DEFAULT.index_bytes) {
        Ok(b) => b,
        Err(e) if e.is_not_found() => {
            return Err(IndexError::NoIndex {
                path: path.to_owned(),
            });
        }
        Err(e) => return Err(e.into()),
    };
    latest_in_bytes(path, &bytes, name).map(|(_, v)| v)
}

fn latest_in_bytes(path: &Utf8Path, bytes: &[u8], name: &str) -> Result<(ComponentPath, Version)> {
    match std::str::from_utf8(bytes) {
        Ok(text) => lookup(path, text.strip_prefix('\u{feff}').unwrap_or(text), name),
        // Let the YAML loader say where the bad byte is.
        Err(_) => {
            let index = berth_model::yaml::from_slice::<ComponentsIndex>(path, bytes)?.value;
            let e = latest_entry(&index, name)?;
            Ok((e.name.clone(), e.latest_version.clone()))
        }
    }
}

/// What a deploy job asks: the latest version of `name` from the repository at `root`,
/// reading `index/components.yaml` (through the store: no symbolic link followed, size
/// limited) and checking, with one `stat`, that the version's directory exists. A
/// version named by a stale or hand-edited index is an error, never an answer.
pub fn latest_checked(root: &Utf8Path, name: &str) -> Result<(ComponentPath, Version)> {
    let store = berth_model::LocalStore::new(root).map_err(|source| IndexError::Io {
        path: root.to_owned(),
        source,
    })?;
    let rel = Layout::components_index();
    let bytes = match store.read(&rel, Limits::DEFAULT.index_bytes) {
        Ok(b) => b,
        Err(e) if e.is_not_found() => {
            return Err(IndexError::NoIndex {
                path: root.join(&rel),
            });
        }
        // A bigger index than the default limit: the repository's own limit decides.
        Err(StoreError::TooLarge { .. }) => {
            let repo = berth_model::Repository::open(root)?;
            repo.read_bytes(&rel)?
        }
        Err(e) => return Err(e.into()),
    };
    let (c, v) = latest_in_bytes(&root.join(&rel), &bytes, name)?;
    let dir = Layout::version_dir(&c, &v);
    match store.stat(&dir)? {
        Some(m) if m.kind == berth_model::store::EntryKind::Dir => Ok((c, v)),
        _ => Err(IndexError::MissingVersion {
            file: rel,
            component: c.to_string(),
            version: v.to_string(),
            dir,
        }),
    }
}

/// The root of the repository a command means, without reading `berth.toml`: `explicit`
/// (`--repo`), else `$BERTH_REPO`, else the nearest directory at or above the working
/// directory that holds `berth.toml`.
pub fn find_root(explicit: Option<&Utf8Path>) -> Result<Utf8PathBuf> {
    if let Some(p) = explicit {
        return Ok(p.to_owned());
    }
    if let Ok(p) = std::env::var(berth_model::repo::REPO_ENV)
        && !p.is_empty()
    {
        return Ok(Utf8PathBuf::from(p));
    }
    let cwd = std::env::current_dir().map_err(|source| IndexError::Io {
        path: ".".into(),
        source,
    })?;
    let cwd = Utf8PathBuf::from_path_buf(cwd).map_err(|p| IndexError::Io {
        path: Utf8PathBuf::from(p.to_string_lossy().into_owned()),
        source: io::Error::new(
            io::ErrorKind::InvalidInput,
            "the working directory is not UTF-8",
        ),
    })?;
    let mut dir: Option<&Utf8Path> = Some(&cwd);
    while let Some(d) = dir {
        if d.join(berth_model::layout::CONFIG_FILE).is_file() {
            return Ok(d.to_owned());
        }
        dir = d.parent();
    }
    Err(IndexError::NotARepository { start: cwd })
}

/// The fast path: a strict scanner for exactly the bytes `berth index` writes
/// (`components:` then `  - name: …` / `    latest_version: …` pairs, names strictly
/// ascending, values made of characters that YAML can only read as themselves). Returns
/// the version when `name` is found in such a file; `None` sends the caller to the full
/// loader (not canonical, not found, or not a valid version).
/// The whole index from canonical text (the form [`crate::render`] writes): `None` for
/// anything else, which the YAML loader reads instead.
pub(crate) fn parse_canonical(text: &str) -> Option<ComponentsIndex> {
    fn simple(s: &str) -> bool {
        !s.is_empty()
            && s.bytes()
                .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'_' | b'-' | b'/' | b'+'))
            && s.bytes().next().is_some_and(|b| b.is_ascii_alphanumeric())
    }
    if text == "components: []\n" {
        return Some(ComponentsIndex::default());
    }
    let mut lines = text.split_terminator('\n');
    if lines.next()? != "components:" || !text.ends_with('\n') {
        return None;
    }
    let mut rows: Vec<ComponentEntry> = Vec::new();
    while let Some(first) = lines.next() {
        let n = first.strip_prefix("  - name: ")?;
        let v = lines.next()?.strip_prefix("    latest_version: ")?;
        if !simple(n) || !simple(v) || rows.last().is_some_and(|p| p.name.as_str() >= n) {
            return None;
        }
        rows.push(ComponentEntry {
            name: ComponentPath::parse(n).ok()?,
            latest_version: Version::parse(v).ok()?,
        });
    }
    Some(ComponentsIndex { components: rows })
}

fn scan_canonical(text: &str, name: &str) -> Option<Version> {
    fn simple(s: &str) -> bool {
        !s.is_empty()
            && s.bytes()
                .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'_' | b'-' | b'/' | b'+'))
            && s.bytes().next().is_some_and(|b| b.is_ascii_alphanumeric())
    }
    let mut lines = text.split_terminator('\n');
    if lines.next()? != "components:" || !text.ends_with('\n') {
        return None;
    }
    let mut found = None;
    let mut prev: Option<&str> = None;
    while let Some(first) = lines.next() {
        let n = first.strip_prefix("  - name: ")?;
        let v = lines.next()?.strip_prefix("    latest_version: ")?;
        if !simple(n) || !simple(v) || prev.is_some_and(|p| p >= n) {
            return None;
        }
        prev = Some(n);
        if n == name {
            found = Some(v);
        }
    }
    Version::parse(found?).ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    const CANON: &str = "components:\n  - name: a/b\n    latest_version: 1.0.0\n  - name: a/c\n    latest_version: 2.0.0-rc.1+b.5\n";

    #[test]
    fn fast_path_takes_canonical_text_only() {
        assert_eq!(
            scan_canonical(CANON, "a/c")
                .map(|v| v.to_string())
                .as_deref(),
            Some("2.0.0-rc.1+b.5")
        );
        assert!(scan_canonical(CANON, "a/x").is_none());
        // Comments, quoting, unsorted rows and a missing final newline fall back.
        for odd in [
            "# hi\ncomponents:\n  - name: a/b\n    latest_version: 1.0.0\n",
            "components:\n  - name: \"a/b\"\n    latest_version: 1.0.0\n",
            "components:\n  - name: a/c\n    latest_version: 1.0.0\n  - name: a/b\n    latest_version: 1.0.0\n",
            "components:\n  - name: a/b\n    latest_version: 1.0.0",
        ] {
            assert!(scan_canonical(odd, "a/b").is_none(), "{odd}");
            // … and the full loader still answers (or names the problem).
            let full = latest_in_text(Utf8Path::new("i.yaml"), odd, "a/b");
            assert_eq!(
                full.map(|v| v.to_string()).ok().as_deref(),
                Some("1.0.0"),
                "{odd}"
            );
        }
    }

    #[test]
    fn broken_index_names_file_and_line() {
        let e = latest_in_text(
            Utf8Path::new("index/components.yaml"),
            "components:\n  - name: [\n",
            "a/b",
        )
        .expect_err("broken");
        assert!(e.to_string().starts_with("index/components.yaml:"), "{e}");
        assert!(!e.is_negative());
    }
}
