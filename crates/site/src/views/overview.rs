//! The overview: components (grouped by their group, nested groups folded) × every
//! stage, paginated.

use std::collections::BTreeSet;

use askama::Template;
use rayon::prelude::*;

use super::{CellView, Layout, MarkView, Pager, Renderer, render};
use crate::drift::Mark;
use crate::{Page, Result, links};

#[derive(Template)]
#[template(path = "overview.html", whitespace = "minimize")]
struct Overview {
    l: Layout,
    n_components: usize,
    stage_count: usize,
    index_problem: Option<String>,
    errors: usize,
    warnings: usize,
    infos: usize,
    drift_ahead: usize,
    drift_behind: usize,
    drift_missing: usize,
    legend: Vec<LegendRow>,
    pager: Pager,
    range_text: String,
    domains: Vec<DomainHead>,
    ncols: usize,
    groups: Vec<Group>,
}

struct LegendRow {
    marks: Vec<MarkView>,
    explain: &'static str,
}

struct DomainHead {
    name: String,
    stages: Vec<StageHead>,
}

struct StageHead {
    env: String,
    href: String,
}

struct Group {
    path: String,
    /// The nearest enclosing group that has components, when nested.
    parent: String,
    nested: bool,
    depth: usize,
    continued: bool,
    drift: usize,
    /// Groups on this page nested below this one.
    nested_count: usize,
    rows: Vec<Row>,
}

struct Row {
    path: String,
    name: String,
    href: String,
    search: String,
    latest: String,
    owner: String,
    errors: usize,
    warnings: usize,
    infos: usize,
    cells: Vec<CellView>,
}

fn group_of(path: &str) -> &str {
    path.rsplit_once('/').map_or("", |(g, _)| g)
}

impl Renderer<'_> {
    /// Rows per overview page: 200, fewer when there are many stages (pages stay well
    /// under 1 MiB).
    fn overview_rows(&self) -> usize {
        self.opts.rows_per_page.map_or_else(
            || (2400 / self.data.stages.len().max(1)).clamp(20, 200),
            |n| n.max(1),
        )
    }

    pub(super) fn overview_pages(&self) -> Result<Vec<Page>> {
        let d = self.data;
        // Group order: by group path, then name, so a group's components sit together
        // and nested groups follow their parent.
        let mut order: Vec<usize> = (0..d.components.len()).collect();
        order.sort_by(|&a, &b| {
            let (pa, pb) = (d.components[a].path.as_str(), d.components[b].path.as_str());
            (group_of(pa), pa).cmp(&(group_of(pb), pb))
        });
        let all_groups: BTreeSet<&str> = d
            .components
            .iter()
            .map(|c| group_of(c.path.as_str()))
            .collect();

        // Totals for the summary.
        let (errors, warnings, infos) = crate::collect::count(d.findings.iter());
        let (mut ahead, mut behind, mut missing) = (0, 0, 0);
        for c in &d.components {
            for si in 0..d.stages.len() {
                for m in self.cell(c, si).marks() {
                    match m {
                        Mark::Ahead => ahead += 1,
                        Mark::Behind => behind += 1,
                        Mark::Missing => missing += 1,
                        _ => {}
                    }
                }
            }
        }

        let per = self.overview_rows();
        let chunks: Vec<&[usize]> = if order.is_empty() {
            vec![&[]]
        } else {
            order.chunks(per).collect()
        };
        let total_pages = chunks.len();
        let ncols = 4 + d.stages.len();
        chunks
            .par_iter()
            .enumerate()
            .map(|(pi, chunk)| {
                let n = pi + 1;
                let path = links::overview(n);
                let root = links::root_of(&path);
                let domains = d
                    .domains
                    .iter()
                    .map(|(dn, ladder)| DomainHead {
                        name: dn.to_string(),
                        stages: ladder
                            .iter()
                            .map(|e| StageHead {
                                env: e.to_string(),
                                href: format!("{root}{}", links::stage(dn, e, 1)),
                            })
                            .collect(),
                    })
                    .collect();
                let prev_group =
                    (pi > 0).then(|| group_of(d.components[order[pi * per - 1]].path.as_str()));
                let mut groups: Vec<Group> = Vec::new();
                for &ci in chunk.iter() {
                    let c = &d.components[ci];
                    let g = group_of(c.path.as_str());
                    if groups.last().is_none_or(|x| x.path != g) {
                        let ancestors: Vec<&str> = all_groups
                            .iter()
                            .copied()
                            .filter(|a| {
                                g.len() > a.len()
                                    && g.starts_with(a)
                                    && g[a.len()..].starts_with('/')
                            })
                            .collect();
                        groups.push(Group {
                            path: g.to_owned(),
                            parent: ancestors
                                .last()
                                .map(|s| (*s).to_owned())
                                .unwrap_or_default(),
                            nested: !ancestors.is_empty(),
                            depth: ancestors.len(),
                            continued: groups.is_empty() && prev_group == Some(g),
                            drift: 0,
                            nested_count: 0,
                            rows: Vec::new(),
                        });
                    }
                    let cells: Vec<CellView> = (0..d.stages.len())
                        .map(|si| self.cell_view(c, si))
                        .collect();
                    let (e, w, i) = c.counts(&d.findings);
                    let owner = c.owner_team().unwrap_or("").to_owned();
                    let mut search = vec![c.path.to_string(), owner.clone()];
                    search.extend(c.team.iter().cloned());
                    search.extend(c.labels.iter().map(|(k, v)| format!("{k}={v}")));
                    search.extend(c.archs.iter().cloned());
                    let drifted = cells.iter().any(|cv| {
                        cv.marks
                            .iter()
                            .any(|m| matches!(m.class, "ahead" | "behind" | "missing" | "unlisted"))
                    });
                    let Some(group) = groups.last_mut() else {
                        continue;
                    };
                    if drifted {
                        group.drift += 1;
                    }
                    group.rows.push(Row {
                        path: c.path.to_string(),
                        name: c.path.name().to_owned(),
                        href: format!("{root}{}", links::component(&c.path)),
                        search: search.join(" ").to_lowercase(),
                        latest: c
                            .latest
                            .as_ref()
                            .map(ToString::to_string)
                            .unwrap_or_default(),
                        owner,
                        errors: e,
                        warnings: w,
                        infos: i,
                        cells,
                    });
                }
                for gi in 0..groups.len() {
                    let prefix = format!("{}/", groups[gi].path);
                    groups[gi].nested_count = groups
                        .iter()
                        .filter(|x| x.path.starts_with(&prefix))
                        .count();
                }
                let first = pi * per + 1;
                let last = pi * per + chunk.len();
                let range_text = if d.components.is_empty() {
                    "no components yet".to_owned()
                } else if total_pages == 1 {
                    format!("all {} components", d.components.len())
                } else {
                    format!(
                        "components {first} to {last} of {}, page {n} of {total_pages}",
                        d.components.len()
                    )
                };
                let page = Overview {
                    l: self.layout(
                        &path,
                        if n == 1 {
                            "Overview".to_owned()
                        } else {
                            format!("Overview, page {n}")
                        },
                        "overview",
                    ),
                    n_components: d.components.len(),
                    stage_count: d.stages.len(),
                    index_problem: d.index_problem.clone(),
                    errors,
                    warnings,
                    infos,
                    drift_ahead: ahead,
                    drift_behind: behind,
                    drift_missing: missing,
                    legend: Mark::ALL
                        .iter()
                        .filter(|m| **m != Mark::NotForStage)
                        .map(|m| LegendRow {
                            marks: vec![MarkView::from(*m)],
                            explain: m.explain(),
                        })
                        .chain(std::iter::once(LegendRow {
                            marks: vec![MarkView::from(Mark::NotForStage)],
                            explain: Mark::NotForStage.explain(),
                        }))
                        .collect(),
                    pager: Pager::new(n, total_pages, |k| format!("{root}{}", links::overview(k))),
                    range_text,
                    domains,
                    ncols,
                    groups,
                };
                render(path, &page)
            })
            .collect()
    }
}
