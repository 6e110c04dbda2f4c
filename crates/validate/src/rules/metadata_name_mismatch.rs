use crate::declare_rule;
use crate::rule::{Rule, RuleInfo, Sink, VersionCx};
use crate::rules::from_problem;

declare_rule! {
    /// ## What it checks
    /// `metadata.yaml` `group` is the path segment above the service and `service_name`
    /// the last segment of the component path: `components/cloud/dmp/ms-ingestion` needs
    /// `group: dmp` and `service_name: ms-ingestion`.
    ///
    /// ## Why it matters
    /// Dashboards, notifications and queries use these fields; a metadata file copied from
    /// another service and not edited would report under the wrong name.
    ///
    /// ## Example
    /// ```yaml
    /// # components/cloud/dmp/ms-ingestion/versions/1.0.2/metadata.yaml
    /// group: dmp
    /// service_name: ms-export
    /// ```
    ///
    /// ## How to fix
    /// Set the fields to the path's segments, or move the version to the right component.
    pub struct MetadataNameMismatch => berth_model::Code::MetadataNameMismatch, Error;
}

impl Rule for MetadataNameMismatch {
    fn info(&self) -> &'static RuleInfo {
        &Self::INFO
    }

    fn check_version(&self, v: &VersionCx<'_>, sink: &mut Sink<'_>) {
        let Some((file, m)) = v.metadata() else {
            return;
        };
        for p in berth_model::checks::name_mismatch(&m.value, v.component()) {
            sink.report(from_problem(file, &m.root, &p));
        }
    }
}
