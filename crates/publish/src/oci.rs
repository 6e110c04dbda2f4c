//! `publish oci --out`: an OCI image layout of the images one stage runs.
//!
//! ```text
//! OUT/oci-layout
//! OUT/index.json          one descriptor per image, annotated
//!                         org.opencontainers.image.ref.name = <component>:<version>
//! OUT/blobs/sha256/<hex>  manifests, configs, layers (shared layers stored once)
//! OUT/.berth-publish-oci.json   archive sha256 -> descriptor (skip re-reading)
//! ```
//!
//! skopeo (1.9.3 checked) reads an image as `oci:OUT:cloud/dmp/ms-ingestion:1.0.2`: the
//! layout path ends at the first `:`, and the reference `<component>:<version>` is a valid
//! OCI ref name (components joined by `/`, `:` an allowed separator).
//!
//! OCI archives are copied blob for blob, so an image keeps its digest (manifest.yaml's
//! `sha256`). `docker save` archives are converted: their config and layers become blobs
//! as they are, and berth writes an OCI image manifest over them; the image ID (config
//! digest, manifest.yaml's `sha256` for such archives) is kept, but the image's digest is
//! then that of the generated manifest, which the report gives.
//!
//! Atomic for a client: blobs are written first (each by rename), then `index.json` is
//! replaced atomically, then blobs no image references any more are removed.

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::io::{BufRead, BufReader, Read, Write};

use berth_model::{Format, Repository, Sha256Digest};
use camino::{Utf8Path, Utf8PathBuf};
use serde::{Deserialize, Serialize};
use sha2::Digest as _;

use crate::{Artifact, Contents, PublishError, Result, fsutil};

/// The annotation naming an image in `index.json`.
pub const REF_NAME: &str = "org.opencontainers.image.ref.name";
/// The cache file in the layout directory.
pub const CACHE_FILE: &str = ".berth-publish-oci.json";
/// OCI media types berth writes.
pub const MEDIA_MANIFEST: &str = "application/vnd.oci.image.manifest.v1+json";
/// OCI image index.
pub const MEDIA_INDEX: &str = "application/vnd.oci.image.index.v1+json";
/// OCI image config.
pub const MEDIA_CONFIG: &str = "application/vnd.oci.image.config.v1+json";
const DOCKER_MANIFEST_LIST: &str = "application/vnd.docker.distribution.manifest.list.v2+json";

/// An OCI content descriptor.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Descriptor {
    /// Media type of the referenced content.
    #[serde(rename = "mediaType", default)]
    pub media_type: String,
    /// `sha256:<hex>`.
    pub digest: String,
    /// Size in bytes.
    pub size: u64,
    /// Platform (in image indexes).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub platform: Option<serde_json::Value>,
    /// Annotations.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub annotations: BTreeMap<String, String>,
}

impl Descriptor {
    /// The digest, parsed.
    pub fn sha256(&self) -> Option<Sha256Digest> {
        self.digest
            .strip_prefix("sha256:")
            .and_then(|h| Sha256Digest::parse(h).ok())
    }
    /// True for an image index (OCI or Docker manifest list).
    pub fn is_index(&self) -> bool {
        self.media_type == MEDIA_INDEX || self.media_type == DOCKER_MANIFEST_LIST
    }
}

/// The top-level `index.json` of a layout.
#[derive(Debug, Clone, Serialize, Deserialize)]
struct Index {
    #[serde(rename = "schemaVersion")]
    schema_version: u32,
    #[serde(
        rename = "mediaType",
        default,
        skip_serializing_if = "String::is_empty"
    )]
    media_type: String,
    manifests: Vec<Descriptor>,
}

/// What an image manifest or index references (the fields berth follows).
#[derive(Debug, Deserialize)]
struct Refs {
    #[serde(rename = "mediaType", default)]
    media_type: Option<String>,
    #[serde(default)]
    manifests: Option<Vec<Descriptor>>,
    #[serde(default)]
    config: Option<Descriptor>,
    #[serde(default)]
    layers: Option<Vec<Descriptor>>,
}

/// One image of a publication.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct PublishedImage {
    /// The component.
    pub component: String,
    /// The version.
    pub version: String,
    /// `<component>:<version>`, the layout's ref name.
    pub ref_name: String,
    /// The image's digest (manifest or index), `sha256:<hex>`.
    pub digest: String,
    /// Its media type.
    pub media_type: String,
    /// True when converted from a `docker save` archive (the digest is then that of the
    /// manifest berth generated).
    pub converted: bool,
    /// The top descriptor (for pushing).
    #[serde(skip)]
    pub descriptor: Descriptor,
}

/// What a layout publication did.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct OciReport {
    /// The layout directory.
    pub out: Utf8PathBuf,
    /// The images, sorted by ref name.
    pub images: Vec<PublishedImage>,
    /// Archives opened (not known from the cache).
    pub archives_read: usize,
    /// Blobs removed (no image references them any more).
    pub blobs_removed: usize,
}

#[derive(Debug, Default, Serialize, Deserialize)]
struct Cache {
    #[serde(default)]
    stage: Option<String>,
    /// Archive sha256 (hex) -> (top descriptor, converted).
    #[serde(default)]
    archives: BTreeMap<String, (Descriptor, bool)>,
}

/// Publishes the stage's images into the OCI layout `out`.
pub fn publish_layout(repo: &Repository, stage: &Contents, out: Utf8PathBuf) -> Result<OciReport> {
    fs_err::create_dir_all(out.join("blobs/sha256")).map_err(PublishError::io(&out))?;
    let _lock = crate::apt::lock_dir(&out)?;
    let cache_path = out.join(CACHE_FILE);
    let mut cache: Cache = std::fs::read(&cache_path)
        .ok()
        .and_then(|b| serde_json::from_slice(&b).ok())
        .unwrap_or_default();
    let stage_name = stage.name();
    if let Some(other) = cache.stage.as_deref().filter(|s| *s != stage_name) {
        return Err(PublishError::UnknownStage {
            detail: format!(
                "{out} holds the images of stage {other}; publish each stage into its own directory"
            ),
        });
    }
    let layout = LayoutDir { root: out.clone() };
    let mut report = OciReport {
        out: out.clone(),
        ..OciReport::default()
    };
    let mut used_archives = BTreeSet::new();
    let mut reachable: BTreeSet<String> = BTreeSet::new();
    for art in crate::artifacts(repo, stage, &Format::docker())? {
        let (archive, archive_sha) = image_file(&art)?;
        let key = archive_sha.hex();
        let cached = cache
            .archives
            .get(&key)
            .filter(|(d, _)| layout.closure(d).is_ok())
            .cloned();
        let (desc, converted) = match cached {
            Some(c) => c,
            None => {
                report.archives_read += 1;
                let imported = layout.import_archive(repo, &archive)?;
                check_digest(&art, &repo.path(&archive), &imported)?;
                (imported.top, imported.converted)
            }
        };
        for d in layout.closure(&desc)? {
            reachable.insert(d.digest);
        }
        cache
            .archives
            .insert(key.clone(), (desc.clone(), converted));
        used_archives.insert(key);
        let ref_name = format!("{}:{}", art.component, art.version);
        let mut top = desc.clone();
        top.annotations = BTreeMap::from([(REF_NAME.to_owned(), ref_name.clone())]);
        report.images.push(PublishedImage {
            component: art.component.to_string(),
            version: art.version.to_string(),
            ref_name,
            digest: desc.digest.clone(),
            media_type: desc.media_type.clone(),
            converted,
            descriptor: top,
        });
    }
    report.images.sort_by(|a, b| a.ref_name.cmp(&b.ref_name));
    cache.archives.retain(|k, _| used_archives.contains(k));
    cache.stage = Some(stage_name);

    let index = Index {
        schema_version: 2,
        media_type: MEDIA_INDEX.to_owned(),
        manifests: report.images.iter().map(|i| i.descriptor.clone()).collect(),
    };
    let write_json = |path: &Utf8Path, value: &dyn erased::Json| -> Result<()> {
        let bytes = value.to_vec();
        berth_model::store::atomic_write(path, &bytes, true).map_err(PublishError::io(path))
    };
    write_json(
        &out.join("oci-layout"),
        &serde_json::json!({"imageLayoutVersion": "1.0.0"}),
    )?;
    write_json(&out.join("index.json"), &index)?;

    // Blobs nothing references any more (and leftovers of interrupted imports).
    let blobs = out.join("blobs/sha256");
    for entry in fs_err::read_dir(&blobs).map_err(PublishError::io(&blobs))? {
        let entry = entry.map_err(PublishError::io(&blobs))?;
        let name = entry.file_name().to_string_lossy().into_owned();
        if !reachable.contains(&format!("sha256:{name}")) {
            let p = blobs.join(&name);
            fs_err::remove_file(&p).map_err(PublishError::io(&p))?;
            report.blobs_removed += 1;
        }
    }
    write_json(&cache_path, &cache)?;
    Ok(report)
}

/// Serialising heterogeneous values through one closure.
mod erased {
    pub(super) trait Json {
        fn to_vec(&self) -> Vec<u8>;
    }
    impl<T: serde::Serialize> Json for T {
        fn to_vec(&self) -> Vec<u8> {
            let mut v = serde_json::to_vec_pretty(self).unwrap_or_default();
            v.push(b'\n');
            v
        }
    }
}

/// The image archive of a docker format directory and its sha256 (from the manifest).
fn image_file(art: &Artifact) -> Result<(Utf8PathBuf, Sha256Digest)> {
    let files = &art.manifest.files;
    let entry = match files.as_slice() {
        [one] => Some(one),
        _ => files.iter().find(|f| f.path == "image.tar"),
    }
    .ok_or_else(|| PublishError::BadManifest {
        manifest: art.manifest_path.clone(),
        detail: "the docker format directory must hold one image archive (image.tar)".into(),
    })?;
    let sha = entry
        .sha256
        .get()
        .ok_or_else(|| PublishError::BadManifest {
            manifest: art.manifest_path.clone(),
            detail: format!("the sha256 of {} is not valid", entry.path),
        })?;
    Ok((art.dir.join(&entry.path), *sha))
}

/// The imported image must be the one manifest.yaml describes.
fn check_digest(art: &Artifact, archive: &Utf8Path, imported: &Imported) -> Result<()> {
    let Some(expected) = art.manifest.sha256.get() else {
        return Ok(());
    };
    let actual = if imported.converted {
        imported.config
    } else {
        imported.top.sha256()
    };
    match actual {
        Some(actual) if actual != *expected => Err(PublishError::DigestMismatch {
            path: archive.to_owned(),
            manifest: art.manifest_path.clone(),
            expected: *expected,
            actual,
        }),
        _ => Ok(()),
    }
}

/// The result of importing one archive.
struct Imported {
    top: Descriptor,
    converted: bool,
    /// docker-save: the config digest (image ID).
    config: Option<Sha256Digest>,
}

/// What the import keeps of a tar member.
#[derive(Debug, Clone, Copy)]
struct Member {
    digest: Sha256Digest,
    size: u64,
    magic: [u8; 4],
}

const MAX_LINK_HOPS: usize = 32;
const JSON_LIMIT: u64 = 4 << 20;

/// An OCI layout directory.
pub(crate) struct LayoutDir {
    pub(crate) root: Utf8PathBuf,
}

impl LayoutDir {
    pub(crate) fn blob_path(&self, digest: &str) -> Utf8PathBuf {
        let hex = digest.strip_prefix("sha256:").unwrap_or(digest);
        self.root.join("blobs/sha256").join(hex)
    }

    fn read_json<T: for<'de> Deserialize<'de>>(&self, d: &Descriptor) -> Result<T> {
        let path = self.blob_path(&d.digest);
        if d.size > JSON_LIMIT {
            return Err(PublishError::Image {
                path,
                detail: format!("a {} byte manifest is more than berth reads", d.size),
            });
        }
        let bytes = fs_err::read(&path).map_err(PublishError::io(&path))?;
        serde_json::from_slice(&bytes).map_err(|e| PublishError::Image {
            path,
            detail: format!("not a JSON manifest: {e}"),
        })
    }

    /// Every blob an image needs (itself first), each checked to be present with its
    /// size. Errors when one is missing.
    pub(crate) fn closure(&self, top: &Descriptor) -> Result<Vec<Descriptor>> {
        let mut out = Vec::new();
        let mut todo = vec![(top.clone(), true)];
        while let Some((d, is_manifest)) = todo.pop() {
            if d.sha256().is_none() {
                return Err(PublishError::Image {
                    path: self.root.clone(),
                    detail: format!("`{}` is not a sha256 digest", d.digest),
                });
            }
            let path = self.blob_path(&d.digest);
            let len = std::fs::metadata(&path)
                .map_err(PublishError::io(&path))?
                .len();
            if len != d.size {
                return Err(PublishError::Image {
                    path,
                    detail: format!("{len} bytes, but {} are referenced", d.size),
                });
            }
            if is_manifest {
                let refs: Refs = self.read_json(&d)?;
                for child in refs.manifests.into_iter().flatten() {
                    todo.push((child, true));
                }
                todo.extend(refs.config.into_iter().map(|c| (c, false)));
                for l in refs.layers.into_iter().flatten() {
                    todo.push((l, false));
                }
            }
            out.push(d);
        }
        Ok(out)
    }

    /// Streams an image archive (docker-save or OCI, plain or gzip) into blobs and
    /// returns the image's top descriptor.
    fn import_archive(&self, repo: &Repository, rel: &Utf8Path) -> Result<Imported> {
        let archive = &repo.path(rel);
        let (file, _) = repo.store().open(rel).map_err(|e| PublishError::Io {
            path: archive.clone(),
            source: e.into(),
        })?;
        let mut buffered = BufReader::with_capacity(1 << 16, file);
        let gzip = buffered
            .fill_buf()
            .map_err(PublishError::io(archive))?
            .starts_with(&[0x1f, 0x8b]);
        let (members, links) = if gzip {
            self.scan(archive, flate2::read::MultiGzDecoder::new(buffered))?
        } else {
            self.scan(archive, buffered)?
        };
        let lookup = |name: &str| -> Result<Member> {
            let mut cur = normalize(name);
            for _ in 0..MAX_LINK_HOPS {
                if let Some(m) = members.get(&cur) {
                    return Ok(*m);
                }
                match links.get(&cur) {
                    Some(t) => cur = t.clone(),
                    None => {
                        return Err(PublishError::Image {
                            path: archive.to_owned(),
                            detail: format!("the archive has no member `{name}`"),
                        });
                    }
                }
            }
            Err(PublishError::Image {
                path: archive.to_owned(),
                detail: format!("`{name}` goes through too many links"),
            })
        };
        let json = |name: &str| -> Result<serde_json::Value> {
            let m = lookup(name)?;
            self.read_json(&Descriptor {
                media_type: String::new(),
                digest: format!("sha256:{}", m.digest.hex()),
                size: m.size,
                platform: None,
                annotations: BTreeMap::new(),
            })
        };
        let bad = |detail: String| PublishError::Image {
            path: archive.to_owned(),
            detail,
        };
        if members.contains_key("manifest.json") || links.contains_key("manifest.json") {
            // docker save: config + layers as they are, under a generated OCI manifest.
            #[derive(Deserialize)]
            struct Entry {
                #[serde(rename = "Config")]
                config: String,
                #[serde(rename = "Layers", default)]
                layers: Vec<String>,
            }
            let entries: Vec<Entry> = serde_json::from_value(json("manifest.json")?)
                .map_err(|e| bad(format!("manifest.json: {e}")))?;
            let [entry] = entries.as_slice() else {
                return Err(bad(format!(
                    "manifest.json lists {} images; berth publishes one image per archive",
                    entries.len()
                )));
            };
            let config = lookup(&entry.config)?;
            let mut layers = Vec::new();
            for l in &entry.layers {
                let m = lookup(l)?;
                let media_type = if m.magic.starts_with(&[0x1f, 0x8b]) {
                    "application/vnd.oci.image.layer.v1.tar+gzip"
                } else if m.magic == [0x28, 0xb5, 0x2f, 0xfd] {
                    "application/vnd.oci.image.layer.v1.tar+zstd"
                } else {
                    "application/vnd.oci.image.layer.v1.tar"
                };
                layers.push(serde_json::json!({
                    "mediaType": media_type,
                    "digest": format!("sha256:{}", m.digest.hex()),
                    "size": m.size,
                }));
            }
            let manifest = serde_json::json!({
                "schemaVersion": 2,
                "mediaType": MEDIA_MANIFEST,
                "config": {
                    "mediaType": MEDIA_CONFIG,
                    "digest": format!("sha256:{}", config.digest.hex()),
                    "size": config.size,
                },
                "layers": layers,
            });
            let bytes = serde_json::to_vec(&manifest).map_err(|e| bad(e.to_string()))?;
            let digest = Sha256Digest::of(&bytes);
            let path = self.blob_path(&digest.hex());
            if !path.exists() {
                berth_model::store::atomic_write(&path, &bytes, true)
                    .map_err(PublishError::io(&path))?;
            }
            Ok(Imported {
                top: Descriptor {
                    media_type: MEDIA_MANIFEST.to_owned(),
                    digest: format!("sha256:{}", digest.hex()),
                    size: bytes.len() as u64,
                    platform: None,
                    annotations: BTreeMap::new(),
                },
                converted: true,
                config: Some(config.digest),
            })
        } else if members.contains_key("index.json") {
            let index: Index = serde_json::from_value(json("index.json")?)
                .map_err(|e| bad(format!("index.json: {e}")))?;
            let [top] = index.manifests.as_slice() else {
                return Err(bad(format!(
                    "index.json lists {} entries; berth publishes one image (or image index) per archive",
                    index.manifests.len()
                )));
            };
            let mut top = top.clone();
            top.annotations.clear();
            if top.media_type.is_empty() {
                let refs: Refs = self.read_json(&top)?;
                top.media_type = refs.media_type.unwrap_or_else(|| {
                    if refs.manifests.is_some() {
                        MEDIA_INDEX.to_owned()
                    } else {
                        MEDIA_MANIFEST.to_owned()
                    }
                });
            }
            Ok(Imported {
                top,
                converted: false,
                config: None,
            })
        } else {
            Err(bad(
                "neither a docker-save archive (manifest.json) nor an OCI archive (index.json)"
                    .into(),
            ))
        }
    }

    /// Reads every member: regular files become blobs (named by their sha256), links
    /// are remembered. Members already stored as blobs of the same name are not copied.
    fn scan(
        &self,
        archive: &Utf8Path,
        reader: impl Read,
    ) -> Result<(HashMap<String, Member>, HashMap<String, String>)> {
        let io = PublishError::io(archive);
        let blobs = self.root.join("blobs/sha256");
        let mut members = HashMap::new();
        let mut links = HashMap::new();
        let mut tar = tar::Archive::new(reader);
        let entries = tar.entries().map_err(io)?;
        for entry in entries {
            let mut entry = entry.map_err(PublishError::io(archive))?;
            let name = normalize(&String::from_utf8_lossy(&entry.path_bytes()));
            let kind = entry.header().entry_type();
            if kind.is_symlink() || kind.is_hard_link() {
                let target = entry
                    .link_name_bytes()
                    .map(|t| String::from_utf8_lossy(&t).into_owned())
                    .unwrap_or_default();
                let resolved = if kind.is_symlink() && !target.starts_with('/') {
                    match name.rsplit_once('/') {
                        Some((dir, _)) => normalize(&format!("{dir}/{target}")),
                        None => normalize(&target),
                    }
                } else {
                    normalize(&target)
                };
                links.insert(name, resolved);
                continue;
            }
            if !kind.is_file() {
                continue;
            }
            let size = entry.size();
            // A blob already in the layout under its own name: verified when stored.
            if let Some(hex) = name.strip_prefix("blobs/sha256/")
                && let Ok(digest) = Sha256Digest::parse(hex)
            {
                let stored = blobs.join(digest.hex());
                if std::fs::metadata(&stored).is_ok_and(|m| m.len() == size) {
                    let mut magic = [0u8; 4];
                    let _ = fs_err::File::open(&stored).and_then(|mut f| f.read(&mut magic));
                    members.insert(
                        name,
                        Member {
                            digest,
                            size,
                            magic,
                        },
                    );
                    continue;
                }
            }
            let tmp = fsutil::temp_beside(&blobs.join("x"), "blob-in");
            let member = (|| -> std::io::Result<Member> {
                let mut out = std::io::BufWriter::new(fs_err::File::create(&tmp)?);
                let mut hasher = sha2::Sha256::new();
                let mut magic = [0u8; 4];
                let mut buf = vec![0u8; 1 << 16];
                let mut total: u64 = 0;
                loop {
                    let n = entry.read(&mut buf)?;
                    if n == 0 {
                        break;
                    }
                    if total < 4 {
                        let start = usize::try_from(total).unwrap_or(4);
                        let take = (4 - start).min(n);
                        magic[start..start + take].copy_from_slice(&buf[..take]);
                    }
                    hasher.update(&buf[..n]);
                    out.write_all(&buf[..n])?;
                    total += n as u64;
                }
                out.into_inner().map_err(|e| e.into_error())?.sync_all()?;
                Ok(Member {
                    digest: Sha256Digest::from_bytes(hasher.finalize().into()),
                    size: total,
                    magic,
                })
            })();
            let member = match member {
                Ok(m) => m,
                Err(e) => {
                    let _ = std::fs::remove_file(&tmp);
                    return Err(PublishError::io(archive)(e));
                }
            };
            if let Some(hex) = name.strip_prefix("blobs/sha256/")
                && let Ok(named) = Sha256Digest::parse(hex)
                && named != member.digest
            {
                let _ = std::fs::remove_file(&tmp);
                return Err(PublishError::Image {
                    path: archive.to_owned(),
                    detail: format!(
                        "member {name} holds content with sha256 {}; the archive is damaged",
                        member.digest
                    ),
                });
            }
            let dst = blobs.join(member.digest.hex());
            if dst.exists() {
                let _ = std::fs::remove_file(&tmp);
            } else {
                std::fs::rename(&tmp, &dst).map_err(PublishError::io(&dst))?;
            }
            members.insert(name, member);
        }
        Ok((members, links))
    }
}

/// `./a//b/../c` -> `a/c` (never above the root).
fn normalize(name: &str) -> String {
    let mut parts: Vec<&str> = Vec::new();
    for seg in name.split('/') {
        match seg {
            "" | "." => {}
            ".." => {
                parts.pop();
            }
            s => parts.push(s),
        }
    }
    parts.join("/")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn member_names() {
        assert_eq!(normalize("./blobs/sha256/ab"), "blobs/sha256/ab");
        assert_eq!(normalize("a/../../etc/x"), "etc/x");
        assert_eq!(normalize("abc/layer.tar"), "abc/layer.tar");
    }
}
