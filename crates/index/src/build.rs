//! Building `index/components.yaml`: the latest good version of every component.
//!
//! The whole-tree [`build`] and the per-component [`update_component`] share one code
//! path ([`component_latest`] → [`pick_latest`]), and both end in the same canonical
//! order ([`assemble`]), so an index kept up to date one component at a time by
//! `berth add` is byte-identical to one regenerated from scratch.

use std::cmp::Ordering;

use berth_model::journal::Intent;
use berth_model::{
    ComponentEntry, ComponentPath, ComponentsIndex, Config, Layout, Repository, StoreLock, Verdict,
    Version,
};
use camino::Utf8PathBuf;
use rayon::prelude::*;
use serde::Serialize;

use crate::{IndexError, Result};

/// How "latest" is chosen.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct IndexOptions {
    /// Whether a pre-release (`2.0.0-rc.1`) may be latest
    /// (`repository.latest_includes_prereleases` in berth.toml; default no).
    pub include_prereleases: bool,
}

impl IndexOptions {
    /// The options berth.toml asks for.
    pub fn from_config(config: &Config) -> Self {
        IndexOptions {
            include_prereleases: config.repository.latest_includes_prereleases,
        }
    }
}

/// The latest of `versions`: the SemVer maximum of those that are good, leaving out
/// pre-releases unless `opts` allows them. `is_good` is asked from the highest version
/// down and stops at the first good one. Input order does not matter.
///
/// ```
/// use berth_index::{IndexOptions, pick_latest};
/// use berth_model::Version;
/// let vs: Vec<Version> = ["1.2.0", "1.10.0", "2.0.0-rc.1", "1.9.9"]
///     .iter().map(|s| Version::parse(s).unwrap()).collect();
/// let opts = IndexOptions::default();
/// assert_eq!(pick_latest(vs.clone(), &opts, |_| true).unwrap().to_string(), "1.10.0");
/// // 1.10.0 has an error finding: the next one down wins.
/// let bad = Version::parse("1.10.0").unwrap();
/// assert_eq!(pick_latest(vs.clone(), &opts, |v| *v != bad).unwrap().to_string(), "1.9.9");
/// let pre = IndexOptions { include_prereleases: true };
/// assert_eq!(pick_latest(vs, &pre, |_| true).unwrap().to_string(), "2.0.0-rc.1");
/// ```
pub fn pick_latest(
    versions: impl IntoIterator<Item = Version>,
    opts: &IndexOptions,
    mut is_good: impl FnMut(&Version) -> bool,
) -> Option<Version> {
    try_pick_latest(versions, opts, |v| {
        Ok::<_, std::convert::Infallible>(is_good(v))
    })
    .unwrap_or_else(|e| match e {})
}

/// [`pick_latest`] with a verdict that can fail (reading a version).
pub fn try_pick_latest<E>(
    versions: impl IntoIterator<Item = Version>,
    opts: &IndexOptions,
    mut is_good: impl FnMut(&Version) -> Result<bool, E>,
) -> Result<Option<Version>, E> {
    let mut candidates: Vec<Version> = versions
        .into_iter()
        .filter(|v| opts.include_prereleases || !v.is_prerelease())
        .collect();
    candidates.sort_unstable_by(|a, b| b.cmp(a));
    candidates.dedup();
    for v in candidates {
        if is_good(&v)? {
            return Ok(Some(v));
        }
    }
    Ok(None)
}

/// The canonical index of `(component, latest)` rows: components without a latest
/// version are left out, rows are sorted by name, and a name given twice keeps its
/// highest version. Input order does not matter.
pub fn assemble(
    rows: impl IntoIterator<Item = (ComponentPath, Option<Version>)>,
) -> ComponentsIndex {
    let mut components: Vec<ComponentEntry> = rows
        .into_iter()
        .filter_map(|(name, v)| {
            v.map(|latest_version| ComponentEntry {
                name,
                latest_version,
            })
        })
        .collect();
    canonical_sort(&mut components);
    ComponentsIndex { components }
}

fn entry_order(a: &ComponentEntry, b: &ComponentEntry) -> Ordering {
    a.name
        .cmp(&b.name)
        .then_with(|| b.latest_version.cmp(&a.latest_version))
}

fn canonical_sort(rows: &mut Vec<ComponentEntry>) {
    rows.sort_by(entry_order);
    rows.dedup_by(|later, first| later.name == first.name);
}

/// The latest good version of one component, or `None` when it has none.
pub fn component_latest(
    repo: &Repository,
    c: &ComponentPath,
    opts: &IndexOptions,
    verdict: &dyn Verdict,
) -> Result<Option<Version>> {
    let versions = repo.versions(c)?;
    Ok(try_pick_latest(versions, opts, |v| verdict.is_good(c, v))?)
}

/// Builds the whole index from the tree, in parallel over components (rayon).
/// Reads only; see [`regenerate`] to write it.
pub fn build(
    repo: &Repository,
    opts: &IndexOptions,
    verdict: &dyn Verdict,
) -> Result<ComponentsIndex> {
    let components = repo.components()?;
    let rows = components
        .into_par_iter()
        .map(|c| {
            let latest = component_latest(repo, &c, opts, verdict)?;
            Ok((c, latest))
        })
        .collect::<Result<Vec<_>>>()?;
    Ok(assemble(rows))
}

/// One row that changed between two indexes.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Change {
    /// The component.
    pub component: ComponentPath,
    /// Its latest version before (`None`: it was not in the index).
    pub before: Option<Version>,
    /// Its latest version after (`None`: it left the index).
    pub after: Option<Version>,
}

/// Recomputes one component's row of `index` in memory (the incremental update that
/// `berth add` runs after ingesting a version): the same computation as [`build`], so the
/// result equals a full rebuild. A component that no longer exists, or has no good
/// version, leaves the index. Returns the change, if any. Write the result with [`write()`]
/// while holding [`Repository::lock`].
///
/// ```
/// # use berth_model::{ComponentPath, ComponentsIndex, Repository};
/// # fn main() -> Result<(), Box<dyn std::error::Error>> {
/// # let repo = Repository::open(concat!(env!("CARGO_MANIFEST_DIR"), "/../../examples/repo"))?;
/// use berth_index::{IndexOptions, update_component};
/// use berth_model::{Finding, Version};
/// let mut index = ComponentsIndex::default();
/// let c = ComponentPath::parse("cloud/dmp/ms-ingestion")?;
/// let opts = IndexOptions::from_config(repo.config());
/// // A verdict (berth-validate's Checker in real use): here, every version is good.
/// let good = |_: &ComponentPath, _: &Version| Vec::<Finding>::new();
/// let change = update_component(&repo, &mut index, &c, &opts, &good)?;
/// assert_eq!(change.and_then(|c| c.after).map(|v| v.to_string()).as_deref(), Some("1.0.3"));
/// assert_eq!(index.components.len(), 1);
/// # Ok(()) }
/// ```
pub fn update_component(
    repo: &Repository,
    index: &mut ComponentsIndex,
    component: &ComponentPath,
    opts: &IndexOptions,
    verdict: &dyn Verdict,
) -> Result<Option<Change>> {
    let after = if repo.has_component(component)? {
        component_latest(repo, component, opts, verdict)?
    } else {
        None
    };
    canonical_sort(&mut index.components);
    let at = index.components.binary_search_by(|e| e.name.cmp(component));
    let before = at.ok().map(|i| index.components[i].latest_version.clone());
    if before == after {
        return Ok(None);
    }
    match (at, &after) {
        (Ok(i), Some(v)) => index.components[i].latest_version = v.clone(),
        (Ok(i), None) => {
            index.components.remove(i);
        }
        (Err(i), Some(v)) => index.components.insert(
            i,
            ComponentEntry {
                name: component.clone(),
                latest_version: v.clone(),
            },
        ),
        (Err(_), None) => {}
    }
    Ok(Some(Change {
        component: component.clone(),
        before,
        after,
    }))
}

/// Replays what killed writers left in the journal ([`berth_model::journal`]), under the
/// writer lock: planned writes are carried out, index rows of components whose versions
/// were renamed into place are recomputed and written. Every writer calls this first, so a
/// killed `add` or `promote` is finished by the next command. Returns the index rows that
/// changed.
pub fn recover(repo: &Repository, lock: &StoreLock, verdict: &dyn Verdict) -> Result<Vec<Change>> {
    let pending = repo.pending()?;
    if pending.is_empty() {
        return Ok(Vec::new());
    }
    let mut index: Option<ComponentsIndex> = None;
    let mut out = Vec::new();
    for p in &pending {
        match &p.intent {
            Intent::Writes { writes } => repo.apply_writes(lock, writes)?,
            Intent::IndexRows { components } => {
                if index.is_none() {
                    index = Some(read(repo)?.unwrap_or_default());
                }
                let opts = IndexOptions::from_config(repo.config());
                if let Some(idx) = index.as_mut() {
                    for c in components {
                        out.extend(update_component(repo, idx, c, &opts, verdict)?);
                    }
                }
            }
        }
    }
    if let Some(idx) = &index
        && !out.is_empty()
    {
        write(repo, lock, idx)?;
    }
    for p in &pending {
        repo.journal_done(lock, p)?;
    }
    Ok(out)
}

/// The rows that differ between `old` and `new`, sorted by component.
pub fn changes(old: &ComponentsIndex, new: &ComponentsIndex) -> Vec<Change> {
    let mut a = old.components.clone();
    let mut b = new.components.clone();
    canonical_sort(&mut a);
    canonical_sort(&mut b);
    let (mut i, mut j) = (0, 0);
    let mut out = Vec::new();
    while i < a.len() || j < b.len() {
        let ord = match (a.get(i), b.get(j)) {
            (Some(x), Some(y)) => x.name.cmp(&y.name),
            (Some(_), None) => Ordering::Less,
            _ => Ordering::Greater,
        };
        match ord {
            Ordering::Less => {
                out.push(Change {
                    component: a[i].name.clone(),
                    before: Some(a[i].latest_version.clone()),
                    after: None,
                });
                i += 1;
            }
            Ordering::Greater => {
                out.push(Change {
                    component: b[j].name.clone(),
                    before: None,
                    after: Some(b[j].latest_version.clone()),
                });
                j += 1;
            }
            Ordering::Equal => {
                if a[i].latest_version != b[j].latest_version {
                    out.push(Change {
                        component: a[i].name.clone(),
                        before: Some(a[i].latest_version.clone()),
                        after: Some(b[j].latest_version.clone()),
                    });
                }
                i += 1;
                j += 1;
            }
        }
    }
    out
}

/// The canonical bytes of `index` (rows sorted by name), exactly as [`write()`] writes them:
/// the canonical YAML writer's output, built directly (an index has ten thousand rows; names
/// and versions are written plain when YAML 1.1 and 1.2 both read them back as text).
pub fn render(index: &ComponentsIndex) -> Result<String> {
    let mut rows: Vec<&ComponentEntry> = index.components.iter().collect();
    rows.sort_by(|a, b| entry_order(a, b));
    rows.dedup_by(|later, first| later.name == first.name);
    if rows.is_empty() {
        return berth_model::yaml::to_canonical(&ComponentsIndex::default()).map_err(|source| {
            IndexError::Render {
                path: Layout::components_index(),
                source,
            }
        });
    }
    let mut out = String::with_capacity(rows.len() * 64);
    out.push_str("components:\n");
    for r in rows {
        out.push_str("  - name: ");
        scalar(&mut out, r.name.as_str());
        out.push_str("\n    latest_version: ");
        scalar(&mut out, &r.latest_version.to_string());
        out.push('\n');
    }
    Ok(out)
}

fn scalar(out: &mut String, s: &str) {
    if berth_model::yaml::plain_safe(s) {
        out.push_str(s);
    } else {
        // The rare value that needs quoting: the writer's own rules.
        match berth_model::yaml::to_canonical(&s) {
            Ok(q) => out.push_str(q.trim_end()),
            Err(_) => out.push_str(s),
        }
    }
}

/// Reads `index/components.yaml` when it exists: the canonical form through a line scanner
/// (no parse tree for ten thousand rows), anything else through the YAML loader.
pub fn read(repo: &Repository) -> Result<Option<ComponentsIndex>> {
    let Some(bytes) = read_committed(repo)? else {
        return Ok(None);
    };
    if let Ok(text) = std::str::from_utf8(&bytes)
        && let Some(index) = crate::latest::parse_canonical(text)
    {
        return Ok(Some(index));
    }
    let file = repo.path(&Layout::components_index());
    Ok(Some(
        repo.parse_yaml::<ComponentsIndex>(&file, &bytes)?.value,
    ))
}

/// Writes `index/components.yaml` atomically in canonical form, under the writer lock
/// (as `berth add` holds it while ingesting; [`regenerate`] takes it itself).
pub fn write(repo: &Repository, lock: &StoreLock, index: &ComponentsIndex) -> Result<()> {
    let text = render(index)?;
    repo.store()
        .write_atomic(lock, &Layout::components_index(), text.as_bytes())?;
    Ok(())
}

/// What [`regenerate`] did.
#[derive(Debug, Clone, Serialize)]
pub struct Regenerated {
    /// The index now on disk.
    pub index: ComponentsIndex,
    /// The rows that changed.
    pub changes: Vec<Change>,
    /// False when the file already held exactly these bytes (it was left untouched).
    pub written: bool,
}

/// Builds the index and writes it, under the repository lock, when its bytes differ from
/// the file's.
pub fn regenerate(
    repo: &Repository,
    opts: &IndexOptions,
    verdict: &dyn Verdict,
) -> Result<Regenerated> {
    let lock = repo.lock()?;
    recover(repo, &lock, verdict)?;
    let old_bytes = read_committed(repo)?;
    let index = build(repo, opts, verdict)?;
    let text = render(&index)?;
    let old_index = old_bytes
        .as_deref()
        .and_then(|b| {
            repo.parse_yaml::<ComponentsIndex>(&repo.path(&Layout::components_index()), b)
                .ok()
        })
        .map(|l| l.value)
        .unwrap_or_default();
    let written = old_bytes.as_deref() != Some(text.as_bytes());
    if written {
        write(repo, &lock, &index)?;
    }
    Ok(Regenerated {
        changes: changes(&old_index, &index),
        index,
        written,
    })
}

fn read_committed(repo: &Repository) -> Result<Option<Vec<u8>>> {
    let rel = Layout::components_index();
    match repo.read_bytes(&rel) {
        Ok(b) => Ok(Some(b)),
        Err(e) if e.is_not_found() => Ok(None),
        Err(e) => Err(e.into()),
    }
}

/// The result of [`check`]: the committed file against a fresh build.
#[derive(Debug, Clone)]
pub struct Check {
    /// The file, relative to the repository root.
    pub path: Utf8PathBuf,
    /// Its committed content (`None`: it does not exist).
    pub committed: Option<String>,
    /// What `berth index` would write.
    pub generated: String,
}

impl Check {
    /// True when the committed file is byte-identical to a fresh build.
    pub fn is_fresh(&self) -> bool {
        self.committed.as_deref() == Some(self.generated.as_str())
    }

    /// A unified diff from the committed file to the generated one (empty when fresh).
    pub fn unified_diff(&self) -> String {
        if self.is_fresh() {
            return String::new();
        }
        let old = self.committed.as_deref().unwrap_or("");
        let old_name = if self.committed.is_some() {
            format!("a/{} (committed)", self.path)
        } else {
            "/dev/null".to_owned()
        };
        let new_name = format!("b/{} (generated)", self.path);
        similar::TextDiff::from_lines(old, self.generated.as_str())
            .unified_diff()
            .context_radius(3)
            .header(&old_name, &new_name)
            .missing_newline_hint(true)
            .to_string()
    }
}

/// Compares the committed `index/components.yaml` with a fresh build, byte for byte
/// (the CI job and pre-commit hook: `berth index --check`). Reads only.
pub fn check(repo: &Repository, opts: &IndexOptions, verdict: &dyn Verdict) -> Result<Check> {
    let committed = read_committed(repo)?.map(|b| String::from_utf8_lossy(&b).into_owned());
    let generated = render(&build(repo, opts, verdict)?)?;
    Ok(Check {
        path: Layout::components_index(),
        committed,
        generated,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn v(s: &str) -> Version {
        Version::parse(s).expect("valid version")
    }
    fn c(s: &str) -> ComponentPath {
        ComponentPath::parse(s).expect("valid path")
    }

    fn arb_version() -> impl Strategy<Value = Version> {
        let pre = prop_oneof![
            Just(String::new()),
            Just("-rc.1".to_owned()),
            Just("-alpha".to_owned()),
            Just("-0".to_owned()),
            Just("-beta.11".to_owned()),
        ];
        let build = prop_oneof![
            Just(String::new()),
            Just("+b.7".to_owned()),
            Just("+001".to_owned())
        ];
        (0u64..4, 0u64..12, 0u64..12, pre, build)
            .prop_map(|(a, b, c, p, m)| v(&format!("{a}.{b}.{c}{p}{m}")))
    }

    proptest! {
        #[test]
        fn latest_is_the_semver_max_of_good_releases(
            set in proptest::collection::vec((arb_version(), any::<bool>()), 0..24),
            include_pre in any::<bool>(),
        ) {
            let opts = IndexOptions { include_prereleases: include_pre };
            let bad: Vec<Version> = set.iter().filter(|(_, g)| !g).map(|(v, _)| v.clone()).collect();
            let versions: Vec<Version> = set.iter().map(|(v, _)| v.clone()).collect();
            let got = pick_latest(versions.clone(), &opts, |v| !bad.contains(v));
            // The oracle: a plain maximum over the allowed set.
            let want = versions
                .iter()
                .filter(|v| !bad.contains(v))
                .filter(|v| include_pre || v.semver().pre.is_empty())
                .max()
                .cloned();
            prop_assert_eq!(got, want);
        }

        #[test]
        fn assembly_ignores_input_order(
            rows in proptest::collection::vec(
                (prop_oneof![Just("a/x"), Just("a/y"), Just("b/x"), Just("a.b/c"), Just("a-b/c")],
                 proptest::option::of(arb_version())),
                0..20),
            seed in any::<u64>(),
        ) {
            let rows: Vec<(ComponentPath, Option<Version>)> =
                rows.into_iter().map(|(n, v)| (c(n), v)).collect();
            let mut shuffled = rows.clone();
            // A deterministic shuffle driven by `seed`.
            let mut s = seed | 1;
            for i in (1..shuffled.len()).rev() {
                s ^= s << 13; s ^= s >> 7; s ^= s << 17;
                shuffled.swap(i, (s % (i as u64 + 1)) as usize);
            }
            let a = assemble(rows);
            let b = assemble(shuffled);
            prop_assert_eq!(render(&a).expect("renders"), render(&b).expect("renders"));
            prop_assert!(a.components.windows(2).all(|w| w[0].name < w[1].name));
        }
    }

    proptest! {
        /// The direct renderer writes exactly what the canonical YAML writer writes, and
        /// the line scanner reads it back.
        #[test]
        fn render_is_the_canonical_writer_and_reads_back(
            rows in proptest::collection::vec(
                ("[a-z0-9][a-z0-9._-]{0,6}/[a-z0-9][a-z0-9._-]{0,6}", arb_version()), 0..12),
        ) {
            let index = assemble(rows.into_iter().map(|(n, v)| (c(&n), Some(v))));
            let text = render(&index).expect("renders");
            prop_assert_eq!(&text, &berth_model::yaml::to_canonical(&index).expect("yaml"));
            let back = crate::latest::parse_canonical(&text)
                .unwrap_or_else(|| berth_model::yaml::from_str(camino::Utf8Path::new("i"), &text).expect("loads").value);
            prop_assert_eq!(back, index);
        }
    }

    #[test]
    fn changes_are_merged_by_name() {
        let old = assemble([(c("a/x"), Some(v("1.0.0"))), (c("a/y"), Some(v("1.0.0")))]);
        let new = assemble([(c("a/y"), Some(v("1.1.0"))), (c("a/z"), Some(v("0.1.0")))]);
        let ch = changes(&old, &new);
        let names: Vec<_> = ch.iter().map(|c| c.component.as_str()).collect();
        assert_eq!(names, ["a/x", "a/y", "a/z"]);
        assert_eq!(ch[0].after, None);
        assert_eq!(ch[2].before, None);
    }

    #[test]
    fn check_diff_names_both_sides() {
        let ck = Check {
            path: Layout::components_index(),
            committed: Some("components:\n  - name: a/x\n    latest_version: 1.0.0\n".into()),
            generated: "components:\n  - name: a/x\n    latest_version: 1.1.0\n".into(),
        };
        assert!(!ck.is_fresh());
        let d = ck.unified_diff();
        assert!(d.contains("--- a/index/components.yaml (committed)"), "{d}");
        assert!(
            d.contains("-    latest_version: 1.0.0\n+    latest_version: 1.1.0"),
            "{d}"
        );
    }
}
