//! Findings as data: what a rule says, where, and how to fix it. Rendering is elsewhere
//! ([`crate::render`]); a rule never prints.

use std::cmp::Ordering;

use berth_model::Severity;
use berth_model::yaml::{Node, Pos};
use camino::{Utf8Path, Utf8PathBuf};
use serde::{Deserialize, Serialize};

/// Where in a file a finding points: 1-based line and column, and the width to underline.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub struct Span {
    /// Line, from 1.
    pub line: u32,
    /// Column, from 1 (in characters).
    pub col: u32,
    /// How many characters to underline (at least 1).
    pub width: u32,
}

impl Span {
    /// A span at `pos`, `width` characters wide.
    pub fn new(pos: Pos, width: u32) -> Self {
        Span {
            line: pos.line.max(1),
            col: pos.col.max(1),
            width: width.max(1),
        }
    }

    /// The span of the key at `path` in a loaded file (the nearest ancestor that exists),
    /// as [`Node::locate`] finds it.
    pub fn key(root: &Node, path: &[&str]) -> Self {
        let (pos, width) = root.locate(path);
        Span::new(pos, width)
    }

    /// The span of the value at `path` (not its key).
    pub fn value(root: &Node, path: &[&str]) -> Self {
        let (pos, width) = root.locate_value(path);
        Span::new(pos, width)
    }
}

/// One finding of one rule.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Diagnostic {
    /// The rule's stable id (`manifest/digest-mismatch`).
    pub rule: &'static str,
    /// How serious it is, after `berth.toml`'s `[rules]` overrides.
    pub severity: Severity,
    /// The file (or directory) it is about, relative to the repository root.
    pub file: Utf8PathBuf,
    /// Where in the file, when it points into one.
    pub span: Option<Span>,
    /// What is wrong.
    pub message: String,
    /// How to fix it.
    pub help: Option<String>,
}

impl Diagnostic {
    /// A finding about `file`. The rule id and severity are filled in by the [`crate::Sink`]
    /// the rule reports to.
    pub fn new(file: impl AsRef<Utf8Path>, message: impl Into<String>) -> Self {
        Diagnostic {
            rule: "",
            severity: Severity::Error,
            file: file.as_ref().to_owned(),
            span: None,
            message: message.into(),
            help: None,
        }
    }

    /// Points the finding at `span`.
    pub fn at(mut self, span: impl Into<Option<Span>>) -> Self {
        self.span = span.into();
        self
    }

    /// Points the finding at a position (1-based), `width` characters wide.
    pub fn at_pos(self, pos: Option<Pos>, width: u32) -> Self {
        self.at(pos.map(|p| Span::new(p, width)))
    }

    /// Adds how to fix it.
    pub fn help(mut self, help: impl Into<String>) -> Self {
        let h = help.into();
        self.help = (!h.is_empty()).then_some(h);
        self
    }

    /// `file:line:col` (or just `file`).
    pub fn location(&self) -> String {
        match self.span {
            Some(s) => format!("{}:{}:{}", self.file, s.line, s.col),
            None => self.file.to_string(),
        }
    }

    /// The deterministic order of a report: file, position, rule, message.
    pub fn order(a: &Diagnostic, b: &Diagnostic) -> Ordering {
        a.file
            .as_str()
            .cmp(b.file.as_str())
            .then_with(|| a.span.cmp(&b.span))
            .then_with(|| a.rule.cmp(b.rule))
            .then_with(|| a.message.cmp(&b.message))
            .then_with(|| a.help.cmp(&b.help))
    }
}
