use crate::declare_rule;
use crate::diagnostic::{Diagnostic, Span};
use crate::rule::{Rule, RuleInfo, Sink, VersionCx};

declare_rule! {
    /// ## What it checks
    /// Every file a manifest lists under `files` exists in its format directory. This
    /// needs no artifact read: the directory listing suffices.
    ///
    /// ## Why it matters
    /// A deploy job that fetches a listed file would fail, or worse fetch nothing and
    /// deploy nothing.
    ///
    /// ## Example
    /// ```yaml
    /// files:
    ///   - path: image.tar      # but docker/image.tar is gone
    ///     size: 7680
    ///     sha256: 264f…
    /// ```
    ///
    /// ## How to fix
    /// Restore the file from the artifact store or CI, or re-add the version's artifacts
    /// with `berth add`.
    pub struct ManifestFileMissing => berth_model::Code::ManifestFileMissing, Error;
}

impl Rule for ManifestFileMissing {
    fn info(&self) -> &'static RuleInfo {
        &Self::INFO
    }

    fn check_version(&self, v: &VersionCx<'_>, sink: &mut Sink<'_>) {
        for f in &v.entry.formats {
            let Some((path, m)) = f.manifest() else {
                continue;
            };
            for (i, entry) in m.value.files.iter().enumerate() {
                if f.files.binary_search(&entry.path).is_err() {
                    sink.report(
                        Diagnostic::new(
                            path,
                            format!("`{}` is listed but not in {}/", entry.path, f.dir),
                        )
                        .at(Span::value(&m.root, &["files", &i.to_string(), "path"]))
                        .help(
                            "restore the file, or re-add the version's artifacts with `berth add`",
                        ),
                    );
                }
            }
        }
    }
}
