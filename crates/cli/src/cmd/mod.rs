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
    }
}

/// The repository named by `--repo`, `$BERTH_REPO`, or found upwards from the working
/// directory.
pub fn open_repo(cli: &Cli) -> Result<Repository, Failure> {
    Repository::locate(cli.repo.as_deref()).map_err(Failure::from)
}
