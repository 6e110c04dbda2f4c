//! The one "did you mean" of berth: every command and rule that suggests a name (a
//! component, a key, a rule id) asks [`closest`], so they all agree on what counts as a
//! likely typo.

use crate::ids::ComponentPath;

/// How alike two names must be (Jaro-Winkler similarity) for one to be offered as a
/// correction of the other.
pub const THRESHOLD: f64 = 0.8;

/// The candidate closest to `word`, when it is close enough to be a likely typo.
///
/// ```
/// use berth_model::names::closest;
/// assert_eq!(closest("architecure", ["architecture", "domains"]), Some("architecture"));
/// assert_eq!(closest("zzz", ["architecture", "domains"]), None);
/// ```
pub fn closest<'a>(word: &str, candidates: impl IntoIterator<Item = &'a str>) -> Option<&'a str> {
    candidates
        .into_iter()
        .filter(|c| *c != word)
        .map(|c| (strsim::jaro_winkler(word, c), c))
        .filter(|(score, _)| *score >= THRESHOLD)
        .max_by(|a, b| a.0.total_cmp(&b.0).then_with(|| b.1.cmp(a.1)))
        .map(|(_, c)| c)
}

/// The component closest to a name a user typed: a name with a `/` is compared with full
/// paths, a bare name with the last segments (what a user types for `ms-ingestion`).
pub fn closest_component<'a>(
    name: &str,
    components: impl IntoIterator<Item = &'a ComponentPath>,
) -> Option<&'a ComponentPath> {
    let all: Vec<&ComponentPath> = components.into_iter().collect();
    if name.contains('/') {
        let best = closest(name, all.iter().map(|c| c.as_str()))?;
        all.into_iter().find(|c| c.as_str() == best)
    } else {
        let best = closest(name, all.iter().map(|c| c.name()))?;
        all.into_iter().find(|c| c.name() == best)
    }
}

/// `"; did you mean `x`?"` for a suggestion, `""` without one: the tail of a message.
pub fn hint(suggestion: Option<&str>) -> String {
    suggestion
        .map(|s| format!("; did you mean `{s}`?"))
        .unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn components_by_segment_or_path() {
        let cs: Vec<ComponentPath> = ["cloud/dmp/ms-ingestion", "cloud/dmp/ms-billing", "core/x/y"]
            .iter()
            .map(|s| ComponentPath::parse(s).expect("valid"))
            .collect();
        let got = |n: &str| closest_component(n, &cs).map(|c| c.as_str().to_owned());
        assert_eq!(got("ms-biling").as_deref(), Some("cloud/dmp/ms-billing"));
        assert_eq!(
            got("ms-ingestoin").as_deref(),
            Some("cloud/dmp/ms-ingestion")
        );
        assert_eq!(
            got("cloud/dmp/ms-ingestoin").as_deref(),
            Some("cloud/dmp/ms-ingestion")
        );
        assert_eq!(got("nothing-alike"), None);
        assert_eq!(hint(Some("a")), "; did you mean `a`?");
        assert_eq!(hint(None), "");
    }
}
