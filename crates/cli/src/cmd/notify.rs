//! `berth notify EVENT COMPONENT [VERSION]`: posts an event to the owner's Slack channel.
//!
//! Exit codes: 0 posted, or nothing to do (no webhook configured: a note on stderr);
//! 1 an unknown component with no owner above it; 2 usage or configuration errors;
//! 3 the post failed after the retries ([`Failure::NotDelivered`]).

use std::io::Write;

use berth_model::{ComponentPath, DomainName, EnvName, Repository, Version};
use berth_notify::{Event, EventKind, NotifyError, PIPELINE_URL_ENV, RetryPolicy, Route};
use serde_json::json;

use crate::Failure;
use crate::cli::{Cli, NotifyArgs, OutputFormat};
use crate::cmd::open_repo;
use crate::output;

/// Who did it, when `--actor` is not given: berth's own variable, then GitLab's.
const ACTOR_VARS: [&str; 2] = ["BERTH_ACTOR", "GITLAB_USER_LOGIN"];

pub fn run(cli: &Cli, args: &NotifyArgs) -> crate::CmdResult {
    output::allow(
        cli.format,
        &[OutputFormat::Human, OutputFormat::Json],
        "notify",
    )?;
    let repo = open_repo(cli)?;
    let event = event(&repo, args)?;
    let route = berth_notify::route(&repo, &event).map_err(failure)?;

    if args.dry_run {
        return dry_run(cli.format, &event, &route);
    }
    if route.webhook.is_none() {
        note(&format!(
            "no Slack webhook configured for {}: nothing posted (set ${})",
            route.channel,
            route.webhook_vars.join(" or $")
        ));
        if cli.format == OutputFormat::Json {
            print_json(&json!({ "channel": route.channel, "posted": false }))?;
        }
        return Ok(());
    }
    let delivery = berth_notify::send(&event, &route, &RetryPolicy::from_env()).map_err(failure)?;
    if cli.format == OutputFormat::Json {
        print_json(&json!({
            "channel": delivery.channel,
            "posted": true,
            "status": delivery.status,
            "attempts": delivery.attempts,
        }))?;
    } else {
        output::out(&format!(
            "posted `{}` to {} (HTTP {}, {} attempt{})\n",
            event.kind,
            delivery.channel,
            delivery.status,
            delivery.attempts,
            if delivery.attempts == 1 { "" } else { "s" }
        ));
    }
    Ok(())
}

/// The event the arguments describe.
fn event(repo: &Repository, args: &NotifyArgs) -> Result<Event, Failure> {
    let kind: EventKind = args
        .event
        .parse()
        .map_err(|e: berth_notify::UnknownEvent| Failure::usage(e.to_string()))?;
    if let Some(tag) = &args.tag {
        // Everything from the tag; the stage as `berth promote --tag` resolves it.
        let t = berth_promote::PromotionTag::parse(tag)?;
        let stage = t.stage(repo, args.domain.as_deref())?;
        let mut event = Event::new(kind, t.component).with_version(t.version);
        event.domain = Some(stage.domain.clone());
        event.env = Some(stage.env.clone());
        return Ok(fill(event, args));
    }
    let name = args
        .component
        .as_deref()
        .ok_or_else(|| Failure::usage("give COMPONENT, or --tag TAG"))?;
    let mut event = Event::new(kind, component(repo, name)?);
    if let Some(v) = &args.version {
        event.version = Some(Version::parse(v)?);
    }
    if let Some(d) = &args.domain {
        event.domain = Some(DomainName::parse(d)?);
    }
    if let Some(e) = &args.env {
        event.env = Some(EnvName::parse(e)?);
    }
    Ok(fill(event, args))
}

/// Actor, detail and pipeline URL, from the flags or the environment.
fn fill(mut event: Event, args: &NotifyArgs) -> Event {
    let non_empty = |s: String| Some(s.trim().to_owned()).filter(|s| !s.is_empty());
    event.actor = args.actor.clone().and_then(non_empty).or_else(|| {
        ACTOR_VARS
            .iter()
            .find_map(|k| std::env::var(k).ok().and_then(non_empty))
    });
    event.detail = args.detail.clone().and_then(non_empty);
    event.pipeline_url = args
        .pipeline_url
        .clone()
        .and_then(non_empty)
        .or_else(|| std::env::var(PIPELINE_URL_ENV).ok().and_then(non_empty));
    event
}

/// The component: an existing one (full path or unique last segment), or a path that does
/// not exist yet but has an owner (a first version that failed validation).
fn component(repo: &Repository, name: &str) -> Result<ComponentPath, Failure> {
    match repo.resolve_component(name) {
        Ok(c) => Ok(c),
        Err(not_found @ berth_model::Error::NotFound { .. }) => match ComponentPath::parse(name) {
            Ok(c) if repo.owner(&c)?.is_some() => {
                note(&format!(
                    "`{c}` is not in the repository (yet); notifying the owner of its group"
                ));
                Ok(c)
            }
            _ => Err(not_found.into()),
        },
        Err(e) => Err(e.into()),
    }
}

fn dry_run(format: OutputFormat, event: &Event, route: &Route) -> crate::CmdResult {
    let payload = berth_notify::payload(event, route);
    // Only the name of the variable is ever shown, never its value.
    let webhook = match &route.webhook_env {
        Some(var) => format!("${var} (set; its value is not shown)"),
        None => format!(
            "none configured (set ${}); nothing would be posted",
            route.webhook_vars.join(" or $")
        ),
    };
    if format == OutputFormat::Json {
        return print_json(&json!({
            "channel": route.channel,
            "webhook_env": route.webhook_env,
            "payload": payload,
        }));
    }
    let pretty = serde_json::to_string_pretty(&payload)
        .map_err(|e| Failure::Error(format!("rendering JSON: {e}")))?;
    output::out(&format!(
        "channel: {}\nwebhook: {webhook}\npayload:\n{pretty}\n",
        route.channel
    ));
    Ok(())
}

fn print_json(value: &serde_json::Value) -> crate::CmdResult {
    let text = serde_json::to_string_pretty(value)
        .map_err(|e| Failure::Error(format!("rendering JSON: {e}")))?;
    output::out(&format!("{text}\n"));
    Ok(())
}

/// `note: …` on stderr.
fn note(msg: &str) {
    let mut e = anstream::stderr();
    let _ = writeln!(e, "\x1b[1;36mnote\x1b[0m: {msg}");
}

/// Exit 3 for a post that failed; the usual codes for the rest.
fn failure(e: NotifyError) -> Failure {
    if e.is_delivery_failure() {
        return Failure::NotDelivered(e.to_string());
    }
    match e {
        NotifyError::Repo(inner) => inner.into(),
        other => Failure::Error(other.to_string()),
    }
}
