//! `--verify-artifacts`: every artifact read again with berth-formats' readers, and the
//! hash cache that lets a re-run skip bytes that did not change.
//!
//! The cache is keyed by (absolute path, size, modification time, inode), so any write to
//! a file (or a file replaced by another) misses. It lives outside the tree:
//! `$BERTH_CACHE_DIR`, else `$XDG_CACHE_HOME/berth`, else `~/.cache/berth`, in one JSON
//! file written atomically. A cache that cannot be read or written is ignored.

use std::collections::{BTreeMap, HashMap, HashSet};
use std::sync::Mutex;
use std::sync::atomic::{AtomicUsize, Ordering};

use berth_model::store::Meta;
use berth_model::{Arch, Format, Repository, Sha256Digest, Timestamp};
use camino::{Utf8Path, Utf8PathBuf};
use serde::{Deserialize, Serialize};

use crate::view::FormatEntry;

/// Size and SHA-256 of one file, as read now.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct FileFact {
    /// Bytes.
    pub size: u64,
    /// SHA-256 of the content.
    pub sha256: Sha256Digest,
}

/// What an image archive says about itself.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ImageFacts {
    /// The digest `manifest.yaml`'s `sha256` must hold (OCI: manifest or index digest;
    /// docker-save: the image ID).
    pub digest: Sha256Digest,
    /// The config digest.
    pub image_id: Sha256Digest,
    /// The architectures of its platforms.
    pub archs: Vec<Arch>,
    /// The config's `created`.
    pub created: Option<Timestamp>,
    /// `os/arch[/variant]` of every platform, as `berth add` writes `platforms`.
    #[serde(default)]
    pub platforms: Vec<String>,
    /// The config's labels.
    #[serde(default)]
    pub labels: BTreeMap<String, String>,
    /// The base image the image names (label or annotation), if any.
    #[serde(default)]
    pub base_image: Option<String>,
}

/// What one `.deb` says about itself.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DebFacts {
    /// `Architecture`.
    pub architecture: Arch,
    /// The control fields a deb manifest keeps, as `berth add` writes them.
    pub fields: berth_model::DebFields,
}

/// The facts of one format directory, read again from its bytes.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ArtifactFacts {
    /// Every file present (relative to the format directory): size and sha256, or why it
    /// could not be read.
    pub files: BTreeMap<String, Result<FileFact, String>>,
    /// docker: `image.tar` inspected.
    pub image: Option<Result<ImageFacts, String>>,
    /// deb: each `.deb` inspected, by file name.
    pub debs: BTreeMap<String, Result<DebFacts, String>>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
struct Cached {
    file: FileFact,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    image: Option<ImageFacts>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    deb: Option<DebFacts>,
}

#[derive(Debug, Default, Serialize, Deserialize)]
struct CacheFile {
    version: u32,
    entries: BTreeMap<String, Cached>,
}

const CACHE_VERSION: u32 = 3;
const CACHE_FILE: &str = "validate-hashes-v3.json";

/// The hash cache (see the module docs). `Sync`: shared by the parallel readers.
#[derive(Debug)]
pub struct HashCache {
    file: Option<Utf8PathBuf>,
    entries: Mutex<HashMap<String, Cached>>,
    used: Mutex<HashSet<String>>,
    /// Files whose facts came from the cache.
    pub hits: AtomicUsize,
    /// Files read.
    pub misses: AtomicUsize,
}

/// Where the cache lives: `$BERTH_CACHE_DIR`, else `$XDG_CACHE_HOME/berth`, else
/// `~/.cache/berth`.
pub fn default_cache_dir() -> Option<Utf8PathBuf> {
    let var = |k: &str| std::env::var(k).ok().filter(|v| !v.is_empty());
    if let Some(d) = var("BERTH_CACHE_DIR") {
        return Some(d.into());
    }
    if let Some(d) = var("XDG_CACHE_HOME") {
        return Some(Utf8PathBuf::from(d).join("berth"));
    }
    var("HOME").map(|h| Utf8PathBuf::from(h).join(".cache/berth"))
}

impl HashCache {
    /// No cache: every file is read.
    pub fn disabled() -> Self {
        HashCache {
            file: None,
            entries: Mutex::new(HashMap::new()),
            used: Mutex::new(HashSet::new()),
            hits: AtomicUsize::new(0),
            misses: AtomicUsize::new(0),
        }
    }

    /// The cache in `dir` (loaded when it exists and is readable).
    pub fn open(dir: &Utf8Path) -> Self {
        let file = dir.join(CACHE_FILE);
        let entries = std::fs::read(&file)
            .ok()
            .and_then(|b| serde_json::from_slice::<CacheFile>(&b).ok())
            .filter(|c| c.version == CACHE_VERSION)
            .map(|c| c.entries.into_iter().collect())
            .unwrap_or_default();
        HashCache {
            file: Some(file),
            entries: Mutex::new(entries),
            used: Mutex::new(HashSet::new()),
            hits: AtomicUsize::new(0),
            misses: AtomicUsize::new(0),
        }
    }

    /// Writes the cache back, dropping entries of `root` that this run did not see.
    /// Best effort: a cache that cannot be written is not an error.
    pub fn save(&self, root: &Utf8Path) {
        self.save_pruning(root, true);
    }

    /// [`HashCache::save`]; with `prune` false, entries this run did not see are kept (a run
    /// that took some versions from the per-version cache did not look at their files).
    pub fn save_pruning(&self, root: &Utf8Path, prune: bool) {
        let Some(file) = &self.file else { return };
        let root = std::fs::canonicalize(root)
            .map(|p| p.display().to_string())
            .unwrap_or_else(|_| root.to_string());
        let used = lock(&self.used);
        let entries: BTreeMap<String, Cached> = lock(&self.entries)
            .iter()
            .filter(|(k, _)| !prune || !k.starts_with(&root) || used.contains(*k))
            .map(|(k, v)| (k.clone(), v.clone()))
            .collect();
        let data = CacheFile {
            version: CACHE_VERSION,
            entries,
        };
        if let (Some(dir), Ok(bytes)) = (file.parent(), serde_json::to_vec(&data)) {
            let _ = fs_err::create_dir_all(dir);
            let _ = berth_model::store::atomic_write(file, &bytes, true);
        }
    }

    fn get(&self, key: &str) -> Option<Cached> {
        self.file.as_ref()?;
        let hit = lock(&self.entries).get(key).cloned();
        if hit.is_some() {
            lock(&self.used).insert(key.to_owned());
            self.hits.fetch_add(1, Ordering::Relaxed);
        }
        hit
    }

    fn put(&self, key: String, value: Cached) {
        self.misses.fetch_add(1, Ordering::Relaxed);
        if self.file.is_none() {
            return;
        }
        lock(&self.used).insert(key.clone());
        lock(&self.entries).insert(key, value);
    }
}

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
}

/// The cache key of a file: the repository root, its path, and its change key (size,
/// mtime, ctime, inode, device): any write to the file, or another file in its place,
/// misses.
fn key_of(root: &str, rel: &Utf8Path, meta: &Meta) -> String {
    format!("{root}/{rel}|{}", meta.change_key())
}

/// Reads every file of a format directory again (through the cache), opening each through
/// the repository's store: no symbolic link is followed, only regular files are read.
pub fn read_facts(cache: &HashCache, repo: &Repository, f: &FormatEntry) -> ArtifactFacts {
    let mut facts = ArtifactFacts::default();
    let root = repo
        .store()
        .local_root()
        .and_then(|r| std::fs::canonicalize(r).ok())
        .map(|p| p.display().to_string())
        .unwrap_or_default();
    for name in &f.files {
        let rel = f.dir.join(name);
        let is_image = f.format.as_str() == Format::DOCKER && name == "image.tar";
        let is_deb = f.format.as_str() == Format::DEB && name.ends_with(".deb");
        let result: Result<Cached, String> = match repo.store().open(&rel) {
            Err(e) => Err(e.to_string()),
            Ok((file, meta)) => {
                let key = key_of(&root, &rel, &meta);
                match cache.get(&key) {
                    Some(c) if (!is_image || c.image.is_some()) && (!is_deb || c.deb.is_some()) => {
                        Ok(c)
                    }
                    _ => {
                        let read =
                            read_one(&rel, file, is_image, is_deb).map_err(|e| e.to_string());
                        if let Ok(c) = &read {
                            cache.put(key, c.clone());
                        }
                        read
                    }
                }
            }
        };
        match result {
            Ok(c) => {
                facts.files.insert(name.clone(), Ok(c.file));
                if let Some(i) = c.image {
                    facts.image = Some(Ok(i));
                }
                if let Some(d) = c.deb {
                    facts.debs.insert(name.clone(), Ok(d));
                }
            }
            Err(e) => {
                if is_image {
                    facts.image = Some(Err(e.clone()));
                }
                if is_deb {
                    facts.debs.insert(name.clone(), Err(e.clone()));
                }
                facts.files.insert(name.clone(), Err(e));
            }
        }
    }
    facts
}

/// Reads one artifact from its opened file.
fn read_one(
    rel: &Utf8Path,
    file: std::fs::File,
    is_image: bool,
    is_deb: bool,
) -> Result<Cached, berth_formats::FormatError> {
    if is_image {
        berth_formats::inspect_image_from(rel, file, None).map(|i| Cached {
            file: FileFact {
                size: i.file.size,
                sha256: i.file.sha256,
            },
            image: Some(ImageFacts {
                digest: i.digest,
                image_id: i.image_id,
                archs: i.platforms.iter().map(|p| p.architecture.clone()).collect(),
                created: i.created,
                platforms: berth_formats::derive::platform_names(&i),
                labels: i.labels.clone(),
                base_image: i.base_image.clone(),
            }),
            deb: None,
        })
    } else if is_deb {
        berth_formats::inspect_deb_from(rel, file, None).map(|d| Cached {
            file: FileFact {
                size: d.file.size,
                sha256: d.file.sha256,
            },
            image: None,
            deb: Some(DebFacts {
                fields: berth_formats::derive::deb_fields(&d),
                architecture: d.architecture,
            }),
        })
    } else {
        berth_formats::hash_reader(file, None)
            .map(|d| Cached {
                file: FileFact {
                    size: d.size,
                    sha256: d.sha256,
                },
                image: None,
                deb: None,
            })
            .map_err(|source| berth_formats::FormatError::Io {
                path: rel.to_owned(),
                source,
            })
    }
}

/// The `sha256` of a deb or generic format directory as `berth add` computes it
/// ([`Sha256Digest::of_set`]).
pub fn set_digest(files: &BTreeMap<String, FileFact>) -> Option<Sha256Digest> {
    Sha256Digest::of_set(files.iter().map(|(name, f)| (name.as_str(), f.sha256)))
}
