//! The bad-artifact corpus: each damaged or hostile archive gives its own error variant,
//! and the message names the file.

mod support;

use berth_formats::{CONTROL_FILE_LIMIT, FormatError, inspect_deb, inspect_image};
use camino::{Utf8Path, Utf8PathBuf};
use support::{
    DebSpec, RawEntry, build_deb, control_for, flip_byte, handmade_deb, images, member_offset,
    rewrite_tar, tar_of, truncate_copy, utf8,
};

/// Asserts the error names the file and returns it for a variant check.
fn named(err: FormatError, file: &Utf8Path) -> FormatError {
    let msg = err.to_string();
    assert!(msg.contains(file.as_str()), "message names the file: {msg}");
    assert_eq!(err.path(), file);
    err
}

fn image_err(file: &Utf8Path) -> FormatError {
    match inspect_image(file, None) {
        Ok(info) => panic!("{file} was accepted: {info:?}"),
        Err(e) => named(e, file),
    }
}

fn deb_err(file: &Utf8Path) -> FormatError {
    match inspect_deb(file, None) {
        Ok(info) => panic!("{file} was accepted: {info:?}"),
        Err(e) => named(e, file),
    }
}

/// The digest in a `blobs/sha256/<hex>` name of the layer of the `arm` image.
fn layer_blob(fx: &support::Images) -> String {
    let raw = support::skopeo_inspect(&["--raw"], &format!("oci-archive:{}", fx.oci));
    let d = raw["layers"][0]["digest"].as_str().expect("layer digest");
    format!("blobs/sha256/{}", d.trim_start_matches("sha256:"))
}

#[test]
fn image_corpus() {
    let fx = images();
    let d = utf8(&fx.dir);
    let out = |name: &str| -> Utf8PathBuf { d.join(name) };

    // Truncated in the middle, and cut cleanly before the end-of-archive marker.
    let len = fs_err::metadata(&fx.oci).expect("stat").len();
    let t = out("truncated.tar");
    truncate_copy(&fx.oci, &t, len / 2);
    assert!(matches!(image_err(&t), FormatError::Truncated { .. }));
    let (off, size) = member_offset(&fx.oci, "oci-layout");
    let t = out("cut-at-member.tar");
    truncate_copy(&fx.oci, &t, (off + size).div_ceil(512) * 512);
    assert!(matches!(image_err(&t), FormatError::Truncated { .. }));

    // A flipped byte inside the layer blob: the error names the blob.
    let blob = layer_blob(&fx);
    let (off, _) = member_offset(&fx.oci, &blob);
    let c = out("corrupt-layer.oci.tar");
    flip_byte(&fx.oci, &c, off + 10);
    match image_err(&c) {
        FormatError::DigestMismatch { member, .. } => assert_eq!(member, blob),
        e => panic!("want DigestMismatch, got {e}"),
    }
    let msg = image_err(&c).to_string();
    assert!(msg.contains(&blob), "{msg}");

    // Same in the docker archive: the layer file is checked against the config's diff_id.
    let docker_layer = {
        let bytes = fs_err::read(&fx.docker).expect("read");
        let mut a = tar::Archive::new(&bytes[..]);
        a.entries()
            .expect("entries")
            .filter_map(|e| {
                let e = e.expect("entry");
                let p = e.path().expect("path").to_string_lossy().into_owned();
                (p.ends_with(".tar") && e.header().entry_type().is_file()).then_some(p)
            })
            .next()
            .expect("a layer file")
    };
    let (off, _) = member_offset(&fx.docker, &docker_layer);
    let c = out("corrupt-layer.docker.tar");
    flip_byte(&fx.docker, &c, off + 100);
    match image_err(&c) {
        FormatError::DigestMismatch { member, .. } => assert_eq!(member, docker_layer),
        e => panic!("want DigestMismatch, got {e}"),
    }

    // Hostile names and links, appended to an otherwise good archive.
    type Check = fn(&FormatError) -> bool;
    let cases: [(&str, RawEntry<'_>, Check); 5] = [
        (
            "dotdot.tar",
            RawEntry::file(b"../evil", b"x"),
            |e| matches!(e, FormatError::PathTraversal { member, .. } if member == "../evil"),
        ),
        (
            "inner-dotdot.tar",
            RawEntry::file(b"blobs/../../evil", b"x"),
            |e| matches!(e, FormatError::PathTraversal { .. }),
        ),
        (
            "absolute.tar",
            RawEntry::file(b"/etc/cron.d/evil", b"x"),
            |e| matches!(e, FormatError::AbsolutePath { member, .. } if member == "/etc/cron.d/evil"),
        ),
        (
            "symlink.tar",
            RawEntry::symlink(b"blobs/evil", b"../../etc/passwd"),
            |e| matches!(e, FormatError::LinkEscapes { member, .. } if member == "blobs/evil"),
        ),
        (
            "abs-symlink.tar",
            RawEntry::symlink(b"evil", b"/etc/passwd"),
            |e| matches!(e, FormatError::LinkEscapes { .. }),
        ),
    ];
    for (name, entry, want) in cases {
        let f = out(name);
        rewrite_tar(&fx.oci, &f, &[entry], false);
        let e = image_err(&f);
        assert!(want(&e), "{name}: {e}");
    }
    let mut hard = RawEntry::symlink(b"hard", b"../outside");
    hard.kind = tar::EntryType::Link;
    let f = out("hardlink.tar");
    rewrite_tar(&fx.oci, &f, &[hard], true);
    assert!(matches!(image_err(&f), FormatError::LinkEscapes { .. }));

    // The same member twice (a second index.json that a naive reader would prefer).
    let f = out("duplicate.tar");
    rewrite_tar(
        &fx.oci,
        &f,
        &[RawEntry::file(b"./index.json", b"{}")],
        false,
    );
    match image_err(&f) {
        FormatError::DuplicateEntry { member, .. } => assert_eq!(member, "index.json"),
        e => panic!("want DuplicateEntry, got {e}"),
    }

    // A blob the manifest needs is missing.
    let f = out("missing-blob.tar");
    {
        let bytes = fs_err::read(&fx.oci).expect("read");
        let mut a = tar::Archive::new(&bytes[..]);
        let mut b = tar::Builder::new(Vec::new());
        for e in a.entries().expect("entries") {
            let mut e = e.expect("entry");
            if e.path().expect("path").to_string_lossy() == blob {
                continue;
            }
            let h = e.header().clone();
            b.append(&h, &mut e).expect("append");
        }
        fs_err::write(&f, b.into_inner().expect("finish")).expect("write");
    }
    match image_err(&f) {
        FormatError::MissingMember { member, .. } => assert_eq!(member, blob),
        e => panic!("want MissingMember, got {e}"),
    }

    // Not an archive at all; empty; a tar without an image.
    let f = out("text.tar");
    fs_err::write(&f, "this is not a tar archive\n".repeat(40)).expect("write");
    assert!(matches!(image_err(&f), FormatError::NotAnArchive { .. }));
    let f = out("empty.tar");
    fs_err::write(&f, "").expect("write");
    assert!(matches!(image_err(&f), FormatError::NotAnArchive { .. }));
    let f = out("no-image.tar");
    fs_err::write(&f, tar_of(&[("README", b"hello")])).expect("write");
    assert!(matches!(image_err(&f), FormatError::InvalidImage { .. }));
    // Data after the end-of-archive marker (two tars glued together).
    let f = out("glued.tar");
    let mut glued = fs_err::read(&fx.oci).expect("read");
    glued.extend(tar_of(&[("index.json", b"{}")]));
    fs_err::write(&f, glued).expect("write");
    assert!(matches!(image_err(&f), FormatError::Corrupt { .. }));
}

#[test]
fn deb_corpus() {
    let dir = tempfile::tempdir().expect("tempdir");
    let d = utf8(&dir);
    let good = build_deb(&d, &DebSpec::default());

    // No Architecture field (dpkg-deb refuses to build it, so it is made by hand).
    let control = control_for(&DebSpec::default()).replace("Architecture: amd64\n", "");
    let f = d.join("no-arch.deb");
    handmade_deb(&f, &tar_of(&[("./control", control.as_bytes())]));
    match deb_err(&f) {
        FormatError::MissingControlField { field, .. } => assert_eq!(field, "Architecture"),
        e => panic!("want MissingControlField, got {e}"),
    }
    let f = d.join("no-version.deb");
    let control = control_for(&DebSpec::default()).replace("Version: 1.0.2-1\n", "");
    handmade_deb(&f, &tar_of(&[("./control", control.as_bytes())]));
    assert!(matches!(
        deb_err(&f),
        FormatError::MissingControlField {
            field: "Version",
            ..
        }
    ));

    // A handmade package with a good control is accepted (so the failures above are about
    // the control, not about the handmade container).
    let f = d.join("handmade-ok.deb");
    let control = control_for(&DebSpec::default());
    handmade_deb(&f, &tar_of(&[("./control", control.as_bytes())]));
    inspect_deb(&f, None).expect("handmade package with full control");

    // A control.tar bomb: 20 MiB of zeros that gzip to almost nothing.
    let zeros = vec![0u8; 20 << 20];
    let f = d.join("bomb.deb");
    handmade_deb(
        &f,
        &tar_of(&[("./control", control.as_bytes()), ("./postinst", &zeros)]),
    );
    assert!(fs_err::metadata(&f).expect("stat").len() < 1 << 20);
    match deb_err(&f) {
        FormatError::TooLarge {
            expanded, member, ..
        } => {
            assert!(expanded);
            assert_eq!(member, "control.tar.gz");
        }
        e => panic!("want TooLarge, got {e}"),
    }
    // A control file over the limit.
    let mut huge = control.clone();
    huge.push_str(&format!(" {}\n", "x".repeat(CONTROL_FILE_LIMIT as usize)));
    let f = d.join("huge-control.deb");
    handmade_deb(&f, &tar_of(&[("./control", huge.as_bytes())]));
    assert!(matches!(
        deb_err(&f),
        FormatError::TooLarge {
            expanded: false,
            ..
        }
    ));

    // Hostile names inside control.tar.
    let f = d.join("dotdot-control.deb");
    let mut b = tar::Builder::new(Vec::new());
    let mut h = tar::Header::new_old();
    h.as_old_mut().name[..9].copy_from_slice(b"../evil.x");
    h.set_size(1);
    h.set_mode(0o644);
    h.set_cksum();
    b.append(&h, &b"x"[..]).expect("append");
    handmade_deb(&f, &b.into_inner().expect("finish"));
    assert!(matches!(deb_err(&f), FormatError::PathTraversal { .. }));

    // Two control members: which one would dpkg use?
    let f = d.join("two-controls.deb");
    let ctl = support::gzip(&tar_of(&[("./control", control.as_bytes())]));
    support::write_ar(
        &f,
        &[
            ("debian-binary", b"2.0\n".to_vec()),
            ("control.tar.gz", ctl.clone()),
            ("control.tar.gz", ctl),
            ("data.tar.gz", support::gzip(&tar_of(&[("./x", b"x")]))),
        ],
    );
    match deb_err(&f) {
        FormatError::DuplicateEntry { member, .. } => assert_eq!(member, "control.tar.gz"),
        e => panic!("want DuplicateEntry, got {e}"),
    }

    // Truncated: in data.tar, and in the middle of the ar header.
    let len = fs_err::metadata(&good).expect("stat").len();
    let f = d.join("truncated.deb");
    truncate_copy(&good, &f, len - 10);
    assert!(matches!(deb_err(&f), FormatError::Truncated { .. }));
    let f = d.join("truncated-header.deb");
    truncate_copy(&good, &f, 8 + 30);
    assert!(matches!(deb_err(&f), FormatError::Truncated { .. }));

    // Not a package.
    let f = d.join("text.deb");
    fs_err::write(&f, "Package: nope\n").expect("write");
    assert!(matches!(deb_err(&f), FormatError::NotAnArchive { .. }));
    let f = d.join("image-as-deb.deb");
    fs_err::write(&f, tar_of(&[("debian-binary", b"2.0\n")])).expect("write");
    assert!(matches!(deb_err(&f), FormatError::NotAnArchive { .. }));

    // A corrupt control.tar.gz.
    let bytes = fs_err::read(&good).expect("read");
    let pos = bytes
        .windows(14)
        .position(|w| w == b"control.tar.gz")
        .expect("control member");
    let f = d.join("corrupt-control.deb");
    flip_byte(&good, &f, (pos + 60 + 20) as u64);
    assert!(matches!(deb_err(&f), FormatError::Corrupt { .. }));

    // Missing file.
    let f = d.join("does-not-exist.deb");
    assert!(matches!(
        deb_err(&f),
        FormatError::Open(berth_model::StoreError::NotFound { .. })
    ));
}
