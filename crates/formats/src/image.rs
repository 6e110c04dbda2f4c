//! Docker / OCI image archives: `docker save` tarballs and OCI archives (`oci-archive:`).
//!
//! One sequential pass over the file: the whole file is hashed, every member is hashed as
//! it streams, every `blobs/sha256/<hex>` member is checked against its name, and only JSON
//! members up to 4 MiB are kept. References (manifest.json, index.json, manifests,
//! configs, layers) are resolved after the pass, so memory stays small and constant
//! whatever the size of the layers.

use std::collections::{BTreeMap, HashMap, HashSet};
use std::io::{BufRead, BufReader, Read};

use berth_model::{Arch, Sha256Digest, Timestamp};
use camino::Utf8Path;
use serde::Deserialize;

use crate::FormatError;
use crate::hash::{BUF_SIZE, Destination, FileDigest, HashingReader, Progress};
use crate::tarwalk::{MemberKind, resolve_link, walk_tar};

/// JSON members larger than this are not kept (and cannot be a manifest or config).
pub const JSON_MEMBER_LIMIT: u64 = 4 << 20;
/// The most JSON berth keeps in memory for one archive, all members together.
const JSON_TOTAL_LIMIT: u64 = 64 << 20;
/// Label (and manifest annotation) naming the base image.
const BASE_NAME: &str = "org.opencontainers.image.base.name";
/// How many links a reference may go through.
const MAX_LINK_HOPS: usize = 32;

/// The two kinds of image archive berth reads.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ImageArchiveKind {
    /// A `docker save` tarball (`manifest.json` at the root; `docker-archive:` in skopeo).
    /// Docker 25+ also writes an OCI layout inside; `manifest.json` wins, so the digest is
    /// the image ID, as `docker load` and `skopeo … docker-archive:` see it.
    DockerArchive,
    /// An OCI image layout in a tar (`oci-layout`, `index.json`, `blobs/`; `oci-archive:`).
    OciArchive,
}

/// One platform an image runs on.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Platform {
    /// Operating system (`linux`).
    pub os: String,
    /// CPU architecture as OCI names it (`amd64`, `arm64`).
    pub architecture: Arch,
    /// CPU variant (`v8`), when given.
    pub variant: Option<String>,
}

/// What berth learnt from an image archive.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ImageInfo {
    /// Which kind of archive it is.
    pub kind: ImageArchiveKind,
    /// manifest.yaml's `sha256`. OCI archive: the digest of the manifest (or image index)
    /// that `index.json` points at, i.e. `skopeo inspect oci-archive:F` `.Digest`.
    /// docker-save archive: the image ID (config digest), i.e. `.config.digest` of
    /// `skopeo inspect --raw docker-archive:F`.
    pub digest: Sha256Digest,
    /// The config digest (image ID); for an image index, that of its first platform.
    pub image_id: Sha256Digest,
    /// Every platform, in index order (one for a single-platform image). Attestation
    /// manifests (`unknown/unknown`) are not platforms and are left out.
    pub platforms: Vec<Platform>,
    /// The config's labels (of the first platform).
    pub labels: BTreeMap<String, String>,
    /// The config's `created`.
    pub created: Option<Timestamp>,
    /// The label (or manifest annotation) `org.opencontainers.image.base.name`.
    pub base_image: Option<String>,
    /// Size and sha256 of the archive file itself.
    pub file: FileDigest,
    /// Every referenced blob, verified (index, manifests, configs, layers), as
    /// (digest, size), in the order first referenced, without repeats. For a docker-save
    /// archive the layers' digests are their diff IDs.
    pub blobs: Vec<(Sha256Digest, u64)>,
}

/// Reads an image archive (docker-save or OCI, optionally gzip-compressed as a whole) in
/// one streaming pass and verifies every blob. `progress` receives the bytes of the file
/// read so far.
pub fn inspect_image(path: &Utf8Path, progress: Progress<'_>) -> Result<ImageInfo, FormatError> {
    let (file, _) = berth_model::store::open_regular(path)?;
    inspect_image_from(path, file, progress)
}

/// Like [`inspect_image`], over an opened file or any stream (an artifact opened through a
/// repository's store); `path` is what errors name.
pub fn inspect_image_from(
    path: &Utf8Path,
    file: impl Read,
    progress: Progress<'_>,
) -> Result<ImageInfo, FormatError> {
    let mut hashing = HashingReader::new(file, progress);
    let scan = scan_stream(path, &mut hashing)?;
    let file = hashing.finish();
    finish_image(path, &scan, file)
}

/// Like [`inspect_image`], and copies the archive ([`Destination::CopyTo`]) or fsyncs it
/// where it is ([`Destination::InPlace`]: `berth add --move`), in the same single read of
/// `src`: the whole-file SHA-256 (and the copy) run on a second thread while this one
/// parses and verifies the blobs. This is how `berth add` ingests a large image at about
/// the speed of one SHA-256 pass.
pub fn ingest_image(
    src: &Utf8Path,
    dest: Destination<'_>,
    progress: Progress<'_>,
) -> Result<ImageInfo, FormatError> {
    let (scan, file) = crate::tee::tee_read(src, dest, progress, scan_stream)?;
    finish_image(dest.shown(src), &scan, file)
}

/// Reads the whole stream (gzip-compressed or not) and keeps what the image needs.
fn scan_stream(path: &Utf8Path, reader: &mut dyn Read) -> Result<Scan, FormatError> {
    let io_err = |source| FormatError::Io {
        path: path.to_owned(),
        source,
    };
    let mut buffered = BufReader::with_capacity(BUF_SIZE, reader);
    let head = buffered.fill_buf().map_err(io_err)?;
    if head.starts_with(b"!<arch>\n") {
        return Err(FormatError::NotAnArchive {
            path: path.to_owned(),
            expected: "an image archive",
            detail: "it is an ar archive (a Debian package?); give it with --deb, and an image \
                     made by `docker save` or `skopeo copy … oci-archive:FILE` with --docker"
                .to_owned(),
        });
    }
    let gzip = head.starts_with(&[0x1f, 0x8b]);
    let scan = if gzip {
        scan_archive(path, flate2::read::MultiGzDecoder::new(&mut buffered))?
    } else {
        scan_archive(path, &mut buffered)?
    };
    std::io::copy(&mut buffered, &mut std::io::sink()).map_err(io_err)?;
    Ok(scan)
}

fn finish_image(path: &Utf8Path, scan: &Scan, file: FileDigest) -> Result<ImageInfo, FormatError> {
    let ctx = Ctx { path, scan };
    let parts = if ctx.scan.nodes.contains_key("manifest.json") {
        ctx.docker()?
    } else if ctx.scan.nodes.contains_key("index.json") {
        ctx.oci()?
    } else {
        return Err(FormatError::InvalidImage {
            path: path.to_owned(),
            detail:
                "the archive has neither manifest.json (docker save) nor index.json (OCI archive); \
                     make it with `docker save` or `skopeo copy … oci-archive:FILE`"
                    .to_owned(),
        });
    };
    Ok(ImageInfo {
        kind: parts.kind,
        digest: parts.digest,
        image_id: parts.image_id,
        platforms: parts.platforms,
        labels: parts.labels,
        created: parts.created,
        base_image: parts.base_image,
        file,
        blobs: parts.blobs.list,
    })
}

/// What the pass keeps of each member.
enum Node {
    File(FileNode),
    Dir,
    Link(String),
}

struct FileNode {
    size: u64,
    sha256: Sha256Digest,
    /// The content, for JSON members up to [`JSON_MEMBER_LIMIT`].
    json: Option<Vec<u8>>,
    /// Starts like gzip or zstd data.
    compressed: bool,
    /// Named `blobs/sha256/<hex>` and checked against that name.
    verified_by_name: bool,
}

struct Scan {
    nodes: HashMap<String, Node>,
}

fn scan_archive(path: &Utf8Path, reader: impl Read) -> Result<Scan, FormatError> {
    let mut nodes = HashMap::new();
    let mut json_total: u64 = 0;
    walk_tar(
        path,
        "the image archive",
        reader,
        |_, size| Ok(size <= JSON_MEMBER_LIMIT),
        |m| {
            let node = match m.kind {
                MemberKind::File(fd) => {
                    let named = blob_name_digest(&m.name);
                    if let Some(expected) = named
                        && expected != fd.sha256
                    {
                        return Err(FormatError::DigestMismatch {
                            path: path.to_owned(),
                            member: m.name,
                            expected,
                            actual: fd.sha256,
                        });
                    }
                    let json = fd.content.filter(|c| looks_like_json(c));
                    json_total += json.as_ref().map_or(0, |c| c.len() as u64);
                    if json_total > JSON_TOTAL_LIMIT {
                        return Err(FormatError::InvalidImage {
                            path: path.to_owned(),
                            detail: format!(
                                "the archive holds more than {JSON_TOTAL_LIMIT} bytes of JSON members; \
                                 it is not an image berth accepts"
                            ),
                        });
                    }
                    Node::File(FileNode {
                        size: fd.size,
                        sha256: fd.sha256,
                        json,
                        compressed: fd.magic.starts_with(&[0x1f, 0x8b])
                            || fd.magic.starts_with(&[0x28, 0xb5, 0x2f, 0xfd]),
                        verified_by_name: named.is_some(),
                    })
                }
                MemberKind::Dir => Node::Dir,
                MemberKind::Symlink { target } | MemberKind::Hardlink { target } => {
                    Node::Link(target)
                }
            };
            nodes.insert(m.name, node);
            Ok(())
        },
    )?;
    Ok(Scan { nodes })
}

/// `blobs/sha256/<64 hex>` → the digest in the name.
fn blob_name_digest(name: &str) -> Option<Sha256Digest> {
    let hex = name.strip_prefix("blobs/sha256/")?;
    if hex.contains('/') {
        return None;
    }
    Sha256Digest::parse(hex).ok()
}

fn looks_like_json(c: &[u8]) -> bool {
    matches!(
        c.iter().find(|b| !b.is_ascii_whitespace()),
        Some(b'{') | Some(b'[')
    )
}

/// Blobs referenced so far, without repeats.
#[derive(Default)]
struct Blobs {
    seen: HashSet<Sha256Digest>,
    list: Vec<(Sha256Digest, u64)>,
}

impl Blobs {
    fn add(&mut self, digest: Sha256Digest, size: u64) {
        if self.seen.insert(digest) {
            self.list.push((digest, size));
        }
    }
}

struct Parts {
    kind: ImageArchiveKind,
    digest: Sha256Digest,
    image_id: Sha256Digest,
    platforms: Vec<Platform>,
    labels: BTreeMap<String, String>,
    created: Option<Timestamp>,
    base_image: Option<String>,
    blobs: Blobs,
}

// ---- JSON shapes (only the fields berth reads; unknown fields are ignored) ----

#[derive(Deserialize)]
struct DockerManifestEntry {
    #[serde(rename = "Config")]
    config: String,
    #[serde(rename = "Layers", default)]
    layers: Vec<String>,
}

#[derive(Deserialize)]
struct OciLayout {
    #[serde(rename = "imageLayoutVersion")]
    image_layout_version: String,
}

#[derive(Deserialize, Clone)]
struct Descriptor {
    digest: String,
    size: u64,
    #[serde(default)]
    platform: Option<DescPlatform>,
    #[serde(default)]
    annotations: Option<BTreeMap<String, String>>,
    #[serde(default)]
    urls: Option<Vec<String>>,
}

#[derive(Deserialize, Clone)]
struct DescPlatform {
    architecture: String,
    os: String,
    #[serde(default)]
    variant: Option<String>,
}

/// An image index or an image manifest: told apart by `manifests` vs `config`.
#[derive(Deserialize)]
struct IndexOrManifest {
    #[serde(default)]
    manifests: Option<Vec<Descriptor>>,
    #[serde(default)]
    config: Option<Descriptor>,
    #[serde(default)]
    layers: Option<Vec<Descriptor>>,
    #[serde(default)]
    annotations: Option<BTreeMap<String, String>>,
}

#[derive(Deserialize)]
struct ImageConfig {
    #[serde(default)]
    architecture: Option<String>,
    #[serde(default)]
    os: Option<String>,
    #[serde(default)]
    variant: Option<String>,
    #[serde(default)]
    created: Option<String>,
    #[serde(default)]
    config: Option<ContainerConfig>,
    #[serde(default)]
    rootfs: Option<RootFs>,
}

#[derive(Deserialize)]
struct ContainerConfig {
    #[serde(rename = "Labels", default)]
    labels: Option<BTreeMap<String, String>>,
}

#[derive(Deserialize)]
struct RootFs {
    #[serde(default)]
    diff_ids: Vec<String>,
}

/// The config of one image, read and checked.
struct ConfigFacts {
    platform: Platform,
    labels: BTreeMap<String, String>,
    created: Option<Timestamp>,
    diff_ids: Vec<Sha256Digest>,
}

struct Ctx<'a> {
    path: &'a Utf8Path,
    scan: &'a Scan,
}

impl Ctx<'_> {
    fn invalid(&self, detail: impl Into<String>) -> FormatError {
        FormatError::InvalidImage {
            path: self.path.to_owned(),
            detail: detail.into(),
        }
    }

    /// Follows links from `name` to a regular file.
    fn lookup(&self, name: &str, referenced_by: &str) -> Result<(&str, &FileNode), FormatError> {
        let mut current: &str = name;
        for _ in 0..MAX_LINK_HOPS {
            match self.scan.nodes.get_key_value(current) {
                None => {
                    return Err(FormatError::MissingMember {
                        path: self.path.to_owned(),
                        member: current.to_owned(),
                        referenced_by: referenced_by.to_owned(),
                    });
                }
                Some((key, Node::File(f))) => return Ok((key.as_str(), f)),
                Some((_, Node::Dir)) => {
                    return Err(self.invalid(format!(
                        "`{current}` (referenced by {referenced_by}) is a directory, not a file"
                    )));
                }
                Some((_, Node::Link(target))) => current = target,
            }
        }
        Err(self.invalid(format!(
            "`{name}` (referenced by {referenced_by}) goes through more than {MAX_LINK_HOPS} links"
        )))
    }

    /// The JSON content of a file member, parsed.
    fn json<T: for<'de> Deserialize<'de>>(
        &self,
        name: &str,
        node: &FileNode,
    ) -> Result<T, FormatError> {
        let bytes = node.json.as_deref().ok_or_else(|| FormatError::InvalidJson {
            path: self.path.to_owned(),
            member: name.to_owned(),
            detail: if node.size > JSON_MEMBER_LIMIT {
                format!("it is {} bytes, more than the {JSON_MEMBER_LIMIT} bytes a JSON document may have", node.size)
            } else {
                "it is not a JSON document".to_owned()
            },
        })?;
        serde_json::from_slice(bytes).map_err(|e| FormatError::InvalidJson {
            path: self.path.to_owned(),
            member: name.to_owned(),
            detail: e.to_string(),
        })
    }

    /// A descriptor's digest; only sha256 is supported.
    fn desc_digest(
        &self,
        d: &Descriptor,
        referenced_by: &str,
    ) -> Result<Sha256Digest, FormatError> {
        d.digest
            .strip_prefix("sha256:")
            .and_then(|hex| Sha256Digest::parse(hex).ok())
            .ok_or_else(|| {
                self.invalid(format!(
                    "{referenced_by} refers to `{}`, which is not a sha256 digest; berth verifies sha256 blobs only",
                    d.digest
                ))
            })
    }

    /// The blob a descriptor points at, with its size checked (its digest was checked
    /// against its name during the pass).
    fn blob(
        &self,
        d: &Descriptor,
        referenced_by: &str,
    ) -> Result<(Sha256Digest, String, &FileNode), FormatError> {
        let digest = self.desc_digest(d, referenced_by)?;
        let name = format!("blobs/sha256/{}", digest.hex());
        let (_, node) = self.lookup(&name, referenced_by)?;
        if node.sha256 != digest {
            // Reached through a link to another blob.
            return Err(FormatError::DigestMismatch {
                path: self.path.to_owned(),
                member: name,
                expected: digest,
                actual: node.sha256,
            });
        }
        if node.size != d.size {
            return Err(FormatError::SizeMismatch {
                path: self.path.to_owned(),
                member: name,
                expected: d.size,
                actual: node.size,
            });
        }
        Ok((digest, name, node))
    }

    /// Reads and checks an image config.
    fn config(&self, name: &str, node: &FileNode) -> Result<ConfigFacts, FormatError> {
        let cfg: ImageConfig = self.json(name, node)?;
        let field_err = |field: &str, value: &str, reason: String| FormatError::InvalidField {
            path: self.path.to_owned(),
            field: format!("{field} in `{name}`"),
            value: value.to_owned(),
            reason,
        };
        let arch_text = cfg.architecture.unwrap_or_default();
        let architecture =
            Arch::parse(&arch_text).map_err(|e| field_err("architecture", &arch_text, e.reason))?;
        let os = cfg.os.unwrap_or_default();
        if os.is_empty() {
            return Err(field_err(
                "os",
                "",
                "the image config must name its operating system".to_owned(),
            ));
        }
        let created = match cfg.created.as_deref() {
            None | Some("") => None,
            Some(text) => {
                Some(Timestamp::parse(text).map_err(|e| field_err("created", text, e.reason))?)
            }
        };
        let diff_ids = cfg
            .rootfs
            .map(|r| r.diff_ids)
            .unwrap_or_default()
            .iter()
            .map(|d| {
                d.strip_prefix("sha256:")
                    .and_then(|h| Sha256Digest::parse(h).ok())
                    .ok_or_else(|| {
                        field_err("rootfs.diff_ids", d, "not a sha256 digest".to_owned())
                    })
            })
            .collect::<Result<Vec<_>, _>>()?;
        Ok(ConfigFacts {
            platform: Platform {
                os,
                architecture,
                variant: cfg.variant.filter(|v| !v.is_empty()),
            },
            labels: cfg.config.and_then(|c| c.labels).unwrap_or_default(),
            created,
            diff_ids,
        })
    }

    /// A `docker save` archive.
    fn docker(&self) -> Result<Parts, FormatError> {
        let (mname, mnode) = self.lookup("manifest.json", "the archive root")?;
        let entries: Vec<DockerManifestEntry> = self.json(mname, mnode)?;
        let entry = match entries.as_slice() {
            [one] => one,
            [] => return Err(self.invalid("manifest.json lists no image")),
            many => {
                return Err(self.invalid(format!(
                    "manifest.json lists {} images; berth wants one image per archive (`docker save` one image)",
                    many.len()
                )));
            }
        };
        let reference = |s: &str| resolve_link(self.path, "manifest.json", "", s);
        let config_ref = reference(&entry.config)?;
        let (config_name, config_node) = self.lookup(&config_ref, "manifest.json")?;
        let image_id = config_node.sha256;
        // Old docker names the config `<image id>.json`: hold it to that name.
        if let Some(named) = config_name
            .rsplit('/')
            .next()
            .and_then(|base| base.strip_suffix(".json"))
            .and_then(|hex| Sha256Digest::parse(hex).ok())
            && named != image_id
        {
            return Err(FormatError::DigestMismatch {
                path: self.path.to_owned(),
                member: config_name.to_owned(),
                expected: named,
                actual: image_id,
            });
        }
        let facts = self.config(config_name, config_node)?;
        let mut blobs = Blobs::default();
        blobs.add(image_id, config_node.size);
        if entry.layers.len() != facts.diff_ids.len() {
            return Err(self.invalid(format!(
                "manifest.json lists {} layers but the config `{config_name}` has {} diff_ids",
                entry.layers.len(),
                facts.diff_ids.len()
            )));
        }
        for (layer, diff_id) in entry.layers.iter().zip(&facts.diff_ids) {
            let layer_ref = reference(layer)?;
            let (lname, lnode) = self.lookup(&layer_ref, "manifest.json")?;
            if lnode.sha256 != *diff_id && !(lnode.verified_by_name && lnode.compressed) {
                return Err(FormatError::DigestMismatch {
                    path: self.path.to_owned(),
                    member: lname.to_owned(),
                    expected: *diff_id,
                    actual: lnode.sha256,
                });
            }
            blobs.add(lnode.sha256, lnode.size);
        }
        let base_image = facts.labels.get(BASE_NAME).cloned();
        Ok(Parts {
            kind: ImageArchiveKind::DockerArchive,
            digest: image_id,
            image_id,
            platforms: vec![facts.platform],
            labels: facts.labels,
            created: facts.created,
            base_image,
            blobs,
        })
    }

    /// An OCI archive.
    fn oci(&self) -> Result<Parts, FormatError> {
        let (lname, lnode) = self
            .lookup("oci-layout", "the OCI image layout")
            .map_err(|_| {
                self.invalid(
                    "index.json is there but oci-layout is not; this is not an OCI image layout",
                )
            })?;
        let layout: OciLayout = self.json(lname, lnode)?;
        if !layout.image_layout_version.starts_with("1.") {
            return Err(FormatError::InvalidField {
                path: self.path.to_owned(),
                field: "imageLayoutVersion in `oci-layout`".to_owned(),
                value: layout.image_layout_version,
                reason: "berth reads OCI image layout 1.x".to_owned(),
            });
        }
        let (iname, inode) = self.lookup("index.json", "the OCI image layout")?;
        let index: IndexOrManifest = self.json(iname, inode)?;
        let top = match index.manifests.as_deref().unwrap_or_default() {
            [one] => one.clone(),
            [] => return Err(self.invalid("index.json lists no image")),
            many => {
                return Err(self.invalid(format!(
                    "index.json lists {} entries; berth wants exactly one image or one image index \
                     (`skopeo copy [--all] SRC oci-archive:FILE` writes one)",
                    many.len()
                )));
            }
        };
        let mut blobs = Blobs::default();
        let (digest, top_name, top_node) = self.blob(&top, "index.json")?;
        blobs.add(digest, top_node.size);
        let doc: IndexOrManifest = self.json(&top_name, top_node)?;
        let mut images: Vec<(Option<Platform>, Sha256Digest, ConfigFacts, Option<String>)> =
            Vec::new();
        if let Some(children) = doc.manifests {
            let by = format!("image index `{top_name}`");
            for child in &children {
                let (cd, cname, cnode) = self.blob(child, &by)?;
                blobs.add(cd, cnode.size);
                let manifest: IndexOrManifest = self.json(&cname, cnode)?;
                if manifest.manifests.is_some() {
                    return Err(self.invalid(format!(
                        "`{cname}` is an image index inside the image index `{top_name}`; berth reads one level of index"
                    )));
                }
                let attestation = is_attestation(child);
                let (config_id, facts, base) = self.manifest(&cname, manifest, &mut blobs)?;
                if attestation {
                    continue;
                }
                let declared = child
                    .platform
                    .as_ref()
                    .map(|p| {
                        Arch::parse(&p.architecture)
                            .map(|architecture| Platform {
                                os: p.os.clone(),
                                architecture,
                                variant: p.variant.clone().filter(|v| !v.is_empty()),
                            })
                            .map_err(|e| FormatError::InvalidField {
                                path: self.path.to_owned(),
                                field: format!(
                                    "platform.architecture of `{cname}` in `{top_name}`"
                                ),
                                value: p.architecture.clone(),
                                reason: e.reason,
                            })
                    })
                    .transpose()?;
                images.push((declared, config_id, facts, base));
            }
        } else {
            let (config_id, facts, base) = self.manifest(&top_name, doc, &mut blobs)?;
            images.push((None, config_id, facts, base));
        }
        let mut platforms = Vec::with_capacity(images.len());
        for (declared, _, facts, _) in &images {
            platforms.push(declared.clone().unwrap_or_else(|| facts.platform.clone()));
        }
        let Some((_, image_id, facts, manifest_base)) = images.into_iter().next() else {
            return Err(self.invalid(format!("the image index `{top_name}` lists no image")));
        };
        let base_image = facts.labels.get(BASE_NAME).cloned().or(manifest_base);
        Ok(Parts {
            kind: ImageArchiveKind::OciArchive,
            digest,
            image_id,
            platforms,
            labels: facts.labels,
            created: facts.created,
            base_image,
            blobs,
        })
    }

    /// Checks an image manifest: its config and every layer must be there with the right
    /// size. Returns the config digest, the config facts and the base-name annotation.
    fn manifest(
        &self,
        name: &str,
        manifest: IndexOrManifest,
        blobs: &mut Blobs,
    ) -> Result<(Sha256Digest, ConfigFacts, Option<String>), FormatError> {
        let by = format!("manifest `{name}`");
        let config = manifest
            .config
            .ok_or_else(|| self.invalid(format!("{by} has no config descriptor")))?;
        let (config_id, config_name, config_node) = self.blob(&config, &by)?;
        blobs.add(config_id, config_node.size);
        let facts = self.config(&config_name, config_node)?;
        for layer in manifest.layers.unwrap_or_default() {
            match self.blob(&layer, &by) {
                Ok((d, _, node)) => blobs.add(d, node.size),
                // A foreign (non-distributable) layer lives at its URLs, not in the archive.
                Err(FormatError::MissingMember { .. })
                    if layer.urls.as_ref().is_some_and(|u| !u.is_empty()) => {}
                Err(e) => return Err(e),
            }
        }
        let base = manifest.annotations.and_then(|mut a| a.remove(BASE_NAME));
        Ok((config_id, facts, base))
    }
}

/// True for the attestation manifests buildx adds to an index (`unknown/unknown`).
fn is_attestation(d: &Descriptor) -> bool {
    let by_annotation = d
        .annotations
        .as_ref()
        .is_some_and(|a| a.contains_key("vnd.docker.reference.type"));
    let by_platform = d
        .platform
        .as_ref()
        .is_some_and(|p| p.os == "unknown" && p.architecture == "unknown");
    by_annotation || by_platform
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn blob_names() {
        let hex = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855";
        assert!(blob_name_digest(&format!("blobs/sha256/{hex}")).is_some());
        assert!(blob_name_digest(&format!("blobs/sha512/{hex}")).is_none());
        assert!(blob_name_digest("blobs/sha256/abc").is_none());
        assert!(looks_like_json(b"  {\"a\":1}"));
        assert!(looks_like_json(b"[]"));
        assert!(!looks_like_json(b"\x1f\x8b"));
    }
}
