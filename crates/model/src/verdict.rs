//! "Is this version good?": one question, one answer.
//!
//! A component version is *good* when no rule finds an error in it: in its
//! `metadata.yaml`, its manifests, its artifacts (when they are verified), its format
//! directories, or its dependencies. [`Verdict`] is that answer, defined here and
//! implemented once, by `berth-validate`'s checker, which runs the same per-version check
//! that `berth validate` runs on the whole tree. `berth index`, `berth add`, `berth promote`
//! and `berth query` are handed a `&dyn Verdict` by their caller, so they agree by
//! construction and none of them depends on the validator.
//!
//! ```
//! use berth_model::verdict::{Finding, Verdict};
//! use berth_model::{ComponentPath, Version};
//! // Any function from a version to its findings is a verdict (tests, embedding code).
//! let v = |_: &ComponentPath, ver: &Version| -> Vec<Finding> {
//!     if ver.is_prerelease() { vec![Finding::new("example/no-pre", "metadata.yaml", "a pre-release")] } else { vec![] }
//! };
//! let c = ComponentPath::parse("cloud/dmp/ms-export").unwrap();
//! assert!(v.is_good(&c, &Version::parse("1.0.0").unwrap()).unwrap());
//! assert!(!v.is_good(&c, &Version::parse("1.0.0-rc.1").unwrap()).unwrap());
//! ```

use camino::{Utf8Path, Utf8PathBuf};
use serde::Serialize;

use crate::ids::{ComponentPath, Version};
use crate::repo::Error;

/// An error finding that keeps a version from being good.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Finding {
    /// The rule that found it (`manifest/digest-mismatch`).
    pub rule: &'static str,
    /// The file it is about, relative to the repository root.
    pub file: Utf8PathBuf,
    /// What is wrong.
    pub message: String,
}

impl Finding {
    /// A finding of `rule` about `file`.
    pub fn new(rule: &'static str, file: impl AsRef<Utf8Path>, message: impl Into<String>) -> Self {
        Finding {
            rule,
            file: file.as_ref().to_owned(),
            message: message.into(),
        }
    }
}

impl std::fmt::Display for Finding {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "[{}] {}: {}", self.rule, self.file, self.message)
    }
}

/// The error findings of one component version; empty means good.
pub trait Verdict: Sync {
    /// The error findings of `c` at `v` (a version that does not exist has one).
    fn findings(&self, c: &ComponentPath, v: &Version) -> Result<Vec<Finding>, Error>;

    /// True when `c` at `v` has no error finding.
    fn is_good(&self, c: &ComponentPath, v: &Version) -> Result<bool, Error> {
        Ok(self.findings(c, v)?.is_empty())
    }

    /// The policy findings (`[policy]` rules: [`crate::Code::is_policy`]) that
    /// [`Verdict::findings`] leaves out because a stage has run `c` at `v`: it passed the
    /// gates then, so a later policy change does not take away what runs (the index keeps
    /// it, a rollback may return to it). A promotion into a stage that never ran it still
    /// counts them. Default: none.
    fn grandfathered(&self, c: &ComponentPath, v: &Version) -> Result<Vec<Finding>, Error> {
        let _ = (c, v);
        Ok(Vec::new())
    }

    /// [`Verdict::findings`] with the artifact bytes read again (digests and every field
    /// derived from them): what the `valid` gate of a gated or production stage asks.
    /// Default: [`Verdict::findings`].
    fn verified_findings(&self, c: &ComponentPath, v: &Version) -> Result<Vec<Finding>, Error> {
        self.findings(c, v)
    }

    /// The components whose versions' verdicts may change when `c` gains or loses a
    /// version: those with a dependency naming `c` that did not resolve (or resolved
    /// ambiguously) when they were last judged. The index rows of these are recomputed
    /// with `c`'s. Default: none known.
    fn affected_by(&self, c: &ComponentPath) -> Vec<ComponentPath> {
        let _ = c;
        Vec::new()
    }
}

impl<F> Verdict for F
where
    F: Fn(&ComponentPath, &Version) -> Vec<Finding> + Sync,
{
    fn findings(&self, c: &ComponentPath, v: &Version) -> Result<Vec<Finding>, Error> {
        Ok(self(c, v))
    }
}
