//! The Slack incoming-webhook message for an event: `channel`, a plain `text` (what
//! notifications and old clients show) and Block Kit `blocks`.

use serde_json::{Value, json};

use crate::event::{Event, EventKind};
use crate::route::Route;

/// The most characters a detail takes in a message (after escaping); longer ones are cut
/// (Slack refuses section texts over 3000 characters).
pub const MAX_DETAIL_CHARS: usize = 2000;

/// The webhook JSON for `event` sent along `route`:
///
/// ```json
/// { "channel": "#cloud-dmp-alerts",
///   "text": "cloud/dmp/ms-ingestion 1.0.3 promoted to cloud/prod by ci-bot",
///   "blocks": [
///     { "type": "section", "text": { "type": "mrkdwn", "text": ":rocket: *cloud/dmp/ms-ingestion* `1.0.3` …" } },
///     { "type": "context", "elements": [ { "type": "mrkdwn", "text": "owner: cloud-dmp" },
///                                        { "type": "mrkdwn", "text": "<https://…|source repo>" }, … ] } ] }
/// ```
///
/// The context links are the owner's `source_repo` and `ci_pipeline` and, when the event
/// has one, the pipeline run that caused it. User text is escaped for mrkdwn; links are
/// only made of `http(s)` URLs. The webhook URL is never part of the payload.
pub fn payload(event: &Event, route: &Route) -> Value {
    let mut section = format!("{} {}", emoji(event.kind), event.describe(true));
    if let Some(detail) = event
        .detail
        .as_deref()
        .map(str::trim)
        .filter(|d| !d.is_empty())
    {
        section.push_str(&quote(detail, MAX_DETAIL_CHARS));
    }
    let mut context = vec![mrkdwn(&format!(
        "owner: {} ({})",
        escape(&route.owner_team),
        escape(&route.group)
    ))];
    let links = [
        (route.source_repo.as_deref(), "source repo"),
        (route.ci_pipeline.as_deref(), "CI pipelines"),
        (event.pipeline_url.as_deref(), "this pipeline run"),
    ];
    for (url, label) in links {
        if let Some(url) = url.map(str::trim).filter(|u| !u.is_empty()) {
            context.push(mrkdwn(&link(url, label)));
        }
    }
    json!({
        "channel": route.channel,
        "text": escape(&event.summary()),
        "blocks": [
            { "type": "section", "text": { "type": "mrkdwn", "text": section } },
            { "type": "context", "elements": context },
        ],
    })
}

fn mrkdwn(text: &str) -> Value {
    json!({ "type": "mrkdwn", "text": text })
}

fn emoji(kind: EventKind) -> &'static str {
    match kind {
        EventKind::Added => ":package:",
        EventKind::ValidationFailed => ":x:",
        EventKind::Promoted => ":rocket:",
        EventKind::PromotionRefused => ":no_entry:",
        EventKind::RolledBack => ":rewind:",
    }
}

/// Escapes the three characters Slack's mrkdwn gives a meaning to (`&`, `<`, `>`).
pub fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            c => out.push(c),
        }
    }
    out
}

/// `<url|label>` for an `http(s)` URL; the escaped URL as plain text otherwise.
fn link(url: &str, label: &str) -> String {
    let lower = url.to_ascii_lowercase();
    if lower.starts_with("https://") || lower.starts_with("http://") {
        let url = escape(url).replace('|', "%7C");
        format!("<{url}|{label}>")
    } else {
        format!("{label}: {}", escape(url))
    }
}

/// `text` as mrkdwn quote lines (`\n>line`, escaped), at most about `max` characters in
/// all (counted after escaping), with a note when something was cut.
fn quote(text: &str, max: usize) -> String {
    let mut out = String::new();
    let mut used = 0;
    for line in text.lines() {
        out.push_str("\n>");
        used += 2;
        for c in line.chars() {
            let e = escape(c.encode_utf8(&mut [0u8; 4]));
            used += e.chars().count();
            if used > max {
                out.push_str("… (truncated)");
                return out;
            }
            out.push_str(&e);
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::secret::Secret;
    use berth_model::{ComponentPath, DomainName, EnvName, Version};

    fn route() -> Route {
        Route {
            channel: "#cloud-dmp-alerts".into(),
            webhook: Some(Secret::new(
                "https://hooks.example.invalid/services/T/B/SECRET",
            )),
            webhook_env: Some("BERTH_SLACK_WEBHOOK".into()),
            webhook_vars: vec!["BERTH_SLACK_WEBHOOK".into()],
            group: "cloud/dmp".into(),
            ownership_file: "components/cloud/dmp/ownership.yaml".into(),
            owner_team: "cloud-dmp".into(),
            source_repo: Some("https://gitlab.com/yourorg/cloud-dmp".into()),
            ci_pipeline: Some("https://gitlab.com/yourorg/cloud-dmp/-/pipelines".into()),
        }
    }

    fn event(kind: EventKind) -> Event {
        Event::new(
            kind,
            ComponentPath::parse("cloud/dmp/ms-ingestion").expect("valid"),
        )
        .with_version(Version::parse("1.0.3").expect("valid"))
        .with_stage(
            DomainName::parse("cloud").expect("valid"),
            EnvName::parse("prod").expect("valid"),
        )
        .with_actor("ci-bot")
    }

    #[test]
    fn channel_text_and_links() {
        let p = payload(
            &event(EventKind::Promoted)
                .with_pipeline_url("https://gitlab.com/yourorg/cloud-dmp/-/pipelines/42"),
            &route(),
        );
        assert_eq!(p["channel"], "#cloud-dmp-alerts");
        assert_eq!(
            p["text"],
            "cloud/dmp/ms-ingestion 1.0.3 promoted to cloud/prod by ci-bot"
        );
        assert_eq!(
            p["blocks"][0]["text"]["text"],
            ":rocket: *cloud/dmp/ms-ingestion* `1.0.3` promoted to *cloud/prod* by ci-bot"
        );
        let ctx: Vec<&str> = p["blocks"][1]["elements"]
            .as_array()
            .expect("elements")
            .iter()
            .filter_map(|e| e["text"].as_str())
            .collect();
        assert_eq!(
            ctx,
            [
                "owner: cloud-dmp (cloud/dmp)",
                "<https://gitlab.com/yourorg/cloud-dmp|source repo>",
                "<https://gitlab.com/yourorg/cloud-dmp/-/pipelines|CI pipelines>",
                "<https://gitlab.com/yourorg/cloud-dmp/-/pipelines/42|this pipeline run>",
            ]
        );
        assert!(!p.to_string().contains("SECRET"), "{p}");
    }

    #[test]
    fn detail_is_quoted_escaped_and_bounded() {
        let p = payload(
            &event(EventKind::PromotionRefused)
                .with_detail("gate approvals: needs 1 <approval> & got 0\nsecond line"),
            &route(),
        );
        assert_eq!(
            p["blocks"][0]["text"]["text"],
            ":no_entry: promotion of *cloud/dmp/ms-ingestion* `1.0.3` to *cloud/prod* refused by ci-bot\n>gate approvals: needs 1 &lt;approval&gt; &amp; got 0\n>second line"
        );
        for long in [
            "x".repeat(MAX_DETAIL_CHARS + 50),
            "&".repeat(MAX_DETAIL_CHARS),
            "a\n".repeat(MAX_DETAIL_CHARS),
            "é".repeat(MAX_DETAIL_CHARS + 1),
        ] {
            let p = payload(
                &event(EventKind::ValidationFailed).with_detail(long),
                &route(),
            );
            let text = p["blocks"][0]["text"]["text"].as_str().expect("text");
            assert!(text.ends_with("… (truncated)"), "{text}");
            assert!(text.chars().count() < 3000, "{}", text.chars().count());
        }
    }

    #[test]
    fn links_only_for_http_urls() {
        let mut r = route();
        r.source_repo = Some("git@gitlab.com:yourorg/x.git".into());
        r.ci_pipeline = None;
        let p = payload(
            &event(EventKind::Added).with_pipeline_url("https://ci/x?a=1|b>"),
            &r,
        );
        let ctx = &p["blocks"][1]["elements"];
        assert_eq!(ctx[1]["text"], "source repo: git@gitlab.com:yourorg/x.git");
        assert_eq!(
            ctx[2]["text"],
            "<https://ci/x?a=1%7Cb&gt;|this pipeline run>"
        );
        assert_eq!(ctx.as_array().map(Vec::len), Some(3));
    }
}
