//! A component's page: versions with formats, sizes, build dates, base images,
//! architectures and labels; where each version runs; dependencies and dependents (an
//! SVG graph and lists); the owner; findings with their rules' documentation.

use std::collections::{BTreeMap, BTreeSet};

use askama::Template;
use berth_index::{DepProblem, DepStatus};
use berth_model::Manifest;

use super::{CellView, FindingRow, Layout, Renderer, human_size, is_web_link, join, render};
use crate::collect::{Comp, Ver};
use crate::graph::{self, Graph, Neighbour};
use crate::ruledoc::Block;
use crate::{Page, Result, links};

/// Versions shown in full on a component page (the table lists them all).
pub(crate) const MAX_VERSION_DETAILS: usize = 50;
/// Dependents listed on a component page (a shared library can have thousands).
pub(crate) const MAX_DEPENDENTS: usize = 500;

#[derive(Template)]
#[template(path = "component.html", whitespace = "minimize")]
struct ComponentPage<'a> {
    l: Layout,
    path: String,
    name: String,
    crumbs: Vec<String>,
    latest: String,
    team: String,
    domains: String,
    envs: String,
    archs: String,
    labels: Vec<String>,
    problem: Option<String>,
    owner: OwnerView,
    stages: Vec<StageRow>,
    graph_version: Option<String>,
    deps_problem: Option<String>,
    graph: Graph,
    deps: Vec<DepRow>,
    dependents: Vec<DependentRow>,
    dependents_total: usize,
    versions: Vec<VersionRow>,
    versions_detailed: usize,
    hidden_versions: usize,
    total_findings: usize,
    other_findings: Vec<FindingRow>,
    rules: Vec<RuleView<'a>>,
}

enum OwnerView {
    Known(OwnerInfo),
    Missing,
    Broken(String),
}

struct OwnerInfo {
    team: String,
    product_owner: String,
    slack: String,
    source: String,
    source_is_link: bool,
    ci: String,
    ci_is_link: bool,
    audit: String,
    approvers: String,
    teams: String,
    file: String,
}

struct StageRow {
    name: String,
    href: String,
    cell: CellView,
}

struct DepRow {
    name: String,
    href: Option<String>,
    requirement: String,
    detail: String,
    problem: bool,
}

struct DependentRow {
    name: String,
    href: String,
    version: String,
    requirement: String,
    resolved: String,
}

struct VersionRow {
    version: String,
    anchor: String,
    is_latest: bool,
    detailed: bool,
    formats: String,
    size: String,
    built: String,
    base: String,
    archs: String,
    runs_in: String,
    errors: usize,
    warnings: usize,
    infos: usize,
    meta: MetaView,
    formats_detail: Vec<FormatView>,
    findings: Vec<FindingRow>,
}

enum MetaView {
    Loaded(MetaInfo),
    Broken(String),
}

struct MetaInfo {
    team: String,
    domains: String,
    envs: String,
    archs: String,
    deps: String,
    port: String,
    labels: Vec<String>,
    notes: String,
}

struct FormatView {
    format: String,
    manifest: ManifestView,
}

enum ManifestView {
    Loaded(ManifestInfo),
    Broken(String),
}

struct ManifestInfo {
    sha256: String,
    size: String,
    built: String,
    base: String,
    platforms: String,
    deb: String,
    labels: Vec<String>,
    files: Vec<String>,
}

struct RuleView<'a> {
    id: &'a str,
    anchor: String,
    href: String,
    summary: &'a str,
    blocks: &'a [Block],
}

fn manifest_size(m: &Manifest) -> u64 {
    m.files.iter().map(|f| f.size).sum()
}

fn dep_problem_text(p: &DepProblem) -> String {
    match p {
        DepProblem::Unresolved { reason, .. } => format!("unresolved: {reason}"),
        DepProblem::Ambiguous { candidates, .. } => {
            format!("ambiguous: {}", join(candidates))
        }
        DepProblem::Cycle { path, .. } => format!("cycle: {}", join(path)),
    }
}

impl Renderer<'_> {
    pub(super) fn component_page(&self, c: &Comp) -> Result<Page> {
        let d = self.data;
        let path = links::component(&c.path);
        let root = links::root_of(&path);

        let owner = match &c.owner {
            Ok(Some(o)) => {
                let w = &o.ownership.value;
                OwnerView::Known(OwnerInfo {
                    team: w.owner_team.clone(),
                    product_owner: w.product_owner.clone(),
                    slack: w.slack_channel.clone(),
                    source_is_link: is_web_link(&w.source_repo),
                    source: w.source_repo.clone(),
                    ci_is_link: is_web_link(&w.ci_pipeline),
                    ci: w.ci_pipeline.clone(),
                    audit: w.audit_contact.clone(),
                    approvers: join(&w.approvers),
                    teams: join(&w.teams),
                    file: o.file.to_string(),
                })
            }
            Ok(None) => OwnerView::Missing,
            Err(e) => OwnerView::Broken(e.clone()),
        };

        // Where it runs: every stage of its domains, and any other stage that runs it.
        let mut stages = Vec::new();
        let mut runs_of: BTreeMap<String, Vec<String>> = BTreeMap::new();
        for (si, st) in d.stages.iter().enumerate() {
            let runs = self.runs[si].and_then(|m| m.get(&c.path));
            if let Some(v) = runs {
                runs_of
                    .entry(v.to_string())
                    .or_default()
                    .push(st.stage.to_string());
            }
            if runs.is_none() && !c.domains.contains(&st.stage.domain) {
                continue;
            }
            stages.push(StageRow {
                name: st.stage.to_string(),
                href: format!("{root}{}", links::stage(&st.stage.domain, &st.stage.env, 1)),
                cell: self.cell_view(c, si),
            });
        }

        // Dependencies (of the reference version) and dependents.
        let mut deps = Vec::new();
        let mut deps_problem = None;
        match &c.deps {
            Ok(edges) => {
                for e in edges {
                    let (name, href, detail, problem) = match &e.status {
                        DepStatus::Resolved(p) => (
                            p.component.to_string(),
                            Some(format!("{root}{}", links::component(&p.component))),
                            p.version.to_string(),
                            false,
                        ),
                        DepStatus::Problem(p) => {
                            let name = e
                                .dependency
                                .split_whitespace()
                                .next()
                                .unwrap_or(&e.dependency)
                                .to_owned();
                            (name, None, dep_problem_text(p), true)
                        }
                        DepStatus::Invalid { error } => (
                            e.dependency.clone(),
                            None,
                            format!("invalid: {error}"),
                            true,
                        ),
                    };
                    let requirement = e
                        .dependency
                        .split_once(char::is_whitespace)
                        .map(|(_, r)| r.trim().to_owned())
                        .unwrap_or_else(|| "any version".to_owned());
                    deps.push(DepRow {
                        name,
                        href,
                        requirement,
                        detail,
                        problem,
                    });
                }
            }
            Err(e) => deps_problem = Some(e.clone()),
        }
        let mut dependents: Vec<DependentRow> = c
            .dependents
            .iter()
            .map(|x| DependentRow {
                name: x.component.to_string(),
                href: format!("{root}{}", links::component(&x.component)),
                version: x.version.to_string(),
                requirement: x.requirement.clone(),
                resolved: x.resolved.to_string(),
            })
            .collect();
        let graph = graph::layout(
            &Neighbour {
                name: c.path.to_string(),
                detail: c
                    .reference
                    .as_ref()
                    .map(ToString::to_string)
                    .unwrap_or_default(),
                problem: false,
            },
            &deps
                .iter()
                .map(|x| Neighbour {
                    name: x.name.clone(),
                    detail: if x.problem {
                        "problem: see below".to_owned()
                    } else {
                        format!("{} ({})", x.detail, x.requirement)
                    },
                    problem: x.problem,
                })
                .collect::<Vec<_>>(),
            &c.dependents
                .iter()
                .map(|x| Neighbour {
                    name: x.component.to_string(),
                    detail: format!("{} needs {}", x.version, x.requirement),
                    problem: false,
                })
                .collect::<Vec<_>>(),
        );

        dependents.truncate(MAX_DEPENDENTS);

        // Versions, newest first.
        let (vers, problem): (&[Ver], Option<String>) = match &c.versions {
            Ok(v) => (v, None),
            Err(e) => (&[], Some(format!("the versions cannot be listed: {e}"))),
        };
        let mut versions = Vec::with_capacity(vers.len());
        for (k, v) in vers.iter().rev().enumerate() {
            versions.push(self.version_row(c, v, k < MAX_VERSION_DETAILS, &runs_of, &root));
        }
        let hidden_versions = vers.len().saturating_sub(MAX_VERSION_DETAILS);

        let other_findings: Vec<FindingRow> = c
            .findings
            .iter()
            .filter(|&&i| d.findings[i].version.is_none())
            .map(|&i| self.finding_row(&d.findings[i], &root))
            .collect();
        let rule_ids: BTreeSet<&str> = c.findings.iter().map(|&i| d.findings[i].d.rule).collect();
        let rules = rule_ids
            .into_iter()
            .filter_map(|id| {
                d.rules.get_key_value(id).map(|(k, r)| RuleView {
                    id: k.as_str(),
                    anchor: format!("rule-{}", links::slug(id)),
                    href: format!("{root}{}", links::facet("rule", id, 1)),
                    summary: &r.summary,
                    blocks: &r.blocks,
                })
            })
            .collect();

        let segments: Vec<&str> = c.path.segments().collect();
        let crumbs = segments[..segments.len().saturating_sub(1)]
            .iter()
            .map(|s| (*s).to_owned())
            .collect();
        let page = ComponentPage {
            l: self.layout(&path, c.path.to_string(), "component"),
            path: c.path.to_string(),
            name: c.path.name().to_owned(),
            crumbs,
            latest: c
                .latest
                .as_ref()
                .map(ToString::to_string)
                .unwrap_or_default(),
            team: c.team.clone().unwrap_or_default(),
            domains: join(&c.domains),
            envs: join(&c.envs),
            archs: join(&c.archs),
            labels: c.labels.iter().map(|(k, v)| format!("{k}={v}")).collect(),
            problem,
            owner,
            stages,
            graph_version: c.reference.as_ref().map(ToString::to_string),
            deps_problem,
            graph,
            deps,
            dependents,
            dependents_total: c.dependents.len(),
            versions_detailed: MAX_VERSION_DETAILS.min(vers.len()),
            hidden_versions,
            total_findings: c.findings.len(),
            other_findings,
            versions,
            rules,
        };
        render(path, &page)
    }

    fn version_row(
        &self,
        c: &Comp,
        v: &Ver,
        detailed: bool,
        runs_of: &BTreeMap<String, Vec<String>>,
        root: &str,
    ) -> VersionRow {
        let d = self.data;
        let fmts: &[crate::collect::Fmt] = v.formats.as_deref().unwrap_or(&[]);
        let manifests: Vec<&Manifest> = fmts
            .iter()
            .filter_map(|f| f.manifest.as_ref().ok())
            .collect();
        let size: u64 = manifests.iter().map(|m| manifest_size(m)).sum();
        let uniq = |it: Vec<String>| {
            let s: BTreeSet<String> = it.into_iter().filter(|x| !x.is_empty()).collect();
            if s.is_empty() {
                "—".to_owned()
            } else {
                join(s)
            }
        };
        let built = uniq(
            manifests
                .iter()
                .filter_map(|m| m.built_at.as_ref().map(|b| b.text()))
                .collect(),
        );
        let base = uniq(
            manifests
                .iter()
                .filter_map(|m| m.base_image.clone())
                .collect(),
        );
        let archs = match &v.metadata {
            Ok(m) => join(m.architecture.archs()),
            Err(_) => "—".to_owned(),
        };
        let (errors, warnings, infos) =
            crate::collect::count(v.findings.iter().map(|&i| &d.findings[i]));
        let meta = match &v.metadata {
            Ok(m) => MetaView::Loaded(MetaInfo {
                team: m.team.clone(),
                domains: join(m.domains.iter().map(|x| x.text())),
                envs: join(m.environments.iter().map(|x| x.text())),
                archs: archs.clone(),
                deps: join(m.dependencies.iter().map(|x| x.text())),
                port: m
                    .port_exposed
                    .as_ref()
                    .map(|p| p.text())
                    .unwrap_or_default(),
                labels: m.labels.iter().map(|(k, v)| format!("{k}={v}")).collect(),
                notes: m.notes.clone().unwrap_or_default(),
            }),
            Err(e) => MetaView::Broken(e.clone()),
        };
        let formats_detail = match &v.formats {
            Ok(fs) => fs
                .iter()
                .map(|f| FormatView {
                    format: f.format.to_string(),
                    manifest: match &f.manifest {
                        Ok(m) => ManifestView::Loaded(ManifestInfo {
                            sha256: m.sha256.text(),
                            size: human_size(manifest_size(m)),
                            built: m.built_at.as_ref().map(|b| b.text()).unwrap_or_default(),
                            base: m.base_image.clone().unwrap_or_default(),
                            platforms: join(&m.platforms),
                            deb: m
                                .deb
                                .as_ref()
                                .map(|x| {
                                    let mut s =
                                        format!("{} {} ({})", x.package, x.version, x.architecture);
                                    if let Some(dep) = &x.depends {
                                        s.push_str(&format!("; depends: {dep}"));
                                    }
                                    s
                                })
                                .unwrap_or_default(),
                            labels: m.labels.iter().map(|(k, v)| format!("{k}={v}")).collect(),
                            files: m
                                .files
                                .iter()
                                .map(|x| format!("{} ({})", x.path, human_size(x.size)))
                                .collect(),
                        }),
                        Err(e) => ManifestView::Broken(e.clone()),
                    },
                })
                .collect(),
            Err(e) => vec![FormatView {
                format: "formats".to_owned(),
                manifest: ManifestView::Broken(format!(
                    "the version directory cannot be listed: {e}"
                )),
            }],
        };
        let version = v.version.to_string();
        VersionRow {
            anchor: links::version_anchor(&v.version),
            is_latest: c.latest.as_ref() == Some(&v.version),
            detailed,
            formats: if fmts.is_empty() {
                "—".to_owned()
            } else {
                join(fmts.iter().map(|f| &f.format))
            },
            size: if size == 0 {
                "—".to_owned()
            } else {
                human_size(size)
            },
            built,
            base,
            archs,
            runs_in: runs_of.get(&version).map(join).unwrap_or_default(),
            errors,
            warnings,
            infos,
            meta,
            formats_detail,
            findings: if detailed {
                v.findings
                    .iter()
                    .map(|&i| self.finding_row(&d.findings[i], root))
                    .collect()
            } else {
                Vec::new()
            },
            version,
        }
    }
}
