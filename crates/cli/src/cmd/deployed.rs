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
    let stage = Stage::new(repo.config(), &args.domain, args.env.as_deref())?;
    let d = deployed(&repo, &stage)?;
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
