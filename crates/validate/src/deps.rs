//! Dependency analysis for the `deps/*` rules, over metadata already loaded: names are
//! resolved with berth-index's [`Resolver`] (the same answer `berth deps` gives), and
//! cycles are found once for the whole repository (strongly connected components), so the
//! cost stays linear in the number of versions.

use std::collections::{HashMap, VecDeque};

use berth_index::{DepProblem, NameMatch, Pinned, Resolver};
use berth_model::{Checked, Dependency};
use rayon::prelude::*;

use crate::view::RepoView;

enum Resolution {
    To(usize),
    Problem(DepProblem),
}

/// Every dependency problem of every version, in version order then list order.
pub(crate) fn analyse(view: &RepoView<'_>) -> Vec<DepProblem> {
    let any = view.versions.iter().any(|v| {
        v.metadata()
            .is_some_and(|(_, m)| !m.value.dependencies.is_empty())
    });
    if !any {
        return Vec::new();
    }
    let Ok(resolver) = Resolver::new(view.repo) else {
        return Vec::new();
    };
    // Resolve every entry (parallel over versions).
    let resolved: Vec<Vec<(usize, String, Resolution)>> = view
        .versions
        .par_iter()
        .map(|v| {
            let Some((_, m)) = v.metadata() else {
                return Vec::new();
            };
            m.value
                .dependencies
                .iter()
                .enumerate()
                .filter_map(|(index, d)| match d {
                    Checked::Valid(dep) => Some((index, d.text(), resolve(view, &resolver, dep))),
                    Checked::Invalid { .. } => None,
                })
                .map(|(index, text, r)| {
                    let r = match r {
                        Ok(to) => Resolution::To(to),
                        Err(Problem::Unresolved(reason)) => {
                            Resolution::Problem(DepProblem::Unresolved {
                                component: v.component.clone(),
                                version: v.version.clone(),
                                index,
                                dependency: text.clone(),
                                reason,
                            })
                        }
                        Err(Problem::Ambiguous(candidates)) => {
                            Resolution::Problem(DepProblem::Ambiguous {
                                component: v.component.clone(),
                                version: v.version.clone(),
                                index,
                                dependency: text.clone(),
                                candidates,
                            })
                        }
                    };
                    (index, text, r)
                })
                .collect()
        })
        .collect();
    let graph: Vec<Vec<usize>> = resolved
        .iter()
        .map(|edges| {
            edges
                .iter()
                .filter_map(|(_, _, r)| match r {
                    Resolution::To(t) => Some(*t),
                    Resolution::Problem(_) => None,
                })
                .collect()
        })
        .collect();
    let scc = strongly_connected(&graph);
    let pin = |i: usize| Pinned {
        component: view.versions[i].component.clone(),
        version: view.versions[i].version.clone(),
    };
    let mut out = Vec::new();
    for (from, edges) in resolved.into_iter().enumerate() {
        for (index, dependency, r) in edges {
            match r {
                Resolution::Problem(p) => out.push(p),
                Resolution::To(to) if scc[to] == scc[from] => {
                    let mut path = vec![pin(from)];
                    path.extend(path_back(&graph, to, from).into_iter().map(pin));
                    out.push(DepProblem::Cycle {
                        component: view.versions[from].component.clone(),
                        version: view.versions[from].version.clone(),
                        index,
                        dependency,
                        path,
                    });
                }
                Resolution::To(_) => {}
            }
        }
    }
    out
}

enum Problem {
    Unresolved(String),
    Ambiguous(Vec<berth_model::ComponentPath>),
}

/// The index (in `view.versions`) of the version a dependency resolves to.
fn resolve(
    view: &RepoView<'_>,
    resolver: &Resolver<'_>,
    dep: &Dependency,
) -> Result<usize, Problem> {
    let c = match resolver.find(&dep.name) {
        NameMatch::One(c) => c,
        NameMatch::None(hint) => {
            return Err(Problem::Unresolved(format!(
                "no component is named `{}`{hint}",
                dep.name
            )));
        }
        NameMatch::Many(all) => return Err(Problem::Ambiguous(all)),
    };
    let versions = view.versions_of(&c);
    let req = dep.req();
    match versions
        .iter()
        .rev()
        .find(|v| req.matches(v.version.semver()))
    {
        Some(v) => view
            .version_index(&v.component, &v.version)
            .ok_or_else(|| Problem::Unresolved(format!("{c} has no versions"))),
        None if versions.is_empty() => Err(Problem::Unresolved(format!("{c} has no versions"))),
        None => {
            let list: Vec<String> = versions.iter().map(|v| v.version.to_string()).collect();
            Err(Problem::Unresolved(format!(
                "no version of {c} matches `{}` (it has {})",
                dep.req_text,
                list.join(", ")
            )))
        }
    }
}

/// Tarjan's algorithm, iterative: the component id of every node. A node with a
/// self-loop is in a cycle too (handled by the caller comparing ids of both ends).
fn strongly_connected(graph: &[Vec<usize>]) -> Vec<usize> {
    let n = graph.len();
    let mut index = vec![usize::MAX; n];
    let mut low = vec![0; n];
    let mut on_stack = vec![false; n];
    let mut comp = vec![usize::MAX; n];
    let mut stack = Vec::new();
    let mut next = 0;
    let mut comps = 0;
    for start in 0..n {
        if index[start] != usize::MAX {
            continue;
        }
        let mut work: Vec<(usize, usize)> = vec![(start, 0)];
        index[start] = next;
        low[start] = next;
        next += 1;
        stack.push(start);
        on_stack[start] = true;
        while let Some(&mut (v, ref mut i)) = work.last_mut() {
            if let Some(&w) = graph[v].get(*i) {
                *i += 1;
                if index[w] == usize::MAX {
                    index[w] = next;
                    low[w] = next;
                    next += 1;
                    stack.push(w);
                    on_stack[w] = true;
                    work.push((w, 0));
                } else if on_stack[w] {
                    low[v] = low[v].min(index[w]);
                }
            } else {
                work.pop();
                if let Some(&(parent, _)) = work.last() {
                    low[parent] = low[parent].min(low[v]);
                }
                if low[v] == index[v] {
                    while let Some(w) = stack.pop() {
                        on_stack[w] = false;
                        comp[w] = comps;
                        if w == v {
                            break;
                        }
                    }
                    comps += 1;
                }
            }
        }
    }
    comp
}

/// The shortest path from `from` to `to` (both included), breadth first.
fn path_back(graph: &[Vec<usize>], from: usize, to: usize) -> Vec<usize> {
    let mut parent: HashMap<usize, usize> = HashMap::new();
    let mut queue = VecDeque::from([from]);
    let mut seen = std::collections::HashSet::from([from]);
    while let Some(n) = queue.pop_front() {
        if n == to {
            let mut path = vec![n];
            let mut cur = n;
            while let Some(&p) = parent.get(&cur) {
                path.push(p);
                cur = p;
            }
            path.reverse();
            return path;
        }
        for &t in &graph[n] {
            if seen.insert(t) {
                parent.insert(t, n);
                queue.push_back(t);
            }
        }
    }
    vec![from, to]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cycles_and_self_loops() {
        // 0 -> 1 -> 2 -> 0, 3 -> 3, 4 -> 0
        let g = vec![vec![1], vec![2], vec![0], vec![3], vec![0]];
        let c = strongly_connected(&g);
        assert_eq!(c[0], c[1]);
        assert_eq!(c[1], c[2]);
        assert_ne!(c[4], c[0]);
        assert_eq!(path_back(&g, 1, 0), vec![1, 2, 0]);
        assert_eq!(path_back(&g, 3, 3), vec![3]);
    }
}
