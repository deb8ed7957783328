//! Email over SMTP (lettre): one plain-text message to every recipient.

use lettre::message::{header::ContentType, Mailbox};
use lettre::transport::smtp::authentication::Credentials;
use lettre::transport::smtp::client::{Certificate, Tls, TlsParameters};
use lettre::transport::smtp::SmtpTransport;
use lettre::{Message, Transport};
use percent_encoding::percent_decode_str;
use reqwest::Url;

use super::error::AlertError;
use super::http::scrub;
use super::problems::Problems;
use super::retry::Failure;
use super::send::Context;
use super::{text, Alert};
use crate::dropbox::Secret;
use crate::secret::SecretRef;

/// How the connection is protected, from `smtp_url`'s `tls=`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum TlsMode {
    /// Plain connection upgraded with STARTTLS, which must succeed (port 587).
    StartTls,
    /// TLS from the first byte (port 465).
    Implicit,
    /// No TLS at all: only for a relay on the same machine or network (port 25).
    None,
}

impl TlsMode {
    fn default_port(self) -> u16 {
        match self {
            TlsMode::StartTls => 587,
            TlsMode::Implicit => 465,
            TlsMode::None => 25,
        }
    }
}

/// `smtp://[user@]host[:port][?tls=starttls|tls|none]`, parsed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct SmtpUrl {
    pub(super) host: String,
    pub(super) port: u16,
    pub(super) tls: TlsMode,
    pub(super) user: Option<String>,
}

impl SmtpUrl {
    fn label(&self) -> String {
        if self.host.contains(':') {
            format!("[{}]:{}", self.host, self.port)
        } else {
            format!("{}:{}", self.host, self.port)
        }
    }
}

const SMTP_URL_EXAMPLE: &str = "smtp://alerts@smtp.example.com:587?tls=starttls";

pub(super) fn parse_smtp_url(raw: &str) -> Result<SmtpUrl, String> {
    let fix = format!("write it like {SMTP_URL_EXAMPLE}");
    let url = Url::parse(raw.trim()).map_err(|e| format!("{raw:?} is not a URL ({e}); {fix}"))?;
    match url.scheme() {
        "smtp" => {}
        "smtps" => {
            return Err(format!(
                "{raw:?}: use smtp:// with ?tls=tls for implicit TLS (port 465)"
            ))
        }
        other => {
            return Err(format!(
                "{raw:?}: the scheme is {other:?}, not \"smtp\"; {fix}"
            ))
        }
    }
    if url.password().is_some() {
        // Never echo the URL here: it holds the password.
        return Err(
            "contains a password, which must not be written in the URL; remove it and set password (for example password = \"env:SMTP_PASSWORD\")"
                .into(),
        );
    }
    let host = match url.host() {
        Some(url::Host::Ipv6(addr)) => addr.to_string(),
        Some(host) => host.to_string(),
        None => String::new(),
    };
    if host.is_empty() {
        return Err(format!("{raw:?} names no server; {fix}"));
    }
    if !matches!(url.path(), "" | "/") {
        return Err(format!(
            "{raw:?} has a path ({:?}); an SMTP URL has none: {fix}",
            url.path()
        ));
    }
    let mut tls = None;
    for (key, value) in url.query_pairs() {
        if key != "tls" {
            return Err(format!(
                "{raw:?}: unknown parameter {key:?}; the only one is tls=starttls|tls|none"
            ));
        }
        if tls.is_some() {
            return Err(format!("{raw:?}: tls is given twice"));
        }
        tls = Some(match value.as_ref() {
            "starttls" => TlsMode::StartTls,
            "tls" => TlsMode::Implicit,
            "none" => TlsMode::None,
            other => {
                return Err(format!(
                    "{raw:?}: tls={other:?} is not a mode; use tls=starttls (the default), tls (implicit TLS) or none (a local relay only)"
                ))
            }
        });
    }
    let tls = tls.unwrap_or(TlsMode::StartTls);
    let user = match url.username() {
        "" => None,
        encoded => Some(
            percent_decode_str(encoded)
                .decode_utf8()
                .map_err(|_| format!("{raw:?}: the user name is not UTF-8"))?
                .into_owned(),
        ),
    };
    Ok(SmtpUrl {
        host,
        port: url.port().unwrap_or(tls.default_port()),
        tls,
        user,
    })
}

/// `raw` with any password replaced by `***`, for Debug output.
pub(super) fn redacted_url(raw: &str) -> String {
    match Url::parse(raw.trim()) {
        Ok(mut url) if url.password().is_some() => {
            // Only fails for URLs that cannot have a password at all.
            let _ = url.set_password(Some("***"));
            url.to_string()
        }
        Ok(_) => raw.to_string(),
        Err(_) => "<not a URL>".to_string(),
    }
}

pub(super) struct Settings {
    server: SmtpUrl,
    password: Option<Secret>,
    from: Mailbox,
    to: Vec<Mailbox>,
}

pub(super) fn prepare(
    index: usize,
    smtp_url: &str,
    password: Option<&SecretRef>,
    from: &str,
    to: &[String],
) -> Result<Settings, Vec<AlertError>> {
    let mut p = Problems::new(index, "email");
    let server = match parse_smtp_url(smtp_url) {
        Ok(server) => Some(server),
        Err(e) => {
            p.add("smtp_url", e);
            None
        }
    };
    let password = password.and_then(|secret| p.secret("password", secret));
    // A password that failed to resolve was already reported under its key.
    let password_reported = p.has("password");
    if let Some(server) = &server {
        match (&server.user, password.is_some()) {
            (Some(user), false) if !password_reported => p.add(
                "password",
                format!("smtp_url logs in as {user:?} but password is not set; add password = \"env:SMTP_PASSWORD\", or remove the user from smtp_url"),
            ),
            (None, true) => p.add(
                "password",
                "is set but smtp_url names no user to log in as; write smtp://USER@host".to_string(),
            ),
            _ => {}
        }
    }
    let from = match from.trim().parse::<Mailbox>() {
        Ok(m) => Some(m),
        Err(e) => {
            p.add(
                "from",
                format!("{from:?} is not an email address ({e}); write \"alerts@example.com\" or \"Dropsync <alerts@example.com>\""),
            );
            None
        }
    };
    if to.is_empty() {
        p.add(
            "to",
            "lists no recipients; write to = [\"ops@example.com\"]",
        );
    }
    let mut recipients = Vec::with_capacity(to.len());
    for address in to {
        match address.trim().parse::<Mailbox>() {
            Ok(m) => recipients.push(m),
            Err(e) => p.add("to", format!("{address:?} is not an email address ({e})")),
        }
    }
    let settings = match (server, from) {
        (Some(server), Some(from)) => Some(Settings {
            server,
            password,
            from,
            to: recipients,
        }),
        _ => None,
    };
    p.finish(settings)
}

pub(super) fn deliver(s: &Settings, ctx: &Context, alert: &Alert) -> (u32, Result<(), AlertError>) {
    let host = s.server.label();
    let message = match message(s, alert) {
        Ok(m) => m,
        Err(e) => return (0, Err(e)),
    };
    let tls = match tls(s, ctx) {
        Ok(t) => t,
        Err(e) => return (0, Err(e)),
    };
    let secrets: Vec<&str> = s.password.iter().map(Secret::expose).collect();
    tracing::debug!(channel = "email", host = %host, "sending alert");
    ctx.policy.run("email", |timeout| {
        let mut builder = SmtpTransport::builder_dangerous(s.server.host.as_str())
            .port(s.server.port)
            .tls(tls.clone())
            .timeout(Some(timeout));
        if let (Some(user), Some(password)) = (&s.server.user, &s.password) {
            builder = builder.credentials(Credentials::new(
                user.clone(),
                password.expose().to_string(),
            ));
        }
        builder
            .build()
            .send(&message)
            .map(drop)
            .map_err(|e| smtp_failure(&e, &host, timeout, &secrets))
    })
}

fn message(s: &Settings, alert: &Alert) -> Result<Message, AlertError> {
    let mut builder = Message::builder()
        .from(s.from.clone())
        .subject(alert.subject())
        .message_id(None)
        .header(ContentType::TEXT_PLAIN);
    for to in &s.to {
        builder = builder.to(to.clone());
    }
    builder
        .body(text::email_body(alert))
        .map_err(|e| AlertError::Internal(format!("cannot build the email: {e}")))
}

fn tls(s: &Settings, ctx: &Context) -> Result<Tls, AlertError> {
    if s.server.tls == TlsMode::None {
        return Ok(Tls::None);
    }
    let mut params = TlsParameters::builder(s.server.host.clone());
    if let Some((path, pem)) = ctx.extra_ca()? {
        let cert = Certificate::from_pem(pem).map_err(|e| AlertError::CaCert {
            path: path.clone(),
            message: format!("not a PEM certificate: {e}"),
        })?;
        params = params.add_root_certificate(cert);
    }
    let params = params.build().map_err(|e| AlertError::Smtp {
        host: s.server.label(),
        message: format!("cannot set up TLS: {e}"),
    })?;
    Ok(match s.server.tls {
        TlsMode::Implicit => Tls::Wrapper(params),
        _ => Tls::Required(params),
    })
}

/// 4xx replies and network trouble may pass; 5xx replies, TLS and protocol
/// errors will repeat.
fn smtp_failure(
    e: &lettre::transport::smtp::Error,
    host: &str,
    timeout: std::time::Duration,
    secrets: &[&str],
) -> Failure {
    let smtp = |message: String| AlertError::Smtp {
        host: host.to_string(),
        message: scrub(&message, secrets),
    };
    if e.is_transient() {
        return Failure::retry(smtp(e.to_string()));
    }
    if e.is_permanent() || e.is_tls() || e.is_client() || e.is_response() {
        return Failure::fatal(smtp(e.to_string()));
    }
    match io_cause(e) {
        // A read timeout shows up as WouldBlock on Unix sockets.
        Some(io)
            if matches!(
                io.kind(),
                std::io::ErrorKind::TimedOut | std::io::ErrorKind::WouldBlock
            ) =>
        {
            Failure::retry(AlertError::Timeout {
                host: host.to_string(),
                seconds: timeout.as_secs().max(1),
            })
        }
        Some(io) => Failure::retry(AlertError::Unreachable {
            host: host.to_string(),
            message: io.to_string(),
        }),
        None => Failure::retry(smtp(e.to_string())),
    }
}

fn io_cause<'a>(e: &'a (dyn std::error::Error + 'static)) -> Option<&'a std::io::Error> {
    let mut cause = e.source();
    while let Some(c) = cause {
        if let Some(io) = c.downcast_ref::<std::io::Error>() {
            return Some(io);
        }
        cause = c.source();
    }
    None
}

/// `email a@x, b@y` for outcomes.
pub(super) fn label(to: &[String]) -> String {
    if to.is_empty() {
        "email".to_string()
    } else {
        format!("email {}", to.join(", "))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn smtp_urls() {
        let u = parse_smtp_url("smtp://alerts%40example.com@smtp.example.com?tls=tls").unwrap();
        assert_eq!(
            u,
            SmtpUrl {
                host: "smtp.example.com".into(),
                port: 465,
                tls: TlsMode::Implicit,
                user: Some("alerts@example.com".into()),
            }
        );
        let u = parse_smtp_url("smtp://127.0.0.1:2525?tls=none").unwrap();
        assert_eq!((u.port, u.tls, u.user), (2525, TlsMode::None, None));
        let u = parse_smtp_url("smtp://smtp.example.com").unwrap();
        assert_eq!((u.port, u.tls), (587, TlsMode::StartTls));
        let u = parse_smtp_url("smtp://[::1]:25?tls=none").unwrap();
        assert_eq!(
            (u.host.as_str(), u.label()),
            ("::1", "[::1]:25".to_string())
        );
    }

    #[test]
    fn bad_smtp_urls() {
        for (raw, part) in [
            ("smtps://h", "tls=tls"),
            ("http://h", "scheme"),
            ("smtp://h?tls=ssl", "not a mode"),
            ("smtp://h?port=25", "unknown parameter"),
            ("smtp://h/x", "path"),
            ("not a url", "not a URL"),
        ] {
            let e = parse_smtp_url(raw).unwrap_err();
            assert!(e.contains(part), "{raw}: {e}");
        }
        let e = parse_smtp_url("smtp://u:hunter2@h").unwrap_err();
        assert!(!e.contains("hunter2") && e.contains("password"), "{e}");
    }

    #[test]
    fn user_needs_password_and_back() {
        let to = ["ops@example.com".to_string()];
        let errs = prepare(1, "smtp://u@h", None, "a@example.com", &to)
            .err()
            .unwrap();
        assert!(
            errs[0].to_string().contains("password is not set"),
            "{}",
            errs[0]
        );
        let pw = SecretRef::literal("pw");
        let errs = prepare(1, "smtp://h", Some(&pw), "a@example.com", &to)
            .err()
            .unwrap();
        assert!(errs[0].to_string().contains("names no user"), "{}", errs[0]);
    }
}
