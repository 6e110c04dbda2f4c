//! One module per subcommand; `dispatch` is the only place that knows them all.

use berth_model::Repository;

use crate::Failure;
use crate::cli::{Cli, Command};

mod add;
mod deployed;
mod deps;
mod diff;
mod explain;
mod index;
mod init;
mod latest;
mod log;
mod ls;
mod notify;
mod promote;
mod publish;
mod query;
mod rollback;
mod schema;
mod show;
mod site;
mod validate;

/// Runs the subcommand of `cli`.
pub fn dispatch(cli: &Cli) -> crate::CmdResult {
    match &cli.command {
        Command::Init(a) => init::run(cli, a),
        Command::Ls(a) => ls::run(cli, a),
        Command::Show(a) => show::run(cli, a),
        Command::Schema(a) => schema::run(cli, a),
        Command::Add(a) => add::run(cli, a),
        Command::Index(a) => index::run(cli, a),
        Command::Latest(a) => latest::run(cli, a),
        Command::Query(a) => query::run(cli, a),
        Command::Deps(a) => deps::run(cli, a),
        Command::Validate(a) => validate::run(cli, a),
        Command::Explain(a) => explain::run(cli, a),
        Command::Publish(a) => publish::run(cli, a),
        Command::Promote(a) => promote::run(cli, a),
        Command::Rollback(a) => rollback::run(cli, a),
        Command::Deployed(a) => deployed::run(cli, a),
        Command::Diff(a) => diff::run(cli, a),
        Command::Log(a) => log::run(cli, a),
        Command::Notify(a) => notify::run(cli, a),
        Command::Site(a) => site::run(cli, a),
    }
}

/// The repository named by `--repo`, `$BERTH_REPO`, or found upwards from the working
/// directory.
pub fn open_repo(cli: &Cli) -> Result<Repository, Failure> {
    Repository::locate(cli.repo.as_deref()).map_err(Failure::from)
}

/// Posts `event` to its owner's Slack channel when a webhook is configured. A failure is a
/// warning on stderr and never changes the command's outcome.
pub fn notify_quietly(repo: &Repository, event: &berth_notify::Event) {
    match berth_notify::notify(repo, event) {
        Ok(_) => {}
        Err(e) => crate::output::warning(&format!(
            "the `{}` notification was not delivered: {e}",
            event.kind
        )),
    }
}

/// The notification of a promotion, rollback or refusal.
pub fn promotion_notification(
    ev: &berth_promote::PromotionEvent,
    pipeline_url: Option<&str>,
) -> Option<berth_notify::Event> {
    use berth_notify::{Event, EventKind};
    let kind = match (&ev.refused, ev.action) {
        (Some(_), _) => EventKind::PromotionRefused,
        (None, berth_model::AuditAction::Promote) => EventKind::Promoted,
        (None, berth_model::AuditAction::Rollback) => EventKind::RolledBack,
    };
    let component = berth_model::ComponentPath::parse(&ev.component).ok()?;
    let mut event = Event::new(kind, component)
        .with_stage(ev.domain.clone(), ev.environment.clone())
        .with_actor(ev.actor.clone());
    if let Ok(v) = berth_model::Version::parse(&ev.version) {
        event = event.with_version(v);
    }
    let detail = match (&ev.refused, &ev.reason) {
        (Some(r), _) => Some(format!("{r}")),
        (None, Some(reason)) => Some(reason.clone()),
        (None, None) => None,
    };
    if let Some(d) = detail {
        event = event.with_detail(d);
    }
    if let Some(u) = pipeline_url {
        event = event.with_pipeline_url(u);
    }
    Some(event)
}
