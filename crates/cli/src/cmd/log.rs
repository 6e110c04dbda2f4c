//! `berth log [COMPONENT] [--domain D] [--env E]`: the audit history, chains checked.

use berth_model::AuditAction;
use berth_promote::{LogFilter, Stage, log};

use crate::cli::{Cli, LogArgs, OutputFormat};
use crate::{Failure, output};

pub fn run(cli: &Cli, args: &LogArgs) -> crate::CmdResult {
    output::allow(
        cli.format,
        &[
            OutputFormat::Human,
            OutputFormat::Table,
            OutputFormat::Json,
            OutputFormat::Yaml,
        ],
        "log",
    )?;
    let repo = super::open_repo(cli)?;
    if args.anchor {
        return anchor(cli, &repo);
    }
    // The same resolver as every other command: a full path or a unique last segment of a
    // component in the tree, with a suggestion for a typo. A component no longer in the
    // tree is still found by its full path in the records.
    let component = match &args.component {
        None => None,
        Some(name) => Some(match repo.resolve_component(name) {
            Ok(c) => c.to_string(),
            Err(berth_model::Error::NotFound { .. })
                if berth_model::ComponentPath::parse(name).is_ok() =>
            {
                name.clone()
            }
            Err(e @ berth_model::Error::NotFound { .. }) => {
                if berth_model::DomainName::parse(name).is_err() {
                    return Err(Failure::usage(format!(
                        "`{}` is not a component name: give a path like cloud/dmp/ms-ingestion or its last segment",
                        output::printable(name)
                    )));
                }
                return Err(e.into());
            }
            Err(e) => return Err(e.into()),
        }),
    };
    let mut filter = LogFilter {
        component: component.clone(),
        ..LogFilter::default()
    };
    if let Some(d) = &args.domain {
        filter.domain = Some(Stage::new(repo.config(), d, None)?.domain);
    }
    if let Some(e) = &args.env {
        match &args.domain {
            Some(d) => filter.env = Some(Stage::new(repo.config(), d, Some(e))?.env),
            None => {
                if !repo
                    .config()
                    .domains
                    .values()
                    .any(|dc| dc.ladder.iter().any(|l| l.as_str() == e))
                {
                    return Err(Failure::usage(format!(
                        "environment `{e}` is on no domain's ladder in berth.toml"
                    )));
                }
                filter.env = Some(berth_model::EnvName::parse(e)?);
            }
        }
    }
    let l = log(&repo, &filter)?;
    if let Some(c) = &component
        && l.entries.is_empty()
        && repo.resolve_component(c).is_err()
    {
        return Err(Failure::Negative(Some(format!(
            "component `{c}` is not in the repository and no audit record names it"
        ))));
    }
    if let Some(text) = output::machine(cli.format, &l)? {
        output::out(&text);
    } else if l.entries.is_empty() {
        output::out("no audit records\n");
    } else {
        let rows: Vec<Vec<String>> = l
            .entries
            .iter()
            .map(|e| {
                let r = &e.record;
                vec![
                    r.at.jiff().strftime("%Y-%m-%dT%H:%M:%SZ").to_string(),
                    match r.action {
                        AuditAction::Promote => "promote",
                        AuditAction::Rollback => "rollback",
                    }
                    .to_owned(),
                    format!("{}/{}", r.domain, r.environment),
                    r.component.to_string(),
                    r.previous_version
                        .as_ref()
                        .map_or_else(|| "-".to_owned(), ToString::to_string),
                    r.version.to_string(),
                    // Records are files a person could edit: nothing in them may forge a line.
                    output::printable(&r.actor),
                    if r.approvals.is_empty() {
                        "-".to_owned()
                    } else {
                        output::printable(&r.approvals.join(","))
                    },
                    output::printable(r.reason.as_deref().unwrap_or_default()),
                ]
            })
            .collect();
        output::out(&output::table(
            &[
                "AT",
                "ACTION",
                "STAGE",
                "COMPONENT",
                "FROM",
                "TO",
                "ACTOR",
                "APPROVED",
                "REASON",
            ],
            &rows,
        ));
    }
    if l.problems.is_empty() {
        return Ok(());
    }
    if !matches!(cli.format, OutputFormat::Json | OutputFormat::Yaml) {
        for p in &l.problems {
            output::error(&p.to_string());
        }
    }
    Err(Failure::Negative(Some(format!(
        "the audit trail is not intact: {} problem(s); records are written only by berth promote and berth rollback, never edited",
        l.problems.len()
    ))))
}

/// `berth log --anchor`.
fn anchor(cli: &Cli, repo: &berth_model::Repository) -> crate::CmdResult {
    let (done, problems) = berth_promote::anchor(repo)?;
    if let Some(text) = output::machine(cli.format, &done)? {
        output::out(&text);
    } else {
        for a in &done {
            let head = a
                .head
                .map_or_else(|| "no record".to_owned(), |h| h.hex()[..12].to_owned());
            let what = if a.written { "anchored" } else { "unchanged" };
            output::out(&format!("{}: {what} ({head})\n", a.stage));
        }
    }
    if problems.is_empty() {
        return Ok(());
    }
    for p in &problems {
        output::error(&p.to_string());
    }
    Err(Failure::Negative(Some(format!(
        "{} problem(s) in the audit trail: those stages were not anchored; restore the trail from version control first",
        problems.len()
    ))))
}
