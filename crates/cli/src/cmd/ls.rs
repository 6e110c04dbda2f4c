//! `berth ls [PREFIX]`.

use serde::Serialize;

use crate::cli::{Cli, LsArgs, OutputFormat};
use crate::output;

#[derive(Serialize)]
struct Row {
    name: String,
    versions: Vec<String>,
    latest: Option<String>,
    owner_team: Option<String>,
}

pub fn run(cli: &Cli, args: &LsArgs) -> crate::CmdResult {
    output::allow(
        cli.format,
        &[
            OutputFormat::Human,
            OutputFormat::Table,
            OutputFormat::Json,
            OutputFormat::Yaml,
        ],
        "ls",
    )?;
    let repo = super::open_repo(cli)?;
    let index = repo.components_index()?;
    let mut rows = Vec::new();
    for c in repo.components()? {
        if let Some(p) = &args.prefix {
            let p = p.trim_end_matches('/');
            if c.as_str() != p && !c.as_str().starts_with(&format!("{p}/")) {
                continue;
            }
        }
        let versions = repo.versions(&c)?;
        let owner = repo.owner(&c)?;
        rows.push(Row {
            latest: index
                .as_ref()
                .and_then(|i| i.value.latest(c.as_str()))
                .map(ToString::to_string),
            name: c.to_string(),
            versions: versions.iter().map(ToString::to_string).collect(),
            owner_team: owner.map(|o| o.ownership.value.owner_team),
        });
    }
    if let Some(text) = output::machine(cli.format, &rows)? {
        output::out(&text);
        return Ok(());
    }
    let table: Vec<Vec<String>> = rows
        .iter()
        .map(|r| {
            vec![
                r.name.clone(),
                r.latest.clone().unwrap_or_else(|| "-".into()),
                r.versions.join(", "),
                r.owner_team.clone().unwrap_or_else(|| "(no owner)".into()),
            ]
        })
        .collect();
    output::out(&output::table(
        &["COMPONENT", "LATEST", "VERSIONS", "OWNER"],
        &table,
    ));
    Ok(())
}
