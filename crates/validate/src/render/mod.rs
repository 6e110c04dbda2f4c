//! Renderers: separate functions over a [`Report`]. Each output is deterministic: the same
//! report gives the same bytes.

mod gitlab;
mod human;
mod json;
mod junit;
mod sarif;

pub use gitlab::gitlab;
pub use human::{human, human_list};
pub use json::json;
pub use junit::junit;
pub use sarif::sarif;

use crate::engine::Report;
use crate::registry::Registry;

/// The output formats of `berth validate`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    /// rustc-style text with the source line and the span marked.
    Human,
    /// JSON: `{summary, diagnostics}`.
    Json,
    /// GitLab Code Quality report.
    Gitlab,
    /// JUnit XML: one test suite per rule, a failing test case per finding.
    Junit,
    /// SARIF 2.1.0.
    Sarif,
}

/// A renderer could not serialize its output.
#[derive(Debug, thiserror::Error)]
#[error("rendering the report: {0}")]
pub struct RenderError(pub String);

/// Renders `report` in `format`. `styled` asks for colour (human only).
pub fn render(
    report: &Report,
    registry: &Registry,
    format: Format,
    styled: bool,
) -> Result<String, RenderError> {
    match format {
        Format::Human => Ok(human(report, styled)),
        Format::Json => json(report),
        Format::Gitlab => gitlab(report),
        Format::Junit => junit(report),
        Format::Sarif => sarif(report, registry),
    }
}
