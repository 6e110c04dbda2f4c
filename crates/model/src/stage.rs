//! Stages: one rung of one domain's ladder, and the domain file that says what it runs.
//! The one `Stage` type of berth: promotion, publishing and the site all use it.

use std::fmt;

use camino::Utf8PathBuf;
use serde::Serialize;

use crate::config::Config;
use crate::files::DomainIndex;
use crate::ids::{DomainName, EnvName};
use crate::layout::Layout;
use crate::repo::Repository;

/// A stage that `berth.toml` does not declare.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum StageError {
    /// The domain is not declared in `berth.toml`.
    #[error(
        "domain `{domain}` is not declared in berth.toml (declared: {known}); add a [domains.{domain}] table with its ladder"
    )]
    UnknownDomain {
        /// The name given.
        domain: String,
        /// The declared domains, comma-separated.
        known: String,
    },
    /// The environment is not a rung of the domain's ladder.
    #[error(
        "environment `{env}` is not on the ladder of domain `{domain}` ({ladder}); use one of them, or add it to [domains.{domain}] ladder in berth.toml"
    )]
    UnknownEnv {
        /// The domain.
        domain: String,
        /// The name given.
        env: String,
        /// The ladder, ` → `-separated.
        ladder: String,
    },
}

type Result<T, E = StageError> = std::result::Result<T, E>;

/// One rung of a domain's ladder: `cloud/staging`, `cloud/prod`.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
pub struct Stage {
    /// The domain.
    pub domain: DomainName,
    /// The environment, a rung of the domain's ladder.
    pub env: EnvName,
}

impl Stage {
    /// The stage `env` of `domain`, checked against `berth.toml`; `env = None` means the
    /// last rung (production).
    pub fn new(config: &Config, domain: &str, env: Option<&str>) -> Result<Stage> {
        let known = || {
            config
                .domains
                .keys()
                .map(ToString::to_string)
                .collect::<Vec<_>>()
                .join(", ")
        };
        let d = DomainName::parse(domain).map_err(|_| StageError::UnknownDomain {
            domain: domain.to_owned(),
            known: known(),
        })?;
        let Some(dc) = config.domain(&d) else {
            return Err(StageError::UnknownDomain {
                domain: domain.to_owned(),
                known: known(),
            });
        };
        let ladder = || {
            dc.ladder
                .iter()
                .map(ToString::to_string)
                .collect::<Vec<_>>()
                .join(" → ")
        };
        let env = match env {
            None => dc
                .production()
                .cloned()
                .ok_or_else(|| StageError::UnknownEnv {
                    domain: domain.to_owned(),
                    env: String::new(),
                    ladder: ladder(),
                })?,
            Some(e) => match EnvName::parse(e) {
                Ok(en) if dc.ladder.contains(&en) => en,
                _ => {
                    return Err(StageError::UnknownEnv {
                        domain: domain.to_owned(),
                        env: e.to_owned(),
                        ladder: ladder(),
                    });
                }
            },
        };
        Ok(Stage { domain: d, env })
    }

    /// Every stage of every declared domain, domain by domain, each ladder in order.
    pub fn all(config: &Config) -> Vec<Stage> {
        config
            .domains
            .iter()
            .flat_map(|(d, dc)| {
                dc.ladder.iter().map(move |e| Stage {
                    domain: d.clone(),
                    env: e.clone(),
                })
            })
            .collect()
    }

    /// The stage before this one on the ladder, if any.
    pub fn previous(&self, config: &Config) -> Option<Stage> {
        let prev = config.domain(&self.domain)?.previous(&self.env)?;
        Some(Stage {
            domain: self.domain.clone(),
            env: prev.clone(),
        })
    }

    /// The position of this stage on its ladder (0 for the first rung).
    pub fn rung(&self, config: &Config) -> Option<usize> {
        config
            .domain(&self.domain)?
            .ladder
            .iter()
            .position(|e| e == &self.env)
    }

    /// True for the last rung of the ladder: production.
    pub fn is_production(&self, config: &Config) -> bool {
        config
            .domain(&self.domain)
            .is_some_and(|d| d.production() == Some(&self.env))
    }

    /// True when the domain lets a version enter a stage without running in the one
    /// before (`allow_skip = true`).
    pub fn allows_skip(&self, config: &Config) -> bool {
        config.domain(&self.domain).is_some_and(|d| d.allow_skip)
    }

    /// Its domain file: `index/domain-<domain>.yaml` for production,
    /// `index/domain-<domain>-<env>.yaml` for an earlier rung.
    pub fn file(&self, config: &Config) -> Utf8PathBuf {
        Layout::domain_file(config, &self.domain, Some(&self.env))
    }

    /// Its audit directory: `index/audit/<domain>/<env>`.
    pub fn audit_dir(&self) -> Utf8PathBuf {
        Layout::audit_dir(&self.domain, &self.env)
    }
}

impl fmt::Display for Stage {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{}", self.domain, self.env)
    }
}

/// What a stage runs now: its domain file, or nothing when the file does not exist yet.
pub fn read_stage(repo: &Repository, stage: &Stage) -> crate::repo::Result<DomainIndex> {
    Ok(repo
        .domain_index(&stage.domain, &stage.env)?
        .map(|l| l.value)
        .unwrap_or_default())
}

/// Where `c` `v` has run: a declared stage whose audit trail records it entering, or
/// whose domain file lists it now (a hand edit counts: the version is out there). `None`
/// when no stage ever ran it. Reads the record files whose name ends in the component and
/// version, not the whole trail.
pub fn ran_by(
    repo: &Repository,
    c: &crate::ComponentPath,
    v: &crate::Version,
) -> crate::repo::Result<Option<(Stage, Utf8PathBuf)>> {
    let suffix = format!("-{}-{}.yaml", c.as_str().replace('/', "-"), v);
    for stage in Stage::all(repo.config()) {
        let dir = stage.audit_dir();
        let entries = match repo.store().list(&dir) {
            Ok(e) => e,
            Err(e) if e.is_not_found() => Vec::new(),
            Err(e) => return Err(e.into()),
        };
        for e in entries
            .iter()
            .filter(|e| !e.is_dir && e.name.ends_with(&suffix))
        {
            let path = dir.join(&e.name);
            let bytes = repo.read_bytes(&path)?;
            let Ok(record) = crate::yaml::from_slice::<crate::AuditRecord>(&path, &bytes) else {
                continue;
            };
            if &record.value.component == c && &record.value.version == v {
                return Ok(Some((stage, path)));
            }
        }
        if read_stage(repo, &stage)
            .ok()
            .is_some_and(|d| d.version_of(c) == Some(v))
        {
            let file = stage.file(repo.config());
            return Ok(Some((stage, file)));
        }
    }
    Ok(None)
}

#[cfg(test)]
mod tests {
    use super::*;
    use camino::Utf8Path;

    fn config() -> Config {
        Config::parse(
            Utf8Path::new("berth.toml"),
            "[domains.cloud]\nladder = [\"staging\", \"prod\"]\n[domains.ran]\nladder = [\"lab\", \"staging\", \"prod\"]\nallow_skip = true\n",
        )
        .expect("valid")
    }

    #[test]
    fn stages_and_their_files() {
        let cfg = config();
        let prod = Stage::new(&cfg, "cloud", None).expect("production");
        assert_eq!(prod.to_string(), "cloud/prod");
        assert_eq!(prod.file(&cfg), "index/domain-cloud.yaml");
        let staging = prod.previous(&cfg).expect("staging is before prod");
        assert_eq!(staging.file(&cfg), "index/domain-cloud-staging.yaml");
        assert_eq!(staging.previous(&cfg), None);
        assert_eq!(staging.audit_dir(), "index/audit/cloud/staging");
        assert!(
            Stage::new(&cfg, "ran", Some("lab"))
                .expect("lab")
                .allows_skip(&cfg)
        );
        assert_eq!(Stage::all(&cfg).len(), 5);
    }

    #[test]
    fn unknown_domains_and_envs_say_what_exists() {
        let cfg = config();
        let e = Stage::new(&cfg, "core", None).expect_err("undeclared");
        assert!(e.to_string().contains("declared: cloud, ran"), "{e}");
        let e = Stage::new(&cfg, "cloud", Some("lab")).expect_err("not on the ladder");
        assert!(e.to_string().contains("staging → prod"), "{e}");
    }
}
