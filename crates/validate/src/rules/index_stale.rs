use std::collections::BTreeMap;

use berth_index::IndexOptions;
use berth_model::ComponentsIndex;
use berth_model::layout::Layout;
use berth_model::yaml::Loaded;
use camino::Utf8Path;

use crate::declare_rule;
use crate::diagnostic::{Diagnostic, Span};
use crate::rule::{RepoCx, Rule, RuleInfo, Sink};

declare_rule! {
    /// ## What it checks
    /// `index/components.yaml` is exactly what `berth index` would write now: for every
    /// component, the highest SemVer version without an error finding (pre-releases only
    /// when `latest_includes_prereleases`), sorted, in canonical form. Rows that name a
    /// missing component or version are left to `index/unknown-component` and
    /// `index/unknown-version`.
    ///
    /// ## Why it matters
    /// Deploy jobs trust the index; a stale one deploys an old version, or a version that
    /// has since been found broken.
    ///
    /// ## Example
    /// ```yaml
    /// components:
    ///   - name: cloud/dmp/ms-ingestion
    ///     latest_version: 1.0.2          # 1.0.3 exists and is good
    /// ```
    ///
    /// ## How to fix
    /// Run `berth index` and commit the result (the `berth-index` pre-commit hook does
    /// it for you).
    pub struct IndexStale => berth_model::Code::IndexStale, Error;
}

impl Rule for IndexStale {
    fn info(&self) -> &'static RuleInfo {
        &Self::INFO
    }

    fn late(&self) -> bool {
        true
    }

    fn check_repository(&self, r: &RepoCx<'_>, sink: &mut Sink<'_>) {
        let view = r.view;
        let fresh = fresh_index(r);
        let Some(file) = &view.components_index else {
            sink.report(
                Diagnostic::new(
                    Layout::components_index(),
                    "index/components.yaml does not exist",
                )
                .help(HELP),
            );
            return;
        };
        let Some(index) = file.loaded() else { return };
        let (findings, unknown_rows) = compare(r, &fresh, &file.path, index, sink);
        if findings == 0 && !unknown_rows {
            let generated = berth_index::render(&fresh).unwrap_or_default();
            let bytes = view.repo().read_bytes(&file.path).unwrap_or_default();
            if bytes != generated.as_bytes() {
                sink.report(
                    Diagnostic::new(
                        &file.path,
                        "the index is not in canonical form (order, quoting or layout differ from what `berth index` writes)",
                    )
                    .help(HELP),
                );
            }
        }
    }
}

const HELP: &str = "run `berth index` and commit the result";

/// The index `berth index` would write now.
fn fresh_index(r: &RepoCx<'_>) -> ComponentsIndex {
    let view = r.view;
    let opts = IndexOptions::from_config(view.config());
    let mut rows = Vec::new();
    let mut i = 0;
    while i < view.versions.len() {
        let c = &view.versions[i].component;
        let all = view.versions_of(c);
        let latest = berth_index::pick_latest(all.iter().map(|v| v.version.clone()), &opts, |v| {
            r.is_good(c, v)
        });
        rows.push((c.clone(), latest));
        i += all.len().max(1);
    }
    berth_index::assemble(rows)
}

/// Reports every row of the committed index that differs from `fresh`. Returns how many
/// findings, and whether a row names a component or version the tree does not have (then
/// the canonical-form check is moot).
fn compare(
    r: &RepoCx<'_>,
    fresh: &ComponentsIndex,
    path: &Utf8Path,
    index: &Loaded<ComponentsIndex>,
    sink: &mut Sink<'_>,
) -> (usize, bool) {
    let view = r.view;
    let committed: BTreeMap<_, _> = index
        .value
        .components
        .iter()
        .enumerate()
        .map(|(i, row)| (&row.name, (i, &row.latest_version)))
        .collect();
    let mut findings = 0;
    let mut unknown_rows = false;
    let mut report = |message: String, span: Span, help: String| {
        findings += 1;
        sink.report(Diagnostic::new(path, message).at(span).help(help));
    };
    for row in &fresh.components {
        match committed.get(&row.name) {
            None => report(
                format!(
                    "{} is missing; its latest good version is {}",
                    row.name, row.latest_version
                ),
                Span::key(&index.root, &["components"]),
                HELP.into(),
            ),
            Some((_, v)) if **v == row.latest_version => {}
            Some((_, v)) if view.version(&row.name, v).is_none() => unknown_rows = true,
            Some((i, v)) => report(
                format!(
                    "{} is at {v} here, but its latest good version is {}",
                    row.name, row.latest_version
                ),
                Span::value(
                    &index.root,
                    &["components", &i.to_string(), "latest_version"],
                ),
                HELP.into(),
            ),
        }
    }
    for (name, (i, v)) in &committed {
        if fresh.latest(name.as_str()).is_some() {
            continue;
        }
        if !view.has_component(name) || view.version(name, v).is_none() {
            unknown_rows = true;
            continue;
        }
        report(
            format!("{name} is listed at {v}, but it has no good version"),
            Span::value(&index.root, &["components", &i.to_string()]),
            format!(
                "{HELP}; the component's versions all have error findings (`berth validate {name}`)"
            ),
        );
    }
    (findings, unknown_rows)
}
