//! `berth promote COMPONENT VERSION --domain D --env E …` and
//! `berth promote --domain D --from ENV --to ENV [COMPONENT…]`.

use berth_model::{AuditAction, Repository};
use berth_promote::{
    Context, Outcome, PromoteError, Request, Stage, execute, pipeline_url_from_env, plan,
    resolve_actor,
};

use crate::cli::{Cli, OutputFormat, PromoteArgs};
use crate::{Failure, output};

impl From<PromoteError> for Failure {
    fn from(e: PromoteError) -> Self {
        match e {
            PromoteError::Repo(berth_model::Error::NotFound { .. }) => {
                Failure::Negative(Some(e.to_string()))
            }
            PromoteError::Index(ie) => ie.into(),
            PromoteError::BadTag { .. } | PromoteError::AmbiguousDomain { .. } => {
                Failure::usage(e.to_string())
            }
            other => Failure::Error(other.to_string()),
        }
    }
}

pub fn run(cli: &Cli, args: &PromoteArgs) -> crate::CmdResult {
    check_format(cli)?;
    let repo = super::open_repo(cli)?;
    if let Some(tag) = &args.tag {
        let t = berth_promote::PromotionTag::parse(tag)?;
        let stage = t.stage(&repo, args.domain.as_deref())?;
        let req = Request::one(stage, t.component.as_str(), t.version.to_string());
        let cx = context(
            args.actor.as_deref(),
            &args.approved_by,
            args.reason.as_ref(),
            &args.evidence,
        );
        return run_request(cli, &repo, &req, &cx, args.dry_run);
    }
    let (Some(domain), Some(env)) = (args.domain.as_deref(), args.env.as_deref()) else {
        return Err(Failure::usage(
            "give --domain DOMAIN --env ENV, or --tag TAG",
        ));
    };
    let to = Stage::new(repo.config(), domain, Some(env))?;
    let req = match &args.from {
        Some(from) => {
            let from = Stage::new(repo.config(), domain, Some(from))?;
            Request::whole_stage(from, to, args.targets.clone())
        }
        None => match args.targets.as_slice() {
            [component, version] => Request::one(to, component, version),
            _ => {
                return Err(Failure::usage(
                    "give COMPONENT VERSION, or --from ENV to promote what a stage runs (`berth promote --help`)",
                ));
            }
        },
    };
    let cx = context(
        args.actor.as_deref(),
        &args.approved_by,
        args.reason.as_ref(),
        &args.evidence,
    );
    run_request(cli, &repo, &req, &cx, args.dry_run)
}

/// The formats `promote` and `rollback` offer.
pub(super) fn check_format(cli: &Cli) -> crate::CmdResult {
    output::allow(
        cli.format,
        &[OutputFormat::Human, OutputFormat::Json, OutputFormat::Yaml],
        "promote",
    )
}

/// Who, why and when, from the flags and the environment.
pub(super) fn context(
    actor: Option<&str>,
    approved_by: &[String],
    reason: Option<&String>,
    evidence: &[String],
) -> Context {
    let mut cx = Context::new(resolve_actor(actor));
    cx.approvals = approved_by.to_vec();
    cx.reason = reason.cloned();
    cx.evidence = evidence.to_vec();
    cx.pipeline_url = pipeline_url_from_env();
    cx
}

/// Plans (dry run) or executes `req` and renders the outcome; exit 1 when a gate refused.
pub(super) fn run_request(
    cli: &Cli,
    repo: &Repository,
    req: &Request,
    cx: &Context,
    dry_run: bool,
) -> crate::CmdResult {
    let health = super::checker(repo);
    let outcome = if dry_run {
        Outcome {
            plan: plan(repo, &health, req, cx)?,
            records: Vec::new(),
            applied: false,
        }
    } else {
        execute(repo, &health, req, cx)?
    };
    if !dry_run {
        for ev in outcome.events(cx) {
            let event = super::promotion_notification(&ev, cx.pipeline_url.as_deref());
            super::notify_quietly(repo, &event);
        }
    }
    let plan = &outcome.plan;
    let diff = plan.diff()?;
    let mut value = serde_json::to_value(&outcome)
        .map_err(|e| Failure::Error(format!("rendering the outcome: {e}")))?;
    if let Some(m) = value.as_object_mut() {
        m.insert("dry_run".into(), dry_run.into());
        m.insert("diff".into(), diff.clone().into());
        m.insert(
            "events".into(),
            serde_json::to_value(outcome.events(cx)).unwrap_or_default(),
        );
    }
    if let Some(text) = output::machine(cli.format, &value)? {
        output::out(&text);
    } else {
        output::out(&human(&outcome, &diff, dry_run));
    }
    if plan.is_refused() {
        if !matches!(cli.format, OutputFormat::Json | OutputFormat::Yaml) {
            for r in &plan.refusals {
                output::error(&format!("{r}\n  help: {}", r.help));
            }
        }
        let what = match plan.action {
            AuditAction::Promote => "promotion",
            AuditAction::Rollback => "rollback",
        };
        return Err(Failure::Negative(Some(format!(
            "{what} refused by {} gate check(s); nothing was changed",
            plan.refusals.len()
        ))));
    }
    Ok(())
}

fn human(outcome: &Outcome, diff: &str, dry_run: bool) -> String {
    let plan = &outcome.plan;
    let mut s = String::new();
    for n in &plan.notes {
        s.push_str(&format!("note: {n}\n"));
    }
    for w in &plan.warnings {
        s.push_str(&format!("warning: {}\n", crate::output::printable(w)));
    }
    for u in &plan.unchanged {
        s.push_str(&format!(
            "{} runs {} {} already; nothing to do\n",
            plan.stage, u.name, u.version
        ));
    }
    if plan.is_refused() {
        return s;
    }
    for r in &plan.restored {
        s.push_str(&format!(
            "{} {} {} in {}: its audit trail records the promotion, the domain file lacked the row (an interrupted promotion); no new record\n",
            if dry_run { "would restore" } else { "restored" },
            r.name,
            r.version,
            plan.stage
        ));
    }
    if plan.changes.is_empty() {
        if !plan.restored.is_empty() && !dry_run {
            s.push_str(&format!("  wrote {}\n", plan.file));
        }
        if plan.unchanged.is_empty() && plan.restored.is_empty() {
            s.push_str(&format!("nothing to promote into {}\n", plan.stage));
        }
        return s;
    }
    let verb = match (plan.action, dry_run) {
        (AuditAction::Promote, false) => "promoted",
        (AuditAction::Promote, true) => "would promote",
        (AuditAction::Rollback, false) => "rolled back",
        (AuditAction::Rollback, true) => "would roll back",
    };
    for ch in &plan.changes {
        let from = ch
            .previous
            .as_ref()
            .map(|p| format!("{p} → "))
            .unwrap_or_default();
        s.push_str(&format!(
            "{verb} {} {from}{} in {}\n",
            output::bold(ch.component.as_str()),
            ch.version,
            plan.stage
        ));
    }
    for r in &outcome.records {
        s.push_str(&format!("  recorded in {r}\n"));
    }
    if dry_run {
        s.push_str(diff);
        s.push_str(&format!(
            "dry run: every gate passed; {} audit record(s) and {} would be written\n",
            plan.changes.len(),
            plan.file
        ));
    } else {
        s.push_str(&format!("  wrote {}\n", plan.file));
    }
    s
}
