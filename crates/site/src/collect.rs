//! Reading the repository into typed page data, through the public, high-level APIs only:
//! `berth_model::Repository` for the tree (every read goes through its store: no link is
//! followed, only regular files within their size limits are read), `berth_validate::validate`
//! (one run) for the findings, `berth_promote` for diffs and the audit trail,
//! `berth_index::Resolver` for dependencies. Nothing here fails on odd content: what does
//! not load is kept as the error text, for the page that shows it.

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::sync::Arc;

use berth_index::{DepEdge, DepProblem, DepStatus, Resolution, Resolver};
use berth_model::{
    AuditRecord, Checked, ComponentPath, DomainName, EnvName, Format, Manifest, Metadata, Owner,
    Repository, Severity, Stage, Version,
};
use berth_promote::{LogFilter, StageDiff};
use berth_validate::{Diagnostic, Options, Registry};
use camino::Utf8PathBuf;
use rayon::prelude::*;

use crate::Result;
use crate::ruledoc::{self, Block};

/// Everything the pages show.
pub(crate) struct Data {
    /// The domains of `berth.toml`, each with its ladder.
    pub domains: Vec<(DomainName, Vec<EnvName>)>,
    /// Every stage, domain by domain, each ladder in order.
    pub stages: Vec<StageData>,
    /// Every component, sorted by path.
    pub components: Vec<Comp>,
    /// Every finding of one validation run, in the validator's order.
    pub findings: Vec<Finding>,
    /// The documentation of every rule that has a finding, by id.
    pub rules: BTreeMap<String, RuleDoc>,
    /// Why `index/components.yaml` could not be read, when it could not (or is missing).
    pub index_problem: Option<String>,
}

/// One stage with what it runs, its diff to the next stage and its audit trail.
pub(crate) struct StageData {
    pub stage: Stage,
    /// The domain file, relative to the repository.
    pub file: Utf8PathBuf,
    /// What it runs, or why its domain file does not load.
    pub runs: Result<BTreeMap<ComponentPath, Version>, String>,
    pub next: Option<Stage>,
    /// What promoting this whole stage into the next would change.
    pub diff: Option<Result<StageDiff, String>>,
    /// Audit records of the stage, newest first, with their files.
    pub log: Vec<(Utf8PathBuf, AuditRecord)>,
    /// Why the audit trail could not be read, if it could not.
    pub log_problem: Option<String>,
    /// Findings about the domain file or the audit records (indexes into `Data::findings`).
    pub findings: Vec<usize>,
    /// The line of each row of the domain file and its component, to tie findings that
    /// point into the file to their component.
    pub rows_at: Vec<(u32, ComponentPath)>,
}

/// One component.
pub(crate) struct Comp {
    pub path: ComponentPath,
    /// Latest, from the committed `index/components.yaml`.
    pub latest: Option<Version>,
    /// The nearest ownership.yaml, or why it does not load.
    pub owner: Result<Option<Arc<Owner>>, String>,
    /// The versions, ascending, or why they cannot be listed.
    pub versions: Result<Vec<Ver>, String>,
    /// The version whose metadata decides domains, team, labels and dependencies: the
    /// latest, else the highest version whose metadata loads.
    pub reference: Option<Version>,
    pub domains: BTreeSet<DomainName>,
    pub envs: BTreeSet<EnvName>,
    pub team: Option<String>,
    pub labels: BTreeMap<String, String>,
    pub archs: Vec<String>,
    /// Dependencies of the reference version, resolved, or why they cannot be.
    pub deps: Result<Vec<DepEdge>, String>,
    /// Components whose reference version depends on this one (sorted).
    pub dependents: Vec<Dependent>,
    /// Findings about this component (indexes into `Data::findings`).
    pub findings: Vec<usize>,
}

/// A component that depends on another.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub(crate) struct Dependent {
    pub component: ComponentPath,
    pub version: Version,
    /// The dependency as written (`common-utils >=1.2.0`).
    pub requirement: String,
    /// What it resolves to.
    pub resolved: Version,
}

/// One version of a component.
pub(crate) struct Ver {
    pub version: Version,
    pub metadata: Result<Metadata, String>,
    /// The format directories, or why they cannot be listed.
    pub formats: Result<Vec<Fmt>, String>,
    pub findings: Vec<usize>,
}

/// One format directory.
pub(crate) struct Fmt {
    pub format: Format,
    pub manifest: Result<Manifest, String>,
}

/// One finding and what it is about.
pub(crate) struct Finding {
    pub d: Diagnostic,
    pub component: Option<ComponentPath>,
    pub version: Option<Version>,
    /// The owning team (ownership.yaml), else the metadata's team.
    pub team: Option<String>,
}

/// A rule's documentation, split into blocks.
pub(crate) struct RuleDoc {
    pub summary: String,
    pub default_severity: Severity,
    pub blocks: Vec<Block>,
}

impl Comp {
    /// (errors, warnings, infos) among its findings.
    pub fn counts(&self, findings: &[Finding]) -> (usize, usize, usize) {
        count(self.findings.iter().map(|&i| &findings[i]))
    }

    /// The owning team: ownership.yaml's `owner_team`, else the metadata's `team`.
    pub fn owner_team(&self) -> Option<&str> {
        match &self.owner {
            Ok(Some(o)) => Some(o.ownership.value.owner_team.as_str()),
            _ => self.team.as_deref(),
        }
    }
}

/// (errors, warnings, infos) among `findings`.
pub(crate) fn count<'a>(findings: impl Iterator<Item = &'a Finding>) -> (usize, usize, usize) {
    let mut c = (0, 0, 0);
    for f in findings {
        match f.d.severity {
            Severity::Error => c.0 += 1,
            Severity::Warn => c.1 += 1,
            _ => c.2 += 1,
        }
    }
    c
}

/// Reads everything the site shows. `registry` gives the rules of the one validation run
/// (no artifact bytes are read); with `cache`, that run keeps and uses the validator's
/// per-version cache in `.berth/cache/`, as `berth validate` does (same findings).
pub(crate) fn collect(repo: &Repository, registry: &Registry, cache: bool) -> Result<Data> {
    let config = repo.config();
    let opts = Options {
        cache,
        ..Options::default()
    };
    // The validation run and the reading of the tree overlap (both are parallel inside;
    // each has serial stretches the other fills).
    let (report, tree) = rayon::join(
        || berth_validate::validate(repo, registry, &opts),
        || read_tree(repo),
    );
    let report = report?;
    let (mut components, mut stages, index_problem) = tree?;
    // Findings: each tied to its component and version, its stage, its team.
    let names: Vec<ComponentPath> = components.iter().map(|c| c.path.clone()).collect();
    let comp_index: HashMap<&str, usize> = names
        .iter()
        .enumerate()
        .map(|(i, c)| (c.as_str(), i))
        .collect();
    let mut findings = Vec::with_capacity(report.diagnostics.len());
    for (n, d) in report.diagnostics.into_iter().enumerate() {
        let (mut ci, version) = match berth_validate::version_of(&d.file, repo.layout()) {
            Some((c, v)) => (comp_index.get(c.as_str()).copied(), Some(v)),
            None => (component_of(&d.file, &comp_index), None),
        };
        // A finding about a row of a domain file belongs to that row's component.
        if ci.is_none()
            && let Some(span) = d.span
            && let Some(st) = stages.iter().find(|s| s.file == d.file)
        {
            ci = st
                .rows_at
                .iter()
                .rev()
                .find(|(line, _)| *line <= span.line)
                .and_then(|(_, c)| comp_index.get(c.as_str()).copied());
        }
        if let Some(i) = ci {
            let comp = &mut components[i];
            comp.findings.push(n);
            if let (Some(v), Ok(vers)) = (&version, &mut comp.versions)
                && let Some(ver) = vers.iter_mut().find(|x| &x.version == v)
            {
                ver.findings.push(n);
            }
        }
        for s in &mut stages {
            if d.file == s.file || d.file.starts_with(s.stage.audit_dir()) {
                s.findings.push(n);
            }
        }
        let team = ci.and_then(|i| components[i].owner_team().map(str::to_owned));
        findings.push(Finding {
            component: ci.map(|i| components[i].path.clone()),
            version,
            team,
            d,
        });
    }

    let mut rules = BTreeMap::new();
    for f in &findings {
        if rules.contains_key(f.d.rule) {
            continue;
        }
        let doc = match registry.get(f.d.rule) {
            Some(r) => {
                let info = r.info();
                let blocks = ruledoc::blocks(&info.doc_text());
                RuleDoc {
                    summary: first_sentence(&blocks).unwrap_or_else(|| info.summary()),
                    default_severity: info.default_severity,
                    blocks,
                }
            }
            None => RuleDoc {
                summary: String::new(),
                default_severity: f.d.severity,
                blocks: Vec::new(),
            },
        };
        rules.insert(f.d.rule.to_owned(), doc);
    }

    let domains = config
        .domains
        .iter()
        .map(|(d, dc)| (d.clone(), dc.ladder.clone()))
        .collect();
    Ok(Data {
        domains,
        stages,
        components,
        findings,
        rules,
        index_problem,
    })
}

/// The first line of each row of a domain file, with its component.
fn row_lines(root: &berth_model::Node) -> Vec<(u32, ComponentPath)> {
    let Some(rows) = root.get("components") else {
        return Vec::new();
    };
    let mut out = Vec::new();
    let mut i = 0;
    while let Some(row) = rows.index(i) {
        if let Some(c) = row
            .get("name")
            .and_then(|n| n.as_str())
            .and_then(|n| ComponentPath::parse(n).ok())
        {
            out.push((row.pos.line, c));
        }
        i += 1;
    }
    out
}

/// The first sentence of a rule's "What it checks" (its first paragraph).
fn first_sentence(blocks: &[Block]) -> Option<String> {
    let text: String = blocks.iter().find_map(|b| match b {
        Block::Para(spans) => Some(spans.iter().map(|s| s.text.as_str()).collect()),
        _ => None,
    })?;
    let end = text
        .match_indices(". ")
        .map(|(i, _)| i + 1)
        .next()
        .unwrap_or(text.len());
    Some(text[..end].trim().to_owned())
}

type Tree = (Vec<Comp>, Vec<StageData>, Option<String>);

/// Everything but the findings: components with their versions, owners and
/// dependencies, and stages with what they run, their diffs and audit trails.
fn read_tree(repo: &Repository) -> Result<Tree> {
    let config = repo.config();
    let paths = repo.components()?;

    let (latest_of, index_problem) = match repo.components_index() {
        Ok(Some(l)) => (
            l.value
                .components
                .into_iter()
                .map(|e| (e.name, e.latest_version))
                .collect::<HashMap<_, _>>(),
            None,
        ),
        Ok(None) => (
            HashMap::new(),
            Some("index/components.yaml does not exist; run `berth index`".to_owned()),
        ),
        Err(e) => (HashMap::new(), Some(e.to_string())),
    };

    // Owners: one look-up per parent directory (components of a group share it).
    let mut owners: HashMap<String, Result<Option<Arc<Owner>>, String>> = HashMap::new();
    for c in &paths {
        owners.entry(parent_of(c)).or_insert_with(|| {
            repo.owner(c)
                .map(|o| o.map(Arc::new))
                .map_err(|e| e.to_string())
        });
    }

    let mut components: Vec<Comp> = paths
        .par_iter()
        .map(|c| {
            read_component(
                repo,
                c,
                latest_of.get(c).cloned(),
                owners.get(&parent_of(c)).cloned().unwrap_or(Ok(None)),
            )
        })
        .collect();

    // Dependencies of each component's reference version, then who depends on whom. The
    // resolver is told the components and versions already listed, so it lists nothing.
    let resolver = Resolver::with_components(repo, paths.iter().cloned());
    for c in &components {
        if let Ok(vers) = &c.versions {
            resolver.know_versions(
                c.path.clone(),
                vers.iter().map(|x| x.version.clone()).collect(),
            );
        }
    }
    let deps: Vec<Result<Vec<DepEdge>, String>> = components
        .par_iter()
        .map(|c| resolve_all(&resolver, c))
        .collect();
    let by_path: HashMap<ComponentPath, usize> = components
        .iter()
        .enumerate()
        .map(|(i, c)| (c.path.clone(), i))
        .collect();
    let mut dependents: Vec<Vec<Dependent>> = vec![Vec::new(); components.len()];
    for (i, d) in deps.iter().enumerate() {
        let (Ok(edges), Some(v)) = (d, &components[i].reference) else {
            continue;
        };
        for e in edges {
            if let DepStatus::Resolved(p) = &e.status
                && let Some(&j) = by_path.get(&p.component)
            {
                dependents[j].push(Dependent {
                    component: components[i].path.clone(),
                    version: v.clone(),
                    requirement: e.dependency.clone(),
                    resolved: p.version.clone(),
                });
            }
        }
    }
    for ((c, d), mut ds) in components.iter_mut().zip(deps).zip(dependents) {
        ds.sort();
        ds.dedup();
        c.deps = d;
        c.dependents = ds;
    }

    // Stages: what each runs, the diff to the next, the audit trail.
    let mut stages: Vec<StageData> = Stage::all(config)
        .into_par_iter()
        .map(|stage| {
            // One read of the domain file: what it runs, and where each row is.
            let (runs, rows_at) = match repo.domain_index(&stage.domain, &stage.env) {
                Ok(Some(l)) => (
                    Ok(l.value
                        .components
                        .iter()
                        .map(|e| (e.name.clone(), e.version.clone()))
                        .collect()),
                    row_lines(&l.root),
                ),
                Ok(None) => (Ok(BTreeMap::new()), Vec::new()),
                Err(e) => (Err(e.to_string()), Vec::new()),
            };
            let next = next_stage(config, &stage);
            let diff = next
                .as_ref()
                .map(|n| berth_promote::stage_diff(repo, &stage, n).map_err(|e| e.to_string()));
            StageData {
                rows_at,
                file: stage.file(config),
                next,
                runs,
                diff,
                log: Vec::new(),
                log_problem: None,
                findings: Vec::new(),
                stage,
            }
        })
        .collect();
    match berth_promote::log(repo, &LogFilter::default()) {
        Ok(log) => {
            for e in log.entries.into_iter().rev() {
                if let Some(s) = stages.iter_mut().find(|s| {
                    s.stage.domain == e.record.domain && s.stage.env == e.record.environment
                }) {
                    s.log.push((e.file, e.record));
                }
            }
        }
        Err(e) => {
            let msg = e.to_string();
            for s in &mut stages {
                s.log_problem = Some(msg.clone());
            }
        }
    }

    Ok((components, stages, index_problem))
}

/// The dependencies of a component's reference version, each resolved to the highest
/// matching version (from the metadata already read; cycles are the validator's
/// `deps/cycle` findings, shown with the other findings).
fn resolve_all(resolver: &Resolver<'_>, c: &Comp) -> Result<Vec<DepEdge>, String> {
    let (Some(v), Ok(vers)) = (&c.reference, &c.versions) else {
        return Ok(Vec::new());
    };
    let Some(Ok(meta)) = vers.iter().find(|x| &x.version == v).map(|x| &x.metadata) else {
        return Ok(Vec::new());
    };
    let mut out = Vec::with_capacity(meta.dependencies.len());
    for (index, checked) in meta.dependencies.iter().enumerate() {
        let dependency = checked.text();
        let status = match checked {
            Checked::Invalid { error, .. } => DepStatus::Invalid {
                error: error.clone(),
            },
            Checked::Valid(dep) => match resolver
                .resolve_detailed(dep)
                .map_err(|e| e.to_string())?
            {
                Resolution::Resolved(p) => DepStatus::Resolved(p),
                Resolution::Unresolved(reason) => DepStatus::Problem(DepProblem::Unresolved {
                    component: c.path.clone(),
                    version: v.clone(),
                    index,
                    dependency: dependency.clone(),
                    reason,
                }),
                Resolution::Ambiguous(candidates) => DepStatus::Problem(DepProblem::Ambiguous {
                    component: c.path.clone(),
                    version: v.clone(),
                    index,
                    dependency: dependency.clone(),
                    candidates,
                }),
            },
        };
        out.push(DepEdge {
            index,
            dependency,
            status,
        });
    }
    Ok(out)
}

fn parent_of(c: &ComponentPath) -> String {
    c.as_str()
        .rsplit_once('/')
        .map(|(p, _)| p.to_owned())
        .unwrap_or_default()
}

/// The stage after `s` on its ladder, if any.
fn next_stage(config: &berth_model::Config, s: &Stage) -> Option<Stage> {
    let ladder = &config.domain(&s.domain)?.ladder;
    ladder.get(s.rung(config)? + 1).map(|e| Stage {
        domain: s.domain.clone(),
        env: e.clone(),
    })
}

/// The component a path below `components/` belongs to (longest match), if any.
fn component_of(file: &camino::Utf8Path, comps: &HashMap<&str, usize>) -> Option<usize> {
    let rest = file.as_str().strip_prefix("components/")?;
    let mut cut = rest.len();
    loop {
        if let Some(&i) = comps.get(&rest[..cut]) {
            return Some(i);
        }
        cut = rest[..cut].rfind('/')?;
    }
}

fn read_component(
    repo: &Repository,
    c: &ComponentPath,
    latest: Option<Version>,
    owner: Result<Option<Arc<Owner>>, String>,
) -> Comp {
    let versions: Result<Vec<Ver>, String> = repo
        .versions(c)
        .map(|vs| {
            vs.into_iter()
                .map(|v| {
                    let metadata = repo
                        .metadata(c, &v)
                        .map(|l| l.value)
                        .map_err(|e| e.to_string());
                    let formats = repo
                        .formats(c, &v)
                        .map(|fs| {
                            fs.into_iter()
                                .map(|f| Fmt {
                                    manifest: repo
                                        .manifest(c, &v, &f)
                                        .map(|l| l.value)
                                        .map_err(|e| e.to_string()),
                                    format: f,
                                })
                                .collect()
                        })
                        .map_err(|e| e.to_string());
                    Ver {
                        version: v,
                        metadata,
                        formats,
                        findings: Vec::new(),
                    }
                })
                .collect()
        })
        .map_err(|e| e.to_string());

    // The reference version: the latest, else the highest whose metadata loads.
    let reference_meta = versions.as_ref().ok().and_then(|vs| {
        latest
            .as_ref()
            .and_then(|l| vs.iter().find(|x| &x.version == l))
            .filter(|x| x.metadata.is_ok())
            .or_else(|| vs.iter().rev().find(|x| x.metadata.is_ok()))
    });
    let mut comp = Comp {
        path: c.clone(),
        latest,
        owner,
        reference: None,
        domains: BTreeSet::new(),
        envs: BTreeSet::new(),
        team: None,
        labels: BTreeMap::new(),
        archs: Vec::new(),
        deps: Ok(Vec::new()),
        dependents: Vec::new(),
        findings: Vec::new(),
        versions: Ok(Vec::new()),
    };
    if let Some(x) = reference_meta
        && let Ok(m) = &x.metadata
    {
        comp.reference = Some(x.version.clone());
        comp.domains = m.domain_names().cloned().collect();
        comp.envs = m.env_names().cloned().collect();
        comp.team = Some(m.team.clone());
        comp.labels = m.labels.clone();
        comp.archs = m
            .architecture
            .archs()
            .iter()
            .map(|a| a.to_string())
            .collect();
    }
    comp.versions = versions;
    comp
}
