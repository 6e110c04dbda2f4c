//! The small part of deb822 that Packages files need: split a control paragraph into
//! fields (keeping multi-line values exactly), and write a stanza in the canonical field
//! order apt and dpkg use, unknown fields after the known ones in their original order.

/// The order of the fields apt's own tools write in a Packages stanza.
const PACKAGE_ORDER: &[&str] = &[
    "Package",
    "Essential",
    "Status",
    "Priority",
    "Section",
    "Installed-Size",
    "Maintainer",
    "Original-Maintainer",
    "Architecture",
    "Source",
    "Version",
    "Replaces",
    "Provides",
    "Depends",
    "Pre-Depends",
    "Recommends",
    "Suggests",
    "Conflicts",
    "Breaks",
    "Enhances",
    "Filename",
    "Size",
    "MD5sum",
    "SHA1",
    "SHA256",
    "SHA512",
    "Description",
];

/// Fields a stanza gets from the repository, never from the package's control file.
const LOCATION_FIELDS: &[&str] = &["Filename", "Size", "MD5sum", "SHA1", "SHA256", "SHA512"];

/// One field: its name as written and its value (first line without the leading space,
/// continuation lines kept byte for byte, newline-separated, no final newline).
pub(crate) type Field = (String, String);

/// Splits one control paragraph into fields. Lines that are neither `Name: value` nor a
/// continuation (`#` comments, stray text) are ignored; a malformed control file was
/// refused by `berth add` already.
pub(crate) fn parse_paragraph(text: &str) -> Vec<Field> {
    let mut fields: Vec<Field> = Vec::new();
    for line in text.lines() {
        if line.trim().is_empty() {
            if fields.is_empty() {
                continue;
            }
            break;
        }
        if line.starts_with([' ', '\t']) {
            if let Some((_, value)) = fields.last_mut() {
                value.push('\n');
                value.push_str(line);
            }
            continue;
        }
        if line.starts_with('#') {
            continue;
        }
        if let Some((name, value)) = line.split_once(':') {
            fields.push((name.trim().to_owned(), value.trim().to_owned()));
        }
    }
    fields
}

/// Writes a Packages stanza: the control fields without any location field, plus
/// `extra` (Filename, Size, SHA256), in canonical order, ending with a blank line.
pub(crate) fn write_stanza(out: &mut String, control: &[Field], extra: &[(&str, String)]) {
    let mut all: Vec<(&str, &str)> = control
        .iter()
        .filter(|(n, _)| !LOCATION_FIELDS.iter().any(|l| l.eq_ignore_ascii_case(n)))
        .map(|(n, v)| (n.as_str(), v.as_str()))
        .collect();
    all.extend(extra.iter().map(|(n, v)| (*n, v.as_str())));
    let rank = |name: &str| {
        PACKAGE_ORDER
            .iter()
            .position(|k| k.eq_ignore_ascii_case(name))
            .unwrap_or(PACKAGE_ORDER.len())
    };
    // A stable sort keeps unknown fields in their original order, after the known ones.
    all.sort_by_key(|(n, _)| rank(n));
    for (name, value) in all {
        out.push_str(name);
        out.push(':');
        if !value.starts_with('\n') {
            out.push(' ');
        }
        out.push_str(value);
        out.push('\n');
    }
    out.push('\n');
}

/// The value of field `name` (case-insensitive).
pub(crate) fn get<'a>(fields: &'a [Field], name: &str) -> Option<&'a str> {
    fields
        .iter()
        .find(|(n, _)| n.eq_ignore_ascii_case(name))
        .map(|(_, v)| v.as_str())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn canonical_order_and_multiline_values() {
        let control = "Package: hello\nVersion: 1.0-1\nArchitecture: amd64\nX-Custom: kept\nMaintainer: Me <me@example.org>\nDescription: short\n long line\n .\n more\nSHA256: bogus\nDepends: libc6\n";
        let fields = parse_paragraph(control);
        assert_eq!(
            get(&fields, "description"),
            Some("short\n long line\n .\n more")
        );
        let mut out = String::new();
        write_stanza(
            &mut out,
            &fields,
            &[("Filename", "pool/h.deb".into()), ("Size", "10".into())],
        );
        assert_eq!(
            out,
            "Package: hello\nMaintainer: Me <me@example.org>\nArchitecture: amd64\nVersion: 1.0-1\nDepends: libc6\nFilename: pool/h.deb\nSize: 10\nDescription: short\n long line\n .\n more\nX-Custom: kept\n\n"
        );
    }

    #[test]
    fn empty_first_line_is_kept_as_written() {
        let fields = parse_paragraph("Package: a\nConffiles:\n /etc/a 0123\n\nPackage: b\n");
        assert_eq!(fields.len(), 2);
        let mut out = String::new();
        write_stanza(&mut out, &fields, &[]);
        assert_eq!(out, "Package: a\nConffiles:\n /etc/a 0123\n\n");
    }
}
