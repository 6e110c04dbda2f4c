//! `berth.toml`: domains and their ladders, allowed architectures, policy, rule
//! severities and where notifications go.

use std::collections::BTreeMap;

use camino::{Utf8Path, Utf8PathBuf};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use crate::ids::{Arch, DomainName, EnvName, Format};
use crate::store::Limits;
use crate::yaml::Pos;

/// The whole of `berth.toml`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Config {
    /// Repository-wide settings.
    #[serde(default)]
    pub repository: RepositoryConfig,
    /// The domains, each with its ladder of environments (first to last; the last is
    /// production and is written to `index/domain-<domain>.yaml`).
    #[serde(default)]
    pub domains: BTreeMap<DomainName, DomainConfig>,
    /// Policy for builds and promotions.
    #[serde(default)]
    pub policy: Policy,
    /// Severity overrides per rule id: `"manifest/missing-label" = "warn"`.
    #[serde(default)]
    pub rules: BTreeMap<String, Severity>,
    /// Notifications.
    #[serde(default)]
    pub notify: NotifyConfig,
    /// Size limits of the files berth reads.
    #[serde(default)]
    pub limits: LimitsConfig,
}

/// `[limits]`: size limits checked before a file is read (hostile or runaway input never
/// reaches the parser).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct LimitsConfig {
    /// Largest metadata.yaml, manifest.yaml, ownership.yaml or audit record, in bytes
    /// (default 1 MiB).
    #[serde(default = "default_yaml_bytes")]
    pub yaml_bytes: u64,
    /// Largest `index/components.yaml` or domain file, in bytes (default 64 MiB).
    #[serde(default = "default_index_bytes")]
    pub index_bytes: u64,
    /// Longest single YAML value or key, in bytes (default 64 KiB).
    #[serde(default = "default_string_bytes")]
    pub string_bytes: u64,
}

fn default_yaml_bytes() -> u64 {
    Limits::DEFAULT.yaml_bytes
}
fn default_index_bytes() -> u64 {
    Limits::DEFAULT.index_bytes
}
fn default_string_bytes() -> u64 {
    Limits::DEFAULT.string_bytes
}

impl Default for LimitsConfig {
    fn default() -> Self {
        LimitsConfig {
            yaml_bytes: default_yaml_bytes(),
            index_bytes: default_index_bytes(),
            string_bytes: default_string_bytes(),
        }
    }
}

/// `[repository]`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct RepositoryConfig {
    /// Architectures allowed in `metadata.yaml` (`all` is always allowed).
    #[serde(default = "default_archs")]
    pub architectures: Vec<Arch>,
    /// Whether pre-releases may be "latest" in `index/components.yaml`.
    #[serde(default)]
    pub latest_includes_prereleases: bool,
    /// Formats registered besides docker, deb and generic.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub extra_formats: Vec<String>,
}

impl Default for RepositoryConfig {
    fn default() -> Self {
        RepositoryConfig {
            architectures: default_archs(),
            latest_includes_prereleases: false,
            extra_formats: Vec::new(),
        }
    }
}

fn default_archs() -> Vec<Arch> {
    ["amd64", "arm64"]
        .iter()
        .filter_map(|a| Arch::parse(a).ok())
        .collect()
}

/// `[domains.<name>]`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct DomainConfig {
    /// Environments in promotion order: `["staging", "prod"]`.
    pub ladder: Vec<EnvName>,
    /// Whether a version may enter a stage without running in the one before.
    #[serde(default)]
    pub allow_skip: bool,
}

impl DomainConfig {
    /// The last rung: production.
    pub fn production(&self) -> Option<&EnvName> {
        self.ladder.last()
    }
    /// The stage before `env`, if any.
    pub fn previous(&self, env: &EnvName) -> Option<&EnvName> {
        let i = self.ladder.iter().position(|e| e == env)?;
        i.checked_sub(1).map(|j| &self.ladder[j])
    }
}

/// `[policy]`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Policy {
    /// Labels every docker image must carry.
    #[serde(default)]
    pub required_labels: Vec<String>,
    /// Glob patterns (`*`, `?`) of allowed base images; empty allows any.
    #[serde(default)]
    pub allowed_base_images: Vec<String>,
    /// The oldest build, in days, that may still be promoted.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_build_age_days: Option<u32>,
    /// Approvals needed to enter an environment: `prod = 1`.
    #[serde(default)]
    pub approvals: BTreeMap<EnvName, u32>,
}

/// `[notify]`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct NotifyConfig {
    /// The environment variable holding the default Slack webhook URL
    /// (default `BERTH_SLACK_WEBHOOK`). URLs never live in the tree.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub webhook_env: Option<String>,
    /// Per-channel environment variables: `"#cloud-dmp-alerts" = "SLACK_HOOK_DMP"`.
    #[serde(default)]
    pub channels: BTreeMap<String, String>,
}

/// How serious a rule's finding is.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize, JsonSchema,
)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    /// Reported, never fails.
    Info,
    /// Fails only with `--deny warnings`.
    Warn,
    /// Fails validation; an erroneous version is never "latest" nor promoted.
    Error,
    /// The rule is off.
    Off,
}

impl Severity {
    /// The lowercase name.
    pub fn as_str(self) -> &'static str {
        match self {
            Severity::Info => "info",
            Severity::Warn => "warn",
            Severity::Error => "error",
            Severity::Off => "off",
        }
    }
}

/// A `berth.toml` that could not be read.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{}{}: {message}", file, pos.map(|p| format!(":{p}")).unwrap_or_default())]
pub struct ConfigError {
    /// The file.
    pub file: Utf8PathBuf,
    /// Where, when known.
    pub pos: Option<Pos>,
    /// What is wrong.
    pub message: String,
}

impl Config {
    /// Parses `berth.toml` text; errors carry line and column.
    pub fn parse(file: &Utf8Path, text: &str) -> Result<Config, ConfigError> {
        let cfg: Config = toml::from_str(text).map_err(|e| {
            let pos = e.span().map(|span| pos_of(text, span.start));
            ConfigError {
                file: file.to_owned(),
                pos,
                message: e.message().trim().to_owned(),
            }
        })?;
        check(&cfg, text).map_err(|(span, message)| ConfigError {
            file: file.to_owned(),
            pos: span.map(|sp| pos_of(text, sp.start)),
            message,
        })?;
        Ok(cfg)
    }

    /// The size limits of files berth reads.
    pub fn limits(&self) -> Limits {
        Limits {
            yaml_bytes: self.limits.yaml_bytes,
            index_bytes: self.limits.index_bytes,
            string_bytes: self.limits.string_bytes,
        }
    }

    /// The ladder of `domain`, if declared.
    pub fn domain(&self, domain: &DomainName) -> Option<&DomainConfig> {
        self.domains.get(domain)
    }

    /// True when `env` is a rung of any domain's ladder.
    pub fn knows_env(&self, env: &EnvName) -> bool {
        self.domains.values().any(|d| d.ladder.contains(env))
    }

    /// True when the architecture is allowed (`all` always is).
    pub fn allows_arch(&self, arch: &Arch) -> bool {
        arch.is_all() || self.repository.architectures.contains(arch)
    }

    /// The commented `berth.toml` that `berth init` writes.
    pub fn template() -> &'static str {
        TEMPLATE
    }
}

/// The parts of `berth.toml` whose semantic checks need positions, with their spans.
#[derive(Deserialize, Default)]
struct Spans {
    #[serde(default)]
    repository: RepoSpans,
    #[serde(default)]
    domains: BTreeMap<String, toml::Spanned<DomainSpans>>,
    #[serde(default)]
    policy: PolicySpans,
    #[serde(default)]
    limits: BTreeMap<String, toml::Spanned<toml::Value>>,
}

#[derive(Deserialize, Default)]
struct RepoSpans {
    #[serde(default)]
    architectures: Vec<toml::Spanned<String>>,
    #[serde(default)]
    extra_formats: Vec<toml::Spanned<String>>,
}

#[derive(Deserialize, Default)]
struct DomainSpans {
    #[serde(default)]
    ladder: Vec<toml::Spanned<String>>,
}

#[derive(Deserialize, Default)]
struct PolicySpans {
    #[serde(default)]
    approvals: BTreeMap<toml::Spanned<String>, toml::Value>,
}

type CheckError = (Option<std::ops::Range<usize>>, String);

/// What serde cannot say about a config that parsed: repeated rungs, format names that are
/// not directory names, approvals for environments no ladder has, zero limits.
fn check(cfg: &Config, text: &str) -> Result<(), CheckError> {
    let spans: Spans = toml::from_str(text).unwrap_or_default();
    for (name, d) in &spans.domains {
        let ladder = &d.get_ref().ladder;
        if ladder.is_empty() {
            return Err((
                Some(d.span()),
                format!(
                    "[domains.{name}] ladder is empty; list its environments, e.g. ladder = [\"staging\", \"prod\"]"
                ),
            ));
        }
        for (i, rung) in ladder.iter().enumerate() {
            if ladder[..i].iter().any(|r| r.get_ref() == rung.get_ref()) {
                return Err((
                    Some(rung.span()),
                    format!(
                        "[domains.{name}] ladder lists `{}` twice; each environment is one rung",
                        rung.get_ref()
                    ),
                ));
            }
        }
    }
    let archs = &spans.repository.architectures;
    for (i, a) in archs.iter().enumerate() {
        if archs[..i].iter().any(|x| x.get_ref() == a.get_ref()) {
            return Err((
                Some(a.span()),
                format!("[repository] architectures lists `{}` twice", a.get_ref()),
            ));
        }
    }
    let formats = &spans.repository.extra_formats;
    for (i, f) in formats.iter().enumerate() {
        let name = f.get_ref();
        let problem = if let Err(e) = Format::parse(name) {
            Some(format!(
                "[repository] extra_formats: `{name}` is not a format directory name: {}",
                e.reason
            ))
        } else if Format::BUILTIN.contains(&name.as_str()) {
            Some(format!(
                "[repository] extra_formats: `{name}` is built in; list only additional formats"
            ))
        } else if name == crate::layout::VERSIONS_DIR {
            Some(format!("[repository] extra_formats: `{name}` is reserved"))
        } else if formats[..i].iter().any(|x| x.get_ref() == name) {
            Some(format!("[repository] extra_formats lists `{name}` twice"))
        } else {
            None
        };
        if let Some(p) = problem {
            return Err((Some(f.span()), p));
        }
    }
    for env in spans.policy.approvals.keys() {
        let known = EnvName::parse(env.get_ref())
            .map(|e| cfg.knows_env(&e))
            .unwrap_or(false);
        if !known {
            return Err((
                Some(env.span()),
                format!(
                    "[policy.approvals] names `{}`, which is on no domain's ladder",
                    env.get_ref()
                ),
            ));
        }
    }
    for (key, v) in &spans.limits {
        if v.get_ref().as_integer().is_some_and(|n| n <= 0) {
            return Err((
                Some(v.span()),
                format!("[limits] {key} must be a positive number of bytes"),
            ));
        }
    }
    Ok(())
}

/// Line and column (1-based) of a byte offset.
pub fn pos_of(text: &str, offset: usize) -> Pos {
    let before = &text[..offset.min(text.len())];
    let line = before.matches('\n').count() as u32 + 1;
    let col = before.rsplit('\n').next().map_or(0, |l| l.chars().count()) as u32 + 1;
    Pos { line, col }
}

const TEMPLATE: &str = r##"# berth.toml: the configuration of a berth repository.
# Docs: `berth schema` prints the JSON Schema of this file; README.md has a tour.

[repository]
# Architectures allowed in metadata.yaml (`all` is always allowed).
architectures = ["amd64", "arm64"]
# Whether pre-releases (2.0.0-rc.1) may become the latest version in index/components.yaml.
latest_includes_prereleases = false

# Each domain has a ladder of environments, first to last. A version climbs it one rung
# at a time. The last rung is production: index/domain-<domain>.yaml. The earlier ones
# are index/domain-<domain>-<env>.yaml.
[domains.cloud]
ladder = ["staging", "prod"]

[domains.core]
ladder = ["staging", "prod"]

[domains.ran]
ladder = ["lab", "staging", "prod"]
# allow_skip = true   # let a version enter a stage without running in the one before

[policy]
# Labels every docker image must carry.
required_labels = ["org.opencontainers.image.revision"]
# Base images allowed (glob patterns); empty allows any.
allowed_base_images = []
# The oldest build, in days, that may still be promoted.
# max_build_age_days = 90

# Approvals needed to enter an environment; approvers come from ownership.yaml.
[policy.approvals]
prod = 1

# Severity per rule id: "error", "warn", "info" or "off". `berth validate --list-rules`.
[rules]
# "manifest/missing-label" = "warn"

# Size limits of the files berth reads, checked before reading (bytes).
[limits]
# yaml_bytes = 1048576      # metadata.yaml, manifest.yaml, ownership.yaml, audit records
# index_bytes = 67108864    # index/components.yaml and domain files
# string_bytes = 65536      # the longest single value

# Slack webhooks come from the environment, never from this file.
[notify]
# webhook_env = "BERTH_SLACK_WEBHOOK"
[notify.channels]
# "#cloud-dmp-alerts" = "SLACK_WEBHOOK_CLOUD_DMP"
"##;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn template_parses() {
        let cfg = Config::parse(Utf8Path::new("berth.toml"), TEMPLATE).expect("template is valid");
        let cloud = DomainName::parse("cloud").expect("valid");
        let prod = EnvName::parse("prod").expect("valid");
        assert_eq!(cfg.domain(&cloud).and_then(|d| d.production()), Some(&prod));
        assert_eq!(cfg.policy.approvals.get(&prod), Some(&1));
    }

    #[test]
    fn semantic_errors_name_the_key_and_line() {
        let cases = [
            (
                "[domains.cloud]\nladder = [\"staging\", \"prod\", \"staging\"]\n",
                2,
                "twice",
            ),
            (
                "[repository]\nextra_formats = [\"../../evil\"]\n",
                2,
                "not a format directory name",
            ),
            (
                "[repository]\nextra_formats = [\"docker\"]\n",
                2,
                "built in",
            ),
            ("[repository]\nextra_formats = [\"DEB\"]\n", 2, "uppercase"),
            (
                "[repository]\nextra_formats = [\"rpm\", \"rpm\"]\n",
                2,
                "twice",
            ),
            (
                "[domains.cloud]\nladder = [\"prod\"]\n[policy.approvals]\nqa = 1\n",
                4,
                "no domain's ladder",
            ),
            ("[domains.cloud]\nladder = []\n", 1, "empty"),
            ("[limits]\nyaml_bytes = 0\n", 2, "positive"),
        ];
        for (text, line, words) in cases {
            let e = Config::parse(Utf8Path::new("berth.toml"), text).expect_err(text);
            assert_eq!(e.pos.map(|p| p.line), Some(line), "{text}: {e}");
            assert!(e.message.contains(words), "{text}: {e}");
        }
    }

    #[test]
    fn errors_have_positions() {
        let e = Config::parse(Utf8Path::new("berth.toml"), "[domains.cloud]\nladdr = []\n")
            .expect_err("unknown key");
        assert_eq!(e.pos.map(|p| p.line), Some(2), "{e}");
    }
}
