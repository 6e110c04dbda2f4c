use crate::declare_rule;
use crate::diagnostic::{Diagnostic, Span};
use crate::rule::{Rule, RuleInfo, Sink, VersionCx};

declare_rule! {
    /// ## What it checks
    /// With `--verify-artifacts`: a docker manifest's `built_at` is the image's own
    /// `created` timestamp.
    ///
    /// ## Why it matters
    /// Promotion refuses builds older than the policy allows; a `built_at` that does not
    /// come from the artifact would let a stale build through (or block a fresh one).
    ///
    /// ## Example
    /// ```yaml
    /// built_at: "2026-01-01T00:00:00Z"   # the image says 2025-05-10T22:15:00Z
    /// ```
    ///
    /// ## How to fix
    /// Manifests are generated, never typed: re-add the artifact with `berth add`.
    pub struct ManifestBuiltAtMismatch => berth_model::Code::ManifestBuiltAtMismatch, Error;
}

impl Rule for ManifestBuiltAtMismatch {
    fn info(&self) -> &'static RuleInfo {
        &Self::INFO
    }

    fn check_version(&self, v: &VersionCx<'_>, sink: &mut Sink<'_>) {
        for f in &v.entry.formats {
            let (Some((path, m)), Some(facts)) = (f.manifest(), &f.facts) else {
                continue;
            };
            let Some(Ok(img)) = &facts.image else {
                continue;
            };
            let Some(created) = &img.created else {
                continue;
            };
            let recorded = m.value.built_at.as_ref().and_then(|b| b.get());
            let message = match recorded {
                Some(b) if b == created => continue,
                Some(b) => format!("built_at {b} is not the image's creation time {created}"),
                None if m.value.built_at.is_some() => continue,
                None => format!("the manifest has no built_at; the image was created {created}"),
            };
            let at = if recorded.is_some() {
                Span::value(&m.root, &["built_at"])
            } else {
                Span::key(&m.root, &["format"])
            };
            sink.report(
                Diagnostic::new(path, message)
                    .at(at)
                    .help("manifests are generated: re-add the artifact with `berth add`"),
            );
        }
    }
}
