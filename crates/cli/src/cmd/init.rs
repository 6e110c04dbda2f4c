//! `berth init [DIR]`.

use berth_model::Repository;
use camino::Utf8PathBuf;

use crate::cli::{Cli, InitArgs, OutputFormat};
use crate::output;

pub fn run(cli: &Cli, args: &InitArgs) -> crate::CmdResult {
    output::allow(
        cli.format,
        &[OutputFormat::Human, OutputFormat::Json],
        "init",
    )?;
    let dir = args
        .dir
        .clone()
        .or_else(|| cli.repo.clone())
        .unwrap_or_else(|| Utf8PathBuf::from("."));
    let repo = Repository::init(&dir)?;
    let domains: Vec<String> = repo
        .config()
        .domains
        .keys()
        .map(ToString::to_string)
        .collect();
    if let Some(text) = output::machine(
        cli.format,
        &serde_json::json!({ "root": repo.root(), "domains": domains }),
    )? {
        output::out(&text);
    } else {
        output::out(&format!(
            "Initialised a berth repository in {} (domains: {}).\nEdit berth.toml, then `berth add COMPONENT VERSION --docker FILE`.\n",
            repo.root(),
            domains.join(", ")
        ));
    }
    Ok(())
}
