//! Who is promoting: `--actor`, else `$BERTH_ACTOR`, else GitLab's `$GITLAB_USER_LOGIN`,
//! else the operating-system user.

/// The environment variable that names the actor.
pub const ACTOR_ENV: &str = "BERTH_ACTOR";
/// GitLab CI's login of the user who started the pipeline.
pub const GITLAB_ACTOR_ENV: &str = "GITLAB_USER_LOGIN";
/// GitLab CI's URL of the running pipeline, recorded in audit records.
pub const PIPELINE_URL_ENV: &str = "CI_PIPELINE_URL";

/// The actor: `explicit` (`--actor`), else `$BERTH_ACTOR`, else `$GITLAB_USER_LOGIN`, else
/// the OS user (`$USER`, `$LOGNAME`, `$USERNAME`), else `unknown`.
pub fn resolve_actor(explicit: Option<&str>) -> String {
    resolve_actor_with(explicit, |k| std::env::var(k).ok())
}

/// [`resolve_actor`] with the environment given as a function (for tests and embedding).
pub fn resolve_actor_with(explicit: Option<&str>, env: impl Fn(&str) -> Option<String>) -> String {
    let given = explicit.map(str::to_owned).into_iter();
    let from_env = [ACTOR_ENV, GITLAB_ACTOR_ENV, "USER", "LOGNAME", "USERNAME"]
        .into_iter()
        .filter_map(&env);
    given
        .chain(from_env)
        .map(|s| s.trim().to_owned())
        .find(|s| !s.is_empty())
        .unwrap_or_else(|| "unknown".to_owned())
}

/// The CI pipeline URL (`$CI_PIPELINE_URL`), when running in GitLab CI.
pub fn pipeline_url_from_env() -> Option<String> {
    std::env::var(PIPELINE_URL_ENV)
        .ok()
        .filter(|s| !s.trim().is_empty())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn precedence() {
        let env = |k: &str| match k {
            "BERTH_ACTOR" => Some("bot".to_owned()),
            "GITLAB_USER_LOGIN" => Some("priya.k".to_owned()),
            "USER" => Some("root".to_owned()),
            _ => None,
        };
        assert_eq!(resolve_actor_with(Some("me"), env), "me");
        assert_eq!(resolve_actor_with(None, env), "bot");
        let gitlab = |k: &str| (k != "BERTH_ACTOR").then(|| env(k)).flatten();
        assert_eq!(resolve_actor_with(None, gitlab), "priya.k");
        let os = |k: &str| (k == "USER").then(|| "root".to_owned());
        assert_eq!(resolve_actor_with(Some("  "), os), "root");
        assert_eq!(resolve_actor_with(None, |_| None), "unknown");
    }
}
