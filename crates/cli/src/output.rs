//! Rendering helpers shared by the subcommands: machine formats, tables, and colour that
//! respects `NO_COLOR` and non-terminal output (through anstream).

use std::io::Write;

use serde::Serialize;

use crate::Failure;
use crate::cli::OutputFormat;

/// Writes `text` to stdout (colour codes stripped when not wanted).
pub fn out(text: &str) {
    let mut o = anstream::stdout();
    let _ = o.write_all(text.as_bytes());
    let _ = o.flush();
}

/// Writes `error: msg` to stderr, in red on a terminal that wants colour.
pub fn error(msg: &str) {
    let mut e = anstream::stderr();
    let _ = writeln!(e, "\x1b[1;31merror\x1b[0m: {msg}");
}

/// Writes `warning: msg` to stderr.
pub fn warning(msg: &str) {
    let mut e = anstream::stderr();
    let _ = writeln!(e, "\x1b[1;33mwarning\x1b[0m: {msg}");
}

/// `text` with every character that could forge terminal output (control characters,
/// line separators, bidirectional overrides) written as a visible escape (`\n`, `\u{202e}`):
/// for values that come from files a person may have edited.
pub fn printable(text: &str) -> String {
    if berth_model::ids::forging_char(text).is_none() {
        return text.to_owned();
    }
    text.chars()
        .map(|c| {
            if berth_model::ids::forging_char(c.encode_utf8(&mut [0; 4])).is_some() {
                c.escape_debug().to_string()
            } else {
                c.to_string()
            }
        })
        .collect()
}

/// Bold, for headings (stripped when colour is off).
pub fn bold(s: &str) -> String {
    format!("\x1b[1m{s}\x1b[0m")
}

/// Renders `value` as JSON or YAML for the machine formats; `None` for human formats.
pub fn machine<T: Serialize>(format: OutputFormat, value: &T) -> Result<Option<String>, Failure> {
    match format {
        OutputFormat::Json => serde_json::to_string_pretty(value)
            .map(|s| Some(s + "\n"))
            .map_err(|e| Failure::Error(format!("rendering JSON: {e}"))),
        OutputFormat::Yaml => berth_model::yaml::to_canonical(value)
            .map(Some)
            .map_err(|e| Failure::Error(format!("rendering YAML: {e}"))),
        _ => Ok(None),
    }
}

/// Fails with a usage error unless `format` is one of `allowed`.
pub fn allow(format: OutputFormat, allowed: &[OutputFormat], command: &str) -> Result<(), Failure> {
    if allowed.contains(&format) {
        Ok(())
    } else {
        let names: Vec<String> = allowed
            .iter()
            .map(|f| format!("{f:?}").to_lowercase())
            .collect();
        Err(Failure::usage(format!(
            "`berth {command}` offers --format {}",
            names.join(", ")
        )))
    }
}

/// Left-aligned columns separated by two spaces; the header row in bold.
pub fn table(header: &[&str], rows: &[Vec<String>]) -> String {
    let mut widths: Vec<usize> = header.iter().map(|h| h.chars().count()).collect();
    for r in rows {
        for (i, c) in r.iter().enumerate() {
            if i < widths.len() {
                widths[i] = widths[i].max(c.chars().count());
            }
        }
    }
    let line = |cells: Vec<String>| {
        let mut s = String::new();
        let n = cells.len();
        for (i, c) in cells.into_iter().enumerate() {
            s.push_str(&c);
            if i + 1 < n {
                for _ in c.chars().count()..widths[i] + 2 {
                    s.push(' ');
                }
            }
        }
        s.trim_end().to_owned() + "\n"
    };
    let mut out = bold(line(header.iter().map(|h| (*h).to_owned()).collect()).trim_end());
    out.push('\n');
    for r in rows {
        out.push_str(&line(r.clone()));
    }
    out
}
