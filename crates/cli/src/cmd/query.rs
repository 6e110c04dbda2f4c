//! `berth query [--team T] [--domain D] [--env E] [--arch A] [--label K=V]…
//! [--depends-on "C REQ"] [--all-versions]`.

use berth_index::{DependsOn, Query, Resolver};
use berth_model::{Arch, DomainName, EnvName};

use crate::cli::{Cli, OutputFormat, QueryArgs};
use crate::{Failure, output};

pub fn run(cli: &Cli, args: &QueryArgs) -> crate::CmdResult {
    output::allow(
        cli.format,
        &[
            OutputFormat::Human,
            OutputFormat::Table,
            OutputFormat::Json,
            OutputFormat::Yaml,
        ],
        "query",
    )?;
    let repo = super::open_repo(cli)?;
    let labels = args
        .labels
        .iter()
        .map(|l| match l.split_once('=') {
            Some((k, v)) if !k.is_empty() => Ok((k.to_owned(), v.to_owned())),
            _ => Err(Failure::usage(format!("--label `{l}`: write KEY=VALUE"))),
        })
        .collect::<crate::Result<Vec<_>>>()?;
    let depends_on = match &args.depends_on {
        Some(text) => Some(DependsOn::parse(&Resolver::new(&repo)?, text)?),
        None => None,
    };
    let q = Query {
        team: args.team.clone(),
        domain: args.domain.as_deref().map(DomainName::parse).transpose()?,
        env: args.env.as_deref().map(EnvName::parse).transpose()?,
        arch: args.arch.as_deref().map(Arch::parse).transpose()?,
        labels,
        depends_on,
        all_versions: args.all_versions,
    };
    let index = match repo.components_index()? {
        Some(i) => i.value,
        None => {
            if !args.all_versions {
                output::warning(
                    "index/components.yaml does not exist; latest versions computed from the tree (run `berth index`)",
                );
            }
            let opts = berth_index::IndexOptions::from_config(repo.config());
            berth_index::build(&repo, &opts, &super::validated(&repo)?)?
        }
    };
    let result = berth_index::query(&repo, &index, &q)?;
    for u in &result.unreadable {
        output::warning(&format!("left out: {u}"));
    }
    // JSON: an array, for `jq '.[]'`; YAML: under `hits:`, so that it is block style.
    let machine = match cli.format {
        OutputFormat::Yaml => {
            output::machine(cli.format, &serde_json::json!({ "hits": result.hits }))?
        }
        _ => output::machine(cli.format, &result.hits)?,
    };
    if let Some(text) = machine {
        output::out(&text);
    } else if !result.hits.is_empty() {
        let rows: Vec<Vec<String>> = result
            .hits
            .iter()
            .map(|h| {
                vec![
                    h.component.to_string(),
                    h.version.to_string(),
                    h.team.clone(),
                    h.owner_team.clone().unwrap_or_else(|| "-".into()),
                    h.domains.join(","),
                    h.environments.join(","),
                    h.architecture.join(","),
                    if h.dependencies.is_empty() {
                        "-".into()
                    } else {
                        h.dependencies.join(", ")
                    },
                ]
            })
            .collect();
        output::out(&output::table(
            &[
                "COMPONENT",
                "VERSION",
                "TEAM",
                "OWNER",
                "DOMAINS",
                "ENVIRONMENTS",
                "ARCH",
                "DEPENDENCIES",
            ],
            &rows,
        ));
    }
    if result.hits.is_empty() {
        return Err(Failure::Negative(match cli.format {
            OutputFormat::Json | OutputFormat::Yaml => None,
            _ => Some("no component version matches".into()),
        }));
    }
    Ok(())
}
