//! The typed files of a berth repository, field for field as the seed names them.
//!
//! Serde structs mirror the files exactly; anything derived (a component's owner, the
//! latest version) is computed elsewhere, never stored twice. Fields whose value can be
//! wrong without making the rest of the file meaningless are [`Checked`]: the file still
//! loads, and the validator reports the bad value at its line and column.

use std::collections::BTreeMap;
use std::fmt;
use std::str::FromStr;

use schemars::JsonSchema;
use serde::{Deserialize, Deserializer, Serialize, Serializer};

use crate::ids::{
    Arch, ComponentPath, DomainName, EnvName, Format, Sha256Digest, Timestamp, Version,
};

/// A value that is kept as written when it does not parse, so that the rest of its file
/// is still understood. [`Checked::get`] gives the typed value; [`Checked::error`] why not.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Checked<T> {
    /// The value parsed.
    Valid(T),
    /// It did not: the text as written, and why.
    Invalid {
        /// The text as written.
        raw: String,
        /// What is wrong, and how to fix it.
        error: String,
    },
}

impl<T> Checked<T> {
    /// The typed value, when valid.
    pub fn get(&self) -> Option<&T> {
        match self {
            Checked::Valid(v) => Some(v),
            Checked::Invalid { .. } => None,
        }
    }
    /// Why the value is invalid, when it is.
    pub fn error(&self) -> Option<&str> {
        match self {
            Checked::Valid(_) => None,
            Checked::Invalid { error, .. } => Some(error),
        }
    }
}

impl<T: fmt::Display> Checked<T> {
    /// The value as text, valid or not.
    pub fn text(&self) -> String {
        match self {
            Checked::Valid(v) => v.to_string(),
            Checked::Invalid { raw, .. } => raw.clone(),
        }
    }
}

impl<T> From<T> for Checked<T> {
    fn from(v: T) -> Self {
        Checked::Valid(v)
    }
}

impl<T: Serialize> Serialize for Checked<T> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        match self {
            Checked::Valid(v) => v.serialize(s),
            Checked::Invalid { raw, .. } => s.serialize_str(raw),
        }
    }
}

impl<'de, T: FromStr> Deserialize<'de> for Checked<T>
where
    T::Err: fmt::Display,
{
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let raw = d.deserialize_str(ScalarText)?;
        Ok(match raw.parse::<T>() {
            Ok(v) => Checked::Valid(v),
            Err(e) => Checked::Invalid {
                raw,
                error: e.to_string(),
            },
        })
    }
}

/// Accepts any scalar as its text.
struct ScalarText;

impl serde::de::Visitor<'_> for ScalarText {
    type Value = String;
    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a single value")
    }
    fn visit_str<E: serde::de::Error>(self, v: &str) -> Result<String, E> {
        Ok(v.to_owned())
    }
    fn visit_string<E: serde::de::Error>(self, v: String) -> Result<String, E> {
        Ok(v)
    }
    fn visit_i64<E: serde::de::Error>(self, v: i64) -> Result<String, E> {
        Ok(v.to_string())
    }
    fn visit_u64<E: serde::de::Error>(self, v: u64) -> Result<String, E> {
        Ok(v.to_string())
    }
    fn visit_f64<E: serde::de::Error>(self, v: f64) -> Result<String, E> {
        Ok(v.to_string())
    }
    fn visit_bool<E: serde::de::Error>(self, v: bool) -> Result<String, E> {
        Ok(v.to_string())
    }
}

impl<T: JsonSchema> JsonSchema for Checked<T> {
    fn schema_name() -> std::borrow::Cow<'static, str> {
        T::schema_name()
    }
    fn json_schema(g: &mut schemars::SchemaGenerator) -> schemars::Schema {
        T::json_schema(g)
    }
    fn inline_schema() -> bool {
        T::inline_schema()
    }
}

/// A TCP/UDP port number.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, JsonSchema)]
pub struct Port(#[schemars(range(min = 1, max = 65535))] pub u16);

impl FromStr for Port {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        match s.parse::<u16>() {
            Ok(0) | Err(_) => Err(format!(
                "`{s}` is not a port; give a number from 1 to 65535"
            )),
            Ok(p) => Ok(Port(p)),
        }
    }
}
impl fmt::Display for Port {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.fmt(f)
    }
}

/// A dependency: a component (full path, or its last segment when unique) and a SemVer
/// requirement, written `common-utils >=1.2.0` (no requirement means any version).
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Dependency {
    /// Full path or last segment, as written.
    pub name: String,
    /// The requirement, as written (`>=1.2.0, <2`), empty for any.
    pub req_text: String,
}

impl Dependency {
    /// The parsed requirement (always parses: checked at construction).
    pub fn req(&self) -> semver::VersionReq {
        if self.req_text.is_empty() {
            semver::VersionReq::STAR
        } else {
            semver::VersionReq::parse(&self.req_text).unwrap_or(semver::VersionReq::STAR)
        }
    }
    /// The component path, when the name is a full path.
    pub fn path(&self) -> Option<ComponentPath> {
        self.name
            .contains('/')
            .then(|| ComponentPath::parse(&self.name).ok())
            .flatten()
    }
}

impl FromStr for Dependency {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        let s = s.trim();
        let (name, req) = match s.find(|c: char| c.is_whitespace() || "<>=^~*".contains(c)) {
            Some(i) => (&s[..i], s[i..].trim()),
            None => (s, ""),
        };
        if name.is_empty() {
            return Err(format!(
                "`{s}` names no component; write `<component> <requirement>`, e.g. `common-utils >=1.2.0`"
            ));
        }
        let valid_name = if name.contains('/') {
            ComponentPath::parse(name).map(|_| ()).map_err(|e| e.reason)
        } else {
            crate::ids::DomainName::parse(name)
                .map(|_| ())
                .map_err(|e| e.reason)
        };
        valid_name.map_err(|r| format!("dependency `{s}`: {r}"))?;
        if !req.is_empty() {
            semver::VersionReq::parse(req).map_err(|e| {
                format!("dependency `{s}`: requirement `{req}` is not SemVer ({e}); write e.g. `>=1.2.0` or `^1.2`")
            })?;
        }
        Ok(Dependency {
            name: name.to_owned(),
            req_text: req.to_owned(),
        })
    }
}

impl fmt::Display for Dependency {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.req_text.is_empty() {
            f.write_str(&self.name)
        } else {
            write!(f, "{} {}", self.name, self.req_text)
        }
    }
}

impl Serialize for Dependency {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for Dependency {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        s.parse().map_err(serde::de::Error::custom)
    }
}

impl JsonSchema for Dependency {
    fn schema_name() -> std::borrow::Cow<'static, str> {
        "Dependency".into()
    }
    fn json_schema(_: &mut schemars::SchemaGenerator) -> schemars::Schema {
        schemars::json_schema!({
            "type": "string",
            "description": "component (full path or unique last segment) and an optional SemVer requirement, e.g. `common-utils >=1.2.0`"
        })
    }
}

/// `architecture`: one name, or a list when `multi_arch: true`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, JsonSchema)]
#[serde(untagged)]
pub enum ArchField {
    /// A single architecture.
    One(Checked<Arch>),
    /// Several (needs `multi_arch: true`).
    Many(Vec<Checked<Arch>>),
}

impl<'de> Deserialize<'de> for ArchField {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> serde::de::Visitor<'de> for V {
            type Value = ArchField;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(
                    "an architecture name such as `amd64`, or (with `multi_arch: true`) a list of names",
                )
            }
            fn visit_str<E: serde::de::Error>(self, v: &str) -> Result<ArchField, E> {
                Ok(ArchField::One(checked(v)))
            }
            fn visit_i64<E: serde::de::Error>(self, v: i64) -> Result<ArchField, E> {
                Ok(ArchField::One(checked(&v.to_string())))
            }
            fn visit_u64<E: serde::de::Error>(self, v: u64) -> Result<ArchField, E> {
                Ok(ArchField::One(checked(&v.to_string())))
            }
            fn visit_f64<E: serde::de::Error>(self, v: f64) -> Result<ArchField, E> {
                Ok(ArchField::One(checked(&v.to_string())))
            }
            fn visit_bool<E: serde::de::Error>(self, v: bool) -> Result<ArchField, E> {
                Ok(ArchField::One(checked(&v.to_string())))
            }
            fn visit_seq<A: serde::de::SeqAccess<'de>>(
                self,
                mut seq: A,
            ) -> Result<ArchField, A::Error> {
                let mut out = Vec::new();
                while let Some(a) = seq.next_element::<Checked<Arch>>()? {
                    out.push(a);
                }
                Ok(ArchField::Many(out))
            }
            fn visit_map<A: serde::de::MapAccess<'de>>(self, _: A) -> Result<ArchField, A::Error> {
                Err(serde::de::Error::custom(
                    "expected an architecture name such as `amd64`, or (with `multi_arch: true`) a list of names, found a mapping",
                ))
            }
        }
        fn checked(v: &str) -> Checked<Arch> {
            match v.parse::<Arch>() {
                Ok(a) => Checked::Valid(a),
                Err(e) => Checked::Invalid {
                    raw: v.to_owned(),
                    error: e.to_string(),
                },
            }
        }
        d.deserialize_any(V)
    }
}

impl ArchField {
    /// The architectures that parsed.
    pub fn archs(&self) -> Vec<&Arch> {
        match self {
            ArchField::One(a) => a.get().into_iter().collect(),
            ArchField::Many(v) => v.iter().filter_map(Checked::get).collect(),
        }
    }
}

/// `metadata.yaml`: one per component version.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct Metadata {
    /// CPU architecture (`amd64`, `arm64`, `all`), or a list with `multi_arch: true`.
    pub architecture: ArchField,
    /// Domains this version may run in (`cloud`, `core`, `ran`).
    pub domains: Vec<Checked<DomainName>>,
    /// Environments it may run in (`staging`, `prod`).
    pub environments: Vec<Checked<EnvName>>,
    /// Other components it needs: `common-utils >=1.2.0`.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub dependencies: Vec<Checked<Dependency>>,
    /// The group: the path segment above the service (`dmp`).
    pub group: String,
    /// The service: the last path segment (`ms-ingestion`).
    pub service_name: String,
    /// The team that builds it.
    pub team: String,
    /// The port the service listens on.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub port_exposed: Option<Checked<Port>>,
    /// True when `architecture` is a list and images cover several platforms.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub multi_arch: Option<bool>,
    /// Free text for operators.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub notes: Option<String>,
    /// Free key/value tags, for `berth query --label`.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub labels: BTreeMap<String, String>,
    /// Everything else: `x-…` keys (kept for custom rules) and unknown keys (reported by
    /// the validator as `schema/unknown-field`).
    ///
    /// Filled from the source tree after loading (see `berth_model::repo`), so that every
    /// known field keeps its exact position.
    #[serde(flatten, skip_deserializing)]
    #[schemars(skip)]
    pub extra: BTreeMap<String, serde_json::Value>,
}

impl Metadata {
    /// The keys `metadata.yaml` knows, for "did you mean" hints.
    pub const FIELDS: &'static [&'static str] = &[
        "architecture",
        "domains",
        "environments",
        "dependencies",
        "group",
        "service_name",
        "team",
        "port_exposed",
        "multi_arch",
        "notes",
        "labels",
    ];

    /// Keys of `extra` that are neither known nor `x-…`: typos.
    pub fn unknown_keys(&self) -> impl Iterator<Item = &str> {
        self.extra
            .keys()
            .map(String::as_str)
            .filter(|k| !k.starts_with("x-"))
    }

    /// Sorts and de-duplicates the set-like lists, for canonical output.
    pub fn canonicalize(&mut self) {
        fn sort<T: Ord + fmt::Display>(v: &mut Vec<Checked<T>>) {
            v.sort_by_key(Checked::text);
            v.dedup_by(|a, b| a.text() == b.text());
        }
        sort(&mut self.domains);
        sort(&mut self.environments);
        sort(&mut self.dependencies);
        if let ArchField::Many(v) = &mut self.architecture {
            sort(v);
        }
    }

    /// The domains that parsed.
    pub fn domain_names(&self) -> impl Iterator<Item = &DomainName> {
        self.domains.iter().filter_map(Checked::get)
    }

    /// The environments that parsed.
    pub fn env_names(&self) -> impl Iterator<Item = &EnvName> {
        self.environments.iter().filter_map(Checked::get)
    }

    /// The dependencies that parsed.
    pub fn deps(&self) -> impl Iterator<Item = &Dependency> {
        self.dependencies.iter().filter_map(Checked::get)
    }
}

/// One file of a format directory, as listed in `manifest.yaml`.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize, JsonSchema)]
pub struct FileEntry {
    /// Path relative to the format directory.
    pub path: String,
    /// Size in bytes.
    pub size: u64,
    /// SHA-256 of the content.
    pub sha256: Checked<Sha256Digest>,
}

/// The Debian control fields that matter, in a deb `manifest.yaml`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct DebFields {
    /// `Package`.
    pub package: String,
    /// `Version`, Debian syntax (epochs, tildes).
    pub version: String,
    /// `Architecture`.
    pub architecture: String,
    /// `Depends`, as written.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub depends: Option<String>,
    /// `Installed-Size`, in KiB.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub installed_size: Option<u64>,
}

/// `manifest.yaml`: one per format directory, generated by berth from the artifact.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Manifest {
    /// `docker`, `deb` or `generic`: the directory it sits in.
    pub format: Checked<Format>,
    /// The component version (the version directory's name).
    pub version: Checked<Version>,
    /// The image the artifact was built from.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub base_image: Option<String>,
    /// docker: OCI manifest (or index) digest, or the image ID for `docker save`
    /// archives; deb: the .deb file; generic: the first file (see `files` for all).
    pub sha256: Checked<Sha256Digest>,
    /// When the artifact was built, from the artifact's own timestamp.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub built_at: Option<Checked<Timestamp>>,
    /// Image labels (docker) or free labels.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub labels: BTreeMap<String, String>,
    /// docker: the image ID (config digest).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub image_id: Option<Checked<Sha256Digest>>,
    /// docker: `os/arch[/variant]` of every platform.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub platforms: Vec<String>,
    /// deb: the control fields that matter.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub deb: Option<DebFields>,
    /// Every file of the format directory but this manifest: path, size, sha256.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub files: Vec<FileEntry>,
}

/// `ownership.yaml`: the owner of everything below its directory.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Ownership {
    /// The owning team.
    pub owner_team: String,
    /// Who decides on the product.
    pub product_owner: String,
    /// Where notifications go: `#cloud-dmp-alerts`.
    pub slack_channel: String,
    /// The source repository URL.
    pub source_repo: String,
    /// The CI pipelines URL.
    pub ci_pipeline: String,
    /// Who audits.
    pub audit_contact: String,
    /// Other teams that may publish below this group.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub teams: Vec<String>,
    /// Who may approve promotions into gated stages: a name (`priya.k`), or a name with
    /// the public keys that sign for it (`{name: priya.k, keys: ["ssh-ed25519 AAAA…"]}`;
    /// an OpenPGP key as its ASCII-armored block).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub approvers: Vec<Approver>,
}

impl Ownership {
    /// True when `team` owns the group or is listed in `teams`.
    pub fn allows_team(&self, team: &str) -> bool {
        self.owner_team == team || self.teams.iter().any(|t| t == team)
    }

    /// The approvers' names.
    pub fn approver_names(&self) -> Vec<String> {
        self.approvers.iter().map(|a| a.name.clone()).collect()
    }
}

/// One entry of `approvers`: a person, and the public keys their approvals are signed
/// with. Written as a plain name when it has no key.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct Approver {
    /// The name approvals are recorded under (`priya.k`).
    pub name: String,
    /// Public keys: an OpenSSH public key line (`ssh-ed25519 AAAA… comment`), or an
    /// ASCII-armored OpenPGP public key block.
    pub keys: Vec<String>,
}

impl Approver {
    /// An approver known by name only.
    pub fn named(name: impl Into<String>) -> Self {
        Approver {
            name: name.into(),
            keys: Vec::new(),
        }
    }
}

impl fmt::Display for Approver {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.name)
    }
}

impl From<&str> for Approver {
    fn from(name: &str) -> Self {
        Approver::named(name)
    }
}

impl Serialize for Approver {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        use serde::ser::SerializeMap as _;
        if self.keys.is_empty() {
            return s.serialize_str(&self.name);
        }
        let mut m = s.serialize_map(Some(2))?;
        m.serialize_entry("name", &self.name)?;
        m.serialize_entry("keys", &self.keys)?;
        m.end()
    }
}

impl<'de> Deserialize<'de> for Approver {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> serde::de::Visitor<'de> for V {
            type Value = Approver;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("an approver's name, or a mapping with `name` and `keys`")
            }
            fn visit_str<E: serde::de::Error>(self, v: &str) -> Result<Approver, E> {
                Ok(Approver::named(v))
            }
            fn visit_map<A: serde::de::MapAccess<'de>>(
                self,
                mut map: A,
            ) -> Result<Approver, A::Error> {
                let (mut name, mut keys) = (None, None);
                while let Some(k) = map.next_key::<String>()? {
                    match k.as_str() {
                        "name" => name = Some(map.next_value::<String>()?),
                        "keys" => keys = Some(map.next_value::<Vec<String>>()?),
                        other => {
                            return Err(serde::de::Error::unknown_field(other, &["name", "keys"]));
                        }
                    }
                }
                Ok(Approver {
                    name: name.ok_or_else(|| serde::de::Error::missing_field("name"))?,
                    keys: keys.unwrap_or_default(),
                })
            }
        }
        d.deserialize_any(V)
    }
}

impl JsonSchema for Approver {
    fn schema_name() -> std::borrow::Cow<'static, str> {
        "Approver".into()
    }
    fn json_schema(_: &mut schemars::SchemaGenerator) -> schemars::Schema {
        schemars::json_schema!({
            "description": "An approver: a name, or a name with the public keys that sign its approvals",
            "anyOf": [
                { "type": "string" },
                {
                    "type": "object",
                    "required": ["name"],
                    "additionalProperties": false,
                    "properties": {
                        "name": { "type": "string" },
                        "keys": {
                            "type": "array",
                            "items": {
                                "type": "string",
                                "description": "An OpenSSH public key line, or an ASCII-armored OpenPGP public key block"
                            }
                        }
                    }
                }
            ]
        })
    }
}

/// One row of `index/components.yaml`.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize, JsonSchema)]
pub struct ComponentEntry {
    /// The component path.
    pub name: ComponentPath,
    /// Its latest good version.
    pub latest_version: Version,
}

/// `index/components.yaml`: the latest good version of every component, sorted by name.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct ComponentsIndex {
    /// The rows.
    #[serde(default)]
    pub components: Vec<ComponentEntry>,
}

impl ComponentsIndex {
    /// The latest version recorded for `name`.
    pub fn latest(&self, name: &str) -> Option<&Version> {
        self.components
            .binary_search_by(|e| e.name.as_str().cmp(name))
            .ok()
            .map(|i| &self.components[i].latest_version)
            .or_else(|| {
                self.components
                    .iter()
                    .find(|e| e.name.as_str() == name)
                    .map(|e| &e.latest_version)
            })
    }
    /// Sorts by name, for canonical output.
    pub fn canonicalize(&mut self) {
        self.components.sort();
        self.components.dedup_by(|a, b| a.name == b.name);
    }
}

/// One row of a domain file.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize, JsonSchema)]
pub struct DomainEntry {
    /// The component path.
    pub name: ComponentPath,
    /// The version this stage runs.
    pub version: Version,
}

/// `index/domain-<domain>[-<env>].yaml`: what one stage of a domain runs.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct DomainIndex {
    /// The rows, sorted by name.
    #[serde(default)]
    pub components: Vec<DomainEntry>,
    /// The sha256 of the stage's latest audit record, written by `berth promote` and
    /// `berth rollback` with the record: it anchors the trail, so that an edit to any
    /// record, the newest included, shows (`berth log`, `audit/chain`). Readers of the
    /// seed's shape ignore it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub audit_head: Option<Sha256Digest>,
}

impl DomainIndex {
    /// The version this stage runs for `name`.
    pub fn version_of(&self, name: &ComponentPath) -> Option<&Version> {
        self.components
            .iter()
            .find(|e| &e.name == name)
            .map(|e| &e.version)
    }
    /// Sets (or with `None` removes) the version of `name`, keeping rows sorted.
    pub fn set(&mut self, name: &ComponentPath, version: Option<Version>) {
        self.components.retain(|e| &e.name != name);
        if let Some(version) = version {
            self.components.push(DomainEntry {
                name: name.clone(),
                version,
            });
        }
        self.components.sort();
    }
}

/// What an audit record records.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "kebab-case")]
pub enum AuditAction {
    /// A version entered a stage.
    Promote,
    /// A stage went back to an earlier version.
    Rollback,
}

/// One audit record: who, when, what, why. Written once, never edited.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct AuditRecord {
    /// What happened.
    pub action: AuditAction,
    /// Who did it.
    pub actor: String,
    /// When.
    pub at: Timestamp,
    /// The component.
    pub component: ComponentPath,
    /// The version the stage runs now.
    pub version: Version,
    /// The domain.
    pub domain: DomainName,
    /// The environment (stage) of the domain.
    pub environment: EnvName,
    /// The version the stage ran before, if any.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub previous_version: Option<Version>,
    /// Why.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
    /// Who approved.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub approvals: Vec<String>,
    /// The CI pipeline that did it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pipeline_url: Option<String>,
    /// Links to test reports and other evidence.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub evidence: Vec<String>,
    /// Findings that did not stop the change, recorded with it: policy findings of a
    /// version the stage ran before (a rollback to it after the policy changed).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub warnings: Vec<String>,
    /// SHA-256 of the previous record of the same stage: a tamper-evident chain.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub previous_record: Option<Sha256Digest>,
}
