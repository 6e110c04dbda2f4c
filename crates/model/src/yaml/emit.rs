//! The canonical writer: block YAML in the struct's key order that YAML 1.1 (PyYAML) and
//! 1.2 read back unchanged.

use serde::Serialize;

// ---------------------------------------------------------------------------------------
// Canonical writer

/// Serializes `value` as canonical YAML (see the module docs).
pub fn to_canonical<T: Serialize + ?Sized>(value: &T) -> Result<String, serde_json::Error> {
    let v = serde_json::to_value(value)?;
    let mut out = String::new();
    match &v {
        serde_json::Value::Object(m) if !m.is_empty() => write_map(&mut out, m, 0),
        other => {
            write_inline(&mut out, other);
            out.push('\n');
        }
    }
    Ok(out)
}

fn indent(out: &mut String, n: usize) {
    for _ in 0..n {
        out.push(' ');
    }
}

fn is_scalar(v: &serde_json::Value) -> bool {
    !matches!(
        v,
        serde_json::Value::Array(_) | serde_json::Value::Object(_)
    )
}

fn write_map(out: &mut String, m: &serde_json::Map<String, serde_json::Value>, ind: usize) {
    for (k, v) in m {
        indent(out, ind);
        write_str(out, k);
        out.push(':');
        match v {
            serde_json::Value::Object(inner) if !inner.is_empty() => {
                out.push('\n');
                write_map(out, inner, ind + 2);
            }
            serde_json::Value::Array(items)
                if !items.is_empty() && !items.iter().all(is_scalar) =>
            {
                out.push('\n');
                write_block_seq(out, items, ind + 2);
            }
            other => {
                out.push(' ');
                write_inline(out, other);
                out.push('\n');
            }
        }
    }
}

fn write_block_seq(out: &mut String, items: &[serde_json::Value], ind: usize) {
    for item in items {
        indent(out, ind);
        out.push_str("- ");
        match item {
            serde_json::Value::Object(inner) if !inner.is_empty() => {
                // First key on the dash line, the rest aligned under it.
                let mut first = String::new();
                write_map(&mut first, inner, ind + 2);
                out.push_str(first.trim_start_matches(' '));
            }
            serde_json::Value::Array(inner)
                if !inner.is_empty() && !inner.iter().all(is_scalar) =>
            {
                out.push('\n');
                write_block_seq(out, inner, ind + 2);
            }
            other => {
                write_inline(out, other);
                out.push('\n');
            }
        }
    }
}

/// Scalars, empty collections and lists of scalars (flow style, strings double-quoted).
fn write_inline(out: &mut String, v: &serde_json::Value) {
    match v {
        serde_json::Value::Null => out.push_str("null"),
        serde_json::Value::Bool(b) => out.push_str(if *b { "true" } else { "false" }),
        serde_json::Value::Number(n) => out.push_str(&n.to_string()),
        serde_json::Value::String(s) => write_str(out, s),
        serde_json::Value::Array(items) => {
            out.push('[');
            for (i, item) in items.iter().enumerate() {
                if i > 0 {
                    out.push_str(", ");
                }
                match item {
                    serde_json::Value::String(s) => write_quoted(out, s),
                    other => write_inline(out, other),
                }
            }
            out.push(']');
        }
        serde_json::Value::Object(m) => {
            // Only reached for empty mappings or mappings inside flow lists.
            out.push('{');
            for (i, (k, v)) in m.iter().enumerate() {
                if i > 0 {
                    out.push_str(", ");
                }
                write_quoted(out, k);
                out.push_str(": ");
                write_inline(out, v);
            }
            out.push('}');
        }
    }
}

fn write_str(out: &mut String, s: &str) {
    if plain_safe(s) {
        out.push_str(s);
    } else {
        write_quoted(out, s);
    }
}

fn write_quoted(out: &mut String, s: &str) {
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\t' => out.push_str("\\t"),
            '\r' => out.push_str("\\r"),
            c if (c as u32) < 0x20
                || c == '\u{7f}'
                || c == '\u{85}'
                || c == '\u{2028}'
                || c == '\u{2029}'
                || c == '\u{feff}' =>
            {
                out.push_str(&format!("\\u{:04x}", c as u32));
            }
            c => out.push(c),
        }
    }
    out.push('"');
}

/// True when `s` can be written as a plain scalar and every YAML 1.1 or 1.2 reader
/// (PyYAML's resolver included) reads it back as this same string.
pub fn plain_safe(s: &str) -> bool {
    let Some(first) = s.chars().next() else {
        return false;
    };
    if s.starts_with(' ') || s.ends_with(' ') || s.ends_with(':') {
        return false;
    }
    if "-?:,[]{}#&*!|>'\"%@`".contains(first) {
        // `-` alone or followed by a non-space is fine in YAML, but quoting is simpler and
        // always correct.
        return false;
    }
    if s.contains(": ") || s.contains(" #") || s.contains('\t') {
        return false;
    }
    if s.chars()
        .any(|c| c.is_control() || matches!(c, '\u{85}' | '\u{2028}' | '\u{2029}' | '\u{feff}'))
    {
        return false;
    }
    !resolves_to_non_string(s)
}

/// Would a YAML 1.1 (PyYAML) or 1.2 core-schema reader take this plain text as something
/// other than a string: null, bool, int, float, timestamp, merge key or value key?
fn resolves_to_non_string(s: &str) -> bool {
    let lower = s.to_ascii_lowercase();
    if matches!(
        lower.as_str(),
        "~" | "null" | "y" | "n" | "yes" | "no" | "on" | "off" | "true" | "false" | "<<" | "="
    ) {
        return true;
    }
    if matches!(lower.as_str(), ".inf" | "+.inf" | "-.inf" | ".nan") {
        return true;
    }
    let body = s.strip_prefix(['+', '-']).unwrap_or(s);
    let Some(first) = body.chars().next() else {
        return false;
    };
    // Everything numeric-looking in either YAML version starts with a digit or `.` after an
    // optional sign, and uses only these characters (ints, floats with exponents, 0x/0o/0b,
    // 1.1 sexagesimal `1:30`, `_` separators, dates and timestamps).
    if first.is_ascii_digit() || first == '.' {
        let numeric_chars = body.chars().all(|c| {
            c.is_ascii_hexdigit()
                || matches!(
                    c,
                    '_' | '.' | ':' | '+' | '-' | 'x' | 'X' | 'o' | 'O' | 'e' | 'E'
                )
        });
        if numeric_chars && looks_numeric(body) {
            return true;
        }
        if looks_like_timestamp(s) {
            return true;
        }
    }
    false
}

/// A conservative test for YAML 1.1/1.2 ints and floats (after the sign).
fn looks_numeric(b: &str) -> bool {
    // hex / octal / binary
    for p in ["0x", "0o", "0b"] {
        if let Some(rest) = b.strip_prefix(p) {
            return !rest.is_empty();
        }
    }
    // sexagesimal (YAML 1.1): digits groups separated by ':'
    if b.contains(':') {
        return b.split(':').all(|g| {
            !g.is_empty()
                && g.chars()
                    .all(|c| c.is_ascii_digit() || c == '_' || c == '.')
        });
    }
    // decimal int or float: digits, '_' and at most one '.', optional exponent
    let (mant, exp) = match b.find(['e', 'E']) {
        Some(i) => (&b[..i], Some(&b[i + 1..])),
        None => (b, None),
    };
    if let Some(e) = exp {
        let e = e.strip_prefix(['+', '-']).unwrap_or(e);
        if e.is_empty() || !e.chars().all(|c| c.is_ascii_digit()) {
            return false;
        }
    }
    let dots = mant.matches('.').count();
    dots <= 1
        && mant.chars().any(|c| c.is_ascii_digit())
        && mant
            .chars()
            .all(|c| c.is_ascii_digit() || c == '_' || c == '.')
}

/// YAML 1.1 timestamps: `2001-12-14`, `2001-12-14t21:59:43.10-05:00`, `2001-12-14 21:59:43`.
fn looks_like_timestamp(s: &str) -> bool {
    let b = s.as_bytes();
    b.len() >= 8
        && b[..4].iter().all(u8::is_ascii_digit)
        && b[4] == b'-'
        && s[5..]
            .split(['-', 'T', 't', ' ', ':', '.', 'Z', '+'])
            .all(|g| g.chars().all(|c| c.is_ascii_digit()))
}
