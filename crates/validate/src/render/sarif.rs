//! `--format sarif`: SARIF 2.1.0 (our own small serde structs: the format is frozen).

use berth_model::Severity;
use serde::Serialize;

use super::RenderError;
use crate::engine::Report;
use crate::registry::Registry;

const SCHEMA: &str = "https://json.schemastore.org/sarif-2.1.0.json";

#[derive(Serialize)]
struct Log<'a> {
    #[serde(rename = "$schema")]
    schema: &'static str,
    version: &'static str,
    runs: Vec<Run<'a>>,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct Run<'a> {
    tool: Tool<'a>,
    results: Vec<ResultObj<'a>>,
}

#[derive(Serialize)]
struct Tool<'a> {
    driver: Driver<'a>,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct Driver<'a> {
    name: &'static str,
    version: &'static str,
    information_uri: &'static str,
    rules: Vec<RuleDesc<'a>>,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct RuleDesc<'a> {
    id: &'a str,
    short_description: Text,
    full_description: Text,
    help: Text,
    default_configuration: Config,
}

#[derive(Serialize)]
struct Config {
    level: &'static str,
}

#[derive(Serialize)]
struct Text {
    text: String,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct ResultObj<'a> {
    rule_id: &'a str,
    rule_index: usize,
    level: &'static str,
    message: Text,
    locations: Vec<Location<'a>>,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct Location<'a> {
    physical_location: Physical<'a>,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct Physical<'a> {
    artifact_location: ArtifactLocation<'a>,
    #[serde(skip_serializing_if = "Option::is_none")]
    region: Option<Region>,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct ArtifactLocation<'a> {
    uri: &'a str,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct Region {
    start_line: u32,
    start_column: u32,
    end_column: u32,
}

fn level(s: Severity) -> &'static str {
    match s {
        Severity::Error => "error",
        Severity::Warn => "warning",
        Severity::Info => "note",
        Severity::Off => "none",
    }
}

/// The SARIF 2.1.0 log: one run, the rules that ran as `tool.driver.rules` (with their
/// documentation as help), one result per finding with its region. URIs are relative to the repository root, so
/// the log is the same wherever the repository is checked out.
pub fn sarif(report: &Report, registry: &Registry) -> Result<String, RenderError> {
    let rules: Vec<RuleDesc<'_>> = report
        .rules
        .iter()
        .map(|r| {
            let doc = registry
                .get(r.id)
                .map(|rule| rule.info().doc_text())
                .unwrap_or_default();
            RuleDesc {
                id: r.id,
                short_description: Text {
                    text: r.summary.clone(),
                },
                full_description: Text { text: doc.clone() },
                help: Text { text: doc },
                default_configuration: Config {
                    level: level(r.severity),
                },
            }
        })
        .collect();
    let results = report
        .diagnostics
        .iter()
        .map(|d| {
            let mut text = d.message.clone();
            if let Some(h) = &d.help {
                text.push_str("\nhelp: ");
                text.push_str(h);
            }
            ResultObj {
                rule_id: d.rule,
                rule_index: report
                    .rules
                    .iter()
                    .position(|r| r.id == d.rule)
                    .unwrap_or(0),
                level: level(d.severity),
                message: Text { text },
                locations: vec![Location {
                    physical_location: Physical {
                        artifact_location: ArtifactLocation {
                            uri: d.file.as_str(),
                        },
                        region: d.span.map(|s| Region {
                            start_line: s.line,
                            start_column: s.col,
                            end_column: s.col + s.width,
                        }),
                    },
                }],
            }
        })
        .collect();
    let log = Log {
        schema: SCHEMA,
        version: "2.1.0",
        runs: vec![Run {
            tool: Tool {
                driver: Driver {
                    name: "berth",
                    version: env!("CARGO_PKG_VERSION"),
                    information_uri: "https://example.invalid/berth",
                    rules,
                },
            },
            results,
        }],
    };
    serde_json::to_string_pretty(&log)
        .map(|s| s + "\n")
        .map_err(|e| RenderError(e.to_string()))
}
