//! Slack incoming webhooks: `POST {"text": ...}` to the webhook URL.

use reqwest::Url;

use super::error::AlertError;
use super::http;
use super::problems::Problems;
use super::send::Context;
use super::Alert;
use crate::dropbox::Secret;
use crate::secret::SecretRef;

pub(super) struct Settings {
    url: Url,
    /// The URL's text, its path and its last segment (the token): scrubbed
    /// from anything the receiver echoes back.
    secret_parts: Vec<Secret>,
}

pub(super) fn prepare(index: usize, webhook_url: &SecretRef) -> Result<Settings, Vec<AlertError>> {
    let mut p = Problems::new(index, "slack");
    let url = p.secret("webhook_url", webhook_url).and_then(|secret| {
        let url = p.http_url(
            "webhook_url",
            secret.expose(),
            false,
            "https://hooks.slack.com/services/T000/B000/XXXX",
        )?;
        Some((url, secret))
    });
    p.finish(url.map(|(url, text)| {
        let mut secret_parts = vec![text, Secret::new(url.path())];
        if let Some(token) = url.path_segments().and_then(|mut s| s.next_back()) {
            secret_parts.push(Secret::new(token));
        }
        Settings { url, secret_parts }
    }))
}

pub(super) fn deliver(s: &Settings, ctx: &Context, alert: &Alert) -> (u32, Result<(), AlertError>) {
    let client = match ctx.http() {
        Ok(c) => c,
        Err(e) => return (0, Err(e)),
    };
    let body = serde_json::json!({ "text": escape(&alert.summary()) });
    let secrets: Vec<&str> = s.secret_parts.iter().map(Secret::expose).collect();
    http::post(client, &ctx.policy, "slack", &s.url, &secrets, |r| {
        r.json(&body)
    })
}

/// Slack reads `&`, `<` and `>` as markup in message text; an error message
/// containing `<table>` must arrive as written.
fn escape(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
}

#[cfg(test)]
mod tests {
    #[test]
    fn escapes_markup() {
        assert_eq!(
            super::escape("a < b && c > d"),
            "a &lt; b &amp;&amp; c &gt; d"
        );
    }
}
