//! The validator's verdict on one version at a time: [`Checker`] implements
//! [`berth_model::Verdict`] with exactly what a whole run judges a version by (its path,
//! file and version rules, [`crate::engine::check_version`], and its dependency problems),
//! reading that version, its owners, `berth.toml` and the versions its dependencies resolve
//! to, not the whole tree. `berth add`, `berth promote`, `berth query` and the index take it
//! from the CLI.

use std::sync::OnceLock;

use berth_index::Resolver;
use berth_model::verdict::{Finding, Verdict};
use berth_model::{Code, ComponentPath, Layout, Repository, Severity, Timestamp, Version};

use crate::artifacts::{self, HashCache};
use crate::cache::Waiting;
use crate::engine::{check_version, enabled};
use crate::registry::Registry;
use crate::view::{Context, FactReader, FormatEntry, load_version};

/// The finding of a version that does not exist.
pub(crate) fn missing(c: &ComponentPath, v: &Version) -> Finding {
    Finding::new(
        Code::IndexUnknownVersion.id(),
        Layout::version_dir(c, v),
        format!("{c} has no version {v}"),
    )
}

/// Judges component versions one at a time (see the module docs).
#[derive(Debug)]
pub struct Checker<'r> {
    repo: &'r Repository,
    registry: Registry,
    now: Timestamp,
    verify: bool,
    /// The artifact hash cache, opened when bytes are first read.
    hashes: OnceLock<HashCache>,
    no_hash_cache: bool,
    resolver: OnceLock<Resolver<'r>>,
    /// Problems found now that a later add must know about (written by [`Checker::save`]).
    waiting: std::sync::Mutex<Waiting>,
}

impl<'r> Checker<'r> {
    /// A checker with the rules of `registry` (artifacts not read again).
    pub fn new(repo: &'r Repository, registry: Registry) -> Self {
        Checker {
            repo,
            registry,
            now: Timestamp::now(),
            verify: false,
            hashes: OnceLock::new(),
            no_hash_cache: false,
            resolver: OnceLock::new(),
            waiting: std::sync::Mutex::new(Waiting::default()),
        }
    }

    /// The built-in rules.
    pub fn builtin(repo: &'r Repository) -> Self {
        Self::new(repo, Registry::builtin())
    }

    /// Also re-hash and re-inspect each version's artifacts (`--verify-artifacts`), with
    /// the hash cache (keyed so that a changed file cannot hit it) unless `no_cache`.
    pub fn verify_artifacts(mut self, no_cache: bool) -> Self {
        self.verify = true;
        self.no_hash_cache = no_cache;
        self
    }

    /// Never use the artifact hash cache: every byte is read whenever bytes are read.
    pub fn without_hash_cache(mut self) -> Self {
        self.no_hash_cache = true;
        self
    }

    fn hashes(&self) -> &HashCache {
        self.hashes.get_or_init(
            || match (self.no_hash_cache, artifacts::default_cache_dir()) {
                (false, Some(dir)) => HashCache::open(&dir),
                _ => HashCache::disabled(),
            },
        )
    }

    /// How many artifact files the checker read, and how many came from the hash cache.
    pub fn artifacts_read(&self) -> (usize, usize) {
        self.hashes.get().map_or((0, 0), |h| {
            (
                h.misses.load(std::sync::atomic::Ordering::Relaxed),
                h.hits.load(std::sync::atomic::Ordering::Relaxed),
            )
        })
    }

    /// "Now", for time checks.
    pub fn at(mut self, now: Timestamp) -> Self {
        self.now = now;
        self
    }

    /// Uses this resolver (a caller that listed the components already).
    pub fn with_resolver(self, resolver: Resolver<'r>) -> Self {
        let _ = self.resolver.set(resolver);
        self
    }

    /// The resolver of dependency names (lists the components on first use).
    pub fn resolver(&self) -> Result<&Resolver<'r>, berth_model::Error> {
        if let Some(r) = self.resolver.get() {
            return Ok(r);
        }
        let r = Resolver::with_components(self.repo, self.repo.components()?);
        Ok(self.resolver.get_or_init(|| r))
    }

    /// Writes back what this checker learnt: the artifact hash cache (after verifying),
    /// and the dependencies it found unresolved (so a later add of what they wait for
    /// recomputes their rows).
    pub fn save(&self) {
        if let Some(h) = self.hashes.get() {
            h.save_pruning(self.repo.root(), false);
        }
        let new = self
            .waiting
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .clone();
        if new != Waiting::default()
            && let Some(mut w) = Waiting::load(self.repo)
        {
            w.merge(&new);
            w.save(self.repo);
        }
    }
}

impl Checker<'_> {
    /// The error findings of `c` `v` (bytes read again with `verify`), split into those
    /// that count and the policy findings a stage that ran it is spared.
    fn judge(
        &self,
        c: &ComponentPath,
        v: &Version,
        verify: bool,
    ) -> Result<(Vec<Finding>, Vec<Finding>), berth_model::Error> {
        let mut out = self.strict(c, v, verify)?;
        if !out.iter().any(|f| Code::is_policy_id(f.rule)) {
            return Ok((out, Vec::new()));
        }
        if berth_model::stage::ran_by(self.repo, c, v)?.is_none() {
            return Ok((out, Vec::new()));
        }
        let spared = out
            .iter()
            .filter(|f| Code::is_policy_id(f.rule))
            .cloned()
            .collect();
        out.retain(|f| !Code::is_policy_id(f.rule));
        Ok((out, spared))
    }

    /// Every error finding of `c` `v`: its own rules and its dependency problems.
    fn strict(
        &self,
        c: &ComponentPath,
        v: &Version,
        verify: bool,
    ) -> Result<Vec<Finding>, berth_model::Error> {
        if !self.repo.has_version(c, v)? {
            return Ok(vec![missing(c, v)]);
        }
        let config = self.repo.config();
        let cx = Context::for_component(self.repo, c, self.now, verify);
        let read = |r: &Repository, f: &FormatEntry| artifacts::read_facts(self.hashes(), r, f);
        let facts = verify.then_some(&read as &FactReader<'_>);
        let entry = load_version(self.repo, c, v, facts, false)?;
        let rules: Vec<_> = enabled(&self.registry, config)
            .into_iter()
            .filter(|(r, _)| !r.late())
            .collect();
        let mut out: Vec<Finding> = check_version(&cx, &rules, &entry)
            .into_iter()
            .filter(|d| d.severity == Severity::Error)
            .map(|d| Finding::new(d.rule, &d.file, d.message))
            .collect();
        let Some(meta) = entry.metadata() else {
            return Ok(out);
        };
        if meta.1.value.dependencies.is_empty() {
            return Ok(out);
        }
        let resolver = self.resolver()?;
        for p in resolver.problems(c, v).map_err(|e| match e {
            berth_index::IndexError::Repo(e) => e,
            other => berth_model::Error::Io(std::io::Error::other(other.to_string())),
        })? {
            self.waiting
                .lock()
                .unwrap_or_else(std::sync::PoisonError::into_inner)
                .note(&p);
            let severity = self
                .registry
                .get(p.rule())
                .map_or(Severity::Off, |r| Registry::severity(r, config));
            if severity == Severity::Error {
                out.push(Finding::new(p.rule(), meta.0, p.to_string()));
            }
        }
        Ok(out)
    }
}

impl Verdict for Checker<'_> {
    fn findings(&self, c: &ComponentPath, v: &Version) -> Result<Vec<Finding>, berth_model::Error> {
        Ok(self.judge(c, v, self.verify)?.0)
    }

    fn grandfathered(
        &self,
        c: &ComponentPath,
        v: &Version,
    ) -> Result<Vec<Finding>, berth_model::Error> {
        Ok(self.judge(c, v, self.verify)?.1)
    }

    fn verified_findings(
        &self,
        c: &ComponentPath,
        v: &Version,
    ) -> Result<Vec<Finding>, berth_model::Error> {
        Ok(self.judge(c, v, true)?.0)
    }

    fn affected_by(&self, c: &ComponentPath) -> Vec<ComponentPath> {
        // The map of the last whole run; without one (a fresh clone), one run makes it.
        let waiting = Waiting::load(self.repo).or_else(|| {
            let opts = crate::Options {
                cache: true,
                ..crate::Options::default()
            };
            crate::validate(self.repo, &self.registry, &opts).ok()?;
            Waiting::load(self.repo)
        });
        waiting.map(|w| w.on(c)).unwrap_or_default()
    }
}
