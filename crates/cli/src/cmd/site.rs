//! `berth site --out DIR`: the static dashboard.

use std::io::IsTerminal;
use std::time::Duration;

use crate::cli::{Cli, OutputFormat, SiteArgs};
use crate::output;

pub fn run(cli: &Cli, args: &SiteArgs) -> crate::CmdResult {
    output::allow(
        cli.format,
        &[OutputFormat::Human, OutputFormat::Json, OutputFormat::Yaml],
        "site",
    )?;
    let repo = super::open_repo(cli)?;
    // What the stages run must be what `berth deployed` says: finish a killed writer's
    // work first, as `deployed` does.
    if repo.has_pending() {
        super::recover_pending(cli)?;
    }
    let mut opts = berth_site::Options::new(args.out.clone());
    opts.base_url = args.base_url.clone().filter(|u| !u.is_empty());
    opts.cache = !args.no_cache;
    // Large repositories take seconds: a spinner on a terminal, nothing otherwise.
    let spinner =
        (cli.format == OutputFormat::Human && std::io::stderr().is_terminal()).then(|| {
            let s = indicatif::ProgressBar::new_spinner();
            s.set_message("reading, validating and rendering the repository");
            s.enable_steady_tick(Duration::from_millis(120));
            s
        });
    let result = berth_site::build(&repo, &opts);
    if let Some(s) = spinner {
        s.finish_and_clear();
    }
    let summary = result.map_err(|e| crate::Failure::Error(e.to_string()))?;
    let report = serde_json::json!({
        "schema_version": 1,
        "out": args.out,
        "pages": summary.pages,
        "components": summary.components,
        "findings": summary.findings,
        "bytes": summary.bytes,
        "largest": summary.largest.as_ref().map(|(p, n)| serde_json::json!({"path": p, "bytes": n})),
        "written": summary.write.written,
        "unchanged": summary.write.unchanged,
        "removed": summary.write.removed,
    });
    if let Some(text) = output::machine(cli.format, &report)? {
        output::out(&text);
        return Ok(());
    }
    let largest = summary
        .largest
        .map(|(p, n)| format!("; largest {p} ({})", kib(n)))
        .unwrap_or_default();
    output::out(&format!(
        "{}: {} files for {} components and {} findings, {} in all{largest}\n{} written, {} unchanged, {} removed\n",
        args.out,
        summary.pages,
        summary.components,
        summary.findings,
        kib(summary.bytes),
        summary.write.written.len(),
        summary.write.unchanged,
        summary.write.removed.len(),
    ));
    Ok(())
}

fn kib(n: u64) -> String {
    if n >= 1 << 20 {
        format!("{:.1} MiB", n as f64 / f64::from(1u32 << 20))
    } else {
        format!("{:.1} KiB", n as f64 / 1024.0)
    }
}
