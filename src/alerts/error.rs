//! Why one alert delivery failed, worded for the person reading the outcome.

/// The failure of one delivery. Messages never contain a secret: webhook
/// URLs are reduced to their host and bodies are scrubbed of known secrets.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum AlertError {
    /// A problem with the channel's settings: nothing was sent.
    #[error("alert #{index} ({kind}): {key}: {message}")]
    Config {
        index: usize,
        kind: &'static str,
        key: &'static str,
        message: String,
    },

    /// The receiver answered with a status that is not success.
    #[error("{host} answered HTTP {status}{reason}{body}", reason = reason_suffix(*status), body = excerpt_suffix(body))]
    Status {
        host: String,
        status: u16,
        body: String,
    },

    /// No answer: connection refused, reset, DNS failure, TLS handshake...
    #[error("cannot reach {host}: {message}")]
    Unreachable { host: String, message: String },

    #[error("{host} did not answer within {seconds} s")]
    Timeout { host: String, seconds: u64 },

    /// The SMTP server refused the message, or the SMTP session failed.
    #[error("SMTP server {host}: {message}")]
    Smtp { host: String, message: String },

    /// The extra CA certificate named by `DROPSYNC_ALERT_CA_CERT` is unusable.
    #[error("DROPSYNC_ALERT_CA_CERT={path}: {message}")]
    CaCert { path: String, message: String },

    #[error("internal error: {0}")]
    Internal(String),
}

fn reason_suffix(status: u16) -> String {
    reqwest::StatusCode::from_u16(status)
        .ok()
        .and_then(|s| s.canonical_reason())
        .map(|r| format!(" {r}"))
        .unwrap_or_default()
}

fn excerpt_suffix(body: &str) -> String {
    if body.is_empty() {
        String::new()
    } else {
        format!(": {body}")
    }
}
