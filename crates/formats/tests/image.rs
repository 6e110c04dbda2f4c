//! Image archives built with umoci + skopeo: berth must report what skopeo reports.

mod support;

use std::cell::Cell;

use berth_formats::{
    Destination, FormatError, ImageArchiveKind, hash_file, ingest_deb, ingest_file, ingest_image,
    inspect_image,
};
use berth_model::Sha256Digest;
use support::{Images, images, skopeo_inspect};

fn digest(v: &serde_json::Value) -> Sha256Digest {
    Sha256Digest::parse(v.as_str().expect("digest is a string")).expect("valid digest")
}

fn labels(v: &serde_json::Value) -> std::collections::BTreeMap<String, String> {
    serde_json::from_value(v.clone()).expect("labels map")
}

fn check_oci(fx: &Images) {
    let info = inspect_image(&fx.oci, None).expect("inspect oci archive");
    let target = format!("oci-archive:{}", fx.oci);
    let inspect = skopeo_inspect(&[], &target);
    let config = skopeo_inspect(&["--config", "--raw"], &target);
    let raw = skopeo_inspect(&["--raw"], &target);
    assert_eq!(info.kind, ImageArchiveKind::OciArchive);
    assert_eq!(
        info.digest,
        digest(&inspect["Digest"]),
        "digest = skopeo .Digest"
    );
    assert_eq!(
        info.image_id,
        digest(&raw["config"]["digest"]),
        "image id = config digest"
    );
    assert_eq!(info.labels, labels(&inspect["Labels"]));
    assert_eq!(info.labels, labels(&config["config"]["Labels"]));
    assert_eq!(info.platforms.len(), 1);
    assert_eq!(
        info.platforms[0].architecture.as_str(),
        inspect["Architecture"]
    );
    assert_eq!(info.platforms[0].architecture.as_str(), "arm64");
    assert_eq!(info.platforms[0].os, inspect["Os"]);
    assert_eq!(
        info.created.map(|t| t.to_string()).as_deref(),
        config["created"].as_str()
    );
    assert_eq!(
        info.base_image.as_deref(),
        Some("docker.io/library/debian:12")
    );
    // Every layer skopeo lists is among the verified blobs.
    for layer in inspect["Layers"].as_array().expect("layers") {
        let d = digest(layer);
        assert!(
            info.blobs.iter().any(|(b, _)| *b == d),
            "layer {d} verified"
        );
    }
    assert!(info.blobs.iter().any(|(b, _)| *b == info.digest));
    assert!(info.blobs.iter().any(|(b, _)| *b == info.image_id));
}

fn check_docker(fx: &Images) {
    let info = inspect_image(&fx.docker, None).expect("inspect docker archive");
    let target = format!("docker-archive:{}", fx.docker);
    let raw = skopeo_inspect(&["--raw"], &target);
    let inspect = skopeo_inspect(&[], &target);
    let config_raw = support::run(
        std::process::Command::new("skopeo")
            .args(["inspect", "--config", "--raw"])
            .arg(&target),
    );
    let config: serde_json::Value = serde_json::from_slice(&config_raw).expect("config JSON");
    assert_eq!(info.kind, ImageArchiveKind::DockerArchive);
    // PRODUCT.md §2: for docker-save, sha256 = image ID = .config.digest of --raw …
    assert_eq!(info.digest, digest(&raw["config"]["digest"]));
    // … = sha256 of the config skopeo prints …
    assert_eq!(info.digest.hex(), support::sha256_hex(&config_raw));
    // … and not the digest of the manifest skopeo synthesises.
    assert_ne!(info.digest, digest(&inspect["Digest"]));
    assert_eq!(info.image_id, info.digest);
    assert_eq!(info.labels, labels(&config["config"]["Labels"]));
    assert_eq!(info.labels, labels(&inspect["Labels"]));
    assert_eq!(info.platforms.len(), 1);
    assert_eq!(
        info.platforms[0].architecture.as_str(),
        inspect["Architecture"]
    );
    assert_eq!(info.platforms[0].os, "linux");
    assert_eq!(
        info.created.map(|t| t.to_string()).as_deref(),
        Some("2025-05-10T22:15:00Z")
    );
    for layer in raw["layers"].as_array().expect("layers") {
        let d = digest(&layer["digest"]);
        let size = layer["size"].as_u64().expect("size");
        assert!(info.blobs.contains(&(d, size)), "layer {d} verified");
    }
}

fn check_multi(fx: &Images) {
    let info = inspect_image(&fx.multi, None).expect("inspect multi-arch archive");
    let target = format!("oci-archive:{}", fx.multi);
    let inspect = skopeo_inspect(&[], &target);
    let raw = skopeo_inspect(&["--raw"], &target);
    assert_eq!(info.kind, ImageArchiveKind::OciArchive);
    assert_eq!(
        info.digest,
        digest(&inspect["Digest"]),
        "digest of the index"
    );
    assert_eq!(
        raw["mediaType"], "application/vnd.oci.image.index.v1+json",
        "skopeo sees an index"
    );
    let want: Vec<String> = raw["manifests"]
        .as_array()
        .expect("manifests")
        .iter()
        .map(|m| {
            m["platform"]["architecture"]
                .as_str()
                .expect("arch")
                .to_owned()
        })
        .collect();
    let got: Vec<String> = info
        .platforms
        .iter()
        .map(|p| p.architecture.as_str().to_owned())
        .collect();
    assert_eq!(got, want);
    assert_eq!(got, ["arm64", "amd64"]);
    // image_id is the config of the first platform, as skopeo resolves it for arm64.
    let arm_manifest = &raw["manifests"][0];
    let arm_raw = support::run(
        std::process::Command::new("skopeo")
            .args(["--override-arch", "arm64", "--override-os", "linux"])
            .args(["inspect", "--config", "--raw"])
            .arg(&target),
    );
    assert_eq!(info.image_id.hex(), support::sha256_hex(&arm_raw));
    assert!(
        info.blobs
            .iter()
            .any(|(d, _)| *d == digest(&arm_manifest["digest"]))
    );
    let arm_config: serde_json::Value = serde_json::from_slice(&arm_raw).expect("config");
    assert_eq!(info.labels, labels(&arm_config["config"]["Labels"]));
}

#[test]
fn archives_match_skopeo() {
    let fx = images();
    check_oci(&fx);
    check_docker(&fx);
    check_multi(&fx);
}

#[test]
fn file_digest_and_progress() {
    let fx = images();
    let last = Cell::new(0u64);
    let cb = |n: u64| last.set(n);
    let info = inspect_image(&fx.oci, Some(&cb)).expect("inspect");
    let whole = hash_file(&fx.oci, None).expect("hash");
    assert_eq!(info.file, whole);
    assert_eq!(last.get(), whole.size);
    assert_eq!(whole.size, fs_err::metadata(&fx.oci).expect("stat").len());
}

/// Reading in place (`berth add --move`) learns exactly what copying learns, writes no
/// file, leaves the file as it was, and names the path the user knows in errors.
#[test]
fn in_place_reads_like_a_copy() {
    let fx = images();
    let d = support::utf8(&fx.dir);
    let copy = d.join("copy.tar");
    let copied = ingest_image(&fx.oci, Destination::CopyTo(&copy), None).expect("copy");
    let before = fs_err::read(&fx.oci).expect("read");
    let listing = || {
        let mut v: Vec<_> = fs_err::read_dir(&d)
            .expect("list")
            .map(|e| e.expect("entry").file_name())
            .collect();
        v.sort();
        v
    };
    let files = listing();
    let shown = camino::Utf8Path::new("/build/out/image.tar");
    let last = Cell::new(0u64);
    let cb = |n: u64| last.set(n);
    let in_place = ingest_image(&fx.oci, Destination::InPlace { shown_as: shown }, Some(&cb))
        .expect("in place");
    assert_eq!(in_place, copied);
    assert_eq!(in_place.file, hash_file(&fx.oci, None).expect("hash"));
    assert_eq!(last.get(), in_place.file.size);
    assert_eq!(fs_err::read(&fx.oci).expect("read"), before);
    assert_eq!(listing(), files, "reading in place writes no file");

    let deb = support::build_deb(&d, &support::DebSpec::default());
    let info = ingest_deb(&deb, Destination::InPlace { shown_as: shown }, None).expect("deb");
    assert_eq!(info.file, hash_file(&deb, None).expect("hash"));
    let plain = ingest_file(&deb, Destination::InPlace { shown_as: shown }, None).expect("file");
    assert_eq!(plain, info.file);

    // A truncated archive read in place: the error names `shown_as`, not the path read.
    let t = d.join("truncated.tar");
    support::truncate_copy(&fx.oci, &t, before.len() as u64 / 2);
    let err =
        ingest_image(&t, Destination::InPlace { shown_as: shown }, None).expect_err("truncated");
    assert!(matches!(err, FormatError::Truncated { .. }), "{err}");
    assert_eq!(err.path(), shown);
    assert!(!err.to_string().contains(t.as_str()), "{err}");
}

#[test]
fn gzipped_docker_archive_reads_the_same() {
    let fx = images();
    let gz = fx.docker.with_extension("tar.gz");
    fs_err::write(&gz, support::gzip(&fs_err::read(&fx.docker).expect("read"))).expect("write");
    let plain = inspect_image(&fx.docker, None).expect("plain");
    let zipped = inspect_image(&gz, None).expect("gzipped");
    assert_eq!(plain.digest, zipped.digest);
    assert_eq!(plain.blobs, zipped.blobs);
    assert_ne!(plain.file, zipped.file);
}

/// Newer docker writes an OCI layout inside `docker save` and points manifest.json at
/// `blobs/sha256/…`; older docker links `<id>/layer.tar` to the layer file. Both are
/// followed.
#[test]
fn docker_save_layouts() {
    let fx = images();
    let d = support::utf8(&fx.dir);
    let raw = skopeo_inspect(&["--raw"], &format!("oci-archive:{}", fx.oci));
    let config = raw["config"]["digest"].as_str().expect("config digest");
    let layer = raw["layers"][0]["digest"].as_str().expect("layer digest");
    let blob = |d: &str| format!("blobs/sha256/{}", d.trim_start_matches("sha256:"));
    let manifest = serde_json::json!([{
        "Config": blob(config),
        "RepoTags": ["example/berth-test:new"],
        "Layers": [blob(layer)],
    }]);
    let manifest = serde_json::to_vec(&manifest).expect("json");
    let new_style = d.join("new-docker.tar");
    support::rewrite_tar(
        &fx.oci,
        &new_style,
        &[support::RawEntry::file(b"manifest.json", &manifest)],
        false,
    );
    let info = inspect_image(&new_style, None).expect("new-style docker save");
    assert_eq!(info.kind, ImageArchiveKind::DockerArchive);
    assert_eq!(info.digest, digest(&raw["config"]["digest"]));
    assert_eq!(info.image_id, info.digest);
    assert_eq!(info.platforms[0].architecture.as_str(), "arm64");

    // Old style: reference the layer through the `<id>/layer.tar` symlink.
    let bytes = fs_err::read(&fx.docker).expect("read");
    let mut a = tar::Archive::new(&bytes[..]);
    let link = a
        .entries()
        .expect("entries")
        .filter_map(|e| {
            let e = e.expect("entry");
            (e.header().entry_type() == tar::EntryType::Symlink)
                .then(|| e.path().expect("path").to_string_lossy().into_owned())
        })
        .next()
        .expect("skopeo writes a layer.tar symlink");
    let plain = inspect_image(&fx.docker, None).expect("docker archive");
    let mut m: serde_json::Value = {
        let mut a = tar::Archive::new(&bytes[..]);
        let mut e = a
            .entries()
            .expect("entries")
            .map(|e| e.expect("entry"))
            .find(|e| e.path().expect("path").to_str() == Some("manifest.json"))
            .expect("manifest.json");
        let mut s = Vec::new();
        std::io::Read::read_to_end(&mut e, &mut s).expect("read");
        serde_json::from_slice(&s).expect("json")
    };
    m[0]["Layers"] = serde_json::json!([link]);
    let old_style = d.join("old-docker.tar");
    support::replace_member(
        &fx.docker,
        &old_style,
        "manifest.json",
        &serde_json::to_vec(&m).expect("json"),
    );
    let info = inspect_image(&old_style, None).expect("old-style docker save");
    assert_eq!(info.digest, plain.digest);
    assert_eq!(info.blobs, plain.blobs);
}
