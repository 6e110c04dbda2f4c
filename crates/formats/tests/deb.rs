//! Debian packages built with dpkg-deb: every compression, epochs and tildes, three
//! architectures; berth must agree with dpkg-deb.

mod support;

use std::process::Command;

use berth_formats::{hash_file, inspect_deb};
use support::{DebSpec, build_deb, run, utf8};

fn dpkg_field(deb: &camino::Utf8Path, field: &str) -> String {
    let out = run(Command::new("dpkg-deb").arg("-f").arg(deb).arg(field));
    String::from_utf8(out).expect("UTF-8").trim_end().to_owned()
}

#[test]
fn every_compression_version_and_arch() {
    let dir = tempfile::tempdir().expect("tempdir");
    let d = utf8(&dir);
    let cases = [
        ("gzip", "1.0.2-1", "amd64", Some("libc6 (>= 2.34), adduser")),
        ("xz", "1:2.0~rc1-3", "arm64", None),
        ("zstd", "2.0~beta1", "all", Some("python3")),
        ("none", "3:0.1+git20250101-1~bpo12+1", "amd64", None),
    ];
    for (compression, version, arch, depends) in cases {
        let spec = DebSpec {
            package: "hello-berth",
            version,
            arch,
            depends,
            compression,
        };
        let deb = build_deb(&d, &spec);
        let info = inspect_deb(&deb, None)
            .unwrap_or_else(|e| panic!("{compression}: inspect failed: {e}"));
        assert_eq!(info.package, dpkg_field(&deb, "Package"), "{compression}");
        assert_eq!(info.version, dpkg_field(&deb, "Version"), "{compression}");
        assert_eq!(info.version, version);
        assert_eq!(info.architecture.as_str(), dpkg_field(&deb, "Architecture"));
        assert_eq!(info.architecture.as_str(), arch);
        assert_eq!(info.architecture.is_all(), arch == "all");
        assert_eq!(info.depends.as_deref(), depends);
        assert_eq!(info.installed_size, Some(12));
        // control_text is the control file as dpkg-deb shows it.
        let shown = run(Command::new("dpkg-deb")
            .arg("--info")
            .arg(&deb)
            .arg("control"));
        assert_eq!(info.control_text, String::from_utf8(shown).expect("UTF-8"));
        assert_eq!(
            info.control.get("Description").map(String::as_str),
            Some("berth test package\n Built by the berth-formats tests.\n .\n Second paragraph.")
        );
        // One pass: the digest equals a separate hash of the file.
        assert_eq!(info.file, hash_file(&deb, None).expect("hash"));
        let sha = run(Command::new("sha256sum").arg(&deb));
        assert!(
            String::from_utf8_lossy(&sha).starts_with(&info.file.sha256.hex()),
            "sha256sum agrees"
        );
    }
}

#[test]
fn progress_reaches_the_file_size() {
    let dir = tempfile::tempdir().expect("tempdir");
    let deb = build_deb(&utf8(&dir), &DebSpec::default());
    let last = std::cell::Cell::new(0);
    let cb = |n| last.set(n);
    let info = inspect_deb(&deb, Some(&cb)).expect("inspect");
    assert_eq!(last.get(), info.file.size);
    assert_eq!(info.file.size, fs_err::metadata(&deb).expect("stat").len());
}
