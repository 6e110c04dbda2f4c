//! Requests, plans and their execution: read, check every gate, write, under one lock.

use std::collections::{BTreeMap, BTreeSet};

use berth_index::Resolver;
use berth_model::{
    AuditAction, AuditRecord, ComponentPath, DomainEntry, DomainIndex, Repository, Timestamp,
    Verdict, Version, yaml,
};
use camino::Utf8PathBuf;
use serde::Serialize;

use berth_model::journal::{Intent, PlannedWrite};

use crate::audit::{self, ChainHead};
use crate::event::PromotionEvent;
use crate::gates::{self, Approvals, Candidate, Gate, Refusal};
use crate::{PromoteError, Result};
use berth_model::stage::{Stage, read_stage};

/// Who asks, why, and when: everything a record holds besides the change itself.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Context {
    /// Who promotes ([`crate::resolve_actor`]).
    pub actor: String,
    /// Who approved (`--approved-by`, repeatable).
    pub approvals: Vec<String>,
    /// Why (`--reason`).
    pub reason: Option<String>,
    /// Links to test reports and other evidence (`--evidence`).
    pub evidence: Vec<String>,
    /// The CI pipeline ([`crate::pipeline_url_from_env`]).
    pub pipeline_url: Option<String>,
    /// Now (milliseconds): the records' time and the reference for build age.
    pub now: Timestamp,
}

impl Context {
    /// A context for `actor`, now, with no approvals, reason or evidence.
    pub fn new(actor: impl Into<String>) -> Self {
        let now = Timestamp::now();
        Context {
            actor: actor.into(),
            approvals: Vec::new(),
            reason: None,
            evidence: Vec::new(),
            pipeline_url: None,
            now: jiff::Timestamp::from_millisecond(now.jiff().as_millisecond())
                .map_or(now, Timestamp::from),
        }
    }

    /// Checks every free-text value the records will hold: one line each, no character
    /// that could forge the output of `berth log` or a notification.
    pub fn check(&self) -> Result<()> {
        berth_model::ids::check_line("actor", &self.actor)?;
        for a in &self.approvals {
            berth_model::ids::check_line("approval", a)?;
        }
        if let Some(r) = &self.reason {
            berth_model::ids::check_line("reason", r)?;
        }
        for e in &self.evidence {
            berth_model::ids::check_line("evidence", e)?;
        }
        if let Some(u) = &self.pipeline_url {
            berth_model::ids::check_line("pipeline URL", u)?;
        }
        Ok(())
    }

    fn given(&self) -> BTreeSet<String> {
        self.approvals
            .iter()
            .map(|a| a.trim().to_owned())
            .filter(|a| !a.is_empty())
            .collect()
    }
}

/// What to do.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Request {
    /// `berth promote COMPONENT VERSION --domain D --env E`.
    One {
        /// The stage to enter.
        stage: Stage,
        /// The component, full path or unique last segment.
        component: String,
        /// The version.
        version: String,
    },
    /// `berth promote --domain D --from ENV --to ENV [COMPONENT…]`: what `from` runs enters
    /// `to`, all or nothing.
    WholeStage {
        /// The stage whose versions are promoted.
        from: Stage,
        /// The stage they enter.
        to: Stage,
        /// Only these components of `from` (empty: all).
        components: Vec<String>,
    },
    /// `berth rollback COMPONENT --domain D --env E [--to VERSION]`.
    Rollback {
        /// The stage.
        stage: Stage,
        /// The component.
        component: String,
        /// The version to go back to (default: the one the stage ran before).
        to: Option<String>,
    },
}

impl Request {
    /// One version into one stage.
    pub fn one(stage: Stage, component: impl Into<String>, version: impl Into<String>) -> Self {
        Request::One {
            stage,
            component: component.into(),
            version: version.into(),
        }
    }
    /// What `from` runs into `to` (all components, or only `components`).
    pub fn whole_stage(from: Stage, to: Stage, components: Vec<String>) -> Self {
        Request::WholeStage {
            from,
            to,
            components,
        }
    }
    /// A stage back to an earlier version of a component.
    pub fn rollback(stage: Stage, component: impl Into<String>, to: Option<String>) -> Self {
        Request::Rollback {
            stage,
            component: component.into(),
            to,
        }
    }
    /// The stage that changes.
    pub fn stage(&self) -> &Stage {
        match self {
            Request::One { stage, .. } | Request::Rollback { stage, .. } => stage,
            Request::WholeStage { to, .. } => to,
        }
    }
    /// What the records will say.
    pub fn action(&self) -> AuditAction {
        match self {
            Request::Rollback { .. } => AuditAction::Rollback,
            _ => AuditAction::Promote,
        }
    }
}

/// One row of a stage that changes.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Change {
    /// The component.
    pub component: ComponentPath,
    /// The version it ran before, if any.
    pub previous: Option<Version>,
    /// The version it runs after.
    pub version: Version,
}

/// What a request would do, and what every gate says about it. Nothing is written.
#[derive(Debug, Clone, Serialize)]
pub struct Plan {
    /// Promote or rollback.
    pub action: AuditAction,
    /// The stage that changes.
    pub stage: Stage,
    /// Its domain file.
    pub file: Utf8PathBuf,
    /// The rows that change.
    pub changes: Vec<Change>,
    /// Rows asked for that the stage runs already (nothing to do).
    pub unchanged: Vec<DomainEntry>,
    /// Rows asked for that the stage's audit trail already records (its last record of the
    /// component promoted that version) but its domain file lacks: an interrupted
    /// promotion. The row is restored without a second record.
    pub restored: Vec<DomainEntry>,
    /// Every gate's refusal; any refusal means nothing is written.
    pub refusals: Vec<Refusal>,
    /// Why some gate passed without looking (no build time, allow_skip, …).
    pub notes: Vec<String>,
    /// Findings that did not refuse the change but are recorded with it: policy findings
    /// of a version the stage ran before (a rollback to it).
    pub warnings: Vec<String>,
    /// The domain file's text now ("" when it does not exist).
    #[serde(skip)]
    pub before_text: String,
    /// The stage after the change.
    #[serde(skip)]
    pub after: DomainIndex,
}

impl Plan {
    /// True when a gate refused.
    pub fn is_refused(&self) -> bool {
        !self.refusals.is_empty()
    }

    /// The domain file as it would be written.
    pub fn after_text(&self) -> Result<String> {
        if self.changes.is_empty() && self.restored.is_empty() {
            return Ok(self.before_text.clone());
        }
        yaml::to_canonical(&self.after).map_err(|source| {
            PromoteError::Repo(berth_model::Error::Render {
                file: self.file.clone(),
                source,
            })
        })
    }

    /// The change to the domain file as a unified diff (empty when nothing changes).
    pub fn diff(&self) -> Result<String> {
        let after = self.after_text()?;
        if after == self.before_text {
            return Ok(String::new());
        }
        let old = if self.before_text.is_empty() {
            "/dev/null".to_owned()
        } else {
            format!("a/{}", self.file)
        };
        Ok(similar::TextDiff::from_lines(&self.before_text, &after)
            .unified_diff()
            .context_radius(3)
            .header(&old, &format!("b/{}", self.file))
            .to_string())
    }

    /// The records this plan writes, without their chain link.
    pub fn records(&self, cx: &Context) -> Vec<AuditRecord> {
        let approvals: Vec<String> = cx.given().into_iter().collect();
        self.changes
            .iter()
            .map(|ch| AuditRecord {
                action: self.action,
                actor: cx.actor.clone(),
                at: cx.now,
                component: ch.component.clone(),
                version: ch.version.clone(),
                domain: self.stage.domain.clone(),
                environment: self.stage.env.clone(),
                previous_version: ch.previous.clone(),
                reason: cx.reason.clone(),
                approvals: approvals.clone(),
                pipeline_url: cx.pipeline_url.clone(),
                evidence: cx.evidence.clone(),
                warnings: self.warnings.clone(),
                previous_record: None,
            })
            .collect()
    }
}

/// What [`execute`] did.
#[derive(Debug, Clone, Serialize)]
pub struct Outcome {
    /// The plan, checked under the lock.
    #[serde(flatten)]
    pub plan: Plan,
    /// The audit records written, one per change.
    pub records: Vec<Utf8PathBuf>,
    /// True when the domain file and records were written.
    pub applied: bool,
}

impl Outcome {
    /// One event per change written, or one per refusal of an existing component: what a
    /// notifier posts (a refusal of a name that is no component has no owner to tell).
    pub fn events(&self, cx: &Context) -> Vec<PromotionEvent> {
        let plan = &self.plan;
        let base =
            |component: ComponentPath, version: Option<Version>, previous: Option<Version>| {
                PromotionEvent {
                    action: plan.action,
                    component,
                    version,
                    domain: plan.stage.domain.clone(),
                    environment: plan.stage.env.clone(),
                    previous,
                    actor: cx.actor.clone(),
                    approvals: cx.given().into_iter().collect(),
                    reason: cx.reason.clone(),
                    at: cx.now,
                    record: None,
                    refused: None,
                }
            };
        if plan.is_refused() {
            return plan
                .refusals
                .iter()
                .filter_map(|r| {
                    let c = r.target.clone()?;
                    let previous = plan
                        .changes
                        .iter()
                        .find(|ch| ch.component == c)
                        .and_then(|ch| ch.previous.clone());
                    let version = Version::parse(&r.version).ok();
                    Some(PromotionEvent {
                        refused: Some(r.clone()),
                        ..base(c, version, previous)
                    })
                })
                .collect();
        }
        plan.changes
            .iter()
            .zip(self.records.iter().map(Some).chain(std::iter::repeat(None)))
            .map(|(ch, rec)| PromotionEvent {
                record: rec.cloned(),
                ..base(
                    ch.component.clone(),
                    Some(ch.version.clone()),
                    ch.previous.clone(),
                )
            })
            .collect()
    }
}

/// Checks `req` against every gate on the repository as it is now; writes nothing
/// (`--dry-run`). [`execute`] runs the same checks again under the lock.
pub fn plan(repo: &Repository, verdict: &dyn Verdict, req: &Request, cx: &Context) -> Result<Plan> {
    cx.check()?;
    let stage = req.stage().clone();
    let file = stage.file(repo.config());
    let before_text = match repo.read_bytes(&file) {
        Ok(b) => String::from_utf8_lossy(&b).into_owned(),
        Err(e) if e.is_not_found() => String::new(),
        Err(e) => return Err(berth_model::Error::Store(e).into()),
    };
    let before = read_stage(repo, &stage)?;
    let mut plan = Plan {
        action: req.action(),
        stage: stage.clone(),
        file,
        changes: Vec::new(),
        unchanged: Vec::new(),
        restored: Vec::new(),
        refusals: Vec::new(),
        notes: Vec::new(),
        warnings: Vec::new(),
        before_text,
        after: before.clone(),
    };
    let wanted = match req {
        Request::One {
            component, version, ..
        } => match gates::exists(repo, &stage, component, version)? {
            Ok(cv) => vec![cv],
            Err(r) => {
                plan.refusals.push(r);
                Vec::new()
            }
        },
        Request::WholeStage {
            from,
            to,
            components,
        } => whole_stage_candidates(repo, from, to, components, &mut plan)?,
        Request::Rollback { component, to, .. } => {
            rollback_target(repo, &stage, &before, component, to.as_deref(), &mut plan)?
        }
    };

    let mut candidates = Vec::new();
    let trail = if plan.action == AuditAction::Promote {
        audit::promoted_by_audit(repo, &stage.domain, &stage.env)?
    } else {
        BTreeMap::new()
    };
    for (c, v) in wanted {
        if before.version_of(&c) == Some(&v) {
            plan.unchanged.push(DomainEntry {
                name: c,
                version: v,
            });
        } else if trail.get(&c) == Some(&v) {
            plan.after.set(&c, Some(v.clone()));
            plan.restored.push(DomainEntry {
                name: c,
                version: v,
            });
        } else {
            candidates.push((c, v));
        }
    }

    let history = if candidates.is_empty() {
        Vec::new()
    } else {
        audit::record_files(repo, &stage)
            .map_err(berth_model::Error::from)?
            .iter()
            .filter_map(|f| f.record().ok())
            .collect()
    };
    let given = cx.given();
    let mut known = BTreeSet::new();
    for (c, _) in &candidates {
        if let Some(o) = repo.owner(c)? {
            known.extend(o.ownership.value.approvers.iter().cloned());
        }
    }
    let required = match plan.action {
        AuditAction::Promote => repo
            .config()
            .policy
            .approvals
            .get(&stage.env)
            .copied()
            .unwrap_or(0),
        AuditAction::Rollback => 0,
    };
    let approvals = Approvals {
        required,
        given: &given,
        actor: &cx.actor,
        known: &known,
    };
    for (c, v) in &candidates {
        let cand = Candidate {
            component: c,
            version: v,
            stage: &stage,
        };
        let how = gates::ValidCheck {
            verify_bytes: required > 0 || stage.is_production(repo.config()),
            ran_before: ran_before(&history, c, v),
        };
        plan.refusals
            .extend(gates::valid(&cand, verdict, how, &mut plan.warnings)?);
        let meta = repo.metadata(c, v).ok().map(|m| m.value);
        plan.refusals.extend(gates::allowed(&cand, meta.as_ref()));
        if plan.action == AuditAction::Promote {
            plan.refusals
                .extend(gates::previous_stage(repo, &cand, &mut plan.notes)?);
            plan.refusals
                .extend(gates::build_age(repo, &cand, cx.now, &mut plan.notes)?);
        }
        plan.refusals
            .extend(gates::approvals(repo, &cand, &approvals)?);
        plan.changes.push(Change {
            component: c.clone(),
            previous: before.version_of(c).cloned(),
            version: v.clone(),
        });
        plan.after.set(c, Some(v.clone()));
    }

    if !plan.changes.is_empty() {
        let resolver = Resolver::new(repo)?;
        let as_map = |d: &DomainIndex| -> BTreeMap<ComponentPath, Version> {
            d.components
                .iter()
                .map(|e| (e.name.clone(), e.version.clone()))
                .collect()
        };
        plan.refusals.extend(gates::dependencies(
            &resolver,
            &stage,
            &as_map(&before),
            &as_map(&plan.after),
            &mut plan.notes,
        ));
    }
    // The domain file anchors the newest record, the ones this plan writes included.
    let writes_something = !plan.changes.is_empty() || !plan.restored.is_empty();
    if !plan.is_refused() && writes_something {
        let mut head = ChainHead::read(repo, &stage)?;
        for record in plan.records(cx) {
            head.next(repo, &stage, record)?;
        }
        plan.after.audit_head = head.last();
    }
    // One refusal per gate and component is enough; keep the gate order.
    plan.refusals.sort_by(|a, b| {
        (a.gate, &a.component, &a.message).cmp(&(b.gate, &b.component, &b.message))
    });
    plan.refusals.dedup();
    Ok(plan)
}

/// True when the stage's records show it running `c` `v` before.
fn ran_before(history: &[AuditRecord], c: &ComponentPath, v: &Version) -> bool {
    history
        .iter()
        .any(|r| &r.component == c && (&r.version == v || r.previous_version.as_ref() == Some(v)))
}

/// The rows of `from` to promote into `to`.
fn whole_stage_candidates(
    repo: &Repository,
    from: &Stage,
    to: &Stage,
    only: &[String],
    plan: &mut Plan,
) -> Result<Vec<(ComponentPath, Version)>> {
    let config = repo.config();
    if from.domain != to.domain {
        return Err(PromoteError::Usage(format!(
            "--from {from} and --to {to} are stages of different domains"
        )));
    }
    match (from.rung(config), to.rung(config)) {
        (Some(f), Some(t)) if f < t => {}
        _ => {
            return Err(PromoteError::Usage(format!(
                "--from must come before --to on the ladder of `{}`; {} does not come before {}",
                to.domain, from.env, to.env
            )));
        }
    }
    let source = read_stage(repo, from)?;
    let mut rows: Vec<DomainEntry> = Vec::new();
    if only.is_empty() {
        rows = source.components.clone();
    } else {
        for name in only {
            let found: Vec<&DomainEntry> = source
                .components
                .iter()
                .filter(|e| {
                    e.name.as_str() == name || (!name.contains('/') && e.name.name() == name)
                })
                .collect();
            match found.as_slice() {
                [one] => rows.push((*one).clone()),
                [] => plan.refusals.push(Refusal {
                    target: None,
                    gate: Gate::PreviousStage,
                    component: name.clone(),
                    version: "-".into(),
                    stage: to.clone(),
                    message: format!(
                        "{from} does not run `{name}`, so there is nothing to promote from it"
                    ),
                    help: format!(
                        "`berth deployed --domain {} --env {}` lists what it runs",
                        from.domain, from.env
                    ),
                }),
                many => plan.refusals.push(Refusal {
                    target: None,
                    gate: Gate::Exists,
                    component: name.clone(),
                    version: "-".into(),
                    stage: to.clone(),
                    message: format!(
                        "`{name}` is ambiguous in {from}: {}",
                        many.iter()
                            .map(|e| e.name.as_str())
                            .collect::<Vec<_>>()
                            .join(", ")
                    ),
                    help: "give the full path".into(),
                }),
            }
        }
    }
    let mut out = Vec::new();
    for e in rows {
        match gates::exists(repo, to, e.name.as_str(), &e.version.to_string())? {
            Ok(cv) => out.push(cv),
            Err(r) => plan.refusals.push(r),
        }
    }
    Ok(out)
}

/// The version a rollback goes back to, from the stage's audit trail.
fn rollback_target(
    repo: &Repository,
    stage: &Stage,
    before: &DomainIndex,
    component: &str,
    to: Option<&str>,
    plan: &mut Plan,
) -> Result<Vec<(ComponentPath, Version)>> {
    let refuse = |c: &str, v: &str, message: String, help: String| Refusal {
        target: ComponentPath::parse(c).ok(),
        gate: Gate::History,
        component: c.to_owned(),
        version: v.to_owned(),
        stage: stage.clone(),
        message,
        help,
    };
    let c = match repo.resolve_component(component) {
        Ok(c) => c,
        Err(berth_model::Error::NotFound { hint, .. }) => {
            plan.refusals.push(Refusal {
                target: None,
                gate: Gate::Exists,
                component: component.to_owned(),
                version: to.unwrap_or("-").to_owned(),
                stage: stage.clone(),
                message: format!("no component `{component}` in the repository{hint}"),
                help: "give the full path of a component under components/ (`berth ls`)".into(),
            });
            return Ok(Vec::new());
        }
        Err(e) => return Err(e.into()),
    };
    let Some(current) = before.version_of(&c).cloned() else {
        plan.refusals.push(refuse(
            c.as_str(),
            to.unwrap_or("-"),
            format!("{stage} does not run {c}: there is nothing to roll back"),
            format!(
                "`berth deployed --domain {} --env {}` lists what it runs",
                stage.domain, stage.env
            ),
        ));
        return Ok(Vec::new());
    };
    let files = audit::record_files(repo, stage).map_err(berth_model::Error::from)?;
    let history = audit::ran(&files, &c);
    let target = match to {
        Some(t) => {
            let ran_before: BTreeSet<Version> = history
                .iter()
                .flat_map(|(r, _)| [Some(r.version.clone()), r.previous_version.clone()])
                .flatten()
                .filter(|v| v != &current)
                .collect();
            let list = ran_before
                .iter()
                .map(ToString::to_string)
                .collect::<Vec<_>>()
                .join(", ");
            match Version::parse(t) {
                Ok(v) if ran_before.contains(&v) => v,
                Ok(v) if v == current => {
                    plan.refusals.push(refuse(
                        c.as_str(),
                        t,
                        format!("{stage} runs {c} {v} already"),
                        if list.is_empty() {
                            "nothing earlier to roll back to".into()
                        } else {
                            format!("versions it ran before: {list}")
                        },
                    ));
                    return Ok(Vec::new());
                }
                _ => {
                    plan.refusals.push(refuse(
                        c.as_str(),
                        t,
                        format!("according to its audit trail, {stage} never ran {c} {t}"),
                        if list.is_empty() {
                            "it ran no other version; promote the version instead (berth promote)".into()
                        } else {
                            format!("roll back to a version it ran before: {list}; or promote {t} (berth promote)")
                        },
                    ));
                    return Ok(Vec::new());
                }
            }
        }
        None => {
            let last = history.iter().rev().find(|(r, _)| r.version == current);
            match last {
                Some((r, _)) => match &r.previous_version {
                    Some(p) => p.clone(),
                    None => {
                        plan.refusals.push(refuse(
                            c.as_str(),
                            "-",
                            format!("{c} {current} is the first version {stage} ran: there is nothing to roll back to"),
                            "promote another version instead (berth promote)".into(),
                        ));
                        return Ok(Vec::new());
                    }
                },
                None => {
                    plan.refusals.push(refuse(
                        c.as_str(),
                        "-",
                        format!("no audit record shows how {stage} came to run {c} {current} (was the domain file edited by hand?)"),
                        "give the version to go back to with --to VERSION, if the trail lists it, or promote one (berth promote)".into(),
                    ));
                    return Ok(Vec::new());
                }
            }
        }
    };
    Ok(
        match gates::exists(repo, stage, c.as_str(), &target.to_string())? {
            Ok(cv) => vec![cv],
            Err(r) => {
                plan.refusals.push(r);
                Vec::new()
            }
        },
    )
}

/// Runs `req`: takes the repository lock, finishes what a killed writer left (the
/// journal), checks every gate on what is on disk now, and when none refuses writes one
/// audit record per change and then the domain file. The writes are journaled first, so a
/// crash at any moment is finished by the next writer: records and domain file always
/// agree, all or nothing for a whole-stage promotion. A refused request writes nothing; a
/// request with nothing to change writes nothing.
pub fn execute(
    repo: &Repository,
    verdict: &dyn Verdict,
    req: &Request,
    cx: &Context,
) -> Result<Outcome> {
    let lock = repo.lock()?;
    berth_index::recover(repo, &lock, verdict)?;
    let plan = plan(repo, verdict, req, cx)?;
    if plan.is_refused() || (plan.changes.is_empty() && plan.restored.is_empty()) {
        return Ok(Outcome {
            plan,
            records: Vec::new(),
            applied: false,
        });
    }
    let mut head = ChainHead::read(repo, &plan.stage)?;
    let mut writes = Vec::new();
    for record in plan.records(cx) {
        writes.push(head.next(repo, &plan.stage, record)?);
    }
    // `plan` anchored the same head: the records are the same bytes.
    debug_assert_eq!(plan.after.audit_head, head.last());
    let records = writes.iter().map(|w| w.path.clone()).collect();
    writes.push(PlannedWrite {
        path: plan.file.clone(),
        text: plan.after_text()?,
        create_new: false,
    });
    // Checked before the first change: a refusal leaves the tree as it was.
    for w in &writes {
        repo.store()
            .check_writable(&w.path)
            .map_err(berth_model::Error::from)?;
    }
    let pending = repo.journal_begin(&lock, &Intent::Writes { writes })?;
    if let Intent::Writes { writes } = &pending.intent {
        repo.apply_writes(&lock, writes)?;
    }
    repo.journal_done(&lock, &pending)?;
    Ok(Outcome {
        plan,
        records,
        applied: true,
    })
}
