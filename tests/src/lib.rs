//! Support for the end-to-end tests in `tests/tests/`: the built `berth` binary, temporary
//! copies of `examples/repo`, and checks for the external tools tests drive.

use std::process::{Command, Output};
use std::sync::OnceLock;

use camino::{Utf8Path, Utf8PathBuf};

/// The workspace root.
pub fn workspace() -> Utf8PathBuf {
    Utf8Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("tests/ sits in the workspace")
        .to_owned()
}

/// The `berth` binary: `$BERTH_BIN`, else built once with cargo (quick when `cargo test`
/// already built the workspace).
pub fn berth_bin() -> Utf8PathBuf {
    static BIN: OnceLock<Utf8PathBuf> = OnceLock::new();
    BIN.get_or_init(|| {
        if let Ok(p) = std::env::var("BERTH_BIN") {
            return p.into();
        }
        let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
        let status = Command::new(cargo)
            .args(["build", "--quiet", "-p", "berth-cli", "--bin", "berth"])
            .current_dir(workspace())
            .status()
            .expect("running cargo build for the berth binary");
        assert!(status.success(), "building the berth binary failed");
        let target = std::env::var("CARGO_TARGET_DIR")
            .map(Utf8PathBuf::from)
            .unwrap_or_else(|_| workspace().join("target"));
        target.join("debug").join("berth")
    })
    .clone()
}

/// A `berth` command with a clean environment for berth's own variables, no colour, and
/// the given working directory.
pub fn berth(cwd: &Utf8Path) -> Command {
    let mut c = Command::new(berth_bin().as_std_path());
    c.current_dir(cwd)
        .env_remove("BERTH_REPO")
        .env_remove("BERTH_SLACK_WEBHOOK")
        .env_remove("BERTH_ACTOR")
        .env_remove("GITLAB_USER_LOGIN")
        .env("NO_COLOR", "1")
        .env("BERTH_CACHE_DIR", cwd.join(".berth-test-cache"));
    c
}

/// What a finished command printed, as text.
#[derive(Debug)]
pub struct Run {
    /// Exit code (-1 when killed by a signal).
    pub code: i32,
    /// Standard output.
    pub stdout: String,
    /// Standard error.
    pub stderr: String,
}

/// Runs `berth ARGS` in `cwd`.
pub fn run(cwd: &Utf8Path, args: &[&str]) -> Run {
    let out: Output = berth(cwd).args(args).output().expect("running berth");
    Run {
        code: out.status.code().unwrap_or(-1),
        stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
    }
}

/// A temporary directory (kept alive by the returned guard) and its UTF-8 path.
pub fn tempdir() -> (tempfile::TempDir, Utf8PathBuf) {
    let t = tempfile::tempdir().expect("tempdir");
    let p = Utf8PathBuf::from_path_buf(t.path().to_path_buf()).expect("utf-8 temp path");
    (t, p)
}

/// Copies a directory tree (files and directories; symlinks are copied as links).
pub fn copy_tree(from: &Utf8Path, to: &Utf8Path) {
    std::fs::create_dir_all(to).expect("create destination");
    for entry in std::fs::read_dir(from).expect("read source dir") {
        let entry = entry.expect("dir entry");
        let name = entry.file_name().into_string().expect("utf-8 name");
        let ft = entry.file_type().expect("file type");
        let (src, dst) = (from.join(&name), to.join(&name));
        if ft.is_dir() {
            copy_tree(&src, &dst);
        } else if ft.is_symlink() {
            let target = std::fs::read_link(&src).expect("read link");
            std::os::unix::fs::symlink(target, &dst).expect("copy link");
        } else {
            std::fs::copy(&src, &dst).expect("copy file");
        }
    }
}

/// A temporary copy of `examples/repo`: (guard, repository root).
pub fn example_repo() -> (tempfile::TempDir, Utf8PathBuf) {
    let (guard, dir) = tempdir();
    let root = dir.join("repo");
    copy_tree(&workspace().join("examples/repo"), &root);
    (guard, root)
}

/// Fails the test with an install hint when an external tool is missing (CI installs
/// them all; a missing tool is a broken set-up, never a skip).
pub fn require_tool(tool: &str, package: &str) {
    let found = Command::new("sh")
        .args(["-c", &format!("command -v {tool}")])
        .output()
        .map(|o| o.status.success())
        .unwrap_or(false);
    assert!(
        found,
        "`{tool}` is needed by this test: apt-get install -y {package} (or run .ci/run)"
    );
}

/// Replaces the temporary directory in `text` with `[TMP]`, for snapshots.
pub fn redact(text: &str, dir: &Utf8Path) -> String {
    text.replace(dir.as_str(), "[TMP]")
}

/// A digest of every file and directory below `root` (names, kinds and contents), leaving
/// out berth's private `.berth/` state: equal digests mean a byte-for-byte unchanged tree.
pub fn tree_digest(root: &Utf8Path) -> String {
    fn walk(dir: &Utf8Path, rel: &str, out: &mut Vec<String>) {
        let mut entries: Vec<_> = std::fs::read_dir(dir)
            .expect("read dir")
            .map(|e| e.expect("entry"))
            .collect();
        entries.sort_by_key(|e| e.file_name());
        for e in entries {
            let name = e.file_name().into_string().expect("utf-8 name");
            // berth's private state and the tests' artifact hash cache: caches, not the
            // repository.
            if rel.is_empty() && (name == ".berth" || name == ".berth-test-cache") {
                continue;
            }
            let path = dir.join(&name);
            let r = format!("{rel}/{name}");
            let ft = e.file_type().expect("type");
            if ft.is_dir() {
                out.push(format!("d {r}"));
                walk(&path, &r, out);
            } else if ft.is_symlink() {
                out.push(format!(
                    "l {r} {:?}",
                    std::fs::read_link(&path).expect("link")
                ));
            } else {
                let bytes = std::fs::read(&path).expect("read");
                out.push(format!("f {r} {} {:x}", bytes.len(), fxhash(&bytes)));
            }
        }
    }
    fn fxhash(b: &[u8]) -> u64 {
        // FNV-1a: enough to notice any change in a test tree.
        b.iter().fold(0xcbf2_9ce4_8422_2325u64, |h, x| {
            (h ^ u64::from(*x)).wrapping_mul(0x100_0000_01b3)
        })
    }
    let mut lines = Vec::new();
    walk(root, "", &mut lines);
    lines.join("\n")
}
