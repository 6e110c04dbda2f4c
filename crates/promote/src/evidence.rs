//! Approvals as evidence (`[policy.evidence]` `"signed-tag"`, the default): an approval is
//! an annotated git tag `promote-to-<env>/<component>/<version>` (or the same followed by
//! `/<anything>`, one per further approver), signed with a key that an `ownership.yaml`
//! of the repository lists for an approver, pointing at a commit whose version directory
//! is the one being promoted.
//!
//! berth checks each tag itself, with the real tools: `git cat-file` reads the tag
//! object (its own `tag` header must name the tag: a renamed tag does not count), and the
//! signature over it is checked by `ssh-keygen -Y` against an allowed-signers file made
//! from the approvers' SSH keys, or by `gpg --verify` in a throw-away keyring holding
//! their OpenPGP keys. Who signed is whoever's key verifies, never what the tag says.

use std::collections::BTreeMap;
use std::io::Write as _;
use std::process::{Command, Stdio};

use berth_model::{Approver, ComponentPath, EnvName, Repository, Version};
use camino::{Utf8Path, Utf8PathBuf};
use serde::Serialize;

use crate::{PromoteError, Result};

/// A tag that counts as an approval.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct TagApproval {
    /// The tag.
    pub tag: String,
    /// The approver whose key signed it (the name in ownership.yaml).
    pub approver: String,
    /// The key, as its tool names it (`SHA256:…` for SSH, the fingerprint for OpenPGP).
    pub key: String,
    /// The commit it points at.
    pub commit: String,
}

impl TagApproval {
    /// One line for the audit record's `evidence`.
    pub fn describe(&self) -> String {
        format!(
            "tag {} signed by {} ({}) on commit {}",
            self.tag,
            self.approver,
            self.key,
            &self.commit[..self.commit.len().min(12)]
        )
    }
}

/// A tag that does not count, and why.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct TagProblem {
    /// The tag.
    pub tag: String,
    /// Why it does not count.
    pub why: String,
}

/// Every approver with a key, from every `ownership.yaml` of the repository: who a
/// signature can belong to.
#[derive(Debug, Clone, Default)]
pub struct Keyring {
    ssh: Vec<(String, String)>,
    pgp: Vec<(String, String)>,
}

impl Keyring {
    /// The keys of the approvers listed in any `ownership.yaml`.
    pub fn of_repo(repo: &Repository) -> Result<Keyring> {
        let mut k = Keyring::default();
        for o in repo.ownership_files()? {
            for a in &o.value.approvers {
                k.add(a);
            }
        }
        Ok(k)
    }

    fn add(&mut self, a: &Approver) {
        for key in &a.keys {
            let key = key.trim();
            let entry = (a.name.clone(), key.to_owned());
            if key.starts_with("-----BEGIN PGP PUBLIC KEY BLOCK-----") {
                if !self.pgp.contains(&entry) {
                    self.pgp.push(entry);
                }
            } else if !self.ssh.contains(&entry) {
                self.ssh.push(entry);
            }
        }
    }
}

/// The git work tree holding a repository.
#[derive(Debug, Clone)]
pub struct Git {
    /// The repository root (where berth.toml is).
    root: Utf8PathBuf,
    /// The root's path inside the work tree (`""`, or `examples/repo/`).
    prefix: String,
}

impl Git {
    /// The work tree around `repo`; an error when it is in none (signed-tag approvals need
    /// the git history).
    pub fn open(repo: &Repository) -> Result<Git> {
        let root = repo.root().to_owned();
        let prefix = git(&root, &["rev-parse", "--show-prefix"]).map_err(|e| {
            PromoteError::Usage(format!(
                "approvals are signed git tags here, but {root} is not in a git work tree ({e})"
            ))
        })?;
        Ok(Git {
            root,
            prefix: prefix.trim().to_owned(),
        })
    }

    /// The approval tags of `c` `v` for `env`, sorted.
    pub fn approval_tags(
        &self,
        env: &EnvName,
        c: &ComponentPath,
        v: &Version,
    ) -> Result<Vec<String>> {
        let base = format!("promote-to-{env}/{c}/{v}");
        let out = git(&self.root, &["tag", "--list", &base, &format!("{base}/*")])
            .map_err(PromoteError::Usage)?;
        let mut tags: Vec<String> = out.lines().map(str::to_owned).collect();
        tags.sort();
        Ok(tags)
    }

    /// Checks one tag: annotated, naming itself, signed by a key of the keyring, on a
    /// commit whose version directory of `c` `v` is the one in the work tree now.
    pub fn verify(
        &self,
        tag: &str,
        c: &ComponentPath,
        v: &Version,
        keys: &Keyring,
    ) -> std::result::Result<TagApproval, TagProblem> {
        let problem = |why: String| TagProblem {
            tag: tag.to_owned(),
            why,
        };
        let refname = format!("refs/tags/{tag}");
        let kind = git(&self.root, &["cat-file", "-t", &refname]).map_err(problem)?;
        if kind.trim() != "tag" {
            return Err(problem(
                "a lightweight tag: it carries no signature (create it with `git tag -s`)".into(),
            ));
        }
        let object = git(&self.root, &["cat-file", "tag", &refname]).map_err(problem)?;
        let parsed = TagObject::parse(&object).ok_or_else(|| {
            problem("the tag object cannot be read (no object, type or tag header)".into())
        })?;
        if parsed.name != tag {
            return Err(problem(format!(
                "the tag object names itself `{}`: a tag renamed to look like an approval",
                parsed.name
            )));
        }
        if parsed.kind != "commit" {
            return Err(problem(format!("it tags a {}, not a commit", parsed.kind)));
        }
        let (approver, key) = match parsed.signature {
            None => {
                return Err(problem(
                    "it is not signed (create it with `git tag -s`, as an approver)".into(),
                ));
            }
            Some(Signature::Ssh(sig)) => verify_ssh(&parsed.payload, &sig, keys),
            Some(Signature::Pgp(sig)) => verify_pgp(&parsed.payload, &sig, keys),
        }
        .map_err(problem)?;
        let dir = format!("{}{}", self.prefix, berth_model::Layout::version_dir(c, v));
        let tagged = git(
            &self.root,
            &["rev-parse", &format!("{}:{dir}", parsed.object)],
        )
        .map_err(|_| {
            problem(format!(
                "it points at commit {}, which has no {dir}",
                short(&parsed.object)
            ))
        })?;
        let head = git(&self.root, &["rev-parse", &format!("HEAD:{dir}")]).map_err(|_| {
            problem(format!(
                "{dir} is not committed (HEAD has no such directory)"
            ))
        })?;
        if tagged.trim() != head.trim() {
            return Err(problem(format!(
                "it points at commit {}, whose {dir} differs from the one promoted (HEAD)",
                short(&parsed.object)
            )));
        }
        let dirty = git(
            &self.root,
            &["status", "--porcelain", "--", &format!(":/{dir}")],
        )
        .map_err(problem)?;
        if !dirty.trim().is_empty() {
            return Err(problem(format!(
                "{dir} has uncommitted changes: an approval covers committed content only"
            )));
        }
        Ok(TagApproval {
            tag: tag.to_owned(),
            approver,
            key,
            commit: parsed.object,
        })
    }
}

fn short(sha: &str) -> &str {
    &sha[..sha.len().min(12)]
}

/// Runs git in `dir`; stdout, or why it failed.
fn git(dir: &Utf8Path, args: &[&str]) -> std::result::Result<String, String> {
    let out = Command::new("git")
        .arg("-C")
        .arg(dir.as_str())
        .args(args)
        .stdin(Stdio::null())
        .output()
        .map_err(|e| format!("running git: {e}"))?;
    if !out.status.success() {
        let err = String::from_utf8_lossy(&out.stderr);
        return Err(format!(
            "git {} failed: {}",
            args.first().copied().unwrap_or_default(),
            err.trim()
        ));
    }
    Ok(String::from_utf8_lossy(&out.stdout).into_owned())
}

/// A signature block of a tag object.
enum Signature {
    Ssh(String),
    Pgp(String),
}

/// An annotated tag object: its headers, the signed payload and the signature.
struct TagObject {
    object: String,
    kind: String,
    name: String,
    payload: String,
    signature: Option<Signature>,
}

impl TagObject {
    fn parse(text: &str) -> Option<TagObject> {
        let (mut object, mut kind, mut name) = (None, None, None);
        for line in text.lines() {
            if line.is_empty() {
                break;
            }
            match line.split_once(' ') {
                Some(("object", v)) => object = Some(v.to_owned()),
                Some(("type", v)) => kind = Some(v.to_owned()),
                Some(("tag", v)) => name = Some(v.to_owned()),
                _ => {}
            }
        }
        let (payload, signature) = match [
            ("-----BEGIN SSH SIGNATURE-----", true),
            ("-----BEGIN PGP SIGNATURE-----", false),
        ]
        .iter()
        .find_map(|(marker, ssh)| text.find(marker).map(|i| (i, *ssh)))
        {
            Some((i, true)) => (&text[..i], Some(Signature::Ssh(text[i..].to_owned()))),
            Some((i, false)) => (&text[..i], Some(Signature::Pgp(text[i..].to_owned()))),
            None => (text, None),
        };
        Some(TagObject {
            object: object?,
            kind: kind?,
            name: name?,
            payload: payload.to_owned(),
            signature,
        })
    }
}

/// A private scratch directory for the verifying tools' files.
fn scratch() -> std::result::Result<tempfile::TempDir, String> {
    tempfile::Builder::new()
        .prefix("berth-verify-")
        .tempdir()
        .map_err(|e| format!("creating a scratch directory: {e}"))
}

fn write(path: &std::path::Path, text: &str) -> std::result::Result<(), String> {
    std::fs::write(path, text).map_err(|e| format!("writing {}: {e}", path.display()))
}

/// Runs `cmd` with `input` on stdin; (success, stdout + stderr).
fn run_with_input(cmd: &mut Command, input: &str) -> std::result::Result<(bool, String), String> {
    let mut child = cmd
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .map_err(|e| format!("running {:?}: {e}", cmd.get_program()))?;
    if let Some(mut stdin) = child.stdin.take() {
        stdin
            .write_all(input.as_bytes())
            .map_err(|e| format!("writing to {:?}: {e}", cmd.get_program()))?;
    }
    let out = child
        .wait_with_output()
        .map_err(|e| format!("running {:?}: {e}", cmd.get_program()))?;
    let mut text = String::from_utf8_lossy(&out.stdout).into_owned();
    text.push_str(&String::from_utf8_lossy(&out.stderr));
    Ok((out.status.success(), text))
}

/// Who signed `payload` with the SSH signature `sig`: (approver, key fingerprint).
fn verify_ssh(
    payload: &str,
    sig: &str,
    keys: &Keyring,
) -> std::result::Result<(String, String), String> {
    let dir = scratch()?;
    let sig_file = dir.path().join("tag.sig");
    write(&sig_file, sig)?;
    // Is it a valid signature at all, and with which key?
    let (ok, said) = run_with_input(
        Command::new("ssh-keygen")
            .args(["-Y", "check-novalidate", "-n", "git", "-s"])
            .arg(&sig_file),
        payload,
    )?;
    if !ok {
        return Err(format!(
            "its SSH signature does not verify: the tag was changed after signing ({})",
            said.trim()
        ));
    }
    let fingerprint = said
        .split_whitespace()
        .find(|w| w.starts_with("SHA256:"))
        .unwrap_or("an unknown key")
        .trim_end_matches('.')
        .to_owned();
    let allowed = dir.path().join("allowed_signers");
    let lines: String = keys
        .ssh
        .iter()
        .map(|(name, key)| format!("{name} namespaces=\"git\" {key}\n"))
        .collect();
    write(&allowed, &lines)?;
    let found = Command::new("ssh-keygen")
        .args(["-Y", "find-principals", "-s"])
        .arg(&sig_file)
        .arg("-f")
        .arg(&allowed)
        .output()
        .map_err(|e| format!("running ssh-keygen: {e}"))?;
    let principals: Vec<String> = String::from_utf8_lossy(&found.stdout)
        .lines()
        .map(|l| l.trim().to_owned())
        .filter(|l| !l.is_empty())
        .collect();
    if principals.is_empty() {
        return Err(format!(
            "it is signed by {fingerprint}, a key no ownership.yaml lists for an approver"
        ));
    }
    for p in principals {
        let (ok, _) = run_with_input(
            Command::new("ssh-keygen")
                .args(["-Y", "verify", "-n", "git", "-f"])
                .arg(&allowed)
                .args(["-I", &p, "-s"])
                .arg(&sig_file),
            payload,
        )?;
        if ok {
            return Ok((p, fingerprint));
        }
    }
    Err(format!(
        "its SSH signature by {fingerprint} does not verify"
    ))
}

/// Who signed `payload` with the OpenPGP signature `sig`: (approver, fingerprint).
fn verify_pgp(
    payload: &str,
    sig: &str,
    keys: &Keyring,
) -> std::result::Result<(String, String), String> {
    let dir = scratch()?;
    let home = dir.path().join("gnupg");
    std::fs::create_dir(&home).map_err(|e| format!("creating a keyring: {e}"))?;
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt as _;
        let _ = std::fs::set_permissions(&home, std::fs::Permissions::from_mode(0o700));
    }
    // Fingerprint (primary and sub keys) → approver.
    let mut owner: BTreeMap<String, String> = BTreeMap::new();
    for (name, key) in &keys.pgp {
        let (_, listed) = run_with_input(
            Command::new("gpg").arg("--homedir").arg(&home).args([
                "--batch",
                "--with-colons",
                "--import-options",
                "show-only",
                "--import",
            ]),
            key,
        )?;
        for line in listed.lines().filter(|l| l.starts_with("fpr:")) {
            if let Some(fpr) = line.split(':').nth(9) {
                owner.insert(fpr.to_owned(), name.clone());
            }
        }
        run_with_input(
            Command::new("gpg")
                .arg("--homedir")
                .arg(&home)
                .args(["--batch", "--quiet", "--import"]),
            key,
        )?;
    }
    let sig_file = dir.path().join("tag.asc");
    let data = dir.path().join("tag.payload");
    write(&sig_file, sig)?;
    write(&data, payload)?;
    let out = Command::new("gpg")
        .arg("--homedir")
        .arg(&home)
        .args(["--batch", "--status-fd", "1", "--verify"])
        .arg(&sig_file)
        .arg(&data)
        .output()
        .map_err(|e| format!("running gpg: {e}"))?;
    let status = String::from_utf8_lossy(&out.stdout);
    for line in status.lines() {
        let fields: Vec<&str> = line.split_whitespace().collect();
        match fields.as_slice() {
            ["[GNUPG:]", "VALIDSIG", fpr, rest @ ..] => {
                let primary = rest.last().copied().unwrap_or(fpr);
                return match owner.get(*fpr).or_else(|| owner.get(primary)) {
                    Some(name) => Ok((name.clone(), (*primary).to_owned())),
                    None => Err(format!(
                        "it is signed by OpenPGP key {primary}, which no ownership.yaml lists for an approver"
                    )),
                };
            }
            ["[GNUPG:]", "BADSIG", ..] => {
                return Err(
                    "its OpenPGP signature does not verify: the tag was changed after signing"
                        .into(),
                );
            }
            ["[GNUPG:]", "ERRSIG", keyid, ..] | ["[GNUPG:]", "NO_PUBKEY", keyid] => {
                return Err(format!(
                    "it is signed by OpenPGP key {keyid}, which no ownership.yaml lists for an approver"
                ));
            }
            _ => {}
        }
    }
    Err("its OpenPGP signature cannot be checked".into())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tag_objects_split_into_payload_and_signature() {
        let text = "object 0123\ntype commit\ntag promote-to-prod/a/b/1.0.0\ntagger P <p@x> 1 +0000\n\napprove\n-----BEGIN SSH SIGNATURE-----\nAAAA\n-----END SSH SIGNATURE-----\n";
        let t = TagObject::parse(text).expect("parses");
        assert_eq!(
            (t.object.as_str(), t.kind.as_str(), t.name.as_str()),
            ("0123", "commit", "promote-to-prod/a/b/1.0.0")
        );
        assert!(t.payload.ends_with("approve\n"));
        assert!(matches!(t.signature, Some(Signature::Ssh(s)) if s.starts_with("-----BEGIN SSH")));
        let unsigned = TagObject::parse("object 1\ntype commit\ntag t\n\nmsg\n").expect("parses");
        assert!(unsigned.signature.is_none());
        assert!(TagObject::parse("type commit\n\n").is_none());
    }
}
