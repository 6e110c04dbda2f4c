use berth_model::Format;

use crate::declare_rule;
use crate::diagnostic::{Diagnostic, Span};
use crate::rule::{Rule, RuleInfo, Sink, VersionCx};

declare_rule! {
    /// ## What it checks
    /// Every docker image carries the labels `berth.toml` `[policy] required_labels`
    /// asks for (for example `org.opencontainers.image.revision`).
    ///
    /// ## Why it matters
    /// Labels are how scanners, dashboards and incident responders trace an image back to
    /// its source revision; an image without them cannot be audited.
    ///
    /// ## Example
    /// ```yaml
    /// labels:
    ///   org.label-schema.schema-version: "1.0"
    ///   # org.opencontainers.image.revision is missing
    /// ```
    ///
    /// ## How to fix
    /// Set the label when building the image (`docker build --label
    /// org.opencontainers.image.revision=$CI_COMMIT_SHA`) and add the new build.
    pub struct ManifestMissingLabel => berth_model::Code::ManifestMissingLabel, Error;
}

impl Rule for ManifestMissingLabel {
    fn info(&self) -> &'static RuleInfo {
        &Self::INFO
    }

    fn check_version(&self, v: &VersionCx<'_>, sink: &mut Sink<'_>) {
        let required = &v.config().policy.required_labels;
        if required.is_empty() {
            return;
        }
        for f in &v.entry.formats {
            if f.format.as_str() != Format::DOCKER {
                continue;
            }
            let Some((path, m)) = f.manifest() else {
                continue;
            };
            for label in required {
                if !m.value.labels.contains_key(label) {
                    let at = if m.root.get("labels").is_some() {
                        Span::key(&m.root, &["labels"])
                    } else {
                        Span::key(&m.root, &["format"])
                    };
                    sink.report(
                        Diagnostic::new(path, format!("the image has no label `{label}`"))
                            .at(at)
                            .help(format!(
                                "build the image with `--label {label}=…` and add the new build; berth.toml [policy] required_labels asks for it"
                            )),
                    );
                }
            }
        }
    }
}
