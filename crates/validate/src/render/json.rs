//! `--format json`.

use berth_model::Severity;
use serde::Serialize;

use super::RenderError;
use crate::diagnostic::Diagnostic;
use crate::engine::{Report, Stats};

#[derive(Serialize)]
struct Summary {
    errors: usize,
    warnings: usize,
    infos: usize,
}

#[derive(Serialize)]
struct Out<'a> {
    summary: Summary,
    stats: &'a Stats,
    diagnostics: &'a [Diagnostic],
}

/// `{"summary": {errors, warnings, infos}, "stats": {…}, "diagnostics": [{rule, severity,
/// file, span: {line, col, width} | null, message, help}]}`.
pub fn json(report: &Report) -> Result<String, RenderError> {
    let out = Out {
        summary: Summary {
            errors: report.count(Severity::Error),
            warnings: report.count(Severity::Warn),
            infos: report.count(Severity::Info),
        },
        stats: &report.stats,
        diagnostics: &report.diagnostics,
    };
    serde_json::to_string_pretty(&out)
        .map(|s| s + "\n")
        .map_err(|e| RenderError(e.to_string()))
}
