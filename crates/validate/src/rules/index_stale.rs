use std::collections::BTreeMap;

use berth_index::IndexOptions;
use berth_model::layout::Layout;

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
        const HELP: &str = "run `berth index` and commit the result";
        let view = r.view;
        let opts = IndexOptions::from_config(view.config());
        let mut rows = Vec::new();
        let mut i = 0;
        while i < view.versions.len() {
            let c = &view.versions[i].component;
            let all = view.versions_of(c);
            let latest =
                berth_index::pick_latest(all.iter().map(|v| v.version.clone()), &opts, |v| {
                    r.is_good(c, v)
                });
            rows.push((c.clone(), latest));
            i += all.len().max(1);
        }
        let fresh = berth_index::assemble(rows);
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
        let committed: BTreeMap<_, _> = index
            .value
            .components
            .iter()
            .enumerate()
            .map(|(i, row)| (&row.name, (i, &row.latest_version)))
            .collect();
        let mut findings = 0;
        let mut unknown_rows = false;
        for row in &fresh.components {
            match committed.get(&row.name) {
                None => {
                    findings += 1;
                    sink.report(
                        Diagnostic::new(
                            &file.path,
                            format!(
                                "{} is missing; its latest good version is {}",
                                row.name, row.latest_version
                            ),
                        )
                        .at(Span::key(&index.root, &["components"]))
                        .help(HELP),
                    );
                }
                Some((_, v)) if **v == row.latest_version => {}
                Some((_, v)) if view.version(&row.name, v).is_none() => unknown_rows = true,
                Some((i, v)) => {
                    findings += 1;
                    sink.report(
                        Diagnostic::new(
                            &file.path,
                            format!(
                                "{} is at {v} here, but its latest good version is {}",
                                row.name, row.latest_version
                            ),
                        )
                        .at(Span::value(
                            &index.root,
                            &["components", &i.to_string(), "latest_version"],
                        ))
                        .help(HELP),
                    );
                }
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
            findings += 1;
            sink.report(
                Diagnostic::new(
                    &file.path,
                    format!("{name} is listed at {v}, but it has no good version"),
                )
                .at(Span::value(&index.root, &["components", &i.to_string()]))
                .help(format!(
                    "{HELP}; the component's versions all have error findings (`berth validate {name}`)"
                )),
            );
        }
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
