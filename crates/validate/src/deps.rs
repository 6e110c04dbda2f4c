//! Dependency problems for the `deps/*` rules, with berth-index's [`Resolver`]: the same
//! resolution (and the same cycle finder) that `berth deps`, the promotion gates and a
//! single version's verdict use. For a whole run the resolver is told every component,
//! every version list and every version's `dependencies` from the summaries, so nothing is
//! read twice.

use berth_index::{DepProblem, Pinned, Resolver};
use rayon::prelude::*;

use crate::view::RepoView;

/// A resolver over the view's summaries.
pub(crate) fn resolver<'r>(view: &RepoView<'r>) -> Resolver<'r> {
    let mut components = Vec::new();
    for v in &view.versions {
        if components.last() != Some(&v.component) {
            components.push(v.component.clone());
        }
    }
    let resolver = Resolver::with_components(view.repo(), components.iter().cloned());
    for c in components {
        let versions = view
            .versions_of(&c)
            .iter()
            .map(|v| v.version.clone())
            .collect();
        resolver.know_versions(c, versions);
    }
    for v in &view.versions {
        resolver.know_dependencies(
            Pinned {
                component: v.component.clone(),
                version: v.version.clone(),
            },
            v.metadata().map(|m| m.dependencies()),
        );
    }
    resolver
}

/// Every dependency problem of every version, in version order then list order.
pub(crate) fn analyse(view: &RepoView<'_>) -> Vec<DepProblem> {
    let any = view
        .versions
        .iter()
        .any(|v| v.metadata().is_some_and(|m| !m.deps.is_empty()));
    if !any {
        return Vec::new();
    }
    let resolver = resolver(view);
    view.versions
        .par_iter()
        .filter(|v| v.metadata().is_some_and(|m| !m.deps.is_empty()))
        .flat_map_iter(|v| {
            resolver
                .problems(&v.component, &v.version)
                .unwrap_or_default()
        })
        .collect()
}
