//! The findings: a summary by rule and by team, every finding on one filterable page when
//! they fit, and one (paginated, filterable) page per rule and per team.

use std::collections::BTreeMap;

use askama::Template;
use berth_model::Severity;
use rayon::prelude::*;

use super::{Filters, FindingRow, Layout, NO_TEAM, Pager, Renderer, render, severity_words};
use crate::collect::{Finding, RuleDoc};
use crate::ruledoc::Block;
use crate::{Page, Result, links};

/// Findings listed on `findings.html` itself at most (more: by rule and team only).
const MAX_ON_SUMMARY: usize = 1000;
/// Findings per rule or team page.
const PER_PAGE: usize = 500;

#[derive(Template)]
#[template(path = "findings.html", whitespace = "minimize")]
struct FindingsPage {
    l: Layout,
    total: usize,
    errors: usize,
    warnings: usize,
    infos: usize,
    by_rule: Vec<RuleCount>,
    by_team: Vec<TeamCount>,
    rows: Vec<FindingRow>,
    caption: String,
    filters: Filters,
    per_page: usize,
}

struct RuleCount {
    key: String,
    href: String,
    severity: String,
    count: usize,
    summary: String,
}

struct TeamCount {
    key: String,
    href: String,
    errors: usize,
    warnings: usize,
    infos: usize,
}

#[derive(Template)]
#[template(path = "facet.html", whitespace = "minimize")]
struct FacetPage<'a> {
    l: Layout,
    kind: &'static str,
    key: String,
    self_href: String,
    heading: String,
    total: usize,
    errors: usize,
    warnings: usize,
    infos: usize,
    doc: Option<DocView<'a>>,
    pager: Pager,
    rows: Vec<FindingRow>,
    caption: String,
    filters: Filters,
}

struct DocView<'a> {
    default_severity: &'static str,
    summary: &'a str,
    blocks: &'a [Block],
}

fn team_of(f: &Finding) -> &str {
    f.team.as_deref().unwrap_or(NO_TEAM)
}

/// Errors first, then warnings, then info; the validator's order within each.
fn by_severity(findings: &[Finding], idx: &mut [usize]) {
    idx.sort_by_key(|&i| match findings[i].d.severity {
        Severity::Error => 0,
        Severity::Warn => 1,
        _ => 2,
    });
}

impl Renderer<'_> {
    pub(super) fn findings_pages(&self) -> Result<Vec<Page>> {
        let d = self.data;
        let fs = &d.findings;
        let mut all: Vec<usize> = (0..fs.len()).collect();
        by_severity(fs, &mut all);
        let mut by_rule: BTreeMap<&str, Vec<usize>> = BTreeMap::new();
        let mut by_team: BTreeMap<&str, Vec<usize>> = BTreeMap::new();
        for &i in &all {
            by_rule.entry(fs[i].d.rule).or_default().push(i);
            by_team.entry(team_of(&fs[i])).or_default().push(i);
        }
        let mut pages = Vec::new();

        let path = links::FINDINGS.to_owned();
        let root = links::root_of(&path);
        let (errors, warnings, infos) = crate::collect::count(fs.iter());
        let rows: Vec<FindingRow> = if fs.len() <= MAX_ON_SUMMARY {
            all.iter()
                .map(|&i| self.finding_row(&fs[i], &root))
                .collect()
        } else {
            Vec::new()
        };
        let summary = FindingsPage {
            l: self.layout(&path, "Findings", "findings"),
            total: fs.len(),
            errors,
            warnings,
            infos,
            by_rule: by_rule
                .iter()
                .map(|(id, idx)| {
                    let sev: std::collections::BTreeSet<&str> = idx
                        .iter()
                        .map(|&i| severity_words(fs[i].d.severity).1)
                        .collect();
                    RuleCount {
                        key: (*id).to_owned(),
                        href: format!("{root}{}", links::facet("rule", id, 1)),
                        severity: super::join(sev),
                        count: idx.len(),
                        summary: d
                            .rules
                            .get(*id)
                            .map(|r| r.summary.clone())
                            .unwrap_or_default(),
                    }
                })
                .collect(),
            by_team: by_team
                .iter()
                .map(|(t, idx)| {
                    let (e, w, n) = crate::collect::count(idx.iter().map(|&i| &fs[i]));
                    TeamCount {
                        key: (*t).to_owned(),
                        href: format!("{root}{}", links::facet("team", t, 1)),
                        errors: e,
                        warnings: w,
                        infos: n,
                    }
                })
                .collect(),
            caption: format!("All {} findings, errors first", fs.len()),
            filters: Filters::of(&rows),
            rows,
            per_page: PER_PAGE,
        };
        pages.push(render(path, &summary)?);

        let facets: Vec<(&'static str, &str, &Vec<usize>)> = by_rule
            .iter()
            .map(|(k, v)| ("rule", *k, v))
            .chain(by_team.iter().map(|(k, v)| ("team", *k, v)))
            .collect();
        let rendered: Vec<Vec<Page>> = facets
            .par_iter()
            .map(|(kind, key, idx)| {
                let doc = if *kind == "rule" {
                    d.rules.get(*key)
                } else {
                    None
                };
                self.facet(kind, key, idx, doc)
            })
            .collect::<Result<_>>()?;
        pages.extend(rendered.into_iter().flatten());
        Ok(pages)
    }

    fn facet(
        &self,
        kind: &'static str,
        key: &str,
        idx: &[usize],
        doc: Option<&RuleDoc>,
    ) -> Result<Vec<Page>> {
        let fs = &self.data.findings;
        let (errors, warnings, infos) = crate::collect::count(idx.iter().map(|&i| &fs[i]));
        let chunks: Vec<&[usize]> = idx.chunks(PER_PAGE).collect();
        let total_pages = chunks.len().max(1);
        let mut pages = Vec::with_capacity(total_pages);
        for (pi, chunk) in chunks.iter().enumerate() {
            let n = pi + 1;
            let path = links::facet(kind, key, n);
            let root = links::root_of(&path);
            let rows: Vec<FindingRow> = chunk
                .iter()
                .map(|&i| self.finding_row(&fs[i], &root))
                .collect();
            let heading = match kind {
                "rule" => format!("Rule {key}"),
                _ => format!("Findings of team {key}"),
            };
            let caption = if total_pages == 1 {
                format!(
                    "{} finding{}",
                    idx.len(),
                    if idx.len() == 1 { "" } else { "s" }
                )
            } else {
                format!(
                    "Findings {} to {} of {}, page {n} of {total_pages}",
                    pi * PER_PAGE + 1,
                    pi * PER_PAGE + rows.len(),
                    idx.len()
                )
            };
            let page = FacetPage {
                l: self.layout(&path, heading.clone(), "findings"),
                kind,
                key: key.to_owned(),
                self_href: format!("{root}{path}"),
                heading,
                total: idx.len(),
                errors,
                warnings,
                infos,
                doc: doc.filter(|_| n == 1).map(|r| DocView {
                    default_severity: severity_words(r.default_severity).1,
                    summary: &r.summary,
                    blocks: &r.blocks,
                }),
                pager: Pager::new(n, total_pages, |k| {
                    format!("{root}{}", links::facet(kind, key, k))
                }),
                caption,
                filters: Filters::of(&rows),
                rows,
            };
            pages.push(render(path, &page)?);
        }
        Ok(pages)
    }
}
