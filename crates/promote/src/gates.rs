//! The gates of the product contract (section 6), one function each. A gate returns the
//! refusals it finds (empty: it passes) and may add notes (why it passed without looking).

use std::collections::{BTreeMap, BTreeSet};
use std::fmt;

use berth_index::{NameMatch, Resolver};
use berth_model::{ComponentPath, Metadata, Repository, Timestamp, Version};
use serde::Serialize;

use crate::Result;
use berth_model::Verdict;
use berth_model::stage::{Stage, read_stage};

/// One gate. Its [`Gate::id`] is stable: scripts may match on it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Gate {
    /// The component and version exist.
    Exists,
    /// The version has no error finding.
    Valid,
    /// Its metadata lists the domain and the environment.
    Allowed,
    /// It runs in the stage before now (unless the domain allows skipping).
    PreviousStage,
    /// Its build is not older than `policy.max_build_age_days`.
    BuildAge,
    /// Every dependency of every component of the stage, after the change, is satisfied
    /// by a version running in the same stage.
    Dependencies,
    /// The approvals `berth.toml` asks for are given by approvers of the owner's
    /// `ownership.yaml`, not by the actor.
    Approvals,
    /// Rollback: the stage ran the target version before, according to its audit trail.
    History,
}

impl Gate {
    /// Every gate, in the order they are checked.
    pub const ALL: [Gate; 8] = [
        Gate::Exists,
        Gate::Valid,
        Gate::Allowed,
        Gate::PreviousStage,
        Gate::BuildAge,
        Gate::Dependencies,
        Gate::Approvals,
        Gate::History,
    ];

    /// The stable id: `exists`, `valid`, `allowed`, `previous-stage`, `build-age`,
    /// `dependencies`, `approvals`, `history`.
    pub fn id(self) -> &'static str {
        match self {
            Gate::Exists => "exists",
            Gate::Valid => "valid",
            Gate::Allowed => "allowed",
            Gate::PreviousStage => "previous-stage",
            Gate::BuildAge => "build-age",
            Gate::Dependencies => "dependencies",
            Gate::Approvals => "approvals",
            Gate::History => "history",
        }
    }

    /// What the gate asks for, in a sentence.
    pub fn describe(self) -> &'static str {
        match self {
            Gate::Exists => "the component version exists",
            Gate::Valid => "the version has no error finding",
            Gate::Allowed => "its metadata lists the domain and the environment",
            Gate::PreviousStage => "it runs in the stage before now (unless allow_skip)",
            Gate::BuildAge => "its build is not older than policy.max_build_age_days",
            Gate::Dependencies => {
                "every dependency in the stage is satisfied by a version running in it"
            }
            Gate::Approvals => "approvals from ownership.yaml approvers, not the actor",
            Gate::History => "the stage ran the target version before",
        }
    }
}

impl fmt::Display for Gate {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.id())
    }
}

/// A gate's refusal: which gate, about what, why, and what would satisfy it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Refusal {
    /// The gate.
    pub gate: Gate,
    /// The component (as resolved, or as given when it does not exist).
    pub component: String,
    /// The version (as given).
    pub version: String,
    /// The stage it was to enter.
    pub stage: Stage,
    /// Why the gate refused.
    pub message: String,
    /// What would satisfy it.
    pub help: String,
    /// The component, when it exists (a refusal of a name that is no component has none):
    /// what a notification is routed by.
    #[serde(skip)]
    pub target: Option<ComponentPath>,
}

impl fmt::Display for Refusal {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "gate `{}` refused {} {} for {}: {}",
            self.gate, self.component, self.version, self.stage, self.message
        )
    }
}

/// What the gates look at for one candidate.
pub(crate) struct Candidate<'a> {
    pub component: &'a ComponentPath,
    pub version: &'a Version,
    pub stage: &'a Stage,
}

impl Candidate<'_> {
    fn refuse(&self, gate: Gate, message: String, help: String) -> Refusal {
        Refusal {
            gate,
            component: self.component.to_string(),
            version: self.version.to_string(),
            stage: self.stage.clone(),
            message,
            help,
            target: Some(self.component.clone()),
        }
    }
}

/// `exists`: resolves a user-given name and version to ones the repository has.
pub(crate) fn exists(
    repo: &Repository,
    stage: &Stage,
    name: &str,
    version: &str,
) -> Result<Result<(ComponentPath, Version), Refusal>> {
    let refuse =
        |target: Option<&ComponentPath>, component: String, message: String, help: String| {
            Refusal {
                gate: Gate::Exists,
                component,
                version: version.to_owned(),
                stage: stage.clone(),
                message,
                help,
                target: target.cloned(),
            }
        };
    let c = match repo.resolve_component(name) {
        Ok(c) => c,
        Err(berth_model::Error::NotFound { hint, .. }) => {
            return Ok(Err(refuse(
                None,
                name.to_owned(),
                format!("no component `{name}` in the repository{hint}"),
                "give the full path of a component under components/ (`berth ls`)".into(),
            )));
        }
        Err(e) => return Err(e.into()),
    };
    let have = repo.versions(&c)?;
    let list = || {
        if have.is_empty() {
            "none".to_owned()
        } else {
            have.iter()
                .map(ToString::to_string)
                .collect::<Vec<_>>()
                .join(", ")
        }
    };
    let v = match Version::parse(version) {
        Ok(v) => v,
        Err(e) => {
            return Ok(Err(refuse(
                Some(&c),
                c.to_string(),
                e.to_string(),
                format!("give one of its versions: {}", list()),
            )));
        }
    };
    if !have.contains(&v) {
        return Ok(Err(refuse(
            Some(&c),
            c.to_string(),
            format!("{c} has no version {v}"),
            format!(
                "give one of its versions ({}), or publish {v} first with `berth add`",
                list()
            ),
        )));
    }
    Ok(Ok((c, v)))
}

/// How the `valid` gate reads a version.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct ValidCheck {
    /// Read the artifact bytes again (a gated or production stage).
    pub verify_bytes: bool,
    /// The stage ran this version before (a rollback, or a promotion back to it): the
    /// policy findings it is spared stay spared, as warnings.
    pub ran_before: bool,
}

/// `valid`: the version has no error finding. With `verify_bytes` its artifacts are read
/// again; policy findings a stage that ran it is spared ([`Verdict::grandfathered`])
/// count unless this stage ran it before, where they become `warnings`.
pub(crate) fn valid(
    cand: &Candidate<'_>,
    verdict: &dyn Verdict,
    how: ValidCheck,
    warnings: &mut Vec<String>,
) -> Result<Vec<Refusal>> {
    let mut findings = if how.verify_bytes {
        verdict.verified_findings(cand.component, cand.version)?
    } else {
        verdict.findings(cand.component, cand.version)?
    };
    let spared = verdict.grandfathered(cand.component, cand.version)?;
    if how.ran_before {
        for f in &spared {
            warnings.push(format!(
                "{} {}: {f} (a policy newer than the version; {} ran it before)",
                cand.component, cand.version, cand.stage
            ));
        }
    } else {
        findings.extend(spared);
    }
    if findings.is_empty() {
        return Ok(Vec::new());
    }
    let problems: Vec<String> = findings.iter().map(ToString::to_string).collect();
    Ok(vec![cand.refuse(
        Gate::Valid,
        format!(
            "{} {} has {} error finding(s){}: {}",
            cand.component,
            cand.version,
            problems.len(),
            if how.verify_bytes {
                ", its artifacts read again"
            } else {
                ""
            },
            problems.join("; ")
        ),
        format!(
            "fix them (`berth validate --verify-artifacts components/{}/versions/{}`) in a new version and promote that",
            cand.component, cand.version
        ),
    )])
}

/// `allowed`: the metadata lists the domain and the environment.
pub(crate) fn allowed(cand: &Candidate<'_>, meta: Option<&Metadata>) -> Vec<Refusal> {
    let Some(meta) = meta else {
        return vec![cand.refuse(
            Gate::Allowed,
            format!(
                "metadata.yaml of {} {} does not load, so it lists no domain",
                cand.component, cand.version
            ),
            "fix metadata.yaml (`berth validate`)".into(),
        )];
    };
    let mut out = Vec::new();
    let stage = cand.stage;
    if !meta.domain_names().any(|d| d == &stage.domain) {
        let listed: Vec<String> = meta.domain_names().map(ToString::to_string).collect();
        out.push(cand.refuse(
            Gate::Allowed,
            format!(
                "its metadata.yaml lists domains [{}], not `{}`",
                listed.join(", "),
                stage.domain
            ),
            format!(
                "publish a version whose metadata.yaml lists `{}` in `domains`",
                stage.domain
            ),
        ));
    }
    if !meta.env_names().any(|e| e == &stage.env) {
        let listed: Vec<String> = meta.env_names().map(ToString::to_string).collect();
        out.push(cand.refuse(
            Gate::Allowed,
            format!(
                "its metadata.yaml lists environments [{}], not `{}`",
                listed.join(", "),
                stage.env
            ),
            format!(
                "publish a version whose metadata.yaml lists `{}` in `environments`",
                stage.env
            ),
        ));
    }
    out
}

/// `previous-stage`: the version runs in the stage before now, unless the domain allows
/// skipping. `notes` says why it passed without looking.
pub(crate) fn previous_stage(
    repo: &Repository,
    cand: &Candidate<'_>,
    notes: &mut Vec<String>,
) -> Result<Vec<Refusal>> {
    let config = repo.config();
    let Some(prev) = cand.stage.previous(config) else {
        return Ok(Vec::new());
    };
    if cand.stage.allows_skip(config) {
        notes.push(format!(
            "{}: previous-stage not checked, domain `{}` has allow_skip = true",
            cand.component, cand.stage.domain
        ));
        return Ok(Vec::new());
    }
    let runs = read_stage(repo, &prev)?;
    match runs.version_of(cand.component) {
        Some(v) if v == cand.version => Ok(Vec::new()),
        other => {
            let now = match other {
                Some(v) => format!("{prev} runs {v}"),
                None => format!("{prev} does not run {}", cand.component),
            };
            Ok(vec![cand.refuse(
                Gate::PreviousStage,
                format!(
                    "{} {} does not run in {prev} now ({now})",
                    cand.component, cand.version
                ),
                format!(
                    "promote it to {prev} first: berth promote {} {} --domain {} --env {}",
                    cand.component, cand.version, prev.domain, prev.env
                ),
            )])
        }
    }
}

/// `build-age`: no format's `built_at` is older than `policy.max_build_age_days` (the
/// shared [`berth_model::policy::build_too_old`] judges each manifest).
pub(crate) fn build_age(
    repo: &Repository,
    cand: &Candidate<'_>,
    now: Timestamp,
    notes: &mut Vec<String>,
) -> Result<Vec<Refusal>> {
    let policy = &repo.config().policy;
    let Some(max_days) = policy.max_build_age_days else {
        return Ok(Vec::new());
    };
    let mut known = false;
    let mut out = Vec::new();
    for f in repo.formats(cand.component, cand.version)? {
        // A manifest that does not load is the validator's finding (`valid` gate).
        let Ok(m) = repo.manifest(cand.component, cand.version, &f) else {
            continue;
        };
        let Some(built) = m.value.built_at.as_ref().and_then(|b| b.get()) else {
            continue;
        };
        known = true;
        if let Some(age_days) = berth_model::policy::build_too_old(&m.value, policy, now) {
            out.push(cand.refuse(
                Gate::BuildAge,
                format!(
                    "its {f} build is {age_days} days old (built_at {built}); policy.max_build_age_days is {max_days}"
                ),
                "rebuild it and publish a new version, or raise [policy] max_build_age_days in berth.toml"
                    .into(),
            ));
        }
    }
    if !known {
        notes.push(format!(
            "{} {}: no manifest.yaml with built_at, so the build age is unknown; build-age passes",
            cand.component, cand.version
        ));
    }
    Ok(out)
}

/// One dependency that a stage does not satisfy.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub(crate) struct Unmet {
    pub component: ComponentPath,
    pub version: Version,
    pub dependency: String,
    pub why: String,
}

/// The dependencies that `runs` (a whole stage) does not satisfy: each dependency must be
/// satisfied by the version of that component running in the same stage.
pub(crate) fn unmet(
    resolver: &Resolver<'_>,
    stage: &Stage,
    runs: &BTreeMap<ComponentPath, Version>,
) -> Vec<Unmet> {
    let repo = resolver.repo();
    let mut out = Vec::new();
    for (c, v) in runs {
        // A version whose metadata does not load is the `valid` gate's business.
        let Ok(meta) = repo.metadata(c, v) else {
            continue;
        };
        for dep in meta.value.deps() {
            let why = match resolver.find(&dep.name) {
                NameMatch::One(target) => match runs.get(&target) {
                    Some(tv) if dep.req().matches(tv.semver()) => continue,
                    Some(tv) => format!("{stage} runs {target} {tv}, which does not match"),
                    None => format!("{stage} does not run {target}"),
                },
                NameMatch::None(hint) => {
                    format!("no component is named `{}`{hint}", dep.name)
                }
                NameMatch::Many(all) => format!(
                    "`{}` is ambiguous: {}",
                    dep.name,
                    all.iter()
                        .map(ComponentPath::as_str)
                        .collect::<Vec<_>>()
                        .join(", ")
                ),
            };
            out.push(Unmet {
                component: c.clone(),
                version: v.clone(),
                dependency: dep.to_string(),
                why,
            });
        }
    }
    out
}

/// `dependencies`: refuses the dependencies the change leaves unmet that were met (or did
/// not exist) before it; the ones unmet before and after become notes.
pub(crate) fn dependencies(
    resolver: &Resolver<'_>,
    stage: &Stage,
    before: &BTreeMap<ComponentPath, Version>,
    after: &BTreeMap<ComponentPath, Version>,
    notes: &mut Vec<String>,
) -> Vec<Refusal> {
    let key = |u: &Unmet| (u.component.clone(), u.version.clone(), u.dependency.clone());
    let old: BTreeSet<_> = unmet(resolver, stage, before).iter().map(key).collect();
    let mut out = Vec::new();
    for u in unmet(resolver, stage, after) {
        let text = format!(
            "{} {} needs `{}`: {}",
            u.component, u.version, u.dependency, u.why
        );
        if old.contains(&key(&u)) {
            notes.push(format!("already unmet before this change: {text}"));
            continue;
        }
        out.push(Refusal {
            target: Some(u.component.clone()),
            gate: Gate::Dependencies,
            component: u.component.to_string(),
            version: u.version.to_string(),
            stage: stage.clone(),
            message: format!("after the change, {text}"),
            help: format!(
                "promote a version that satisfies `{}` to {stage} first, or promote both together (berth promote --domain {} --from ENV --to {} …)",
                u.dependency, stage.domain, stage.env
            ),
        });
    }
    out
}

/// The approvals a change needs and was given.
pub(crate) struct Approvals<'a> {
    /// Approvals needed to enter the stage (`[policy.approvals]`).
    pub required: u32,
    /// Who approved (`--approved-by`), de-duplicated.
    pub given: &'a BTreeSet<String>,
    /// Who is promoting.
    pub actor: &'a str,
    /// Every approver of every owner in this request: an approval listed nowhere is
    /// refused; one listed for another component of the same request is not counted here.
    pub known: &'a BTreeSet<String>,
}

/// `approvals`: enough approvals from approvers of the component's owner, none by the
/// actor, none from people listed nowhere.
pub(crate) fn approvals(
    repo: &Repository,
    cand: &Candidate<'_>,
    a: &Approvals<'_>,
) -> Result<Vec<Refusal>> {
    let owner = repo.owner(cand.component)?;
    let (file, listed): (String, Vec<String>) = match &owner {
        Some(o) => (o.file.to_string(), o.ownership.value.approvers.clone()),
        None => ("ownership.yaml (none found)".to_owned(), Vec::new()),
    };
    let mut out = Vec::new();
    if a.given.contains(a.actor) {
        out.push(cand.refuse(
            Gate::Approvals,
            format!(
                "`{}` promotes and cannot also approve their own promotion",
                a.actor
            ),
            "ask another approver to approve (--approved-by NAME)".into(),
        ));
    }
    for g in a.given {
        if g != a.actor && !a.known.contains(g) && !listed.contains(g) {
            out.push(cand.refuse(
                Gate::Approvals,
                format!("`{g}` is not an approver in {file}"),
                format!(
                    "approvers there: {}; add `{g}` to `approvers` through a reviewed change",
                    if listed.is_empty() {
                        "none".to_owned()
                    } else {
                        listed.join(", ")
                    }
                ),
            ));
        }
    }
    let counted = a
        .given
        .iter()
        .filter(|g| g.as_str() != a.actor && listed.contains(g))
        .count();
    if u32::try_from(counted).unwrap_or(u32::MAX) < a.required {
        out.push(cand.refuse(
            Gate::Approvals,
            format!(
                "{} needs {} approval(s) from the approvers in {file}; {} given",
                cand.stage.env, a.required, counted
            ),
            if listed.is_empty() {
                format!("list approvers under `approvers` in {file}, then pass --approved-by NAME")
            } else {
                format!(
                    "pass --approved-by NAME for approvers other than `{}`: {}",
                    a.actor,
                    listed.join(", ")
                )
            },
        ));
    }
    Ok(out)
}
