//! Promotion by git tag: `promote-to-<env>/<component>/<version>`.
//!
//! The seed's `promote-to-staging` / `promote-to-prod` tags, made unique per component and
//! version as git requires (a tag names one commit, forever). The domain is the one the
//! version's metadata lists when it lists one (or one whose ladder holds the environment);
//! otherwise the caller names it.

use berth_model::{ComponentPath, Repository, Version};

use crate::{PromoteError, Result, Stage};

/// The prefix of every promotion tag.
pub const PREFIX: &str = "promote-to-";

/// A parsed promotion tag.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PromotionTag {
    /// The environment to enter, as written.
    pub env: String,
    /// The component.
    pub component: ComponentPath,
    /// The version.
    pub version: Version,
}

/// The expected form, for messages.
pub const FORM: &str =
    "promote-to-<env>/<component>/<version>, e.g. promote-to-staging/cloud/dmp/ms-ingestion/1.0.3";

impl PromotionTag {
    /// Parses `promote-to-<env>/<component>/<version>` (also with a leading `refs/tags/`).
    pub fn parse(tag: &str) -> Result<Self> {
        let bad = |why: &str| PromoteError::BadTag {
            tag: tag.to_owned(),
            reason: format!("{why}; the form is {FORM}"),
        };
        let t = tag.strip_prefix("refs/tags/").unwrap_or(tag);
        let rest = t
            .strip_prefix(PREFIX)
            .ok_or_else(|| bad("it does not start with `promote-to-`"))?;
        let (env, rest) = rest
            .split_once('/')
            .ok_or_else(|| bad("it names no component"))?;
        if env.is_empty() {
            return Err(bad("the environment is empty"));
        }
        let (component, version) = rest
            .rsplit_once('/')
            .ok_or_else(|| bad("it names no version"))?;
        let component = ComponentPath::parse(component).map_err(|e| bad(&e.to_string()))?;
        let version = Version::parse(version).map_err(|e| bad(&e.to_string()))?;
        Ok(PromotionTag {
            env: env.to_owned(),
            component,
            version,
        })
    }

    /// The stage the tag promotes into: `domain` when given, else the domain the version's
    /// metadata lists (the only one, or the only one whose ladder holds the environment).
    pub fn stage(&self, repo: &Repository, domain: Option<&str>) -> Result<Stage> {
        if let Some(d) = domain {
            return Ok(Stage::new(repo.config(), d, Some(&self.env))?);
        }
        let meta = repo.metadata(&self.component, &self.version)?;
        let listed: Vec<String> = meta.value.domain_names().map(ToString::to_string).collect();
        let fitting: Vec<&String> = if listed.len() == 1 {
            listed.iter().collect()
        } else {
            listed
                .iter()
                .filter(|d| {
                    berth_model::DomainName::parse(d).ok().is_some_and(|dn| {
                        repo.config()
                            .domain(&dn)
                            .is_some_and(|dc| dc.ladder.iter().any(|e| e.as_str() == self.env))
                    })
                })
                .collect()
        };
        match fitting.as_slice() {
            [one] => Ok(Stage::new(repo.config(), one, Some(&self.env))?),
            _ => Err(PromoteError::AmbiguousDomain {
                component: self.component.to_string(),
                version: self.version.to_string(),
                domains: listed.join(", "),
            }),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_the_seed_tags_made_unique() {
        let t =
            PromotionTag::parse("promote-to-staging/cloud/dmp/ms-ingestion/1.0.3").expect("valid");
        assert_eq!(t.env, "staging");
        assert_eq!(t.component.as_str(), "cloud/dmp/ms-ingestion");
        assert_eq!(t.version.to_string(), "1.0.3");
        let t =
            PromotionTag::parse("refs/tags/promote-to-prod/core/platform/common-utils/2.0.0-rc.1")
                .expect("valid");
        assert_eq!(t.version.to_string(), "2.0.0-rc.1");
    }

    #[test]
    fn malformed_tags_show_the_expected_form() {
        for bad in [
            "promote-to-staging",
            "promote-to-prod/ms-ingestion/1.0.3",
            "promote-to-prod/cloud/dmp/ms-ingestion",
            "promote-to-prod/cloud/dmp/ms-ingestion/v1.0.3",
            "release/1.0.3",
            "promote-to-/cloud/dmp/x/1.0.0",
        ] {
            let e = PromotionTag::parse(bad).expect_err(bad).to_string();
            assert!(
                e.contains("promote-to-<env>/<component>/<version>"),
                "{bad}: {e}"
            );
        }
    }
}
