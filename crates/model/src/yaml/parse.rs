//! The parser bridge: `granit-parser` events into a [`Node`] tree that keeps every
//! position, with the limits that keep hostile input cheap.

use std::collections::HashMap;

use camino::Utf8Path;
use granit_parser::{Event, Parser, ScalarStyle};

use super::{Node, NodeKind, Pos, YamlError, YamlErrorKind};

/// Limits that keep hostile input cheap.
const MAX_ALIAS_NODES: usize = 10_000;
const MAX_DEPTH: usize = 128;

/// Parses one YAML document into a [`Node`] tree, with the default value-length limit. An
/// empty document is a null scalar.
pub fn parse(file: &Utf8Path, text: &str) -> Result<Node, YamlError> {
    parse_limited(file, text, DEFAULT_MAX_STRING)
}

/// The default longest value ([`crate::store::Limits::DEFAULT`]).
pub(super) const DEFAULT_MAX_STRING: usize = 64 << 10;

/// Parses one YAML document into a [`Node`] tree; a scalar (value or key) longer than
/// `max_string` bytes is a [`YamlErrorKind::Limit`] error.
pub fn parse_limited(file: &Utf8Path, text: &str, max_string: usize) -> Result<Node, YamlError> {
    let mut b = Builder {
        file,
        max_string,
        stack: Vec::new(),
        anchors: HashMap::new(),
        anchor_of: Vec::new(),
        alias_budget: MAX_ALIAS_NODES,
        root: None,
        documents: 0,
    };
    let mut parser = Parser::new_from_str(text);
    while let Some(event) = parser.next_event() {
        let (event, span) = event.map_err(|e| {
            let m = e.marker();
            b.err(
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
        if let Some((node, anchor)) = b.event(event, pos, width)? {
            b.attach(node, anchor)?;
        }
    }
    Ok(b.root.unwrap_or(Node {
        kind: NodeKind::Scalar {
            text: String::new(),
            quoted: false,
        },
        pos: Pos { line: 1, col: 1 },
        width: 1,
    }))
}

/// A collection under construction.
enum Frame {
    /// A sequence: where it starts, its width, its items.
    Seq(Pos, u32, Vec<Node>),
    /// A mapping: where it starts, its width, its entries, the key waiting for its value,
    /// and the keys seen (for duplicates, in linear time).
    Map(
        Pos,
        u32,
        Vec<(Node, Node)>,
        Option<Node>,
        HashMap<String, u32>,
    ),
}

/// The state of one parse: the collections open, the anchors, the budgets.
struct Builder<'f> {
    file: &'f Utf8Path,
    max_string: usize,
    stack: Vec<Frame>,
    anchors: HashMap<usize, Node>,
    anchor_of: Vec<usize>,
    alias_budget: usize,
    root: Option<Node>,
    documents: usize,
}

impl Builder<'_> {
    fn err(&self, pos: Option<Pos>, kind: YamlErrorKind, message: String) -> YamlError {
        YamlError::new(self.file, pos, kind, message)
    }

    /// One event: a finished node (with its anchor id) when the event completes one.
    fn event(
        &mut self,
        event: Event<'_>,
        pos: Pos,
        width: u32,
    ) -> Result<Option<(Node, usize)>, YamlError> {
        Ok(match event {
            Event::DocumentStart(..) => {
                self.documents += 1;
                if self.documents > 1 {
                    return Err(self.err(
                        Some(pos),
                        YamlErrorKind::Syntax,
                        "a second YAML document (`---`): berth files hold exactly one document"
                            .into(),
                    ));
                }
                None
            }
            Event::Alias(id) => Some((self.alias(id, pos, width)?, 0)),
            Event::Scalar(text, style, anchor, _tag) => {
                if text.len() > self.max_string {
                    return Err(self.err(
                        Some(pos),
                        YamlErrorKind::Limit,
                        format!(
                            "a value of {} bytes; values are limited to {} bytes ([limits] string_bytes in berth.toml)",
                            text.len(),
                            self.max_string
                        ),
                    ));
                }
                let quoted = !matches!(style, ScalarStyle::Plain);
                let kind = NodeKind::Scalar {
                    text: text.into_owned(),
                    quoted,
                };
                Some((Node { kind, pos, width }, anchor))
            }
            Event::SequenceStart(_, anchor, _) => {
                self.open(anchor, pos, Frame::Seq(pos, width, Vec::new()))?;
                None
            }
            Event::MappingStart(_, anchor, _) => {
                let frame = Frame::Map(pos, width, Vec::new(), None, HashMap::new());
                self.open(anchor, pos, frame)?;
                None
            }
            Event::SequenceEnd | Event::MappingEnd => {
                let anchor = self.anchor_of.pop().unwrap_or(0);
                let node = match self.stack.pop() {
                    Some(Frame::Seq(pos, width, items)) => Node {
                        kind: NodeKind::Seq(items),
                        pos,
                        width,
                    },
                    Some(Frame::Map(pos, width, entries, _, _)) => Node {
                        kind: NodeKind::Map(entries),
                        pos,
                        width,
                    },
                    None => return Ok(None),
                };
                Some((node, anchor))
            }
            _ => None,
        })
    }

    /// An alias, expanded within the budget.
    fn alias(&mut self, id: usize, pos: Pos, width: u32) -> Result<Node, YamlError> {
        let node = self.anchors.get(&id).cloned().ok_or_else(|| {
            self.err(
                Some(pos),
                YamlErrorKind::Syntax,
                "alias to an unknown anchor".into(),
            )
        })?;
        let size = count_nodes(&node);
        if size > self.alias_budget {
            return Err(self.err(
                Some(pos),
                YamlErrorKind::Limit,
                format!(
                    "aliases expand to more than {MAX_ALIAS_NODES} nodes; refusing (alias bomb?)"
                ),
            ));
        }
        self.alias_budget -= size;
        Ok(relocate(node, pos, width))
    }

    /// A collection starts, within the nesting limit.
    fn open(&mut self, anchor: usize, pos: Pos, frame: Frame) -> Result<(), YamlError> {
        if self.stack.len() >= MAX_DEPTH {
            return Err(self.err(
                Some(pos),
                YamlErrorKind::Limit,
                format!("nesting deeper than {MAX_DEPTH} levels; refusing"),
            ));
        }
        self.anchor_of.push(anchor);
        self.stack.push(frame);
        Ok(())
    }

    /// A finished node goes into the collection that holds it (a key waits for its value).
    fn attach(&mut self, node: Node, anchor: usize) -> Result<(), YamlError> {
        if anchor != 0 {
            self.anchors.insert(anchor, node.clone());
        }
        let file = self.file;
        let err = |pos, kind, message| YamlError::new(file, Some(pos), kind, message);
        match self.stack.last_mut() {
            None => self.root = Some(node),
            Some(Frame::Seq(_, _, items)) => items.push(node),
            Some(Frame::Map(_, _, entries, pending, seen)) => match pending.take() {
                Some(key) => entries.push((key, node)),
                None => {
                    if !matches!(node.kind, NodeKind::Scalar { .. }) {
                        return Err(err(
                            node.pos,
                            YamlErrorKind::Syntax,
                            "a mapping key must be a plain word, not a list or mapping".into(),
                        ));
                    }
                    let key = node.as_str().unwrap_or_default();
                    if let Some(first) = seen.get(key) {
                        return Err(err(
                            node.pos,
                            YamlErrorKind::DuplicateKey,
                            format!("duplicate key `{key}` (first at line {first}); keep one"),
                        ));
                    }
                    seen.insert(key.to_owned(), node.pos.line);
                    *pending = Some(node);
                }
            },
        }
        Ok(())
    }
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
