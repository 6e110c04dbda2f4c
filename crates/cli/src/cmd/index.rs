//! `berth index [--check]`.

use berth_index::IndexOptions;
use serde_json::json;

use crate::cli::{Cli, IndexArgs, OutputFormat};
use crate::{Failure, output};

pub fn run(cli: &Cli, args: &IndexArgs) -> crate::CmdResult {
    output::allow(
        cli.format,
        &[OutputFormat::Human, OutputFormat::Json],
        "index",
    )?;
    let repo = super::open_repo(cli)?;
    let opts = IndexOptions::from_config(repo.config());
    // "Latest" is the highest version without an error finding: the validator decides.
    let is_good = super::validated(&repo)?;
    if args.check {
        let check = berth_index::check(&repo, &opts, &is_good)?;
        let fresh = check.is_fresh();
        let diff = check.unified_diff();
        if let Some(text) = output::machine(
            cli.format,
            &json!({ "file": check.path, "fresh": fresh, "diff": diff }),
        )? {
            output::out(&text);
        } else if fresh {
            output::out(&format!("{} is up to date\n", check.path));
        } else {
            output::out(&diff);
        }
        if fresh {
            return Ok(());
        }
        let what = if check.committed.is_some() {
            "is stale"
        } else {
            "does not exist"
        };
        return Err(Failure::Negative(Some(format!(
            "{} {what}; run `berth index` and commit the result",
            check.path
        ))));
    }
    let r = berth_index::regenerate(&repo, &opts, &is_good)?;
    if let Some(text) = output::machine(cli.format, &r)? {
        output::out(&text);
        return Ok(());
    }
    let mut s = String::new();
    let width = r
        .changes
        .iter()
        .map(|c| c.component.as_str().len())
        .max()
        .unwrap_or(0);
    for c in &r.changes {
        let show = |v: &Option<berth_model::Version>| {
            v.as_ref().map_or("-".to_owned(), ToString::to_string)
        };
        // A latest that is no longer good: say which rules took it away.
        let why = match &c.before {
            Some(b) if c.before > c.after || c.after.is_none() => {
                let mut rules: Vec<String> =
                    berth_model::Verdict::findings(&is_good, &c.component, b)
                        .unwrap_or_default()
                        .into_iter()
                        .map(|f| f.rule.to_string())
                        .collect();
                rules.dedup();
                if rules.is_empty() {
                    String::new()
                } else {
                    format!("  ({b}: {})", rules.join(", "))
                }
            }
            _ => String::new(),
        };
        s.push_str(&format!(
            "  {:width$}  {} → {}{why}\n",
            c.component.as_str(),
            show(&c.before),
            show(&c.after)
        ));
    }
    s.push_str(&format!(
        "{} index/components.yaml ({} components)\n",
        if r.written { "wrote" } else { "unchanged:" },
        r.index.components.len()
    ));
    output::out(&s);
    Ok(())
}
