//! Dependency resolution: every `dependencies` entry of a version's `metadata.yaml`
//! (`common-utils >=1.2.0`) resolved to the highest existing version that matches.
//!
//! A name with a `/` is a full component path; a bare name is a component's last
//! segment and must be unique. Pre-releases match only requirements that name a
//! pre-release of the same `major.minor.patch` (SemVer's rule, as cargo applies it).
//!
//! Problems are data ([`DepProblem`]): unresolved, ambiguous, and cyclic dependencies,
//! each with the component, version, the entry's text and its index in the
//! `dependencies` list, so that `berth-validate` can point at `dependencies.<i>` of the
//! right file and report `deps/unresolved`, `deps/ambiguous` and `deps/cycle`.
//!
//! ```
//! # fn main() -> Result<(), Box<dyn std::error::Error>> {
//! # let root = concat!(env!("CARGO_MANIFEST_DIR"), "/../../examples/repo");
//! use berth_index::{DepStatus, Resolver};
//! use berth_model::{ComponentPath, Repository, Version};
//! let repo = Repository::open(root)?;
//! let resolver = Resolver::new(&repo)?;
//! let export = ComponentPath::parse("cloud/dmp/ms-export")?;
//! let edges = resolver.dependencies(&export, &Version::parse("3.2.0")?)?;
//! match &edges[0].status {
//!     DepStatus::Resolved(p) => assert_eq!(p.to_string(), "core/platform/common-utils 1.3.0"),
//!     other => panic!("{other:?}"),
//! }
//! // What a validator reports for this version: nothing.
//! assert!(resolver.problems(&export, &Version::parse("3.2.0")?)?.is_empty());
//! # Ok(()) }
//! ```

use std::collections::{BTreeSet, HashMap, HashSet};
use std::fmt;
use std::sync::{Arc, PoisonError, RwLock};

use berth_model::{Checked, ComponentPath, Dependency, Repository, Version};
use serde::Serialize;

use crate::{IndexError, Result};

/// A component at one version.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
pub struct Pinned {
    /// The component.
    pub component: ComponentPath,
    /// The version.
    pub version: Version,
}

impl fmt::Display for Pinned {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} {}", self.component, self.version)
    }
}

/// A dependency that cannot be satisfied: the validator's `deps/*` findings.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "problem", rename_all = "kebab-case")]
pub enum DepProblem {
    /// `deps/unresolved`: no such component, or no version matches the requirement.
    Unresolved {
        /// The depending component.
        component: ComponentPath,
        /// Its version.
        version: Version,
        /// Index of the entry in `dependencies`.
        index: usize,
        /// The entry as written.
        dependency: String,
        /// Why, and what exists instead.
        reason: String,
    },
    /// `deps/ambiguous`: a bare name that is the last segment of several components.
    Ambiguous {
        /// The depending component.
        component: ComponentPath,
        /// Its version.
        version: Version,
        /// Index of the entry in `dependencies`.
        index: usize,
        /// The entry as written.
        dependency: String,
        /// The components the name could mean.
        candidates: Vec<ComponentPath>,
    },
    /// `deps/cycle`: following this dependency leads back to the depending version.
    Cycle {
        /// The depending component.
        component: ComponentPath,
        /// Its version.
        version: Version,
        /// Index of the entry in `dependencies`.
        index: usize,
        /// The entry as written.
        dependency: String,
        /// The cycle, starting and ending at the depending version.
        path: Vec<Pinned>,
    },
}

impl DepProblem {
    /// The validator rule id: `deps/unresolved`, `deps/ambiguous` or `deps/cycle`.
    pub fn rule(&self) -> &'static str {
        match self {
            DepProblem::Unresolved { .. } => "deps/unresolved",
            DepProblem::Ambiguous { .. } => "deps/ambiguous",
            DepProblem::Cycle { .. } => "deps/cycle",
        }
    }
    /// The depending component.
    pub fn component(&self) -> &ComponentPath {
        match self {
            DepProblem::Unresolved { component, .. }
            | DepProblem::Ambiguous { component, .. }
            | DepProblem::Cycle { component, .. } => component,
        }
    }
    /// The depending version.
    pub fn version(&self) -> &Version {
        match self {
            DepProblem::Unresolved { version, .. }
            | DepProblem::Ambiguous { version, .. }
            | DepProblem::Cycle { version, .. } => version,
        }
    }
    /// Index of the entry in the `dependencies` list.
    pub fn index(&self) -> usize {
        match self {
            DepProblem::Unresolved { index, .. }
            | DepProblem::Ambiguous { index, .. }
            | DepProblem::Cycle { index, .. } => *index,
        }
    }
    /// The entry as written.
    pub fn dependency(&self) -> &str {
        match self {
            DepProblem::Unresolved { dependency, .. }
            | DepProblem::Ambiguous { dependency, .. }
            | DepProblem::Cycle { dependency, .. } => dependency,
        }
    }
    /// The field path in `metadata.yaml` (`["dependencies", "1"]`), for
    /// [`berth_model::Node::locate`].
    pub fn field_path(&self) -> [String; 2] {
        ["dependencies".to_owned(), self.index().to_string()]
    }
}

impl fmt::Display for DepProblem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            DepProblem::Unresolved {
                dependency, reason, ..
            } => write!(f, "dependency `{dependency}` does not resolve: {reason}"),
            DepProblem::Ambiguous {
                dependency,
                candidates,
                ..
            } => {
                let names: Vec<&str> = candidates.iter().map(ComponentPath::as_str).collect();
                write!(
                    f,
                    "dependency `{dependency}` is ambiguous: it could be {}; write the full component path",
                    names.join(" or ")
                )
            }
            DepProblem::Cycle {
                dependency, path, ..
            } => {
                let chain: Vec<String> = path.iter().map(ToString::to_string).collect();
                write!(
                    f,
                    "dependency `{dependency}` closes a cycle: {}; a component cannot depend on itself, remove one of these dependencies",
                    chain.join(" → ")
                )
            }
        }
    }
}

/// What one `dependencies` entry resolved to.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "status", rename_all = "kebab-case")]
pub enum DepStatus {
    /// The highest version that matches.
    Resolved(Pinned),
    /// It cannot be satisfied.
    Problem(DepProblem),
    /// The entry itself is not valid (the validator reports it as `schema/invalid-value`).
    Invalid {
        /// Why.
        error: String,
    },
}

/// One `dependencies` entry of a version and what it resolved to.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct DepEdge {
    /// Index in the `dependencies` list.
    pub index: usize,
    /// The entry as written.
    pub dependency: String,
    /// What it resolved to.
    pub status: DepStatus,
}

/// A node of a dependency tree.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct DepNode {
    /// The component.
    pub component: ComponentPath,
    /// Its version.
    pub version: Version,
    /// Why its dependencies could not be read, if they could not.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
    /// Its dependencies.
    pub dependencies: Vec<TreeEdge>,
}

/// An edge of a dependency tree.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct TreeEdge {
    /// The edge.
    #[serde(flatten)]
    pub edge: DepEdge,
    /// The subtree, for a resolved dependency shown here for the first time.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub node: Option<Box<DepNode>>,
    /// True when the resolved version's subtree was already shown above (cargo tree's
    /// `(*)`).
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub seen: bool,
}

/// How a name given in `dependencies` matches the repository's components.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum NameMatch {
    /// Exactly one component.
    One(ComponentPath),
    /// None; with a "did you mean" hint, possibly empty.
    None(String),
    /// Several components share this last segment.
    Many(Vec<ComponentPath>),
}

/// What one dependency resolves to, before cycles are considered.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Resolution {
    /// The highest matching version.
    Resolved(Pinned),
    /// No such component, or no matching version: why, and what exists instead.
    Unresolved(String),
    /// A bare name that is the last segment of several components.
    Ambiguous(Vec<ComponentPath>),
}

type DepsOf = Option<Vec<Checked<Dependency>>>;

/// Resolves dependencies over one repository, caching versions and metadata. `Sync`, so
/// a validator may share one across threads.
#[derive(Debug)]
pub struct Resolver<'r> {
    repo: &'r Repository,
    all: BTreeSet<ComponentPath>,
    by_last: HashMap<String, Vec<ComponentPath>>,
    versions: RwLock<HashMap<ComponentPath, Arc<Vec<Version>>>>,
    deps: RwLock<HashMap<Pinned, Arc<DepsOf>>>,
}

impl<'r> Resolver<'r> {
    /// A resolver over `repo` (lists its components once).
    pub fn new(repo: &'r Repository) -> Result<Self> {
        Ok(Self::with_components(repo, repo.components()?))
    }

    /// A resolver over `repo` whose components the caller already listed.
    pub fn with_components(
        repo: &'r Repository,
        components: impl IntoIterator<Item = ComponentPath>,
    ) -> Self {
        let all: BTreeSet<ComponentPath> = components.into_iter().collect();
        let mut by_last: HashMap<String, Vec<ComponentPath>> = HashMap::new();
        for c in &all {
            by_last
                .entry(c.name().to_owned())
                .or_default()
                .push(c.clone());
        }
        Resolver {
            repo,
            all,
            by_last,
            versions: RwLock::new(HashMap::new()),
            deps: RwLock::new(HashMap::new()),
        }
    }

    /// Tells the resolver the versions of `c` (ascending), so it does not list them.
    pub fn know_versions(&self, c: ComponentPath, versions: Vec<Version>) {
        write(&self.versions).insert(c, Arc::new(versions));
    }

    /// Tells the resolver the `dependencies` of a version (`None`: its metadata does not
    /// load), so it does not read its metadata.
    pub fn know_dependencies(&self, p: Pinned, deps: Option<Vec<Checked<Dependency>>>) {
        write(&self.deps).insert(p, Arc::new(deps));
    }

    /// Every component the resolver knows.
    pub fn components(&self) -> impl Iterator<Item = &ComponentPath> {
        self.all.iter()
    }

    /// The repository.
    pub fn repo(&self) -> &'r Repository {
        self.repo
    }

    /// Which component a dependency name means.
    pub fn find(&self, name: &str) -> NameMatch {
        if name.contains('/') {
            if let Ok(c) = ComponentPath::parse(name)
                && self.all.contains(&c)
            {
                return NameMatch::One(c);
            }
            return NameMatch::None(crate::did_you_mean(
                name,
                self.all.iter().map(ComponentPath::as_str),
            ));
        }
        match self.by_last.get(name).map(Vec::as_slice) {
            Some([one]) => NameMatch::One(one.clone()),
            Some(many) if !many.is_empty() => NameMatch::Many(many.to_vec()),
            _ => NameMatch::None(crate::did_you_mean(
                name,
                self.by_last.keys().map(String::as_str),
            )),
        }
    }

    /// The versions of a component, ascending (cached).
    pub fn versions(&self, c: &ComponentPath) -> Result<Arc<Vec<Version>>> {
        if let Some(v) = read(&self.versions).get(c) {
            return Ok(v.clone());
        }
        let v = match self.repo.versions(c) {
            Ok(v) => Arc::new(v),
            // Listed as a component, but its versions are gone: none.
            Err(berth_model::Error::NotFound { .. }) => Arc::new(Vec::new()),
            Err(e) => return Err(e.into()),
        };
        write(&self.versions).insert(c.clone(), v.clone());
        Ok(v)
    }

    /// The highest version of `c` that `req` matches.
    pub fn highest_matching(
        &self,
        c: &ComponentPath,
        req: &semver::VersionReq,
    ) -> Result<Option<Version>> {
        Ok(self
            .versions(c)?
            .iter()
            .rev()
            .find(|v| req.matches(v.semver()))
            .cloned())
    }

    /// What `dep` resolves to, with the reason when it does not (the text that
    /// [`DepProblem::Unresolved`] carries).
    pub fn resolve_detailed(&self, dep: &Dependency) -> Result<Resolution> {
        let c = match self.find(&dep.name) {
            NameMatch::One(c) => c,
            NameMatch::None(hint) => {
                return Ok(Resolution::Unresolved(format!(
                    "no component is named `{}`{hint}",
                    dep.name
                )));
            }
            NameMatch::Many(all) => return Ok(Resolution::Ambiguous(all)),
        };
        let req = dep.req();
        match self.highest_matching(&c, &req)? {
            Some(version) => Ok(Resolution::Resolved(Pinned {
                component: c,
                version,
            })),
            None => {
                let have = self.versions(&c)?;
                let reason = if have.is_empty() {
                    format!("{c} has no versions")
                } else {
                    let list: Vec<String> = have.iter().map(ToString::to_string).collect();
                    format!(
                        "no version of {c} matches `{}` (it has {})",
                        dep.req_text,
                        list.join(", ")
                    )
                };
                Ok(Resolution::Unresolved(reason))
            }
        }
    }

    /// The version a dependency resolves to, when it resolves.
    pub fn resolve(&self, dep: &Dependency) -> Result<Option<Pinned>> {
        Ok(match self.resolve_detailed(dep)? {
            Resolution::Resolved(p) => Some(p),
            _ => None,
        })
    }

    /// The `dependencies` entries of a version's metadata, `None` when it does not load.
    fn deps_of(&self, p: &Pinned) -> Arc<DepsOf> {
        if let Some(d) = read(&self.deps).get(p) {
            return d.clone();
        }
        let d = Arc::new(
            self.repo
                .metadata(&p.component, &p.version)
                .ok()
                .map(|m| m.value.dependencies),
        );
        write(&self.deps).insert(p.clone(), d.clone());
        d
    }

    /// The resolved targets of a version (unresolvable and invalid entries left out).
    fn targets(&self, p: &Pinned) -> Result<Vec<Pinned>> {
        let mut out = Vec::new();
        if let Some(deps) = self.deps_of(p).as_ref() {
            for d in deps.iter().filter_map(Checked::get) {
                if let Resolution::Resolved(t) = self.resolve_detailed(d)? {
                    out.push(t);
                }
            }
        }
        Ok(out)
    }

    /// A path from `from` back to `to` over resolved dependencies, if there is one
    /// (breadth first: the shortest cycle).
    fn path_back(&self, from: &Pinned, to: &Pinned) -> Result<Option<Vec<Pinned>>> {
        let mut parent: HashMap<Pinned, Pinned> = HashMap::new();
        let mut seen: HashSet<Pinned> = HashSet::from([from.clone()]);
        let mut queue = std::collections::VecDeque::from([from.clone()]);
        while let Some(n) = queue.pop_front() {
            if &n == to {
                let mut path = vec![n.clone()];
                let mut cur = n;
                while let Some(p) = parent.get(&cur) {
                    path.push(p.clone());
                    cur = p.clone();
                }
                path.reverse();
                return Ok(Some(path));
            }
            for t in self.targets(&n)? {
                if seen.insert(t.clone()) {
                    parent.insert(t.clone(), n.clone());
                    queue.push_back(t);
                }
            }
        }
        Ok(None)
    }

    /// Every `dependencies` entry of `component` at `version`, resolved. Fails when the
    /// version's `metadata.yaml` does not load.
    pub fn dependencies(
        &self,
        component: &ComponentPath,
        version: &Version,
    ) -> Result<Vec<DepEdge>> {
        let me = Pinned {
            component: component.clone(),
            version: version.clone(),
        };
        let deps = match self.deps_of(&me).as_ref() {
            Some(d) => d.clone(),
            // Say why it does not load.
            None => {
                self.repo.metadata(component, version)?;
                Vec::new()
            }
        };
        let mut out = Vec::new();
        for (index, checked) in deps.iter().enumerate() {
            let dependency = checked.text();
            let status = match checked {
                Checked::Invalid { error, .. } => DepStatus::Invalid {
                    error: error.clone(),
                },
                Checked::Valid(dep) => match self.resolve_detailed(dep)? {
                    Resolution::Resolved(t) => match self.path_back(&t, &me)? {
                        Some(back) => {
                            let mut path = vec![me.clone()];
                            path.extend(back);
                            DepStatus::Problem(DepProblem::Cycle {
                                component: component.clone(),
                                version: version.clone(),
                                index,
                                dependency: dependency.clone(),
                                path,
                            })
                        }
                        None => DepStatus::Resolved(t),
                    },
                    Resolution::Unresolved(reason) => DepStatus::Problem(DepProblem::Unresolved {
                        component: component.clone(),
                        version: version.clone(),
                        index,
                        dependency: dependency.clone(),
                        reason,
                    }),
                    Resolution::Ambiguous(candidates) => {
                        DepStatus::Problem(DepProblem::Ambiguous {
                            component: component.clone(),
                            version: version.clone(),
                            index,
                            dependency: dependency.clone(),
                            candidates,
                        })
                    }
                },
            };
            out.push(DepEdge {
                index,
                dependency,
                status,
            });
        }
        Ok(out)
    }

    /// The `deps/*` problems of one version, in `dependencies` order: the validator's
    /// entry point. A cycle is reported on every version that lies on it.
    pub fn problems(
        &self,
        component: &ComponentPath,
        version: &Version,
    ) -> Result<Vec<DepProblem>> {
        Ok(self
            .dependencies(component, version)?
            .into_iter()
            .filter_map(|e| match e.status {
                DepStatus::Problem(p) => Some(p),
                _ => None,
            })
            .collect())
    }

    /// The whole dependency tree of a version. A version reached twice is expanded once
    /// (later occurrences are marked `seen`); a cycle is a problem on the edge that closes
    /// it, never followed.
    pub fn tree(&self, component: &ComponentPath, version: &Version) -> Result<DepNode> {
        let root = Pinned {
            component: component.clone(),
            version: version.clone(),
        };
        let mut shown = HashSet::from([root.clone()]);
        let mut on_path = vec![root.clone()];
        let dependencies = self.dependencies(component, version)?;
        self.grow(root, Ok(dependencies), &mut on_path, &mut shown)
    }

    fn grow(
        &self,
        at: Pinned,
        edges: Result<Vec<DepEdge>>,
        on_path: &mut Vec<Pinned>,
        shown: &mut HashSet<Pinned>,
    ) -> Result<DepNode> {
        let (edges, error) = match edges {
            Ok(e) => (e, None),
            Err(IndexError::Repo(e)) => (Vec::new(), Some(e.to_string())),
            Err(e) => return Err(e),
        };
        let mut dependencies = Vec::new();
        for edge in edges {
            let (node, seen) = match &edge.status {
                DepStatus::Resolved(t) if on_path.contains(t) || shown.contains(t) => {
                    // `(*)` only where a subtree is left out, as cargo tree does.
                    let has_deps = self
                        .deps_of(t)
                        .as_ref()
                        .as_ref()
                        .is_some_and(|d| !d.is_empty());
                    (None, has_deps)
                }
                DepStatus::Resolved(t) => {
                    shown.insert(t.clone());
                    on_path.push(t.clone());
                    let sub = self.dependencies(&t.component, &t.version);
                    let node = self.grow(t.clone(), sub, on_path, shown)?;
                    on_path.pop();
                    (Some(Box::new(node)), false)
                }
                _ => (None, false),
            };
            dependencies.push(TreeEdge { edge, node, seen });
        }
        Ok(DepNode {
            component: at.component,
            version: at.version,
            error,
            dependencies,
        })
    }
}

// A panic while holding a cache lock leaves a usable cache: recover it.
fn read<T>(m: &RwLock<T>) -> std::sync::RwLockReadGuard<'_, T> {
    m.read().unwrap_or_else(PoisonError::into_inner)
}

fn write<T>(m: &RwLock<T>) -> std::sync::RwLockWriteGuard<'_, T> {
    m.write().unwrap_or_else(PoisonError::into_inner)
}

impl DepNode {
    /// Every problem in the tree, depth first.
    pub fn problems(&self) -> Vec<&DepProblem> {
        let mut out = Vec::new();
        let mut stack = vec![self];
        while let Some(n) = stack.pop() {
            for e in n.dependencies.iter().rev() {
                if let Some(sub) = &e.node {
                    stack.push(sub);
                }
            }
            for e in &n.dependencies {
                if let DepStatus::Problem(p) = &e.edge.status {
                    out.push(p);
                }
            }
        }
        out
    }
}
