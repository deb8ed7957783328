//! The HTTP side of Slack, PagerDuty and Twilio: one blocking client, one
//! retrying POST, and errors that name the host but never the URL (a Slack
//! webhook URL is itself the credential).

use std::io::Read;
use std::time::Duration;

use reqwest::blocking::{Client, RequestBuilder, Response};
use reqwest::{StatusCode, Url};

use super::error::AlertError;
use super::retry::{self, Failure, RetryPolicy};

/// Enough of an error body to explain a refusal; receivers' errors are short.
const BODY_EXCERPT_CHARS: usize = 300;
const BODY_READ_LIMIT: u64 = 64 * 1024;

/// The extra trusted certificate at `path`, if any: its path (for
/// messages) and PEM bytes.
pub(super) fn extra_ca_pem(
    path: Option<&std::path::Path>,
) -> Result<Option<(String, Vec<u8>)>, AlertError> {
    let Some(path) = path else {
        return Ok(None);
    };
    let shown = path.to_string_lossy().into_owned();
    match std::fs::read(path) {
        Ok(pem) => Ok(Some((shown, pem))),
        Err(e) => Err(AlertError::CaCert {
            path: shown,
            message: format!("cannot read it: {e}"),
        }),
    }
}

/// Whether the extra CA certificate, if any, is a usable certificate.
pub(super) fn check_extra_ca(path: Option<&std::path::Path>) -> Result<(), AlertError> {
    match extra_ca_pem(path)? {
        Some((path, pem)) => parse_ca(&path, &pem).map(drop),
        None => Ok(()),
    }
}

/// The certificates of a PEM file, or why it is not one.
fn parse_ca(path: &str, pem: &[u8]) -> Result<Vec<reqwest::Certificate>, AlertError> {
    crate::http::parse_ca(pem).map_err(|message| AlertError::CaCert {
        path: path.to_string(),
        message,
    })
}

pub(super) fn client(extra_ca: Option<&(String, Vec<u8>)>) -> Result<Client, AlertError> {
    let extra_ca = match extra_ca {
        Some((path, pem)) => parse_ca(path, pem)?,
        None => Vec::new(),
    };
    // No redirects (the shared builder's rule): a receiver that redirects is
    // misconfigured, and following it would resend the alert and its
    // credentials somewhere unexpected.
    crate::http::client(crate::http::ClientOptions {
        connect_timeout: retry::CONNECT_TIMEOUT,
        timeout: retry::REQUEST_TIMEOUT,
        keepalive: None,
        extra_ca,
    })
    .map_err(AlertError::Internal)
}

/// `host[:port]`: what messages and logs may show of a URL.
pub(super) fn host_label(url: &Url) -> String {
    let host = url.host_str().unwrap_or("?");
    match url.port() {
        Some(port) => format!("{host}:{port}"),
        None => host.to_string(),
    }
}

/// POSTs with retries. `build` adds the body and headers to each attempt;
/// `secrets` are scrubbed from any error text the receiver sends back.
pub(super) fn post(
    client: &Client,
    policy: &RetryPolicy,
    channel: &str,
    url: &Url,
    secrets: &[&str],
    build: impl Fn(RequestBuilder) -> RequestBuilder,
) -> (u32, Result<(), AlertError>) {
    let host = host_label(url);
    tracing::debug!(channel, host = %host, "sending alert");
    policy.run(channel, |timeout| {
        let request = build(client.post(url.clone()).timeout(timeout));
        match request.send() {
            Ok(response) => check_response(response, &host, secrets),
            Err(e) => Err(transport_failure(e, &host, timeout)),
        }
    })
}

fn check_response(response: Response, host: &str, secrets: &[&str]) -> Result<(), Failure> {
    let status = response.status();
    if status.is_success() {
        return Ok(());
    }
    let retry_after = response
        .headers()
        .get(reqwest::header::RETRY_AFTER)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| crate::http::parse_retry_after(v, chrono::Utc::now()));
    let error = AlertError::Status {
        host: host.to_string(),
        status: status.as_u16(),
        body: body_excerpt(response, secrets),
    };
    if is_retryable(status) {
        Err(Failure::after(error, retry_after))
    } else {
        Err(Failure::fatal(error))
    }
}

/// Overload and server trouble may pass; any other refusal will repeat.
fn is_retryable(status: StatusCode) -> bool {
    status.is_server_error()
        || status == StatusCode::TOO_MANY_REQUESTS
        || status == StatusCode::REQUEST_TIMEOUT
}

fn body_excerpt(response: Response, secrets: &[&str]) -> String {
    let mut raw = Vec::new();
    // A body that cannot be read still leaves the status to report.
    let _ = response.take(BODY_READ_LIMIT).read_to_end(&mut raw);
    let text = String::from_utf8_lossy(&raw);
    let collapsed = text.split_whitespace().collect::<Vec<_>>().join(" ");
    super::text::truncate_chars(&scrub(&collapsed, secrets), BODY_EXCERPT_CHARS)
}

/// Replaces every occurrence of a secret with `***`.
pub(super) fn scrub(text: &str, secrets: &[&str]) -> String {
    let mut secrets: Vec<&str> = secrets.iter().copied().filter(|s| s.len() >= 4).collect();
    // Longest first, so that a URL goes whole rather than around its token.
    secrets.sort_by_key(|s| std::cmp::Reverse(s.len()));
    let mut out = text.to_string();
    for secret in secrets {
        out = out.replace(secret, "***");
    }
    out
}

fn transport_failure(e: reqwest::Error, host: &str, timeout: Duration) -> Failure {
    // reqwest puts the full URL in its messages; a webhook URL is a secret.
    let e = e.without_url();
    if e.is_builder() {
        return Failure::fatal(AlertError::Internal(format!(
            "cannot build the request: {e}"
        )));
    }
    if e.is_timeout() {
        return Failure::retry(AlertError::Timeout {
            host: host.to_string(),
            seconds: timeout.as_secs().max(1),
        });
    }
    Failure::retry(AlertError::Unreachable {
        host: host.to_string(),
        message: root_cause(&e),
    })
}

/// The innermost cause says what happened ("Connection refused"); the outer
/// layers only say where it was noticed.
fn root_cause(e: &(dyn std::error::Error + 'static)) -> String {
    let mut cause = e;
    while let Some(next) = cause.source() {
        cause = next;
    }
    cause.to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scrub_hides_secrets() {
        assert_eq!(
            scrub("bad key abcd1234 sent", &["abcd1234", ""]),
            "bad key *** sent"
        );
    }

    #[test]
    fn host_label_keeps_port_only_when_given() {
        let u = Url::parse("https://hooks.slack.com/services/T/B/secret").unwrap();
        assert_eq!(host_label(&u), "hooks.slack.com");
        let u = Url::parse("http://127.0.0.1:8080/x").unwrap();
        assert_eq!(host_label(&u), "127.0.0.1:8080");
    }

    #[test]
    fn retryable_statuses() {
        assert!(is_retryable(StatusCode::SERVICE_UNAVAILABLE));
        assert!(is_retryable(StatusCode::TOO_MANY_REQUESTS));
        assert!(!is_retryable(StatusCode::BAD_REQUEST));
        assert!(!is_retryable(StatusCode::FORBIDDEN));
    }
}
