//! `send`/`post` against a real HTTP listener on 127.0.0.1: the payload on the wire, the
//! retries (5xx, 429 with Retry-After, timeouts, refused connections), what is not retried
//! (4xx), and that no message ever holds the webhook URL.

mod support;

use std::time::{Duration, Instant};

use berth_model::{ComponentPath, DomainName, EnvName, Version};
use berth_notify::{Event, EventKind, NotifyError, RetryPolicy, Route, Secret, post, send};
use support::{Receiver, Reply, TOKEN};

/// Short waits so the suite stays quick; the default policy is checked in the e2e tests.
fn quick() -> RetryPolicy {
    RetryPolicy {
        attempts: 3,
        timeout: Duration::from_millis(400),
        backoff: Duration::from_millis(50),
        max_retry_after: Duration::from_secs(2),
    }
}

fn route(url: &str) -> Route {
    Route {
        channel: "#cloud-dmp-alerts".into(),
        webhook: Some(Secret::new(url)),
        webhook_env: Some("BERTH_SLACK_WEBHOOK".into()),
        webhook_vars: vec!["BERTH_SLACK_WEBHOOK".into()],
        group: "cloud/dmp".into(),
        ownership_file: "components/cloud/dmp/ownership.yaml".into(),
        owner_team: "cloud-dmp".into(),
        source_repo: Some("https://gitlab.com/yourorg/cloud-dmp".into()),
        ci_pipeline: Some("https://gitlab.com/yourorg/cloud-dmp/-/pipelines".into()),
    }
}

fn event() -> Event {
    Event::new(
        EventKind::Promoted,
        ComponentPath::parse("cloud/dmp/ms-ingestion").expect("valid"),
    )
    .with_version(Version::parse("1.0.3").expect("valid"))
    .with_stage(
        DomainName::parse("cloud").expect("valid"),
        EnvName::parse("prod").expect("valid"),
    )
    .with_actor("ci-bot")
    .with_pipeline_url("https://gitlab.com/yourorg/cloud-dmp/-/pipelines/4242")
}

fn assert_secret_free(e: &NotifyError) {
    let text = format!("{e} {e:?}");
    assert!(!text.contains(TOKEN), "{text}");
    assert!(!text.contains("127.0.0.1"), "{text}");
}

#[test]
fn posts_the_payload_as_json() {
    let rx = Receiver::start(vec![Reply::ok()], Duration::from_secs(20));
    let d = send(&event(), &route(&rx.url), &quick()).expect("posted");
    assert_eq!((d.status, d.attempts), (200, 1));
    assert_eq!(d.channel, "#cloud-dmp-alerts");
    let seen = rx.finish();
    assert_eq!(seen.len(), 1);
    let r = &seen[0];
    assert_eq!(r.method, "POST");
    assert_eq!(r.path, format!("/services/{TOKEN}"));
    assert!(
        r.header("content-type")
            .is_some_and(|c| c.starts_with("application/json")),
        "{r:?}"
    );
    assert!(
        r.header("user-agent")
            .is_some_and(|u| u.starts_with("berth/"))
    );
    assert_eq!(r.body["channel"], "#cloud-dmp-alerts");
    assert_eq!(
        r.body["text"],
        "cloud/dmp/ms-ingestion 1.0.3 promoted to cloud/prod by ci-bot"
    );
    let context = r.body["blocks"][1].to_string();
    for link in [
        "<https://gitlab.com/yourorg/cloud-dmp|source repo>",
        "<https://gitlab.com/yourorg/cloud-dmp/-/pipelines|CI pipelines>",
        "<https://gitlab.com/yourorg/cloud-dmp/-/pipelines/4242|this pipeline run>",
    ] {
        assert!(context.contains(link), "{link} in {context}");
    }
    assert!(!r.body.to_string().contains(TOKEN));
}

#[test]
fn a_5xx_is_retried_after_a_backoff() {
    let rx = Receiver::start(
        vec![Reply::status(500, "boom"), Reply::ok()],
        Duration::from_secs(20),
    );
    let d = send(&event(), &route(&rx.url), &quick()).expect("posted on the second try");
    assert_eq!((d.status, d.attempts), (200, 2));
    let seen = rx.finish();
    assert_eq!(seen.len(), 2);
    assert!(
        seen[1].at - seen[0].at >= Duration::from_millis(50),
        "{seen:?}"
    );
    assert_eq!(seen[0].body, seen[1].body, "the same payload each time");
}

#[test]
fn a_4xx_is_not_retried() {
    let rx = Receiver::start(
        vec![Reply::status(404, "no_service"), Reply::ok()],
        Duration::from_secs(2),
    );
    let e = send(&event(), &route(&rx.url), &quick()).expect_err("refused");
    let seen = rx.finish();
    assert_eq!(seen.len(), 1, "one request only");
    match &e {
        NotifyError::Rejected {
            status, attempts, ..
        } => assert_eq!((*status, *attempts), (404, 1)),
        other => panic!("expected Rejected, got {other:?}"),
    }
    assert!(e.is_delivery_failure());
    assert!(e.to_string().contains("HTTP 404: no_service"), "{e}");
    assert_secret_free(&e);
}

#[test]
fn retry_after_is_honoured_up_to_the_cap() {
    let rx = Receiver::start(
        vec![
            Reply::Status(429, "rate_limited", vec![("retry-after", "1".into())]),
            Reply::ok(),
        ],
        Duration::from_secs(20),
    );
    let d = send(&event(), &route(&rx.url), &quick()).expect("posted after waiting");
    assert_eq!(d.attempts, 2);
    let seen = rx.finish();
    assert!(
        seen[1].at - seen[0].at >= Duration::from_secs(1),
        "{seen:?}"
    );

    // Longer than the cap: give up at once rather than block.
    let rx = Receiver::start(
        vec![
            Reply::Status(429, "rate_limited", vec![("retry-after", "60".into())]),
            Reply::ok(),
        ],
        Duration::from_secs(2),
    );
    let started = Instant::now();
    let e = send(&event(), &route(&rx.url), &quick()).expect_err("gave up");
    assert!(started.elapsed() < Duration::from_secs(2));
    assert_eq!(rx.finish().len(), 1);
    assert!(e.to_string().contains("Retry-After"), "{e}");
    assert!(
        matches!(e, NotifyError::GaveUp { attempts: 1, .. }),
        "{e:?}"
    );
    assert_secret_free(&e);
}

#[test]
fn a_silent_server_is_given_up_on_in_bounded_time() {
    let hang = Duration::from_secs(3);
    let rx = Receiver::start(
        vec![Reply::Hang(hang), Reply::Hang(hang), Reply::Hang(hang)],
        Duration::from_secs(10),
    );
    let policy = quick();
    let started = Instant::now();
    let e = send(&event(), &route(&rx.url), &policy).expect_err("gave up");
    let took = started.elapsed();
    assert!(
        took < policy.worst_case() + Duration::from_secs(1),
        "{took:?}"
    );
    match &e {
        NotifyError::GaveUp { attempts, last, .. } => {
            assert_eq!(*attempts, 3);
            assert!(last.contains("timeout"), "{last}");
        }
        other => panic!("expected GaveUp, got {other:?}"),
    }
    assert!(e.is_delivery_failure());
    assert_secret_free(&e);
    assert_eq!(rx.finish().len(), 3, "three attempts");
}

#[test]
fn a_refused_connection_is_retried_then_given_up() {
    // A port nobody listens on: bind, note it, close.
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .expect("free port")
        .port();
    let url = format!("http://127.0.0.1:{port}/services/{TOKEN}");
    let e = post(
        &Secret::new(&url),
        "#c",
        &serde_json::json!({"text": "x"}),
        &quick(),
    )
    .expect_err("nobody listens");
    assert!(
        matches!(e, NotifyError::GaveUp { attempts: 3, .. }),
        "{e:?}"
    );
    assert_secret_free(&e);
}

#[test]
fn no_webhook_is_an_error_for_send() {
    let mut r = route("unused");
    r.webhook = None;
    let e = send(&event(), &r, &quick()).expect_err("no webhook");
    assert!(matches!(e, NotifyError::NoWebhook { .. }));
    assert!(!e.is_delivery_failure());
    assert!(e.to_string().contains("$BERTH_SLACK_WEBHOOK"), "{e}");
}
