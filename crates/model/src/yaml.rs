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

use std::cell::RefCell;
use std::collections::HashMap;
use std::fmt;

use camino::{Utf8Path, Utf8PathBuf};
use granit_parser::{Event, Parser, ScalarStyle};
use serde::Serialize;
use serde::de::{
    self, DeserializeOwned, DeserializeSeed, IntoDeserializer, MapAccess, SeqAccess, Visitor,
};

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

fn is_null_text(t: &str) -> bool {
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

/// Limits that keep hostile input cheap.
const MAX_ALIAS_NODES: usize = 10_000;
const MAX_DEPTH: usize = 128;

/// Parses one YAML document into a [`Node`] tree, with the default value-length limit. An
/// empty document is a null scalar.
pub fn parse(file: &Utf8Path, text: &str) -> Result<Node, YamlError> {
    parse_limited(file, text, DEFAULT_MAX_STRING)
}

/// The default longest value ([`crate::store::Limits::DEFAULT`]).
const DEFAULT_MAX_STRING: usize = 64 << 10;

/// Parses one YAML document into a [`Node`] tree; a scalar (value or key) longer than
/// `max_string` bytes is a [`YamlErrorKind::Limit`] error.
pub fn parse_limited(file: &Utf8Path, text: &str, max_string: usize) -> Result<Node, YamlError> {
    let err = |pos: Option<Pos>, kind: YamlErrorKind, message: String| {
        YamlError::new(file, pos, kind, message)
    };
    let mut parser = Parser::new_from_str(text);
    // Frames under construction: (node start, kind being built, pending key for maps).
    enum Frame {
        Seq(Pos, u32, Vec<Node>),
        Map(
            Pos,
            u32,
            Vec<(Node, Node)>,
            Option<Node>,
            HashMap<String, u32>,
        ),
    }
    let mut stack: Vec<Frame> = Vec::new();
    let mut anchors: HashMap<usize, Node> = HashMap::new();
    let mut anchor_of: Vec<usize> = Vec::new();
    let mut alias_budget = MAX_ALIAS_NODES;
    let mut root: Option<Node> = None;
    let mut documents = 0;

    while let Some(event) = parser.next_event() {
        let (event, span) = event.map_err(|e| {
            let m = e.marker();
            err(
                Some(Pos {
                    line: m.line() as u32,
                    col: m.col() as u32 + 1,
                }),
                YamlErrorKind::Syntax,
                format!("YAML syntax error: {}", e.info()),
            )
        })?;
        let pos = Pos {
            line: span.start.line() as u32,
            col: span.start.col() as u32 + 1,
        };
        let width = if span.end.line() == span.start.line() {
            (span.end.col().saturating_sub(span.start.col())).max(1) as u32
        } else {
            1
        };
        let done: Option<(Node, usize)> = match event {
            Event::StreamStart | Event::StreamEnd | Event::DocumentEnd => None,
            Event::DocumentStart(..) => {
                documents += 1;
                if documents > 1 {
                    return Err(err(
                        Some(pos),
                        YamlErrorKind::Syntax,
                        "a second YAML document (`---`): berth files hold exactly one document"
                            .into(),
                    ));
                }
                None
            }
            Event::Alias(id) => {
                let node = anchors.get(&id).cloned().ok_or_else(|| {
                    err(
                        Some(pos),
                        YamlErrorKind::Syntax,
                        "alias to an unknown anchor".into(),
                    )
                })?;
                let size = count_nodes(&node);
                if size > alias_budget {
                    return Err(err(
                        Some(pos),
                        YamlErrorKind::Limit,
                        format!(
                            "aliases expand to more than {MAX_ALIAS_NODES} nodes; refusing (alias bomb?)"
                        ),
                    ));
                }
                alias_budget -= size;
                Some((relocate(node, pos, width), 0))
            }
            Event::Scalar(text, style, anchor, _tag) => {
                if text.len() > max_string {
                    return Err(err(
                        Some(pos),
                        YamlErrorKind::Limit,
                        format!(
                            "a value of {} bytes; values are limited to {max_string} bytes ([limits] string_bytes in berth.toml)",
                            text.len()
                        ),
                    ));
                }
                let quoted = !matches!(style, ScalarStyle::Plain);
                Some((
                    Node {
                        kind: NodeKind::Scalar {
                            text: text.into_owned(),
                            quoted,
                        },
                        pos,
                        width,
                    },
                    anchor,
                ))
            }
            Event::SequenceStart(_, anchor, _) | Event::MappingStart(_, anchor, _) => {
                if stack.len() >= MAX_DEPTH {
                    return Err(err(
                        Some(pos),
                        YamlErrorKind::Limit,
                        format!("nesting deeper than {MAX_DEPTH} levels; refusing"),
                    ));
                }
                anchor_of.push(anchor);
                stack.push(if matches!(event, Event::SequenceStart(..)) {
                    Frame::Seq(pos, width, Vec::new())
                } else {
                    Frame::Map(pos, width, Vec::new(), None, HashMap::new())
                });
                None
            }
            Event::SequenceEnd | Event::MappingEnd => {
                let anchor = anchor_of.pop().unwrap_or(0);
                match stack.pop() {
                    Some(Frame::Seq(p, w, items)) => Some((
                        Node {
                            kind: NodeKind::Seq(items),
                            pos: p,
                            width: w,
                        },
                        anchor,
                    )),
                    Some(Frame::Map(p, w, entries, _, _)) => Some((
                        Node {
                            kind: NodeKind::Map(entries),
                            pos: p,
                            width: w,
                        },
                        anchor,
                    )),
                    None => None,
                }
            }
            _ => None,
        };
        let Some((node, anchor)) = done else { continue };
        if anchor != 0 {
            anchors.insert(anchor, node.clone());
        }
        match stack.last_mut() {
            None => root = Some(node),
            Some(Frame::Seq(_, _, items)) => items.push(node),
            Some(Frame::Map(_, _, entries, pending, seen)) => match pending.take() {
                None => {
                    if !matches!(node.kind, NodeKind::Scalar { .. }) {
                        return Err(err(
                            Some(node.pos),
                            YamlErrorKind::Syntax,
                            "a mapping key must be a plain word, not a list or mapping".into(),
                        ));
                    }
                    let key = node.as_str().unwrap_or_default();
                    if let Some(first) = seen.get(key) {
                        return Err(err(
                            Some(node.pos),
                            YamlErrorKind::DuplicateKey,
                            format!("duplicate key `{key}` (first at line {first}); keep one"),
                        ));
                    }
                    seen.insert(key.to_owned(), node.pos.line);
                    *pending = Some(node);
                }
                Some(key) => entries.push((key, node)),
            },
        }
    }
    Ok(root.unwrap_or(Node {
        kind: NodeKind::Scalar {
            text: String::new(),
            quoted: false,
        },
        pos: Pos { line: 1, col: 1 },
        width: 1,
    }))
}

fn count_nodes(n: &Node) -> usize {
    match &n.kind {
        NodeKind::Scalar { .. } => 1,
        NodeKind::Seq(items) => 1 + items.iter().map(count_nodes).sum::<usize>(),
        NodeKind::Map(entries) => {
            1 + entries
                .iter()
                .map(|(k, v)| count_nodes(k) + count_nodes(v))
                .sum::<usize>()
        }
    }
}

/// An alias points at the alias site, not at the anchor.
fn relocate(mut n: Node, pos: Pos, width: u32) -> Node {
    n.pos = pos;
    n.width = width;
    n
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

/// Deserializes a `T` from an already parsed tree.
pub fn from_node<T: DeserializeOwned>(file: &Utf8Path, root: Node) -> Result<Loaded<T>, YamlError> {
    let unknown = RefCell::new(Vec::new());
    let value = {
        let de = NodeDe {
            node: &root,
            path: Vec::new(),
            unknown: &unknown,
        };
        T::deserialize(de).map_err(|e: DeError| YamlError {
            file: file.to_owned(),
            pos: e.pos.or(Some(root.pos)),
            kind: e.kind,
            message: e.msg,
            key: e.key,
            help: e.help,
        })?
    };
    Ok(Loaded {
        value,
        root,
        unknown: unknown.into_inner(),
    })
}

/// Error type of the node deserializer: a message and the position it belongs to.
#[derive(Debug)]
struct DeError {
    msg: String,
    pos: Option<Pos>,
    kind: YamlErrorKind,
    key: Option<String>,
    help: Option<String>,
}

impl DeError {
    fn new(msg: String, pos: Option<Pos>, kind: YamlErrorKind) -> Self {
        DeError {
            msg,
            pos,
            kind,
            key: None,
            help: None,
        }
    }
}

impl fmt::Display for DeError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.msg)
    }
}
impl std::error::Error for DeError {}
impl de::Error for DeError {
    fn custom<T: fmt::Display>(msg: T) -> Self {
        DeError::new(msg.to_string(), None, YamlErrorKind::InvalidValue)
    }
    fn missing_field(field: &'static str) -> Self {
        DeError {
            key: Some(field.to_owned()),
            ..DeError::new(
                format!("missing required field `{field}`; add it"),
                None,
                YamlErrorKind::MissingField,
            )
        }
    }
    fn unknown_field(field: &str, expected: &'static [&'static str]) -> Self {
        let help = match suggest(field, expected) {
            Some(s) => format!("did you mean `{s}`?"),
            None => format!("known keys: {}", expected.join(", ")),
        };
        DeError {
            key: Some(field.to_owned()),
            help: Some(help),
            ..DeError::new(
                format!("unknown key `{field}`"),
                None,
                YamlErrorKind::UnknownField,
            )
        }
    }
}

struct NodeDe<'a> {
    node: &'a Node,
    path: Vec<String>,
    unknown: &'a RefCell<Vec<UnknownKey>>,
}

impl<'a> NodeDe<'a> {
    fn at(&self, e: DeError) -> DeError {
        DeError {
            pos: e.pos.or(Some(self.node.pos)),
            ..e
        }
    }
    fn child(&self, node: &'a Node, seg: String) -> NodeDe<'a> {
        let mut path = self.path.clone();
        path.push(seg);
        NodeDe {
            node,
            path,
            unknown: self.unknown,
        }
    }
    fn mismatch(&self, want: &str) -> DeError {
        let got = match &self.node.kind {
            NodeKind::Scalar { text, .. } if text.is_empty() => "nothing".to_owned(),
            NodeKind::Scalar { text, .. } => format!("`{text}`"),
            _ => self.node.kind_name().to_owned(),
        };
        DeError::new(
            format!("expected {want}, found {got}"),
            Some(self.node.pos),
            YamlErrorKind::WrongType,
        )
    }
    fn scalar(&self, want: &str) -> Result<(&'a str, bool), DeError> {
        match &self.node.kind {
            NodeKind::Scalar { text, quoted } => Ok((text, *quoted)),
            _ => Err(self.mismatch(want)),
        }
    }
}

fn parse_int(t: &str) -> Option<i128> {
    let t = t.replace('_', "");
    let (neg, digits) = match t.as_bytes().first() {
        Some(b'-') => (true, &t[1..]),
        Some(b'+') => (false, &t[1..]),
        _ => (false, t.as_str()),
    };
    let v = if let Some(h) = digits.strip_prefix("0x") {
        i128::from_str_radix(h, 16).ok()?
    } else if let Some(o) = digits.strip_prefix("0o") {
        i128::from_str_radix(o, 8).ok()?
    } else if !digits.is_empty() && digits.bytes().all(|b| b.is_ascii_digit()) {
        digits.parse().ok()?
    } else {
        return None;
    };
    Some(if neg { -v } else { v })
}

fn parse_float(t: &str) -> Option<f64> {
    match t {
        ".inf" | ".Inf" | ".INF" | "+.inf" => return Some(f64::INFINITY),
        "-.inf" | "-.Inf" | "-.INF" => return Some(f64::NEG_INFINITY),
        ".nan" | ".NaN" | ".NAN" => return Some(f64::NAN),
        _ => {}
    }
    if !t.bytes().any(|b| b.is_ascii_digit())
        || t.bytes()
            .any(|b| b.is_ascii_alphabetic() && b != b'e' && b != b'E')
    {
        return None;
    }
    t.parse().ok()
}

fn parse_bool(t: &str) -> Option<bool> {
    match t {
        "true" | "True" | "TRUE" => Some(true),
        "false" | "False" | "FALSE" => Some(false),
        _ => None,
    }
}

macro_rules! de_int {
    ($name:ident, $visit:ident, $ty:ty) => {
        fn $name<V: Visitor<'de>>(self, v: V) -> Result<V::Value, DeError> {
            let (t, _) = self.scalar(stringify!($ty))?;
            let n = parse_int(t)
                .and_then(|n| <$ty>::try_from(n).ok())
                .ok_or_else(|| self.mismatch(concat!("a whole number (", stringify!($ty), ")")))?;
            v.$visit(n).map_err(|e| self.at(e))
        }
    };
}

impl<'de, 'a> de::Deserializer<'de> for NodeDe<'a> {
    type Error = DeError;

    fn deserialize_any<V: Visitor<'de>>(self, v: V) -> Result<V::Value, DeError> {
        match &self.node.kind {
            NodeKind::Seq(_) => return self.deserialize_seq(v),
            NodeKind::Map(_) => return self.deserialize_map(v),
            NodeKind::Scalar { .. } => {}
        }
        match &self.node.kind {
            NodeKind::Scalar {
                text,
                quoted: false,
            } => {
                if is_null_text(text) {
                    v.visit_unit()
                } else if let Some(b) = parse_bool(text) {
                    v.visit_bool(b)
                } else if let Some(i) = parse_int(text).and_then(|i| i64::try_from(i).ok()) {
                    v.visit_i64(i)
                } else if let Some(f) = parse_float(text) {
                    v.visit_f64(f)
                } else {
                    v.visit_str(text)
                }
            }
            NodeKind::Scalar { text, .. } => v.visit_str(text),
            _ => Err(self.mismatch("a scalar")),
        }
        .map_err(|e| self.at(e))
    }

    fn deserialize_bool<V: Visitor<'de>>(self, v: V) -> Result<V::Value, DeError> {
        let (t, _) = self.scalar("true or false")?;
        let b = parse_bool(t).ok_or_else(|| self.mismatch("true or false"))?;
        v.visit_bool(b).map_err(|e| self.at(e))
    }

    de_int!(deserialize_i8, visit_i8, i8);
    de_int!(deserialize_i16, visit_i16, i16);
    de_int!(deserialize_i32, visit_i32, i32);
    de_int!(deserialize_i64, visit_i64, i64);
    de_int!(deserialize_u8, visit_u8, u8);
    de_int!(deserialize_u16, visit_u16, u16);
    de_int!(deserialize_u32, visit_u32, u32);
    de_int!(deserialize_u64, visit_u64, u64);

    fn deserialize_f32<V: Visitor<'de>>(self, v: V) -> Result<V::Value, DeError> {
        self.deserialize_f64(v)
    }
    fn deserialize_f64<V: Visitor<'de>>(self, v: V) -> Result<V::Value, DeError> {
        let (t, _) = self.scalar("a number")?;
        let f = parse_float(t).ok_or_else(|| self.mismatch("a number"))?;
        v.visit_f64(f).map_err(|e| self.at(e))
    }
    fn deserialize_char<V: Visitor<'de>>(self, v: V) -> Result<V::Value, DeError> {
        self.deserialize_str(v)
    }
    fn deserialize_str<V: Visitor<'de>>(self, v: V) -> Result<V::Value, DeError> {
        let (t, _) = self.scalar("text")?;
        v.visit_str(t).map_err(|e| self.at(e))
    }
    fn deserialize_string<V: Visitor<'de>>(self, v: V) -> Result<V::Value, DeError> {
        self.deserialize_str(v)
    }
    fn deserialize_bytes<V: Visitor<'de>>(self, v: V) -> Result<V::Value, DeError> {
        self.deserialize_str(v)
    }
    fn deserialize_byte_buf<V: Visitor<'de>>(self, v: V) -> Result<V::Value, DeError> {
        self.deserialize_str(v)
    }
    fn deserialize_option<V: Visitor<'de>>(self, v: V) -> Result<V::Value, DeError> {
        if self.node.is_null() {
            v.visit_none()
        } else {
            v.visit_some(self)
        }
    }
    fn deserialize_unit<V: Visitor<'de>>(self, v: V) -> Result<V::Value, DeError> {
        if self.node.is_null() {
            v.visit_unit()
        } else {
            Err(self.mismatch("nothing"))
        }
    }
    fn deserialize_unit_struct<V: Visitor<'de>>(
        self,
        _: &'static str,
        v: V,
    ) -> Result<V::Value, DeError> {
        self.deserialize_unit(v)
    }
    fn deserialize_newtype_struct<V: Visitor<'de>>(
        self,
        _: &'static str,
        v: V,
    ) -> Result<V::Value, DeError> {
        v.visit_newtype_struct(self)
    }
    fn deserialize_seq<V: Visitor<'de>>(self, v: V) -> Result<V::Value, DeError> {
        match &self.node.kind {
            NodeKind::Seq(items) => {
                let access = SeqDe {
                    parent: &self,
                    items: items.iter().enumerate(),
                };
                v.visit_seq(access).map_err(|e| self.at(e))
            }
            _ => Err(self.mismatch("a list")),
        }
    }
    fn deserialize_tuple<V: Visitor<'de>>(self, _: usize, v: V) -> Result<V::Value, DeError> {
        self.deserialize_seq(v)
    }
    fn deserialize_tuple_struct<V: Visitor<'de>>(
        self,
        _: &'static str,
        _: usize,
        v: V,
    ) -> Result<V::Value, DeError> {
        self.deserialize_seq(v)
    }
    fn deserialize_map<V: Visitor<'de>>(self, v: V) -> Result<V::Value, DeError> {
        match &self.node.kind {
            NodeKind::Map(entries) => {
                let access = MapDe {
                    parent: &self,
                    entries: entries.iter(),
                    value: None,
                };
                v.visit_map(access).map_err(|e| self.at(e))
            }
            _ if self.node.is_null() => {
                // An empty document or `key:` with nothing: an empty mapping.
                let access = MapDe {
                    parent: &self,
                    entries: [].iter(),
                    value: None,
                };
                v.visit_map(access).map_err(|e| self.at(e))
            }
            _ => Err(self.mismatch("a mapping")),
        }
    }
    fn deserialize_struct<V: Visitor<'de>>(
        self,
        _name: &'static str,
        fields: &'static [&'static str],
        v: V,
    ) -> Result<V::Value, DeError> {
        if let NodeKind::Map(entries) = &self.node.kind {
            let mut unknown = self.unknown.borrow_mut();
            for (k, _) in entries {
                let key = k.as_str().unwrap_or_default();
                if !fields.contains(&key) {
                    unknown.push(UnknownKey {
                        parent: self.path.clone(),
                        key: key.to_owned(),
                        pos: k.pos,
                        width: k.width,
                        expected: fields,
                    });
                }
            }
        } else if !self.node.is_null() {
            return Err(self.mismatch("a mapping"));
        }
        self.deserialize_map(v)
    }
    fn deserialize_enum<V: Visitor<'de>>(
        self,
        _: &'static str,
        variants: &'static [&'static str],
        v: V,
    ) -> Result<V::Value, DeError> {
        match &self.node.kind {
            NodeKind::Scalar { text, .. } => {
                if !variants.contains(&text.as_str()) {
                    return Err(DeError::new(
                        format!(
                            "unknown value `{text}`; expected one of: {}",
                            variants.join(", ")
                        ),
                        Some(self.node.pos),
                        YamlErrorKind::InvalidValue,
                    ));
                }
                v.visit_enum(text.as_str().into_deserializer())
                    .map_err(|e: DeError| self.at(e))
            }
            _ => Err(self.mismatch("one word")),
        }
    }
    fn deserialize_identifier<V: Visitor<'de>>(self, v: V) -> Result<V::Value, DeError> {
        self.deserialize_str(v)
    }
    fn deserialize_ignored_any<V: Visitor<'de>>(self, v: V) -> Result<V::Value, DeError> {
        v.visit_unit()
    }
}

struct SeqDe<'p, 'a> {
    parent: &'p NodeDe<'a>,
    items: std::iter::Enumerate<std::slice::Iter<'a, Node>>,
}

impl<'de, 'p, 'a> SeqAccess<'de> for SeqDe<'p, 'a> {
    type Error = DeError;
    fn next_element_seed<T: DeserializeSeed<'de>>(
        &mut self,
        seed: T,
    ) -> Result<Option<T::Value>, DeError> {
        match self.items.next() {
            None => Ok(None),
            Some((i, node)) => {
                let child = self.parent.child(node, i.to_string());
                let pos = node.pos;
                seed.deserialize(child).map(Some).map_err(|e| DeError {
                    pos: e.pos.or(Some(pos)),
                    ..e
                })
            }
        }
    }
    fn size_hint(&self) -> Option<usize> {
        Some(self.items.len())
    }
}

struct MapDe<'p, 'a> {
    parent: &'p NodeDe<'a>,
    entries: std::slice::Iter<'a, (Node, Node)>,
    value: Option<(&'a Node, &'a Node)>,
}

impl<'de, 'p, 'a> MapAccess<'de> for MapDe<'p, 'a> {
    type Error = DeError;
    fn next_key_seed<K: DeserializeSeed<'de>>(
        &mut self,
        seed: K,
    ) -> Result<Option<K::Value>, DeError> {
        match self.entries.next() {
            None => Ok(None),
            Some((k, v)) => {
                self.value = Some((k, v));
                let key = self.parent.child(k, String::new());
                let pos = k.pos;
                seed.deserialize(key).map(Some).map_err(|e| DeError {
                    pos: e.pos.or(Some(pos)),
                    ..e
                })
            }
        }
    }
    fn next_value_seed<V: DeserializeSeed<'de>>(&mut self, seed: V) -> Result<V::Value, DeError> {
        let Some((k, v)) = self.value.take() else {
            return Err(de::Error::custom("value without a key"));
        };
        let key = k.as_str().unwrap_or_default().to_owned();
        let child = self.parent.child(v, key.clone());
        let pos = v.pos;
        seed.deserialize(child).map_err(|e| DeError {
            pos: e.pos.or(Some(pos)),
            kind: e.kind,
            key: e.key,
            help: e.help,
            msg: if e.msg.starts_with('`') || e.msg.contains(&format!("`{key}`")) {
                e.msg
            } else {
                format!("`{key}`: {}", e.msg)
            },
        })
    }
}

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
