//! A rule's documentation (its doc comment, as `berth explain` prints it) split into
//! typed blocks, so that the template engine escapes every piece of it: headings,
//! paragraphs with inline code, and code blocks.

/// One block of a rule's documentation.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Block {
    /// `## What it checks`.
    Heading(String),
    /// A paragraph: runs of text and inline code.
    Para(Vec<Span>),
    /// A fenced code block.
    Code(String),
}

/// A run of a paragraph.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Span {
    /// The text.
    pub text: String,
    /// True for `inline code`.
    pub code: bool,
}

/// Splits documentation text into blocks.
pub(crate) fn blocks(doc: &str) -> Vec<Block> {
    let mut out = Vec::new();
    let mut para: Vec<&str> = Vec::new();
    let mut code: Option<Vec<&str>> = None;
    let flush = |para: &mut Vec<&str>, out: &mut Vec<Block>| {
        if !para.is_empty() {
            out.push(Block::Para(spans(&para.join(" "))));
            para.clear();
        }
    };
    for line in doc.lines() {
        if let Some(lines) = code.as_mut() {
            if line.trim_start().starts_with("```") {
                out.push(Block::Code(lines.join("\n")));
                code = None;
            } else {
                lines.push(line);
            }
            continue;
        }
        let t = line.trim();
        if t.starts_with("```") {
            flush(&mut para, &mut out);
            code = Some(Vec::new());
        } else if let Some(h) = t.strip_prefix('#') {
            flush(&mut para, &mut out);
            out.push(Block::Heading(h.trim_start_matches('#').trim().to_owned()));
        } else if t.is_empty() {
            flush(&mut para, &mut out);
        } else {
            para.push(t);
        }
    }
    if let Some(lines) = code {
        out.push(Block::Code(lines.join("\n")));
    }
    flush(&mut para, &mut out);
    out
}

/// Text and `inline code` runs.
fn spans(text: &str) -> Vec<Span> {
    text.split('`')
        .enumerate()
        .filter(|(_, t)| !t.is_empty())
        .map(|(i, t)| Span {
            text: t.to_owned(),
            code: i % 2 == 1,
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn headings_paragraphs_and_code() {
        let b = blocks(
            "## What it checks\nA `sha256` is\nright.\n\n## Example\n```yaml\nsha256: 00\n```\n",
        );
        assert_eq!(b[0], Block::Heading("What it checks".into()));
        match &b[1] {
            Block::Para(s) => {
                assert_eq!(s.len(), 3);
                assert!(s[1].code && s[1].text == "sha256");
                assert_eq!(s[2].text, " is right.");
            }
            other => panic!("{other:?}"),
        }
        assert_eq!(b[3], Block::Code("sha256: 00".into()));
    }
}
