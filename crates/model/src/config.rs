//! `berth.toml`: domains and their ladders, allowed architectures, policy, rule
//! severities and where notifications go.

use std::collections::BTreeMap;

use camino::{Utf8Path, Utf8PathBuf};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use crate::ids::{Arch, DomainName, EnvName};
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
        for (name, d) in &cfg.domains {
            if d.ladder.is_empty() {
                return Err(ConfigError {
                    file: file.to_owned(),
                    pos: None,
                    message: format!(
                        "domain `{name}` has an empty ladder; list its environments, e.g. ladder = [\"staging\", \"prod\"]"
                    ),
                });
            }
        }
        Ok(cfg)
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
    fn errors_have_positions() {
        let e = Config::parse(Utf8Path::new("berth.toml"), "[domains.cloud]\nladdr = []\n")
            .expect_err("unknown key");
        assert_eq!(e.pos.map(|p| p.line), Some(2), "{e}");
    }
}
