//! `--format gitlab`: a GitLab Code Quality report (the `codequality` artifact of a job):
//! an array of `{description, check_name, fingerprint, severity, location: {path, lines:
//! {begin}}}`.

use berth_model::Severity;
use serde::Serialize;
use sha2::{Digest as _, Sha256};

use super::RenderError;
use crate::engine::Report;

#[derive(Serialize)]
struct Issue<'a> {
    description: String,
    check_name: &'a str,
    fingerprint: String,
    severity: &'static str,
    location: Location<'a>,
}

#[derive(Serialize)]
struct Location<'a> {
    path: &'a str,
    lines: Lines,
}

#[derive(Serialize)]
struct Lines {
    begin: u32,
}

fn severity(s: Severity) -> &'static str {
    match s {
        Severity::Error => "major",
        Severity::Warn => "minor",
        Severity::Info | Severity::Off => "info",
    }
}

/// The Code Quality report. The fingerprint is the SHA-256 of rule, path, line, column and
/// message, so it is unique per finding and stable across runs.
pub fn gitlab(report: &Report) -> Result<String, RenderError> {
    let issues: Vec<Issue<'_>> = report
        .diagnostics
        .iter()
        .map(|d| {
            let (line, col) = d.span.map_or((1, 1), |s| (s.line, s.col));
            let mut h = Sha256::new();
            for part in [
                d.rule,
                d.file.as_str(),
                &line.to_string(),
                &col.to_string(),
                &d.message,
            ] {
                h.update(part.as_bytes());
                h.update([0]);
            }
            Issue {
                description: format!("{}: {}", d.rule, d.message),
                check_name: d.rule,
                fingerprint: hex::encode(h.finalize()),
                severity: severity(d.severity),
                location: Location {
                    path: d.file.as_str(),
                    lines: Lines { begin: line },
                },
            }
        })
        .collect();
    serde_json::to_string_pretty(&issues)
        .map(|s| s + "\n")
        .map_err(|e| RenderError(e.to_string()))
}
