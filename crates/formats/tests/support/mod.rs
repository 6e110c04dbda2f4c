//! Test fixtures built with the real tools: `dpkg-deb` for Debian packages, `umoci` and
//! `skopeo` for image archives (no Docker engine needed), and the `tar` crate for crafted
//! bad archives. A missing tool fails the test with the package to install; it never skips.
//!
//! Copy the idea freely: every builder takes a directory (a `tempfile::TempDir`) and
//! returns the path of what it built.

#![allow(dead_code)] // each test binary uses a different subset

use std::collections::BTreeMap;
use std::io::{Read, Write};
use std::process::Command;

use camino::{Utf8Path, Utf8PathBuf};
use sha2::{Digest as _, Sha256};

/// Fails the test unless `tool` runs; says which package to install.
pub fn require_tool(tool: &str) {
    let package = match tool {
        "dpkg-deb" => "dpkg",
        "umoci" => "umoci",
        "skopeo" => "skopeo",
        other => other,
    };
    let ok = Command::new(tool)
        .arg("--version")
        .output()
        .is_ok_and(|o| o.status.success());
    assert!(
        ok,
        "`{tool}` is needed by this test and was not found: install it (`apt-get install {package}`)"
    );
}

/// Runs a command, fails the test with its output if it fails, returns its stdout.
pub fn run(cmd: &mut Command) -> Vec<u8> {
    let out = cmd
        .output()
        .unwrap_or_else(|e| panic!("cannot run {cmd:?}: {e}"));
    assert!(
        out.status.success(),
        "{cmd:?} failed ({}):\n{}\n{}",
        out.status,
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    out.stdout
}

/// Runs a command and parses its stdout as JSON.
pub fn run_json(cmd: &mut Command) -> serde_json::Value {
    let out = run(cmd);
    serde_json::from_slice(&out).unwrap_or_else(|e| {
        panic!(
            "{cmd:?} printed no JSON ({e}):\n{}",
            String::from_utf8_lossy(&out)
        )
    })
}

/// A temporary directory as a UTF-8 path.
pub fn utf8(dir: &tempfile::TempDir) -> Utf8PathBuf {
    Utf8PathBuf::from_path_buf(dir.path().to_path_buf()).expect("temp dir is UTF-8")
}

/// sha256 of bytes as 64 hex digits.
pub fn sha256_hex(data: &[u8]) -> String {
    hex::encode(Sha256::digest(data))
}

// ---------------------------------------------------------------- Debian packages

/// What to put in a test package.
pub struct DebSpec<'a> {
    /// `Package`.
    pub package: &'a str,
    /// `Version` (any Debian version: epochs, tildes).
    pub version: &'a str,
    /// `Architecture` (`amd64`, `arm64`, `all`).
    pub arch: &'a str,
    /// `Depends`, if any.
    pub depends: Option<&'a str>,
    /// dpkg-deb `-Z` value: `gzip`, `xz`, `zstd` or `none`.
    pub compression: &'a str,
}

impl Default for DebSpec<'_> {
    fn default() -> Self {
        DebSpec {
            package: "hello-berth",
            version: "1.0.2-1",
            arch: "amd64",
            depends: None,
            compression: "gzip",
        }
    }
}

/// The control file a [`DebSpec`] produces.
pub fn control_for(spec: &DebSpec<'_>) -> String {
    let mut c = format!(
        "Package: {}\nVersion: {}\nArchitecture: {}\nMaintainer: Berth Tests <tests@example.invalid>\nInstalled-Size: 12\n",
        spec.package, spec.version, spec.arch
    );
    if let Some(d) = spec.depends {
        c.push_str(&format!("Depends: {d}\n"));
    }
    c.push_str("Section: misc\nPriority: optional\nDescription: berth test package\n Built by the berth-formats tests.\n .\n Second paragraph.\n");
    c
}

/// Builds a `.deb` with `dpkg-deb --build` in `dir` and returns its path.
pub fn build_deb(dir: &Utf8Path, spec: &DebSpec<'_>) -> Utf8PathBuf {
    require_tool("dpkg-deb");
    let root = dir.join(format!("{}-{}-root", spec.package, spec.compression));
    let debian = root.join("DEBIAN");
    fs_err::create_dir_all(&debian).expect("mkdir DEBIAN");
    fs_err::write(debian.join("control"), control_for(spec)).expect("write control");
    let doc = root.join("usr/share/doc").join(spec.package);
    fs_err::create_dir_all(&doc).expect("mkdir doc");
    fs_err::write(doc.join("hello.txt"), "hello from berth\n".repeat(100)).expect("write payload");
    let out = dir.join(format!(
        "{}_{}_{}.{}.deb",
        spec.package,
        spec.version.replace(':', "%3a"),
        spec.arch,
        spec.compression
    ));
    run(Command::new("dpkg-deb")
        .arg(format!("-Z{}", spec.compression))
        .arg("--root-owner-group")
        .arg("--build")
        .arg(&root)
        .arg(&out));
    out
}

/// Writes an `ar` archive the way dpkg does (common format, `\n` padding).
pub fn write_ar(path: &Utf8Path, members: &[(&str, Vec<u8>)]) {
    let mut out = b"!<arch>\n".to_vec();
    for (name, data) in members {
        assert!(name.len() <= 16, "ar names are at most 16 bytes");
        out.extend_from_slice(
            format!(
                "{:<16}{:<12}{:<6}{:<6}{:<8}{:<10}`\n",
                name,
                0,
                0,
                0,
                "100644",
                data.len()
            )
            .as_bytes(),
        );
        out.extend_from_slice(data);
        if data.len() % 2 == 1 {
            out.push(b'\n');
        }
    }
    fs_err::write(path, out).expect("write ar");
}

/// A tar (uncompressed) of `(name, content)` regular files, names as given.
pub fn tar_of(files: &[(&str, &[u8])]) -> Vec<u8> {
    let mut b = tar::Builder::new(Vec::new());
    for (name, data) in files {
        let mut h = tar::Header::new_gnu();
        h.set_size(data.len() as u64);
        h.set_mode(0o644);
        h.set_entry_type(tar::EntryType::Regular);
        h.set_path(name).expect("plain name");
        h.set_cksum();
        b.append(&h, *data).expect("append");
    }
    b.into_inner().expect("finish tar")
}

/// gzip of `data`.
pub fn gzip(data: &[u8]) -> Vec<u8> {
    let mut e = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
    e.write_all(data).expect("gzip");
    e.finish().expect("gzip")
}

/// A `.deb` assembled by hand: `debian-binary`, `control.tar.gz` of `control_tar`, and a
/// small `data.tar.gz`. For packages dpkg-deb refuses to build.
pub fn handmade_deb(path: &Utf8Path, control_tar: &[u8]) {
    let data = gzip(&tar_of(&[("./usr/share/doc/x/hello.txt", b"hi\n")]));
    write_ar(
        path,
        &[
            ("debian-binary", b"2.0\n".to_vec()),
            ("control.tar.gz", gzip(control_tar)),
            ("data.tar.gz", data),
        ],
    );
}

// ---------------------------------------------------------------- images

/// What to put in a test image.
pub struct ImageSpec<'a> {
    /// OCI architecture.
    pub arch: &'a str,
    /// Config labels.
    pub labels: &'a [(&'a str, &'a str)],
    /// Config `created`.
    pub created: &'a str,
}

impl Default for ImageSpec<'_> {
    fn default() -> Self {
        ImageSpec {
            arch: "arm64",
            labels: &[
                (
                    "org.opencontainers.image.base.name",
                    "docker.io/library/debian:12",
                ),
                ("com.example.team", "dmp"),
            ],
            created: "2025-05-10T22:15:00Z",
        }
    }
}

fn umoci() -> Command {
    require_tool("umoci");
    Command::new("umoci")
}

fn skopeo() -> Command {
    require_tool("skopeo");
    let mut c = Command::new("skopeo");
    c.arg("--insecure-policy");
    c
}

fn is_root() -> bool {
    Command::new("id")
        .arg("-u")
        .output()
        .is_ok_and(|o| o.stdout.trim_ascii() == b"0")
}

/// Creates (once) the OCI layout `dir/layout` and adds image `tag` to it: an empty base,
/// the spec's config, and one small layer. Returns the layout path.
pub fn build_oci_image(dir: &Utf8Path, tag: &str, spec: &ImageSpec<'_>) -> Utf8PathBuf {
    let layout = dir.join("layout");
    if !layout.join("index.json").exists() {
        run(umoci().args(["init", "--layout"]).arg(&layout));
    }
    let image = format!("{layout}:{tag}");
    run(umoci().args(["new", "--image", &image]));
    let mut config = umoci();
    config.args(["config", "--image", &image, "--os", "linux"]);
    config.args(["--architecture", spec.arch, "--created", spec.created]);
    for (k, v) in spec.labels {
        config.arg(format!("--config.label={k}={v}"));
    }
    run(&mut config);
    let payload = dir.join(format!("payload-{tag}"));
    fs_err::create_dir_all(&payload).expect("mkdir payload");
    let file = payload.join("hello.txt");
    fs_err::write(&file, format!("hello from {tag} ({})\n", spec.arch)).expect("payload");
    let mut insert = umoci();
    insert.arg("insert");
    if !is_root() {
        insert.arg("--rootless");
    }
    insert
        .args(["--image", &image])
        .arg(&file)
        .arg("/etc/hello.txt");
    run(&mut insert);
    layout
}

/// `skopeo copy oci:LAYOUT:TAG oci-archive:OUT`.
pub fn oci_archive(layout: &Utf8Path, tag: &str, out: &Utf8Path) -> Utf8PathBuf {
    run(skopeo()
        .args(["copy", "--quiet", "--all"])
        .arg(format!("oci:{layout}:{tag}"))
        .arg(format!("oci-archive:{out}")));
    out.to_owned()
}

/// `skopeo copy oci:LAYOUT:TAG docker-archive:OUT:example/NAME:TAG`.
pub fn docker_archive(layout: &Utf8Path, tag: &str, out: &Utf8Path) -> Utf8PathBuf {
    run(skopeo()
        .args(["copy", "--quiet"])
        .arg(format!("oci:{layout}:{tag}"))
        .arg(format!("docker-archive:{out}:example/berth-test:{tag}")));
    out.to_owned()
}

/// Adds to the layout an OCI image index tagged `index_tag` over the images `tags` (with
/// the platforms given), by writing the index blob and its descriptor in `index.json`.
pub fn add_index(layout: &Utf8Path, index_tag: &str, tags: &[(&str, &str)]) {
    let index_path = layout.join("index.json");
    let mut index: serde_json::Value =
        serde_json::from_slice(&fs_err::read(&index_path).expect("read index.json"))
            .expect("index.json is JSON");
    let by_tag: BTreeMap<String, serde_json::Value> = index["manifests"]
        .as_array()
        .expect("manifests")
        .iter()
        .filter_map(|d| {
            let tag = d["annotations"]["org.opencontainers.image.ref.name"].as_str()?;
            Some((tag.to_owned(), d.clone()))
        })
        .collect();
    let manifests: Vec<serde_json::Value> = tags
        .iter()
        .map(|(tag, arch)| {
            let d = &by_tag[*tag];
            serde_json::json!({
                "mediaType": d["mediaType"],
                "digest": d["digest"],
                "size": d["size"],
                "platform": {"architecture": arch, "os": "linux"},
            })
        })
        .collect();
    let blob = serde_json::to_vec(&serde_json::json!({
        "schemaVersion": 2,
        "mediaType": "application/vnd.oci.image.index.v1+json",
        "manifests": manifests,
    }))
    .expect("serialise index");
    let hex = sha256_hex(&blob);
    fs_err::write(layout.join("blobs/sha256").join(&hex), &blob).expect("write index blob");
    index["manifests"]
        .as_array_mut()
        .expect("manifests")
        .push(serde_json::json!({
            "mediaType": "application/vnd.oci.image.index.v1+json",
            "digest": format!("sha256:{hex}"),
            "size": blob.len(),
            "annotations": {"org.opencontainers.image.ref.name": index_tag},
        }));
    fs_err::write(&index_path, serde_json::to_vec(&index).expect("serialise")).expect("write");
}

/// `skopeo inspect [extra…] TRANSPORT:FILE` as JSON.
pub fn skopeo_inspect(extra: &[&str], target: &str) -> serde_json::Value {
    run_json(skopeo().arg("inspect").args(extra).arg(target))
}

/// The standard image fixtures, built once per test in one temp dir.
pub struct Images {
    /// Keeps the directory alive.
    pub dir: tempfile::TempDir,
    /// The OCI layout holding tags `arm`, `amd` and the index `multi`.
    pub layout: Utf8PathBuf,
    /// `oci-archive` of `arm`.
    pub oci: Utf8PathBuf,
    /// `docker-archive` of `arm`.
    pub docker: Utf8PathBuf,
    /// `oci-archive` of the `multi` index (arm64, amd64).
    pub multi: Utf8PathBuf,
}

/// Builds [`Images`].
pub fn images() -> Images {
    let dir = tempfile::tempdir().expect("tempdir");
    let d = utf8(&dir);
    let spec = ImageSpec::default();
    let layout = build_oci_image(&d, "arm", &spec);
    build_oci_image(
        &d,
        "amd",
        &ImageSpec {
            arch: "amd64",
            ..ImageSpec::default()
        },
    );
    add_index(&layout, "multi", &[("arm", "arm64"), ("amd", "amd64")]);
    let oci = oci_archive(&layout, "arm", &d.join("arm.oci.tar"));
    let docker = docker_archive(&layout, "arm", &d.join("arm.docker.tar"));
    let multi = oci_archive(&layout, "multi", &d.join("multi.oci.tar"));
    Images {
        dir,
        layout,
        oci,
        docker,
        multi,
    }
}

// ---------------------------------------------------------------- tar surgery

/// A raw tar entry to append: the name bytes go straight into the header, so `..` and
/// absolute names can be written.
pub struct RawEntry<'a> {
    /// Name bytes, written as is.
    pub name: &'a [u8],
    /// Entry type.
    pub kind: tar::EntryType,
    /// Link target bytes for links.
    pub link: &'a [u8],
    /// Content for regular files.
    pub data: &'a [u8],
}

impl<'a> RawEntry<'a> {
    /// A regular file.
    pub fn file(name: &'a [u8], data: &'a [u8]) -> Self {
        RawEntry {
            name,
            kind: tar::EntryType::Regular,
            link: b"",
            data,
        }
    }
    /// A symbolic link.
    pub fn symlink(name: &'a [u8], target: &'a [u8]) -> Self {
        RawEntry {
            name,
            kind: tar::EntryType::Symlink,
            link: target,
            data: b"",
        }
    }
}

fn raw_header(e: &RawEntry<'_>) -> tar::Header {
    let mut h = tar::Header::new_old();
    {
        let old = h.as_old_mut();
        old.name[..e.name.len()].copy_from_slice(e.name);
        old.linkname[..e.link.len()].copy_from_slice(e.link);
    }
    h.set_entry_type(e.kind);
    h.set_mode(0o644);
    h.set_size(e.data.len() as u64);
    h.set_cksum();
    h
}

/// Copies the tar `src` to `dst` entry by entry, appending `extra` entries at the end
/// (`first`: at the start instead).
pub fn rewrite_tar(src: &Utf8Path, dst: &Utf8Path, extra: &[RawEntry<'_>], first: bool) {
    let mut b = tar::Builder::new(Vec::new());
    if first {
        for e in extra {
            b.append(&raw_header(e), e.data).expect("append raw");
        }
    }
    let bytes = fs_err::read(src).expect("read tar");
    let mut archive = tar::Archive::new(&bytes[..]);
    for entry in archive.entries().expect("entries") {
        let mut entry = entry.expect("entry");
        let header = entry.header().clone();
        let mut data = Vec::new();
        entry.read_to_end(&mut data).expect("read entry");
        b.append(&header, &data[..]).expect("append");
    }
    if !first {
        for e in extra {
            b.append(&raw_header(e), e.data).expect("append raw");
        }
    }
    fs_err::write(dst, b.into_inner().expect("finish")).expect("write tar");
}

/// The byte offset of the data of member `name` in the tar file, and its size.
pub fn member_offset(tar_path: &Utf8Path, name: &str) -> (u64, u64) {
    let bytes = fs_err::read(tar_path).expect("read tar");
    let mut archive = tar::Archive::new(&bytes[..]);
    for entry in archive.entries().expect("entries") {
        let entry = entry.expect("entry");
        if entry.path().expect("path").to_str() == Some(name) {
            return (entry.raw_file_position(), entry.size());
        }
    }
    panic!("{tar_path} has no member {name}");
}

/// Copies `src` to `dst` with the byte at `offset` flipped.
pub fn flip_byte(src: &Utf8Path, dst: &Utf8Path, offset: u64) {
    let mut bytes = fs_err::read(src).expect("read");
    let i = usize::try_from(offset).expect("offset fits");
    bytes[i] ^= 0xff;
    fs_err::write(dst, bytes).expect("write");
}

/// Copies the first `len` bytes of `src` to `dst`.
pub fn truncate_copy(src: &Utf8Path, dst: &Utf8Path, len: u64) {
    let bytes = fs_err::read(src).expect("read");
    let n = usize::try_from(len).expect("len fits").min(bytes.len());
    fs_err::write(dst, &bytes[..n]).expect("write");
}

/// Copies the tar `src` to `dst`, replacing the content of member `name`.
pub fn replace_member(src: &Utf8Path, dst: &Utf8Path, name: &str, content: &[u8]) {
    let bytes = fs_err::read(src).expect("read tar");
    let mut archive = tar::Archive::new(&bytes[..]);
    let mut b = tar::Builder::new(Vec::new());
    let mut found = false;
    for entry in archive.entries().expect("entries") {
        let mut entry = entry.expect("entry");
        let mut header = entry.header().clone();
        let mut data = Vec::new();
        entry.read_to_end(&mut data).expect("read entry");
        if entry.path().expect("path").to_str() == Some(name) {
            found = true;
            data = content.to_vec();
            header.set_size(data.len() as u64);
            header.set_cksum();
        }
        b.append(&header, &data[..]).expect("append");
    }
    assert!(found, "{src} has no member {name}");
    fs_err::write(dst, b.into_inner().expect("finish")).expect("write tar");
}
