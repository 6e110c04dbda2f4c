//! `berth deployed --domain D [--env E]`: what a deploy job must deploy.

use berth_promote::{Stage, deployed};

use crate::cli::{Cli, DeployedArgs, OutputFormat};
use crate::output;

pub fn run(cli: &Cli, args: &DeployedArgs) -> crate::CmdResult {
    output::allow(
        cli.format,
        &[
            OutputFormat::Human,
            OutputFormat::Table,
            OutputFormat::Json,
            OutputFormat::Yaml,
        ],
        "deployed",
    )?;
    let repo = super::open_repo(cli)?;
    let stage = match &args.tag {
        Some(tag) => {
            berth_promote::PromotionTag::parse(tag)?.stage(&repo, args.domain.as_deref())?
        }
        None => {
            let domain = args
                .domain
                .as_deref()
                .ok_or_else(|| crate::Failure::usage("give --domain DOMAIN, or --tag TAG"))?;
            Stage::new(repo.config(), domain, args.env.as_deref())?
        }
    };
    if repo.has_pending() {
        super::recover_pending(cli)?;
    }
    let d = deployed(&repo, &stage)?;
    // A deploy job must never be handed a version without a directory (a hand-edited or
    // broken domain file): one `stat` per row.
    let missing: Vec<String> = d
        .components
        .iter()
        .filter(|e| !repo.has_version(&e.name, &e.version).unwrap_or(false))
        .map(|e| format!("{} {}", e.name, e.version))
        .collect();
    if !missing.is_empty() {
        return Err(crate::Failure::Negative(Some(format!(
            "{} names versions that do not exist: {}; the domain file was edited by hand or the versions were removed (`berth validate` reports domain/unknown-version)",
            d.file,
            missing.join(", ")
        ))));
    }
    if let Some(name) = &args.component {
        // Just the version, for `VERSION=$(berth deployed … --component C)`.
        let c = repo.resolve_component(name)?;
        return match d.components.iter().find(|e| e.name == c) {
            Some(e) => {
                output::out(&format!("{}\n", e.version));
                Ok(())
            }
            None => Err(crate::Failure::Negative(Some(format!(
                "{stage} runs no version of {c}"
            )))),
        };
    }
    if let Some(text) = output::machine(cli.format, &d)? {
        output::out(&text);
    } else if d.components.is_empty() {
        output::out(&format!("{stage} runs nothing yet ({})\n", d.file));
    } else {
        let rows: Vec<Vec<String>> = d
            .components
            .iter()
            .map(|e| vec![e.name.to_string(), e.version.to_string()])
            .collect();
        output::out(&output::table(&["COMPONENT", "VERSION"], &rows));
    }
    Ok(())
}
