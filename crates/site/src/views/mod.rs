//! Page models: typed data for each template, built from [`Data`], and the rendering of
//! every page. Templates (askama, compiled and checked with the crate) do all the HTML
//! and all the escaping; this module never writes markup.

mod component;
mod findings;
mod overview;
mod search;
mod stage;

use std::collections::{BTreeMap, HashMap};

use askama::Template;
use berth_model::{ComponentPath, Severity, Version};
use camino::Utf8PathBuf;
use rayon::prelude::*;

use crate::collect::{Comp, Data, Finding};
use crate::drift::{Cell, CellInput, Mark};
use crate::{Options, Page, Result, SiteError, links};

/// What every page's frame (`base.html`) needs.
pub(crate) struct Layout {
    /// The prefix from this page back to the site root (`../../`).
    pub root: String,
    pub title: String,
    pub canonical: Option<String>,
    /// Which top-level navigation entry is this page (`overview`, `findings`, `search`).
    pub nav: &'static str,
    pub repo: String,
    pub version: &'static str,
}

/// A mark with its words.
pub(crate) struct MarkView {
    pub class: &'static str,
    pub label: &'static str,
    pub short: &'static str,
}

impl From<Mark> for MarkView {
    fn from(m: Mark) -> Self {
        MarkView {
            class: m.class(),
            label: m.label(),
            short: match m {
                Mark::Current => "current",
                Mark::Ahead => "ahead",
                Mark::Behind => "behind",
                Mark::Unlisted => "unlisted",
                Mark::Missing => "missing",
                Mark::NotForStage | Mark::NotInDomain => "n/a",
            },
        }
    }
}

/// One cell of a matrix or stage table.
pub(crate) struct CellView {
    /// `domain/env`.
    pub stage: String,
    /// The version the stage runs, or empty.
    pub version: String,
    /// The CSS class that colours the cell (its most important mark).
    pub class: &'static str,
    pub marks: Vec<MarkView>,
}

impl CellView {
    fn new(stage: String, cell: &Cell) -> Self {
        let marks = cell.marks();
        let class = marks
            .iter()
            .find(|m| m.is_drift())
            .or(marks.first())
            .map_or("na", |m| m.class());
        CellView {
            stage,
            version: cell.version().map(ToString::to_string).unwrap_or_default(),
            class,
            marks: marks.into_iter().map(MarkView::from).collect(),
        }
    }
}

/// Page navigation of a paginated list.
pub(crate) struct Pager {
    pub current: usize,
    pub total: usize,
    pub prev: Option<String>,
    pub next: Option<String>,
    pub links: Vec<PageLink>,
}

/// One numbered link of a [`Pager`].
pub(crate) struct PageLink {
    pub n: usize,
    pub href: String,
    pub current: bool,
}

impl Pager {
    /// Page `current` of `total`; `href(n)` is the link to page `n` from this page.
    fn new(current: usize, total: usize, href: impl Fn(usize) -> String) -> Self {
        // The first, the last, and three either side of the current page.
        let links = (1..=total)
            .filter(|&n| n == 1 || n == total || n.abs_diff(current) <= 3)
            .map(|n| PageLink {
                n,
                href: href(n),
                current: n == current,
            })
            .collect();
        Pager {
            current,
            total,
            prev: (current > 1).then(|| href(current - 1)),
            next: (current < total).then(|| href(current + 1)),
            links,
        }
    }
}

/// A finding as a table row or list item.
pub(crate) struct FindingRow {
    /// `error`, `warn` or `info`: the CSS class and icon.
    pub severity: &'static str,
    /// `error`, `warning` or `info`: the words.
    pub severity_label: &'static str,
    pub rule: String,
    pub rule_href: String,
    /// The `id` of the rule's documentation on a component page.
    pub rule_anchor: String,
    pub component: String,
    pub component_href: Option<String>,
    pub version: String,
    pub team: String,
    pub location: String,
    pub message: String,
    pub help: Option<String>,
}

/// The choices of a findings table's client-side filter.
#[derive(Default)]
pub(crate) struct Filters {
    pub show: bool,
    pub rules: Vec<String>,
    pub severities: Vec<&'static str>,
    pub teams: Vec<String>,
}

impl Filters {
    fn of(rows: &[FindingRow]) -> Self {
        let mut rules: Vec<String> = rows.iter().map(|r| r.rule.clone()).collect();
        rules.sort();
        rules.dedup();
        let mut severities: Vec<&'static str> = rows.iter().map(|r| r.severity_label).collect();
        severities.sort_by_key(|s| match *s {
            "error" => 0,
            "warning" => 1,
            _ => 2,
        });
        severities.dedup();
        let mut teams: Vec<String> = rows.iter().map(|r| r.team.clone()).collect();
        teams.sort();
        teams.dedup();
        Filters {
            show: rows.len() > 1,
            rules,
            severities,
            teams,
        }
    }
}

pub(crate) fn severity_words(s: Severity) -> (&'static str, &'static str) {
    match s {
        Severity::Error => ("error", "error"),
        Severity::Warn => ("warn", "warning"),
        _ => ("info", "info"),
    }
}

/// The team shown for a finding that belongs to no component.
pub(crate) const NO_TEAM: &str = "(no team)";

/// Renders every page of the site.
pub(crate) struct Renderer<'a> {
    pub data: &'a Data,
    pub opts: &'a Options,
    pub repo_name: String,
    pub comp_index: HashMap<&'a ComponentPath, usize>,
    /// What each stage (by index into `data.stages`) runs, when its file loads.
    pub runs: Vec<Option<&'a BTreeMap<ComponentPath, Version>>>,
}

impl<'a> Renderer<'a> {
    pub(crate) fn new(data: &'a Data, opts: &'a Options, repo_name: String) -> Self {
        Renderer {
            comp_index: data
                .components
                .iter()
                .enumerate()
                .map(|(i, c)| (&c.path, i))
                .collect(),
            runs: data.stages.iter().map(|s| s.runs.as_ref().ok()).collect(),
            data,
            opts,
            repo_name,
        }
    }

    fn layout(&self, page: &str, title: impl Into<String>, nav: &'static str) -> Layout {
        Layout {
            root: links::root_of(page),
            title: title.into(),
            canonical: self
                .opts
                .base_url
                .as_ref()
                .map(|b| format!("{}/{page}", b.trim_end_matches('/'))),
            nav,
            repo: self.repo_name.clone(),
            version: env!("CARGO_PKG_VERSION"),
        }
    }

    /// The stage index of `domain/env`.
    fn stage_index(&self, s: &berth_model::Stage) -> Option<usize> {
        self.data.stages.iter().position(|x| &x.stage == s)
    }

    /// The matrix cell of `comp` in stage `si`.
    pub(crate) fn cell(&self, comp: &Comp, si: usize) -> Cell {
        let st = &self.data.stages[si];
        let runs = self.runs[si].and_then(|m| m.get(&comp.path));
        let next = st.next.as_ref().and_then(|n| {
            if !comp.envs.contains(&n.env) {
                return None;
            }
            let ni = self.stage_index(n)?;
            // A next stage whose file does not load says nothing.
            self.runs[ni].map(|m| m.get(&comp.path))
        });
        Cell::compute(&CellInput {
            domain_listed: comp.domains.contains(&st.stage.domain),
            env_listed: comp.envs.contains(&st.stage.env),
            runs,
            next,
            latest: comp.latest.as_ref(),
        })
    }

    fn cell_view(&self, comp: &Comp, si: usize) -> CellView {
        CellView::new(self.data.stages[si].stage.to_string(), &self.cell(comp, si))
    }

    fn finding_row(&self, f: &Finding, root: &str) -> FindingRow {
        let (severity, severity_label) = severity_words(f.d.severity);
        let location = match f.d.span {
            Some(s) => format!("{}:{}:{}", f.d.file, s.line, s.col),
            None => f.d.file.to_string(),
        };
        FindingRow {
            severity,
            severity_label,
            rule: f.d.rule.to_owned(),
            rule_href: format!("{root}{}", links::facet("rule", f.d.rule, 1)),
            rule_anchor: format!("rule-{}", links::slug(f.d.rule)),
            component: f
                .component
                .as_ref()
                .map_or_else(|| "—".to_owned(), ToString::to_string),
            component_href: f
                .component
                .as_ref()
                .map(|c| format!("{root}{}", links::component(c))),
            version: f
                .version
                .as_ref()
                .map(ToString::to_string)
                .unwrap_or_default(),
            team: f.team.clone().unwrap_or_else(|| NO_TEAM.to_owned()),
            location,
            message: f.d.message.clone(),
            help: f.d.help.clone(),
        }
    }

    /// Every page, sorted by path.
    pub(crate) fn pages(&self) -> Result<Vec<Page>> {
        let ((components, overview), (stages, (findings, search))) = rayon::join(
            || {
                rayon::join(
                    || {
                        self.data
                            .components
                            .par_iter()
                            .map(|c| self.component_page(c))
                            .collect::<Result<Vec<Page>>>()
                    },
                    || self.overview_pages(),
                )
            },
            || {
                rayon::join(
                    || self.stage_pages(),
                    || rayon::join(|| self.findings_pages(), || self.search_pages()),
                )
            },
        );
        let mut pages = components?;
        pages.extend(overview?);
        pages.extend(stages?);
        pages.extend(findings?);
        pages.extend(search?);
        pages.push(Page {
            path: links::CSS.to_owned(),
            bytes: include_bytes!("../../assets/site.css").to_vec(),
        });
        pages.push(Page {
            path: links::JS.to_owned(),
            bytes: include_bytes!("../../assets/site.js").to_vec(),
        });
        pages.sort_by(|a, b| a.path.cmp(&b.path));
        Ok(pages)
    }
}

/// Renders `t` as the page at `path`.
pub(crate) fn render<T: Template>(path: String, t: &T) -> Result<Page> {
    match t.render() {
        Ok(s) => Ok(Page {
            path,
            bytes: s.into_bytes(),
        }),
        Err(source) => Err(SiteError::Render {
            page: Utf8PathBuf::from(path),
            source,
        }),
    }
}

/// `n` bytes for people: `512 B`, `3.4 KiB`, `1.2 MiB`.
pub(crate) fn human_size(n: u64) -> String {
    const UNITS: [&str; 4] = ["KiB", "MiB", "GiB", "TiB"];
    if n < 1024 {
        return format!("{n} B");
    }
    let mut v = n as f64 / 1024.0;
    let mut u = 0;
    while v >= 1024.0 && u + 1 < UNITS.len() {
        v /= 1024.0;
        u += 1;
    }
    format!("{v:.1} {}", UNITS[u])
}

/// True for links a page may carry: `http://` and `https://` only (never `javascript:`).
pub(crate) fn is_web_link(s: &str) -> bool {
    s.starts_with("https://") || s.starts_with("http://")
}

/// A list joined for people.
pub(crate) fn join<T: ToString>(items: impl IntoIterator<Item = T>) -> String {
    items
        .into_iter()
        .map(|x| x.to_string())
        .collect::<Vec<_>>()
        .join(", ")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sizes_and_links() {
        assert_eq!(human_size(10), "10 B");
        assert_eq!(human_size(2048), "2.0 KiB");
        assert_eq!(human_size(3 << 20), "3.0 MiB");
        assert!(is_web_link("https://gitlab.com/x"));
        assert!(!is_web_link("javascript:alert(1)"));
    }

    #[test]
    fn pagers_show_a_window() {
        let p = Pager::new(10, 50, |n| format!("p{n}.html"));
        let ns: Vec<usize> = p.links.iter().map(|l| l.n).collect();
        assert_eq!(ns, vec![1, 7, 8, 9, 10, 11, 12, 13, 50]);
        assert_eq!(p.prev.as_deref(), Some("p9.html"));
        assert_eq!(p.next.as_deref(), Some("p11.html"));
        let single = Pager::new(1, 1, |n| n.to_string());
        assert!(single.prev.is_none() && single.next.is_none());
    }
}
