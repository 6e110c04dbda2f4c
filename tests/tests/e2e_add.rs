//! End to end: `berth add` with artifacts built by the real tools (dpkg-deb, umoci,
//! skopeo). Every refusal leaves the repository byte-for-byte unchanged.

#[path = "../../crates/formats/tests/support/mod.rs"]
mod support;

use berth_tests::{example_repo, run, tree_digest};
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

fn manifest(root: &Utf8Path, rel: &str) -> String {
    std::fs::read_to_string(root.join("components").join(rel)).expect("manifest written")
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

#[test]
fn bad_artifacts_are_refused_and_change_nothing() {
    let imgs = support::images();
    let tmp = tempfile::tempdir().expect("tempdir");
    let d = support::utf8(&tmp);
    let (_g, root) = example_repo();
    let truncated = d.join("truncated.tar");
    let len = std::fs::metadata(&imgs.oci).expect("meta").len();
    support::truncate_copy(&imgs.oci, &truncated, len / 2);
    let raw = support::skopeo_inspect(&["--raw"], &format!("oci-archive:{}", imgs.oci));
    let layer = raw["layers"][0]["digest"]
        .as_str()
        .expect("a layer")
        .replace("sha256:", "blobs/sha256/");
    let (off, _size) = support::member_offset(&imgs.oci, &layer);
    let corrupt = d.join("corrupt.tar");
    support::flip_byte(&imgs.oci, &corrupt, off + 10);
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
