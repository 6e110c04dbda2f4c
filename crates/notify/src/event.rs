//! What happened: [`EventKind`] and [`Event`].

use std::fmt;
use std::str::FromStr;

use berth_model::{ComponentPath, DomainName, EnvName, Version};
use serde::Serialize;

/// The kinds of event berth notifies about. Their names (`added`, `validation-failed`, …)
/// are stable: `berth notify EVENT` takes them and CI jobs are written against them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "kebab-case")]
#[non_exhaustive]
pub enum EventKind {
    /// A version was added to the repository (`berth add`).
    Added,
    /// A version failed validation; `detail` carries the summary.
    ValidationFailed,
    /// A version entered a stage of a domain (`berth promote`).
    Promoted,
    /// A gate refused a promotion; `detail` names the gate and why.
    PromotionRefused,
    /// A stage went back to an earlier version (`berth rollback`).
    RolledBack,
}

impl EventKind {
    /// Every kind, in the order the docs list them.
    pub const ALL: [EventKind; 5] = [
        EventKind::Added,
        EventKind::ValidationFailed,
        EventKind::Promoted,
        EventKind::PromotionRefused,
        EventKind::RolledBack,
    ];

    /// The stable names, in the order of [`EventKind::ALL`] (for `--help` and completions).
    pub const NAMES: [&'static str; 5] = [
        "added",
        "validation-failed",
        "promoted",
        "promotion-refused",
        "rolled-back",
    ];

    /// The stable name: `promotion-refused`.
    pub fn as_str(self) -> &'static str {
        match self {
            EventKind::Added => "added",
            EventKind::ValidationFailed => "validation-failed",
            EventKind::Promoted => "promoted",
            EventKind::PromotionRefused => "promotion-refused",
            EventKind::RolledBack => "rolled-back",
        }
    }

    /// True for the kinds that report something going wrong (a failed validation, a
    /// refused promotion, a rollback).
    pub fn is_bad_news(self) -> bool {
        matches!(
            self,
            EventKind::ValidationFailed | EventKind::PromotionRefused | EventKind::RolledBack
        )
    }
}

impl fmt::Display for EventKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// An event name that is not one of [`EventKind::NAMES`].
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error(
    "unknown event `{0}`: expected one of added, validation-failed, promoted, promotion-refused, rolled-back"
)]
pub struct UnknownEvent(pub String);

impl FromStr for EventKind {
    type Err = UnknownEvent;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        EventKind::ALL
            .into_iter()
            .find(|k| k.as_str() == s)
            .ok_or_else(|| UnknownEvent(s.to_owned()))
    }
}

/// One thing that happened to a component, to be told to its owners.
///
/// Build it with [`Event::new`] and the `with_…` methods:
///
/// ```
/// use berth_model::{ComponentPath, DomainName, EnvName, Version};
/// use berth_notify::{Event, EventKind};
/// # fn main() -> Result<(), berth_model::IdError> {
/// let e = Event::new(EventKind::Promoted, ComponentPath::parse("cloud/dmp/ms-ingestion")?)
///     .with_version(Version::parse("1.0.3")?)
///     .with_stage(DomainName::parse("cloud")?, EnvName::parse("prod")?)
///     .with_actor("ci-bot");
/// assert_eq!(e.summary(), "cloud/dmp/ms-ingestion 1.0.3 promoted to cloud/prod by ci-bot");
/// # Ok(()) }
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Event {
    /// What happened.
    pub kind: EventKind,
    /// To which component (it need not exist yet: a first version may fail validation).
    pub component: ComponentPath,
    /// Which version, when it concerns one (for `rolled-back`: the version the stage went
    /// back to).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub version: Option<Version>,
    /// The domain, for promotions and rollbacks.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub domain: Option<DomainName>,
    /// The environment, for promotions and rollbacks.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub env: Option<EnvName>,
    /// Who did it.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub actor: Option<String>,
    /// More text: the gate that refused, the validation summary, a reason.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub detail: Option<String>,
    /// The URL of the CI pipeline run that did it (`$CI_PIPELINE_URL` in GitLab CI).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub pipeline_url: Option<String>,
}

impl Event {
    /// An event with only its kind and component.
    pub fn new(kind: EventKind, component: ComponentPath) -> Self {
        Event {
            kind,
            component,
            version: None,
            domain: None,
            env: None,
            actor: None,
            detail: None,
            pipeline_url: None,
        }
    }

    /// Sets the version.
    pub fn with_version(mut self, v: Version) -> Self {
        self.version = Some(v);
        self
    }
    /// Sets the domain and environment.
    pub fn with_stage(mut self, domain: DomainName, env: EnvName) -> Self {
        self.domain = Some(domain);
        self.env = Some(env);
        self
    }
    /// Sets the actor.
    pub fn with_actor(mut self, actor: impl Into<String>) -> Self {
        self.actor = Some(actor.into());
        self
    }
    /// Sets the detail.
    pub fn with_detail(mut self, detail: impl Into<String>) -> Self {
        self.detail = Some(detail.into());
        self
    }
    /// Sets the pipeline URL.
    pub fn with_pipeline_url(mut self, url: impl Into<String>) -> Self {
        self.pipeline_url = Some(url.into());
        self
    }

    /// The stage as `cloud/prod`, `cloud` or `prod`, when any is set.
    pub fn stage(&self) -> Option<String> {
        match (&self.domain, &self.env) {
            (Some(d), Some(e)) => Some(format!("{d}/{e}")),
            (Some(d), None) => Some(d.to_string()),
            (None, Some(e)) => Some(e.to_string()),
            (None, None) => None,
        }
    }

    /// One plain line: `cloud/dmp/ms-ingestion 1.0.3 promoted to cloud/prod by ci-bot`.
    /// The Slack `text` field (shown in notifications) is this line.
    pub fn summary(&self) -> String {
        self.describe(false)
    }

    /// The summary line; with `markup`, in Slack mrkdwn (escaped, the component and stage
    /// in bold, the version as code).
    pub(crate) fn describe(&self, markup: bool) -> String {
        let plain = |s: &str| {
            if markup {
                crate::payload::escape(s)
            } else {
                s.to_owned()
            }
        };
        let strong = |s: &str| {
            if markup {
                format!("*{}*", plain(s))
            } else {
                s.to_owned()
            }
        };
        let code = |s: &str| {
            if markup {
                format!("`{}`", plain(s))
            } else {
                s.to_owned()
            }
        };
        let comp = strong(self.component.as_str());
        let ver = self.version.as_ref().map(|v| code(&v.to_string()));
        let what = match &ver {
            Some(v) => format!("{comp} {v}"),
            None => comp.clone(),
        };
        let stage = self.stage().map(|s| strong(&s));
        let mut s = match (self.kind, &stage) {
            (EventKind::Added, _) => format!("{what} added"),
            (EventKind::ValidationFailed, _) => format!("{what} failed validation"),
            (EventKind::Promoted, Some(st)) => format!("{what} promoted to {st}"),
            (EventKind::Promoted, None) => format!("{what} promoted"),
            (EventKind::PromotionRefused, Some(st)) => {
                format!("promotion of {what} to {st} refused")
            }
            (EventKind::PromotionRefused, None) => format!("promotion of {what} refused"),
            (EventKind::RolledBack, st) => {
                let mut b = format!("{comp} rolled back");
                if let Some(st) = st {
                    b.push_str(&format!(" in {st}"));
                }
                if let Some(v) = &ver {
                    b.push_str(&format!(" to {v}"));
                }
                b
            }
        };
        if let Some(a) = self
            .actor
            .as_deref()
            .map(str::trim)
            .filter(|a| !a.is_empty())
        {
            s.push_str(" by ");
            s.push_str(&plain(a));
        }
        s
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn comp() -> ComponentPath {
        ComponentPath::parse("cloud/dmp/ms-ingestion").expect("valid")
    }

    #[test]
    fn names_round_trip() {
        for (k, n) in EventKind::ALL.iter().zip(EventKind::NAMES) {
            assert_eq!(k.as_str(), n);
            assert_eq!(n.parse::<EventKind>().as_ref(), Ok(k));
            assert_eq!(
                serde_json::to_value(k).ok(),
                Some(serde_json::Value::from(n))
            );
        }
        let e = "promote".parse::<EventKind>().expect_err("unknown");
        assert!(e.to_string().contains("`promote`"), "{e}");
    }

    #[test]
    fn summaries() {
        let v = Version::parse("1.0.2").expect("valid");
        let d = DomainName::parse("cloud").expect("valid");
        let e = EnvName::parse("prod").expect("valid");
        let ev = |k| Event::new(k, comp()).with_version(v.clone());
        assert_eq!(
            ev(EventKind::Added).with_actor("ci").summary(),
            "cloud/dmp/ms-ingestion 1.0.2 added by ci"
        );
        assert_eq!(
            ev(EventKind::ValidationFailed).summary(),
            "cloud/dmp/ms-ingestion 1.0.2 failed validation"
        );
        assert_eq!(
            ev(EventKind::PromotionRefused)
                .with_stage(d.clone(), e.clone())
                .summary(),
            "promotion of cloud/dmp/ms-ingestion 1.0.2 to cloud/prod refused"
        );
        assert_eq!(
            ev(EventKind::RolledBack)
                .with_stage(d, e)
                .with_actor("  ")
                .summary(),
            "cloud/dmp/ms-ingestion rolled back in cloud/prod to 1.0.2"
        );
        assert_eq!(
            Event::new(EventKind::Promoted, comp()).summary(),
            "cloud/dmp/ms-ingestion promoted"
        );
    }
}
