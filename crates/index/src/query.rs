//! Queries over metadata: filters combined with AND, over the latest version of each
//! component (or every version).
//!
//! ```
//! # fn main() -> Result<(), Box<dyn std::error::Error>> {
//! # let root = concat!(env!("CARGO_MANIFEST_DIR"), "/../../examples/repo");
//! use berth_index::{DependsOn, Query, Resolver, query};
//! use berth_model::Repository;
//! let repo = Repository::open(root)?;
//! let index = repo.components_index()?.map(|l| l.value).unwrap_or_default();
//!
//! // Which services does ingestion-platform own in cloud prod?
//! let q = Query {
//!     team: Some("ingestion-platform".into()),
//!     domain: Some("cloud".parse()?),
//!     env: Some("prod".parse()?),
//!     ..Query::default()
//! };
//! let hits = query(&repo, &index, &q)?.hits;
//! assert_eq!(hits.len(), 1);
//! assert_eq!(hits[0].component.as_str(), "cloud/dmp/ms-ingestion");
//!
//! // Who uses common-utils >=1.2?
//! let resolver = Resolver::new(&repo)?;
//! let q = Query {
//!     depends_on: Some(DependsOn::parse(&resolver, "common-utils >=1.2")?),
//!     ..Query::default()
//! };
//! assert_eq!(query(&repo, &index, &q)?.hits.len(), 4);
//! # Ok(()) }
//! ```

use std::collections::{BTreeMap, HashMap};

use berth_model::{
    Arch, ComponentPath, ComponentsIndex, Dependency, DomainName, EnvName, Metadata, Repository,
    Version,
};
use rayon::prelude::*;
use serde::Serialize;

use crate::deps::{NameMatch, Resolver};
use crate::{IndexError, Result};

/// `--depends-on C[ REQ]`: versions with a dependency on component C whose requirement
/// admits at least one existing version of C inside REQ ("who uses common-utils >=1.2":
/// who could be running a common-utils in that range).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DependsOn {
    /// The component depended on.
    pub component: ComponentPath,
    /// The range asked about; `None` for any.
    pub req: Option<semver::VersionReq>,
    /// The versions of `component` inside `req`.
    pub in_range: Vec<Version>,
}

impl DependsOn {
    /// Parses `C[ REQ]` (as written in `dependencies`) and resolves C.
    pub fn parse(resolver: &Resolver<'_>, text: &str) -> Result<Self> {
        let dep: Dependency = text.parse().map_err(IndexError::BadQuery)?;
        let component = match resolver.find(&dep.name) {
            NameMatch::One(c) => c,
            NameMatch::None(hint) => {
                return Err(IndexError::UnknownComponent {
                    name: dep.name,
                    file: berth_model::layout::COMPONENTS_DIR.into(),
                    hint,
                });
            }
            NameMatch::Many(all) => {
                return Err(IndexError::AmbiguousComponent {
                    name: dep.name,
                    candidates: all.iter().map(ToString::to_string).collect(),
                });
            }
        };
        let req = (!dep.req_text.is_empty()).then(|| dep.req());
        let in_range = resolver
            .versions(&component)?
            .iter()
            .filter(|v| req.as_ref().is_none_or(|r| r.matches(v.semver())))
            .cloned()
            .collect();
        Ok(DependsOn {
            component,
            req,
            in_range,
        })
    }
}

/// Filters, combined with AND. The default matches everything.
#[derive(Debug, Clone, Default)]
pub struct Query {
    /// Built by this team (`team` in metadata.yaml) or owned by it (`owner_team` in the
    /// nearest ownership.yaml).
    pub team: Option<String>,
    /// Lists this domain.
    pub domain: Option<DomainName>,
    /// Lists this environment.
    pub env: Option<EnvName>,
    /// Runs on this architecture (`all` fits every one).
    pub arch: Option<Arch>,
    /// Carries every one of these `labels` (key, value).
    pub labels: Vec<(String, String)>,
    /// Depends on this component, within this range.
    pub depends_on: Option<DependsOn>,
    /// Every version, not only the latest of each component.
    pub all_versions: bool,
}

/// One version that matched.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Hit {
    /// The component.
    pub component: ComponentPath,
    /// The version.
    pub version: Version,
    /// True when it is the component's latest (per the index given).
    pub latest: bool,
    /// `team` from metadata.yaml.
    pub team: String,
    /// `owner_team` of the nearest ownership.yaml.
    pub owner_team: Option<String>,
    /// Architectures.
    pub architecture: Vec<String>,
    /// Domains.
    pub domains: Vec<String>,
    /// Environments.
    pub environments: Vec<String>,
    /// Free labels.
    #[serde(skip_serializing_if = "BTreeMap::is_empty")]
    pub labels: BTreeMap<String, String>,
    /// Dependencies as written.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub dependencies: Vec<String>,
}

/// The answer to a query.
#[derive(Debug, Clone, Default, Serialize)]
pub struct QueryResult {
    /// The matching versions, sorted by component then version.
    pub hits: Vec<Hit>,
    /// Versions left out because their metadata.yaml does not load (with the error).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub unreadable: Vec<String>,
}

/// Runs `q` over `repo`. Without `all_versions` it looks at the version `index` names as
/// latest for each component (components without a latest version are left out).
pub fn query(repo: &Repository, index: &ComponentsIndex, q: &Query) -> Result<QueryResult> {
    let latest: HashMap<&ComponentPath, &Version> = index
        .components
        .iter()
        .map(|e| (&e.name, &e.latest_version))
        .collect();
    let mut candidates: Vec<(ComponentPath, Version)> = Vec::new();
    if q.all_versions {
        for c in repo.components()? {
            for v in repo.versions(&c)? {
                candidates.push((c.clone(), v));
            }
        }
    } else {
        candidates.extend(
            index
                .components
                .iter()
                .map(|e| (e.name.clone(), e.latest_version.clone())),
        );
    }
    // Owners, once per component (only the team is needed).
    let mut owners: HashMap<ComponentPath, Option<String>> = HashMap::new();
    for (c, _) in &candidates {
        if !owners.contains_key(c) {
            let o = repo.owner(c)?.map(|o| o.ownership.value.owner_team);
            owners.insert(c.clone(), o);
        }
    }
    let resolver = match &q.depends_on {
        Some(_) => Some(Resolver::new(repo)?),
        None => None,
    };
    let outcomes: Vec<Result<Option<Hit>, String>> = candidates
        .par_iter()
        .map(|(c, v)| {
            let meta = repo.metadata(c, v).map_err(|e| e.to_string())?.value;
            let owner = owners.get(c).cloned().flatten();
            if !matches(&meta, owner.as_deref(), q, resolver.as_ref()) {
                return Ok(None);
            }
            Ok(Some(hit(c, v, latest.get(c) == Some(&v), owner, meta)))
        })
        .collect();
    let mut out = QueryResult::default();
    for o in outcomes {
        match o {
            Ok(Some(h)) => out.hits.push(h),
            Ok(None) => {}
            Err(e) => out.unreadable.push(e),
        }
    }
    out.hits
        .sort_by(|a, b| (&a.component, &a.version).cmp(&(&b.component, &b.version)));
    Ok(out)
}

fn matches(m: &Metadata, owner: Option<&str>, q: &Query, resolver: Option<&Resolver<'_>>) -> bool {
    if let Some(t) = &q.team
        && m.team != *t
        && owner != Some(t.as_str())
    {
        return false;
    }
    if let Some(d) = &q.domain
        && !m.domain_names().any(|x| x == d)
    {
        return false;
    }
    if let Some(e) = &q.env
        && !m.env_names().any(|x| x == e)
    {
        return false;
    }
    if let Some(a) = &q.arch
        && !m.architecture.archs().iter().any(|x| x.fits(a))
    {
        return false;
    }
    if !q
        .labels
        .iter()
        .all(|(k, v)| m.labels.get(k).is_some_and(|x| x == v))
    {
        return false;
    }
    if let (Some(d), Some(r)) = (&q.depends_on, resolver) {
        return m.deps().any(|dep| {
            matches!(r.find(&dep.name), NameMatch::One(c) if c == d.component)
                && d.in_range.iter().any(|v| dep.req().matches(v.semver()))
        });
    }
    true
}

fn hit(
    c: &ComponentPath,
    v: &Version,
    latest: bool,
    owner_team: Option<String>,
    m: Metadata,
) -> Hit {
    Hit {
        component: c.clone(),
        version: v.clone(),
        latest,
        team: m.team.clone(),
        owner_team,
        architecture: m
            .architecture
            .archs()
            .iter()
            .map(ToString::to_string)
            .collect(),
        domains: m.domains.iter().map(|d| d.text()).collect(),
        environments: m.environments.iter().map(|e| e.text()).collect(),
        dependencies: m.dependencies.iter().map(|d| d.text()).collect(),
        labels: m.labels,
    }
}
