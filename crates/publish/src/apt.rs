//! `publish apt`: a Debian repository for exactly the debs one stage runs.
//!
//! ```text
//! OUT/
//!   dists/<suite>/Release                       SHA256 and size of every index file
//!   dists/<suite>/InRelease                     Release, clearsigned (with a key)
//!   dists/<suite>/main/binary-<arch>/Packages   (+ .gz, .xz)
//!   pool/main/<p>/<package>/<package>_<version>_<arch>.deb
//!   .berth-publish-cache.json                   deb sha256 -> stanza; manifest stamps
//!   .berth-publish-chunks.bin                   compressed chunks of Packages
//!   .berth-publish-dirty                        present while the pool is changed
//! ```
//!
//! Incremental: a manifest.yaml whose size and mtime are unchanged is not parsed again,
//! and a deb whose sha256 is in the cache is not opened again (its stanza, built from
//! its control paragraph plus Filename, Size and SHA256, is cached). Packages is cut into
//! content-defined chunks, each compressed once and kept: Packages.gz is a multi-member
//! gzip file of the chunks' members, Packages.xz one xz stream of the chunks' blocks
//! (apt reads one xz stream only, but any number of blocks in it). A change recompresses
//! only the chunks it touches.
//!
//! Atomic for a client: new pool files are placed first (hard links where the filesystem
//! allows, else copies; each placed by rename), then the new `dists/` (built complete in a
//! hidden sibling directory) is swapped in with renames, and only then are pool files that
//! the stage no longer runs removed. A client reads the old indexes with the old pool or
//! the new indexes with the new pool.
//!
//! One output directory holds one stage: publishing another stage into it is refused.
//! The directory belongs to berth: after a completed publication the pool is trusted to
//! be as berth left it (files are not looked at again), so a deb deleted or changed by
//! hand is put back only after `.berth-publish-cache.json` is deleted. A publication
//! that was interrupted leaves `.berth-publish-dirty`, and the next one checks every
//! pool file and lists the pool for strays.
//!
//! `Architecture: all` packages are listed in every `binary-<arch>/Packages`. The
//! architectures are those of berth.toml (`repository.architectures`) plus any a deb of
//! the stage is built for (or exactly [`AptOptions::architectures`] when given).

use std::collections::{BTreeMap, BTreeSet};
use std::io::Write;

use berth_model::{Format, Layout, Manifest, Repository, Sha256Digest};
use camino::{Utf8Path, Utf8PathBuf};
use serde::{Deserialize, Serialize};

use crate::deb822;
use crate::fsutil::{self, Placed};
use crate::sign::SigningKey;
use crate::xzcat;
use crate::{Contents, PublishError, Result};

/// The cache file in the output directory.
pub const CACHE_FILE: &str = ".berth-publish-cache.json";
/// The Debian archive area every package goes to.
pub const AREA: &str = "main";

/// How to publish.
#[derive(Debug, Clone)]
pub struct AptOptions {
    /// The suite (and codename): `dists/<suite>`, and the second word of a sources line.
    pub suite: String,
    /// Architectures to index; empty: berth.toml's plus those of the stage's debs.
    pub architectures: Vec<String>,
    /// The key to sign `InRelease` with; none: only an unsigned `Release`.
    pub sign_key: Option<SigningKey>,
    /// The `Date` of `Release`; none: `$SOURCE_DATE_EPOCH` when set, else now.
    pub date: Option<jiff::Timestamp>,
    /// `Origin` and `Label` of `Release`.
    pub origin: String,
}

impl AptOptions {
    /// Defaults for `suite`: no signature, Origin `berth`.
    pub fn new(suite: impl Into<String>) -> Self {
        AptOptions {
            suite: suite.into(),
            architectures: Vec::new(),
            sign_key: None,
            date: None,
            origin: "berth".to_owned(),
        }
    }
}

/// The cache kept in the output directory between runs. It only saves work: a missing
/// or damaged cache gives the same output, read from the repository.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct AptCache {
    /// Cache format version.
    pub version: u32,
    /// The stage this directory publishes (`cloud-staging`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub stage: Option<String>,
    /// sha256 of a deb (hex) -> what its Packages stanza needs.
    #[serde(default)]
    pub debs: BTreeMap<String, CachedDeb>,
    /// `<component> <version>` -> the debs its deb/manifest.yaml lists, valid while the
    /// manifest's size and modification time are unchanged.
    #[serde(default)]
    pub manifests: BTreeMap<String, CachedManifest>,
    /// Pool path -> sha256 of the deb published there.
    #[serde(default)]
    pub pool: BTreeMap<String, String>,
    /// Compressed Packages chunks by sha256 of their text (kept in a pack file by [`publish`]).
    #[serde(skip)]
    pub chunks: BTreeMap<String, CompressedChunk>,
}

/// A deb as its Packages stanza describes it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CachedDeb {
    /// `Package`.
    pub package: String,
    /// `Version`.
    pub version: String,
    /// `Architecture`.
    pub architecture: String,
    /// The pool path (`Filename`).
    pub filename: String,
    /// The whole stanza, blank line included.
    pub stanza: String,
}

/// The debs of one deb/manifest.yaml.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CachedManifest {
    /// The manifest's size.
    pub len: u64,
    /// Its modification time, nanoseconds since the epoch.
    pub mtime_ns: i64,
    /// `(path in the format directory, size, sha256 hex)` of every deb it lists.
    pub debs: Vec<(String, u64, String)>,
}

/// One chunk of a Packages file, compressed twice. Packages.gz is the gzip members
/// concatenated (a multi-member gzip file, which apt, zlib and gzip read whole);
/// Packages.xz is one xz stream holding the chunks' blocks (apt stops reading after the
/// first xz stream, so the blocks are lifted out of their streams and joined). A change
/// recompresses only the chunks it touches.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CompressedChunk {
    /// gzip member.
    pub gz: Vec<u8>,
    /// Single-block xz stream.
    pub xz: Vec<u8>,
}

const CACHE_VERSION: u32 = 3;
/// Present while [`publish`] changes the pool.
const DIRTY_MARKER: &str = ".berth-publish-dirty";
/// Where [`publish`] keeps compressed chunks.
const CHUNK_FILE: &str = ".berth-publish-chunks.bin";

impl AptCache {
    /// Reads the cache; a missing, unreadable or outdated cache is an empty one.
    pub fn load(path: &Utf8Path) -> Self {
        std::fs::read(path)
            .ok()
            .and_then(|b| serde_json::from_slice::<AptCache>(&b).ok())
            .filter(|c| c.version == CACHE_VERSION)
            .unwrap_or_default()
    }

    /// Writes the cache atomically (a rename over the old one; not fsynced: after a
    /// crash the old cache or none is as good, every entry being keyed by content).
    pub fn save(&mut self, path: &Utf8Path) -> Result<()> {
        self.version = CACHE_VERSION;
        let bytes = serde_json::to_vec(&*self).map_err(|e| PublishError::Io {
            path: path.to_owned(),
            source: std::io::Error::other(e),
        })?;
        fsutil::replace_file(path, &bytes)
    }

    /// Loads the compressed chunks kept in the pack file `path` (none when it is missing
    /// or damaged: the chunks are then compressed again).
    fn load_chunks(&mut self, path: &Utf8Path) {
        if let Ok(bytes) = std::fs::read(path) {
            self.chunks = unpack_chunks(&bytes).unwrap_or_default();
        }
    }

    /// Writes `self.chunks` to the pack file `path` (replacing it whole).
    fn save_chunks(&self, path: &Utf8Path) -> Result<()> {
        fsutil::replace_file(path, &pack_chunks(&self.chunks))
    }
}

/// First line of the chunk pack file.
const PACK_MAGIC: &[u8] = b"berth publish chunks 1\n";

/// The pack file: magic, then per chunk its key (32 bytes), the lengths of its gzip and
/// xz forms (u32 little-endian each) and those bytes; last, the SHA-256 of all before.
fn pack_chunks(chunks: &BTreeMap<String, CompressedChunk>) -> Vec<u8> {
    use sha2::Digest as _;
    let size: usize = chunks.values().map(|c| 40 + c.gz.len() + c.xz.len()).sum();
    let mut out = Vec::with_capacity(PACK_MAGIC.len() + size + 32);
    out.extend_from_slice(PACK_MAGIC);
    for (key, c) in chunks {
        let (Ok(raw), Ok(gz_len), Ok(xz_len)) = (
            hex::decode(key),
            u32::try_from(c.gz.len()),
            u32::try_from(c.xz.len()),
        ) else {
            continue; // not storable: compressed again next time
        };
        if raw.len() != 32 {
            continue;
        }
        out.extend_from_slice(&raw);
        out.extend_from_slice(&gz_len.to_le_bytes());
        out.extend_from_slice(&xz_len.to_le_bytes());
        out.extend_from_slice(&c.gz);
        out.extend_from_slice(&c.xz);
    }
    let digest = sha2::Sha256::digest(&out);
    out.extend_from_slice(&digest);
    out
}

/// Reads a pack file; `None` when it is not one or its checksum does not match.
fn unpack_chunks(bytes: &[u8]) -> Option<BTreeMap<String, CompressedChunk>> {
    use sha2::Digest as _;
    let (body, digest) = bytes.split_at_checked(bytes.len().checked_sub(32)?)?;
    if sha2::Sha256::digest(body).as_slice() != digest {
        return None;
    }
    let mut rest = body.strip_prefix(PACK_MAGIC)?;
    let mut take = |n: usize| -> Option<&[u8]> {
        let (head, tail) = rest.split_at_checked(n)?;
        rest = tail;
        Some(head)
    };
    let mut chunks = BTreeMap::new();
    while let Some(key) = take(32) {
        let len = |b: &[u8]| usize::try_from(u32::from_le_bytes(b.try_into().ok()?)).ok();
        let gz_len = len(take(4)?)?;
        let xz_len = len(take(4)?)?;
        let gz = take(gz_len)?.to_vec();
        let xz = take(xz_len)?.to_vec();
        chunks.insert(hex::encode(key), CompressedChunk { gz, xz });
    }
    Some(chunks)
}

/// One deb in the pool.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PoolFile {
    /// Path relative to the output directory (`pool/main/h/hello/hello_1.0-1_amd64.deb`),
    /// as in the stanza's `Filename`.
    pub filename: String,
    /// The deb, relative to the repository root.
    pub source: Utf8PathBuf,
    /// Its size.
    pub size: u64,
    /// Its sha256.
    pub sha256: Sha256Digest,
}

/// One generated index file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IndexFile {
    /// Path relative to `dists/<suite>` (`main/binary-amd64/Packages.gz`).
    pub path: String,
    /// Content.
    pub bytes: Vec<u8>,
}

/// The indexes of a stage, computed in memory (nothing written): what
/// [`publish`] writes, and what a benchmark times.
#[derive(Debug, Clone)]
pub struct AptIndex {
    /// Every Packages file, compressed variants included.
    pub files: Vec<IndexFile>,
    /// The `Release` text.
    pub release: String,
    /// The `InRelease` text, when a key was given.
    pub in_release: Option<String>,
    /// The debs, sorted by pool path.
    pub pool: Vec<PoolFile>,
    /// The architectures indexed.
    pub architectures: Vec<String>,
    /// How many debs were opened (not in the cache).
    pub debs_read: usize,
}

/// Computes the Packages, Release (and InRelease) of a stage. Manifests and debs the
/// cache describes are not read again; new ones are read (on parallel threads) and added
/// to it, and entries the stage no longer runs are dropped from it.
pub fn apt_index(
    repo: &Repository,
    stage: &Contents,
    cache: &mut AptCache,
    opts: &AptOptions,
) -> Result<AptIndex> {
    // 1. The debs of every version the stage runs, from manifest.yaml (or the cache).
    struct Found {
        source: Utf8PathBuf,
        manifest: Utf8PathBuf,
        size: u64,
        sha256: Sha256Digest,
    }
    /// One stage entry's deb manifest: its stamp and debs, `fresh` when parsed now.
    struct Listed {
        key: String,
        manifest: Utf8PathBuf,
        dir: Utf8PathBuf,
        stamp: (u64, i64),
        debs: Vec<(String, u64, String)>,
        fresh: bool,
    }
    let deb = Format::deb();
    // Stat (and, when the cache does not know it, parse) every manifest, in parallel.
    let listed = parallel_map(&stage.entries, |e| -> Result<Option<Listed>> {
        let key = format!("{} {}", e.name, e.version);
        let rel = Layout::manifest_path(&e.name, &e.version, &deb);
        let manifest = repo.path(&rel);
        let stamp = match repo.store().stat(&rel) {
            Ok(Some(m)) if m.kind == berth_model::store::EntryKind::File => {
                Some((m.size, m.mtime_ns))
            }
            Ok(Some(_)) => {
                // A link or a special file where the manifest belongs: never followed, never
                // read; reading it through the store says which.
                let e = repo
                    .read_bytes(&rel)
                    .err()
                    .map_or_else(|| std::io::Error::other("not a regular file"), Into::into);
                return Err(PublishError::Io {
                    path: manifest,
                    source: e,
                });
            }
            Ok(None) => None,
            Err(e) => {
                return Err(PublishError::Io {
                    path: manifest,
                    source: e.into(),
                });
            }
        };
        let Some(stamp) = stamp else {
            if !repo
                .store()
                .exists(&Layout::version_dir(&e.name, &e.version))
            {
                return Err(PublishError::MissingVersion {
                    component: e.name.clone(),
                    version: e.version.clone(),
                });
            }
            return Ok(None); // this version ships no deb
        };
        let dir = Layout::format_dir(&e.name, &e.version, &deb);
        let cached = cache
            .manifests
            .get(&key)
            .filter(|c| (c.len, c.mtime_ns) == stamp);
        if let Some(c) = cached {
            let debs = c.debs.clone();
            return Ok(Some(Listed {
                key,
                manifest,
                dir,
                stamp,
                debs,
                fresh: false,
            }));
        }
        let m: Manifest = repo.read_yaml(&rel)?.value;
        let mut debs = Vec::new();
        for f in m.files.iter().filter(|f| f.path.ends_with(".deb")) {
            let sha = f.sha256.get().ok_or_else(|| PublishError::BadManifest {
                manifest: manifest.clone(),
                detail: format!(
                    "the sha256 of {} is not valid ({}); regenerate the manifest with `berth add`",
                    f.path,
                    f.sha256.error().unwrap_or_default()
                ),
            })?;
            debs.push((f.path.clone(), f.size, sha.hex()));
        }
        Ok(Some(Listed {
            key,
            manifest,
            dir,
            stamp,
            debs,
            fresh: true,
        }))
    });
    let mut found: Vec<Found> = Vec::new();
    let mut used_manifests = BTreeSet::new();
    for l in listed {
        let Some(l) = l? else { continue };
        if l.fresh {
            let (len, mtime_ns) = l.stamp;
            cache.manifests.insert(
                l.key.clone(),
                CachedManifest {
                    len,
                    mtime_ns,
                    debs: l.debs.clone(),
                },
            );
        }
        used_manifests.insert(l.key);
        for (path, size, sha) in l.debs {
            let sha256 = Sha256Digest::parse(&sha).map_err(|e| PublishError::BadManifest {
                manifest: l.manifest.clone(),
                detail: e.to_string(),
            })?;
            found.push(Found {
                source: l.dir.join(&path),
                manifest: l.manifest.clone(),
                size,
                sha256,
            });
        }
    }
    cache.manifests.retain(|k, _| used_manifests.contains(k));

    // 2. Debs the cache does not describe: read their control paragraphs, in parallel.
    let mut todo: Vec<&Found> = Vec::new();
    let mut seen = BTreeSet::new();
    for f in &found {
        let key = f.sha256.hex();
        if !cache.debs.contains_key(&key) && seen.insert(key) {
            todo.push(f);
        }
    }
    let debs_read = todo.len();
    let described = parallel_map(&todo, |f| {
        describe(repo, f.source.as_path(), &f.manifest, f.size, f.sha256)
    });
    for (f, d) in todo.iter().zip(described) {
        cache.debs.insert(f.sha256.hex(), d?);
    }

    // 3. One stanza per pool file.
    let mut by_filename: BTreeMap<&str, (&Found, &CachedDeb)> = BTreeMap::new();
    let mut used_debs = BTreeSet::new();
    for f in &found {
        let key = f.sha256.hex();
        let d = cache.debs.get(&key).expect("every deb was described above");
        if let Some((other, _)) = by_filename.get(d.filename.as_str()) {
            if other.sha256 == f.sha256 {
                continue; // the same deb, shipped by two components
            }
            return Err(PublishError::DuplicatePackage {
                filename: d.filename.clone(),
                first: other.source.clone(),
                second: f.source.clone(),
            });
        }
        by_filename.insert(&d.filename, (f, d));
        used_debs.insert(key);
    }
    let mut pkgs: Vec<(&Found, &CachedDeb)> = by_filename.into_values().collect();
    pkgs.sort_by(|(_, a), (_, b)| {
        (&a.package, &a.architecture, &a.version, &a.filename).cmp(&(
            &b.package,
            &b.architecture,
            &b.version,
            &b.filename,
        ))
    });

    let architectures: Vec<String> = if opts.architectures.is_empty() {
        let mut set: BTreeSet<String> = repo
            .config()
            .repository
            .architectures
            .iter()
            .filter(|a| !a.is_all())
            .map(|a| a.as_str().to_owned())
            .collect();
        set.extend(
            pkgs.iter()
                .filter(|(_, d)| d.architecture != "all")
                .map(|(_, d)| d.architecture.clone()),
        );
        set.into_iter().collect()
    } else {
        let mut v = opts.architectures.clone();
        v.sort();
        v.dedup();
        v
    };

    // 4. Packages per architecture, in chunks cut after stanzas chosen by their package
    //    name, so an added or removed package changes one chunk.
    let mut per_arch: Vec<(String, Vec<String>)> = Vec::new();
    for arch in &architectures {
        let mut chunks = Vec::new();
        let mut cur = String::new();
        for (_, d) in pkgs
            .iter()
            .filter(|(_, d)| &d.architecture == arch || d.architecture == "all")
        {
            cur.push_str(&d.stanza);
            if cur.len() >= CHUNK_MAX || cut_after(&d.package) {
                chunks.push(std::mem::take(&mut cur));
            }
        }
        if !cur.is_empty() || chunks.is_empty() {
            chunks.push(cur);
        }
        per_arch.push((format!("{AREA}/binary-{arch}/Packages"), chunks));
    }
    let pool: Vec<PoolFile> = pkgs
        .iter()
        .map(|(f, d)| PoolFile {
            filename: d.filename.clone(),
            source: f.source.clone(),
            size: f.size,
            sha256: f.sha256,
        })
        .collect();
    cache.debs.retain(|k, _| used_debs.contains(k));
    let files = compress_chunks(per_arch, &mut cache.chunks);

    let date = opts.date.unwrap_or_else(release_date);
    let release = release_text(opts, stage, &architectures, date, &files);
    let in_release = opts
        .sign_key
        .as_ref()
        .map(|k| k.clearsign(&release))
        .transpose()?;
    let mut pool = pool;
    pool.sort_by(|a, b| a.filename.cmp(&b.filename));
    Ok(AptIndex {
        files,
        release,
        in_release,
        pool,
        architectures,
        debs_read,
    })
}

/// Chunks end after at most this many bytes…
const CHUNK_MAX: usize = 64 << 10;

/// …or after a package whose name hashes to 0 mod 32 (content-defined boundaries).
fn cut_after(package: &str) -> bool {
    let h = package.bytes().fold(0xcbf2_9ce4_8422_2325u64, |h, b| {
        (h ^ u64::from(b)).wrapping_mul(0x100_0000_01b3)
    });
    h % 32 == 0
}

/// Reads a deb's control paragraph and makes its stanza.
fn describe(
    repo: &Repository,
    rel: &Utf8Path,
    manifest: &Utf8Path,
    size: u64,
    sha256: Sha256Digest,
) -> Result<CachedDeb> {
    let source = &repo.path(rel);
    let (file, _) = repo
        .store()
        .open(rel)
        .map_err(berth_formats::FormatError::from)?;
    let info = berth_formats::inspect_deb_from(source, file, None)?;
    if info.file.sha256 != sha256 {
        return Err(PublishError::DigestMismatch {
            path: source.to_owned(),
            manifest: manifest.to_owned(),
            expected: sha256,
            actual: info.file.sha256,
        });
    }
    let fields = deb822::parse_paragraph(&info.control_text);
    let field = |name: &str| {
        deb822::get(&fields, name)
            .filter(|v| is_safe(v))
            .map(str::to_owned)
            .ok_or_else(|| PublishError::BadManifest {
                manifest: manifest.to_owned(),
                detail: format!("the control file of {source} has no usable `{name}` field"),
            })
    };
    let (package, version, architecture) =
        (field("Package")?, field("Version")?, field("Architecture")?);
    let filename = pool_path(&package, &version, &architecture);
    let mut stanza = String::new();
    deb822::write_stanza(
        &mut stanza,
        &fields,
        &[
            ("Filename", filename.clone()),
            ("Size", size.to_string()),
            ("SHA256", sha256.hex()),
        ],
    );
    Ok(CachedDeb {
        package,
        version,
        architecture,
        filename,
        stanza,
    })
}

/// `f` over `items` on as many threads as there are cores, results in order.
fn parallel_map<T: Sync, R: Send>(items: &[T], f: impl Fn(&T) -> R + Sync) -> Vec<R> {
    let threads = std::thread::available_parallelism()
        .map_or(1, usize::from)
        .min(items.len());
    if threads <= 1 {
        return items.iter().map(f).collect();
    }
    let next = std::sync::atomic::AtomicUsize::new(0);
    let mut results: Vec<(usize, R)> = std::thread::scope(|s| {
        let handles: Vec<_> = (0..threads)
            .map(|_| {
                s.spawn(|| {
                    let mut out = Vec::new();
                    loop {
                        let i = next.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                        let Some(item) = items.get(i) else {
                            break;
                        };
                        out.push((i, f(item)));
                    }
                    out
                })
            })
            .collect();
        handles
            .into_iter()
            .flat_map(|h| h.join().expect("a worker does not panic"))
            .collect()
    });
    results.sort_by_key(|(i, _)| *i);
    results.into_iter().map(|(_, r)| r).collect()
}

/// Plain, gzip and xz variants of every Packages file. Chunks already compressed (in
/// `chunks`) are reused; the others are compressed on parallel threads. `chunks` keeps
/// exactly the chunks used.
fn compress_chunks(
    per_arch: Vec<(String, Vec<String>)>,
    chunks: &mut BTreeMap<String, CompressedChunk>,
) -> Vec<IndexFile> {
    use sha2::Digest as _;
    let keyed: Vec<Vec<(String, String)>> = per_arch
        .iter()
        .map(|(_, cs)| {
            cs.iter()
                .map(|c| (hex::encode(sha2::Sha256::digest(c.as_bytes())), c.clone()))
                .collect()
        })
        .collect();
    let mut missing: BTreeMap<&str, &str> = BTreeMap::new();
    for (key, text) in keyed.iter().flatten() {
        if !chunks.contains_key(key) {
            missing.insert(key, text);
        }
    }
    let missing: Vec<(&str, &str)> = missing.into_iter().collect();
    let done = parallel_map(&missing, |(_, text)| CompressedChunk {
        gz: gzip(text.as_bytes()),
        xz: xzcat::piece(text.as_bytes()),
    });
    for ((key, _), c) in missing.iter().zip(done) {
        chunks.insert((*key).to_owned(), c);
    }
    let used: BTreeSet<&String> = keyed.iter().flatten().map(|(k, _)| k).collect();
    chunks.retain(|k, _| used.contains(k));
    let mut files = Vec::with_capacity(per_arch.len() * 3);
    for ((path, _), parts) in per_arch.into_iter().zip(&keyed) {
        let (mut plain, mut gz) = (Vec::new(), Vec::new());
        for (key, text) in parts {
            plain.extend_from_slice(text.as_bytes());
            gz.extend_from_slice(&chunks[key].gz);
        }
        // The chunks' blocks in one stream; were a kept piece damaged, the whole text.
        let xz = xzcat::join(parts.iter().map(|(key, _)| chunks[key].xz.as_slice()))
            .unwrap_or_else(|| xzcat::piece(&plain));
        files.push(IndexFile {
            path: format!("{path}.gz"),
            bytes: gz,
        });
        files.push(IndexFile {
            path: format!("{path}.xz"),
            bytes: xz,
        });
        files.push(IndexFile { path, bytes: plain });
    }
    files.sort_by(|a, b| a.path.cmp(&b.path));
    files
}

fn gzip(data: &[u8]) -> Vec<u8> {
    // GzEncoder writes mtime 0 and no file name: the output is deterministic.
    let mut e = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    e.write_all(data)
        .expect("writing into memory does not fail");
    e.finish().expect("writing into memory does not fail")
}

/// `$SOURCE_DATE_EPOCH` when set (reproducible builds), else now.
fn release_date() -> jiff::Timestamp {
    std::env::var("SOURCE_DATE_EPOCH")
        .ok()
        .and_then(|s| s.trim().parse::<i64>().ok())
        .and_then(|s| jiff::Timestamp::from_second(s).ok())
        .unwrap_or_else(jiff::Timestamp::now)
}

fn release_text(
    opts: &AptOptions,
    stage: &Contents,
    architectures: &[String],
    date: jiff::Timestamp,
    files: &[IndexFile],
) -> String {
    use sha2::Digest as _;
    let mut r = String::new();
    r.push_str(&format!("Origin: {}\n", opts.origin));
    r.push_str(&format!("Label: {}\n", opts.origin));
    r.push_str(&format!("Suite: {}\n", opts.suite));
    r.push_str(&format!("Codename: {}\n", opts.suite));
    r.push_str(&format!(
        "Date: {}\n",
        date.strftime("%a, %d %b %Y %H:%M:%S UTC")
    ));
    r.push_str(&format!("Architectures: {}\n", architectures.join(" ")));
    r.push_str(&format!("Components: {AREA}\n"));
    r.push_str(&format!(
        "Description: berth stage {} of domain {}\n",
        stage.env, stage.domain
    ));
    r.push_str("SHA256:\n");
    for f in files {
        let digest = hex::encode(sha2::Sha256::digest(&f.bytes));
        r.push_str(&format!(" {digest} {:>16} {}\n", f.bytes.len(), f.path));
    }
    r
}

/// `pool/main/<prefix>/<package>/<package>_<version without epoch>_<arch>.deb`, the
/// Debian archive convention (`lib` packages get a four-letter prefix).
fn pool_path(package: &str, version: &str, arch: &str) -> String {
    let prefix = if package.starts_with("lib") && package.len() > 3 {
        &package[..4]
    } else {
        &package[..1]
    };
    let upstream = version.split_once(':').map_or(version, |(_, v)| v);
    format!("pool/{AREA}/{prefix}/{package}/{package}_{upstream}_{arch}.deb")
}

/// A control value that is safe in a path: Debian's package, version and architecture
/// characters only (so no `/`, no `..` on its own, no whitespace).
fn is_safe(v: &str) -> bool {
    !v.is_empty()
        && !v.starts_with('.')
        && v.bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"+-.~:".contains(&b))
}

/// What a publication did.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct AptReport {
    /// The output directory.
    pub out: Utf8PathBuf,
    /// The suite.
    pub suite: String,
    /// Debs published.
    pub packages: usize,
    /// Architectures indexed.
    pub architectures: Vec<String>,
    /// Debs opened (not described by the cache).
    pub debs_read: usize,
    /// Pool files newly hard-linked.
    pub linked: usize,
    /// Pool files newly copied.
    pub copied: usize,
    /// Pool files already in place.
    pub kept: usize,
    /// Pool files removed (no longer run by the stage).
    pub removed: usize,
    /// Whether InRelease was written.
    pub signed: bool,
}

/// Publishes the stage's debs into `out`: pool, then dists (swapped in whole), then the
/// removal of debs the stage no longer runs. Concurrent publications into the same
/// directory wait for each other.
pub fn publish(
    repo: &Repository,
    stage: &Contents,
    out: Utf8PathBuf,
    opts: &AptOptions,
) -> Result<AptReport> {
    fs_err::create_dir_all(&out).map_err(PublishError::io(&out))?;
    let _lock = lock_dir(&out)?;
    let cache_path = out.join(CACHE_FILE);
    let mut cache = AptCache::load(&cache_path);
    let stage_name = stage.name();
    if let Some(other) = cache.stage.as_deref().filter(|s| *s != stage_name) {
        return Err(PublishError::UnknownStage {
            detail: format!(
                "{out} holds the apt repository of stage {other}; publish each stage into its own directory"
            ),
        });
    }
    cache.stage = Some(stage_name);
    let chunk_file = out.join(CHUNK_FILE);
    cache.load_chunks(&chunk_file);
    let index = apt_index(repo, stage, &mut cache, opts)?;
    // While this marker exists the pool may hold files the cache does not list (a
    // publication was interrupted): the next one then lists the whole pool.
    let dirty = out.join(DIRTY_MARKER);
    let pool_listed_in_cache = !cache.pool.is_empty() && !dirty.exists();
    fs_err::write(&dirty, b"").map_err(PublishError::io(&dirty))?;

    // 1. The pool: every deb of the stage in place before any index names it.
    let mut report = AptReport {
        out: out.clone(),
        suite: opts.suite.clone(),
        packages: index.pool.len(),
        architectures: index.architectures.clone(),
        debs_read: index.debs_read,
        signed: index.in_release.is_some(),
        ..AptReport::default()
    };
    let pool_root = out.join("pool");
    let pool_existed = pool_root.exists();
    let placed = parallel_map(&index.pool, |p| {
        let dst = out.join(&p.filename);
        // The last publication completed and placed this very deb here: trusted without
        // a look (OUT belongs to berth; see the module docs). Otherwise checked.
        let known = cache.pool.get(&p.filename) == Some(&p.sha256.hex())
            && (pool_listed_in_cache || std::fs::metadata(&dst).is_ok_and(|m| m.len() == p.size));
        if known {
            Ok(Placed::Kept)
        } else {
            fsutil::link_or_copy(repo.store(), &p.source, &dst)
        }
    });
    for how in placed {
        match how? {
            Placed::Kept => report.kept += 1,
            Placed::Linked => report.linked += 1,
            Placed::Copied => report.copied += 1,
        }
    }

    // 2. dists/, built complete beside the old one, then swapped in.
    let dists = out.join("dists");
    let new = fsutil::temp_beside(&dists, "dists-new");
    let suite_dir = new.join(&opts.suite);
    let built = (|| -> Result<()> {
        for f in &index.files {
            fsutil::write_new(&suite_dir.join(&f.path), &f.bytes)?;
        }
        fsutil::write_new(&suite_dir.join("Release"), index.release.as_bytes())?;
        if let Some(signed) = &index.in_release {
            fsutil::write_new(&suite_dir.join("InRelease"), signed.as_bytes())?;
        }
        Ok(())
    })();
    if let Err(e) = built.and_then(|()| fsutil::swap_dir(&new, &dists)) {
        let _ = std::fs::remove_dir_all(&new);
        return Err(e);
    }

    // 3. Debs no longer run by the stage leave the pool.
    let keep: BTreeSet<&str> = index.pool.iter().map(|p| p.filename.as_str()).collect();
    let published: Vec<String> = if pool_listed_in_cache {
        cache.pool.keys().cloned().collect()
    } else if !pool_existed {
        Vec::new() // every file in the pool was placed just now
    } else {
        fsutil::list_files(&pool_root)?
            .into_iter()
            .map(|rel| format!("pool/{rel}"))
            .collect()
    };
    for filename in published {
        if !keep.contains(filename.as_str()) {
            let path = out.join(&filename);
            match std::fs::remove_file(&path) {
                Ok(()) => {}
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => continue,
                Err(e) => return Err(PublishError::io(&path)(e)),
            }
            if let Some(parent) = path.parent() {
                fsutil::remove_empty_dirs(parent, &pool_root);
            }
            report.removed += 1;
        }
    }
    cache.pool = index
        .pool
        .iter()
        .map(|p| (p.filename.clone(), p.sha256.hex()))
        .collect();
    cache.save_chunks(&chunk_file)?;
    cache.save(&cache_path)?;
    fs_err::remove_file(&dirty).map_err(PublishError::io(&dirty))?;
    Ok(report)
}

/// Takes an exclusive lock on `dir/.berth-publish.lock` (released on drop or exit).
pub(crate) fn lock_dir(dir: &Utf8Path) -> Result<std::fs::File> {
    let path = dir.join(".berth-publish.lock");
    let f = std::fs::OpenOptions::new()
        .create(true)
        .truncate(false)
        .write(true)
        .open(&path)
        .map_err(PublishError::io(&path))?;
    f.lock().map_err(PublishError::io(&path))?;
    Ok(f)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pool_paths() {
        assert_eq!(
            pool_path("hello", "1:2.0-1", "amd64"),
            "pool/main/h/hello/hello_2.0-1_amd64.deb"
        );
        assert_eq!(
            pool_path("libfoo1", "1.0", "all"),
            "pool/main/libf/libfoo1/libfoo1_1.0_all.deb"
        );
        assert!(!is_safe("../x"));
        assert!(!is_safe("a/b"));
        assert!(is_safe("1:2.0~rc1+b1-1"));
    }

    #[test]
    fn chunk_packs_round_trip_and_damage_is_dropped() {
        let mut chunks = BTreeMap::new();
        for text in ["Package: a\n\n", "Package: b\n\n"] {
            use sha2::Digest as _;
            chunks.insert(
                hex::encode(sha2::Sha256::digest(text)),
                CompressedChunk {
                    gz: gzip(text.as_bytes()),
                    xz: xzcat::piece(text.as_bytes()),
                },
            );
        }
        let packed = pack_chunks(&chunks);
        assert_eq!(unpack_chunks(&packed), Some(chunks.clone()));
        assert_eq!(
            unpack_chunks(&pack_chunks(&BTreeMap::new())),
            Some(BTreeMap::new())
        );
        let mut damaged = packed.clone();
        damaged[PACK_MAGIC.len() + 40] ^= 1;
        assert_eq!(unpack_chunks(&damaged), None);
        assert_eq!(unpack_chunks(&packed[..packed.len() - 1]), None);
        assert_eq!(unpack_chunks(b""), None);
    }

    #[test]
    fn compression_round_trips() {
        use std::io::Read;
        let text = "Package: a\n\n".repeat(100);
        let half = "Package: b\n\n".repeat(50);
        let mut chunks = BTreeMap::new();
        let files = compress_chunks(
            vec![(
                "main/binary-amd64/Packages".into(),
                vec![text.clone(), half.clone()],
            )],
            &mut chunks,
        );
        let text = text + &half;
        assert_eq!(chunks.len(), 2);
        assert_eq!(files.len(), 3);
        let mut out = String::new();
        flate2::read::MultiGzDecoder::new(&files[1].bytes[..])
            .read_to_string(&mut out)
            .expect("gunzip");
        assert_eq!(out, text);
        let mut out = String::new();
        lzma_rust2::XzReader::new(&files[2].bytes[..], false)
            .read_to_string(&mut out)
            .expect("unxz");
        assert_eq!(out, text);
    }
}
