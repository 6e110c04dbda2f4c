//! End to end: `berth publish apt|oci|generic` read back by the stock clients: apt-get
//! (isolated configuration, over file: and http:), gpgv, skopeo, a local docker-registry
//! and sha256sum. Artifacts are built by the real tools (dpkg-deb, umoci, skopeo) and
//! added with `berth add`; stages are set by writing the domain file directly.

#[path = "../../crates/formats/tests/support/mod.rs"]
mod support;

use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use berth_model::{ComponentPath, DomainEntry, DomainIndex, DomainName, EnvName, Layout, Version};
use berth_tests::{example_repo, require_tool, run, tempdir};
use camino::{Utf8Path, Utf8PathBuf};
use support::DebSpec;

// ---------------------------------------------------------------- helpers

/// Sets what stage `domain`/`env` runs, as `berth promote` would.
fn set_stage(root: &Utf8Path, domain: &str, env: &str, rows: &[(&str, &str)]) {
    let repo = berth_model::Repository::open(root).expect("open repo");
    let d = DomainName::parse(domain).expect("domain");
    let e = EnvName::parse(env).expect("env");
    let mut index = DomainIndex {
        components: rows
            .iter()
            .map(|(c, v)| DomainEntry {
                name: ComponentPath::parse(c).expect("component"),
                version: Version::parse(v).expect("version"),
            })
            .collect(),
        audit_head: None,
    };
    index.components.sort();
    let lock = repo.lock().expect("lock");
    repo.write_yaml(
        &lock,
        &Layout::domain_file(repo.config(), &d, Some(&e)),
        &index,
    )
    .expect("write domain file");
}

fn add(root: &Utf8Path, args: &[&str]) {
    let mut all = vec!["add"];
    all.extend_from_slice(args);
    all.push("--from-previous");
    let r = run(root, &all);
    assert_eq!(r.code, 0, "berth {all:?}: {r:?}");
}

fn json(r: &berth_tests::Run) -> serde_json::Value {
    assert_eq!(r.code, 0, "{r:?}");
    serde_json::from_str(&r.stdout).unwrap_or_else(|e| panic!("not JSON ({e}): {}", r.stdout))
}

fn sh(cmd: &mut Command) -> std::process::Output {
    cmd.output()
        .unwrap_or_else(|e| panic!("cannot run {cmd:?}: {e}"))
}

fn ok(cmd: &mut Command) -> String {
    let out = sh(cmd);
    assert!(
        out.status.success(),
        "{cmd:?} failed:\n{}\n{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .expect("bind")
        .local_addr()
        .expect("addr")
        .port()
}

/// A child process killed (by its own id) when the test ends.
struct Server(Child);

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// The status code of `GET path` on 127.0.0.1:port, if the server answers.
fn http_status(port: u16, path: &str) -> Option<u16> {
    let mut s = TcpStream::connect(("127.0.0.1", port)).ok()?;
    s.set_read_timeout(Some(Duration::from_secs(5))).ok()?;
    write!(
        s,
        "GET {path} HTTP/1.0\r\nHost: 127.0.0.1:{port}\r\nConnection: close\r\n\r\n"
    )
    .ok()?;
    let mut head = [0u8; 12];
    s.read_exact(&mut head).ok()?;
    std::str::from_utf8(&head[9..12]).ok()?.parse().ok()
}

fn wait_for(port: u16, path: &str, what: &str) {
    let start = Instant::now();
    while start.elapsed() < Duration::from_secs(20) {
        if http_status(port, path).is_some_and(|s| s < 500) {
            return;
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    panic!("{what} did not answer on 127.0.0.1:{port}{path}");
}

/// A signing key made by gpg: (armored secret key, armored public key, binary keyring).
struct TestKey {
    secret: Utf8PathBuf,
    public: Utf8PathBuf,
    keyring: Utf8PathBuf,
}

fn make_key(dir: &Utf8Path, name: &str) -> TestKey {
    require_tool("gpg", "gnupg");
    let home = dir.join(format!("gnupg-{name}"));
    std::fs::create_dir_all(&home).expect("gnupg home");
    let gpg = || {
        let mut c = Command::new("gpg");
        c.args(["--batch", "--homedir", home.as_str()]);
        c
    };
    ok(gpg()
        .args(["--passphrase", "", "--quick-gen-key"])
        .arg(format!("berth {name} <{name}@example.com>"))
        .args(["ed25519", "sign", "never"]));
    let secret = dir.join(format!("{name}.secret.asc"));
    let public = dir.join(format!("{name}.asc"));
    let keyring = dir.join(format!("{name}.gpg"));
    std::fs::write(&secret, ok(gpg().args(["--armor", "--export-secret-keys"]))).expect("secret");
    std::fs::write(&public, ok(gpg().args(["--armor", "--export"]))).expect("public");
    let bin = sh(gpg().arg("--export")).stdout;
    std::fs::write(&keyring, bin).expect("keyring");
    TestKey {
        secret,
        public,
        keyring,
    }
}

/// apt-get with a configuration of its own below `dir`: the system's apt state is not
/// touched. `source` is the sources.list line.
struct Apt {
    dir: Utf8PathBuf,
}

impl Apt {
    fn new(dir: &Utf8Path, source: &str) -> Apt {
        require_tool("apt-get", "apt");
        for d in [
            "state/lists/partial",
            "cache/archives/partial",
            "etc/trusted.d",
            "etc/prefs.d",
            "etc/parts",
            "dl",
        ] {
            std::fs::create_dir_all(dir.join(d)).expect("apt dirs");
        }
        std::fs::write(dir.join("state/status"), "").expect("status");
        std::fs::write(dir.join("etc/sources.list"), format!("{source}\n")).expect("sources");
        Apt {
            dir: dir.to_owned(),
        }
    }

    fn cmd(&self, args: &[&str]) -> std::process::Output {
        let d = &self.dir;
        let opts = [
            format!("Dir::State={d}/state"),
            format!("Dir::State::status={d}/state/status"),
            format!("Dir::Cache={d}/cache"),
            format!("Dir::Etc::SourceList={d}/etc/sources.list"),
            format!("Dir::Etc::SourceParts={d}/etc/parts"),
            format!("Dir::Etc::Trusted={d}/etc/trusted.gpg"),
            format!("Dir::Etc::TrustedParts={d}/etc/trusted.d"),
            format!("Dir::Etc::Preferences={d}/etc/prefs"),
            format!("Dir::Etc::PreferencesParts={d}/etc/prefs.d"),
            "APT::Architecture=amd64".to_owned(),
            "APT::Architectures=amd64".to_owned(),
            "Debug::NoLocking=1".to_owned(),
            "APT::Sandbox::User=root".to_owned(),
        ];
        let mut c = Command::new("apt-get");
        for o in &opts {
            c.arg("-o").arg(o);
        }
        c.args(args).current_dir(d.join("dl"));
        sh(&mut c)
    }

    fn ok(&self, args: &[&str]) -> String {
        let out = self.cmd(args);
        let text = format!(
            "{}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
        assert!(out.status.success(), "apt-get {args:?} failed:\n{text}");
        text
    }
}

/// Replaces 64-hex runs, sizes and the date: what changes with every build of the debs.
fn redact_index(text: &str) -> String {
    text.lines()
        .map(|l| {
            if l.starts_with("Date: ") {
                return "Date: [DATE]".to_owned();
            }
            if l.starts_with("Size: ") {
                return "Size: [SIZE]".to_owned();
            }
            let words: Vec<&str> = l.split_whitespace().collect();
            let mut out = l.to_owned();
            for w in &words {
                if w.len() == 64 && w.bytes().all(|b| b.is_ascii_hexdigit()) {
                    out = out.replace(w, "[HEX]");
                }
            }
            // Release lines: ` [HEX] <size> path`
            if l.starts_with(' ')
                && words.len() == 3
                && words[1].bytes().all(|b| b.is_ascii_digit())
            {
                out = format!(" [HEX] [SIZE] {}", words[2]);
            }
            out
        })
        .collect::<Vec<_>>()
        .join("\n")
        + "\n"
}

fn build_deb(dir: &Utf8Path, package: &str, version: &str, arch: &str) -> Utf8PathBuf {
    let sub = dir.join(format!("{package}-{version}"));
    std::fs::create_dir_all(&sub).expect("deb dir");
    support::build_deb(
        &sub,
        &DebSpec {
            package,
            version,
            arch,
            compression: "xz",
            depends: None,
        },
    )
}

// ---------------------------------------------------------------- apt

/// A repository whose `core` staging runs common-utils 1.4.0 while 1.5.0 exists too.
fn apt_repo(work: &Utf8Path) -> (tempfile::TempDir, Utf8PathBuf, Utf8PathBuf, Utf8PathBuf) {
    let (g, root) = example_repo();
    let d14 = build_deb(work, "common-utils", "1.4.0-1", "all");
    let d15 = build_deb(work, "common-utils", "1.5.0-1", "all");
    add(
        &root,
        &["core/platform/common-utils", "1.4.0", "--deb", d14.as_str()],
    );
    add(
        &root,
        &["core/platform/common-utils", "1.5.0", "--deb", d15.as_str()],
    );
    set_stage(
        &root,
        "core",
        "staging",
        &[
            ("core/platform/common-utils", "1.4.0"),
            ("ran/oam/ms-cell-config", "2.1.0"),
        ],
    );
    (g, root, d14, d15)
}

#[test]
fn apt_get_verifies_and_downloads_exactly_the_promoted_version_over_file_and_http() {
    require_tool("dpkg-deb", "dpkg");
    require_tool("gpgv", "gpgv");
    let (_t, work) = tempdir();
    let (_g, root, d14, _d15) = apt_repo(&work);
    let key = make_key(&work, "signer");
    let out = work.join("apt");
    let r = run(
        &root,
        &[
            "--format",
            "json",
            "publish",
            "apt",
            "--domain",
            "core",
            "--env",
            "staging",
            "--out",
            out.as_str(),
            "--suite",
            "stable",
            "--sign-key",
            key.secret.as_str(),
        ],
    );
    let report = json(&r);
    assert_eq!(report["packages"], 2, "{report}");
    assert_eq!(report["debs_read"], 2, "{report}");
    assert_eq!(report["signed"], true, "{report}");

    // gpgv, the reference verifier, accepts InRelease.
    let v = sh(Command::new("gpgv")
        .arg("--keyring")
        .arg(&key.keyring)
        .arg(out.join("dists/stable/InRelease")));
    assert!(v.status.success(), "{}", String::from_utf8_lossy(&v.stderr));

    // The pool holds exactly the stage's debs, hard-linked to the repository's.
    let pooled = out.join("pool/main/c/common-utils/common-utils_1.4.0-1_all.deb");
    assert_eq!(
        std::fs::read(&pooled).expect("pooled"),
        std::fs::read(&d14).expect("source")
    );
    let mut pool: Vec<String> = walk(&out.join("pool"));
    pool.sort();
    assert_eq!(
        pool,
        [
            "main/c/common-utils/common-utils_1.4.0-1_all.deb",
            "main/m/ms-cell-config/ms-cell-config_2.1.0-1_arm64.deb"
        ]
    );

    let packages =
        std::fs::read_to_string(out.join("dists/stable/main/binary-arm64/Packages")).expect("read");
    insta::assert_snapshot!("packages_arm64", redact_index(&packages));
    let release = std::fs::read_to_string(out.join("dists/stable/Release")).expect("read");
    insta::assert_snapshot!("release", redact_index(&release));

    // file:
    let signed_by = format!("[signed-by={}]", key.public);
    let apt = Apt::new(
        &work.join("apt-file"),
        &format!("deb {signed_by} file:{out} stable main"),
    );
    let upd = apt.ok(&["update"]);
    assert!(!upd.contains("W:") && !upd.contains("E:"), "{upd}");
    let sim = apt.ok(&["install", "--simulate", "common-utils"]);
    assert!(sim.contains("Inst common-utils (1.4.0-1 "), "{sim}");
    apt.ok(&["download", "common-utils"]);
    let got = apt.dir.join("dl/common-utils_1.4.0-1_all.deb");
    assert_eq!(
        std::fs::read(&got).expect("downloaded"),
        std::fs::read(&d14).expect("source")
    );

    // http:// from a local server.
    require_tool("python3", "python3");
    let port = free_port();
    let _server = Server(
        Command::new("python3")
            .args(["-m", "http.server", "--bind", "127.0.0.1", "--directory"])
            .arg(&out)
            .arg(port.to_string())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("start http.server"),
    );
    wait_for(port, "/dists/stable/Release", "python3 -m http.server");
    let apt = Apt::new(
        &work.join("apt-http"),
        &format!("deb {signed_by} http://127.0.0.1:{port} stable main"),
    );
    let upd = apt.ok(&["update"]);
    assert!(!upd.contains("W:") && !upd.contains("E:"), "{upd}");
    apt.ok(&["download", "common-utils"]);
    assert_eq!(
        std::fs::read(apt.dir.join("dl/common-utils_1.4.0-1_all.deb")).expect("downloaded"),
        std::fs::read(&d14).expect("source")
    );
}

#[test]
fn apt_get_refuses_a_tampered_index_and_a_wrong_key() {
    let (_t, work) = tempdir();
    let (_g, root, _d14, _d15) = apt_repo(&work);
    let key = make_key(&work, "signer");
    let other = make_key(&work, "other");
    let out = work.join("apt");
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
            out.as_str(),
            "--suite",
            "stable",
            "--sign-key",
            key.secret.as_str(),
        ],
    );
    assert_eq!(r.code, 0, "{r:?}");

    // A wrong key: apt refuses the repository.
    let apt = Apt::new(
        &work.join("apt-wrong-key"),
        &format!("deb [signed-by={}] file:{out} stable main", other.public),
    );
    let o = apt.cmd(&["update"]);
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    );
    assert!(
        !o.status.success(),
        "apt-get update accepted a wrong key: {text}"
    );
    assert!(
        text.contains("NO_PUBKEY") || text.contains("not signed"),
        "{text}"
    );

    // A tampered Packages (every variant): the hashes in InRelease no longer match.
    let dir = out.join("dists/stable/main/binary-amd64");
    let p = dir.join("Packages");
    let text = std::fs::read_to_string(&p).expect("Packages");
    std::fs::write(&p, text.replace("1.4.0-1", "1.5.0-1")).expect("tamper");
    for f in ["Packages.gz", "Packages.xz"] {
        let mut bytes = std::fs::read(dir.join(f)).expect("read");
        bytes.push(b'\n');
        std::fs::write(dir.join(f), bytes).expect("tamper");
    }
    let apt = Apt::new(
        &work.join("apt-tampered"),
        &format!("deb [signed-by={}] file:{out} stable main", key.public),
    );
    let o = apt.cmd(&["update"]);
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    );
    assert!(
        !o.status.success(),
        "apt-get update accepted a tampered index: {text}"
    );
    assert!(
        text.contains("Hash Sum mismatch") || text.contains("mismatch"),
        "{text}"
    );
}

/// Relative paths of every file below `dir`.
fn walk(dir: &Utf8Path) -> Vec<String> {
    let mut out = Vec::new();
    let mut todo = vec![dir.to_owned()];
    while let Some(d) = todo.pop() {
        for e in std::fs::read_dir(&d).expect("read dir") {
            let e = e.expect("entry");
            let p = Utf8PathBuf::from_path_buf(e.path()).expect("utf-8");
            if e.file_type().expect("type").is_dir() {
                todo.push(p);
            } else {
                out.push(p.strip_prefix(dir).expect("below").to_string());
            }
        }
    }
    out.sort();
    out
}

/// `berth publish apt` of stage core/staging into `out`, its JSON report.
fn publish_core_staging(root: &Utf8Path, out: &Utf8Path) -> serde_json::Value {
    json(&run(
        root,
        &[
            "--format",
            "json",
            "publish",
            "apt",
            "--domain",
            "core",
            "--env",
            "staging",
            "--out",
            out.as_str(),
        ],
    ))
}

#[test]
fn apt_publish_is_incremental_and_the_pool_follows_the_stage() {
    let (_t, work) = tempdir();
    let (_g, root, _d14, d15) = apt_repo(&work);
    let out = work.join("apt");
    let publish = || publish_core_staging(&root, &out);
    let first = publish();
    assert_eq!(first["debs_read"], 2);
    assert_eq!(first["linked"], 2);
    let release1 = std::fs::read_to_string(out.join("dists/core-staging/Release")).expect("r");
    assert!(!out.join("dists/core-staging/InRelease").exists());

    // Nothing changed: no deb is opened, the pool is kept.
    let again = publish();
    assert_eq!(again["debs_read"], 0, "{again}");
    assert_eq!(again["kept"], 2, "{again}");
    let release2 = std::fs::read_to_string(out.join("dists/core-staging/Release")).expect("r");
    let body = |r: &str| {
        r.lines()
            .filter(|l| !l.starts_with("Date:"))
            .collect::<Vec<_>>()
            .join("\n")
    };
    assert_eq!(body(&release1), body(&release2));

    // A promotion: only the new deb is read; the old one leaves the pool.
    set_stage(
        &root,
        "core",
        "staging",
        &[
            ("core/platform/common-utils", "1.5.0"),
            ("ran/oam/ms-cell-config", "2.1.0"),
        ],
    );
    let promoted = publish();
    assert_eq!(promoted["debs_read"], 1, "{promoted}");
    assert_eq!(promoted["removed"], 1, "{promoted}");
    assert_eq!(
        walk(&out.join("pool")),
        [
            "main/c/common-utils/common-utils_1.5.0-1_all.deb",
            "main/m/ms-cell-config/ms-cell-config_2.1.0-1_arm64.deb"
        ]
    );
    let pkgs = std::fs::read_to_string(out.join("dists/core-staging/main/binary-amd64/Packages"))
        .expect("Packages");
    assert!(
        pkgs.contains("Version: 1.5.0-1") && !pkgs.contains("1.4.0"),
        "{pkgs}"
    );
    assert!(pkgs.contains(&support::sha256_hex(&std::fs::read(&d15).expect("deb"))));
    // No temporary directory is left behind.
    let leftovers: Vec<_> = std::fs::read_dir(&out)
        .expect("out")
        .filter_map(|e| e.ok())
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .filter(|n| n.starts_with(".berth-") && n.contains("dists"))
        .collect();
    assert!(leftovers.is_empty(), "{leftovers:?}");

    // Another stage into the same directory is refused.
    set_stage(
        &root,
        "core",
        "prod",
        &[("core/platform/common-utils", "1.4.0")],
    );
    let other = run(
        &root,
        &[
            "publish",
            "apt",
            "--domain",
            "core",
            "--env",
            "prod",
            "--out",
            out.as_str(),
        ],
    );
    assert_eq!(other.code, 2, "{other:?}");
    assert!(other.stderr.contains("own directory"), "{}", other.stderr);
}

/// Decompresses `file` with the stock tool (`xz -dc`, `gzip -dc`).
fn decompress(tool: &str, file: &Utf8Path) -> String {
    ok(Command::new(tool).arg("-dc").arg(file))
}

/// Many debs: Packages is cut into several chunks, so Packages.gz has several gzip
/// members and Packages.xz several blocks in one stream. xz, gzip and apt-get (made to
/// fetch only .xz, then only .gz) read them whole, before and after a change that
/// reuses most chunks.
#[test]
fn multi_chunk_indexes_are_read_whole_by_xz_gzip_and_apt_get() {
    require_tool("dpkg-deb", "dpkg");
    require_tool("xz", "xz-utils");
    let (_t, work) = tempdir();
    let (_g, root) = example_repo();
    let names: Vec<String> = (0..64).map(|i| format!("chunky-pkg{i:02}")).collect();
    let debs: Vec<Utf8PathBuf> = names
        .iter()
        .map(|n| build_deb(&work, n, "1.0-1", "all"))
        .collect();
    let mut args = vec!["core/platform/common-utils", "1.4.0"];
    for d in &debs[..63] {
        args.extend(["--deb", d.as_str()]);
    }
    add(&root, &args);
    let mut args = vec!["core/platform/common-utils", "1.5.0"];
    for d in &debs {
        args.extend(["--deb", d.as_str()]);
    }
    add(&root, &args);
    let out = work.join("apt");
    let publish = || publish_core_staging(&root, &out);
    let dir = out.join("dists/core-staging/main/binary-amd64");
    let check = |last: &str| {
        let plain = std::fs::read_to_string(dir.join("Packages")).expect("Packages");
        assert!(plain.contains(&format!("Package: {last}\n")), "{plain}");
        assert_eq!(decompress("xz", &dir.join("Packages.xz")), plain);
        assert_eq!(decompress("gzip", &dir.join("Packages.gz")), plain);
        // Several blocks in exactly one stream (apt reads one stream only).
        let list = ok(Command::new("xz")
            .args(["--list", "--robot"])
            .arg(dir.join("Packages.xz")));
        let totals: Vec<&str> = list
            .lines()
            .find(|l| l.starts_with("totals"))
            .expect("totals")
            .split('\t')
            .collect();
        assert_eq!(totals[1], "1", "streams: {list}");
        assert!(
            totals[2].parse::<u32>().expect("blocks") >= 2,
            "blocks: {list}"
        );
        for order in ["xz", "gz"] {
            let apt = Apt::new(
                &work.join(format!("apt-{order}-{last}")),
                &format!("deb [trusted=yes] file:{out} core-staging main"),
            );
            let mut update = vec![
                "-o".to_owned(),
                format!("Acquire::CompressionTypes::Order::={order}"),
            ];
            for t in ["xz", "gz", "bz2", "lzma", "lz4", "zst"]
                .iter()
                .filter(|t| **t != order)
            {
                update.extend([
                    "-o".to_owned(),
                    format!("Acquire::CompressionTypes::{t}=false"),
                ]);
            }
            update.push("update".to_owned());
            let args: Vec<&str> = update.iter().map(String::as_str).collect();
            let upd = apt.ok(&args);
            assert!(!upd.contains("W:") && !upd.contains("E:"), "{upd}");
            let sim = apt.ok(&["install", "--simulate", last]);
            assert!(sim.contains(&format!("Inst {last} (1.0-1 ")), "{sim}");
        }
    };

    set_stage(
        &root,
        "core",
        "staging",
        &[("core/platform/common-utils", "1.4.0")],
    );
    let first = publish();
    assert_eq!(first["debs_read"], 63, "{first}");
    check("chunky-pkg62");
    let chunks1 = std::fs::read(out.join(".berth-publish-chunks.bin")).expect("chunk pack");

    // One more deb: only it is read; the indexes are assembled from kept chunks plus
    // the one that changed, and read whole again.
    set_stage(
        &root,
        "core",
        "staging",
        &[("core/platform/common-utils", "1.5.0")],
    );
    let second = publish();
    assert_eq!(second["debs_read"], 1, "{second}");
    assert_eq!(second["kept"], 63, "{second}");
    check("chunky-pkg63");
    let chunks2 = std::fs::read(out.join(".berth-publish-chunks.bin")).expect("chunk pack");
    assert_ne!(chunks1, chunks2);

    // A pool file deleted by hand is put back once a publication is marked interrupted.
    let gone = out.join("pool/main/c/chunky-pkg05/chunky-pkg05_1.0-1_all.deb");
    std::fs::remove_file(&gone).expect("rm");
    std::fs::write(out.join(".berth-publish-dirty"), "").expect("marker");
    let repaired = publish();
    assert_eq!(repaired["linked"], 1, "{repaired}");
    assert!(gone.exists());
    assert!(!out.join(".berth-publish-dirty").exists());
    // A damaged chunk pack only costs recompression: the output is the same.
    let before = std::fs::read(dir.join("Packages.xz")).expect("xz");
    std::fs::write(out.join(".berth-publish-chunks.bin"), b"garbage").expect("damage");
    publish();
    assert_eq!(std::fs::read(dir.join("Packages.xz")).expect("xz"), before);
    check("chunky-pkg63");
}

#[test]
fn publishing_an_unknown_or_empty_stage_says_what_to_do() {
    let (_g, root) = example_repo();
    let (_t, work) = tempdir();
    let out = work.join("o");
    let r = run(
        &root,
        &[
            "publish",
            "apt",
            "--domain",
            "core",
            "--env",
            "qa",
            "--out",
            out.as_str(),
        ],
    );
    assert_eq!(r.code, 2, "{r:?}");
    assert!(r.stderr.contains("not on the ladder"), "{}", r.stderr);
    let r = run(
        &root,
        &[
            "publish",
            "generic",
            "--domain",
            "ran",
            "--env",
            "lab",
            "--out",
            out.as_str(),
        ],
    );
    assert_eq!(r.code, 2, "{r:?}");
    assert!(r.stderr.contains("berth promote"), "{}", r.stderr);
}

// ---------------------------------------------------------------- oci

/// ran/lab runs ms-cell-config 2.2.0 (an OCI archive) and ms-alarm-relay 1.0.0 (a
/// docker-save archive).
fn oci_repo(imgs: &support::Images) -> (tempfile::TempDir, Utf8PathBuf) {
    let (g, root) = example_repo();
    add(
        &root,
        &[
            "ran/oam/ms-cell-config",
            "2.2.0",
            "--docker",
            imgs.oci.as_str(),
        ],
    );
    add(
        &root,
        &[
            "ran/oam/ms-alarm-relay",
            "1.0.0",
            "--docker",
            imgs.docker.as_str(),
        ],
    );
    set_stage(
        &root,
        "ran",
        "lab",
        &[
            ("ran/oam/ms-alarm-relay", "1.0.0"),
            ("ran/oam/ms-cell-config", "2.2.0"),
        ],
    );
    (g, root)
}

fn manifest_field(root: &Utf8Path, component: &str, version: &str, field: &str) -> String {
    let text = std::fs::read_to_string(root.join(format!(
        "components/{component}/versions/{version}/docker/manifest.yaml"
    )))
    .expect("manifest");
    text.lines()
        .find_map(|l| l.strip_prefix(&format!("{field}: ")))
        .unwrap_or_else(|| panic!("no {field} in {text}"))
        // A digest that could read as a YAML 1.1 number (`0b…`) is written quoted.
        .trim_matches(['"', '\''])
        .to_owned()
}

fn skopeo() -> Command {
    require_tool("skopeo", "skopeo");
    let mut c = Command::new("skopeo");
    c.arg("--insecure-policy");
    c
}

#[test]
fn oci_layout_is_read_by_skopeo_with_component_version_refs() {
    let imgs = support::images();
    let (_g, root) = oci_repo(&imgs);
    let (_t, work) = tempdir();
    let layout = work.join("layout");
    let publish = || {
        json(&run(
            &root,
            &[
                "--format",
                "json",
                "publish",
                "oci",
                "--domain",
                "ran",
                "--env",
                "lab",
                "--out",
                layout.as_str(),
            ],
        ))
    };
    let report = publish();
    assert_eq!(report["archives_read"], 2, "{report}");

    // The OCI archive keeps its digest: manifest.yaml's sha256.
    let cell = support::run_json(
        skopeo()
            .arg("inspect")
            .arg(format!("oci:{layout}:ran/oam/ms-cell-config:2.2.0")),
    );
    let want = manifest_field(&root, "ran/oam/ms-cell-config", "2.2.0", "sha256");
    assert_eq!(cell["Digest"], format!("sha256:{want}"), "{cell}");
    assert_eq!(cell["Architecture"], "arm64");

    // The docker-save archive is converted: its config (image ID) is kept, its digest is
    // the generated manifest's, as the report says.
    let relay_ref = format!("oci:{layout}:ran/oam/ms-alarm-relay:1.0.0");
    let relay = support::run_json(skopeo().arg("inspect").arg(&relay_ref));
    let reported = report["images"]
        .as_array()
        .expect("images")
        .iter()
        .find(|i| i["component"] == "ran/oam/ms-alarm-relay")
        .expect("relay reported");
    assert_eq!(reported["converted"], true);
    assert_eq!(relay["Digest"], reported["digest"], "{relay}");
    let config = support::run(
        skopeo()
            .args(["inspect", "--config", "--raw"])
            .arg(&relay_ref),
    );
    let image_id = manifest_field(&root, "ran/oam/ms-alarm-relay", "1.0.0", "image_id");
    assert_eq!(support::sha256_hex(&config), image_id);

    // skopeo copies every blob out of the layout.
    let copy = work.join("copy");
    support::run(
        skopeo()
            .args(["copy", "--quiet"])
            .arg(&relay_ref)
            .arg(format!("dir:{copy}")),
    );
    assert!(copy.join("manifest.json").exists());

    // Incremental: nothing is read again. Then a stage with one image drops the other's
    // blobs.
    let again = publish();
    assert_eq!(again["archives_read"], 0, "{again}");
    set_stage(&root, "ran", "lab", &[("ran/oam/ms-cell-config", "2.2.0")]);
    let fewer = publish();
    assert!(
        fewer["blobs_removed"].as_u64().expect("count") >= 2,
        "{fewer}"
    );
    let index = std::fs::read_to_string(layout.join("index.json")).expect("index");
    assert!(!index.contains("ms-alarm-relay"), "{index}");
    support::run(
        skopeo()
            .arg("inspect")
            .arg(format!("oci:{layout}:ran/oam/ms-cell-config:2.2.0")),
    );
}

#[test]
fn push_to_a_registry_then_push_again_uploads_nothing() {
    require_tool("docker-registry", "docker-registry");
    let imgs = support::images();
    let (_g, root) = oci_repo(&imgs);
    let (_t, work) = tempdir();
    let port = free_port();
    let config = work.join("registry.yml");
    std::fs::write(
        &config,
        format!(
            "version: 0.1\nlog:\n  level: warn\nstorage:\n  filesystem:\n    rootdirectory: {work}/registry-data\nhttp:\n  addr: 127.0.0.1:{port}\n"
        ),
    )
    .expect("registry config");
    let _registry = Server(
        Command::new("docker-registry")
            .arg("serve")
            .arg(&config)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("start docker-registry"),
    );
    wait_for(port, "/v2/", "docker-registry");
    let registry = format!("127.0.0.1:{port}");
    let push = || {
        json(&run(
            &root,
            &[
                "--format",
                "json",
                "publish",
                "oci",
                "--domain",
                "ran",
                "--env",
                "lab",
                "--registry",
                &registry,
                "--insecure",
            ],
        ))
    };
    let first = push();
    let uploaded = first["uploaded"].as_array().expect("uploaded").len();
    assert!(uploaded >= 4, "{first}"); // two configs, two layers at least
    assert_eq!(first["images"].as_array().expect("images").len(), 2);

    let cell = support::run_json(
        skopeo()
            .args(["inspect", "--tls-verify=false"])
            .arg(format!("docker://{registry}/ran/oam/ms-cell-config:2.2.0")),
    );
    let want = manifest_field(&root, "ran/oam/ms-cell-config", "2.2.0", "sha256");
    assert_eq!(cell["Digest"], format!("sha256:{want}"), "{cell}");
    let relay = format!("docker://{registry}/ran/oam/ms-alarm-relay:1.0.0");
    let config = support::run(
        skopeo()
            .args(["inspect", "--tls-verify=false", "--config", "--raw"])
            .arg(&relay),
    );
    let image_id = manifest_field(&root, "ran/oam/ms-alarm-relay", "1.0.0", "image_id");
    assert_eq!(support::sha256_hex(&config), image_id);
    let copy = work.join("pulled");
    support::run(
        skopeo()
            .args(["copy", "--quiet", "--src-tls-verify=false"])
            .arg(&relay)
            .arg(format!("oci:{copy}:relay")),
    );

    let second = push();
    assert_eq!(
        second["uploaded"].as_array().expect("uploaded").len(),
        0,
        "{second}"
    );
    assert_eq!(
        second["skipped"].as_u64(),
        Some(uploaded as u64),
        "{second}"
    );
}

// ---------------------------------------------------------------- generic

#[test]
fn generic_tree_passes_sha256sum_and_catches_a_modified_file() {
    require_tool("sha256sum", "coreutils");
    let (_g, root) = example_repo();
    let (_t, work) = tempdir();
    let a = work.join("tool.sh");
    std::fs::write(&a, "#!/bin/sh\necho export\n").expect("file");
    let b = work.join("schema.json");
    std::fs::write(&b, "{\"v\": 3}\n").expect("file");
    add(
        &root,
        &[
            "cloud/dmp/ms-export",
            "3.3.0",
            "--generic",
            a.as_str(),
            "--generic",
            b.as_str(),
        ],
    );
    set_stage(
        &root,
        "cloud",
        "staging",
        &[("cloud/dmp/ms-export", "3.3.0")],
    );
    let out = work.join("generic");
    let r = json(&run(
        &root,
        &[
            "--format",
            "json",
            "publish",
            "generic",
            "--domain",
            "cloud",
            "--env",
            "staging",
            "--out",
            out.as_str(),
        ],
    ));
    assert_eq!(
        r["versions"],
        serde_json::json!(["cloud/dmp/ms-export/3.3.0"])
    );
    let dir = out.join("cloud/dmp/ms-export/3.3.0");
    let sums = std::fs::read_to_string(dir.join("SHA256SUMS")).expect("sums");
    assert_eq!(sums.lines().count(), 2, "{sums}");
    ok(Command::new("sha256sum")
        .args(["-c", "SHA256SUMS"])
        .current_dir(&dir));

    // Replace (not modify in place: the file is a hard link into the repository) one file.
    std::fs::remove_file(dir.join("tool.sh")).expect("rm");
    std::fs::write(dir.join("tool.sh"), "#!/bin/sh\necho tampered\n").expect("tamper");
    let bad = sh(Command::new("sha256sum")
        .args(["-c", "SHA256SUMS"])
        .current_dir(&dir));
    assert!(!bad.status.success());
    assert!(String::from_utf8_lossy(&bad.stdout).contains("tool.sh: FAILED"));

    // Publishing again repairs the tree; a new stage replaces the version.
    let r = json(&run(
        &root,
        &[
            "--format",
            "json",
            "publish",
            "generic",
            "--domain",
            "cloud",
            "--env",
            "staging",
            "--out",
            out.as_str(),
        ],
    ));
    assert_eq!(r["written"], 1, "{r}");
    ok(Command::new("sha256sum")
        .args(["-c", "SHA256SUMS"])
        .current_dir(&dir));
    set_stage(
        &root,
        "cloud",
        "staging",
        &[("cloud/dmp/ms-export", "3.2.0")],
    );
    let r = json(&run(
        &root,
        &[
            "--format",
            "json",
            "publish",
            "generic",
            "--domain",
            "cloud",
            "--env",
            "staging",
            "--out",
            out.as_str(),
        ],
    ));
    assert_eq!(r["removed"], 1, "{r}");
    assert!(!dir.exists());
    ok(Command::new("sha256sum")
        .args(["-c", "SHA256SUMS"])
        .current_dir(out.join("cloud/dmp/ms-export/3.2.0")));
}
