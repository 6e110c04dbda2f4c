//! Where an event goes: the owner's Slack channel (from the nearest `ownership.yaml`) and
//! the webhook for it (from the environment, never from the tree).

use berth_model::Repository;
use berth_model::config::NotifyConfig;
use camino::Utf8PathBuf;

use crate::NotifyError;
use crate::event::Event;
use crate::secret::Secret;

/// The environment variable holding the default webhook URL, unless berth.toml's
/// `[notify] webhook_env` names another.
pub const DEFAULT_WEBHOOK_ENV: &str = "BERTH_SLACK_WEBHOOK";

/// Where one event goes.
///
/// `Debug` is safe to print: the webhook shows as `[redacted]`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Route {
    /// The owner's Slack channel, from `ownership.yaml` `slack_channel`: `#cloud-dmp-alerts`.
    pub channel: String,
    /// The webhook to post to, when one is configured for the channel.
    pub webhook: Option<Secret>,
    /// The environment variable the webhook came from (a name, safe to print).
    pub webhook_env: Option<String>,
    /// The environment variables consulted, in order (per-channel first): what to set
    /// when `webhook` is `None`.
    pub webhook_vars: Vec<String>,
    /// The owning group (`cloud/dmp`).
    pub group: String,
    /// The `ownership.yaml` the route came from, relative to the repository root.
    pub ownership_file: Utf8PathBuf,
    /// The owning team (`owner_team`).
    pub owner_team: String,
    /// The owner's source repository (`source_repo`), when not empty.
    pub source_repo: Option<String>,
    /// The owner's CI pipelines page (`ci_pipeline`), when not empty.
    pub ci_pipeline: Option<String>,
}

/// Routes `event` to its owner's channel, reading the webhook from the process
/// environment. See [`route_with`].
pub fn route(repo: &Repository, event: &Event) -> Result<Route, NotifyError> {
    route_with(repo, event, |k| std::env::var(k).ok())
}

/// Routes `event` with the environment given as a function (tests and embedding code).
///
/// The channel is `slack_channel` of the nearest `ownership.yaml` above the component
/// (the component itself need not exist yet). The webhook is the value of the channel's
/// variable in berth.toml `[notify.channels]` when that is set and not empty, else of
/// `[notify] webhook_env` (default `$BERTH_SLACK_WEBHOOK`), else none.
pub fn route_with(
    repo: &Repository,
    event: &Event,
    env: impl Fn(&str) -> Option<String>,
) -> Result<Route, NotifyError> {
    let owner = repo
        .owner(&event.component)?
        .ok_or_else(|| NotifyError::NoOwner {
            component: event.component.clone(),
        })?;
    let o = &owner.ownership.value;
    let channel = o.slack_channel.trim().to_owned();
    if channel.is_empty() {
        return Err(NotifyError::NoChannel {
            file: owner.file.clone(),
        });
    }
    let webhook_vars = webhook_vars(&repo.config().notify, &channel);
    let found = webhook_vars.iter().find_map(|var| {
        env(var)
            .map(|v| v.trim().to_owned())
            .filter(|v| !v.is_empty())
            .map(|v| (var.clone(), Secret::new(v)))
    });
    let (webhook_env, webhook) = match found {
        Some((var, s)) => (Some(var), Some(s)),
        None => (None, None),
    };
    let non_empty = |s: &str| Some(s.trim().to_owned()).filter(|s| !s.is_empty());
    Ok(Route {
        channel,
        webhook,
        webhook_env,
        webhook_vars,
        group: owner.group.clone(),
        ownership_file: owner.file.clone(),
        owner_team: o.owner_team.clone(),
        source_repo: non_empty(&o.source_repo),
        ci_pipeline: non_empty(&o.ci_pipeline),
    })
}

/// The variables that may hold the webhook of `channel`, in the order they are tried: the
/// channel's own (berth.toml `[notify.channels]`; `#` is optional on either side), then
/// the default.
pub fn webhook_vars(cfg: &NotifyConfig, channel: &str) -> Vec<String> {
    let bare = |s: &str| s.trim().trim_start_matches('#').to_owned();
    let mut vars: Vec<String> = cfg
        .channels
        .iter()
        .filter(|(c, _)| bare(c) == bare(channel))
        .map(|(_, var)| var.trim().to_owned())
        .filter(|v| !v.is_empty())
        .collect();
    let default = cfg
        .webhook_env
        .as_deref()
        .map(str::trim)
        .filter(|v| !v.is_empty())
        .unwrap_or(DEFAULT_WEBHOOK_ENV)
        .to_owned();
    if !vars.contains(&default) {
        vars.push(default);
    }
    vars
}
