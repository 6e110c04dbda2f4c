//! `berth rollback COMPONENT --domain D --env E [--to VERSION]`.

use berth_promote::{Request, Stage};

use crate::cli::{Cli, RollbackArgs};

pub fn run(cli: &Cli, args: &RollbackArgs) -> crate::CmdResult {
    super::promote::check_format(cli)?;
    let repo = super::open_repo(cli)?;
    let stage = Stage::new(repo.config(), &args.domain, Some(&args.env))?;
    let req = Request::rollback(stage, &args.component, args.to.clone());
    let cx = super::promote::context(
        args.actor.as_deref(),
        &args.approved_by,
        args.reason.as_ref(),
        &args.evidence,
    );
    super::promote::run_request(cli, &repo, &req, &cx, args.dry_run)
}
