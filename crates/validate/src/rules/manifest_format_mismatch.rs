use crate::declare_rule;
use crate::diagnostic::{Diagnostic, Span};
use crate::rule::{Rule, RuleInfo, Sink, VersionCx};

declare_rule! {
    /// ## What it checks
    /// A manifest's `format` is the name of the directory it sits in.
    ///
    /// ## Why it matters
    /// Deploy jobs pick artifacts by format; a `deb` manifest inside `docker/` means the
    /// files were moved or copied by hand and the manifest describes something else.
    ///
    /// ## Example
    /// ```yaml
    /// # components/cloud/dmp/ms-ingestion/versions/1.0.2/docker/manifest.yaml
    /// format: deb
    /// ```
    ///
    /// ## How to fix
    /// Manifests are generated: re-add the artifact with `berth add`.
    pub struct ManifestFormatMismatch => berth_model::Code::ManifestFormatMismatch, Error;
}

impl Rule for ManifestFormatMismatch {
    fn info(&self) -> &'static RuleInfo {
        &Self::INFO
    }

    fn check_version(&self, v: &VersionCx<'_>, sink: &mut Sink<'_>) {
        for f in &v.entry.formats {
            let Some((path, m)) = f.manifest() else {
                continue;
            };
            if let Some(format) = m.value.format.get()
                && format != &f.format
            {
                sink.report(
                    Diagnostic::new(
                        path,
                        format!(
                            "manifest says format `{format}` but sits in `{}/`",
                            f.format
                        ),
                    )
                    .at(Span::value(&m.root, &["format"]))
                    .help("manifests are generated: re-add the artifact with `berth add`"),
                );
            }
        }
    }
}
