//! `publish apt`: a Debian repository for exactly the debs one stage runs.
//!
//! ```text
//! OUT/
//!   dists/<suite>/Release                       SHA256 and size of every index file
//!   dists/<suite>/InRelease                     Release, clearsigned (with a key)
//!   dists/<suite>/main/binary-<arch>/Packages   (+ .gz, .xz)
//!   pool/main/<p>/<package>/<package>_<version>_<arch>.deb
//!   .berth-publish-cache.json                   sha256 of a deb -> its control paragraph
//! ```
//!
//! Incremental: a deb whose sha256 (from its manifest.yaml) is in the cache is not opened
//! again; its stanza is the cached control paragraph plus Filename, Size and SHA256 from
//! the manifest. Only new debs are read.
//!
//! Atomic for a client: new pool files are placed first (hard links where the filesystem
//! allows, else copies; each placed by rename), then the new `dists/` (built complete in a
//! hidden sibling directory) is swapped in with renames, and only then are pool files that
//! the stage no longer runs removed. A client reads the old indexes with the old pool or
//! the new indexes with the new pool.
//!
//! One output directory holds one stage: publishing another stage into it is refused.
//!
//! `Architecture: all` packages are listed in every `binary-<arch>/Packages`. The
//! architectures are those of berth.toml (`repository.architectures`) plus any a deb of
//! the stage is built for (or exactly [`AptOptions::architectures`] when given).

use std::collections::{BTreeMap, BTreeSet};
use std::io::Write;

use berth_model::{Format, Repository, Sha256Digest};
use camino::{Utf8Path, Utf8PathBuf};
use serde::{Deserialize, Serialize};

use crate::deb822::{self, Field};
use crate::fsutil::{self, Placed};
use crate::sign::SigningKey;
use crate::{PublishError, Result, Stage};

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

/// The cache kept in the output directory between runs.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct AptCache {
    /// Cache format version.
    pub version: u32,
    /// The stage this directory publishes (`cloud-staging`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub stage: Option<String>,
    /// sha256 of a deb (hex) -> its control paragraph, as in the package.
    #[serde(default)]
    pub debs: BTreeMap<String, String>,
    /// Pool path -> sha256 of the deb published there.
    #[serde(default)]
    pub pool: BTreeMap<String, String>,
}

const CACHE_VERSION: u32 = 1;

impl AptCache {
    /// Reads the cache; a missing, unreadable or outdated cache is an empty one (it only
    /// saves work).
    pub fn load(path: &Utf8Path) -> Self {
        std::fs::read(path)
            .ok()
            .and_then(|b| serde_json::from_slice::<AptCache>(&b).ok())
            .filter(|c| c.version == CACHE_VERSION)
            .unwrap_or_default()
    }

    /// Writes the cache atomically.
    pub fn save(&self, path: &Utf8Path) -> Result<()> {
        let mut c = self.clone();
        c.version = CACHE_VERSION;
        let bytes = serde_json::to_vec(&c).map_err(|e| PublishError::Io {
            path: path.to_owned(),
            source: std::io::Error::other(e),
        })?;
        berth_model::store::atomic_write(path, &bytes, true).map_err(PublishError::io(path))
    }
}

/// One deb in the pool.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PoolFile {
    /// Path relative to the output directory (`pool/main/h/hello/hello_1.0-1_amd64.deb`),
    /// as in the stanza's `Filename`.
    pub filename: String,
    /// The deb in the repository.
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

/// Computes the Packages, Release (and InRelease) of a stage. Debs in `cache` are not
/// opened; new ones are read and added to it, and entries the stage no longer runs are
/// dropped from it.
pub fn apt_index(
    repo: &Repository,
    stage: &Stage,
    cache: &mut AptCache,
    opts: &AptOptions,
) -> Result<AptIndex> {
    struct Pkg {
        package: String,
        version: String,
        arch: String,
        pool: PoolFile,
        fields: Vec<Field>,
    }
    let mut pkgs: Vec<Pkg> = Vec::new();
    let mut by_filename: BTreeMap<String, usize> = BTreeMap::new();
    let mut used: BTreeSet<String> = BTreeSet::new();
    let mut debs_read = 0;
    let t0 = std::time::Instant::now();
    let arts = crate::artifacts(repo, stage, &Format::deb())?;
    eprintln!("TIMING artifacts {:?}", t0.elapsed());
    for art in arts {
        for entry in art
            .manifest
            .files
            .iter()
            .filter(|f| f.path.ends_with(".deb"))
        {
            let source = art.dir.join(&entry.path);
            let sha256 = *entry.sha256.get().ok_or_else(|| PublishError::BadManifest {
                manifest: art.manifest_path.clone(),
                detail: format!(
                    "the sha256 of {} is not valid ({}); regenerate the manifest with `berth add`",
                    entry.path,
                    entry.sha256.error().unwrap_or_default()
                ),
            })?;
            let key = sha256.hex();
            let control = match cache.debs.get(&key) {
                Some(c) => c.clone(),
                None => {
                    let info = berth_formats::inspect_deb(&source, None)?;
                    debs_read += 1;
                    if info.file.sha256 != sha256 {
                        return Err(PublishError::DigestMismatch {
                            path: source,
                            manifest: art.manifest_path.clone(),
                            expected: sha256,
                            actual: info.file.sha256,
                        });
                    }
                    cache.debs.insert(key.clone(), info.control_text.clone());
                    info.control_text
                }
            };
            used.insert(key);
            let fields = deb822::parse_paragraph(&control);
            let field = |name: &str| {
                deb822::get(&fields, name)
                    .filter(|v| is_safe(v))
                    .map(str::to_owned)
                    .ok_or_else(|| PublishError::BadManifest {
                        manifest: art.manifest_path.clone(),
                        detail: format!(
                            "the control file of {} has no usable `{name}` field",
                            entry.path
                        ),
                    })
            };
            let (package, version, arch) =
                (field("Package")?, field("Version")?, field("Architecture")?);
            let filename = pool_path(&package, &version, &arch);
            let pool = PoolFile {
                filename: filename.clone(),
                source,
                size: entry.size,
                sha256,
            };
            if let Some(&i) = by_filename.get(&filename) {
                if pkgs[i].pool.sha256 == sha256 {
                    continue; // the same deb, shipped by two components
                }
                return Err(PublishError::DuplicatePackage {
                    filename,
                    first: pkgs[i].pool.source.clone(),
                    second: pool.source,
                });
            }
            by_filename.insert(filename, pkgs.len());
            pkgs.push(Pkg {
                package,
                version,
                arch,
                pool,
                fields,
            });
        }
    }
    cache.debs.retain(|k, _| used.contains(k));
    pkgs.sort_by(|a, b| {
        (&a.package, &a.arch, &a.version, &a.pool.filename).cmp(&(
            &b.package,
            &b.arch,
            &b.version,
            &b.pool.filename,
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
                .filter(|p| p.arch != "all")
                .map(|p| p.arch.clone()),
        );
        set.into_iter().collect()
    } else {
        let mut v = opts.architectures.clone();
        v.sort();
        v.dedup();
        v
    };

    let mut plain: Vec<(String, String)> = Vec::new();
    for arch in &architectures {
        let mut text = String::new();
        for p in pkgs.iter().filter(|p| &p.arch == arch || p.arch == "all") {
            deb822::write_stanza(
                &mut text,
                &p.fields,
                &[
                    ("Filename", p.pool.filename.clone()),
                    ("Size", p.pool.size.to_string()),
                    ("SHA256", p.pool.sha256.hex()),
                ],
            );
        }
        plain.push((format!("{AREA}/binary-{arch}/Packages"), text));
    }
    eprintln!("TIMING stanzas {:?}", t0.elapsed());
    let files = compress_all(plain);
    eprintln!("TIMING compress {:?}", t0.elapsed());

    let date = opts.date.unwrap_or_else(release_date);
    let release = release_text(opts, stage, &architectures, date, &files);
    let in_release = opts
        .sign_key
        .as_ref()
        .map(|k| k.clearsign(&release))
        .transpose()?;
    let mut pool: Vec<PoolFile> = pkgs.into_iter().map(|p| p.pool).collect();
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

/// Plain, gzip and xz variants of every Packages file, compressed on parallel threads.
fn compress_all(plain: Vec<(String, String)>) -> Vec<IndexFile> {
    let compressed: Vec<(Vec<u8>, Vec<u8>)> = std::thread::scope(|s| {
        let handles: Vec<_> = plain
            .iter()
            .map(|(_, text)| {
                let bytes = text.as_bytes();
                let gz = s.spawn(move || gzip(bytes));
                let xz = s.spawn(move || xz(bytes));
                (gz, xz)
            })
            .collect();
        handles
            .into_iter()
            .map(|(gz, xz)| {
                (
                    gz.join().expect("gzip into memory does not panic"),
                    xz.join().expect("xz into memory does not panic"),
                )
            })
            .collect()
    });
    let mut files = Vec::with_capacity(plain.len() * 3);
    for ((path, text), (gz, xz)) in plain.into_iter().zip(compressed) {
        files.push(IndexFile {
            path: format!("{path}.gz"),
            bytes: gz,
        });
        files.push(IndexFile {
            path: format!("{path}.xz"),
            bytes: xz,
        });
        files.push(IndexFile {
            path,
            bytes: text.into_bytes(),
        });
    }
    files.sort_by(|a, b| a.path.cmp(&b.path));
    files
}

fn gzip(data: &[u8]) -> Vec<u8> {
    // GzEncoder writes mtime 0 and no file name: the output is deterministic.
    let mut e = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::best());
    e.write_all(data)
        .expect("writing into memory does not fail");
    e.finish().expect("writing into memory does not fail")
}

fn xz(data: &[u8]) -> Vec<u8> {
    let mut w = lzma_rust2::XzWriter::new(Vec::new(), lzma_rust2::XzOptions::with_preset(6))
        .expect("xz preset 6 is valid");
    w.write_all(data)
        .expect("writing into memory does not fail");
    w.finish().expect("writing into memory does not fail")
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
    stage: &Stage,
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
    stage: &Stage,
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
    let index = apt_index(repo, stage, &mut cache, opts)?;

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
    for p in &index.pool {
        let dst = out.join(&p.filename);
        let known = cache.pool.get(&p.filename) == Some(&p.sha256.hex())
            && std::fs::metadata(&dst).is_ok_and(|m| m.len() == p.size);
        let how = if known {
            Placed::Kept
        } else {
            fsutil::link_or_copy(&p.source, &dst)?
        };
        match how {
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
    let pool_root = out.join("pool");
    for rel in fsutil::list_files(&pool_root)? {
        let filename = format!("pool/{rel}");
        if !keep.contains(filename.as_str()) {
            let path = pool_root.join(&rel);
            fs_err::remove_file(&path).map_err(PublishError::io(&path))?;
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
    cache.save(&cache_path)?;
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
    fn compression_round_trips() {
        use std::io::Read;
        let text = "Package: a\n\n".repeat(100);
        let files = compress_all(vec![("main/binary-amd64/Packages".into(), text.clone())]);
        assert_eq!(files.len(), 3);
        let mut out = String::new();
        flate2::read::GzDecoder::new(&files[1].bytes[..])
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
