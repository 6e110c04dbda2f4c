//! No input makes the readers panic: arbitrary bytes, truncations and byte flips of real
//! archives all come back as `Err` (or, for flips in unchecked padding, `Ok`), never a panic.

mod support;

use berth_formats::{inspect_deb, inspect_image};
use camino::Utf8Path;
use proptest::prelude::*;
use proptest::strategy::Just;
use proptest::test_runner::{Config, TestRunner};
use support::{DebSpec, build_deb, images, utf8};

/// `BERTH_FUZZ_CASES` overrides every budget (`cargo xtask fuzz` runs a long one).
fn runner(cases: u32) -> TestRunner {
    let cases = std::env::var("BERTH_FUZZ_CASES")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(cases);
    TestRunner::new(Config {
        cases,
        failure_persistence: None,
        ..Config::default()
    })
}

fn write(path: &Utf8Path, bytes: &[u8]) {
    fs_err::write(path, bytes).expect("write");
}

#[test]
fn arbitrary_bytes_are_refused() {
    let dir = tempfile::tempdir().expect("tempdir");
    let f = utf8(&dir).join("input");
    let prefixes: [&[u8]; 4] = [
        b"",
        b"!<arch>\n",
        b"\x1f\x8b\x08\x00",
        b"!<arch>\ndebian-binary   ",
    ];
    let strategy = (
        0..prefixes.len(),
        proptest::collection::vec(any::<u8>(), 0..3000),
    );
    runner(400)
        .run(&strategy, |(p, tail)| {
            let mut bytes = prefixes[p].to_vec();
            bytes.extend(tail);
            write(&f, &bytes);
            prop_assert!(inspect_image(&f, None).is_err());
            prop_assert!(inspect_deb(&f, None).is_err());
            Ok(())
        })
        .expect("no input is accepted or panics");
}

#[test]
fn truncated_and_flipped_archives() {
    let fx = images();
    let deb_dir = tempfile::tempdir().expect("tempdir");
    let dd = utf8(&deb_dir);
    let debs = [
        build_deb(
            &dd,
            &DebSpec {
                compression: "gzip",
                ..DebSpec::default()
            },
        ),
        build_deb(
            &dd,
            &DebSpec {
                compression: "xz",
                ..DebSpec::default()
            },
        ),
        build_deb(
            &dd,
            &DebSpec {
                compression: "zstd",
                ..DebSpec::default()
            },
        ),
        build_deb(
            &dd,
            &DebSpec {
                compression: "none",
                ..DebSpec::default()
            },
        ),
    ];
    let image_bytes: Vec<Vec<u8>> = [&fx.oci, &fx.docker, &fx.multi]
        .iter()
        .map(|p| fs_err::read(p).expect("read"))
        .collect();
    let deb_bytes: Vec<Vec<u8>> = debs
        .iter()
        .map(|p| fs_err::read(p).expect("read"))
        .collect();
    let f = dd.join("mutated");

    // Truncations: every cut before the end-of-archive marker is an error.
    runner(300)
        .run(
            &(0..image_bytes.len(), any::<prop::sample::Index>()),
            |(i, cut)| {
                let bytes = &image_bytes[i];
                let n = cut.index(bytes.len() - 1024);
                write(&f, &bytes[..n]);
                prop_assert!(inspect_image(&f, None).is_err(), "cut at {n} accepted");
                Ok(())
            },
        )
        .expect("truncated images are refused");
    runner(300)
        .run(
            &(0..deb_bytes.len(), any::<prop::sample::Index>()),
            |(i, cut)| {
                let bytes = &deb_bytes[i];
                let n = cut.index(bytes.len() - 1);
                write(&f, &bytes[..n]);
                prop_assert!(inspect_deb(&f, None).is_err(), "cut at {n} accepted");
                Ok(())
            },
        )
        .expect("truncated debs are refused");

    // Byte flips: any outcome but a panic.
    runner(300)
        .run(
            &(
                0..image_bytes.len(),
                any::<prop::sample::Index>(),
                1..=255u8,
            ),
            |(i, at, x)| {
                let mut bytes = image_bytes[i].clone();
                let k = at.index(bytes.len());
                bytes[k] ^= x;
                write(&f, &bytes);
                let _ = inspect_image(&f, None);
                Ok(())
            },
        )
        .expect("flipped images do not panic");
    runner(300)
        .run(
            &(0..deb_bytes.len(), any::<prop::sample::Index>(), 1..=255u8),
            |(i, at, x)| {
                let mut bytes = deb_bytes[i].clone();
                let k = at.index(bytes.len());
                bytes[k] ^= x;
                write(&f, &bytes);
                let _ = inspect_deb(&f, None);
                Ok(())
            },
        )
        .expect("flipped debs do not panic");
}

/// The JSON members of an image archive (index.json, oci-layout, manifest.json, the image
/// manifest and config blobs) replaced by arbitrary or mutated JSON, and members with odd
/// names and types added: the reader refuses or accepts, never panics.
#[test]
fn image_archives_with_hostile_members() {
    let fx = images();
    let dir = tempfile::tempdir().expect("tempdir");
    let d = utf8(&dir);
    let oci = fs_err::read(&fx.oci).expect("read");
    let docker = fs_err::read(&fx.docker).expect("read");
    // (member name, its JSON) of both archives.
    let members = |bytes: &[u8]| -> Vec<(String, Vec<u8>)> {
        let mut a = tar::Archive::new(bytes);
        let mut out = Vec::new();
        for e in a.entries().expect("entries") {
            let mut e = e.expect("entry");
            let name = e.path().expect("path").to_string_lossy().into_owned();
            let mut data = Vec::new();
            std::io::Read::read_to_end(&mut e, &mut data).expect("read");
            out.push((name, data));
        }
        out
    };
    let archives = [members(&oci), members(&docker)];
    let json_values = prop_oneof![
        Just(serde_json::Value::Null),
        any::<i64>().prop_map(serde_json::Value::from),
        "\\PC{0,40}".prop_map(serde_json::Value::from),
        Just(
            serde_json::json!({"schemaVersion": 2, "manifests": [{"digest": "sha256:00", "size": -1}]})
        ),
        Just(
            serde_json::json!([{"Config": "../../etc/passwd", "Layers": ["/abs"], "RepoTags": null}])
        ),
        Just(
            serde_json::json!({"mediaType": "application/vnd.oci.image.index.v1+json", "manifests": []})
        ),
        Just(serde_json::json!({"layers": [{"digest": "sha256:zz", "size": 1e30}]})),
    ];
    let f = d.join("hostile.tar");
    runner(200)
        .run(
            &(
                0..2usize,
                any::<prop::sample::Index>(),
                json_values,
                any::<bool>(),
                "[a-z./]{0,30}",
            ),
            |(which, at, value, add_odd, odd_name)| {
                let ms = &archives[which];
                let k = at.index(ms.len());
                let mut b = tar::Builder::new(Vec::new());
                for (i, (name, data)) in ms.iter().enumerate() {
                    let data = if i == k {
                        serde_json::to_vec(&value).expect("json")
                    } else {
                        data.clone()
                    };
                    let mut h = tar::Header::new_gnu();
                    h.set_size(data.len() as u64);
                    h.set_mode(0o644);
                    h.set_cksum();
                    b.append_data(&mut h, name, &data[..]).expect("append");
                }
                if add_odd && !odd_name.is_empty() {
                    let mut h = tar::Header::new_gnu();
                    h.set_entry_type(tar::EntryType::Symlink);
                    h.set_size(0);
                    let _ = h.set_link_name("../../../etc");
                    h.set_cksum();
                    let _ = b.append_data(&mut h, &odd_name, &[][..]);
                }
                write(&f, &b.into_inner().expect("finish"));
                let _ = inspect_image(&f, None);
                Ok(())
            },
        )
        .expect("hostile members do not panic");
}

proptest! {
    /// parse_control never panics, whatever the text.
    #[test]
    fn parse_control_never_panics(text in "\\PC{0,400}") {
        let _ = berth_formats::parse_control(&text);
    }

    /// A generated paragraph parses back to its fields, continuation lines included.
    #[test]
    fn parse_control_round_trips(
        fields in proptest::collection::btree_map(
            "[A-Z][A-Za-z0-9-]{0,12}",
            ("[!-~][ -~]{0,30}", proptest::collection::vec("[!-~][ -~]{0,20}", 0..3)),
            1..8,
        )
    ) {
        // Field names compare case-insensitively: keep one spelling of each.
        let mut seen = std::collections::HashSet::new();
        let fields: Vec<_> = fields
            .into_iter()
            .filter(|(k, _)| seen.insert(k.to_ascii_lowercase()))
            .collect();
        let mut text = String::new();
        for (k, (first, more)) in &fields {
            text.push_str(&format!("{k}: {first}\n"));
            for line in more {
                text.push_str(&format!(" {line}\n"));
            }
        }
        let parsed = berth_formats::parse_control(&text).expect("valid paragraph");
        prop_assert_eq!(parsed.len(), fields.len());
        for (k, (first, more)) in &fields {
            let mut want = first.trim().to_owned();
            for line in more {
                want.push_str("\n ");
                want.push_str(line.trim_end());
            }
            prop_assert_eq!(&parsed[k], &want);
        }
    }
}
