//! `berth explain RULE`: a rule's documentation.

use berth_validate::Registry;

use crate::cli::{Cli, ExplainArgs, OutputFormat};
use crate::{Failure, output};

pub fn run(cli: &Cli, args: &ExplainArgs) -> crate::CmdResult {
    output::allow(
        cli.format,
        &[OutputFormat::Human, OutputFormat::Json],
        "explain",
    )?;
    let registry = Registry::builtin();
    let Some(rule) = registry.get(&args.rule) else {
        let hint = registry
            .suggest(&args.rule)
            .map(|s| format!("; did you mean `{s}`?"))
            .unwrap_or_else(|| "; `berth validate --list-rules` lists them".to_owned());
        return Err(Failure::Negative(Some(format!(
            "`{}` is not a rule{hint}",
            args.rule
        ))));
    };
    let info = rule.info();
    if cli.format == OutputFormat::Json {
        let v = serde_json::json!({
            "id": info.id,
            "default_severity": info.default_severity,
            "summary": info.summary(),
            "doc": info.doc_text(),
        });
        output::out(&output::machine(OutputFormat::Json, &v)?.unwrap_or_default());
        return Ok(());
    }
    output::out(&format!(
        "{} (default: {})\n\n{}",
        output::bold(info.id),
        info.default_severity.as_str(),
        info.doc_text()
    ));
    Ok(())
}
