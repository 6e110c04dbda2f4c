//! The deserializer: typed structs from a [`Node`] tree, every error at its position,
//! unknown keys collected (not dropped).

use std::cell::RefCell;
use std::fmt;

use serde::de::{self, DeserializeSeed, IntoDeserializer, MapAccess, SeqAccess, Visitor};

use camino::Utf8Path;
use serde::de::DeserializeOwned;

use super::{
    Loaded, Node, NodeKind, Pos, UnknownKey, YamlError, YamlErrorKind, is_null_text, suggest,
};

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
