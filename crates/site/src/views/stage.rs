//! A stage's page: what it runs (paginated), the diff to the next stage of the ladder,
//! its promotion timeline from the audit trail (rollbacks marked), and findings about
//! its domain file and audit records.

use askama::Template;
use berth_model::AuditAction;
use berth_promote::DiffKind;
use rayon::prelude::*;

use super::{CellView, Filters, FindingRow, Layout, Pager, Renderer, is_web_link, render};
use crate::collect::StageData;
use crate::drift::{Cell, CellInput};
use crate::{Page, Result, links};

/// Rows of "what it runs" per stage page.
const ROWS_PER_PAGE: usize = 500;
/// Rows of the diff shown (the rest is counted).
const MAX_DIFF_ROWS: usize = 500;
/// Audit records shown, newest first (the rest is counted).
const MAX_TIMELINE: usize = 200;
/// Findings about the stage's files shown (the rest is on the findings pages).
const MAX_FINDINGS: usize = 100;

#[derive(Template)]
#[template(path = "stage.html", whitespace = "minimize")]
struct StagePage {
    l: Layout,
    self_href: String,
    domain: String,
    env: String,
    ladder: Vec<Rung>,
    file: String,
    runs_count: usize,
    drift_count: usize,
    log_count: usize,
    runs_problem: Option<String>,
    pager: Pager,
    range_text: String,
    rows: Vec<RunRow>,
    first_page: bool,
    diff: DiffView,
    log_problem: Option<String>,
    audit_dir: String,
    timeline: Vec<Event>,
    timeline_hidden: usize,
    findings: Vec<FindingRow>,
    findings_total: usize,
    findings_href: String,
    findings_caption: String,
    no_filters: Filters,
}

struct Rung {
    env: String,
    href: String,
    current: bool,
    production: bool,
}

struct RunRow {
    path: String,
    href: Option<String>,
    latest: String,
    owner: String,
    cell: CellView,
}

enum DiffView {
    Last,
    Broken(String),
    Rows(DiffInfo),
}

struct DiffInfo {
    next: String,
    next_href: String,
    total: usize,
    same: usize,
    hidden: usize,
    rows: Vec<DiffRowView>,
}

struct DiffRowView {
    path: String,
    href: Option<String>,
    current: String,
    next: String,
    kind: &'static str,
    class: &'static str,
    icon: &'static str,
}

struct Event {
    class: &'static str,
    action: &'static str,
    at: String,
    at_text: String,
    component: String,
    href: Option<String>,
    previous: String,
    version: String,
    actor: String,
    approvals: String,
    reason: String,
    pipeline: Option<String>,
    evidence: Vec<Evidence>,
    file: String,
}

struct Evidence {
    text: String,
    link: bool,
}

impl Renderer<'_> {
    pub(super) fn stage_pages(&self) -> Result<Vec<Page>> {
        let per_stage: Vec<Vec<Page>> = self
            .data
            .stages
            .par_iter()
            .enumerate()
            .map(|(si, st)| self.one_stage(si, st))
            .collect::<Result<_>>()?;
        Ok(per_stage.into_iter().flatten().collect())
    }

    fn one_stage(&self, si: usize, st: &StageData) -> Result<Vec<Page>> {
        let d = self.data;
        let (dn, en) = (&st.stage.domain, &st.stage.env);
        let entries: Vec<(&berth_model::ComponentPath, &berth_model::Version)> = self.runs[si]
            .map(|m| m.iter().collect())
            .unwrap_or_default();
        let runs_problem = st.runs.as_ref().err().cloned();
        let ladder: Vec<berth_model::EnvName> = d
            .domains
            .iter()
            .find(|(x, _)| x == dn)
            .map(|(_, l)| l.clone())
            .unwrap_or_default();

        // Every row's cell, once (drift is counted over all of them).
        let rows_all: Vec<(String, Option<usize>, CellView)> = entries
            .iter()
            .map(|(c, v)| {
                let ci = self.comp_index.get(*c).copied();
                let cell = match ci {
                    Some(i) => self.cell_view(&d.components[i], si),
                    // A row naming no component of the tree: nothing to compare with.
                    None => CellView::new(
                        st.stage.to_string(),
                        &Cell::compute(&CellInput {
                            domain_listed: false,
                            env_listed: false,
                            runs: Some(v),
                            next: None,
                            latest: None,
                        }),
                    ),
                };
                (c.to_string(), ci, cell)
            })
            .collect();
        let drift_count = rows_all
            .iter()
            .filter(|(_, _, cv)| {
                cv.marks
                    .iter()
                    .any(|m| matches!(m.class, "ahead" | "behind" | "missing" | "unlisted"))
            })
            .count();
        let total_pages = rows_all.len().div_ceil(ROWS_PER_PAGE).max(1);
        let mut rows_iter = rows_all.into_iter();
        let mut pages = Vec::with_capacity(total_pages);
        for n in 1..=total_pages {
            let path = links::stage(dn, en, n);
            let root = links::root_of(&path);
            let rows: Vec<RunRow> = rows_iter
                .by_ref()
                .take(ROWS_PER_PAGE)
                .map(|(p, ci, cell)| {
                    let comp = ci.map(|i| &d.components[i]);
                    RunRow {
                        href: comp.map(|c| format!("{root}{}", links::component(&c.path))),
                        latest: comp
                            .and_then(|c| c.latest.as_ref())
                            .map(ToString::to_string)
                            .unwrap_or_else(|| "—".to_owned()),
                        owner: comp.and_then(|c| c.owner_team()).unwrap_or("—").to_owned(),
                        path: p,
                        cell,
                    }
                })
                .collect();
            let first = (n - 1) * ROWS_PER_PAGE + 1;
            let range_text = if total_pages == 1 {
                format!(
                    "The {} component{} {} runs",
                    entries.len(),
                    if entries.len() == 1 { "" } else { "s" },
                    st.stage
                )
            } else {
                format!(
                    "Components {first} to {} of {} that {} runs, page {n} of {total_pages}",
                    first + rows.len() - 1,
                    entries.len(),
                    st.stage
                )
            };
            let first_page = n == 1;
            let page = StagePage {
                l: self.layout(
                    &path,
                    if first_page {
                        st.stage.to_string()
                    } else {
                        format!("{st}, page {n}", st = st.stage)
                    },
                    "stage",
                ),
                self_href: format!("{root}{path}"),
                domain: dn.to_string(),
                env: en.to_string(),
                ladder: ladder
                    .iter()
                    .map(|e| Rung {
                        env: e.to_string(),
                        href: format!("{root}{}", links::stage(dn, e, 1)),
                        current: e == en,
                        production: ladder.last() == Some(e),
                    })
                    .collect(),
                file: st.file.to_string(),
                runs_count: entries.len(),
                drift_count,
                log_count: st.log.len(),
                runs_problem: runs_problem.clone(),
                pager: Pager::new(n, total_pages, |k| {
                    format!("{root}{}", links::stage(dn, en, k))
                }),
                range_text,
                rows,
                first_page,
                diff: if first_page {
                    self.diff_view(st, &root)
                } else {
                    DiffView::Last
                },
                log_problem: st.log_problem.clone(),
                audit_dir: st.stage.audit_dir().to_string(),
                timeline: if first_page {
                    self.timeline(st, &root)
                } else {
                    Vec::new()
                },
                timeline_hidden: st.log.len().saturating_sub(MAX_TIMELINE),
                findings: if first_page {
                    st.findings
                        .iter()
                        .take(MAX_FINDINGS)
                        .map(|&i| self.finding_row(&d.findings[i], &root))
                        .collect()
                } else {
                    Vec::new()
                },
                findings_total: st.findings.len(),
                findings_href: format!("{root}{}", links::FINDINGS),
                findings_caption: format!(
                    "Findings about {} and {}",
                    st.file,
                    st.stage.audit_dir()
                ),
                no_filters: Filters::default(),
            };
            pages.push(render(path, &page)?);
        }
        Ok(pages)
    }

    fn diff_view(&self, st: &StageData, root: &str) -> DiffView {
        let (Some(next), Some(diff)) = (&st.next, &st.diff) else {
            return DiffView::Last;
        };
        match diff {
            Err(e) => DiffView::Broken(e.clone()),
            Ok(sd) => DiffView::Rows(DiffInfo {
                next: next.env.to_string(),
                next_href: format!("{root}{}", links::stage(&next.domain, &next.env, 1)),
                total: sd.changes.len(),
                same: sd.same,
                hidden: sd.changes.len().saturating_sub(MAX_DIFF_ROWS),
                rows: sd
                    .changes
                    .iter()
                    .take(MAX_DIFF_ROWS)
                    .map(|r| {
                        let (kind, class, icon) = match r.kind {
                            DiffKind::New => ("new in the next stage", "ahead", "ahead"),
                            DiffKind::Upgrade => ("upgrade", "ahead", "ahead"),
                            DiffKind::Downgrade => ("downgrade", "behind", "behind"),
                        };
                        DiffRowView {
                            path: r.component.to_string(),
                            href: self
                                .comp_index
                                .contains_key(&r.component)
                                .then(|| format!("{root}{}", links::component(&r.component))),
                            current: r
                                .current
                                .as_ref()
                                .map(ToString::to_string)
                                .unwrap_or_default(),
                            next: r.next.to_string(),
                            kind,
                            class,
                            icon,
                        }
                    })
                    .collect(),
            }),
        }
    }

    fn timeline(&self, st: &StageData, root: &str) -> Vec<Event> {
        st.log
            .iter()
            .take(MAX_TIMELINE)
            .map(|(file, r)| {
                let (class, action) = match r.action {
                    AuditAction::Promote => ("promote", "Promotion"),
                    AuditAction::Rollback => ("rollback", "Rollback"),
                };
                let at = r.at.to_string();
                Event {
                    class,
                    action,
                    at_text: at.replacen('T', " ", 1).replace('Z', " UTC"),
                    at,
                    component: r.component.to_string(),
                    href: self
                        .comp_index
                        .contains_key(&r.component)
                        .then(|| format!("{root}{}", links::component(&r.component))),
                    previous: r
                        .previous_version
                        .as_ref()
                        .map(ToString::to_string)
                        .unwrap_or_default(),
                    version: r.version.to_string(),
                    actor: r.actor.clone(),
                    approvals: super::join(&r.approvals),
                    reason: r.reason.clone().unwrap_or_default(),
                    pipeline: r.pipeline_url.clone().filter(|u| is_web_link(u)),
                    evidence: r
                        .evidence
                        .iter()
                        .map(|e| Evidence {
                            link: is_web_link(e),
                            text: e.clone(),
                        })
                        .collect(),
                    file: file.to_string(),
                }
            })
            .collect()
    }
}
