//! A hostile suite of our own: every way a repository written by many CI jobs gets
//! corrupted or leaks files, tried as an attacker and a crashing runner would, each case
//! asserting the exit code, a message that names the file or field, and (where the command
//! is refused) a byte-for-byte unchanged tree. The classes follow the hardening issue.

#[path = "../../crates/formats/tests/support/mod.rs"]
mod support;

use std::os::unix::fs::{PermissionsExt as _, symlink};
use std::process::Stdio;
use std::time::Duration;

use berth_tests::{Run, example_repo, run, tree_digest};
use camino::{Utf8Path, Utf8PathBuf};

/// Runs berth and asserts it refused: the exit code, words the message must hold, and an
/// unchanged tree.
#[track_caller]
fn refused(root: &Utf8Path, args: &[&str], code: i32, words: &[&str]) -> Run {
    let before = tree_digest(root);
    let r = run(root, args);
    assert_eq!(r.code, code, "berth {args:?}: {r:?}");
    for w in words {
        assert!(
            r.stderr.contains(w),
            "berth {args:?}: stderr lacks {w:?}: {}",
            r.stderr
        );
    }
    assert!(!r.stderr.contains("panicked"), "{r:?}");
    assert_eq!(
        before,
        tree_digest(root),
        "berth {args:?} changed the tree although it refused"
    );
    r
}

#[track_caller]
fn ok(root: &Utf8Path, args: &[&str]) -> Run {
    let r = run(root, args);
    assert_eq!(r.code, 0, "berth {args:?}: {r:?}");
    r
}

fn outside() -> (tempfile::TempDir, Utf8PathBuf) {
    berth_tests::tempdir()
}

fn listing(dir: &Utf8Path) -> Vec<String> {
    let mut v: Vec<String> = std::fs::read_dir(dir)
        .expect("read")
        .map(|e| e.expect("entry").file_name().to_string_lossy().into_owned())
        .collect();
    v.sort();
    v
}

fn note(dir: &Utf8Path) -> Utf8PathBuf {
    let p = dir.join("notes.txt");
    std::fs::write(&p, b"release notes\n").expect("write");
    p
}

/// Moves `rel` of the repository out of the tree and puts a symbolic link in its place.
fn link_out(root: &Utf8Path, rel: &str, out: &Utf8Path) -> Utf8PathBuf {
    let target = out.join(rel.replace('/', "_"));
    std::fs::rename(root.join(rel), &target).expect("move out");
    symlink(&target, root.join(rel)).expect("symlink");
    target
}

// ---------------------------------------------------------------------------------------
// 1. Writes and reads never escape the repository; no symbolic link is followed.

#[test]
fn a_linked_index_or_versions_directory_is_never_written_through() {
    let (_g, root) = example_repo();
    let (_o, out) = outside();
    let src = note(&out);
    let index_target = link_out(&root, "index", &out);
    let before = listing(&index_target);
    refused(
        &root,
        &[
            "add",
            "cloud/dmp/ms-export",
            "3.3.0",
            "--generic",
            src.as_str(),
            "--from-previous",
        ],
        2,
        &["`index` is a symbolic link", "never follows symbolic links"],
    );
    assert_eq!(listing(&index_target), before, "nothing written outside");

    let (_g2, root2) = example_repo();
    let versions = link_out(&root2, "components/cloud/dmp/ms-export/versions", &out);
    let before = listing(&versions);
    refused(
        &root2,
        &[
            "add",
            "cloud/dmp/ms-export",
            "3.3.0",
            "--generic",
            src.as_str(),
            "--from-previous",
        ],
        2,
        &["components/cloud/dmp/ms-export/versions` is a symbolic link"],
    );
    assert_eq!(listing(&versions), before, "nothing written outside");
    // validate reports it with the same words.
    let v = run(&root2, &["validate"]);
    assert_eq!(v.code, 1, "{v:?}");
    assert!(v.stdout.contains("layout/symlink-escape"), "{}", v.stdout);
    assert!(
        v.stdout.contains("never follows symbolic links"),
        "{}",
        v.stdout
    );
}

#[test]
fn a_linked_state_directory_or_audit_trail_is_refused_by_every_writer() {
    let (_g, root) = example_repo();
    let (_o, out) = outside();
    let state = out.join("state");
    std::fs::create_dir_all(&state).expect("mkdir");
    let _ = std::fs::remove_dir_all(root.join(".berth"));
    symlink(&state, root.join(".berth")).expect("symlink");
    let src = note(&out);
    refused(
        &root,
        &[
            "add",
            "cloud/dmp/ms-export",
            "3.3.0",
            "--generic",
            src.as_str(),
            "--from-previous",
        ],
        2,
        &["`.berth` is a symbolic link"],
    );
    refused(
        &root,
        &[
            "promote",
            "common-utils",
            "1.3.0",
            "--domain",
            "cloud",
            "--env",
            "staging",
            "--actor",
            "ci-bot",
        ],
        2,
        &["`.berth` is a symbolic link"],
    );
    refused(&root, &["index"], 2, &["`.berth` is a symbolic link"]);
    assert!(
        listing(&state).is_empty(),
        "nothing written outside: {:?}",
        listing(&state)
    );

    // The audit directory of a stage linked out: a promotion must not write its record there.
    let (_g2, root2) = example_repo();
    let trail = out.join("trail");
    std::fs::create_dir_all(&trail).expect("mkdir");
    std::fs::create_dir_all(root2.join("index/audit/cloud")).expect("mkdir");
    symlink(&trail, root2.join("index/audit/cloud/staging")).expect("symlink");
    refused(
        &root2,
        &[
            "promote",
            "common-utils",
            "1.3.0",
            "--domain",
            "cloud",
            "--env",
            "staging",
            "--actor",
            "ci-bot",
        ],
        2,
        &["index/audit/cloud/staging` is a symbolic link"],
    );
    assert!(listing(&trail).is_empty());
}

#[test]
fn a_linked_domain_file_is_never_printed() {
    let (_g, root) = example_repo();
    symlink("/etc/passwd", root.join("index/domain-cloud.yaml")).expect("symlink");
    let r = refused(
        &root,
        &["deployed", "--domain", "cloud"],
        2,
        &["index/domain-cloud.yaml` is a symbolic link to `/etc/passwd`"],
    );
    assert!(
        !r.stderr.contains("root:"),
        "the target's content leaked: {}",
        r.stderr
    );
    assert!(!r.stdout.contains("root:"), "{}", r.stdout);
    let r = refused(
        &root,
        &[
            "diff", "--domain", "cloud", "--from", "staging", "--to", "prod",
        ],
        2,
        &["symbolic link"],
    );
    assert!(!r.stderr.contains("root:"), "{}", r.stderr);
}

#[test]
fn publish_never_ships_a_linked_artifact() {
    support::require_tool("dpkg-deb");
    let (_g, root) = example_repo();
    let (_o, out) = outside();
    ok(
        &root,
        &[
            "promote",
            "common-utils",
            "1.3.0",
            "--domain",
            "core",
            "--env",
            "staging",
            "--actor",
            "ci-bot",
        ],
    );
    for (c, v) in [
        ("common-utils", "1.3.0"),
        ("ms-ingestion", "1.0.3"),
        ("ms-export", "3.2.0"),
    ] {
        ok(
            &root,
            &[
                "promote", c, v, "--domain", "cloud", "--env", "staging", "--actor", "ci-bot",
            ],
        );
    }
    // The stored artifacts replaced by links to a file outside the tree.
    let secret = out.join("secret.deb");
    std::fs::write(&secret, b"top secret").expect("write");
    let deb = root.join(
        "components/core/platform/common-utils/versions/1.3.0/deb/common-utils_1.3.0-1_all.deb",
    );
    std::fs::remove_file(&deb).expect("rm");
    symlink(&secret, &deb).expect("symlink");
    let notes = root.join("components/cloud/dmp/ms-export/versions/3.2.0/generic/RELEASE-NOTES.md");
    std::fs::remove_file(&notes).expect("rm");
    symlink(&secret, &notes).expect("symlink");

    let apt_out = out.join("apt");
    let r = run(
        &root,
        &[
            "publish",
            "apt",
            "--domain",
            "core",
            "--env",
            "staging",
            "--out",
            apt_out.as_str(),
        ],
    );
    assert_eq!(r.code, 2, "{r:?}");
    assert!(r.stderr.contains("symbolic link"), "{}", r.stderr);
    let gen_out = out.join("generic");
    let r = run(
        &root,
        &[
            "publish",
            "generic",
            "--domain",
            "cloud",
            "--env",
            "staging",
            "--out",
            gen_out.as_str(),
        ],
    );
    assert_ne!(r.code, 0, "{r:?}");
    assert!(r.stderr.contains("symbolic link"), "{}", r.stderr);
    // The secret's bytes are nowhere in the outputs.
    for dir in [&apt_out, &gen_out] {
        if dir.exists() {
            let found = std::process::Command::new("grep")
                .args(["-r", "-l", "top secret", dir.as_str()])
                .output()
                .expect("grep");
            assert!(
                found.stdout.is_empty(),
                "{}",
                String::from_utf8_lossy(&found.stdout)
            );
        }
    }
}

// ---------------------------------------------------------------------------------------
// 2. A component path never lands inside another component or its versions.

#[test]
fn component_paths_cannot_reach_into_other_components() {
    let (_g, root) = example_repo();
    let (_o, out) = outside();
    let src = note(&out);
    let meta = out.join("meta.yaml");
    std::fs::write(
        &meta,
        "architecture: amd64\ndomains: [\"cloud\"]\nenvironments: [\"staging\"]\ngroup: x\nservice_name: y\nteam: ingestion-platform\n",
    )
    .expect("write");
    for (c, words) in [
        (
            "cloud/dmp/ms-ingestion/versions/1.0.3",
            "may not be named `versions`",
        ),
        (
            "cloud/dmp/ms-ingestion/versions/1.0.2/docker",
            "may not be named `versions`",
        ),
        ("components/cloud/x/svc", "starts with `components/`"),
        ("../../etc/svc", "segment `..`"),
    ] {
        refused(
            &root,
            &[
                "add",
                c,
                "1.0.0",
                "--generic",
                src.as_str(),
                "--metadata",
                meta.as_str(),
            ],
            2,
            &[words],
        );
    }
    // Inside an existing component, and where a group of components is.
    refused(
        &root,
        &[
            "add",
            "cloud/dmp/ms-ingestion/extra",
            "1.0.0",
            "--generic",
            src.as_str(),
            "--metadata",
            meta.as_str(),
        ],
        2,
        &["`cloud/dmp/ms-ingestion` is a component"],
    );
    refused(
        &root,
        &[
            "add",
            "cloud/dmp",
            "1.0.0",
            "--generic",
            src.as_str(),
            "--metadata",
            meta.as_str(),
        ],
        2,
        &["is a group of components"],
    );
    // Very long names and unicode confusables are refused with the reason.
    let long = format!("cloud/{}", "a".repeat(300));
    refused(
        &root,
        &[
            "add",
            &long,
            "1.0.0",
            "--generic",
            src.as_str(),
            "--metadata",
            meta.as_str(),
        ],
        2,
        &["at most 100"],
    );
    refused(
        &root,
        &[
            "add",
            "cloud/dmp/ms-ingеstion",
            "1.0.0",
            "--generic",
            src.as_str(),
            "--metadata",
            meta.as_str(),
        ],
        2,
        &["lowercase letter or digit"],
    );
}

// ---------------------------------------------------------------------------------------
// 3. Only regular files are read: FIFOs and devices never hang or stream forever.

#[test]
fn special_files_are_refused_and_never_hang() {
    let (_g, root) = example_repo();
    let (_o, out) = outside();
    let fifo = out.join("fifo");
    rustix_mkfifo(&fifo);
    for src in [fifo.as_str(), "/dev/zero"] {
        let before = tree_digest(&root);
        let r = run_timeout(
            &root,
            &[
                "add",
                "cloud/dmp/ms-export",
                "3.3.0",
                "--generic",
                src,
                "--from-previous",
            ],
            Duration::from_secs(20),
        );
        assert_eq!(r.code, 1, "{src}: {r:?}");
        assert!(r.stderr.contains("not a regular file"), "{}", r.stderr);
        assert!(r.stderr.contains(src), "{}", r.stderr);
        assert_eq!(before, tree_digest(&root));
    }
    // A FIFO inside a format directory: validate --verify-artifacts reports it, no hang.
    let in_tree = root.join("components/cloud/dmp/ms-export/versions/3.2.0/generic/pipe");
    rustix_mkfifo(&in_tree);
    let r = run_timeout(
        &root,
        &["validate", "--verify-artifacts"],
        Duration::from_secs(60),
    );
    assert_eq!(r.code, 0, "an unlisted FIFO is a warning: {r:?}");
    assert!(r.stdout.contains("generic/pipe` is a FIFO"), "{}", r.stdout);
    // A FIFO in place of a published artifact: an error, no hang.
    let notes = root.join("components/cloud/dmp/ms-export/versions/3.2.0/generic/RELEASE-NOTES.md");
    std::fs::remove_file(&notes).expect("rm");
    rustix_mkfifo(&notes);
    let r = run_timeout(
        &root,
        &["validate", "--verify-artifacts"],
        Duration::from_secs(60),
    );
    assert_eq!(r.code, 1, "{r:?}");
    assert!(
        r.stdout.contains("`RELEASE-NOTES.md` cannot be read"),
        "{}",
        r.stdout
    );
    assert!(
        r.stdout.contains("FIFO (named pipe), not a regular file"),
        "{}",
        r.stdout
    );
    // A FIFO where a manifest belongs.
    let m = root.join("components/cloud/dmp/ms-ingestion/versions/1.0.2/docker/manifest.yaml");
    std::fs::remove_file(&m).expect("rm");
    rustix_mkfifo(&m);
    let r = run_timeout(&root, &["validate"], Duration::from_secs(60));
    assert_eq!(r.code, 1, "{r:?}");
    assert!(
        r.stdout.contains("docker/manifest.yaml` is a FIFO"),
        "{}",
        r.stdout
    );
    assert!(
        r.stdout.contains("format directory has no manifest.yaml"),
        "{}",
        r.stdout
    );
}

fn rustix_mkfifo(p: &Utf8Path) {
    let st = std::process::Command::new("mkfifo")
        .arg(p.as_str())
        .status()
        .expect("mkfifo");
    assert!(st.success());
}

fn run_timeout(root: &Utf8Path, args: &[&str], limit: Duration) -> Run {
    let mut child = berth_tests::berth(root)
        .args(args)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn");
    let start = std::time::Instant::now();
    loop {
        if child.try_wait().expect("wait").is_some() {
            break;
        }
        if start.elapsed() > limit {
            let _ = child.kill();
            panic!("berth {args:?} hung for more than {limit:?}");
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    let o = child.wait_with_output().expect("output");
    Run {
        code: o.status.code().unwrap_or(-1),
        stdout: String::from_utf8_lossy(&o.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&o.stderr).into_owned(),
    }
}

// ---------------------------------------------------------------------------------------
// 4. Every YAML file has a size limit, checked before parsing; values are bounded.

#[test]
fn oversized_yaml_is_refused_before_parsing() {
    let (_g, root) = example_repo();
    let (_o, out) = outside();
    let src = note(&out);
    // A 3 MiB single-line metadata file given to add.
    let big = out.join("big.yaml");
    let mut text = String::from("architecture: amd64\nnotes: \"");
    text.push_str(&"x".repeat(3 << 20));
    text.push_str("\"\n");
    std::fs::write(&big, &text).expect("write");
    refused(
        &root,
        &[
            "add",
            "cloud/dmp/ms-export",
            "3.3.0",
            "--generic",
            src.as_str(),
            "--metadata",
            big.as_str(),
        ],
        2,
        &["big.yaml is 3145", "over the limit of 1048576 bytes"],
    );
    // A 200 KiB value in a file under the size limit: the value limit.
    let long = out.join("long.yaml");
    std::fs::write(
        &long,
        format!(
            "architecture: amd64\ndomains: [\"cloud\"]\nenvironments: [\"staging\"]\ngroup: dmp\nservice_name: ms-export\nteam: export-team\nnotes: \"{}\"\n",
            "y".repeat(200 << 10)
        ),
    )
    .expect("write");
    refused(
        &root,
        &[
            "add",
            "cloud/dmp/ms-export",
            "3.3.0",
            "--generic",
            src.as_str(),
            "--metadata",
            long.as_str(),
        ],
        2,
        &["long.yaml:7", "values are limited to 65536 bytes"],
    );
    // The same oversized file inside the tree: a finding naming the file, not a crash.
    std::fs::write(
        root.join("components/cloud/dmp/ms-ingestion/versions/1.0.3/metadata.yaml"),
        &text,
    )
    .expect("write");
    let r = run(&root, &["validate"]);
    assert_eq!(r.code, 1, "{r:?}");
    assert!(r.stdout.contains("schema/parse"), "{}", r.stdout);
    assert!(r.stdout.contains("over the limit"), "{}", r.stdout);
    // The limit is configurable.
    let cfg = std::fs::read_to_string(root.join("berth.toml")).expect("read");
    std::fs::write(
        root.join("berth.toml"),
        format!("{cfg}\n[limits]\nyaml_bytes = 4194304\nstring_bytes = 4194304\n"),
    )
    .expect("write");
    let r = run(&root, &["validate", "components/cloud/dmp/ms-ingestion"]);
    assert!(!r.stdout.contains("over the limit"), "{}", r.stdout);
}

#[test]
fn hostile_yaml_shapes_are_clear_errors() {
    let (_g, root) = example_repo();
    let m = root.join("components/cloud/dmp/ms-ingestion/versions/1.0.3/metadata.yaml");
    let orig = std::fs::read_to_string(&m).expect("read");
    let cases: Vec<(String, &str)> = vec![
        (format!("{}x: {}\n", "a: [".repeat(300), "]".repeat(300)), "nesting deeper"),
        (format!("{orig}team: again\n"), "duplicate key `team`"),
        (
            "a: &a [1,1,1,1,1,1,1,1,1,1]\nb: &b [*a,*a,*a,*a,*a,*a,*a,*a,*a,*a]\nc: &c [*b,*b,*b,*b,*b,*b,*b,*b,*b,*b]\nd: [*c,*c,*c,*c,*c,*c,*c,*c,*c,*c,*c]\n".to_owned(),
            "alias bomb",
        ),
        ("architecture: amd64\n\u{0}\n".to_owned(), "metadata.yaml"),
    ];
    for (text, words) in cases {
        std::fs::write(&m, &text).expect("write");
        let r = run(
            &root,
            &[
                "validate",
                "components/cloud/dmp/ms-ingestion/versions/1.0.3",
            ],
        );
        assert_eq!(r.code, 1, "{words}: {r:?}");
        assert!(r.stdout.contains(words), "{words}: {}", r.stdout);
        assert!(
            r.stdout
                .contains("ms-ingestion/versions/1.0.3/metadata.yaml"),
            "{}",
            r.stdout
        );
    }
    // Invalid UTF-8: the position of the bad byte.
    let mut bytes = orig.clone().into_bytes();
    bytes.extend_from_slice(b"notes: \xff\xfe\n");
    std::fs::write(&m, &bytes).expect("write");
    let r = run(
        &root,
        &[
            "validate",
            "components/cloud/dmp/ms-ingestion/versions/1.0.3",
        ],
    );
    assert_eq!(r.code, 1, "{r:?}");
    assert!(r.stdout.contains("not UTF-8"), "{}", r.stdout);
    // A byte-order mark is fine.
    std::fs::write(&m, format!("\u{feff}{orig}")).expect("write");
    let r = run(
        &root,
        &[
            "validate",
            "components/cloud/dmp/ms-ingestion/versions/1.0.3",
        ],
    );
    assert!(
        !r.stdout.contains("metadata.yaml"),
        "a BOM is accepted: {}",
        r.stdout
    );
}

// ---------------------------------------------------------------------------------------
// 6. Files berth writes follow the umask.

#[test]
fn written_files_follow_the_umask() {
    for (umask, file_mode, dir_mode) in [("022", 0o644, 0o755), ("002", 0o664, 0o775)] {
        let (_g, root) = example_repo();
        let (_o, out) = outside();
        let src = note(&out);
        let sh = |args: &str| {
            let st = std::process::Command::new("sh")
                .args([
                    "-c",
                    &format!("umask {umask} && {} {args}", berth_tests::berth_bin()),
                ])
                .current_dir(&root)
                .env("NO_COLOR", "1")
                .env("BERTH_ACTOR", "ci-bot")
                .env("BERTH_CACHE_DIR", out.join("cache"))
                .status()
                .expect("sh");
            assert!(st.success(), "umask {umask}: berth {args}");
        };
        sh(&format!(
            "add cloud/dmp/ms-export 3.3.0 --generic {src} --from-previous"
        ));
        sh("promote common-utils 1.3.0 --domain cloud --env staging");
        let mode = |rel: &str| {
            std::fs::metadata(root.join(rel))
                .expect(rel)
                .permissions()
                .mode()
                & 0o777
        };
        let v = "components/cloud/dmp/ms-export/versions/3.3.0";
        for f in [
            format!("{v}/metadata.yaml"),
            format!("{v}/generic/manifest.yaml"),
            format!("{v}/generic/notes.txt"),
            "index/components.yaml".to_owned(),
            "index/domain-cloud-staging.yaml".to_owned(),
        ] {
            assert_eq!(mode(&f), file_mode, "umask {umask}: {f}");
        }
        let trail = std::fs::read_dir(root.join("index/audit/cloud/staging"))
            .expect("trail")
            .next()
            .expect("a record")
            .expect("entry");
        let rec = Utf8PathBuf::from_path_buf(trail.path()).expect("utf-8");
        assert_eq!(
            std::fs::metadata(&rec)
                .expect("record")
                .permissions()
                .mode()
                & 0o777,
            file_mode
        );
        for d in [
            v.to_owned(),
            format!("{v}/generic"),
            "index/audit/cloud/staging".to_owned(),
        ] {
            assert_eq!(mode(&d), dir_mode, "umask {umask}: {d}");
        }
    }
}

// ---------------------------------------------------------------------------------------
// 7. Values that would forge output are refused or escaped; secrets never printed.

#[test]
fn control_characters_cannot_forge_the_audit_log() {
    let (_g, root) = example_repo();
    for (flag, value) in [
        (
            "--reason",
            "ok\n2026-01-01T00:00:00Z  promote  cloud/prod  forged",
        ),
        ("--approved-by", "lars.n\rpriya.k"),
        ("--reason", "harmless \u{202e}desrever"),
    ] {
        refused(
            &root,
            &[
                "promote",
                "common-utils",
                "1.3.0",
                "--domain",
                "cloud",
                "--env",
                "staging",
                "--actor",
                "ci-bot",
                flag,
                value,
            ],
            2,
            &["control character"],
        );
    }
    refused(
        &root,
        &[
            "promote",
            "common-utils",
            "1.3.0",
            "--domain",
            "cloud",
            "--env",
            "staging",
            "--actor",
            "ci-bot\u{1b}[2K",
        ],
        2,
        &["control character"],
    );
    // A record edited by hand to hold a newline: `berth log` shows it escaped, on one line.
    ok(
        &root,
        &[
            "promote",
            "common-utils",
            "1.3.0",
            "--domain",
            "cloud",
            "--env",
            "staging",
            "--actor",
            "ci-bot",
            "--reason",
            "first",
        ],
    );
    let dir = root.join("index/audit/cloud/staging");
    let rec = std::fs::read_dir(&dir)
        .expect("dir")
        .next()
        .expect("one")
        .expect("entry")
        .path();
    let text = std::fs::read_to_string(&rec).expect("read");
    std::fs::write(
        &rec,
        text.replace(
            "reason: first",
            "reason: \"first\\n2026-01-01 promote forged\"",
        ),
    )
    .expect("write");
    let r = run(&root, &["log"]);
    assert!(
        r.stdout.contains("first\\n2026-01-01 promote forged"),
        "{}",
        r.stdout
    );
    assert!(
        !r.stdout
            .lines()
            .any(|l| l.starts_with("2026-01-01 promote forged")),
        "{}",
        r.stdout
    );
}

#[test]
fn a_webhook_that_echoes_its_token_never_gets_it_printed() {
    use std::io::{Read as _, Write as _};
    let (_g, root) = example_repo();
    let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
    let port = listener.local_addr().expect("addr").port();
    let token = "T0HOSTILE/B0ECHO/s3cr3tTokenValue42";
    let server = std::thread::spawn(move || {
        for _ in 0..3 {
            let Ok((mut s, _)) = listener.accept() else {
                return;
            };
            let mut buf = [0u8; 8192];
            let _ = s.read(&mut buf);
            let body = "invalid_token s3cr3tTokenValue42 for /services/T0HOSTILE/B0ECHO/s3cr3tTokenValue42";
            let _ = write!(
                s,
                "HTTP/1.1 403 Forbidden\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
                body.len()
            );
        }
    });
    let url = format!("http://127.0.0.1:{port}/services/{token}");
    let out = berth_tests::berth(&root)
        .env("BERTH_SLACK_WEBHOOK", &url)
        .args([
            "notify",
            "promoted",
            "cloud/dmp/ms-ingestion",
            "1.0.3",
            "--domain",
            "cloud",
            "--env",
            "prod",
        ])
        .output()
        .expect("run");
    let stderr = String::from_utf8_lossy(&out.stderr);
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert_ne!(out.status.code(), Some(0), "{stderr}");
    assert!(stderr.contains("403"), "the refusal is reported: {stderr}");
    for piece in ["s3cr3tTokenValue42", "T0HOSTILE", "B0ECHO"] {
        assert!(
            !stderr.contains(piece) && !stdout.contains(piece),
            "{piece} leaked: {stderr}{stdout}"
        );
    }
    drop(server);
}

// ---------------------------------------------------------------------------------------
// 8. A bad berth.toml is exit 2 with the key and line.

#[test]
fn bad_config_is_a_usage_error_with_key_and_line() {
    let (_g, root) = example_repo();
    let cfg = std::fs::read_to_string(root.join("berth.toml")).expect("read");
    for (from, to, words) in [
        (
            "ladder = [\"staging\", \"prod\"]",
            "ladder = [\"staging\", \"prod\", \"staging\"]",
            "lists `staging` twice",
        ),
        (
            "latest_includes_prereleases = false",
            "latest_includes_prereleases = false\nextra_formats = [\"../../evil\"]",
            "not a format directory name",
        ),
        (
            "latest_includes_prereleases = false",
            "latest_includes_prereleases = false\nextra_formats = [\"docker\", \"DEB\"]",
            "is built in",
        ),
    ] {
        std::fs::write(root.join("berth.toml"), cfg.replacen(from, to, 1)).expect("write");
        let r = run(&root, &["validate"]);
        assert_eq!(r.code, 2, "{to}: {r:?}");
        assert!(r.stderr.contains("berth.toml:"), "{}", r.stderr);
        assert!(r.stderr.contains(words), "{}", r.stderr);
    }
}

// ---------------------------------------------------------------------------------------
// 9. Messages say what is wrong in a user's words.

#[test]
fn messages_name_the_file_and_field_in_plain_words() {
    let (_g, root) = example_repo();
    let (_o, out) = outside();
    // A wrong-type architecture.
    let meta = out.join("m.yaml");
    std::fs::write(
        &meta,
        "architecture: {cpu: amd64}\ndomains: [\"cloud\"]\nenvironments: [\"staging\"]\ngroup: dmp\nservice_name: ms-export\nteam: export-team\n",
    )
    .expect("write");
    let src = note(&out);
    let r = refused(
        &root,
        &[
            "add",
            "cloud/dmp/ms-export",
            "3.3.0",
            "--generic",
            src.as_str(),
            "--metadata",
            meta.as_str(),
        ],
        2,
        &[
            "m.yaml:1",
            "architecture",
            "an architecture name such as `amd64`",
        ],
    );
    assert!(!r.stderr.contains("untagged"), "{}", r.stderr);
    // A Debian package given as an image: words, not binary bytes.
    let deb = root.join(
        "components/core/platform/common-utils/versions/1.3.0/deb/common-utils_1.3.0-1_all.deb",
    );
    let r = refused(
        &root,
        &[
            "add",
            "cloud/dmp/ms-export",
            "3.3.0",
            "--docker",
            deb.as_str(),
            "--from-previous",
        ],
        1,
        &["is not an image archive", "--deb"],
    );
    assert!(
        r.stderr.chars().all(|c| !c.is_control() || c == '\n'),
        "{:?}",
        r.stderr
    );
    // log with a path that is no component name, and with a typo.
    refused(&root, &["log", "../../x"], 2, &["is not a component name"]);
    refused(&root, &["log", "ms-ingestoin"], 1, &["did you mean"]);
}

#[test]
fn different_archive_bytes_with_the_same_image_id_show_what_differs() {
    let (_g, root) = example_repo();
    let (_o, out) = outside();
    let stored = root.join("components/cloud/dmp/ms-ingestion/versions/1.0.3/docker/image.tar");
    // The same members in another order: another file, the same image.
    let unpacked = out.join("unpacked");
    std::fs::create_dir_all(&unpacked).expect("mkdir");
    let st = std::process::Command::new("tar")
        .args(["-xf", stored.as_str(), "-C", unpacked.as_str()])
        .status()
        .expect("tar");
    assert!(st.success());
    let repacked = out.join("image.tar");
    let st = std::process::Command::new("sh")
        .args([
            "-c",
            &format!(
                "cd {unpacked} && find . -type f | sort -r | tar -cf {repacked} --no-recursion -T -"
            ),
        ])
        .status()
        .expect("tar");
    assert!(st.success());
    let r = refused(
        &root,
        &[
            "add",
            "cloud/dmp/ms-ingestion",
            "1.0.3",
            "--docker",
            repacked.as_str(),
        ],
        1,
        &["published versions are immutable", "image.tar: sha256"],
    );
    // The two digests shown differ.
    let line = r
        .stderr
        .lines()
        .find(|l| l.contains("image.tar: sha256"))
        .expect("line");
    let hexes: Vec<&str> = line
        .split_whitespace()
        .filter(|w| w.len() == 64 && w.bytes().all(|b| b.is_ascii_hexdigit()))
        .collect();
    assert_eq!(hexes.len(), 2, "{line}");
    assert_ne!(hexes[0], hexes[1], "{line}");
}

// ---------------------------------------------------------------------------------------
// 10. Deploy-facing answers never name a version without a directory.

#[test]
fn latest_and_deployed_never_hand_out_a_missing_version() {
    let (_g, root) = example_repo();
    let idx = root.join("index/components.yaml");
    let text = std::fs::read_to_string(&idx).expect("read");
    std::fs::write(
        &idx,
        text.replace("latest_version: 1.0.3", "latest_version: 1.0.9"),
    )
    .expect("write");
    let r = refused(
        &root,
        &["latest", "cloud/dmp/ms-ingestion"],
        1,
        &["1.0.9", "does not exist", "berth index"],
    );
    assert!(r.stdout.is_empty(), "{}", r.stdout);
    std::fs::write(
        root.join("index/domain-cloud.yaml"),
        "components:\n  - name: cloud/dmp/ms-ingestion\n    version: 7.7.7\n",
    )
    .expect("write");
    let r = refused(
        &root,
        &["deployed", "--domain", "cloud"],
        1,
        &["cloud/dmp/ms-ingestion 7.7.7", "do not exist"],
    );
    assert!(r.stdout.is_empty(), "{}", r.stdout);
}

// ---------------------------------------------------------------------------------------
// 11. A package's architecture must be allowed and fit the metadata.

#[test]
fn a_package_for_a_foreign_architecture_is_refused() {
    support::require_tool("dpkg-deb");
    let (_g, root) = example_repo();
    let (_o, out) = outside();
    let deb = support::build_deb(
        &out,
        &support::DebSpec {
            package: "common-utils",
            version: "1.4.0-1",
            arch: "s390x",
            depends: None,
            compression: "gzip",
        },
    );
    refused(
        &root,
        &[
            "add",
            "core/platform/common-utils",
            "1.4.0",
            "--deb",
            deb.as_str(),
            "--from-previous",
        ],
        1,
        &[
            "built for s390x, which berth.toml does not allow",
            "metadata.yaml says all",
        ],
    );
}
