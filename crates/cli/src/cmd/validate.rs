//! `berth validate [PATH…] [--verify-artifacts] [--no-cache] [--deny warnings] [--list-rules]`.

use berth_model::Repository;
use berth_validate::{Options, Registry, render};
use camino::{Utf8Path, Utf8PathBuf};

use crate::cli::{Cli, DenyLevel, OutputFormat, ValidateArgs};
use crate::{Failure, output};

pub fn run(cli: &Cli, args: &ValidateArgs) -> crate::CmdResult {
    use OutputFormat as F;
    output::allow(
        cli.format,
        &[F::Human, F::Table, F::Json, F::Gitlab, F::Junit, F::Sarif],
        "validate",
    )?;
    let repo = super::open_repo(cli)?;
    let registry = Registry::builtin();
    if args.list_rules {
        let rows = registry.list(repo.config());
        let text = match cli.format {
            F::Human | F::Table => render::human_list(&rows),
            F::Json => output::machine(F::Json, &rows)?.unwrap_or_default(),
            _ => return Err(Failure::usage("--list-rules offers --format human or json")),
        };
        output::out(&text);
        return Ok(());
    }
    let paths = args
        .paths
        .iter()
        .map(|p| repo_path(&repo, p))
        .collect::<Result<Vec<_>, _>>()?;
    let opts = Options {
        verify_artifacts: args.verify_artifacts,
        no_cache: args.no_cache,
        cache: !args.no_cache,
        paths,
        ..Options::default()
    };
    let report = berth_validate::validate(&repo, &registry, &opts)
        .map_err(|e| Failure::Error(e.to_string()))?;
    for id in &report.unknown_rule_ids {
        let hint = registry
            .suggest(id)
            .map(|s| format!("; did you mean `{s}`?"))
            .unwrap_or_default();
        output::warning(&format!(
            "berth.toml [rules]: `{id}` is not a rule of this berth{hint} (berth validate --list-rules)"
        ));
    }
    let format = match cli.format {
        F::Json => render::Format::Json,
        F::Gitlab => render::Format::Gitlab,
        F::Junit => render::Format::Junit,
        F::Sarif => render::Format::Sarif,
        _ => render::Format::Human,
    };
    let styled = anstream::stdout().current_choice() != anstream::ColorChoice::Never;
    let text = render::render(&report, &registry, format, styled)
        .map_err(|e| Failure::Error(e.to_string()))?;
    output::out(&text);
    if report.fails(args.deny.contains(&DenyLevel::Warnings)) {
        return Err(Failure::Negative(None));
    }
    Ok(())
}

/// A PATH argument as a path relative to the repository root: an existing file or
/// directory (relative to the working directory, or to the root), or a component name.
fn repo_path(repo: &Repository, arg: &str) -> Result<Utf8PathBuf, Failure> {
    let root = std::fs::canonicalize(repo.root())?;
    if let Ok(abs) = std::fs::canonicalize(arg)
        && let Ok(rel) = abs.strip_prefix(&root)
    {
        return Utf8PathBuf::from_path_buf(rel.to_path_buf())
            .map_err(|p| Failure::usage(format!("{} is not UTF-8", p.display())));
    }
    let rel = Utf8Path::new(arg.trim_end_matches('/'));
    if !rel.is_absolute() && repo.root().join(rel).exists() {
        return Ok(rel.to_owned());
    }
    match repo.resolve_component(arg) {
        Ok(c) => Ok(berth_model::Layout::component_dir(&c)),
        Err(e @ berth_model::Error::NotFound { .. }) => Err(Failure::usage(format!(
            "`{arg}` is neither a path of the repository nor a component: {e}"
        ))),
        Err(e) => Err(e.into()),
    }
}
