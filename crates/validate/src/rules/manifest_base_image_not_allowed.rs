use berth_model::Format;

use crate::declare_rule;
use crate::diagnostic::{Diagnostic, Span};
use crate::rule::{Rule, RuleInfo, Sink, VersionCx};
use berth_model::policy::base_image_allowed;

declare_rule! {
    /// ## What it checks
    /// A manifest's `base_image` matches one of `berth.toml` `[policy]
    /// allowed_base_images` (globs with `*` and `?`; an empty list allows any). A docker
    /// manifest that records no base image fails when the list is not empty.
    ///
    /// ## Why it matters
    /// Base images carry most of an image's packages and vulnerabilities; the platform
    /// team patches and scans only the bases it approved.
    ///
    /// ## Example
    /// ```yaml
    /// base_image: ubuntu:18.04
    /// ```
    ///
    /// ## How to fix
    /// Rebuild on an approved base, or get the base added to `allowed_base_images`.
    pub struct ManifestBaseImageNotAllowed => berth_model::Code::ManifestBaseImageNotAllowed, Error;
}

impl Rule for ManifestBaseImageNotAllowed {
    fn info(&self) -> &'static RuleInfo {
        &Self::INFO
    }

    fn check_version(&self, v: &VersionCx<'_>, sink: &mut Sink<'_>) {
        let policy = &v.config().policy;
        if policy.allowed_base_images.is_empty() {
            return;
        }
        let allowed = policy.allowed_base_images.join(", ");
        for f in &v.entry.formats {
            let Some((path, m)) = f.manifest() else {
                continue;
            };
            match &m.value.base_image {
                Some(base) if !base_image_allowed(policy, base) => sink.report(
                    Diagnostic::new(path, format!("base image `{base}` is not allowed"))
                        .at(Span::value(&m.root, &["base_image"]))
                        .help(format!("rebuild on an allowed base: {allowed}")),
                ),
                None if f.format.as_str() == Format::DOCKER => sink.report(
                    Diagnostic::new(path, "the image records no base image")
                        .at(Span::key(&m.root, &["format"]))
                        .help(format!(
                            "label the image with org.opencontainers.image.base.name (or `berth add --base-image`); allowed: {allowed}"
                        )),
                ),
                _ => {}
            }
        }
    }
}
