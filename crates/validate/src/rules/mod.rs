//! The built-in rules, one per file: the struct, its stable id, its documentation (the
//! doc comment `berth explain` prints) and its check. Adding a rule touches its file and
//! one line of [`all`].

use std::sync::Arc;

use berth_model::checks::Problem;
use berth_model::yaml::{Node, YamlError, YamlErrorKind};
use camino::Utf8Path;

use crate::diagnostic::{Diagnostic, Span};
use crate::rule::Rule;

mod audit_chain;
mod deps_ambiguous;
mod deps_cycle;
mod deps_unresolved;
mod domain_not_allowed;
mod domain_not_promoted;
mod domain_stage_skipped;
mod domain_unknown_version;
mod index_stale;
mod index_unknown_component;
mod index_unknown_version;
mod layout_bad_component_path;
mod layout_bad_version;
mod layout_symlink_escape;
mod layout_unexpected_file;
mod layout_unknown_format;
mod manifest_arch_mismatch;
mod manifest_base_image_not_allowed;
mod manifest_built_at_mismatch;
mod manifest_digest_mismatch;
mod manifest_field_mismatch;
mod manifest_file_changed;
mod manifest_file_missing;
mod manifest_format_mismatch;
mod manifest_future_build;
mod manifest_missing_label;
mod manifest_version_mismatch;
mod metadata_arch_not_allowed;
mod metadata_name_mismatch;
mod metadata_unknown_domain;
mod metadata_unknown_environment;
mod ownership_missing;
mod ownership_team_not_owner;
mod schema_invalid_value;
mod schema_missing_field;
mod schema_parse;
mod schema_unknown_field;

pub use audit_chain::AuditChain;
pub use deps_ambiguous::DepsAmbiguous;
pub use deps_cycle::DepsCycle;
pub use deps_unresolved::DepsUnresolved;
pub use domain_not_allowed::DomainNotAllowed;
pub use domain_not_promoted::DomainNotPromoted;
pub use domain_stage_skipped::DomainStageSkipped;
pub use domain_unknown_version::DomainUnknownVersion;
pub use index_stale::IndexStale;
pub use index_unknown_component::IndexUnknownComponent;
pub use index_unknown_version::IndexUnknownVersion;
pub use layout_bad_component_path::LayoutBadComponentPath;
pub use layout_bad_version::LayoutBadVersion;
pub use layout_symlink_escape::LayoutSymlinkEscape;
pub use layout_unexpected_file::LayoutUnexpectedFile;
pub use layout_unknown_format::LayoutUnknownFormat;
pub use manifest_arch_mismatch::ManifestArchMismatch;
pub use manifest_base_image_not_allowed::ManifestBaseImageNotAllowed;
pub use manifest_built_at_mismatch::ManifestBuiltAtMismatch;
pub use manifest_digest_mismatch::ManifestDigestMismatch;
pub use manifest_field_mismatch::ManifestFieldMismatch;
pub use manifest_file_changed::ManifestFileChanged;
pub use manifest_file_missing::ManifestFileMissing;
pub use manifest_format_mismatch::ManifestFormatMismatch;
pub use manifest_future_build::ManifestFutureBuild;
pub use manifest_missing_label::ManifestMissingLabel;
pub use manifest_version_mismatch::ManifestVersionMismatch;
pub use metadata_arch_not_allowed::MetadataArchNotAllowed;
pub use metadata_name_mismatch::MetadataNameMismatch;
pub use metadata_unknown_domain::MetadataUnknownDomain;
pub use metadata_unknown_environment::MetadataUnknownEnvironment;
pub use ownership_missing::OwnershipMissing;
pub use ownership_team_not_owner::OwnershipTeamNotOwner;
pub use schema_invalid_value::SchemaInvalidValue;
pub use schema_missing_field::SchemaMissingField;
pub use schema_parse::SchemaParse;
pub use schema_unknown_field::SchemaUnknownField;

/// The dependency rules: the only repository-scope rules that judge a version (their
/// findings count in its verdict).
pub const DEPS_RULES: [&str; 3] = [
    berth_model::Code::DepsUnresolved.id(),
    berth_model::Code::DepsAmbiguous.id(),
    berth_model::Code::DepsCycle.id(),
];

/// Every built-in rule.
pub fn all() -> Vec<Arc<dyn Rule>> {
    vec![
        Arc::new(SchemaParse),
        Arc::new(SchemaMissingField),
        Arc::new(SchemaUnknownField),
        Arc::new(SchemaInvalidValue),
        Arc::new(LayoutBadComponentPath),
        Arc::new(LayoutBadVersion),
        Arc::new(LayoutUnknownFormat),
        Arc::new(LayoutUnexpectedFile),
        Arc::new(LayoutSymlinkEscape),
        Arc::new(MetadataNameMismatch),
        Arc::new(MetadataUnknownDomain),
        Arc::new(MetadataUnknownEnvironment),
        Arc::new(MetadataArchNotAllowed),
        Arc::new(ManifestFormatMismatch),
        Arc::new(ManifestVersionMismatch),
        Arc::new(ManifestDigestMismatch),
        Arc::new(ManifestFileMissing),
        Arc::new(ManifestFileChanged),
        Arc::new(ManifestArchMismatch),
        Arc::new(ManifestFutureBuild),
        Arc::new(ManifestBuiltAtMismatch),
        Arc::new(ManifestFieldMismatch),
        Arc::new(ManifestMissingLabel),
        Arc::new(ManifestBaseImageNotAllowed),
        Arc::new(OwnershipMissing),
        Arc::new(OwnershipTeamNotOwner),
        Arc::new(DepsUnresolved),
        Arc::new(DepsAmbiguous),
        Arc::new(DepsCycle),
        Arc::new(IndexStale),
        Arc::new(IndexUnknownComponent),
        Arc::new(IndexUnknownVersion),
        Arc::new(DomainUnknownVersion),
        Arc::new(DomainNotPromoted),
        Arc::new(DomainStageSkipped),
        Arc::new(DomainNotAllowed),
        Arc::new(AuditChain),
    ]
}

/// A dependency problem as a finding at its entry of `dependencies` in the version's
/// metadata.yaml; `None` when the version or its metadata is not in the view.
pub(crate) fn dep_finding(
    view: &crate::view::RepoView<'_>,
    p: &berth_index::DepProblem,
) -> Option<Diagnostic> {
    let m = view.version(p.component(), p.version())?.metadata()?;
    let d = Diagnostic::new(&m.path, p.to_string());
    Some(match m.deps.iter().find(|d| d.index == p.index()) {
        Some(dep) => d.at(dep.span),
        None => d,
    })
}

/// A problem found by one of berth-model's shared checks, as a finding in `file`.
pub(crate) fn from_problem(file: &Utf8Path, root: &Node, p: &Problem) -> Diagnostic {
    let path: Vec<&str> = p.field.iter().map(String::as_str).collect();
    Diagnostic::new(file, &p.message)
        .at(Span::value(root, &path))
        .help(&p.help)
}

/// Which `schema/*` rule a load error belongs to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum LoadFailure {
    Parse,
    MissingField,
    UnknownField,
    InvalidValue,
}

pub(crate) fn load_failure(e: &YamlError) -> LoadFailure {
    match e.kind {
        YamlErrorKind::MissingField => LoadFailure::MissingField,
        YamlErrorKind::UnknownField => LoadFailure::UnknownField,
        YamlErrorKind::Io
        | YamlErrorKind::Encoding
        | YamlErrorKind::Syntax
        | YamlErrorKind::DuplicateKey
        | YamlErrorKind::Limit => LoadFailure::Parse,
        _ => LoadFailure::InvalidValue,
    }
}

/// A finding at the position of a load error.
pub(crate) fn from_load_error(file: &Utf8Path, e: &YamlError) -> Diagnostic {
    Diagnostic::new(file, &e.message).at_pos(e.pos, 1)
}
