//! `berth deps COMPONENT [VERSION] [--tree]`.

use berth_index::{DepEdge, DepNode, DepStatus, IndexError, Resolver};
use berth_model::Version;
use serde_json::json;

use crate::cli::{Cli, DepsArgs, OutputFormat};
use crate::{Failure, output};

pub fn run(cli: &Cli, args: &DepsArgs) -> crate::CmdResult {
    output::allow(
        cli.format,
        &[OutputFormat::Human, OutputFormat::Json, OutputFormat::Yaml],
        "deps",
    )?;
    let repo = super::open_repo(cli)?;
    let c = repo.resolve_component(&args.component)?;
    let versions = repo.versions(&c)?;
    let version = match &args.version {
        Some(v) => Version::parse(v)?,
        None => {
            let index = repo.components_index()?.map(|l| l.value).ok_or_else(|| {
                Failure::usage(format!(
                    "give a VERSION of {c}: index/components.yaml does not exist to name the latest (run `berth index`)"
                ))
            })?;
            berth_index::latest(&index, c.as_str())
                .map_err(|_| {
                    Failure::Negative(Some(format!(
                        "{c} has no latest version in index/components.yaml; give a VERSION"
                    )))
                })?
                .clone()
        }
    };
    if !versions.contains(&version) {
        return Err(IndexError::UnknownVersion {
            component: c.to_string(),
            version: version.to_string(),
            available: versions
                .iter()
                .map(ToString::to_string)
                .collect::<Vec<_>>()
                .join(", "),
        }
        .into());
    }
    let resolver = Resolver::new(&repo)?;
    let problems = if args.tree {
        let tree = resolver.tree(&c, &version)?;
        if let Some(text) = output::machine(cli.format, &tree)? {
            output::out(&text);
        } else {
            let mut s = format!("{} {}\n", output::bold(c.as_str()), version);
            render_tree(&tree, "", &mut s);
            output::out(&s);
        }
        tree.problems().len()
    } else {
        let edges = resolver.dependencies(&c, &version)?;
        if let Some(text) = output::machine(
            cli.format,
            &json!({ "component": c, "version": version, "dependencies": edges }),
        )? {
            output::out(&text);
        } else {
            let mut s = format!("{} {}\n", output::bold(c.as_str()), version);
            if edges.is_empty() {
                s.push_str("  (no dependencies)\n");
            }
            let width = edges
                .iter()
                .map(|e| e.dependency.chars().count())
                .max()
                .unwrap_or(0);
            for e in &edges {
                s.push_str(&format!("  {:width$}  {}\n", e.dependency, outcome(e)));
            }
            output::out(&s);
        }
        edges
            .iter()
            .filter(|e| matches!(e.status, DepStatus::Problem(_)))
            .count()
    };
    if problems > 0 {
        return Err(Failure::Negative(Some(format!(
            "{problems} dependency problem{} (see above)",
            if problems == 1 { "" } else { "s" }
        ))));
    }
    Ok(())
}

fn outcome(e: &DepEdge) -> String {
    match &e.status {
        DepStatus::Resolved(p) => format!("→ {p}"),
        DepStatus::Problem(p) => format!("✗ {}: {p}", p.rule()),
        DepStatus::Invalid { error } => format!("✗ invalid: {error}"),
    }
}

fn render_tree(node: &DepNode, prefix: &str, s: &mut String) {
    if let Some(err) = &node.error {
        s.push_str(&format!("{prefix}└── ✗ {err}\n"));
    }
    let n = node.dependencies.len();
    for (i, e) in node.dependencies.iter().enumerate() {
        let last = i + 1 == n;
        let (branch, next) = if last {
            ("└── ", "    ")
        } else {
            ("├── ", "│   ")
        };
        s.push_str(&format!(
            "{prefix}{branch}{} {}{}\n",
            e.edge.dependency,
            outcome(&e.edge),
            if e.seen { " (*)" } else { "" }
        ));
        if let Some(sub) = &e.node {
            render_tree(sub, &format!("{prefix}{next}"), s);
        }
    }
}
