//! `berth show COMPONENT [VERSION]`.

use std::collections::BTreeMap;

use berth_index::{DepStatus, Resolver};
use berth_model::{ComponentPath, Format, Manifest, Metadata, Ownership, Repository, Version};
use serde::Serialize;

use crate::cli::{Cli, OutputFormat, ShowArgs};
use crate::output;

#[derive(Serialize)]
struct OwnerView {
    group: String,
    #[serde(flatten)]
    ownership: Ownership,
}

#[derive(Serialize)]
struct VersionView {
    version: String,
    formats: Vec<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    metadata: Option<Metadata>,
    #[serde(skip_serializing_if = "BTreeMap::is_empty")]
    manifests: BTreeMap<String, Manifest>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    problems: Vec<String>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    dependencies: Vec<DepView>,
}

/// One `dependencies` entry, resolved (berth-index).
#[derive(Serialize)]
struct DepView {
    dependency: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    resolved: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    problem: Option<String>,
}

fn dep_views(resolver: &Resolver<'_>, c: &ComponentPath, v: &Version) -> Vec<DepView> {
    // A version whose metadata does not load has its problem reported already.
    let Ok(edges) = resolver.dependencies(c, v) else {
        return Vec::new();
    };
    edges
        .into_iter()
        .map(|e| {
            let (resolved, problem) = match e.status {
                DepStatus::Resolved(p) => (Some(p.to_string()), None),
                DepStatus::Problem(p) => (None, Some(format!("{}: {p}", p.rule()))),
                DepStatus::Invalid { error } => (None, Some(error)),
            };
            DepView {
                dependency: e.dependency,
                resolved,
                problem,
            }
        })
        .collect()
}

#[derive(Serialize)]
struct ComponentView {
    name: String,
    latest: Option<String>,
    owner: Option<OwnerView>,
    versions: Vec<VersionView>,
}

fn version_view(
    repo: &Repository,
    resolver: &Resolver<'_>,
    c: &ComponentPath,
    v: &Version,
    full: bool,
) -> crate::Result<VersionView> {
    let formats = repo.formats(c, v)?;
    let mut problems = Vec::new();
    let metadata = if full {
        match repo.metadata(c, v) {
            Ok(m) => Some(m.value),
            Err(e) => {
                problems.push(e.to_string());
                None
            }
        }
    } else {
        None
    };
    let mut manifests = BTreeMap::new();
    if full {
        for f in &formats {
            match repo.manifest(c, v, f) {
                Ok(m) => {
                    manifests.insert(f.to_string(), m.value);
                }
                Err(e) => problems.push(e.to_string()),
            }
        }
    }
    Ok(VersionView {
        version: v.to_string(),
        formats: formats.iter().map(Format::to_string).collect(),
        metadata,
        manifests,
        problems,
        dependencies: dep_views(resolver, c, v),
    })
}

pub fn run(cli: &Cli, args: &ShowArgs) -> crate::CmdResult {
    output::allow(
        cli.format,
        &[OutputFormat::Human, OutputFormat::Json, OutputFormat::Yaml],
        "show",
    )?;
    let repo = super::open_repo(cli)?;
    let c = repo.resolve_component(&args.component)?;
    let all = repo.versions(&c)?;
    let versions: Vec<Version> = match &args.version {
        Some(v) => {
            let v = Version::parse(v)?;
            if !all.contains(&v) {
                return Err(crate::Failure::Negative(Some(format!(
                    "{c} has no version {v}; it has: {}",
                    all.iter()
                        .map(ToString::to_string)
                        .collect::<Vec<_>>()
                        .join(", ")
                ))));
            }
            vec![v]
        }
        None => all,
    };
    let full = args.version.is_some();
    let resolver = Resolver::new(&repo)?;
    let view = ComponentView {
        name: c.to_string(),
        latest: repo
            .components_index()?
            .and_then(|i| i.value.latest(c.as_str()).map(ToString::to_string)),
        owner: repo.owner(&c)?.map(|o| OwnerView {
            group: o.group,
            ownership: o.ownership.value,
        }),
        versions: versions
            .iter()
            .map(|v| version_view(&repo, &resolver, &c, v, full))
            .collect::<crate::Result<_>>()?,
    };
    if let Some(text) = output::machine(cli.format, &view)? {
        output::out(&text);
        return Ok(());
    }
    output::out(&human(&view));
    Ok(())
}

fn human(v: &ComponentView) -> String {
    let mut s = format!("{}\n", output::bold(&v.name));
    match &v.owner {
        Some(o) => {
            s.push_str(&format!(
                "  owner:    {} ({}), from components/{}/ownership.yaml\n  slack:    {}\n  source:   {}\n",
                o.ownership.owner_team, o.ownership.product_owner, o.group, o.ownership.slack_channel, o.ownership.source_repo
            ));
        }
        None => s.push_str("  owner:    none (no ownership.yaml above this component)\n"),
    }
    s.push_str(&format!(
        "  latest:   {}\n",
        v.latest.as_deref().unwrap_or("-")
    ));
    for ver in &v.versions {
        let formats = if ver.formats.is_empty() {
            "no artifacts".to_owned()
        } else {
            ver.formats.join(", ")
        };
        s.push_str(&format!("  {}  [{}]\n", ver.version, formats));
        if let Some(m) = &ver.metadata
            && let Ok(y) = berth_model::yaml::to_canonical(m)
        {
            s.push_str("    metadata.yaml:\n");
            for line in y.lines() {
                s.push_str(&format!("      {line}\n"));
            }
        }
        for (f, m) in &ver.manifests {
            s.push_str(&format!(
                "    {f}: sha256 {}{}\n",
                m.sha256.text(),
                m.built_at
                    .as_ref()
                    .map(|b| format!(", built {}", b.text()))
                    .unwrap_or_default()
            ));
        }
        for d in &ver.dependencies {
            match (&d.resolved, &d.problem) {
                (Some(r), _) => s.push_str(&format!("    depends on {} → {r}\n", d.dependency)),
                (None, Some(p)) => s.push_str(&format!("    depends on {} ✗ {p}\n", d.dependency)),
                (None, None) => s.push_str(&format!("    depends on {}\n", d.dependency)),
            }
        }
        for p in &ver.problems {
            s.push_str(&format!("    problem: {p}\n"));
        }
    }
    s
}
