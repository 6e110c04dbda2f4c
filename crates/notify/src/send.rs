//! Posting to a webhook, with bounded retries: [`RetryPolicy`], [`send`], [`post`].

use std::time::Duration;

use serde::Serialize;
use serde_json::Value;

use crate::NotifyError;
use crate::event::Event;
use crate::payload::payload;
use crate::route::Route;
use crate::secret::Secret;

/// The environment variable that overrides the per-attempt timeout, in seconds
/// (fractions allowed: `0.5`). Read by [`RetryPolicy::from_env`].
pub const TIMEOUT_ENV: &str = "BERTH_NOTIFY_TIMEOUT_SECS";

/// How hard to try. The default: 3 attempts, 5 s timeout each, waits of 0.5 s then 1 s,
/// and a `Retry-After` of at most 5 s honoured; worst case about 25 s in all
/// ([`RetryPolicy::worst_case`]).
///
/// Retried: timeouts, connection errors, HTTP 5xx and 429. Not retried: any other
/// status (a 4xx means the request or the webhook is wrong and will stay wrong).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RetryPolicy {
    /// Attempts in all (at least 1).
    pub attempts: u32,
    /// The time limit of one attempt: connecting, sending and reading the answer.
    pub timeout: Duration,
    /// The wait before the second attempt; it doubles before each later one.
    pub backoff: Duration,
    /// The longest `Retry-After` (of a 429 or 503) honoured. A server asking for a longer
    /// wait makes the sender give up at once rather than block the pipeline.
    pub max_retry_after: Duration,
}

impl Default for RetryPolicy {
    fn default() -> Self {
        RetryPolicy {
            attempts: 3,
            timeout: Duration::from_secs(5),
            backoff: Duration::from_millis(500),
            max_retry_after: Duration::from_secs(5),
        }
    }
}

impl RetryPolicy {
    /// The default policy, with the per-attempt timeout from `$BERTH_NOTIFY_TIMEOUT_SECS`
    /// when that is a positive number of seconds (at most 60).
    pub fn from_env() -> Self {
        Self::from_env_with(|k| std::env::var(k).ok())
    }

    /// [`RetryPolicy::from_env`] with the environment given as a function.
    pub fn from_env_with(env: impl Fn(&str) -> Option<String>) -> Self {
        let mut p = RetryPolicy::default();
        if let Some(secs) = env(TIMEOUT_ENV)
            .and_then(|s| s.trim().parse::<f64>().ok())
            .filter(|s| s.is_finite() && *s > 0.0)
        {
            p.timeout = Duration::from_secs_f64(secs.min(60.0));
        }
        p
    }

    /// The wait before attempt `n + 1` after attempt `n` failed (`n` from 1).
    pub fn backoff_after(&self, n: u32) -> Duration {
        let factor = 1u32 << n.saturating_sub(1).min(16);
        self.backoff.saturating_mul(factor)
    }

    /// The longest [`post`] can take with this policy (plus connection set-up slack):
    /// every attempt timing out and every wait at its longest.
    pub fn worst_case(&self) -> Duration {
        let n = self.attempts.max(1);
        let waits: Duration = (1..n)
            .map(|i| self.backoff_after(i).max(self.max_retry_after))
            .sum();
        self.timeout.saturating_mul(n) + waits
    }
}

/// A notification that was posted.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Delivery {
    /// The channel it went to.
    pub channel: String,
    /// The HTTP status of the successful attempt.
    pub status: u16,
    /// How many attempts it took.
    pub attempts: u32,
}

/// Posts the payload of `event` to the webhook of `route`, retrying as `policy` says.
///
/// Fails with [`NotifyError::NoWebhook`] when the route has no webhook,
/// [`NotifyError::Rejected`] on a status that is not retried, and
/// [`NotifyError::GaveUp`] when the retries ran out. Never returns later than
/// [`RetryPolicy::worst_case`] (plus a little). No error message holds the webhook URL.
pub fn send(event: &Event, route: &Route, policy: &RetryPolicy) -> Result<Delivery, NotifyError> {
    let Some(webhook) = &route.webhook else {
        return Err(NotifyError::NoWebhook {
            channel: route.channel.clone(),
            vars: route.webhook_vars.clone(),
        });
    };
    post(webhook, &route.channel, &payload(event, route), policy)
}

/// Posts any JSON `body` to `webhook` with `policy` (what [`send`] does after building
/// the payload); `channel` is for messages.
pub fn post(
    webhook: &Secret,
    channel: &str,
    body: &Value,
    policy: &RetryPolicy,
) -> Result<Delivery, NotifyError> {
    let url = webhook.expose();
    let lower = url.to_ascii_lowercase();
    if !(lower.starts_with("https://") || lower.starts_with("http://")) {
        return Err(NotifyError::BadWebhook {
            channel: channel.to_owned(),
        });
    }
    let attempts = policy.attempts.max(1);
    let mut last = String::new();
    for n in 1..=attempts {
        let (outcome, retry_after) = attempt(webhook, body, policy.timeout);
        match outcome {
            Outcome::Posted(status) => {
                return Ok(Delivery {
                    channel: channel.to_owned(),
                    status,
                    attempts: n,
                });
            }
            Outcome::Refused { status, answer } => {
                return Err(NotifyError::Rejected {
                    channel: channel.to_owned(),
                    status,
                    answer: webhook.redact(&answer),
                    attempts: n,
                });
            }
            Outcome::Retry(why) => last = webhook.redact(&why),
        }
        if n == attempts {
            break;
        }
        let mut wait = policy.backoff_after(n);
        if let Some(ra) = retry_after {
            if ra > policy.max_retry_after {
                return Err(NotifyError::GaveUp {
                    channel: channel.to_owned(),
                    attempts: n,
                    last: format!(
                        "{last}; the server asks to wait {} s (Retry-After), longer than the {} s berth waits",
                        ra.as_secs(),
                        policy.max_retry_after.as_secs_f64()
                    ),
                });
            }
            wait = wait.max(ra);
        }
        std::thread::sleep(wait);
    }
    Err(NotifyError::GaveUp {
        channel: channel.to_owned(),
        attempts,
        last,
    })
}

/// What one attempt came to.
enum Outcome {
    /// 2xx.
    Posted(u16),
    /// A status that retrying will not change.
    Refused { status: u16, answer: String },
    /// Worth another try: why this one failed.
    Retry(String),
}

/// The most of a server's answer kept for a message.
const MAX_ANSWER_BYTES: u64 = 2048;

fn attempt(webhook: &Secret, body: &Value, timeout: Duration) -> (Outcome, Option<Duration>) {
    let result = ureq::post(webhook.expose())
        .config()
        .timeout_global(Some(timeout))
        .http_status_as_error(false)
        .max_redirects(0)
        .user_agent(concat!("berth/", env!("CARGO_PKG_VERSION")))
        .build()
        .send_json(body);
    let mut resp = match result {
        Ok(r) => r,
        Err(e) => return (transport_error(&e, timeout), None),
    };
    let status = resp.status().as_u16();
    if (200..300).contains(&status) {
        return (Outcome::Posted(status), None);
    }
    let retry_after = resp
        .headers()
        .get("retry-after")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.trim().parse::<u64>().ok())
        .map(Duration::from_secs);
    let answer = resp
        .body_mut()
        .with_config()
        .limit(MAX_ANSWER_BYTES)
        .read_to_string()
        // Redacted before it is cut short, so no piece of the token survives the cut.
        .map(|s| clean(&webhook.redact(&s)))
        .unwrap_or_default();
    let described = if answer.is_empty() {
        format!("HTTP {status}")
    } else {
        format!("HTTP {status}: {answer}")
    };
    if status == 429 || (500..600).contains(&status) {
        (Outcome::Retry(described), retry_after)
    } else {
        (Outcome::Refused { status, answer }, None)
    }
}

/// Our own words for a transport error: ureq's messages may quote the URL.
fn transport_error(e: &ureq::Error, timeout: Duration) -> Outcome {
    match e {
        ureq::Error::Timeout(_) => Outcome::Retry(format!(
            "no answer within {} s (timeout)",
            timeout.as_secs_f64()
        )),
        ureq::Error::Io(io) => Outcome::Retry(format!("connection error: {}", io.kind())),
        ureq::Error::HostNotFound => Outcome::Retry("host not found".into()),
        ureq::Error::ConnectionFailed => Outcome::Retry("connection failed".into()),
        ureq::Error::Protocol(_) => Outcome::Retry("malformed HTTP answer".into()),
        ureq::Error::BadUri(_) | ureq::Error::Http(_) => Outcome::Refused {
            status: 0,
            answer: "the webhook is not a valid URL".into(),
        },
        ureq::Error::Tls(_) => Outcome::Refused {
            status: 0,
            answer: "TLS error talking to the webhook host".into(),
        },
        _ => Outcome::Retry("request failed".into()),
    }
}

/// One line of printable text, at most 200 characters.
fn clean(s: &str) -> String {
    let one: String = s
        .chars()
        .map(|c| if c.is_control() { ' ' } else { c })
        .collect();
    let one = one.split_whitespace().collect::<Vec<_>>().join(" ");
    match one.char_indices().nth(200) {
        Some((i, _)) => format!("{}…", &one[..i]),
        None => one,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn default_policy_is_bounded() {
        let p = RetryPolicy::default();
        assert_eq!(p.backoff_after(1), Duration::from_millis(500));
        assert_eq!(p.backoff_after(2), Duration::from_secs(1));
        assert!(p.worst_case() <= Duration::from_secs(25), "{p:?}");
    }

    #[test]
    fn timeout_from_env() {
        let p = RetryPolicy::from_env_with(|k| (k == TIMEOUT_ENV).then(|| "0.5".into()));
        assert_eq!(p.timeout, Duration::from_millis(500));
        for bad in ["", "x", "-1", "0", "NaN"] {
            let p = RetryPolicy::from_env_with(|_| Some(bad.into()));
            assert_eq!(p, RetryPolicy::default(), "{bad}");
        }
        let p = RetryPolicy::from_env_with(|_| Some("1e9".into()));
        assert_eq!(p.timeout, Duration::from_secs(60));
    }

    #[test]
    fn answers_are_one_short_line() {
        assert_eq!(clean("no_service\n\r\x1b[31m"), "no_service [31m");
        assert_eq!(clean(&"a".repeat(300)).chars().count(), 201);
    }

    #[test]
    fn a_non_http_webhook_is_refused_without_a_request() {
        let e = post(
            &Secret::new("ftp://example.invalid/secret-token"),
            "#c",
            &Value::Null,
            &RetryPolicy::default(),
        )
        .expect_err("refused");
        assert!(matches!(e, NotifyError::BadWebhook { .. }), "{e}");
        assert!(!e.to_string().contains("secret-token"), "{e}");
    }
}
