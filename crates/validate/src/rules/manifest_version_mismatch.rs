use crate::declare_rule;
use crate::diagnostic::{Diagnostic, Span};
use crate::rule::{Rule, RuleInfo, Sink, VersionCx};

declare_rule! {
    /// ## What it checks
    /// A manifest's `version` is the name of its version directory.
    ///
    /// ## Why it matters
    /// A manifest copied from another version describes other bytes: its digest and
    /// build time belong to that version, and verification would pass for the wrong
    /// artifact.
    ///
    /// ## Example
    /// ```yaml
    /// # components/cloud/dmp/ms-ingestion/versions/1.0.3/docker/manifest.yaml
    /// version: 1.0.2
    /// ```
    ///
    /// ## How to fix
    /// Manifests are generated: re-add the artifact with `berth add`.
    pub struct ManifestVersionMismatch => berth_model::Code::ManifestVersionMismatch, Error;
}

impl Rule for ManifestVersionMismatch {
    fn info(&self) -> &'static RuleInfo {
        &Self::INFO
    }

    fn check_version(&self, v: &VersionCx<'_>, sink: &mut Sink<'_>) {
        for f in &v.entry.formats {
            let Some((path, m)) = f.manifest() else {
                continue;
            };
            if let Some(version) = m.value.version.get()
                && version != v.version()
            {
                sink.report(
                    Diagnostic::new(
                        path,
                        format!(
                            "manifest says version `{version}` but sits in version `{}`",
                            v.version()
                        ),
                    )
                    .at(Span::value(&m.root, &["version"]))
                    .help("manifests are generated: re-add the artifact with `berth add`"),
                );
            }
        }
    }
}
