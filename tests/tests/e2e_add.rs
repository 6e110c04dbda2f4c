//! End to end: `berth add` with artifacts built by the real tools (dpkg-deb, umoci,
//! skopeo). Every refusal leaves the repository byte-for-byte unchanged.

#[path = "../../crates/formats/tests/support/mod.rs"]
mod support;

use berth_tests::{Run, example_repo, run, tree_digest};
use camino::{Utf8Path, Utf8PathBuf};
use support::DebSpec;

/// Digests of freshly built fixtures change with every build: replace 64-hex runs.
fn redact_hex(text: &str) -> String {
    let mut out = String::new();
    for word in text.split_inclusive([' ', '\n']) {
        let core = word.trim_end();
        if core.len() == 64 && core.bytes().all(|b| b.is_ascii_hexdigit()) {
            out.push_str("[HEX]");
            out.push_str(&word[64..]);
        } else {
            out.push_str(word);
        }
    }
    out
}

/// A manifest's text, with quotes around 64-hex values dropped: the YAML writer quotes a
/// digest that could read as a number in YAML 1.1 (one starting `0b`, about 1 in 256),
/// which is the same value.
fn manifest(root: &Utf8Path, rel: &str) -> String {
    let text =
        std::fs::read_to_string(root.join("components").join(rel)).expect("manifest written");
    let mut out = String::new();
    for word in text.split_inclusive([' ', '\n']) {
        let core = word.trim_end();
        let inner = core
            .strip_prefix('"')
            .and_then(|c| c.strip_suffix('"'))
            .or_else(|| core.strip_prefix('\'').and_then(|c| c.strip_suffix('\'')));
        match inner {
            Some(hex) if hex.len() == 64 && hex.bytes().all(|b| b.is_ascii_hexdigit()) => {
                out.push_str(hex);
                out.push_str(&word[core.len()..]);
            }
            _ => out.push_str(word),
        }
    }
    out
}

fn meta_file(dir: &Utf8Path, name: &str, body: &str) -> Utf8PathBuf {
    let p = dir.join(name);
    std::fs::write(&p, body).expect("write metadata");
    p
}

const CELL_META: &str = "architecture: arm64\ndomains: [\"ran\"]\nenvironments: [\"lab\", \"staging\", \"prod\"]\ndependencies: [\"common-utils >=1.2.0\"]\ngroup: oam\nservice_name: ms-cell-config\nteam: ran-oam\nport_exposed: 7001\nmulti_arch: false\n";

#[test]
fn add_an_oci_image_then_retry_then_refuse_different_bytes() {
    let imgs = support::images();
    let (_g, root) = example_repo();
    let add = run(
        &root,
        &[
            "add",
            "ran/oam/ms-cell-config",
            "2.2.0",
            "--docker",
            imgs.oci.as_str(),
            "--from-previous",
        ],
    );
    assert_eq!(add.code, 0, "{add:?}");
    assert!(add.stdout.contains("docker: added"), "{}", add.stdout);
    assert!(add.stdout.contains("2.1.0 -> 2.2.0"), "{}", add.stdout);
    // The digest is the one skopeo reports for the same file; the bytes are stored as is.
    let skopeo = support::skopeo_inspect(&[], &format!("oci-archive:{}", imgs.oci));
    let digest = skopeo["Digest"]
        .as_str()
        .expect("digest")
        .trim_start_matches("sha256:")
        .to_owned();
    let m = manifest(
        &root,
        "ran/oam/ms-cell-config/versions/2.2.0/docker/manifest.yaml",
    );
    assert!(m.contains(&format!("sha256: {digest}")), "{m}");
    let stored = std::fs::read(
        root.join("components/ran/oam/ms-cell-config/versions/2.2.0/docker/image.tar"),
    )
    .expect("stored");
    assert_eq!(stored, std::fs::read(&imgs.oci).expect("source"));
    insta::assert_snapshot!("oci_manifest", redact_hex(&m.replace(&digest, "[DIGEST]")));
    let latest = run(&root, &["latest", "ran/oam/ms-cell-config"]);
    assert_eq!(latest.stdout.trim(), "2.2.0", "{latest:?}");

    // A retried CI job: identical bytes succeed and change nothing.
    let before = tree_digest(&root);
    let again = run(
        &root,
        &[
            "add",
            "ran/oam/ms-cell-config",
            "2.2.0",
            "--docker",
            imgs.oci.as_str(),
            "--from-previous",
        ],
    );
    assert_eq!(again.code, 0, "{again:?}");
    assert!(again.stdout.contains("unchanged"), "{}", again.stdout);
    assert_eq!(tree_digest(&root), before);

    // Different bytes for the same version and format: refused, showing both digests.
    let other = run(
        &root,
        &[
            "add",
            "ran/oam/ms-cell-config",
            "2.2.0",
            "--docker",
            imgs.docker.as_str(),
            "--from-previous",
        ],
    );
    assert_eq!(other.code, 1, "{other:?}");
    assert!(other.stderr.contains("immutable"), "{}", other.stderr);
    assert!(other.stderr.contains(&digest), "{}", other.stderr);
    assert_eq!(tree_digest(&root), before);
}

#[test]
fn add_a_docker_archive_and_a_multi_arch_index() {
    let imgs = support::images();
    let (_g, root) = example_repo();
    let add = run(
        &root,
        &[
            "add",
            "ran/oam/ms-cell-config",
            "2.3.0",
            "--docker",
            imgs.docker.as_str(),
            "--from-previous",
        ],
    );
    assert_eq!(add.code, 0, "{add:?}");
    let raw = support::skopeo_inspect(&["--raw"], &format!("docker-archive:{}", imgs.docker));
    let config_digest = raw["config"]["digest"]
        .as_str()
        .expect("config digest")
        .trim_start_matches("sha256:")
        .to_owned();
    let m = manifest(
        &root,
        "ran/oam/ms-cell-config/versions/2.3.0/docker/manifest.yaml",
    );
    assert!(m.contains(&format!("sha256: {config_digest}")), "{m}");
    assert!(m.contains(&format!("image_id: {config_digest}")), "{m}");

    // Multi-arch: metadata listing both platforms of the index passes…
    let dir = root.parent().expect("temp dir").to_owned();
    let multi_meta = meta_file(
        &dir,
        "multi.yaml",
        &CELL_META
            .replace(
                "architecture: arm64",
                "architecture: [\"amd64\", \"arm64\"]",
            )
            .replace("multi_arch: false", "multi_arch: true"),
    );
    let ok = run(
        &root,
        &[
            "add",
            "ran/oam/ms-cell-config",
            "3.0.0",
            "--docker",
            imgs.multi.as_str(),
            "--metadata",
            multi_meta.as_str(),
        ],
    );
    assert_eq!(ok.code, 0, "{ok:?}");
    let m = manifest(
        &root,
        "ran/oam/ms-cell-config/versions/3.0.0/docker/manifest.yaml",
    );
    assert!(
        m.contains("platforms: [\"linux/arm64\", \"linux/amd64\"]"),
        "{m}"
    );
    // …a single-arch image cannot serve a multi-arch metadata.
    let before = tree_digest(&root);
    let bad = run(
        &root,
        &[
            "add",
            "ran/oam/ms-cell-config",
            "3.0.1",
            "--docker",
            imgs.oci.as_str(),
            "--metadata",
            multi_meta.as_str(),
        ],
    );
    assert_eq!(bad.code, 1, "{bad:?}");
    assert!(
        bad.stderr.contains("manifest/arch-mismatch") && bad.stderr.contains("amd64"),
        "{}",
        bad.stderr
    );
    assert_eq!(tree_digest(&root), before);
}

#[test]
fn add_debs_in_every_compression_and_refuse_wrong_architecture() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let d = support::utf8(&tmp);
    let (_g, root) = example_repo();
    let deb = support::build_deb(
        &d,
        &DebSpec {
            package: "common-utils",
            version: "1:1.4.0~rc1-1",
            arch: "all",
            compression: "xz",
            depends: Some("libc6 (>= 2.36)"),
        },
    );
    let add = run(
        &root,
        &[
            "add",
            "core/platform/common-utils",
            "1.4.0",
            "--deb",
            deb.as_str(),
            "--from-previous",
        ],
    );
    assert_eq!(add.code, 0, "{add:?}");
    let m = manifest(
        &root,
        "core/platform/common-utils/versions/1.4.0/deb/manifest.yaml",
    );
    let sha = support::sha256_hex(&std::fs::read(&deb).expect("deb"));
    assert!(m.contains(&format!("sha256: {sha}")), "{m}");
    let sized: String = m
        .lines()
        .map(|l| {
            if l.trim_start().starts_with("size: ") {
                "    size: [SIZE]"
            } else {
                l
            }
        })
        .collect::<Vec<_>>()
        .join("\n");
    insta::assert_snapshot!("deb_manifest", redact_hex(&sized.replace(&sha, "[SHA256]")));

    for (i, compression) in ["gzip", "zstd", "none"].into_iter().enumerate() {
        let deb = support::build_deb(
            &d,
            &DebSpec {
                package: "common-utils",
                version: "1.5.0",
                arch: "all",
                compression,
                depends: None,
            },
        );
        let v = format!("1.5.{i}");
        let r = run(
            &root,
            &[
                "add",
                "core/platform/common-utils",
                &v,
                "--deb",
                deb.as_str(),
                "--from-previous",
            ],
        );
        assert_eq!(r.code, 0, "{compression}: {r:?}");
    }

    // An arm64 package for an amd64 service is refused and nothing changes.
    let arm = support::build_deb(
        &d,
        &DebSpec {
            package: "ms-ingestion",
            version: "1.0.4",
            arch: "arm64",
            compression: "gzip",
            depends: None,
        },
    );
    let before = tree_digest(&root);
    let r = run(
        &root,
        &[
            "add",
            "cloud/dmp/ms-ingestion",
            "1.0.4",
            "--deb",
            arm.as_str(),
            "--from-previous",
        ],
    );
    assert_eq!(r.code, 1, "{r:?}");
    assert!(r.stderr.contains("manifest/arch-mismatch"), "{}", r.stderr);
    assert_eq!(tree_digest(&root), before);
}

#[test]
fn metadata_is_checked_against_path_config_and_existing_version() {
    let (_g, root) = example_repo();
    let dir = root.parent().expect("temp").to_owned();
    let notes = meta_file(&dir, "notes.txt", "release notes\n");
    let cases = [
        (
            "name",
            CELL_META.replace("service_name: ms-cell-config", "service_name: ms-cell-cfg"),
            "metadata/name-mismatch",
        ),
        (
            "domain",
            CELL_META.replace("[\"ran\"]", "[\"ran\", \"mars\"]"),
            "metadata/unknown-domain",
        ),
        (
            "env",
            CELL_META.replace("\"lab\", ", "\"qa\", "),
            "metadata/unknown-environment",
        ),
        (
            "typo",
            format!("{CELL_META}teem: x\n"),
            "did you mean `team`",
        ),
        (
            "value",
            CELL_META.replace("port_exposed: 7001", "port_exposed: 99999"),
            "schema/invalid-value",
        ),
    ];
    let before = tree_digest(&root);
    for (name, body, expect) in cases {
        let f = meta_file(&dir, &format!("{name}.yaml"), &body);
        let r = run(
            &root,
            &[
                "add",
                "ran/oam/ms-cell-config",
                "2.4.0",
                "--generic",
                notes.as_str(),
                "--metadata",
                f.as_str(),
            ],
        );
        assert_eq!(r.code, 1, "{name}: {r:?}");
        assert!(r.stderr.contains(expect), "{name}: {}", r.stderr);
        assert!(
            r.stderr.contains(f.as_str()),
            "{name}: the message names the file: {}",
            r.stderr
        );
    }
    assert_eq!(tree_digest(&root), before);

    // No metadata at all for a new version.
    let r = run(
        &root,
        &[
            "add",
            "ran/oam/ms-cell-config",
            "2.4.0",
            "--generic",
            notes.as_str(),
        ],
    );
    assert_eq!(r.code, 1);
    assert!(
        r.stderr.contains("--metadata FILE or --from-previous"),
        "{}",
        r.stderr
    );

    // A generic file; then a later add of another format checks the existing metadata.
    let good = meta_file(&dir, "good.yaml", CELL_META);
    let r = run(
        &root,
        &[
            "add",
            "ran/oam/ms-cell-config",
            "2.4.0",
            "--generic",
            notes.as_str(),
            "--metadata",
            good.as_str(),
        ],
    );
    assert_eq!(r.code, 0, "{r:?}");
    let m = manifest(
        &root,
        "ran/oam/ms-cell-config/versions/2.4.0/generic/manifest.yaml",
    );
    assert!(m.contains("path: notes.txt"), "{m}");
    let changed = meta_file(&dir, "changed.yaml", &CELL_META.replace("7001", "7009"));
    let imgs = support::images();
    let r = run(
        &root,
        &[
            "add",
            "ran/oam/ms-cell-config",
            "2.4.0",
            "--docker",
            imgs.oci.as_str(),
            "--metadata",
            changed.as_str(),
        ],
    );
    assert_eq!(r.code, 1, "{r:?}");
    assert!(r.stderr.contains("immutable"), "{}", r.stderr);
    let r = run(
        &root,
        &[
            "add",
            "ran/oam/ms-cell-config",
            "2.4.0",
            "--docker",
            imgs.oci.as_str(),
        ],
    );
    assert_eq!(r.code, 0, "{r:?}");
    assert!(
        root.join("components/ran/oam/ms-cell-config/versions/2.4.0/docker/image.tar")
            .exists()
    );
}

/// In `dir`: the OCI archive cut in half, and one with a flipped byte in its layer.
fn damaged_images(imgs: &support::Images, dir: &Utf8Path) -> (Utf8PathBuf, Utf8PathBuf) {
    let truncated = dir.join("truncated.tar");
    let len = std::fs::metadata(&imgs.oci).expect("meta").len();
    support::truncate_copy(&imgs.oci, &truncated, len / 2);
    let raw = support::skopeo_inspect(&["--raw"], &format!("oci-archive:{}", imgs.oci));
    let layer = raw["layers"][0]["digest"]
        .as_str()
        .expect("a layer")
        .replace("sha256:", "blobs/sha256/");
    let (off, _size) = support::member_offset(&imgs.oci, &layer);
    let corrupt = dir.join("corrupt.tar");
    support::flip_byte(&imgs.oci, &corrupt, off + 10);
    (truncated, corrupt)
}

#[test]
fn bad_artifacts_are_refused_and_change_nothing() {
    let imgs = support::images();
    let tmp = tempfile::tempdir().expect("tempdir");
    let d = support::utf8(&tmp);
    let (_g, root) = example_repo();
    let (truncated, corrupt) = damaged_images(&imgs, &d);
    let not_deb = d.join("not.deb");
    std::fs::write(&not_deb, b"!<arch>\nthis is not a package").expect("write");
    let before = tree_digest(&root);
    for (flag, file) in [
        ("--docker", &truncated),
        ("--docker", &corrupt),
        ("--deb", &not_deb),
    ] {
        let r = run(
            &root,
            &[
                "add",
                "ran/oam/ms-cell-config",
                "2.5.0",
                flag,
                file.as_str(),
                "--from-previous",
            ],
        );
        assert_eq!(r.code, 1, "{file}: {r:?}");
        assert!(
            r.stderr.contains(file.as_str()),
            "the error names the file: {}",
            r.stderr
        );
        assert_eq!(tree_digest(&root), before, "{file} changed the tree");
    }
}

#[test]
fn killing_add_at_any_moment_leaves_no_partial_version() {
    let (_g, root) = example_repo();
    let dir = root.parent().expect("temp").to_owned();
    // A file large enough that the copy takes a while.
    let big = dir.join("big.bin");
    {
        use std::io::Write;
        let mut f = std::fs::File::create(&big).expect("create");
        let block = vec![7u8; 1 << 20];
        for _ in 0..96 {
            f.write_all(&block).expect("write");
        }
    }
    let vdir = root.join("components/ran/oam/ms-cell-config/versions/2.6.0");
    for i in 0..12u64 {
        let mut child = berth_tests::berth(&root)
            .args([
                "add",
                "ran/oam/ms-cell-config",
                "2.6.0",
                "--generic",
                big.as_str(),
                "--from-previous",
            ])
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .spawn()
            .expect("spawn");
        std::thread::sleep(std::time::Duration::from_millis(5 + i * 17));
        let _ = child.kill();
        let _ = child.wait();
        // Either nothing is visible, or the whole version is.
        if vdir.exists() {
            let m = std::fs::read_to_string(vdir.join("generic/manifest.yaml"))
                .expect("a visible version is complete");
            assert!(m.contains("size: 100663296"), "{m}");
            assert_eq!(
                std::fs::metadata(vdir.join("generic/big.bin"))
                    .expect("artifact")
                    .len(),
                96 << 20
            );
            assert!(vdir.join("metadata.yaml").exists());
        }
    }
    // A last add completes (or finds the complete version) and sweeps dead work dirs.
    let r = run(
        &root,
        &[
            "add",
            "ran/oam/ms-cell-config",
            "2.6.0",
            "--generic",
            big.as_str(),
            "--from-previous",
        ],
    );
    assert_eq!(r.code, 0, "{r:?}");
    let leftovers: Vec<_> = std::fs::read_dir(root.join(".berth/tmp"))
        .map(|r| r.count())
        .into_iter()
        .collect();
    assert_eq!(leftovers, [0], "work directories of killed adds are swept");
}

#[test]
fn parallel_adds_lose_no_update() {
    let (_g, root) = example_repo();
    let dir = root.parent().expect("temp").to_owned();
    let versions = ["2.1.1", "2.1.2", "2.2.0", "2.2.1", "3.0.0", "2.9.9"];
    // Start every add at once: each one stages its files, then takes the repository lock
    // to move them in and update the index.
    let spawned: Vec<_> = versions
        .iter()
        .map(|v| {
            let f = dir.join(format!("notes-{v}.txt"));
            std::fs::write(&f, format!("notes for {v}\n")).expect("write");
            berth_tests::berth(&root)
                .args([
                    "add",
                    "ran/oam/ms-cell-config",
                    v,
                    "--generic",
                    f.as_str(),
                    "--from-previous",
                ])
                .stdout(std::process::Stdio::piped())
                .stderr(std::process::Stdio::piped())
                .spawn()
                .expect("spawn")
        })
        .collect();
    for c in spawned {
        let out = c.wait_with_output().expect("wait");
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
    }
    let show = run(
        &root,
        &["show", "ran/oam/ms-cell-config", "--format", "json"],
    );
    let json: serde_json::Value = serde_json::from_str(&show.stdout).expect("json");
    let listed: Vec<String> = json["versions"]
        .as_array()
        .expect("versions")
        .iter()
        .map(|v| v["version"].as_str().expect("version").to_owned())
        .collect();
    for v in versions {
        assert!(
            listed.contains(&v.to_owned()),
            "{v} missing from {listed:?}"
        );
        let m = manifest(
            &root,
            &format!("ran/oam/ms-cell-config/versions/{v}/generic/manifest.yaml"),
        );
        assert!(m.contains(&format!("notes-{v}.txt")), "{m}");
    }
    // The index saw every update: the highest version wins, whatever order they landed in.
    let latest = run(&root, &["latest", "ran/oam/ms-cell-config"]);
    assert_eq!(latest.stdout.trim(), "3.0.0", "{latest:?}");
}

// ---------------------------------------------------------------- --move

/// A copy of `from` named `name` beside the repository (the same filesystem, so `--move`
/// renames it).
fn beside(root: &Utf8Path, name: &str, from: &Utf8Path) -> Utf8PathBuf {
    let p = root.parent().expect("temp dir").join(name);
    std::fs::copy(from, &p).expect("copy fixture");
    p
}

fn sha256_of(path: &Utf8Path) -> String {
    support::sha256_hex(&std::fs::read(path).unwrap_or_else(|e| panic!("{path}: {e}")))
}

/// The entries left in `.berth/tmp` (work directories of adds).
fn tmp_entries(root: &Utf8Path) -> Vec<String> {
    match std::fs::read_dir(root.join(".berth/tmp")) {
        Ok(rd) => rd
            .map(|e| e.expect("entry").file_name().to_string_lossy().into_owned())
            .collect(),
        Err(_) => Vec::new(),
    }
}

/// A manifest's `sha256` and its files as (path, size, sha256), read as YAML (the writer
/// quotes a digest that could pass for a number, `0b…`).
fn manifest_digests(root: &Utf8Path, rel: &str) -> (String, Vec<(String, u64, String)>) {
    let path = root.join("components").join(rel);
    let bytes = std::fs::read(&path).expect("manifest written");
    let m = berth_model::yaml::from_slice::<berth_model::Manifest>(&path, &bytes)
        .expect("manifest parses")
        .value;
    let hex = |d: &berth_model::Checked<berth_model::Sha256Digest>| {
        d.get().map(|d| d.hex()).expect("a valid digest")
    };
    let files = m
        .files
        .iter()
        .map(|f| (f.path.clone(), f.size, hex(&f.sha256)))
        .collect();
    (hex(&m.sha256), files)
}

/// `berth add COMPONENT VERSION ARTIFACTS… REST…`, artifacts as (flag, file).
fn add_with(root: &Utf8Path, cv: [&str; 2], artifacts: &[(&str, &Utf8Path)], rest: &[&str]) -> Run {
    let mut args = vec!["add", cv[0], cv[1]];
    for (flag, file) in artifacts {
        args.extend([*flag, file.as_str()]);
    }
    args.extend_from_slice(rest);
    run(root, &args)
}

const CELL: &str = "ran/oam/ms-cell-config";
const MOVE: &[&str] = &["--from-previous", "--move"];

#[test]
fn move_an_oci_archive_hands_the_file_over() {
    let imgs = support::images();
    let (_g, root) = example_repo();
    let src = beside(&root, "image.tar", &imgs.oci);
    let sha = sha256_of(&src);
    let size = std::fs::metadata(&src).expect("stat").len();
    let add = add_with(&root, [CELL, "2.2.0"], &[("--docker", &src)], MOVE);
    assert_eq!(add.code, 0, "{add:?}");
    assert!(add.stdout.contains("docker: added"), "{}", add.stdout);
    assert!(!add.stderr.contains("copied"), "{}", add.stderr);
    assert!(!src.exists(), "on success the source path no longer exists");
    let stored = root.join("components/ran/oam/ms-cell-config/versions/2.2.0/docker/image.tar");
    assert_eq!(sha256_of(&stored), sha, "the stored bytes are the source's");
    let (digest, files) = manifest_digests(
        &root,
        "ran/oam/ms-cell-config/versions/2.2.0/docker/manifest.yaml",
    );
    assert_eq!(
        files,
        [("image.tar".to_owned(), size, sha.clone())],
        "the manifest records the stored file's sha256"
    );
    let skopeo = support::skopeo_inspect(&[], &format!("oci-archive:{}", imgs.oci));
    let want = skopeo["Digest"].as_str().expect("digest");
    assert_eq!(digest, want.trim_start_matches("sha256:"));
    assert_eq!(
        tmp_entries(&root),
        Vec::<String>::new(),
        "no work directory is left"
    );
    let latest = run(&root, &["latest", CELL]);
    assert_eq!(latest.stdout.trim(), "2.2.0", "{latest:?}");
    let v = run(&root, &["validate", "--verify-artifacts", "--no-cache"]);
    assert_eq!(v.code, 0, "{v:?}");
}

#[test]
fn a_refused_move_puts_the_source_back() {
    let imgs = support::images();
    let (_g, root) = example_repo();
    let dir = root.parent().expect("temp").to_owned();
    // 2.2.0 holds the OCI archive: other bytes for it are an immutability conflict.
    let oci = beside(&root, "arm.oci.tar", &imgs.oci);
    let first = add_with(
        &root,
        [CELL, "2.2.0"],
        &[("--docker", &oci)],
        &["--from-previous"],
    );
    assert_eq!(first.code, 0, "{first:?}");
    let (truncated, corrupt) = damaged_images(&imgs, &dir);
    let docker = beside(&root, "docker.tar", &imgs.docker);
    let bad_meta = meta_file(
        &dir,
        "bad-meta.yaml",
        &CELL_META.replace("service_name: ms-cell-config", "service_name: other"),
    );
    let before = tree_digest(&root);
    let cases: [(&str, &Utf8Path, &[&str], &str); 4] = [
        ("truncated", &truncated, MOVE, "truncated"),
        ("corrupt", &corrupt, MOVE, "sha256"),
        ("immutable", &docker, MOVE, "immutable"),
        (
            "metadata",
            &oci,
            &["--move", "--metadata", bad_meta.as_str()],
            "metadata/name-mismatch",
        ),
    ];
    for (what, file, rest, expect) in cases {
        let bytes = std::fs::read(file).expect("source");
        let version = if what == "immutable" {
            "2.2.0"
        } else {
            "2.5.0"
        };
        let r = add_with(&root, [CELL, version], &[("--docker", file)], rest);
        assert_eq!(r.code, 1, "{what}: {r:?}");
        assert!(r.stderr.contains(expect), "{what}: {}", r.stderr);
        if matches!(what, "truncated" | "corrupt") {
            assert!(
                r.stderr.contains(file.as_str()),
                "{what}: the error names the source file: {}",
                r.stderr
            );
        }
        assert!(!r.stderr.contains(".berth/tmp"), "{what}: {}", r.stderr);
        assert_eq!(
            std::fs::read(file).expect("the source is back"),
            bytes,
            "{what}: the source is back byte for byte"
        );
        assert_eq!(tree_digest(&root), before, "{what} changed the tree");
        assert_eq!(tmp_entries(&root), Vec::<String>::new(), "{what}");
    }
}

#[test]
fn moving_identical_bytes_again_changes_nothing_and_puts_the_source_back() {
    let imgs = support::images();
    let (_g, root) = example_repo();
    let src = beside(&root, "image.tar", &imgs.oci);
    let first = add_with(&root, [CELL, "2.2.0"], &[("--docker", &src)], MOVE);
    assert_eq!(first.code, 0, "{first:?}");
    assert!(!src.exists());
    // A retried job: the same bytes again.
    let again = beside(&root, "image.tar", &imgs.oci);
    let bytes = std::fs::read(&again).expect("read");
    let before = tree_digest(&root);
    let r = add_with(&root, [CELL, "2.2.0"], &[("--docker", &again)], MOVE);
    assert_eq!(r.code, 0, "{r:?}");
    assert!(r.stdout.contains("docker: unchanged"), "{}", r.stdout);
    assert!(r.stdout.contains("nothing changed"), "{}", r.stdout);
    assert_eq!(
        std::fs::read(&again).expect("the source is back"),
        bytes,
        "the repository already has the bytes: the source is put back"
    );
    assert_eq!(tree_digest(&root), before);
    assert_eq!(tmp_entries(&root), Vec::<String>::new());
}

#[test]
fn move_a_deb_and_generic_files() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let d = support::utf8(&tmp);
    let (_g, root) = example_repo();
    let spec = DebSpec {
        package: "common-utils",
        version: "1.4.0-1",
        arch: "all",
        compression: "xz",
        depends: None,
    };
    let deb = beside(
        &root,
        "common-utils_1.4.0-1_all.deb",
        &support::build_deb(&d, &spec),
    );
    let dir = root.parent().expect("temp").to_owned();
    let notes = meta_file(&dir, "NOTES.md", "release notes\n");
    let sbom = meta_file(&dir, "sbom.json", "{\"sbom\": true}\n");
    let shas: Vec<String> = [&deb, &notes, &sbom].iter().map(|p| sha256_of(p)).collect();
    let files = [
        ("--deb", &*deb),
        ("--generic", &notes),
        ("--generic", &sbom),
    ];
    let r = add_with(&root, ["core/platform/common-utils", "1.4.0"], &files, MOVE);
    assert_eq!(r.code, 0, "{r:?}");
    assert!(r.stdout.contains("deb: added"), "{}", r.stdout);
    assert!(r.stdout.contains("generic: added"), "{}", r.stdout);
    let v = root.join("components/core/platform/common-utils/versions/1.4.0");
    for (src, stored, sha) in [
        (&deb, v.join("deb/common-utils_1.4.0-1_all.deb"), &shas[0]),
        (&notes, v.join("generic/NOTES.md"), &shas[1]),
        (&sbom, v.join("generic/sbom.json"), &shas[2]),
    ] {
        assert!(!src.exists(), "{src} was moved");
        assert_eq!(&sha256_of(&stored), sha, "{stored}");
    }
    let (_, files) = manifest_digests(
        &root,
        "core/platform/common-utils/versions/1.4.0/deb/manifest.yaml",
    );
    let size = |p: &Utf8Path| std::fs::metadata(p).expect("stat").len();
    let deb_size = size(&v.join("deb/common-utils_1.4.0-1_all.deb"));
    let want = (
        "common-utils_1.4.0-1_all.deb".to_owned(),
        deb_size,
        shas[0].clone(),
    );
    assert_eq!(files, [want]);
    let (_, files) = manifest_digests(
        &root,
        "core/platform/common-utils/versions/1.4.0/generic/manifest.yaml",
    );
    let want = [
        ("NOTES.md".to_owned(), 14, shas[1].clone()),
        ("sbom.json".to_owned(), 15, shas[2].clone()),
    ];
    assert_eq!(files, want);

    // An arm64 package for an amd64 service, moved with a generic file: refused, and
    // both come back.
    let spec = DebSpec {
        package: "ms-ingestion",
        version: "1.0.4",
        arch: "arm64",
        compression: "gzip",
        depends: None,
    };
    let arm = beside(
        &root,
        "ms-ingestion_1.0.4_arm64.deb",
        &support::build_deb(&d, &spec),
    );
    let notes = meta_file(&dir, "NOTES.md", "release notes 1.0.4\n");
    let before = tree_digest(&root);
    let files = [("--generic", &*notes), ("--deb", &arm)];
    let r = add_with(&root, ["cloud/dmp/ms-ingestion", "1.0.4"], &files, MOVE);
    assert_eq!(r.code, 1, "{r:?}");
    assert!(r.stderr.contains("manifest/arch-mismatch"), "{}", r.stderr);
    assert!(arm.exists() && notes.exists(), "both sources are back");
    assert_eq!(
        std::fs::read_to_string(&notes).expect("notes"),
        "release notes 1.0.4\n"
    );
    assert_eq!(tree_digest(&root), before);
}

/// What cannot be handed over by a rename is copied and left in place: a symbolic link,
/// and a file on another filesystem (`/dev/shm`, when it is one).
#[test]
fn move_copies_what_it_cannot_rename() {
    let (_g, root) = example_repo();
    let dir = root.parent().expect("temp").to_owned();
    let target = meta_file(&dir, "real-notes.txt", "notes behind a link\n");
    let link = dir.join("notes.txt");
    std::os::unix::fs::symlink(&target, &link).expect("symlink");
    let r = add_with(&root, [CELL, "2.4.0"], &[("--generic", &link)], MOVE);
    assert_eq!(r.code, 0, "{r:?}");
    assert!(
        r.stderr.contains("was copied, not moved") && r.stderr.contains("symbolic link"),
        "{}",
        r.stderr
    );
    assert!(link.exists() && target.exists(), "both are left in place");
    let stored = root.join("components/ran/oam/ms-cell-config/versions/2.4.0/generic/notes.txt");
    let meta = std::fs::symlink_metadata(&stored).expect("stored");
    assert!(meta.is_file(), "the tree holds a file, not the link");
    assert_eq!(
        std::fs::read_to_string(&stored).expect("read"),
        "notes behind a link\n"
    );

    use std::os::unix::fs::MetadataExt as _;
    let shm = Utf8Path::new("/dev/shm");
    let other_fs = std::fs::metadata(shm)
        .is_ok_and(|m| m.dev() != std::fs::metadata(&root).expect("stat").dev());
    if !other_fs {
        eprintln!("/dev/shm is not another filesystem here: the EXDEV case is not exercised");
        return;
    }
    let away = tempfile::tempdir_in(shm).expect("tempdir in /dev/shm");
    let far = support::utf8(&away).join("far.txt");
    std::fs::write(&far, "far away\n").expect("write");
    let r = add_with(&root, [CELL, "2.4.1"], &[("--generic", &far)], MOVE);
    assert_eq!(r.code, 0, "{r:?}");
    assert!(
        r.stderr.contains("another filesystem") && r.stderr.contains(far.as_str()),
        "{}",
        r.stderr
    );
    assert_eq!(
        std::fs::read_to_string(&far).expect("still there"),
        "far away\n"
    );
}

/// An add killed at any moment of a `--move` loses no file: the version is complete in the
/// tree (and the source gone), or the next add puts the source back.
#[test]
fn a_killed_move_is_put_back_by_the_next_add() {
    let (_g, root) = example_repo();
    let dir = root.parent().expect("temp").to_owned();
    let content: Vec<u8> = (0..(48u32 << 20)).map(|i| (i % 251) as u8).collect();
    let sha = support::sha256_hex(&content);
    for i in 0..10u64 {
        let src = dir.join(format!("big-{i}.bin"));
        std::fs::write(&src, &content).expect("write");
        let v = format!("2.6.{i}");
        let mut child = berth_tests::berth(&root)
            .args(["add", CELL, &v, "--generic", src.as_str()])
            .args(MOVE)
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .spawn()
            .expect("spawn");
        std::thread::sleep(std::time::Duration::from_millis(5 + i * 29));
        let _ = child.kill();
        let _ = child.wait();
        // Any later add sweeps what the killed one left.
        let small = meta_file(&dir, &format!("small-{i}.txt"), "small\n");
        let next = format!("2.7.{i}");
        let r = add_with(
            &root,
            [CELL, &next],
            &[("--generic", &small)],
            &["--from-previous"],
        );
        assert_eq!(r.code, 0, "{r:?}");
        let vdir = root
            .join("components/ran/oam/ms-cell-config/versions")
            .join(&v);
        if vdir.exists() {
            assert!(!src.exists(), "{v}: added, so the source is gone");
            assert_eq!(sha256_of(&vdir.join(format!("generic/big-{i}.bin"))), sha);
        } else {
            assert_eq!(
                sha256_of(&src),
                sha,
                "{v}: not added, so the source is back"
            );
        }
        assert_eq!(tmp_entries(&root), Vec::<String>::new(), "{v}");
    }
}

/// A version a stage has run is frozen: no format can be added to it (the finding: a
/// generic file added to ms-export 3.2.0 after its promotion, then published to prod).
/// Before its first promotion formats may still arrive from separate jobs, and identical
/// bytes stay a success either way.
#[test]
fn a_promoted_version_is_frozen() {
    let (_g, root) = example_repo();
    let notes = root.join("notes.txt");
    std::fs::write(&notes, "release notes\n").expect("write");
    let promote = |c: &str, v: &str| {
        let r = run(
            &root,
            &[
                "promote", c, v, "--domain", "core", "--env", "staging", "--actor", "ci-bot",
            ],
        );
        assert_eq!(r.code, 0, "{r:?}");
    };
    // Not yet promoted: a second job adds a format to 1.3.0.
    let before = run(
        &root,
        &[
            "add",
            "core/platform/common-utils",
            "1.3.0",
            "--generic",
            notes.as_str(),
        ],
    );
    assert_eq!(before.code, 0, "{before:?}");
    promote("common-utils", "1.3.0");
    // Promoted: the same bytes again are fine …
    let again = run(
        &root,
        &[
            "add",
            "core/platform/common-utils",
            "1.3.0",
            "--generic",
            notes.as_str(),
        ],
    );
    assert_eq!(again.code, 0, "{again:?}");
    assert!(again.stdout.contains("unchanged"), "{}", again.stdout);
    // … a new format is not, and nothing is written.
    let manifest = root.join("components/core/platform/common-utils/versions/1.3.0/docker");
    let imgs = support::images();
    let oci = imgs.oci.clone();
    let refused = run(
        &root,
        &[
            "add",
            "core/platform/common-utils",
            "1.3.0",
            "--docker",
            oci.as_str(),
        ],
    );
    assert_eq!(refused.code, 1, "{refused:?}");
    assert!(
        refused.stderr.contains("frozen") && refused.stderr.contains("core/staging"),
        "{}",
        refused.stderr
    );
    assert!(
        refused.stderr.contains("index/audit/core/staging/"),
        "{}",
        refused.stderr
    );
    assert!(!manifest.exists(), "nothing was added");
    // A version that is not promoted anywhere still takes new formats.
    let other = run(
        &root,
        &[
            "add",
            "core/platform/common-utils",
            "1.2.0",
            "--generic",
            notes.as_str(),
        ],
    );
    assert_eq!(other.code, 0, "{other:?}");
}
