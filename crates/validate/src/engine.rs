//! Running the rules, in one pass over the tree:
//!
//! 1. the outline: the tree walked down to the version directories, and the ownership
//!    files read;
//! 2. every version on its own, in parallel ([`check_version`]): its directory walked, its
//!    files read, the path, file and version rules run, a [`VersionSummary`] kept and the
//!    parse trees dropped. With [`Options::cache`] a version whose files did not change is
//!    taken from `.berth/cache/` instead ([`crate::cache`]);
//! 3. the paths and files outside versions, then component and repository rules over the
//!    summaries, then the late rules that see everyone's verdict;
//! 4. severities, path filters and a deterministic order.
//!
//! "Is this version good?" is answered by step 2 plus the version's dependency problems,
//! and nothing else: [`crate::Checker`] runs exactly that for one version, and the late
//! rules of a whole run see exactly that ([`Report::verdict`]).

use std::collections::{BTreeMap, HashSet};

use berth_model::layout::PathKind;
use berth_model::{ComponentPath, Repository, Severity, Timestamp, Version};
use camino::{Utf8Path, Utf8PathBuf};
use rayon::prelude::*;
use serde::Serialize;

use crate::artifacts::{self, HashCache};
use crate::cache::{self, Slot, VersionCache};
use crate::diagnostic::Diagnostic;
use crate::registry::Registry;
use crate::rule::{ComponentCx, FileCx, FileOutcome, PathCx, RepoCx, Rule, Sink, VersionCx};
use crate::view::{Context, FactReader, Outline, RepoView, VersionEntry, VersionSummary, Walk};

/// How to validate.
#[derive(Debug, Clone, Default)]
pub struct Options {
    /// Read every artifact again (hashes, archive contents); otherwise only YAML is read.
    pub verify_artifacts: bool,
    /// With `verify_artifacts`: skip the hash cache (read everything).
    pub no_cache: bool,
    /// Where the artifact hash cache lives (default: [`artifacts::default_cache_dir`]).
    pub cache_dir: Option<Utf8PathBuf>,
    /// Keep and use the per-version cache in the repository's `.berth/cache/`: a version
    /// whose files did not change (size, mtime, ctime, inode of every file, of its owner's
    /// file, and the same config and rules) is not read again. The findings are the same
    /// either way (`berth validate --no-cache` proves it); off by default for embedding
    /// code, on in the CLI.
    pub cache: bool,
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
    /// Component versions whose findings came from the per-version cache (not in machine
    /// output, which is the same for the same tree however much was cached).
    #[serde(skip)]
    pub versions_cached: usize,
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
    pub sources: BTreeMap<Utf8PathBuf, String>,
    /// Every component version with its error findings: the verdict (empty for a good
    /// version). Path filters do not apply here.
    #[serde(skip)]
    pub verdicts: BTreeMap<(ComponentPath, Version), Vec<berth_model::Finding>>,
    /// The policy findings each version that a stage ran is spared
    /// ([`berth_model::Verdict::grandfathered`]).
    #[serde(skip)]
    pub grandfathered: BTreeMap<(ComponentPath, Version), Vec<berth_model::Finding>>,
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

    /// The verdict of this run, as a [`berth_model::Verdict`]: a version it did not see
    /// does not exist.
    pub fn verdict(&self) -> &Self {
        self
    }
}

impl berth_model::Verdict for Report {
    fn findings(
        &self,
        c: &ComponentPath,
        v: &Version,
    ) -> Result<Vec<berth_model::Finding>, berth_model::Error> {
        Ok(match self.verdicts.get(&(c.clone(), v.clone())) {
            Some(f) => f.clone(),
            None => vec![crate::checker::missing(c, v)],
        })
    }

    fn grandfathered(
        &self,
        c: &ComponentPath,
        v: &Version,
    ) -> Result<Vec<berth_model::Finding>, berth_model::Error> {
        Ok(self
            .grandfathered
            .get(&(c.clone(), v.clone()))
            .cloned()
            .unwrap_or_default())
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
/// into a version's directory).
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

/// The enabled rules of `registry` under `config`, each with its effective severity.
pub(crate) fn enabled<'a>(
    registry: &'a Registry,
    config: &berth_model::Config,
) -> Vec<(&'a dyn Rule, Severity)> {
    registry
        .rules()
        .map(|r| (r, Registry::severity(r, config)))
        .filter(|(_, s)| *s != Severity::Off)
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

fn run_on<T>(
    rules: &[(&dyn Rule, Severity)],
    item: &T,
    out: &mut Vec<Diagnostic>,
    check: impl Fn(&dyn Rule, &T, &mut Sink<'_>),
) {
    for (rule, sev) in rules {
        let mut sink = Sink::new(rule.info().id, *sev, out);
        check(*rule, item, &mut sink);
    }
}

/// The path, file and version rules over one version: the first half of its verdict
/// (the second is its dependency problems). The same function for a whole run and for
/// [`crate::Checker`].
pub fn check_version(
    cx: &Context<'_>,
    rules: &[(&dyn Rule, Severity)],
    entry: &VersionEntry,
) -> Vec<Diagnostic> {
    let mut out = Vec::new();
    for p in &entry.paths {
        run_on(rules, p, &mut out, |r, p, s| {
            r.check_path(&PathCx { view: cx, entry: p }, s)
        });
    }
    let mut files: Vec<(&Utf8Path, FileOutcome<'_>)> = Vec::new();
    if let Some(m) = &entry.metadata {
        files.push((&m.path, FileOutcome::of(m, FileOutcome::Metadata)));
    }
    for f in &entry.formats {
        if let Some(m) = &f.manifest {
            files.push((&m.path, FileOutcome::of(m, FileOutcome::Manifest)));
        }
    }
    for (path, outcome) in &files {
        run_on(rules, outcome, &mut out, |r, o, s| {
            r.check_file(
                &FileCx {
                    view: cx,
                    path,
                    outcome: *o,
                },
                s,
            )
        });
    }
    run_on(rules, entry, &mut out, |r, e, s| {
        r.check_version(&VersionCx { view: cx, entry: e }, s)
    });
    out
}

/// What the version phase of a run found.
struct VersionsChecked {
    /// One summary per version, in the outline's order.
    summaries: Vec<VersionSummary>,
    /// The findings of the path, file and version rules.
    diags: Vec<Diagnostic>,
    /// How many versions came from the cache.
    cached: usize,
    /// How many YAML files the versions have.
    files: usize,
}

/// Checks every version of `outline` (in parallel), from the cache where nothing changed,
/// and writes the cache back.
fn check_versions(
    cx: &Context<'_>,
    early: &[(&dyn Rule, Severity)],
    outline: &Outline,
    vcache: VersionCache<'_>,
    facts: Option<&FactReader<'_>>,
) -> Result<VersionsChecked, ValidateError> {
    let vcache = &vcache;
    let repo = cx.repo;
    type Rest<'c> = Result<(Vec<Diagnostic>, Slot<'c>, usize), ValidateError>;
    let one = |c: &ComponentPath, v: &Version, dir: &Option<berth_model::store::Meta>| {
        if let Some((e, summary, diags, n)) = dir.as_ref().and_then(|m| vcache.get(repo, c, v, m)) {
            return (summary, Ok((diags, Slot::Kept(e), n)));
        }
        let walked = crate::view::walk_dir(
            repo,
            &berth_model::Layout::version_dir(c, v),
            Walk::Into,
            dir.is_some(),
        );
        let paths = match walked {
            Ok(p) => p,
            Err(e) => {
                let none = VersionSummary {
                    component: c.clone(),
                    version: v.clone(),
                    metadata: None,
                };
                return (none, Err(e.into()));
            }
        };
        let yaml_files = paths
            .iter()
            .filter(|p| {
                p.problem.is_none()
                    && matches!(p.kind, PathKind::Metadata(..) | PathKind::Manifest(..))
            })
            .count();
        let probed = dir.map(|m| (m, paths.clone()));
        let entry = crate::view::load_version_from(repo, c, v, paths, facts);
        let diags = check_version(cx, early, &entry);
        let summary = entry.summary();
        let slot = probed
            .and_then(|(m, paths)| vcache.entry(c, v, &m, &paths, yaml_files, &summary, &diags))
            .map_or(Slot::Skip, |e| Slot::New(Box::new(e)));
        (summary, Ok((diags, slot, yaml_files)))
    };
    let (summaries, rest): (Vec<VersionSummary>, Vec<Rest<'_>>) = outline
        .versions
        .par_iter()
        .map(|(c, v, dir)| one(c, v, dir))
        .unzip();
    let mut out = VersionsChecked {
        summaries,
        diags: Vec::new(),
        cached: 0,
        files: 0,
    };
    let mut slots = Vec::with_capacity(rest.len());
    for (r, (c, _, _)) in rest.into_iter().zip(&outline.versions) {
        let (d, slot, n) = r?;
        out.diags.extend(d);
        out.cached += usize::from(matches!(slot, Slot::Kept(_)));
        out.files += n;
        slots.push((c, slot));
    }
    vcache.save(repo, slots);
    Ok(out)
}

/// The file rules over the files outside versions; also how many files that is.
fn check_files(early: &[(&dyn Rule, Severity)], view: &RepoView<'_>) -> (Vec<Diagnostic>, usize) {
    let mut files: Vec<(&Utf8Path, FileOutcome<'_>)> = Vec::new();
    for o in view.cx.ownership.values() {
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
    let diags = run_rules(early, &files, |r, (path, outcome), s| {
        r.check_file(
            &FileCx {
                view: &view.cx,
                path,
                outcome: *outcome,
            },
            s,
        )
    });
    (diags, files.len())
}

/// The component rules, over each component's versions (a run of the sorted summaries).
fn check_components(early: &[(&dyn Rule, Severity)], view: &RepoView<'_>) -> Vec<Diagnostic> {
    let mut components: Vec<(&ComponentPath, std::ops::Range<usize>)> = Vec::new();
    for (i, v) in view.versions.iter().enumerate() {
        match components.last_mut() {
            Some((c, range)) if *c == &v.component => range.end = i + 1,
            _ => components.push((&v.component, i..i + 1)),
        }
    }
    run_rules(early, &components, |r, (c, range), s| {
        r.check_component(
            &ComponentCx {
                view: &view.cx,
                component: c,
                versions: &view.versions[range.clone()],
            },
            s,
        )
    })
}

type Verdicts = BTreeMap<(ComponentPath, Version), Vec<berth_model::Finding>>;

/// The repository rules (the dependency rules among them), then every version's verdict
/// (its own findings in `version_diags` plus its dependency problems), then the late
/// rules, which see that verdict. Returns every finding of the run but the path, file and
/// component ones, and the verdicts.
fn check_repository(
    early: &[(&dyn Rule, Severity)],
    late: &[(&dyn Rule, Severity)],
    view: &RepoView<'_>,
    mut version_diags: Vec<Diagnostic>,
    save_waiting: bool,
) -> (Vec<Diagnostic>, Verdicts, Verdicts) {
    let whole = [()];
    let repo_diags = run_rules(early, &whole, |r, _, s| {
        r.check_repository(
            &RepoCx {
                view,
                erroneous: None,
            },
            s,
        )
    });
    if save_waiting {
        cache::Waiting::of(view.dep_problems()).save(view.cx.repo);
    }
    let (verdicts, spared) = verdicts(view, &mut version_diags, &repo_diags);
    let mut diags = version_diags;
    diags.extend(repo_diags);
    if !late.is_empty() {
        let erroneous: HashSet<(ComponentPath, Version)> = verdicts
            .iter()
            .filter(|(_, f)| !f.is_empty())
            .map(|(k, _)| k.clone())
            .collect();
        diags.extend(run_rules(late, &whole, |r, _, s| {
            r.check_repository(
                &RepoCx {
                    view,
                    erroneous: Some(&erroneous),
                },
                s,
            )
        }));
    }
    (diags, verdicts, spared)
}

/// The text of every file a finding points into (the human renderer's excerpts), read
/// through the store once each.
fn sources_of(repo: &Repository, diags: &[Diagnostic]) -> BTreeMap<Utf8PathBuf, String> {
    let mut sources = BTreeMap::new();
    for d in diags.iter().filter(|d| d.span.is_some()) {
        if !sources.contains_key(&d.file)
            && let Ok(bytes) = repo.read_bytes(&d.file)
            && let Ok(text) = String::from_utf8(bytes)
        {
            sources.insert(d.file.clone(), text);
        }
    }
    sources
}

/// Validates `repo` with the rules of `registry`.
pub fn validate(
    repo: &Repository,
    registry: &Registry,
    opts: &Options,
) -> Result<Report, ValidateError> {
    let config = repo.config();
    let now = opts.now.unwrap_or_else(Timestamp::now);
    let hashes = if !opts.verify_artifacts || opts.no_cache {
        HashCache::disabled()
    } else {
        match opts.cache_dir.clone().or_else(artifacts::default_cache_dir) {
            Some(dir) => HashCache::open(&dir),
            None => HashCache::disabled(),
        }
    };
    let read = |r: &Repository, f: &crate::view::FormatEntry| artifacts::read_facts(&hashes, r, f);
    let facts = opts.verify_artifacts.then_some(&read as &FactReader<'_>);
    let rules = enabled(registry, config);
    let (late, early): (Vec<_>, Vec<_>) = rules.iter().copied().partition(|(r, _)| r.late());

    // 1. The outline and the owners.
    let use_cache = opts.cache && !opts.no_cache;
    let outline = Outline::walk(repo, use_cache)?;
    let cx = Context {
        repo,
        now,
        verified: opts.verify_artifacts,
        ownership: crate::view::load_ownership(repo, &outline.paths),
    };

    // 2. Every version on its own.
    let vcache = if use_cache {
        let owners: Vec<&crate::view::PathEntry> = outline
            .paths
            .iter()
            .filter(|p| matches!(p.kind, PathKind::Ownership(_)))
            .collect();
        VersionCache::open(repo, registry, opts.verify_artifacts, &owners)
    } else {
        VersionCache::disabled()
    };
    // The cache is dropped once the versions are checked: the repository rules need memory.
    let checked = check_versions(&cx, &early, &outline, vcache, facts)?;
    if opts.verify_artifacts {
        hashes.save_pruning(repo.root(), checked.cached == 0);
    }
    let (summaries, version_diags) = (checked.summaries, checked.diags);
    let (versions_cached, version_files) = (checked.cached, checked.files);

    // 3. Outside the versions: paths, files, components, the repository.
    let mut diags = run_rules(&early, &outline.paths, |r, p, s| {
        r.check_path(
            &PathCx {
                view: &cx,
                entry: p,
            },
            s,
        )
    });
    let view = RepoView::with_context(cx, outline.paths, summaries);
    let (file_diags, files_read) = check_files(&early, &view);
    diags.extend(file_diags);
    diags.extend(check_components(&early, &view));
    let (repo_diags, verdicts, grandfathered) =
        check_repository(&early, &late, &view, version_diags, use_cache);
    diags.extend(repo_diags);

    // 4. Filters and order.
    if !opts.paths.is_empty() {
        diags.retain(|d| opts.paths.iter().any(|p| d.file.starts_with(p)));
    }
    diags.par_sort_by(Diagnostic::order);
    diags.dedup();

    let sources = sources_of(repo, &diags);
    let versions = view.versions.len();
    Ok(Report {
        root: repo.root().to_owned(),
        diagnostics: diags,
        rules: registry
            .list(config)
            .into_iter()
            .filter(|r| r.severity != Severity::Off)
            .collect(),
        unknown_rule_ids: registry.unknown_ids(config),
        stats: Stats {
            versions,
            versions_cached,
            files: files_read + version_files,
            artifacts_read: hashes.misses.load(std::sync::atomic::Ordering::Relaxed),
            artifacts_cached: hashes.hits.load(std::sync::atomic::Ordering::Relaxed),
        },
        sources,
        verdicts,
        grandfathered,
    })
}

/// Every version's error findings: those of its own rules (`version_diags`), and those of
/// the dependency rules about it (the only repository rules that judge a version). The
/// policy findings of a version some stage ran are set apart (grandfathered, see
/// [`berth_model::Verdict::grandfathered`]) and their diagnostics become warnings.
fn verdicts(
    view: &RepoView<'_>,
    version_diags: &mut [Diagnostic],
    repo_diags: &[Diagnostic],
) -> (Verdicts, Verdicts) {
    let mut out: Verdicts = view
        .versions
        .iter()
        .map(|v| ((v.component.clone(), v.version.clone()), Vec::new()))
        .collect();
    let mut spared = Verdicts::new();
    let layout = view.layout();
    let policy = version_diags
        .iter()
        .any(|d| d.severity == Severity::Error && berth_model::Code::is_policy_id(d.rule));
    let ran = if policy {
        view.ran_anywhere()
    } else {
        std::collections::HashSet::new()
    };
    for d in version_diags.iter_mut() {
        if d.severity == Severity::Error
            && berth_model::Code::is_policy_id(d.rule)
            && let Some(key) = version_of(&d.file, layout)
            && ran.contains(&key)
        {
            spared
                .entry(key)
                .or_default()
                .push(berth_model::Finding::new(
                    d.rule,
                    &d.file,
                    d.message.clone(),
                ));
            d.severity = Severity::Warn;
            d.message.push_str(
                " (not counted against it: a stage ran this version before the policy asked for it)",
            );
        }
    }
    let deps = crate::rules::DEPS_RULES;
    let judged = version_diags
        .iter()
        .chain(repo_diags.iter().filter(|d| deps.contains(&d.rule)));
    for d in judged.filter(|d| d.severity == Severity::Error) {
        if let Some(key) = version_of(&d.file, layout)
            && let Some(f) = out.get_mut(&key)
        {
            f.push(berth_model::Finding::new(
                d.rule,
                &d.file,
                d.message.clone(),
            ));
        }
    }
    (out, spared)
}
