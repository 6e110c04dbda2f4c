//! Policy checks shared with other crates: base-image globs and the age of a build that
//! may still be promoted (`berth-promote` calls [`build_too_old`] for its age gate).

use crate::Timestamp;
use crate::config::Policy;
use crate::files::Manifest;

/// True when `text` matches the glob `pattern`: `*` any run of characters (also `/` and
/// `:`), `?` one character, everything else literally.
///
/// ```
/// use berth_model::policy::glob_match;
/// assert!(glob_match("python:3.11-*", "python:3.11-alpine"));
/// assert!(glob_match("gcr.io/distroless/*", "gcr.io/distroless/static:nonroot"));
/// assert!(glob_match("debian:bookworm?", "debian:bookworm1"));
/// assert!(!glob_match("python:3.11-*", "python:3.12-alpine"));
/// ```
pub fn glob_match(pattern: &str, text: &str) -> bool {
    let p: Vec<char> = pattern.chars().collect();
    let t: Vec<char> = text.chars().collect();
    let (mut pi, mut ti) = (0, 0);
    let mut star: Option<(usize, usize)> = None;
    while ti < t.len() {
        if pi < p.len() && (p[pi] == '?' || p[pi] == t[ti]) {
            pi += 1;
            ti += 1;
        } else if pi < p.len() && p[pi] == '*' {
            star = Some((pi, ti));
            pi += 1;
        } else if let Some((sp, st)) = star {
            pi = sp + 1;
            ti = st + 1;
            star = Some((sp, st + 1));
        } else {
            return false;
        }
    }
    p[pi..].iter().all(|c| *c == '*')
}

/// True when `base` is allowed by the policy (an empty list allows any).
pub fn base_image_allowed(policy: &Policy, base: &str) -> bool {
    policy.allowed_base_images.is_empty()
        || policy
            .allowed_base_images
            .iter()
            .any(|p| glob_match(p, base))
}

/// The promotion age gate: `Some(days)` when a manifest's `built_at` is older than
/// `policy.max_build_age_days` at `now` (the age in whole days), `None` when it is young
/// enough, the policy sets no limit, or the build time is unknown.
///
/// Only promotion candidates are judged this way (what a stage is asked to run), never
/// the whole history.
pub fn build_too_old(manifest: &Manifest, policy: &Policy, now: Timestamp) -> Option<i64> {
    let max = i64::from(policy.max_build_age_days?);
    let built = manifest.built_at.as_ref()?.get()?;
    let age = now.jiff().as_second() - built.jiff().as_second();
    let days = age / 86_400;
    (days > max).then_some(days)
}
