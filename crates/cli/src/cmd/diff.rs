//! `berth diff --domain D --from ENV --to ENV`: what promoting a whole stage would change.

use berth_promote::{DiffKind, Stage, stage_diff};

use crate::cli::{Cli, DiffArgs, OutputFormat};
use crate::output;

pub fn run(cli: &Cli, args: &DiffArgs) -> crate::CmdResult {
    output::allow(
        cli.format,
        &[
            OutputFormat::Human,
            OutputFormat::Table,
            OutputFormat::Json,
            OutputFormat::Yaml,
        ],
        "diff",
    )?;
    let repo = super::open_repo(cli)?;
    let from = Stage::new(repo.config(), &args.domain, Some(&args.from))?;
    let to = Stage::new(repo.config(), &args.domain, Some(&args.to))?;
    let d = stage_diff(&repo, &from, &to)?;
    if let Some(text) = output::machine(cli.format, &d)? {
        output::out(&text);
        return Ok(());
    }
    if d.changes.is_empty() {
        output::out(&format!(
            "{to} runs everything {from} runs; nothing to promote\n"
        ));
        return Ok(());
    }
    let rows: Vec<Vec<String>> = d
        .changes
        .iter()
        .map(|r| {
            vec![
                r.component.to_string(),
                r.current
                    .as_ref()
                    .map_or_else(|| "-".to_owned(), ToString::to_string),
                r.next.to_string(),
                match r.kind {
                    DiffKind::New => "new",
                    DiffKind::Upgrade => "upgrade",
                    DiffKind::Downgrade => "downgrade",
                }
                .to_owned(),
            ]
        })
        .collect();
    let (now, after) = (
        format!("{} NOW", d.to.as_str().to_uppercase()),
        format!("FROM {}", d.from.as_str().to_uppercase()),
    );
    let mut s = output::table(&["COMPONENT", &now, &after, "CHANGE"], &rows);
    s.push_str(&format!(
        "{} change(s), {} unchanged; apply with: berth promote --domain {} --from {} --to {}\n",
        d.changes.len(),
        d.same,
        d.domain,
        d.from,
        d.to
    ));
    output::out(&s);
    Ok(())
}
