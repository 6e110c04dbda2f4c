use berth_model::layout::{MANIFEST_FILE, METADATA_FILE};

use crate::declare_rule;
use crate::diagnostic::Diagnostic;
use crate::rule::{FileCx, FileOutcome, Rule, RuleInfo, Sink, VersionCx};
use crate::rules::{LoadFailure, from_load_error, load_failure};

declare_rule! {
    /// ## What it checks
    /// Every required field is present, and every version has its `metadata.yaml` and
    /// every format directory its `manifest.yaml`.
    ///
    /// ## Why it matters
    /// `metadata.yaml` must say `architecture`, `domains`, `environments`, `group`,
    /// `service_name` and `team`; without them berth cannot check compatibility, route
    /// alerts or decide where a version may run. A format without a manifest has no
    /// recorded digest, so nothing can verify it.
    ///
    /// ## Example
    /// ```yaml
    /// architecture: amd64
    /// domains: ["cloud"]
    /// environments: ["staging", "prod"]
    /// group: dmp
    /// service_name: ms-ingestion
    /// # team is missing
    /// ```
    ///
    /// ## How to fix
    /// Add the field named in the message. A missing `manifest.yaml` is written by
    /// `berth add`: re-add the artifact rather than writing it by hand.
    pub struct SchemaMissingField => berth_model::Code::SchemaMissingField, Error;
}

impl Rule for SchemaMissingField {
    fn info(&self) -> &'static RuleInfo {
        &Self::INFO
    }

    fn check_file(&self, f: &FileCx<'_>, sink: &mut Sink<'_>) {
        if let FileOutcome::Failed(e) = f.outcome
            && load_failure(e) == LoadFailure::MissingField
        {
            sink.report(from_load_error(f.path, e));
        }
    }

    fn check_version(&self, v: &VersionCx<'_>, sink: &mut Sink<'_>) {
        if v.entry.metadata.is_none() {
            sink.report(
                Diagnostic::new(&v.entry.dir, format!("version has no {METADATA_FILE}"))
                    .help(format!(
                        "write {}/{METADATA_FILE} (architecture, domains, environments, group, service_name, team)",
                        v.entry.dir
                    )),
            );
        }
        for f in &v.entry.formats {
            if f.manifest.is_none() {
                sink.report(
                    Diagnostic::new(&f.dir, format!("format directory has no {MANIFEST_FILE}"))
                        .help("manifests are generated: ingest the artifact with `berth add` instead of copying it in"),
                );
            }
        }
    }
}
