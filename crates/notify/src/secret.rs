//! [`Secret`]: a webhook URL that never prints itself.

use std::fmt;

/// What a [`Secret`] prints instead of itself.
pub const REDACTED: &str = "[redacted]";

/// A value that must never be printed: a Slack webhook URL is a bearer credential (anyone
/// who has it can post to the channel).
///
/// `Debug` and `Display` print `[redacted]`; the value is reachable only through
/// [`Secret::expose`], which the sender calls once per request. It is deliberately not
/// `Serialize`.
///
/// ```
/// use berth_notify::Secret;
/// let s = Secret::new("https://hooks.slack.com/services/T000/B000/XXXX");
/// assert_eq!(format!("{s} {s:?}"), "[redacted] [redacted]");
/// ```
#[derive(Clone, PartialEq, Eq)]
pub struct Secret(String);

impl Secret {
    /// Wraps a secret value.
    pub fn new(value: impl Into<String>) -> Self {
        Secret(value.into())
    }

    /// The value itself. Never print it: pass it to the HTTP client and nowhere else.
    pub fn expose(&self) -> &str {
        &self.0
    }

    /// `text` with every occurrence of the secret (and of its path, the part of a webhook
    /// URL that holds the token) replaced by `[redacted]`: for messages that come from
    /// elsewhere (an HTTP library, a server's answer) and might echo it.
    pub fn redact(&self, text: &str) -> String {
        let mut out = text.to_owned();
        if !self.0.is_empty() {
            out = out.replace(&self.0, REDACTED);
        }
        // `https://host/services/T/B/token`: the path alone is as secret as the whole, and so
        // is each token-like piece of it (a server may echo just the token, or a query
        // parameter). Longest first, so a piece inside another is not half-replaced.
        let mut pieces: Vec<&str> = Vec::new();
        if let Some((_, rest)) = self.0.split_once("://") {
            if let Some(i) = rest.find('/') {
                pieces.push(&rest[i..]);
            }
            if let Some((userinfo, _)) = rest.split_once('@')
                && !userinfo.contains('/')
            {
                pieces.push(userinfo);
            }
            let after_host = rest.find('/').map_or("", |i| &rest[i..]);
            pieces.extend(after_host.split(['/', '?', '&', '=', '#']));
        }
        pieces.retain(|p| p.len() >= MIN_SECRET_PIECE);
        pieces.sort_by_key(|p| std::cmp::Reverse(p.len()));
        for p in pieces {
            out = out.replace(p, REDACTED);
        }
        out
    }
}

/// The shortest piece of a webhook URL treated as secret on its own: shorter path segments
/// (`services`, `hooks`) are common words, not tokens.
const MIN_SECRET_PIECE: usize = 9;

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(REDACTED)
    }
}

impl fmt::Display for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(REDACTED)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const URL: &str = "https://hooks.slack.com/services/T000/B000/XXXXSECRET";

    #[test]
    fn never_prints_itself() {
        let s = Secret::new(URL);
        assert_eq!(s.to_string(), REDACTED);
        assert_eq!(format!("{s:?}"), REDACTED);
        assert_eq!(format!("{:?}", Some(s.clone())), "Some([redacted])");
        assert_eq!(s.expose(), URL);
    }

    #[test]
    fn redacts_the_url_and_its_path() {
        let s = Secret::new(URL);
        assert_eq!(
            s.redact(&format!("posting to {URL} failed")),
            "posting to [redacted] failed"
        );
        assert_eq!(
            s.redact("bad path /services/T000/B000/XXXXSECRET"),
            "bad path [redacted]"
        );
        assert_eq!(s.redact("nothing here"), "nothing here");
        // A server that echoes only the token (or a query parameter) gets it redacted too.
        assert_eq!(
            s.redact("invalid_token: XXXXSECRET"),
            "invalid_token: [redacted]"
        );
        let q = Secret::new("https://hooks.example/api/notify?key=abcdef0123456789&x=1");
        assert_eq!(
            q.redact("key abcdef0123456789 rejected"),
            "key [redacted] rejected"
        );
        // Common short words of the URL stay readable.
        assert_eq!(s.redact("services are down"), "services are down");
        assert_eq!(Secret::new("").redact("text"), "text");
    }
}
