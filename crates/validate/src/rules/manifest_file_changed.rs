use crate::declare_rule;
use crate::diagnostic::{Diagnostic, Span};
use crate::rule::{Rule, RuleInfo, Sink, VersionCx};

declare_rule! {
    /// ## What it checks
    /// The files of a format directory are exactly the ones its manifest lists under
    /// `files`: no unlisted file (checked always, from the directory listing), and with
    /// `--verify-artifacts` every listed file still has the recorded size and sha256.
    ///
    /// ## Why it matters
    /// A published version is immutable. A changed or added file means someone replaced
    /// bytes after publication: what runs is no longer what was tested and approved.
    ///
    /// ## Example
    /// ```text
    /// generic/RELEASE-NOTES.md: manifest says 54 bytes, sha256 657f…; the file has 60
    /// bytes, sha256 1c2d…
    /// ```
    ///
    /// ## How to fix
    /// Restore the original file. If the new bytes are wanted, publish them as a new
    /// version with `berth add`.
    pub struct ManifestFileChanged => berth_model::Code::ManifestFileChanged, Error;
}

impl Rule for ManifestFileChanged {
    fn info(&self) -> &'static RuleInfo {
        &Self::INFO
    }

    fn check_version(&self, v: &VersionCx<'_>, sink: &mut Sink<'_>) {
        for f in &v.entry.formats {
            let Some((path, m)) = f.manifest() else {
                continue;
            };
            for name in &f.files {
                if !m.value.files.iter().any(|e| &e.path == name) && !f.odd.contains(name) {
                    sink.report(
                        Diagnostic::new(
                            path,
                            format!("`{}/{name}` is not listed in the manifest", f.dir),
                        )
                        .at(Span::key(&m.root, &["files"]))
                        .help("remove the file, or publish it as part of a new version with `berth add`"),
                    );
                }
            }
            let Some(facts) = &f.facts else { continue };
            for (i, entry) in m.value.files.iter().enumerate() {
                let now = match facts.files.get(&entry.path) {
                    Some(Ok(now)) => now,
                    // Listed and present, but not readable as a file (a link, a FIFO put in
                    // its place): the bytes published are gone.
                    Some(Err(e)) => {
                        sink.report(
                            Diagnostic::new(path, format!("`{}` cannot be read: {e}", entry.path))
                                .at(Span::value(&m.root, &["files", &i.to_string(), "path"]))
                                .help(
                                    "restore the original file; publish new bytes as a new version",
                                ),
                        );
                        continue;
                    }
                    None => continue,
                };
                let Some(recorded) = entry.sha256.get() else {
                    continue;
                };
                if now.size != entry.size || &now.sha256 != recorded {
                    sink.report(
                        Diagnostic::new(
                            path,
                            format!(
                                "`{}` changed since it was published: manifest says {} bytes, sha256 {recorded}; the file has {} bytes, sha256 {}",
                                entry.path, entry.size, now.size, now.sha256
                            ),
                        )
                        .at(Span::value(&m.root, &["files", &i.to_string(), "sha256"]))
                        .help("restore the original file; publish new bytes as a new version"),
                    );
                }
            }
        }
    }
}
