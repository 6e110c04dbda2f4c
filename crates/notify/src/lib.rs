//! berth-notify: tells a component's owners what happened to it, in their Slack channel.
//!
//! An [`Event`] (added, validation-failed, promoted, promotion-refused, rolled-back) is
//! [routed](route()) to the `slack_channel` of the nearest `ownership.yaml` above the
//! component, turned into a Slack incoming-webhook [payload] (a plain `text`, Block Kit
//! `blocks` with links to the owner's source repository and CI pipelines and to the
//! pipeline run, and the `channel`), and [sent](send()) with bounded retries.
//!
//! Commands that change the repository call [`notify`] after the change has landed:
//!
//! ```no_run
//! use berth_model::{ComponentPath, Repository, Version};
//! use berth_notify::{Event, EventKind};
//! # fn main() -> Result<(), Box<dyn std::error::Error>> {
//! let repo = Repository::open("examples/repo")?;
//! let event = Event::new(EventKind::Added, ComponentPath::parse("cloud/dmp/ms-ingestion")?)
//!     .with_version(Version::parse("1.0.3")?);
//! match berth_notify::notify(&repo, &event) {
//!     Ok(Some(d)) => println!("told {}", d.channel),
//!     Ok(None) => {} // no webhook configured: nothing to do
//!     Err(e) => eprintln!("warning: {e}"), // never undo the change for this
//! }
//! # Ok(()) }
//! ```
//!
//! Invariants:
//! - The webhook URL comes from the environment (`$BERTH_SLACK_WEBHOOK`, or the variable
//!   berth.toml `[notify.channels]` names for the channel), never from the tree, and is
//!   never printed: it lives in a [`Secret`], and every message built from a server's
//!   answer or a transport error is redacted.
//! - [`send`] never blocks longer than [`RetryPolicy::worst_case`] and never panics.
//!
//! This crate is not for: deciding *whether* to notify (the calling command does), chat
//! systems other than Slack-compatible incoming webhooks, or reading secrets from files.

mod event;
mod payload;
mod route;
mod secret;
mod send;

use berth_model::{ComponentPath, Repository};
use camino::Utf8PathBuf;

pub use event::{Event, EventKind, UnknownEvent};
pub use payload::{MAX_DETAIL_CHARS, escape, payload};
pub use route::{DEFAULT_WEBHOOK_ENV, Route, route, route_with, webhook_vars};
pub use secret::{REDACTED, Secret};
pub use send::{Delivery, RetryPolicy, TIMEOUT_ENV, post, send};

/// The environment variable GitLab CI sets to the URL of the running pipeline; `berth
/// notify` uses it when `--pipeline-url` is not given.
pub const PIPELINE_URL_ENV: &str = "CI_PIPELINE_URL";

/// What can go wrong routing or sending a notification. No message holds a webhook URL.
#[derive(Debug, thiserror::Error)]
pub enum NotifyError {
    /// The repository could not be read (ownership.yaml or berth.toml).
    #[error(transparent)]
    Repo(#[from] berth_model::Error),
    /// No `ownership.yaml` above the component: no channel to tell.
    #[error(
        "no ownership.yaml at or above components/{component}: nothing says which Slack channel to tell; add one with slack_channel (docs/notifications.md)"
    )]
    NoOwner {
        /// The component.
        component: ComponentPath,
    },
    /// The owner's `slack_channel` is empty.
    #[error("{file}: slack_channel is empty; name the owner's channel, e.g. \"#cloud-dmp-alerts\"")]
    NoChannel {
        /// The ownership.yaml, relative to the repository root.
        file: Utf8PathBuf,
    },
    /// [`send`] was asked to post along a route without a webhook.
    #[error("no Slack webhook configured for {channel}: set ${}", vars.join(" or $"))]
    NoWebhook {
        /// The channel.
        channel: String,
        /// The environment variables that could hold one.
        vars: Vec<String>,
    },
    /// The configured webhook is not an `http(s)` URL.
    #[error(
        "the Slack webhook configured for {channel} is not an http(s) URL (its value is not shown); set it to the URL Slack gave for the incoming webhook"
    )]
    BadWebhook {
        /// The channel.
        channel: String,
    },
    /// The server answered with a status that retrying does not change (a 4xx).
    #[error("Slack refused the notification for {channel}: {}{} (not retried: check the webhook configured for the channel)", if *status == 0 { String::new() } else { format!("HTTP {status}") }, if answer.is_empty() { String::new() } else if *status == 0 { answer.clone() } else { format!(": {answer}") })]
    Rejected {
        /// The channel.
        channel: String,
        /// The HTTP status (0 when the request could not even be made).
        status: u16,
        /// The server's answer (Slack says `no_service`, `invalid_payload`, …), redacted.
        answer: String,
        /// Attempts made.
        attempts: u32,
    },
    /// Every attempt failed (timeouts, connection errors, 5xx, 429).
    #[error("could not post the notification for {channel}: gave up after {attempts} attempt{}: {last}", if *attempts == 1 { "" } else { "s" })]
    GaveUp {
        /// The channel.
        channel: String,
        /// Attempts made.
        attempts: u32,
        /// Why the last one failed.
        last: String,
    },
}

impl NotifyError {
    /// True when a post was attempted and failed ([`NotifyError::Rejected`],
    /// [`NotifyError::GaveUp`]): `berth notify` exits 3 for these.
    pub fn is_delivery_failure(&self) -> bool {
        matches!(
            self,
            NotifyError::Rejected { .. } | NotifyError::GaveUp { .. }
        )
    }
}

/// Routes and sends `event` when a webhook is configured for its owner's channel:
/// `Ok(None)` when none is (nothing to do), `Ok(Some(_))` when posted. Uses
/// [`RetryPolicy::from_env`] and the process environment.
///
/// For commands that notify after a change: report an `Err` as a warning and carry on; a
/// failed notification never undoes anything. Bounded by
/// [`RetryPolicy::worst_case`]; never panics.
pub fn notify(repo: &Repository, event: &Event) -> Result<Option<Delivery>, NotifyError> {
    notify_with(repo, event, &RetryPolicy::from_env(), |k| {
        std::env::var(k).ok()
    })
}

/// [`notify`] with the retry policy and the environment given (tests and embedding).
pub fn notify_with(
    repo: &Repository,
    event: &Event,
    policy: &RetryPolicy,
    env: impl Fn(&str) -> Option<String>,
) -> Result<Option<Delivery>, NotifyError> {
    let route = route_with(repo, event, env)?;
    if route.webhook.is_none() {
        return Ok(None);
    }
    send(event, &route, policy).map(Some)
}
