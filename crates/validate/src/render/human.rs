//! rustc-style output through annotate-snippets: `error[rule/id]: message`, the file,
//! line and column, the source line with the span underlined, and the help.

use annotate_snippets::{AnnotationKind, Group, Level, Origin, Renderer, Snippet};
use berth_model::Severity;

use crate::diagnostic::Diagnostic;
use crate::engine::Report;
use crate::registry::RuleRow;

fn level(s: Severity) -> Level<'static> {
    match s {
        Severity::Error => Level::ERROR,
        Severity::Warn => Level::WARNING,
        Severity::Info | Severity::Off => Level::INFO,
    }
}

/// Byte range of a (line, col, width in characters) span in `src`, clamped to its line.
fn byte_range(src: &str, line: u32, col: u32, width: u32) -> Option<std::ops::Range<usize>> {
    let mut offset = 0;
    for (i, l) in src.split_inclusive('\n').enumerate() {
        if i + 1 == line as usize {
            let text = l.trim_end_matches(['\n', '\r']);
            let mut chars = text.char_indices().map(|(b, _)| b).chain([text.len()]);
            let start = chars
                .nth(col.saturating_sub(1) as usize)
                .unwrap_or(text.len());
            let end = text[start..]
                .char_indices()
                .map(|(b, _)| start + b)
                .chain([text.len()])
                .nth(width.max(1) as usize)
                .unwrap_or(text.len());
            let end = if end == start {
                (start + 1).min(l.len())
            } else {
                end
            };
            return Some(offset + start..offset + end);
        }
        offset += l.len();
    }
    None
}

/// The report as text for people. With `styled`, ANSI colour (the caller decides whether
/// the terminal wants it); without, plain and deterministic.
pub fn human(report: &Report, styled: bool) -> String {
    let renderer = if styled {
        Renderer::styled()
    } else {
        Renderer::plain()
    };
    let mut out = String::new();
    for d in &report.diagnostics {
        let src = report.sources.get(&d.file).map(String::as_str);
        out.push_str(&renderer.render(&[group(d, src)]));
        out.push_str("\n\n");
    }
    out.push_str(&summary(report));
    out
}

fn group<'a>(d: &'a Diagnostic, src: Option<&'a str>) -> Group<'a> {
    let title = level(d.severity)
        .primary_title(d.message.as_str())
        .id(d.rule);
    let path = d.file.as_str();
    let located = match (d.span, src) {
        (Some(span), Some(src)) => byte_range(src, span.line, span.col, span.width).map(|r| {
            Snippet::source(src)
                .path(path)
                .annotation(AnnotationKind::Primary.span(r))
        }),
        _ => None,
    };
    let g = match (located, d.span) {
        (Some(snippet), _) => title.element(snippet),
        (None, Some(span)) => title.element(
            Origin::path(path)
                .line(span.line as usize)
                .char_column(span.col as usize),
        ),
        (None, None) => title.element(Origin::path(path)),
    };
    match &d.help {
        Some(h) => g.element(Level::HELP.message(h.as_str())),
        None => g,
    }
}

fn plural(n: usize, word: &str) -> String {
    if n == 1 {
        format!("1 {word}")
    } else {
        format!("{n} {word}s")
    }
}

fn summary(report: &Report) -> String {
    let (e, w, i) = (
        report.count(Severity::Error),
        report.count(Severity::Warn),
        report.count(Severity::Info),
    );
    let checked = format!(
        "{} in {}",
        plural(report.stats.files, "file"),
        plural(report.stats.versions, "version")
    );
    if e + w + i == 0 {
        format!("validate: no findings ({checked} checked)\n")
    } else {
        format!(
            "validate: {}, {}, {} ({checked} checked)\n",
            plural(e, "error"),
            plural(w, "warning"),
            plural(i, "info")
        )
    }
}

/// `--list-rules`: id, default severity, effective severity, summary.
pub fn human_list(rows: &[RuleRow]) -> String {
    let w = rows.iter().map(|r| r.id.len()).max().unwrap_or(4).max(4);
    let mut out = format!(
        "{:w$}  {:7}  {:9}  SUMMARY\n",
        "RULE", "DEFAULT", "EFFECTIVE"
    );
    for r in rows {
        out.push_str(&format!(
            "{:w$}  {:7}  {:9}  {}\n",
            r.id,
            r.default_severity.as_str(),
            r.severity.as_str(),
            r.summary
        ));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ranges() {
        let src = "a: 1\nbé: xyz\n";
        assert_eq!(byte_range(src, 2, 1, 2), Some(5..8));
        assert_eq!(byte_range(src, 2, 5, 3), Some(10..13));
        assert_eq!(byte_range(src, 2, 5, 30), Some(10..13));
        assert_eq!(byte_range(src, 9, 1, 1), None);
    }
}
