//! Running the rules: build the view once, then every scope in parallel, then the late
//! rules, then severities, path filters and a deterministic order.

use std::collections::HashSet;

use berth_model::layout::PathKind;
use berth_model::{ComponentPath, Repository, Severity, Timestamp, Version};
use camino::{Utf8Path, Utf8PathBuf};
use rayon::prelude::*;
use serde::Serialize;

use crate::artifacts::{self, HashCache};
use crate::diagnostic::Diagnostic;
use crate::registry::Registry;
use crate::rule::{ComponentCx, FileCx, FileOutcome, PathCx, RepoCx, Rule, Sink, VersionCx};
use crate::view::RepoView;

/// How to validate.
#[derive(Debug, Clone, Default)]
pub struct Options {
    /// Read every artifact again (hashes, archive contents); otherwise only YAML is read.
    pub verify_artifacts: bool,
    /// With `verify_artifacts`: skip the hash cache (read everything).
    pub no_cache: bool,
    /// Where the hash cache lives (default: [`artifacts::default_cache_dir`]).
    pub cache_dir: Option<Utf8PathBuf>,
    /// Only report findings in these paths (relative to the repository root; a
    /// directory covers everything below it). Empty: everything.
    pub paths: Vec<Utf8PathBuf>,
    /// "Now" for time checks (default: the clock).
    pub now: Option<Timestamp>,
}

/// Counts of a run.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct Stats {
    /// Component versions checked.
    pub versions: usize,
    /// YAML files read.
    pub files: usize,
    /// Artifact files read again (`--verify-artifacts`).
    pub artifacts_read: usize,
    /// Artifact files whose facts came from the hash cache.
    pub artifacts_cached: usize,
}

/// The result of a validation.
#[derive(Debug, Clone, Serialize)]
pub struct Report {
    /// The repository root (file paths of diagnostics are relative to it).
    pub root: Utf8PathBuf,
    /// The findings, in a deterministic order.
    pub diagnostics: Vec<Diagnostic>,
    /// The rules that ran (severity not `off`), sorted by id.
    pub rules: Vec<crate::registry::RuleRow>,
    /// `[rules]` keys of berth.toml that name no known rule.
    pub unknown_rule_ids: Vec<String>,
    /// Counts.
    pub stats: Stats,
    /// The text of every file a finding points into with a position, read through the
    /// store (for renderers that quote the source line; a renderer never reads files).
    #[serde(skip)]
    pub sources: std::collections::BTreeMap<Utf8PathBuf, String>,
}

impl Report {
    /// How many findings have this severity.
    pub fn count(&self, severity: Severity) -> usize {
        self.diagnostics
            .iter()
            .filter(|d| d.severity == severity)
            .count()
    }

    /// True when validation fails: an error finding, or a warning with `deny_warnings`.
    pub fn fails(&self, deny_warnings: bool) -> bool {
        self.diagnostics.iter().any(|d| {
            d.severity == Severity::Error || (deny_warnings && d.severity == Severity::Warn)
        })
    }
}

/// What can stop a validation (findings never do).
#[derive(Debug, thiserror::Error)]
pub enum ValidateError {
    /// The tree could not be listed.
    #[error("walking the repository: {0}")]
    Walk(#[from] berth_model::store::StoreError),
}

/// The component version a repository path belongs to, if any.
pub fn version_of(
    path: &Utf8Path,
    layout: &berth_model::Layout,
) -> Option<(ComponentPath, Version)> {
    match layout.classify(path, false) {
        PathKind::Metadata(c, v) | PathKind::Manifest(c, v, _) | PathKind::Artifact(c, v, _, _) => {
            Some((c, v))
        }
        _ => match layout.classify(path, true) {
            PathKind::VersionDir(c, v) | PathKind::FormatDir(c, v, _) => Some((c, v)),
            _ => None,
        },
    }
}

/// The versions with at least one error finding in `diagnostics` (any rule that points
/// into a version's directory). "Latest" is the highest version not in this set.
pub fn erroneous_in(
    diagnostics: &[Diagnostic],
    layout: &berth_model::Layout,
) -> HashSet<(ComponentPath, Version)> {
    diagnostics
        .iter()
        .filter(|d| d.severity == Severity::Error)
        .filter_map(|d| version_of(&d.file, layout))
        .collect()
}

fn run_rules<T: Sync>(
    rules: &[(&dyn Rule, Severity)],
    items: &[T],
    check: impl Fn(&dyn Rule, &T, &mut Sink<'_>) + Sync,
) -> Vec<Diagnostic> {
    items
        .par_iter()
        .flat_map_iter(|item| {
            let mut out = Vec::new();
            for (rule, sev) in rules {
                let mut sink = Sink::new(rule.info().id, *sev, &mut out);
                check(*rule, item, &mut sink);
            }
            out
        })
        .collect()
}

/// Validates `repo` with the rules of `registry`.
pub fn validate(
    repo: &Repository,
    registry: &Registry,
    opts: &Options,
) -> Result<Report, ValidateError> {
    let config = repo.config();
    let now = opts.now.unwrap_or_else(Timestamp::now);
    let cache = if !opts.verify_artifacts || opts.no_cache {
        HashCache::disabled()
    } else {
        match opts.cache_dir.clone().or_else(artifacts::default_cache_dir) {
            Some(dir) => HashCache::open(&dir),
            None => HashCache::disabled(),
        }
    };
    let read = |r: &Repository, f: &crate::view::FormatEntry| artifacts::read_facts(&cache, r, f);
    let view = RepoView::build(
        repo,
        now,
        opts.verify_artifacts
            .then_some(&read as &crate::view::FactReader<'_>),
    )?;
    if opts.verify_artifacts {
        cache.save(repo.root());
    }

    let enabled: Vec<(&dyn Rule, Severity)> = registry
        .rules()
        .map(|r| (r, Registry::severity(r, config)))
        .filter(|(_, s)| *s != Severity::Off)
        .collect();
    let (late, early): (Vec<_>, Vec<_>) = enabled.iter().copied().partition(|(r, _)| r.late());

    let mut diags = Vec::new();
    // Paths.
    diags.extend(run_rules(&early, &view.paths, |r, p, s| {
        r.check_path(
            &PathCx {
                view: &view,
                entry: p,
            },
            s,
        )
    }));
    // Files.
    let mut files: Vec<(&Utf8Path, FileOutcome<'_>)> = Vec::new();
    for v in &view.versions {
        if let Some(m) = &v.metadata {
            files.push((&m.path, FileOutcome::of(m, FileOutcome::Metadata)));
        }
        for f in &v.formats {
            if let Some(m) = &f.manifest {
                files.push((&m.path, FileOutcome::of(m, FileOutcome::Manifest)));
            }
        }
    }
    for o in view.ownership.values() {
        files.push((&o.path, FileOutcome::of(o, FileOutcome::Ownership)));
    }
    if let Some(ci) = &view.components_index {
        files.push((&ci.path, FileOutcome::of(ci, FileOutcome::ComponentsIndex)));
    }
    for d in &view.domain_files {
        files.push((
            &d.file.path,
            FileOutcome::of(&d.file, FileOutcome::DomainIndex),
        ));
    }
    for a in &view.audit {
        files.push((&a.path, FileOutcome::of(a, FileOutcome::Audit)));
    }
    diags.extend(run_rules(&early, &files, |r, (path, outcome), s| {
        r.check_file(
            &FileCx {
                view: &view,
                path,
                outcome: *outcome,
            },
            s,
        )
    }));
    // Versions.
    diags.extend(run_rules(&early, &view.versions, |r, v, s| {
        r.check_version(
            &VersionCx {
                view: &view,
                entry: v,
            },
            s,
        )
    }));
    // Components.
    let mut components: Vec<(&ComponentPath, std::ops::Range<usize>)> = Vec::new();
    for (i, v) in view.versions.iter().enumerate() {
        match components.last_mut() {
            Some((c, range)) if *c == &v.component => range.end = i + 1,
            _ => components.push((&v.component, i..i + 1)),
        }
    }
    diags.extend(run_rules(&early, &components, |r, (c, range), s| {
        r.check_component(
            &ComponentCx {
                view: &view,
                component: c,
                versions: &view.versions[range.clone()],
            },
            s,
        )
    }));
    // The repository.
    let whole = [()];
    diags.extend(run_rules(&early, &whole, |r, _, s| {
        r.check_repository(
            &RepoCx {
                view: &view,
                erroneous: None,
            },
            s,
        )
    }));
    // Late rules see the others' verdicts.
    if !late.is_empty() {
        let erroneous = erroneous_in(&diags, view.layout());
        diags.extend(run_rules(&late, &whole, |r, _, s| {
            r.check_repository(
                &RepoCx {
                    view: &view,
                    erroneous: Some(&erroneous),
                },
                s,
            )
        }));
    }

    if !opts.paths.is_empty() {
        diags.retain(|d| opts.paths.iter().any(|p| d.file.starts_with(p)));
    }
    diags.par_sort_by(Diagnostic::order);
    diags.dedup();

    let files_read = files.len();
    let mut sources = std::collections::BTreeMap::new();
    for d in diags.iter().filter(|d| d.span.is_some()) {
        if !sources.contains_key(&d.file)
            && let Ok(bytes) = repo.read_bytes(&d.file)
            && let Ok(text) = String::from_utf8(bytes)
        {
            sources.insert(d.file.clone(), text);
        }
    }
    Ok(Report {
        sources,
        root: repo.root().to_owned(),
        diagnostics: diags,
        rules: registry
            .list(config)
            .into_iter()
            .filter(|r| r.severity != Severity::Off)
            .collect(),
        unknown_rule_ids: registry.unknown_ids(config),
        stats: Stats {
            versions: view.versions.len(),
            files: files_read,
            artifacts_read: cache.misses.load(std::sync::atomic::Ordering::Relaxed),
            artifacts_cached: cache.hits.load(std::sync::atomic::Ordering::Relaxed),
        },
    })
}
