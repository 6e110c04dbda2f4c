//! The component catalog: which directories below `components/` are components, kept in
//! `.berth/cache/components.bin` (berth's private state, never committed) so that a command
//! that needs every component's name (resolving `common-utils` in a dependency) does not
//! list ten thousand directories each time.
//!
//! The catalog records every *group* directory walked (those above components) with its
//! size, mtime, ctime and inode. A component is added, removed or renamed only by a change
//! to the directory that holds it, which changes that directory's mtime: so when every
//! recorded group directory is unchanged, the list is. One `stat` per group directory
//! checks it; any change walks the tree again. A catalog that cannot be read or written is
//! walked around.

use camino::Utf8Path;
use serde::{Deserialize, Serialize};

use crate::ids::ComponentPath;
use crate::layout;
use crate::repo::{Repository, Result};

const FILE: &str = ".berth/cache/components.bin";
const FORMAT: u32 = 1;
const LIMIT: u64 = 256 << 20;

#[derive(Debug, Default, Serialize, Deserialize)]
struct Catalog {
    format: u32,
    /// Group directories (relative to `components/`, `""` for it) and their change keys.
    groups: Groups,
    /// The components, sorted.
    components: Vec<String>,
}

/// Every component of `repo`, sorted, from the catalog when it is current.
pub(crate) fn components(repo: &Repository) -> Result<Vec<ComponentPath>> {
    if let Some(c) = current(repo) {
        return Ok(c);
    }
    let (components, groups) = walk(repo)?;
    let catalog = Catalog {
        format: FORMAT,
        groups,
        components: components.iter().map(ToString::to_string).collect(),
    };
    if let Ok(bytes) = postcard::to_allocvec(&catalog) {
        let _ = repo.store().write_private(Utf8Path::new(FILE), &bytes);
    }
    Ok(components)
}

fn key_of(repo: &Repository, group: &str) -> Option<String> {
    let dir = Utf8Path::new(layout::COMPONENTS_DIR).join(group);
    match repo.store().stat(&dir) {
        Ok(Some(m)) if m.kind == crate::store::EntryKind::Dir => Some(m.change_key()),
        _ => None,
    }
}

/// The catalog's components, when every group directory it saw is unchanged.
fn current(repo: &Repository) -> Option<Vec<ComponentPath>> {
    let bytes = repo.store().read(Utf8Path::new(FILE), LIMIT).ok()?;
    let cat: Catalog = postcard::from_bytes(&bytes).ok()?;
    if cat.format != FORMAT || cat.groups.is_empty() {
        return None;
    }
    for (g, key) in &cat.groups {
        if key_of(repo, g).as_ref() != Some(key) {
            return None;
        }
    }
    cat.components
        .iter()
        .map(|c| ComponentPath::parse(c).ok())
        .collect()
}

/// Walks `components/` down to the components: (components sorted, group directories
/// with their change keys).
/// Group directories (relative to `components/`) and their change keys.
type Groups = Vec<(String, String)>;

fn walk(repo: &Repository) -> Result<(Vec<ComponentPath>, Groups)> {
    let mut out = Vec::new();
    let mut groups = Vec::new();
    let mut stack = vec![String::new()];
    while let Some(rel) = stack.pop() {
        let dir = Utf8Path::new(layout::COMPONENTS_DIR).join(&rel);
        let entries = match repo.store().list(&dir) {
            Ok(e) => e,
            Err(e) if e.is_not_found() && rel.is_empty() => break,
            Err(e) => return Err(e.into()),
        };
        if entries
            .iter()
            .any(|e| e.is_dir && e.name == layout::VERSIONS_DIR)
        {
            if let Ok(c) = ComponentPath::parse(&rel) {
                out.push(c);
            }
            continue;
        }
        if let Some(k) = key_of(repo, &rel) {
            groups.push((rel.clone(), k));
        }
        for e in entries.iter().rev() {
            if e.is_dir && !e.name.starts_with('.') {
                stack.push(if rel.is_empty() {
                    e.name.clone()
                } else {
                    format!("{rel}/{}", e.name)
                });
            }
        }
    }
    out.sort();
    Ok((out, groups))
}
