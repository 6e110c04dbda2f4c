//! Where each page lives in the output directory, and relative links between pages.
//!
//! Every link is relative, so the site works from any sub-path of a web server and from
//! `file://`; directory pages are linked as `…/index.html`, never as `…/`, for the same
//! reason.

use berth_model::{ComponentPath, DomainName, EnvName, Sha256Digest};

/// The overview page `n` (1-based): `index.html`, `overview-2.html`, …
pub(crate) fn overview(n: usize) -> String {
    if n <= 1 {
        "index.html".to_owned()
    } else {
        format!("overview-{n}.html")
    }
}

/// A component's page.
pub(crate) fn component(c: &ComponentPath) -> String {
    format!("c/{c}/index.html")
}

/// A stage's page `n`: `stage/<domain>/<env>.html`, then `stage/<domain>/<env>/page-N.html`.
pub(crate) fn stage(d: &DomainName, e: &EnvName, n: usize) -> String {
    if n <= 1 {
        format!("stage/{d}/{e}.html")
    } else {
        format!("stage/{d}/{e}/page-{n}.html")
    }
}

/// The findings summary.
pub(crate) const FINDINGS: &str = "findings.html";
/// The search page.
pub(crate) const SEARCH: &str = "search.html";
/// The stylesheet.
pub(crate) const CSS: &str = "assets/site.css";
/// The script.
pub(crate) const JS: &str = "assets/site.js";

/// A search index shard.
pub(crate) fn search_shard(i: usize) -> String {
    format!("search/index-{i}.js")
}

/// The findings of one rule (`kind = "rule"`) or one team (`kind = "team"`), page `n`.
pub(crate) fn facet(kind: &str, key: &str, n: usize) -> String {
    let s = slug(key);
    if n <= 1 {
        format!("findings/{kind}/{s}.html")
    } else {
        format!("findings/{kind}/{s}/page-{n}.html")
    }
}

/// A file-name-safe, collision-free form of `key`: `manifest/digest-mismatch` becomes
/// `manifest--digest-mismatch`; anything outside `[a-z0-9._-]` (or a `--` already in the
/// key) is replaced and a short hash of the original keeps distinct keys distinct.
pub(crate) fn slug(key: &str) -> String {
    let mut out = String::with_capacity(key.len());
    let mut changed = key.contains("--") || key.is_empty() || key.starts_with('.');
    for ch in key.chars() {
        match ch {
            'a'..='z' | '0'..='9' | '.' | '_' | '-' => out.push(ch),
            '/' => out.push_str("--"),
            _ => {
                out.push('-');
                changed = true;
            }
        }
    }
    if changed {
        let h = Sha256Digest::of(key.as_bytes()).hex();
        out = format!("{}-{}", out.trim_start_matches('.'), &h[..8]);
    }
    out
}

/// The prefix that leads from `page` back to the site root: `""` for `index.html`,
/// `"../../"` for `stage/cloud/prod.html`.
pub(crate) fn root_of(page: &str) -> String {
    "../".repeat(page.matches('/').count())
}

/// An `id` attribute for a version's section.
pub(crate) fn version_anchor(v: &berth_model::Version) -> String {
    format!("v-{v}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn slugs_are_safe_and_distinct() {
        assert_eq!(
            slug("manifest/digest-mismatch"),
            "manifest--digest-mismatch"
        );
        assert_eq!(slug("ingestion-platform"), "ingestion-platform");
        let odd = slug("Team A/B");
        assert!(
            odd.chars()
                .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || "._-".contains(c))
        );
        assert_ne!(slug("a--b"), slug("a/b"));
        assert_ne!(slug("x y"), slug("x-y"));
        assert!(!slug("").is_empty());
    }

    #[test]
    fn roots_climb_one_level_per_directory() {
        assert_eq!(root_of("index.html"), "");
        assert_eq!(root_of("stage/cloud/prod.html"), "../../");
        assert_eq!(root_of("c/cloud/dmp/ms-export/index.html"), "../../../../");
    }
}
