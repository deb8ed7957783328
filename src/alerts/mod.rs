//! Alert delivery: tells people when a sync starts failing, recovers, warns,
//! or when they ask for a test — over Slack, PagerDuty, Twilio SMS and email.
//!
//! Deciding *when* to alert (one alert per change of state) belongs to the
//! caller; this module only delivers, to every channel at once, with bounded
//! retries, and reports one [`Outcome`] per message sent.

mod email;
mod error;
mod http;
mod pagerduty;
mod problems;
mod retry;
mod send;
mod slack;
mod sms;
mod text;
mod validate;

use std::fmt;

use serde::{Deserialize, Serialize};

pub use crate::secret::{SecretError, SecretRef};
pub use error::AlertError;
pub use send::{send_all, send_all_with};
pub use validate::validate;

/// Extra trusted root certificate (PEM file) for alert receivers, e.g. a
/// corporate proxy or a test server with a self-signed certificate.
pub const CA_CERT_ENV: &str = crate::env_vars::ALERT_CA_CERT;

/// What alert delivery reads from the environment, read once and passed
/// down (tests give their own instead of setting variables).
#[derive(Debug, Clone)]
pub struct Settings {
    /// The first retry backoff (`DROPSYNC_ALERT_RETRY_BASE_MS`, default 500 ms).
    pub retry_base: std::time::Duration,
    /// An extra trusted CA for receivers (`DROPSYNC_ALERT_CA_CERT`).
    pub extra_ca: Option<std::path::PathBuf>,
}

impl Settings {
    pub fn from_env() -> Settings {
        Settings {
            retry_base: retry::base_from_env(),
            extra_ca: crate::env_vars::get(CA_CERT_ENV).map(std::path::PathBuf::from),
        }
    }
}
/// Base of the retry backoff in milliseconds (default 500).
pub const RETRY_BASE_ENV: &str = retry::BASE_ENV;

/// One `[[alerts]]` table of a sync TOML. Its Debug output is safe to log:
/// secrets show as `***` (or their `env:` name).
#[derive(Clone, PartialEq, Deserialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
#[serde(tag = "type", rename_all = "lowercase", deny_unknown_fields)]
pub enum ChannelSpec {
    /// A Slack incoming webhook. The URL itself is the credential.
    Slack { webhook_url: SecretRef },
    /// PagerDuty Events API v2: failures trigger, recoveries resolve.
    Pagerduty {
        routing_key: SecretRef,
        #[serde(default)]
        events_url: Option<String>,
        /// `critical`, `error`, `warning` or `info`; default `error`.
        #[serde(default)]
        severity: Option<String>,
    },
    /// Twilio Programmable Messaging: one SMS per recipient.
    Sms {
        account_sid: String,
        auth_token: SecretRef,
        from: String,
        to: Vec<String>,
        #[serde(default)]
        api_url: Option<String>,
    },
    /// Email over SMTP: `smtp://[user@]host[:port][?tls=starttls|tls|none]`.
    Email {
        smtp_url: String,
        #[serde(default)]
        password: Option<SecretRef>,
        from: String,
        to: Vec<String>,
    },
}

impl fmt::Debug for ChannelSpec {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ChannelSpec::Slack { webhook_url } => f
                .debug_struct("Slack")
                .field("webhook_url", webhook_url)
                .finish(),
            ChannelSpec::Pagerduty {
                routing_key,
                events_url,
                severity,
            } => f
                .debug_struct("Pagerduty")
                .field("routing_key", routing_key)
                .field("events_url", events_url)
                .field("severity", severity)
                .finish(),
            ChannelSpec::Sms {
                account_sid,
                auth_token,
                from,
                to,
                api_url,
            } => f
                .debug_struct("Sms")
                .field("account_sid", account_sid)
                .field("auth_token", auth_token)
                .field("from", from)
                .field("to", to)
                .field("api_url", api_url)
                .finish(),
            // A password written into smtp_url is refused, but may be
            // logged before it is: hide it here too.
            ChannelSpec::Email {
                smtp_url,
                password,
                from,
                to,
            } => f
                .debug_struct("Email")
                .field("smtp_url", &email::redacted_url(smtp_url))
                .field("password", password)
                .field("from", from)
                .field("to", to)
                .finish(),
        }
    }
}

impl ChannelSpec {
    /// The `type` as written in the file.
    pub fn kind(&self) -> &'static str {
        match self {
            ChannelSpec::Slack { .. } => "slack",
            ChannelSpec::Pagerduty { .. } => "pagerduty",
            ChannelSpec::Sms { .. } => "sms",
            ChannelSpec::Email { .. } => "email",
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
#[serde(rename_all = "lowercase")]
pub enum AlertKind {
    /// The sync went from healthy to failing.
    Failure,
    /// A failing sync succeeded again.
    Recovery,
    /// The run succeeded but something needs attention.
    Warning,
    /// Asked for by the user, to check the channels.
    Test,
}

impl AlertKind {
    /// A stored kind; one this version does not know reads as a warning.
    pub fn parse(s: &str) -> AlertKind {
        [
            AlertKind::Failure,
            AlertKind::Recovery,
            AlertKind::Warning,
            AlertKind::Test,
        ]
        .into_iter()
        .find(|k| k.as_str() == s)
        .unwrap_or(AlertKind::Warning)
    }

    pub fn as_str(self) -> &'static str {
        match self {
            AlertKind::Failure => "failure",
            AlertKind::Recovery => "recovery",
            AlertKind::Warning => "warning",
            AlertKind::Test => "test",
        }
    }
}

impl std::fmt::Display for AlertKind {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Alert {
    pub kind: AlertKind,
    pub sync_id: String,
    /// The sync's TOML path, for humans.
    pub sync_file: Option<String>,
    pub model_name: String,
    pub run_id: Option<i64>,
    pub at: chrono::DateTime<chrono::Utc>,
    /// The error (Failure), the warning text, or a test/recovery line.
    pub message: String,
}

impl Alert {
    /// The one-line text every channel carries; also fits a desktop notification.
    pub fn summary(&self) -> String {
        text::summary(self)
    }

    /// The email subject, e.g. `[dropsync] sync 7 (customers) failed`.
    pub fn subject(&self) -> String {
        text::email_subject(self)
    }
}

/// The result of one message: one per Slack/PagerDuty/email channel, one per
/// SMS recipient.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Outcome {
    /// Which `[[alerts]]` table, counting from 1 as the messages do.
    pub index: usize,
    /// e.g. `slack`, `pagerduty`, `sms +15551234567`, `email ops@example.com`.
    pub channel: String,
    pub ok: bool,
    /// Requests made; 0 when the settings were unusable and nothing was sent.
    pub attempts: u32,
    pub error: Option<String>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_every_channel_type() {
        #[derive(Deserialize)]
        struct File {
            alerts: Vec<ChannelSpec>,
        }
        let file: File = toml::from_str(
            r#"
            [[alerts]]
            type = "slack"
            webhook_url = "env:SLACK_URL"

            [[alerts]]
            type = "pagerduty"
            routing_key = "R0UTINGKEY"
            severity = "critical"

            [[alerts]]
            type = "sms"
            account_sid = "AC123"
            auth_token = "env:TWILIO_TOKEN"
            from = "+15550001111"
            to = ["+15550002222"]

            [[alerts]]
            type = "email"
            smtp_url = "smtp://alerts@smtp.example.com:587?tls=starttls"
            password = "env:SMTP_PASSWORD"
            from = "Dropsync <alerts@example.com>"
            to = ["ops@example.com"]
            "#,
        )
        .unwrap();
        let kinds: Vec<_> = file.alerts.iter().map(ChannelSpec::kind).collect();
        assert_eq!(kinds, ["slack", "pagerduty", "sms", "email"]);
        match &file.alerts[0] {
            ChannelSpec::Slack { webhook_url } => {
                assert_eq!(webhook_url.env_name(), Some("SLACK_URL"))
            }
            other => panic!("{other:?}"),
        }
        // Debug output is safe to log: literal secrets are hidden.
        let debug = format!("{:?}", file.alerts[1]);
        assert!(!debug.contains("R0UTINGKEY"), "{debug}");
        let spec = ChannelSpec::Email {
            smtp_url: "smtp://me:hunter2@smtp.example.com".into(),
            password: None,
            from: "a@example.com".into(),
            to: vec![],
        };
        let debug = format!("{spec:?}");
        assert!(
            !debug.contains("hunter2") && debug.contains("smtp.example.com"),
            "{debug}"
        );
    }

    #[test]
    fn unknown_keys_and_types_are_refused() {
        let err = toml::from_str::<ChannelSpec>(
            "type = \"slack\"\nwebhook_url = \"x\"\nchannel = \"#ops\"\n",
        )
        .unwrap_err()
        .to_string();
        assert!(err.contains("channel"), "{err}");
        let err = toml::from_str::<ChannelSpec>("type = \"teams\"\n")
            .unwrap_err()
            .to_string();
        assert!(err.contains("teams"), "{err}");
    }
}
