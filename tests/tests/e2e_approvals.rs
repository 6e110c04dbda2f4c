//! End to end: approvals as evidence. A copy of `examples/repo` in a real git repository,
//! approvers' keys made with the real `ssh-keygen` and `gpg`, tags signed by the real `git
//! tag -s`, and `berth promote` checking them (the default `[policy.evidence]`).

use std::process::Command;

use berth_tests::{Run, example_repo, require_tool, run};
use camino::{Utf8Path, Utf8PathBuf};

fn sh(dir: &Utf8Path, cmd: &mut Command) -> String {
    let out = cmd.current_dir(dir).output().expect("runs");
    assert!(
        out.status.success(),
        "{cmd:?}: {}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// The repository, its keys and a GnuPG home.
struct Setup {
    _guards: (tempfile::TempDir, tempfile::TempDir),
    root: Utf8PathBuf,
    keys: Utf8PathBuf,
    gnupg: Utf8PathBuf,
    pgp_fpr: String,
}

impl Setup {
    fn git(&self, args: &[&str]) -> String {
        sh(
            &self.root,
            Command::new("git")
                .args(args)
                .env("GNUPGHOME", &self.gnupg)
                .env("GIT_AUTHOR_NAME", "ci")
                .env("GIT_AUTHOR_EMAIL", "ci@example.com")
                .env("GIT_COMMITTER_NAME", "ci")
                .env("GIT_COMMITTER_EMAIL", "ci@example.com"),
        )
    }

    /// An annotated tag signed with `who`'s SSH key.
    fn ssh_tag(&self, who: &str, tag: &str, at: &str) {
        let key = self.keys.join(who);
        self.git(&[
            "-c",
            "gpg.format=ssh",
            "-c",
            &format!("user.signingkey={key}"),
            "tag",
            "-s",
            "-m",
            "approved",
            tag,
            at,
        ]);
    }

    fn promote(&self, actor: &str, c: &str, v: &str, env: &str, extra: &[&str]) -> Run {
        let mut args = vec![
            "promote", c, v, "--domain", "cloud", "--env", env, "--actor", actor,
        ];
        args.extend_from_slice(extra);
        run(&self.root, &args)
    }
}

fn setup() -> Setup {
    for (t, package) in [
        ("git", "git"),
        ("ssh-keygen", "openssh-client"),
        ("gpg", "gnupg"),
    ] {
        require_tool(t, package);
    }
    let (g1, root) = example_repo();
    let keys_dir = tempfile::tempdir().expect("tempdir");
    let keys = Utf8PathBuf::from_path_buf(keys_dir.path().to_owned()).expect("utf-8");
    // Approvers of cloud/dmp: priya.k (SSH) and domain-lead-cloud (OpenPGP); of
    // core/platform: lars.n (SSH); mallory is listed nowhere.
    let mut public = std::collections::BTreeMap::new();
    for who in ["priya.k", "lars.n", "mallory"] {
        sh(
            &keys,
            Command::new("ssh-keygen")
                .args(["-q", "-t", "ed25519", "-N", "", "-C", who, "-f", who]),
        );
        let p = std::fs::read_to_string(keys.join(format!("{who}.pub"))).expect("pub");
        public.insert(who, p.trim().to_owned());
    }
    let gnupg = keys.join("gnupg");
    std::fs::create_dir(&gnupg).expect("gnupg");
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt as _;
        std::fs::set_permissions(&gnupg, std::fs::Permissions::from_mode(0o700)).expect("chmod");
    }
    let gpg = |args: &[&str]| {
        sh(
            &keys,
            Command::new("gpg")
                .arg("--homedir")
                .arg(&gnupg)
                .args(["--batch", "--pinentry-mode", "loopback", "--passphrase", ""])
                .args(args),
        )
    };
    gpg(&[
        "--quick-gen-key",
        "domain-lead-cloud <lead@example.com>",
        "ed25519",
        "sign",
        "never",
    ]);
    let listing = gpg(&["--with-colons", "--list-keys"]);
    let pgp_fpr = listing
        .lines()
        .find(|l| l.starts_with("fpr:"))
        .and_then(|l| l.split(':').nth(9))
        .expect("fingerprint")
        .to_owned();
    let armored = gpg(&["--armor", "--export", &pgp_fpr]);
    let indent = |text: &str| -> String {
        text.lines()
            .map(|l| format!("        {l}\n"))
            .collect::<String>()
    };
    let dmp = root.join("components/cloud/dmp/ownership.yaml");
    let text = std::fs::read_to_string(&dmp).expect("read");
    let text = text.replace(
        "approvers: [\"priya.k\", \"domain-lead-cloud\"]\n",
        &format!(
            "approvers:\n  - name: priya.k\n    keys: [\"{}\"]\n  - name: domain-lead-cloud\n    keys:\n      - |\n{}",
            public["priya.k"],
            indent(&armored)
        ),
    );
    std::fs::write(&dmp, text).expect("write");
    let core = root.join("components/core/platform/ownership.yaml");
    let text = std::fs::read_to_string(&core).expect("read");
    assert!(text.contains("lars.n"), "{text}");
    let text = text
        .lines()
        .map(|l| {
            if l.starts_with("approvers:") {
                format!(
                    "approvers:\n  - name: lars.n\n    keys: [\"{}\"]",
                    public["lars.n"]
                )
            } else {
                l.to_owned()
            }
        })
        .collect::<Vec<_>>()
        .join("\n")
        + "\n";
    std::fs::write(&core, text).expect("write");
    // The default evidence: signed tags.
    let toml = std::fs::read_to_string(root.join("berth.toml")).expect("read");
    std::fs::write(
        root.join("berth.toml"),
        toml.replace("[policy.evidence]\nprod = \"name\"\n", ""),
    )
    .expect("write");
    let s = Setup {
        _guards: (g1, keys_dir),
        root,
        keys,
        gnupg,
        pgp_fpr,
    };
    s.git(&["init", "-q", "-b", "main"]);
    s.git(&["add", "-A"]);
    s.git(&["commit", "-q", "-m", "the example repository"]);
    assert_eq!(
        run(&s.root, &["validate"]).code,
        0,
        "ownership.yaml with keys is valid"
    );
    s
}

#[test]
fn approvals_are_signed_tags_checked_against_ownership_keys() {
    let s = setup();
    for (c, v) in [("common-utils", "1.3.0"), ("ms-ingestion", "1.0.2")] {
        let r = s.promote("ci-bot", c, v, "staging", &[]);
        assert_eq!(r.code, 0, "{r:?}");
    }
    // core/platform's approver signs common-utils into prod.
    s.ssh_tag(
        "lars.n",
        "promote-to-prod/core/platform/common-utils/1.3.0",
        "HEAD",
    );
    let r = s.promote("ci-bot", "common-utils", "1.3.0", "prod", &[]);
    assert_eq!(r.code, 0, "{r:?}");

    let tag = "promote-to-prod/cloud/dmp/ms-ingestion/1.0.2";
    let refused = |why: &str| {
        let r = s.promote("ci-bot", "ms-ingestion", "1.0.2", "prod", &[]);
        assert_eq!(r.code, 1, "{why}: {r:?}");
        assert!(r.stderr.contains("gate `approvals`"), "{why}: {}", r.stderr);
        r.stderr
    };
    // No tag.
    let e = refused("no tag");
    assert!(e.contains("0 found") && e.contains("git tag -s"), "{e}");
    // A name is not evidence.
    let r = s.promote(
        "ci-bot",
        "ms-ingestion",
        "1.0.2",
        "prod",
        &["--approved-by", "priya.k"],
    );
    assert_eq!(r.code, 1, "{r:?}");
    assert!(r.stderr.contains("is a name, not evidence"), "{}", r.stderr);
    // Unsigned.
    s.git(&["tag", "-a", "-m", "approved", tag]);
    assert!(refused("unsigned").contains("it is not signed"));
    s.git(&["tag", "-d", tag]);
    // Lightweight.
    s.git(&["tag", tag]);
    assert!(refused("lightweight").contains("lightweight tag"));
    s.git(&["tag", "-d", tag]);
    // Signed by a key no ownership.yaml lists.
    s.ssh_tag("mallory", tag, "HEAD");
    assert!(refused("unknown key").contains("a key no ownership.yaml lists"));
    s.git(&["tag", "-d", tag]);
    // Signed by an approver of another group.
    s.ssh_tag("lars.n", tag, "HEAD");
    let e = refused("approver elsewhere");
    assert!(
        e.contains(
            "signed by `lars.n`, who is not an approver in components/cloud/dmp/ownership.yaml"
        ),
        "{e}"
    );
    s.git(&["tag", "-d", tag]);
    // Signed by the right approver, on a commit whose version directory differs.
    let meta = s
        .root
        .join("components/cloud/dmp/ms-ingestion/versions/1.0.2/metadata.yaml");
    let original = std::fs::read_to_string(&meta).expect("read");
    std::fs::write(&meta, format!("{original}# edited after review\n")).expect("write");
    s.git(&["commit", "-q", "-am", "an edit after review"]);
    s.ssh_tag("priya.k", tag, "HEAD");
    s.git(&["reset", "-q", "--hard", "HEAD~1"]);
    assert!(refused("other commit").contains("differs from the one promoted"));
    s.git(&["tag", "-d", tag]);
    // A signed tag renamed to look like an approval.
    s.ssh_tag(
        "priya.k",
        "promote-to-staging/cloud/dmp/ms-ingestion/1.0.2",
        "HEAD",
    );
    s.git(&[
        "tag",
        tag,
        "promote-to-staging/cloud/dmp/ms-ingestion/1.0.2",
    ]);
    assert!(refused("renamed").contains("a tag renamed"));
    s.git(&["tag", "-d", tag]);
    // The approver cannot approve their own promotion.
    s.ssh_tag("priya.k", tag, "HEAD");
    let r = s.promote("priya.k", "ms-ingestion", "1.0.2", "prod", &[]);
    assert_eq!(r.code, 1, "{r:?}");
    assert!(r.stderr.contains("who promotes"), "{}", r.stderr);
    // Nor the approval of the change's author, whoever runs the promotion.
    let r = s.promote(
        "ci-bot",
        "ms-ingestion",
        "1.0.2",
        "prod",
        &["--author", "Priya K <priya.k@yourco.com>"],
    );
    assert_eq!(r.code, 1, "{r:?}");
    assert!(r.stderr.contains("who made the change"), "{}", r.stderr);
    // Signed by priya.k on the commit promoted, promoted by someone else: it lands, and
    // the record says who approved and with what.
    let r = s.promote("ci-bot", "ms-ingestion", "1.0.2", "prod", &[]);
    assert_eq!(r.code, 0, "{r:?}");
    let dir = s.root.join("index/audit/cloud/prod");
    let mut records: Vec<_> = std::fs::read_dir(&dir)
        .expect("records")
        .map(|e| e.expect("entry").path())
        .collect();
    records.sort();
    let last = std::fs::read_to_string(records.last().expect("a record")).expect("read");
    assert!(last.contains("approvals: [\"priya.k\"]"), "{last}");
    assert!(
        last.contains(&format!("tag {tag} signed by priya.k (SHA256:")),
        "{last}"
    );

    // OpenPGP: the domain lead signs 1.0.3 with gpg.
    let r = s.promote("ci-bot", "ms-ingestion", "1.0.3", "staging", &[]);
    assert_eq!(r.code, 0, "{r:?}");
    let tag3 = "promote-to-prod/cloud/dmp/ms-ingestion/1.0.3";
    s.git(&[
        "-c",
        "gpg.format=openpgp",
        "-c",
        &format!("user.signingkey={}", s.pgp_fpr),
        "tag",
        "-s",
        "-m",
        "approved",
        tag3,
    ]);
    let r = s.promote("ci-bot", "ms-ingestion", "1.0.3", "prod", &[]);
    assert_eq!(r.code, 0, "{r:?}");
    let mut records: Vec<_> = std::fs::read_dir(&dir)
        .expect("records")
        .map(|e| e.expect("entry").path())
        .collect();
    records.sort();
    let last = std::fs::read_to_string(records.last().expect("a record")).expect("read");
    assert!(
        last.contains("approvals: [\"domain-lead-cloud\"]") && last.contains(&s.pgp_fpr),
        "{last}"
    );
}
