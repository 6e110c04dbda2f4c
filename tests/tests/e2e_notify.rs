//! End to end: `berth notify` against a real HTTP listener on 127.0.0.1. The message goes
//! to the owner's channel with the owner's links; 5xx is retried, 4xx is not, a silent
//! receiver is given up on in bounded time (exit 3); the per-channel variable routes; and
//! the webhook URL never appears in anything berth prints.

#[path = "../../crates/notify/tests/support/mod.rs"]
mod support;

use std::process::Command;
use std::time::{Duration, Instant};

use berth_tests::{Run, berth, berth_bin, example_repo, tree_digest};
use camino::Utf8Path;
use support::{Receiver, Reply, TOKEN};

/// `berth notify ARGS` in `root`, with `env` set and nothing else from the caller's CI.
fn notify(root: &Utf8Path, env: &[(&str, &str)], args: &[&str]) -> Run {
    let mut c: Command = berth(root);
    c.arg("notify")
        .args(args)
        .env_remove("CI_PIPELINE_URL")
        .env_remove("BERTH_NOTIFY_TIMEOUT_SECS")
        .env_remove("SLACK_HOOK_CORE")
        .env_remove("HTTP_PROXY")
        .env_remove("http_proxy")
        .env_remove("ALL_PROXY")
        .env_remove("all_proxy")
        .env("NO_PROXY", "127.0.0.1");
    for (k, v) in env {
        c.env(k, v);
    }
    let out = c.output().expect("running berth notify");
    Run {
        code: out.status.code().unwrap_or(-1),
        stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
    }
}

/// Neither the URL nor its secret path may appear in what berth printed.
fn assert_no_secret(run: &Run, url: &str) {
    for (name, text) in [("stdout", &run.stdout), ("stderr", &run.stderr)] {
        assert!(!text.contains(url), "{name} holds the webhook URL: {text}");
        assert!(
            !text.contains(TOKEN),
            "{name} holds the webhook token: {text}"
        );
    }
}

/// A copy of the example repository, with the binary built first: receivers start their
/// deadline clock when they start, and building must not eat it.
fn setup() -> (tempfile::TempDir, camino::Utf8PathBuf) {
    berth_bin();
    example_repo()
}

const PROMOTED: &[&str] = &[
    "promoted",
    "ms-ingestion",
    "1.0.3",
    "--domain",
    "cloud",
    "--env",
    "prod",
    "--actor",
    "ci-bot",
];

#[test]
fn posts_to_the_owners_channel_with_links() {
    let (_g, root) = setup();
    let rx = Receiver::start(vec![Reply::ok()], Duration::from_secs(30));
    let url = rx.url.clone();
    let mut args = PROMOTED.to_vec();
    args.extend([
        "--pipeline-url",
        "https://gitlab.com/yourorg/cloud-dmp/-/pipelines/977",
    ]);
    let run = notify(&root, &[("BERTH_SLACK_WEBHOOK", &url)], &args);
    assert_eq!(run.code, 0, "{run:?}");
    assert_eq!(
        run.stdout,
        "posted `promoted` to #cloud-dmp-alerts (HTTP 200, 1 attempt)\n"
    );
    assert_no_secret(&run, &url);
    let seen = rx.finish();
    assert_eq!(seen.len(), 1);
    let body = &seen[0].body;
    assert_eq!(seen[0].method, "POST");
    assert_eq!(body["channel"], "#cloud-dmp-alerts");
    assert_eq!(
        body["text"],
        "cloud/dmp/ms-ingestion 1.0.3 promoted to cloud/prod by ci-bot"
    );
    let blocks = body["blocks"].to_string();
    for link in [
        "<https://gitlab.com/yourorg/cloud-dmp|source repo>",
        "<https://gitlab.com/yourorg/cloud-dmp/-/pipelines|CI pipelines>",
        "<https://gitlab.com/yourorg/cloud-dmp/-/pipelines/977|this pipeline run>",
    ] {
        assert!(blocks.contains(link), "{link} not in {blocks}");
    }
}

#[test]
fn the_pipeline_url_comes_from_ci_pipeline_url_and_json_output() {
    let (_g, root) = setup();
    let rx = Receiver::start(vec![Reply::ok()], Duration::from_secs(30));
    let url = rx.url.clone();
    let mut c = berth(&root);
    c.args([
        "notify",
        "added",
        "common-utils",
        "1.3.0",
        "--format",
        "json",
    ])
    .env("BERTH_SLACK_WEBHOOK", &url)
    .env(
        "CI_PIPELINE_URL",
        "https://gitlab.com/yourorg/core-platform/-/pipelines/5",
    )
    .env("GITLAB_USER_LOGIN", "lars.n")
    .env("NO_PROXY", "127.0.0.1");
    let out = c.output().expect("runs");
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(0), "{out:?}");
    let v: serde_json::Value = serde_json::from_str(&stdout).expect("json");
    assert_eq!(v["channel"], "#core-platform");
    assert_eq!(v["posted"], true);
    assert_eq!(v["attempts"], 1);
    let seen = rx.finish();
    assert_eq!(
        seen[0].body["text"],
        "core/platform/common-utils 1.3.0 added by lars.n"
    );
    assert!(
        seen[0].body["blocks"]
            .to_string()
            .contains("<https://gitlab.com/yourorg/core-platform/-/pipelines/5|this pipeline run>")
    );
}

#[test]
fn a_500_then_200_is_retried() {
    let (_g, root) = setup();
    let rx = Receiver::start(
        vec![Reply::status(500, "internal_error"), Reply::ok()],
        Duration::from_secs(30),
    );
    let url = rx.url.clone();
    let run = notify(&root, &[("BERTH_SLACK_WEBHOOK", &url)], PROMOTED);
    assert_eq!(run.code, 0, "{run:?}");
    assert!(run.stdout.contains("2 attempts"), "{}", run.stdout);
    assert_no_secret(&run, &url);
    let seen = rx.finish();
    assert_eq!(seen.len(), 2, "{seen:?}");
    assert!(
        seen[1].at - seen[0].at >= Duration::from_millis(500),
        "backoff"
    );
}

#[test]
fn a_404_is_not_retried_and_exits_3() {
    let (_g, root) = setup();
    let before = tree_digest(&root);
    let rx = Receiver::start(
        vec![Reply::status(404, "no_service"), Reply::ok()],
        Duration::from_secs(5),
    );
    let url = rx.url.clone();
    let run = notify(&root, &[("BERTH_SLACK_WEBHOOK", &url)], PROMOTED);
    assert_eq!(run.code, 3, "{run:?}");
    assert!(
        run.stderr.contains("HTTP 404: no_service"),
        "{}",
        run.stderr
    );
    assert!(run.stderr.contains("not retried"), "{}", run.stderr);
    assert_no_secret(&run, &url);
    assert_eq!(rx.finish().len(), 1, "a 4xx is not retried");
    assert_eq!(
        tree_digest(&root),
        before,
        "a failed notification changes nothing"
    );
}

/// A receiver whose error page repeats the request path (the webhook's secret part):
/// what berth prints of that body has the secret redacted.
#[test]
fn an_error_body_that_repeats_the_url_is_redacted() {
    let (_g, root) = setup();
    let rx = Receiver::start(vec![Reply::Echo(404)], Duration::from_secs(5));
    let url = rx.url.clone();
    let run = notify(&root, &[("BERTH_SLACK_WEBHOOK", &url)], PROMOTED);
    assert_eq!(run.code, 3, "{run:?}");
    assert!(
        run.stderr.contains("HTTP 404: no such webhook"),
        "{}",
        run.stderr
    );
    assert!(run.stderr.contains("[redacted]"), "{}", run.stderr);
    assert_no_secret(&run, &url);
    assert_eq!(rx.finish().len(), 1);
}

#[test]
fn a_silent_receiver_is_given_up_on_in_bounded_time() {
    let (_g, root) = setup();
    let hang = Duration::from_secs(4);
    let rx = Receiver::start(vec![Reply::Hang(hang); 3], Duration::from_secs(20));
    let url = rx.url.clone();
    let started = Instant::now();
    // 1 s per attempt: 3 attempts and 0.5 s + 1 s of backoff, about 4.5 s in all.
    let run = notify(
        &root,
        &[
            ("BERTH_SLACK_WEBHOOK", &url),
            ("BERTH_NOTIFY_TIMEOUT_SECS", "1"),
        ],
        PROMOTED,
    );
    let took = started.elapsed();
    assert_eq!(run.code, 3, "{run:?}");
    assert!(took < Duration::from_secs(10), "took {took:?}");
    assert!(
        took >= Duration::from_secs(4),
        "took {took:?}: no real timeouts?"
    );
    assert!(
        run.stderr.contains("gave up after 3 attempts"),
        "{}",
        run.stderr
    );
    assert!(run.stderr.contains("timeout"), "{}", run.stderr);
    assert_no_secret(&run, &url);
    assert_eq!(rx.finish().len(), 3);
}

#[test]
fn the_per_channel_variable_wins() {
    let (_g, root) = setup();
    let toml = root.join("berth.toml");
    let mut cfg = std::fs::read_to_string(&toml).expect("berth.toml");
    cfg.push_str("\n[notify.channels]\n\"#core-platform\" = \"SLACK_HOOK_CORE\"\n");
    std::fs::write(&toml, cfg).expect("write berth.toml");

    let default = Receiver::start(vec![Reply::ok()], Duration::from_secs(30));
    let core = Receiver::start(vec![Reply::ok()], Duration::from_secs(30));
    let (default_url, core_url) = (default.url.clone(), core.url.clone());
    let env = [
        ("BERTH_SLACK_WEBHOOK", default_url.as_str()),
        ("SLACK_HOOK_CORE", core_url.as_str()),
    ];
    // #core-platform has its own variable: it gets the core post.
    let run = notify(
        &root,
        &env,
        &["added", "core/platform/common-utils", "1.3.0"],
    );
    assert_eq!(run.code, 0, "{run:?}");
    assert_no_secret(&run, &core_url);
    // #cloud-dmp-alerts has none: the default gets it.
    let run = notify(&root, &env, &["added", "cloud/dmp/ms-export", "3.2.0"]);
    assert_eq!(run.code, 0, "{run:?}");
    assert_no_secret(&run, &default_url);

    let core_seen = core.finish();
    let default_seen = default.finish();
    assert_eq!(core_seen.len(), 1);
    assert_eq!(core_seen[0].body["channel"], "#core-platform");
    assert_eq!(default_seen.len(), 1);
    assert_eq!(default_seen[0].body["channel"], "#cloud-dmp-alerts");

    // The dry run names the variable, never its value.
    let run = notify(
        &root,
        &env,
        &["added", "core/platform/common-utils", "1.3.0", "--dry-run"],
    );
    assert_eq!(run.code, 0, "{run:?}");
    assert!(
        run.stdout
            .contains("webhook: $SLACK_HOOK_CORE (set; its value is not shown)"),
        "{}",
        run.stdout
    );
    assert_no_secret(&run, &core_url);
}

#[test]
fn no_webhook_is_a_note_and_exit_0() {
    let (_g, root) = setup();
    let run = notify(&root, &[], PROMOTED);
    assert_eq!(run.code, 0, "{run:?}");
    assert_eq!(run.stdout, "");
    assert!(
        run.stderr
            .contains("no Slack webhook configured for #cloud-dmp-alerts: nothing posted (set $BERTH_SLACK_WEBHOOK)"),
        "{}",
        run.stderr
    );
}

#[test]
fn dry_run_prints_channel_and_payload_never_the_url() {
    let (_g, root) = setup();
    let url = format!("https://hooks.slack.com/services/{TOKEN}");
    let run = notify(
        &root,
        &[("BERTH_SLACK_WEBHOOK", &url)],
        &[
            "promotion-refused",
            "ms-ingestion",
            "1.0.3",
            "--domain",
            "cloud",
            "--env",
            "prod",
            "--actor",
            "ci-bot",
            "--detail",
            "gate approvals: prod needs 1 approval by an approver of cloud/dmp <priya.k, domain-lead-cloud>",
            "--pipeline-url",
            "https://gitlab.com/yourorg/cloud-dmp/-/pipelines/977",
            "--dry-run",
        ],
    );
    assert_eq!(run.code, 0, "{run:?}");
    assert_no_secret(&run, &url);
    assert!(!run.stdout.contains("hooks.slack.com"), "{}", run.stdout);
    insta::assert_snapshot!("dry_run_promotion_refused", run.stdout);
}

#[test]
fn usage_and_routing_errors() {
    let (_g, root) = setup();
    let run = notify(&root, &[], &["deployed", "ms-ingestion"]);
    assert_eq!(run.code, 2, "{run:?}");
    assert!(run.stderr.contains("possible values"), "{}", run.stderr);

    let run = notify(&root, &[], &["added", "ms-ingestion", "1.0"]);
    assert_eq!(run.code, 2, "{run:?}");

    let run = notify(&root, &[], &["added", "ms-ingestoin", "1.0.3"]);
    assert_eq!(run.code, 1, "{run:?}");
    assert!(
        run.stderr.contains("not in the repository"),
        "{}",
        run.stderr
    );

    // No ownership.yaml above it: a configuration error.
    std::fs::remove_file(root.join("components/ran/oam/ownership.yaml")).expect("rm");
    let run = notify(&root, &[], &["added", "ran/oam/ms-cell-config", "2.1.0"]);
    assert_eq!(run.code, 2, "{run:?}");
    assert!(run.stderr.contains("no ownership.yaml"), "{}", run.stderr);
}
