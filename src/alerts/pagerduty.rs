//! PagerDuty Events API v2: a failure triggers an incident keyed by the
//! sync, and the recovery resolves that same incident.

use chrono::SecondsFormat;
use reqwest::Url;
use serde_json::{json, Value};

use super::error::AlertError;
use super::http;
use super::problems::Problems;
use super::send::Context;
use super::text::{one_line, truncate_chars};
use super::{Alert, AlertKind};
use crate::dropbox::Secret;
use crate::secret::SecretRef;

pub(super) const DEFAULT_EVENTS_URL: &str = "https://events.pagerduty.com/v2/enqueue";
const SEVERITIES: [&str; 4] = ["critical", "error", "warning", "info"];
const DEFAULT_SEVERITY: &str = "error";
/// PagerDuty's limits on `payload.summary` and `dedup_key`.
const SUMMARY_MAX_CHARS: usize = 1024;
const DEDUP_KEY_MAX_BYTES: usize = 255;

pub(super) struct Settings {
    routing_key: Secret,
    url: Url,
    severity: &'static str,
}

pub(super) fn prepare(
    index: usize,
    routing_key: &SecretRef,
    events_url: Option<&str>,
    severity: Option<&str>,
) -> Result<Settings, Vec<AlertError>> {
    let mut p = Problems::new(index, "pagerduty");
    let routing_key = p.secret("routing_key", routing_key);
    let url = p.http_url(
        "events_url",
        events_url.unwrap_or(DEFAULT_EVENTS_URL),
        true,
        DEFAULT_EVENTS_URL,
    );
    let severity = match severity {
        None => Some(DEFAULT_SEVERITY),
        Some(s) => match SEVERITIES.iter().find(|known| **known == s.trim()) {
            Some(known) => Some(*known),
            None => {
                p.add(
                    "severity",
                    format!("{s:?} is not a severity; use \"critical\", \"error\", \"warning\" or \"info\""),
                );
                None
            }
        },
    };
    let settings = match (routing_key, url, severity) {
        (Some(routing_key), Some(url), Some(severity)) => Some(Settings {
            routing_key,
            url,
            severity,
        }),
        _ => None,
    };
    p.finish(settings)
}

pub(super) fn deliver(s: &Settings, ctx: &Context, alert: &Alert) -> (u32, Result<(), AlertError>) {
    let client = match ctx.http() {
        Ok(c) => c,
        Err(e) => return (0, Err(e)),
    };
    let body = event(s, alert, &ctx.source_host);
    http::post(
        client,
        &ctx.policy,
        "pagerduty",
        &s.url,
        &[s.routing_key.expose()],
        |r| r.json(&body),
    )
}

/// One incident per sync, so that a recovery resolves what the failure
/// opened; warnings and tests get keys of their own so they never resolve
/// (or get merged into) a real failure.
pub(super) fn dedup_key(sync_id: &str, kind: AlertKind) -> String {
    let suffix = match kind {
        AlertKind::Failure | AlertKind::Recovery => "",
        AlertKind::Warning => "-warning",
        AlertKind::Test => "-test",
    };
    let key = format!("dropsync-{sync_id}{suffix}");
    if key.len() <= DEDUP_KEY_MAX_BYTES {
        return key;
    }
    // Too long for PagerDuty: a prefix keeps it readable, the hash unique.
    let mut cut = 200;
    while !sync_id.is_char_boundary(cut) {
        cut -= 1;
    }
    let hash = xxhash_rust::xxh3::xxh3_64(sync_id.as_bytes());
    format!("dropsync-{}-{hash:016x}{suffix}", &sync_id[..cut])
}

fn event(s: &Settings, alert: &Alert, source_host: &str) -> Value {
    let dedup_key = dedup_key(&alert.sync_id, alert.kind);
    if alert.kind == AlertKind::Recovery {
        return json!({
            "routing_key": s.routing_key.expose(),
            "event_action": "resolve",
            "dedup_key": dedup_key,
        });
    }
    let severity = match alert.kind {
        AlertKind::Warning => "warning",
        _ => s.severity,
    };
    let detail_key = match alert.kind {
        AlertKind::Failure => "error",
        AlertKind::Warning => "warning",
        _ => "message",
    };
    let mut details = json!({
        "sync_id": alert.sync_id,
        "run_id": alert.run_id,
        "sync_file": alert.sync_file,
        "model": alert.model_name,
    });
    details[detail_key] = json!(alert.message);
    json!({
        "routing_key": s.routing_key.expose(),
        "event_action": "trigger",
        "dedup_key": dedup_key,
        "client": "Dropsync",
        "payload": {
            "summary": truncate_chars(&one_line(&alert.summary()), SUMMARY_MAX_CHARS),
            "source": format!("dropsync on {source_host}"),
            "severity": severity,
            "timestamp": alert.at.to_rfc3339_opts(SecondsFormat::Secs, true),
            "component": alert.model_name,
            "group": alert.sync_id,
            "class": alert.kind.as_str(),
            "custom_details": details,
        },
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dedup_keys() {
        assert_eq!(dedup_key("7", AlertKind::Failure), "dropsync-7");
        assert_eq!(dedup_key("7", AlertKind::Recovery), "dropsync-7");
        assert_eq!(dedup_key("7", AlertKind::Warning), "dropsync-7-warning");
        assert_eq!(dedup_key("7", AlertKind::Test), "dropsync-7-test");
        let long = "é".repeat(300);
        let key = dedup_key(&long, AlertKind::Warning);
        assert!(key.len() <= DEDUP_KEY_MAX_BYTES, "{}", key.len());
        assert!(key.ends_with("-warning"));
        assert_ne!(key, dedup_key(&"é".repeat(301), AlertKind::Warning));
    }

    #[test]
    fn bad_severity_is_named() {
        let errs = prepare(2, &SecretRef::literal("k"), None, Some("high"))
            .err()
            .unwrap();
        assert_eq!(errs.len(), 1);
        let text = errs[0].to_string();
        assert!(
            text.starts_with("alert #2 (pagerduty): severity: \"high\""),
            "{text}"
        );
    }
}
