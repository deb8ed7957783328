//! The words of an alert: the one-line summary every channel carries, the
//! email subject and body, and length limits that keep them deliverable.

use super::{Alert, AlertKind};

/// How times appear to people: UTC, stated, so nobody has to guess the zone.
pub(super) fn human_time(alert: &Alert) -> String {
    alert.at.format("%Y-%m-%d %H:%M:%S UTC").to_string()
}

/// The one line every channel sends (Slack text, SMS body, PagerDuty summary).
pub(super) fn summary(alert: &Alert) -> String {
    let at = human_time(alert);
    let run = alert
        .run_id
        .map(|id| format!(", run {id}"))
        .unwrap_or_default();
    let (id, model) = (&alert.sync_id, &alert.model_name);
    let line = match alert.kind {
        AlertKind::Failure => format!("Dropsync sync {id} (model {model}) failed at {at}{run}"),
        AlertKind::Recovery => format!("Dropsync sync {id} (model {model}) recovered at {at}{run}"),
        AlertKind::Warning => format!("Dropsync sync {id} (model {model}) warning at {at}{run}"),
        AlertKind::Test => {
            format!("Test alert from Dropsync for sync {id} (model {model}) at {at}")
        }
    };
    match alert.message.trim() {
        "" => line,
        message => format!("{line}: {message}"),
    }
}

pub(super) fn email_subject(alert: &Alert) -> String {
    let what = match alert.kind {
        AlertKind::Failure => "failed",
        AlertKind::Recovery => "recovered",
        AlertKind::Warning => "warning",
        AlertKind::Test => "test alert",
    };
    // A subject is one header line: an id with a line break must not start a new header.
    one_line(&format!(
        "[dropsync] sync {} ({}) {what}",
        alert.sync_id, alert.model_name
    ))
}

pub(super) fn email_body(alert: &Alert) -> String {
    let mut body = summary(alert);
    body.push_str("\n\n");
    let mut field = |name: &str, value: &str| {
        body.push_str(&format!("{name:<8}{value}\n"));
    };
    field("Sync:", &alert.sync_id);
    if let Some(file) = &alert.sync_file {
        field("File:", file);
    }
    field("Model:", &alert.model_name);
    if let Some(run) = alert.run_id {
        field("Run:", &run.to_string());
    }
    field("Time:", &human_time(alert));
    field("Status:", alert.kind.as_str());
    let message = alert.message.trim();
    if !message.is_empty() {
        let label = match alert.kind {
            AlertKind::Failure => "Error:",
            AlertKind::Warning => "Warning:",
            AlertKind::Recovery | AlertKind::Test => "Message:",
        };
        body.push('\n');
        body.push_str(label);
        body.push('\n');
        body.push_str(message);
        body.push('\n');
    }
    body.push_str("\n-- \nSent by Dropsync.\n");
    body
}

/// Line breaks and tabs become spaces.
pub(super) fn one_line(s: &str) -> String {
    s.chars()
        .map(|c| if c.is_control() { ' ' } else { c })
        .collect()
}

/// Cuts `s` to at most `max` characters (as `count` measures them), ending in
/// an ellipsis when cut, never splitting a character.
fn truncate_by(s: &str, max: usize, count: impl Fn(char) -> usize) -> String {
    let total: usize = s.chars().map(&count).sum();
    if total <= max {
        return s.to_string();
    }
    let ellipsis = '…';
    let budget = max.saturating_sub(count(ellipsis));
    let mut used = 0;
    let mut out = String::new();
    for c in s.chars() {
        used += count(c);
        if used > budget {
            break;
        }
        out.push(c);
    }
    // A cut that lands after a space reads better without it.
    let trimmed_len = out.trim_end().len();
    out.truncate(trimmed_len);
    out.push(ellipsis);
    out
}

/// At most `max` Unicode scalar values.
pub(super) fn truncate_chars(s: &str, max: usize) -> String {
    truncate_by(s, max, |_| 1)
}

/// At most `max` UTF-16 code units: Twilio counts a message's length that
/// way, so an emoji takes two of the 1,600.
pub(super) fn truncate_utf16(s: &str, max: usize) -> String {
    truncate_by(s, max, char::len_utf16)
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    fn alert(kind: AlertKind) -> Alert {
        Alert {
            kind,
            sync_id: "7".into(),
            sync_file: Some("/syncs/customers.toml".into()),
            model_name: "customers".into(),
            run_id: Some(12),
            at: chrono::Utc.with_ymd_and_hms(2024, 1, 19, 10, 0, 5).unwrap(),
            message: "the model's query failed: no such table: customer".into(),
        }
    }

    #[test]
    fn summaries_per_kind() {
        assert_eq!(
            summary(&alert(AlertKind::Failure)),
            "Dropsync sync 7 (model customers) failed at 2024-01-19 10:00:05 UTC, run 12: the model's query failed: no such table: customer"
        );
        let mut recovered = alert(AlertKind::Recovery);
        recovered.message.clear();
        assert_eq!(
            summary(&recovered),
            "Dropsync sync 7 (model customers) recovered at 2024-01-19 10:00:05 UTC, run 12"
        );
        let mut test = alert(AlertKind::Test);
        test.message.clear();
        test.run_id = None;
        assert_eq!(
            summary(&test),
            "Test alert from Dropsync for sync 7 (model customers) at 2024-01-19 10:00:05 UTC"
        );
    }

    #[test]
    fn subject_is_one_line() {
        let mut a = alert(AlertKind::Failure);
        a.sync_id = "a\r\nBcc: x@y".into();
        let s = email_subject(&a);
        assert!(!s.contains('\n') && !s.contains('\r'), "{s}");
        assert_eq!(
            email_subject(&alert(AlertKind::Recovery)),
            "[dropsync] sync 7 (customers) recovered"
        );
    }

    #[test]
    fn body_names_everything() {
        let body = email_body(&alert(AlertKind::Failure));
        for part in [
            "Sync:   7",
            "File:   /syncs/customers.toml",
            "Model:  customers",
            "Run:    12",
            "Time:   2024-01-19 10:00:05 UTC",
            "Error:\nthe model's query failed",
        ] {
            assert!(body.contains(part), "{part:?} missing from:\n{body}");
        }
    }

    #[test]
    fn truncation_respects_characters() {
        assert_eq!(truncate_chars("abc", 3), "abc");
        assert_eq!(truncate_chars("abcdef", 4), "abc…");
        assert_eq!(truncate_chars("ab def", 4), "ab…");
        let s = "é".repeat(2000);
        let t = truncate_chars(&s, 1024);
        assert_eq!(t.chars().count(), 1024);
        let emoji = "😀".repeat(1000);
        let t = truncate_utf16(&emoji, 1600);
        assert!(t.encode_utf16().count() <= 1600);
        assert!(t.ends_with('…'));
    }
}
