//! YAML in and out: the one place berth's YAML choices live.
//!
//! **Reading** parses with `granit-parser` (the pure-Rust parser under serde-saphyr) into a
//! [`Node`] tree that keeps the position of every key and value, then deserializes typed
//! structs from that tree with serde. Because every node carries its position, every error
//! (syntax, wrong type, bad value, missing field) names `file:line:column`, and validators
//! can point at any field of a file that loaded. Scalars are handed to serde as the text
//! that was written: a `version: 1.10` field stays `"1.10"`, never the float `1.1`.
//! Unknown keys are collected (with their position and the expected names), not dropped.
//!
//! **Writing** ([`to_canonical`]) emits block YAML in a canonical form: the struct's key
//! order, lists of scalars in flow style (`["cloud"]`, as the seed writes them), lists of
//! mappings in indented block style, one trailing newline. A string is written plain only
//! when both YAML 1.1 (PyYAML, the seed's helper) and YAML 1.2 read it back as the same
//! string; otherwise it is double-quoted. The same value always gives the same bytes.

mod de;
mod emit;
mod parse;

use std::fmt;

use camino::{Utf8Path, Utf8PathBuf};
use serde::Serialize;
use serde::de::DeserializeOwned;

pub use de::from_node;
pub use emit::{plain_safe, to_canonical};
use parse::DEFAULT_MAX_STRING;
pub use parse::{parse, parse_limited};

/// A 1-based line and column in a source file.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default, Serialize)]
pub struct Pos {
    /// Line, from 1.
    pub line: u32,
    /// Column, from 1 (in characters).
    pub col: u32,
}

impl fmt::Display for Pos {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:{}", self.line, self.col)
    }
}

/// A parsed YAML node with its position.
#[derive(Debug, Clone, PartialEq)]
pub struct Node {
    /// What the node holds.
    pub kind: NodeKind,
    /// Where it starts.
    pub pos: Pos,
    /// Length in characters of its first line (for underlining); at least 1.
    pub width: u32,
}

/// The three kinds of YAML node.
#[derive(Debug, Clone, PartialEq)]
pub enum NodeKind {
    /// A scalar, as written (after escape processing), and whether it was quoted or a
    /// block scalar (then it is always a string).
    Scalar {
        /// The text.
        text: String,
        /// False for plain scalars, whose type is resolved from the text.
        quoted: bool,
    },
    /// A sequence.
    Seq(Vec<Node>),
    /// A mapping, in source order.
    Map(Vec<(Node, Node)>),
}

impl Node {
    /// For a mapping, the value under `key` (the last occurrence wins is impossible: duplicate
    /// keys are refused by the parser).
    pub fn get(&self, key: &str) -> Option<&Node> {
        self.entry(key).map(|(_, v)| v)
    }

    /// For a mapping, the key node and value node under `key`.
    pub fn entry(&self, key: &str) -> Option<(&Node, &Node)> {
        match &self.kind {
            NodeKind::Map(entries) => entries
                .iter()
                .find(|(k, _)| k.as_str() == Some(key))
                .map(|(k, v)| (k, v)),
            _ => None,
        }
    }

    /// For a sequence, the item at `index`.
    pub fn index(&self, index: usize) -> Option<&Node> {
        match &self.kind {
            NodeKind::Seq(items) => items.get(index),
            _ => None,
        }
    }

    /// The text of a scalar.
    pub fn as_str(&self) -> Option<&str> {
        match &self.kind {
            NodeKind::Scalar { text, .. } => Some(text),
            _ => None,
        }
    }

    /// True for a plain `null`, `~` or empty scalar.
    pub fn is_null(&self) -> bool {
        matches!(&self.kind, NodeKind::Scalar { text, quoted: false } if is_null_text(text))
    }

    /// Follows a path of keys (`"labels"`) and indexes (`"0"` on a sequence); returns the
    /// node there.
    pub fn find(&self, path: &[&str]) -> Option<&Node> {
        let mut node = self;
        for seg in path {
            node = match &node.kind {
                NodeKind::Map(_) => node.get(seg)?,
                NodeKind::Seq(_) => node.index(seg.parse().ok()?)?,
                NodeKind::Scalar { .. } => return None,
            };
        }
        Some(node)
    }

    /// Position of the key `path` (its last segment) when it names a mapping entry, else of
    /// the node itself; falls back to the nearest ancestor that exists.
    pub fn locate(&self, path: &[&str]) -> (Pos, u32) {
        let mut node = self;
        let mut at = (self.pos, self.width);
        for seg in path {
            match &node.kind {
                NodeKind::Map(_) => match node.entry(seg) {
                    Some((k, v)) => {
                        at = (k.pos, k.width);
                        node = v;
                    }
                    None => break,
                },
                NodeKind::Seq(_) => match seg.parse().ok().and_then(|i| node.index(i)) {
                    Some(n) => {
                        at = (n.pos, n.width);
                        node = n;
                    }
                    None => break,
                },
                NodeKind::Scalar { .. } => break,
            }
        }
        at
    }

    /// Position of the value at `path` (not its key); nearest existing ancestor otherwise.
    pub fn locate_value(&self, path: &[&str]) -> (Pos, u32) {
        let mut node = self;
        for seg in path {
            match node.find(&[seg]) {
                Some(n) => node = n,
                None => break,
            }
        }
        (node.pos, node.width)
    }

    fn kind_name(&self) -> &'static str {
        match &self.kind {
            NodeKind::Scalar { .. } => "a scalar",
            NodeKind::Seq(_) => "a list",
            NodeKind::Map(_) => "a mapping",
        }
    }
}

pub(super) fn is_null_text(t: &str) -> bool {
    matches!(t, "" | "~" | "null" | "Null" | "NULL")
}

/// A YAML problem: where it is and what is wrong.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{}{}: {message}{}", file, pos.map(|p| format!(":{p}")).unwrap_or_default(), help.as_ref().map(|h| format!("; {h}")).unwrap_or_default())]
pub struct YamlError {
    /// The file.
    pub file: Utf8PathBuf,
    /// Where, when known.
    pub pos: Option<Pos>,
    /// What kind of problem it is: callers match on this, never on the message.
    pub kind: YamlErrorKind,
    /// What is wrong.
    pub message: String,
    /// The key the problem is about (an unknown, missing or duplicate key), when there is one.
    pub key: Option<String>,
    /// How to fix it, when berth knows (`did you mean `team`?`).
    pub help: Option<String>,
}

/// The kinds of [`YamlError`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum YamlErrorKind {
    /// The file could not be read (missing, a link, not a regular file, too large).
    Io,
    /// Not UTF-8 text.
    Encoding,
    /// Not YAML: a syntax error, a second document, a non-scalar key.
    Syntax,
    /// A key given twice in one mapping.
    DuplicateKey,
    /// Over a limit that keeps hostile input cheap (alias expansion, nesting, value length).
    Limit,
    /// A required field is missing.
    MissingField,
    /// A key the file's type does not have.
    UnknownField,
    /// A value of the wrong shape (a list where a word is expected, …).
    WrongType,
    /// A value of the right shape that is not valid.
    InvalidValue,
}

impl YamlError {
    /// A problem of `kind` in `file`.
    pub fn new(
        file: impl Into<Utf8PathBuf>,
        pos: Option<Pos>,
        kind: YamlErrorKind,
        message: impl Into<String>,
    ) -> Self {
        YamlError {
            file: file.into(),
            pos,
            kind,
            message: message.into(),
            key: None,
            help: None,
        }
    }
}

/// A mapping key that the target type does not know.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UnknownKey {
    /// The path of the mapping that holds it (`labels`, `components.0`), empty at the top.
    pub parent: Vec<String>,
    /// The key.
    pub key: String,
    /// Where the key is.
    pub pos: Pos,
    /// Width of the key, for underlining.
    pub width: u32,
    /// The names the type expects there.
    pub expected: &'static [&'static str],
}

impl UnknownKey {
    /// The closest expected name, when one is close enough to be a likely typo.
    pub fn suggestion(&self) -> Option<&'static str> {
        suggest(&self.key, self.expected)
    }
}

/// The closest of `candidates` to `word`, when it is close enough to be a likely typo.
pub fn suggest(word: &str, candidates: &[&'static str]) -> Option<&'static str> {
    crate::names::closest(word, candidates.iter().copied())
}

/// A typed value loaded from a YAML file, with its source tree for positions.
#[derive(Debug, Clone)]
pub struct Loaded<T> {
    /// The typed value.
    pub value: T,
    /// The source tree, for locating any field.
    pub root: Node,
    /// Keys the type does not know, in source order.
    pub unknown: Vec<UnknownKey>,
}

/// Parses `text` (from `file`) and deserializes a `T` from it.
pub fn from_str<T: DeserializeOwned>(file: &Utf8Path, text: &str) -> Result<Loaded<T>, YamlError> {
    let root = parse(file, text)?;
    from_node(file, root)
}

/// Reads `bytes` as UTF-8 YAML (a clear error for anything else) and deserializes a `T`.
pub fn from_slice<T: DeserializeOwned>(
    file: &Utf8Path,
    bytes: &[u8],
) -> Result<Loaded<T>, YamlError> {
    from_slice_limited(file, bytes, DEFAULT_MAX_STRING)
}

/// [`from_slice`] with a longest-value limit (`[limits] string_bytes`).
pub fn from_slice_limited<T: DeserializeOwned>(
    file: &Utf8Path,
    bytes: &[u8],
    max_string: usize,
) -> Result<Loaded<T>, YamlError> {
    let text = std::str::from_utf8(bytes).map_err(|e| {
        let prefix = &bytes[..e.valid_up_to()];
        let line = prefix.iter().filter(|&&b| b == b'\n').count() as u32 + 1;
        let col = prefix
            .rsplit(|&b| b == b'\n')
            .next()
            .map_or(0, |l| String::from_utf8_lossy(l).chars().count()) as u32
            + 1;
        YamlError::new(
            file,
            Some(Pos { line, col }),
            YamlErrorKind::Encoding,
            "not UTF-8 text; save the file as UTF-8",
        )
    })?;
    let root = parse_limited(
        file,
        text.strip_prefix('\u{feff}').unwrap_or(text),
        max_string,
    )?;
    from_node(file, root)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn plain_safety() {
        for s in [
            "1.0.2",
            "cloud",
            "cloud/dmp/ms-ingestion",
            "python:3.11-alpine",
            "abc123",
            "priya.k@yourco.com",
            "https://gitlab.com/yourorg/cloud-dmp",
        ] {
            assert!(plain_safe(s), "{s} should be plain");
        }
        for s in [
            "",
            "yes",
            "No",
            "on",
            "1.10",
            "1_000",
            "12:30",
            "2025-05-10",
            "2025-05-10T22:15:00Z",
            "0x1f",
            "1e3",
            "#chan",
            "a: b",
            "null",
            "~",
            " x",
            "3",
            "-1",
            ".5",
            "1.0",
        ] {
            assert!(!plain_safe(s), "{s} should be quoted");
        }
    }

    #[test]
    fn positions_and_types() {
        let f = Utf8Path::new("t.yaml");
        let n = parse(f, "a: 1\nb:\n  - x\n  - y\n").expect("parses");
        assert_eq!(
            n.find(&["b", "1"]).map(|n| n.pos),
            Some(Pos { line: 4, col: 5 })
        );
        let e = parse(f, "a: 1\na: 2\n").expect_err("duplicate");
        assert_eq!(e.pos, Some(Pos { line: 2, col: 1 }));
        assert!(
            e.to_string().starts_with("t.yaml:2:1: duplicate key `a`"),
            "{e}"
        );
    }
}
