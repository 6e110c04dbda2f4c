//! Newtypes that cannot hold a bad value.
//!
//! Every name that appears in the tree or in a file is parsed once, at the edge, into one
//! of these types. Parse errors say what is wrong and how to fix it.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Deserializer, Serialize, Serializer};

/// Why a value was rejected by one of the newtypes of this module.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("invalid {what} `{value}`: {reason}")]
pub struct IdError {
    /// What kind of value it was meant to be ("component path", "version", …).
    pub what: &'static str,
    /// The rejected text.
    pub value: String,
    /// What is wrong and how to fix it.
    pub reason: String,
}

impl IdError {
    fn new(what: &'static str, value: &str, reason: impl Into<String>) -> Self {
        IdError {
            what,
            value: value.to_owned(),
            reason: reason.into(),
        }
    }
}

/// The first character of `value` that would let it forge output: a control character
/// (newline, carriage return, escape, tab, …), a Unicode line or paragraph separator, or a
/// bidirectional override; `None` when it is one line of plain text.
pub fn forging_char(value: &str) -> Option<(usize, char)> {
    value.char_indices().find(|&(_, c)| {
        c.is_control()
            || matches!(
                c,
                '\u{2028}' | '\u{2029}' | '\u{200e}' | '\u{200f}' | '\u{202a}'..='\u{202e}' | '\u{2066}'..='\u{2069}'
            )
    })
}

/// Checks a free-text value that berth records and prints later (an actor, a reason, an
/// approval, a pipeline URL): one line of text, without characters that could forge
/// output. `what` names it in the error (`--reason`).
pub fn check_line(what: &'static str, value: &str) -> Result<(), IdError> {
    match forging_char(value) {
        None => Ok(()),
        Some((at, c)) => Err(IdError::new(
            what,
            &value.escape_debug().to_string(),
            format!(
                "it holds the control character U+{:04X} at byte {at}; give one line of plain text (berth prints it in logs and messages)",
                c as u32
            ),
        )),
    }
}

/// Implements Display, FromStr, Serialize, Deserialize and schemars for a string newtype
/// whose constructor is `parse(&str) -> Result<Self, IdError>` and which displays as `as_str`.
macro_rules! string_newtype {
    ($ty:ident, $schema_desc:literal) => {
        impl fmt::Display for $ty {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(self.as_str())
            }
        }
        impl FromStr for $ty {
            type Err = IdError;
            fn from_str(s: &str) -> Result<Self, IdError> {
                $ty::parse(s)
            }
        }
        impl Serialize for $ty {
            fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
                s.serialize_str(self.as_str())
            }
        }
        impl<'de> Deserialize<'de> for $ty {
            fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
                let s = String::deserialize(d)?;
                $ty::parse(&s).map_err(serde::de::Error::custom)
            }
        }
        impl schemars::JsonSchema for $ty {
            fn schema_name() -> std::borrow::Cow<'static, str> {
                stringify!($ty).into()
            }
            fn json_schema(_: &mut schemars::SchemaGenerator) -> schemars::Schema {
                schemars::json_schema!({ "type": "string", "description": $schema_desc })
            }
        }
    };
}

/// True for a lowercase name segment: `[a-z0-9][a-z0-9._-]*`, not `.`/`..`.
fn is_segment(s: &str) -> bool {
    let mut chars = s.chars();
    match chars.next() {
        Some(c) if c.is_ascii_lowercase() || c.is_ascii_digit() => {}
        _ => return false,
    }
    chars.all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || matches!(c, '.' | '_' | '-'))
}

fn segment_reason(seg: &str) -> String {
    if seg.is_empty() {
        "it has an empty segment (`//`, or a leading or trailing `/`)".to_owned()
    } else if seg == "." || seg == ".." {
        format!("segment `{seg}` is not allowed; name the directory itself")
    } else if seg.chars().any(|c| c.is_ascii_uppercase()) {
        format!(
            "segment `{seg}` has uppercase letters; use `{}`",
            seg.to_ascii_lowercase()
        )
    } else {
        format!(
            "segment `{seg}` must start with a lowercase letter or digit and hold only a-z, 0-9, `.`, `_` and `-`"
        )
    }
}

/// The longest component path, in bytes.
pub const MAX_PATH_LEN: usize = 400;
/// The longest segment of a component path, in bytes.
pub const MAX_SEGMENT_LEN: usize = 100;

/// A component's name, which is its path below `components/`: `cloud/dmp/ms-ingestion`.
///
/// Two segments or more, each `[a-z0-9][a-z0-9._-]*` of at most [`MAX_SEGMENT_LEN`] bytes;
/// never absolute, never `.` or `..`, no segment named `versions`, not starting with
/// `components`.
///
/// Cheap to clone (shared text): a repository walk hands one to every path and version
/// of the component.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct ComponentPath(std::sync::Arc<str>);

impl ComponentPath {
    /// Parses and checks a component path.
    pub fn parse(s: &str) -> Result<Self, IdError> {
        const WHAT: &str = "component path";
        if s.is_empty() {
            return Err(IdError::new(
                WHAT,
                s,
                "it is empty; write e.g. `cloud/dmp/ms-ingestion`",
            ));
        }
        if s.starts_with('/') {
            return Err(IdError::new(
                WHAT,
                s,
                "it is absolute; write it relative to `components/`, e.g. `cloud/dmp/ms-ingestion`",
            ));
        }
        if s.len() > MAX_PATH_LEN {
            return Err(IdError::new(
                WHAT,
                &s[..s.floor_char_boundary(64)],
                format!(
                    "it is {} bytes long; a component path has at most {MAX_PATH_LEN}",
                    s.len()
                ),
            ));
        }
        for seg in s.split('/') {
            if !is_segment(seg) {
                return Err(IdError::new(WHAT, s, segment_reason(seg)));
            }
            if seg.len() > MAX_SEGMENT_LEN {
                return Err(IdError::new(
                    WHAT,
                    s,
                    format!(
                        "segment `{}…` is {} bytes long; a segment has at most {MAX_SEGMENT_LEN}",
                        &seg[..32],
                        seg.len()
                    ),
                ));
            }
            if seg == crate::layout::VERSIONS_DIR {
                return Err(IdError::new(
                    WHAT,
                    s,
                    "a segment may not be named `versions`: that directory holds a component's versions",
                ));
            }
        }
        if s.split('/').next() == Some(crate::layout::COMPONENTS_DIR) {
            return Err(IdError::new(
                WHAT,
                s,
                format!(
                    "it starts with `components/`; write the path below that directory: `{}`",
                    &s["components/".len()..]
                ),
            ));
        }
        if s.split('/').count() < 2 {
            return Err(IdError::new(
                WHAT,
                s,
                "a component lives in a group: give two segments or more, e.g. `cloud/dmp/ms-ingestion`",
            ));
        }
        Ok(ComponentPath(std::sync::Arc::from(s)))
    }

    /// The path as text.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The segments, top first.
    pub fn segments(&self) -> impl DoubleEndedIterator<Item = &str> {
        self.0.split('/')
    }

    /// The last segment: the service name (`ms-ingestion`).
    pub fn name(&self) -> &str {
        self.0.rsplit('/').next().unwrap_or(&self.0)
    }

    /// The segment above the service: the group (`dmp`).
    pub fn group(&self) -> &str {
        self.segments().rev().nth(1).unwrap_or("")
    }

    /// The enclosing group paths, nearest first: `cloud/dmp`, then `cloud`.
    pub fn ancestors(&self) -> impl Iterator<Item = &str> {
        let s: &str = &self.0;
        s.char_indices()
            .filter(|&(_, c)| c == '/')
            .map(move |(i, _)| &s[..i])
            .collect::<Vec<_>>()
            .into_iter()
            .rev()
    }
}

string_newtype!(
    ComponentPath,
    "component path below components/, two lowercase segments or more"
);

/// The longest version, in bytes.
pub const MAX_VERSION_LEN: usize = 128;

/// A SemVer 2.0 version, as used for version directories (`1.0.2`, `2.0.0-rc.1`).
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Version(semver::Version);

impl Version {
    /// Parses a SemVer 2.0 version.
    pub fn parse(s: &str) -> Result<Self, IdError> {
        const WHAT: &str = "version";
        let trimmed = s.trim();
        if trimmed != s || s.is_empty() {
            return Err(IdError::new(WHAT, s, "remove the surrounding white space"));
        }
        if s.len() > MAX_VERSION_LEN {
            return Err(IdError::new(
                WHAT,
                &s[..s.floor_char_boundary(64)],
                format!(
                    "it is {} bytes long; a version has at most {MAX_VERSION_LEN}",
                    s.len()
                ),
            ));
        }
        if let Some(rest) = s.strip_prefix(['v', 'V'])
            && semver::Version::parse(rest).is_ok()
        {
            return Err(IdError::new(
                WHAT,
                s,
                format!("drop the leading `{}`: write `{rest}`", &s[..1]),
            ));
        }
        semver::Version::parse(s).map(Version).map_err(|e| {
            IdError::new(
                WHAT,
                s,
                format!("{e}; a SemVer 2.0 version looks like `1.0.2` or `2.0.0-rc.1`"),
            )
        })
    }

    /// The underlying semver value.
    pub fn semver(&self) -> &semver::Version {
        &self.0
    }

    /// True for a pre-release (`2.0.0-rc.1`).
    pub fn is_prerelease(&self) -> bool {
        !self.0.pre.is_empty()
    }

    /// The version as text (allocates).
    pub fn as_str(&self) -> String {
        self.0.to_string()
    }
}

impl From<semver::Version> for Version {
    fn from(v: semver::Version) -> Self {
        Version(v)
    }
}

impl fmt::Display for Version {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(&self.0, f)
    }
}
impl FromStr for Version {
    type Err = IdError;
    fn from_str(s: &str) -> Result<Self, IdError> {
        Version::parse(s)
    }
}
impl Serialize for Version {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(&self.0)
    }
}
impl<'de> Deserialize<'de> for Version {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        Version::parse(&s).map_err(serde::de::Error::custom)
    }
}
impl schemars::JsonSchema for Version {
    fn schema_name() -> std::borrow::Cow<'static, str> {
        "Version".into()
    }
    fn json_schema(_: &mut schemars::SchemaGenerator) -> schemars::Schema {
        schemars::json_schema!({
            "type": "string",
            "description": "SemVer 2.0 version",
            "pattern": r"^(0|[1-9]\d*)\.(0|[1-9]\d*)\.(0|[1-9]\d*)(?:-((?:0|[1-9]\d*|\d*[a-zA-Z-][0-9a-zA-Z-]*)(?:\.(?:0|[1-9]\d*|\d*[a-zA-Z-][0-9a-zA-Z-]*))*))?(?:\+([0-9a-zA-Z-]+(?:\.[0-9a-zA-Z-]+)*))?$"
        })
    }
}

/// An artifact format: the name of a format directory (`docker`, `deb`, `generic`, or one
/// registered by embedding code).
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Format(String);

impl Format {
    /// Docker / OCI image archives.
    pub const DOCKER: &'static str = "docker";
    /// Debian packages.
    pub const DEB: &'static str = "deb";
    /// Any files.
    pub const GENERIC: &'static str = "generic";
    /// The formats berth knows without registration.
    pub const BUILTIN: [&'static str; 3] = [Self::DOCKER, Self::DEB, Self::GENERIC];

    /// Parses a format name: a lowercase segment. Whether it is *known* is the layout's
    /// business (see [`crate::layout::Layout::formats`]).
    pub fn parse(s: &str) -> Result<Self, IdError> {
        if !is_segment(s) {
            return Err(IdError::new("format", s, segment_reason(s)));
        }
        Ok(Format(s.to_owned()))
    }
    /// The docker format.
    pub fn docker() -> Self {
        Format(Self::DOCKER.to_owned())
    }
    /// The deb format.
    pub fn deb() -> Self {
        Format(Self::DEB.to_owned())
    }
    /// The generic format.
    pub fn generic() -> Self {
        Format(Self::GENERIC.to_owned())
    }
    /// The name as text.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}
string_newtype!(
    Format,
    "artifact format: docker, deb, generic or a registered one"
);

/// Declares a lowercase-name newtype (`[a-z0-9][a-z0-9._-]*`).
macro_rules! name_newtype {
    ($(#[$m:meta])* $ty:ident, $what:literal) => {
        $(#[$m])*
        #[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
        pub struct $ty(String);

        impl $ty {
            #[doc = concat!("Parses a ", $what, " name.")]
            pub fn parse(s: &str) -> Result<Self, IdError> {
                if !is_segment(s) {
                    return Err(IdError::new($what, s, segment_reason(s)));
                }
                Ok($ty(s.to_owned()))
            }
            /// The name as text.
            pub fn as_str(&self) -> &str {
                &self.0
            }
        }
        string_newtype!($ty, $what);
    };
}

name_newtype!(
    /// A deployment domain: `cloud`, `core`, `ran`.
    DomainName,
    "domain"
);
name_newtype!(
    /// An environment, one rung of a domain's ladder: `staging`, `prod`.
    EnvName,
    "environment"
);
name_newtype!(
    /// A CPU architecture as Debian and OCI name it: `amd64`, `arm64`, `all`.
    Arch,
    "architecture"
);

impl Arch {
    /// True for Debian's `all`, which fits any architecture.
    pub fn is_all(&self) -> bool {
        self.0 == "all"
    }
    /// True when an artifact built for `self` can serve a host of `want`.
    pub fn fits(&self, want: &Arch) -> bool {
        self.is_all() || want.is_all() || self == want
    }
}

/// A SHA-256 digest. Displays as 64 lowercase hex digits (the manifest's `sha256` field);
/// parses with or without the OCI `sha256:` prefix.
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Sha256Digest([u8; 32]);

impl Sha256Digest {
    /// Parses 64 hex digits, optionally prefixed by `sha256:`.
    pub fn parse(s: &str) -> Result<Self, IdError> {
        const WHAT: &str = "sha256 digest";
        let hex_part = s.strip_prefix("sha256:").unwrap_or(s);
        if hex_part.len() != 64 {
            return Err(IdError::new(
                WHAT,
                s,
                format!(
                    "it has {} hex digits, a sha256 has 64; let berth compute it (`berth add`) instead of typing it",
                    hex_part.chars().count()
                ),
            ));
        }
        let mut out = [0u8; 32];
        hex::decode_to_slice(hex_part, &mut out).map_err(|_| {
            IdError::new(WHAT, s, "it holds characters other than hex digits 0-9 a-f")
        })?;
        if hex_part.chars().any(|c| c.is_ascii_uppercase()) {
            return Err(IdError::new(WHAT, s, "write the hex digits in lowercase"));
        }
        Ok(Sha256Digest(out))
    }

    /// Wraps raw digest bytes.
    pub fn from_bytes(bytes: [u8; 32]) -> Self {
        Sha256Digest(bytes)
    }

    /// The raw bytes.
    pub fn as_bytes(&self) -> &[u8; 32] {
        &self.0
    }

    /// The digest of `data`.
    pub fn of(data: &[u8]) -> Self {
        use sha2::Digest as _;
        Sha256Digest(sha2::Sha256::digest(data).into())
    }

    /// The digest of a set of named files, as a deb or generic `manifest.yaml` records it:
    /// the file's own digest when there is one file; for several, the digest of their
    /// `SHA256SUMS` listing (`<hex>  <name>\n`, sorted by name), so one value pins the set.
    /// `None` for no files.
    pub fn of_set<'a>(files: impl IntoIterator<Item = (&'a str, Sha256Digest)>) -> Option<Self> {
        let mut files: Vec<(&str, Sha256Digest)> = files.into_iter().collect();
        match files.len() {
            0 => None,
            1 => Some(files[0].1),
            _ => {
                files.sort_by(|a, b| a.0.cmp(b.0));
                let listing: String = files
                    .iter()
                    .map(|(name, d)| format!("{}  {name}\n", d.hex()))
                    .collect();
                Some(Sha256Digest::of(listing.as_bytes()))
            }
        }
    }

    /// 64 lowercase hex digits.
    pub fn hex(&self) -> String {
        hex::encode(self.0)
    }

    /// The OCI form: `sha256:<hex>`.
    pub fn oci(&self) -> String {
        format!("sha256:{}", self.hex())
    }
}

impl fmt::Debug for Sha256Digest {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Sha256Digest({})", self.hex())
    }
}
impl fmt::Display for Sha256Digest {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.hex())
    }
}
impl FromStr for Sha256Digest {
    type Err = IdError;
    fn from_str(s: &str) -> Result<Self, IdError> {
        Sha256Digest::parse(s)
    }
}
impl Serialize for Sha256Digest {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&self.hex())
    }
}
impl<'de> Deserialize<'de> for Sha256Digest {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        Sha256Digest::parse(&s).map_err(serde::de::Error::custom)
    }
}
impl schemars::JsonSchema for Sha256Digest {
    fn schema_name() -> std::borrow::Cow<'static, str> {
        "Sha256Digest".into()
    }
    fn json_schema(_: &mut schemars::SchemaGenerator) -> schemars::Schema {
        schemars::json_schema!({
            "type": "string",
            "description": "SHA-256 digest: 64 lowercase hex digits, optionally prefixed by sha256:",
            "pattern": "^(sha256:)?[0-9a-f]{64}$"
        })
    }
}

/// An RFC 3339 timestamp (`2025-05-10T22:15:00Z`). Displays in UTC with `Z`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Timestamp(jiff::Timestamp);

impl Timestamp {
    /// Parses an RFC 3339 timestamp with a zone offset.
    pub fn parse(s: &str) -> Result<Self, IdError> {
        s.parse::<jiff::Timestamp>().map(Timestamp).map_err(|e| {
            IdError::new(
                "timestamp",
                s,
                format!("{e}; write RFC 3339 with a zone, e.g. `2025-05-10T22:15:00Z`"),
            )
        })
    }
    /// Now, from the system clock.
    pub fn now() -> Self {
        Timestamp(jiff::Timestamp::now())
    }
    /// The underlying jiff value.
    pub fn jiff(&self) -> jiff::Timestamp {
        self.0
    }
    /// From seconds since the Unix epoch; `None` when out of range.
    pub fn from_unix(secs: i64) -> Option<Self> {
        jiff::Timestamp::from_second(secs).ok().map(Timestamp)
    }
}
impl From<jiff::Timestamp> for Timestamp {
    fn from(t: jiff::Timestamp) -> Self {
        Timestamp(t)
    }
}
impl fmt::Display for Timestamp {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // RFC 3339 in UTC, whole seconds unless the value carries a fraction.
        write!(f, "{}", self.0)
    }
}
impl FromStr for Timestamp {
    type Err = IdError;
    fn from_str(s: &str) -> Result<Self, IdError> {
        Timestamp::parse(s)
    }
}
impl Serialize for Timestamp {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}
impl<'de> Deserialize<'de> for Timestamp {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        Timestamp::parse(&s).map_err(serde::de::Error::custom)
    }
}
impl schemars::JsonSchema for Timestamp {
    fn schema_name() -> std::borrow::Cow<'static, str> {
        "Timestamp".into()
    }
    fn json_schema(_: &mut schemars::SchemaGenerator) -> schemars::Schema {
        schemars::json_schema!({
            "type": "string",
            "description": "RFC 3339 timestamp with zone, e.g. 2025-05-10T22:15:00Z",
            "format": "date-time"
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn component_paths() {
        let p = ComponentPath::parse("cloud/dmp/ms-ingestion").expect("valid");
        assert_eq!(p.name(), "ms-ingestion");
        assert_eq!(p.group(), "dmp");
        assert_eq!(p.ancestors().collect::<Vec<_>>(), ["cloud/dmp", "cloud"]);
        for bad in [
            "",
            "/cloud/x",
            "cloud",
            "cloud//x",
            "cloud/../x",
            "Cloud/x",
            "cloud/x/",
            "cloud/-x",
        ] {
            let e = ComponentPath::parse(bad).expect_err(bad);
            assert!(!e.reason.is_empty());
        }
    }

    #[test]
    fn versions() {
        assert!(Version::parse("2.0.0-rc.1").expect("valid").is_prerelease());
        let e = Version::parse("v1.0.2").expect_err("v prefix");
        assert!(e.reason.contains("write `1.0.2`"), "{e}");
        assert!(Version::parse("1.0").is_err());
    }

    #[test]
    fn digests() {
        let d = Sha256Digest::of(b"");
        assert_eq!(
            d.hex(),
            "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
        );
        assert_eq!(Sha256Digest::parse(&d.oci()).expect("oci form"), d);
        let e = Sha256Digest::parse("f409eabc0f...").expect_err("placeholder");
        assert!(e.reason.contains("64"), "{e}");
    }

    #[test]
    fn timestamps_round_trip() {
        let t = Timestamp::parse("2025-05-10T22:15:00Z").expect("valid");
        assert_eq!(t.to_string(), "2025-05-10T22:15:00Z");
        assert!(Timestamp::parse("2025-05-10").is_err());
    }

    #[test]
    fn arch_fits() {
        let all = Arch::parse("all").expect("valid");
        let amd = Arch::parse("amd64").expect("valid");
        let arm = Arch::parse("arm64").expect("valid");
        assert!(all.fits(&amd) && amd.fits(&all) && !amd.fits(&arm));
    }
}
