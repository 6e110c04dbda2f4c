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

/// Finishes what killed writers left in the journal (a version renamed into place without
/// its index row, an interrupted promotion), under the writer lock.
pub fn recover_pending(cli: &Cli) -> Result<(), Failure> {
    let repo = open_repo(cli)?;
    let lock = repo.lock()?;
    berth_index::recover(&repo, &lock, &checker(&repo))?;
    Ok(())
}

/// The verdict on one version at a time ("is this version good?"), with every built-in
/// rule: what add, promote, query and a journal replay are handed.
pub fn checker(repo: &Repository) -> berth_validate::Checker<'_> {
    berth_validate::Checker::builtin(repo)
}

/// The whole repository validated (with the per-version cache): the verdict of every
/// version at once, for `berth index`.
pub fn validated(repo: &Repository) -> Result<berth_validate::Report, Failure> {
    let opts = berth_validate::Options {
        cache: true,
        ..berth_validate::Options::default()
    };
    berth_validate::validate(repo, &berth_validate::Registry::builtin(), &opts)
        .map_err(|e| Failure::Error(e.to_string()))
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
) -> berth_notify::Event {
    use berth_notify::{Event, EventKind};
    let kind = match (&ev.refused, ev.action) {
        (Some(_), _) => EventKind::PromotionRefused,
        (None, berth_model::AuditAction::Promote) => EventKind::Promoted,
        (None, berth_model::AuditAction::Rollback) => EventKind::RolledBack,
    };
    let mut event = Event::new(kind, ev.component.clone())
        .with_stage(ev.domain.clone(), ev.environment.clone())
        .with_actor(ev.actor.clone());
    if let Some(v) = &ev.version {
        event = event.with_version(v.clone());
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
    event
}
