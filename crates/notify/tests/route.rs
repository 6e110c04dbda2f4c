//! Routing: the nearest ownership.yaml gives the channel; the environment gives the
//! webhook (the per-channel variable of berth.toml `[notify.channels]` wins when set).

use std::collections::HashMap;

use berth_model::{ComponentPath, Repository};
use berth_notify::{Event, EventKind, NotifyError, RetryPolicy, notify_with, route_with};
use camino::Utf8PathBuf;

const OWNERSHIP: &str = "owner_team: cloud-dmp\nproduct_owner: priya.k@yourco.com\nslack_channel: \"#cloud-dmp-alerts\"\nsource_repo: https://gitlab.com/yourorg/cloud-dmp\nci_pipeline: https://gitlab.com/yourorg/cloud-dmp/-/pipelines\naudit_contact: audit-group@yourco.com\n";

fn repo(notify_toml: &str, ownership: Option<&str>) -> (tempfile::TempDir, Repository) {
    let t = tempfile::tempdir().expect("tempdir");
    let root = Utf8PathBuf::from_path_buf(t.path().to_path_buf()).expect("utf-8");
    std::fs::write(
        root.join("berth.toml"),
        format!("[domains.cloud]\nladder = [\"staging\", \"prod\"]\n{notify_toml}"),
    )
    .expect("berth.toml");
    let group = root.join("components/cloud/dmp");
    std::fs::create_dir_all(group.join("ms-ingestion/versions")).expect("dirs");
    if let Some(o) = ownership {
        std::fs::write(group.join("ownership.yaml"), o).expect("ownership");
    }
    let repo = Repository::open(root).expect("opens");
    (t, repo)
}

fn event(component: &str) -> Event {
    Event::new(
        EventKind::Added,
        ComponentPath::parse(component).expect("valid"),
    )
}

fn env(pairs: &[(&str, &str)]) -> impl Fn(&str) -> Option<String> + use<> {
    let map: HashMap<String, String> = pairs
        .iter()
        .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
        .collect();
    move |k| map.get(k).cloned()
}

#[test]
fn channel_and_links_come_from_the_nearest_ownership_yaml() {
    let (_t, repo) = repo("", Some(OWNERSHIP));
    // The component need not exist (a first version may fail validation).
    let r = route_with(&repo, &event("cloud/dmp/ms-new/deeper"), env(&[])).expect("routed");
    assert_eq!(r.channel, "#cloud-dmp-alerts");
    assert_eq!(r.group, "cloud/dmp");
    assert_eq!(r.owner_team, "cloud-dmp");
    assert_eq!(
        r.ownership_file.as_str(),
        "components/cloud/dmp/ownership.yaml"
    );
    assert_eq!(
        r.source_repo.as_deref(),
        Some("https://gitlab.com/yourorg/cloud-dmp")
    );
    assert_eq!(
        r.ci_pipeline.as_deref(),
        Some("https://gitlab.com/yourorg/cloud-dmp/-/pipelines")
    );
    assert!(r.webhook.is_none());
    assert_eq!(r.webhook_vars, ["BERTH_SLACK_WEBHOOK"]);
}

#[test]
fn the_default_variable_gives_the_webhook() {
    let (_t, repo) = repo("", Some(OWNERSHIP));
    let r = route_with(
        &repo,
        &event("cloud/dmp/ms-ingestion"),
        env(&[("BERTH_SLACK_WEBHOOK", " https://hooks.example.invalid/x ")]),
    )
    .expect("routed");
    assert_eq!(
        r.webhook.as_ref().map(|s| s.expose()),
        Some("https://hooks.example.invalid/x")
    );
    assert_eq!(r.webhook_env.as_deref(), Some("BERTH_SLACK_WEBHOOK"));
    assert!(!format!("{r:?}").contains("hooks.example.invalid"), "{r:?}");
}

#[test]
fn the_per_channel_variable_wins_when_set() {
    let toml = "[notify]\nwebhook_env = \"TEAM_HOOK\"\n[notify.channels]\n\"#cloud-dmp-alerts\" = \"DMP_HOOK\"\n\"#other\" = \"OTHER_HOOK\"\n";
    let (_t, repo) = repo(toml, Some(OWNERSHIP));
    let ev = event("cloud/dmp/ms-ingestion");
    let both = env(&[
        ("DMP_HOOK", "https://dmp.example.invalid/"),
        ("TEAM_HOOK", "https://team.example.invalid/"),
        ("OTHER_HOOK", "https://other.example.invalid/"),
        ("BERTH_SLACK_WEBHOOK", "https://default.example.invalid/"),
    ]);
    let r = route_with(&repo, &ev, both).expect("routed");
    assert_eq!(r.webhook_vars, ["DMP_HOOK", "TEAM_HOOK"]);
    assert_eq!(r.webhook_env.as_deref(), Some("DMP_HOOK"));
    assert_eq!(
        r.webhook.as_ref().map(|s| s.expose()),
        Some("https://dmp.example.invalid/")
    );
    // Per-channel variable unset or empty: the configured default.
    let fallback = env(&[
        ("DMP_HOOK", ""),
        ("TEAM_HOOK", "https://team.example.invalid/"),
    ]);
    let r = route_with(&repo, &ev, fallback).expect("routed");
    assert_eq!(r.webhook_env.as_deref(), Some("TEAM_HOOK"));
    // `webhook_env` replaces BERTH_SLACK_WEBHOOK.
    let r = route_with(
        &repo,
        &ev,
        env(&[("BERTH_SLACK_WEBHOOK", "https://default.example.invalid/")]),
    )
    .expect("routed");
    assert!(r.webhook.is_none());
}

#[test]
fn channel_keys_match_with_or_without_the_hash() {
    let toml = "[notify.channels]\n\"cloud-dmp-alerts\" = \"DMP_HOOK\"\n";
    let (_t, repo) = repo(toml, Some(OWNERSHIP));
    let r = route_with(
        &repo,
        &event("cloud/dmp/ms-ingestion"),
        env(&[("DMP_HOOK", "https://dmp.example.invalid/")]),
    )
    .expect("routed");
    assert_eq!(r.webhook_env.as_deref(), Some("DMP_HOOK"));
}

#[test]
fn no_owner_and_empty_channel_are_errors() {
    let (_t, bare) = repo("", None);
    let e = route_with(&bare, &event("cloud/dmp/ms-ingestion"), env(&[])).expect_err("no owner");
    assert!(matches!(e, NotifyError::NoOwner { .. }), "{e:?}");
    assert!(
        e.to_string().contains("components/cloud/dmp/ms-ingestion"),
        "{e}"
    );

    let (_t, repo) = repo(
        "",
        Some(&OWNERSHIP.replace("\"#cloud-dmp-alerts\"", "\"\"")),
    );
    let e = route_with(&repo, &event("cloud/dmp/ms-ingestion"), env(&[])).expect_err("empty");
    assert!(matches!(e, NotifyError::NoChannel { .. }), "{e:?}");
}

#[test]
fn notify_without_a_webhook_does_nothing() {
    let (_t, repo) = repo("", Some(OWNERSHIP));
    let got = notify_with(
        &repo,
        &event("cloud/dmp/ms-ingestion"),
        &RetryPolicy::default(),
        env(&[]),
    )
    .expect("nothing to do is fine");
    assert_eq!(got, None);
}
