//! Alert delivery against real local receivers: HTTP servers (axum) standing
//! in for Slack, PagerDuty and Twilio, and an SMTP server (mailin's protocol
//! engine on a TCP listener) for email. Nothing leaves 127.0.0.1.
use crate::support::silent::silent_port;

use std::collections::{HashMap, VecDeque};
use std::io::{BufRead, BufReader, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::sync::{Arc, Mutex, Once, OnceLock};
use std::time::{Duration, Instant};

use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, HeaderName, HeaderValue, Method, StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use base64::Engine as _;
use chrono::TimeZone;
use dropsync::alerts::{self, Alert, AlertKind, ChannelSpec, Outcome, SecretRef};
use serde_json::Value;

// ---------------------------------------------------------------------------
// Environment: read, never set (these tests share their process with every
// other integration test). `env:` secrets name a variable cargo sets for
// every test process, whose value is known when this file compiles.

const PD_KEY_VAR: &str = "CARGO_MANIFEST_DIR";
const SMTP_PASSWORD_VAR: &str = "CARGO_MANIFEST_DIR";
const MISSING_VAR: &str = "DROPSYNC_TEST_ALERTS_NEVER_SET";
const PD_KEY: &str = env!("CARGO_MANIFEST_DIR");
const SMTP_PASSWORD: &str = env!("CARGO_MANIFEST_DIR");

/// An HTTPS server with a self-signed certificate, trusted through
/// `DROPSYNC_ALERT_CA_CERT`: the Dropbox emulator, which answers any POST.
struct HttpsReceiver {
    base: String,
    cert: std::path::PathBuf,
    _server: Mutex<dropbox_emulator::Running>,
    _dir: tempfile::TempDir,
}

static HTTPS: OnceLock<HttpsReceiver> = OnceLock::new();

fn init() {
    static ONCE: Once = Once::new();
    ONCE.call_once(|| {
        let dir = tempfile::tempdir().unwrap();
        let cert = dir.path().join("alerts-ca.pem");
        let mut config = dropbox_emulator::Config::new(dir.path().join("root"));
        config.tls_cert_out = Some(cert.clone());
        let server = dropbox_emulator::start(config).unwrap();
        let _ = HTTPS.set(HttpsReceiver {
            base: server.base_url.clone(),
            cert,
            _server: Mutex::new(server),
            _dir: dir,
        });
    });
}

/// What delivery would read from the environment, given instead: short
/// retries, and the HTTPS receiver's self-signed certificate trusted.
fn settings() -> alerts::Settings {
    init();
    alerts::Settings {
        retry_base: Duration::from_millis(5),
        extra_ca: HTTPS.get().map(|h| h.cert.clone()),
    }
}

fn send_all(channels: &[ChannelSpec], alert: &Alert) -> Vec<Outcome> {
    alerts::send_all_with(&settings(), channels, alert)
}

fn alert(kind: AlertKind, message: &str) -> Alert {
    Alert {
        kind,
        sync_id: "7".into(),
        sync_file: Some("/srv/syncs/customers.toml".into()),
        model_name: "customers".into(),
        run_id: Some(12),
        at: chrono::Utc.with_ymd_and_hms(2024, 1, 19, 10, 0, 5).unwrap(),
        message: message.into(),
    }
}

fn failure() -> Alert {
    alert(
        AlertKind::Failure,
        "the model's query failed: no such table: customer",
    )
}

// ---------------------------------------------------------------------------
// An HTTP receiver that records every request and answers from a script.

#[derive(Debug, Clone)]
struct Recorded {
    method: String,
    path: String,
    headers: HashMap<String, String>,
    body: Vec<u8>,
}

impl Recorded {
    fn json(&self) -> Value {
        serde_json::from_slice(&self.body).expect("a JSON body")
    }

    fn form(&self) -> HashMap<String, String> {
        url::form_urlencoded::parse(&self.body)
            .into_owned()
            .collect()
    }

    fn header(&self, name: &str) -> &str {
        self.headers.get(name).map(String::as_str).unwrap_or("")
    }
}

#[derive(Debug, Clone)]
struct Reply {
    status: u16,
    headers: Vec<(&'static str, String)>,
    body: String,
}

fn reply(status: u16, body: &str) -> Reply {
    Reply {
        status,
        headers: Vec::new(),
        body: body.into(),
    }
}

struct Script {
    /// Answers in order; the last one repeats.
    replies: Mutex<VecDeque<Reply>>,
    requests: Mutex<Vec<Recorded>>,
}

struct Receiver {
    base: String,
    script: Arc<Script>,
}

impl Receiver {
    fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }

    fn requests(&self) -> Vec<Recorded> {
        self.script.requests.lock().unwrap().clone()
    }
}

async fn record(
    State(script): State<Arc<Script>>,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    script.requests.lock().unwrap().push(Recorded {
        method: method.to_string(),
        path: uri.path().to_string(),
        headers: headers
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_str().unwrap_or("").to_string()))
            .collect(),
        body: body.to_vec(),
    });
    let answer = {
        let mut replies = script.replies.lock().unwrap();
        if replies.len() > 1 {
            replies.pop_front().unwrap()
        } else {
            replies.front().cloned().unwrap()
        }
    };
    let mut head = HeaderMap::new();
    for (name, value) in &answer.headers {
        head.insert(
            HeaderName::from_static(name),
            HeaderValue::from_str(value).unwrap(),
        );
    }
    (
        StatusCode::from_u16(answer.status).unwrap(),
        head,
        answer.body,
    )
        .into_response()
}

fn receiver(replies: Vec<Reply>) -> Receiver {
    init();
    let script = Arc::new(Script {
        replies: Mutex::new(replies.into()),
        requests: Mutex::new(Vec::new()),
    });
    let base = crate::support::serve_http(
        axum::Router::new()
            .fallback(record)
            .with_state(script.clone()),
    );
    Receiver { base, script }
}

/// A local port nothing listens on.
fn closed_port() -> u16 {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    listener.local_addr().unwrap().port()
}

// ---------------------------------------------------------------------------
// An SMTP server: mailin's SMTP state machine behind a TCP listener.

#[derive(Debug, Clone)]
struct Mail {
    from: String,
    to: Vec<String>,
    data: String,
}

#[derive(Default)]
struct Mailbox {
    mails: Mutex<Vec<Mail>>,
    logins: Mutex<Vec<(String, String)>>,
    sessions: Mutex<u32>,
    /// How many MAIL FROM commands to refuse with 451 (a transient failure).
    refuse_mail: Mutex<u32>,
}

#[derive(Clone)]
struct SmtpHandler {
    mailbox: Arc<Mailbox>,
    credentials: Option<(String, String)>,
    current: Option<Mail>,
}

impl SmtpHandler {
    fn login(&mut self, user: &str, password: &str) -> mailin::Response {
        self.mailbox
            .logins
            .lock()
            .unwrap()
            .push((user.to_string(), password.to_string()));
        match &self.credentials {
            Some((u, p)) if u == user && p == password => mailin::response::AUTH_OK,
            _ => mailin::response::INVALID_CREDENTIALS,
        }
    }
}

impl mailin::Handler for SmtpHandler {
    fn data_start(
        &mut self,
        _domain: &str,
        from: &str,
        _is8bit: bool,
        to: &[String],
    ) -> mailin::Response {
        self.current = Some(Mail {
            from: from.to_string(),
            to: to.to_vec(),
            data: String::new(),
        });
        mailin::response::OK
    }

    fn data(&mut self, buf: &[u8]) -> std::io::Result<()> {
        if let Some(mail) = &mut self.current {
            mail.data.push_str(&String::from_utf8_lossy(buf));
        }
        Ok(())
    }

    fn mail(&mut self, _ip: std::net::IpAddr, _domain: &str, _from: &str) -> mailin::Response {
        // Refused at MAIL rather than at the end of DATA: mailin stays in its
        // DATA state after a refused message and would swallow the QUIT.
        let mut refuse = self.mailbox.refuse_mail.lock().unwrap();
        if *refuse > 0 {
            *refuse -= 1;
            return mailin::response::INTERNAL_ERROR;
        }
        mailin::response::OK
    }

    fn data_end(&mut self) -> mailin::Response {
        let mail = self.current.take();
        self.mailbox.mails.lock().unwrap().extend(mail);
        mailin::response::OK
    }

    fn auth_plain(
        &mut self,
        _authorization_id: &str,
        authentication_id: &str,
        password: &str,
    ) -> mailin::Response {
        self.login(authentication_id, password)
    }

    fn auth_login(&mut self, username: &str, password: &str) -> mailin::Response {
        self.login(username, password)
    }
}

struct SmtpServer {
    addr: SocketAddr,
    mailbox: Arc<Mailbox>,
}

impl SmtpServer {
    fn mails(&self) -> Vec<Mail> {
        self.mailbox.mails.lock().unwrap().clone()
    }

    fn url(&self, user: Option<&str>) -> String {
        let user = user.map(|u| format!("{u}@")).unwrap_or_default();
        format!("smtp://{user}{}?tls=none", self.addr)
    }
}

fn smtp_server(credentials: Option<(&str, &str)>, refuse_mail: u32) -> SmtpServer {
    init();
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    let mailbox = Arc::new(Mailbox {
        refuse_mail: Mutex::new(refuse_mail),
        ..Mailbox::default()
    });
    let mut session = mailin::SessionBuilder::new("test-smtp.local");
    if credentials.is_some() {
        session
            .enable_auth(mailin::AuthMechanism::Plain)
            .enable_auth(mailin::AuthMechanism::Login)
            // The test server has no TLS; the client is told tls=none.
            .insecure_enable_plaintext_auth();
    }
    let handler = SmtpHandler {
        mailbox: mailbox.clone(),
        credentials: credentials.map(|(u, p)| (u.to_string(), p.to_string())),
        current: None,
    };
    std::thread::spawn(move || {
        for stream in listener.incoming().flatten() {
            let session = session.clone();
            let handler = handler.clone();
            std::thread::spawn(move || serve_smtp(stream, &session, handler));
        }
    });
    SmtpServer { addr, mailbox }
}

fn serve_smtp(stream: TcpStream, builder: &mailin::SessionBuilder, handler: SmtpHandler) {
    *handler.mailbox.sessions.lock().unwrap() += 1;
    let peer = stream.peer_addr().unwrap().ip();
    let mut writer = stream.try_clone().unwrap();
    let mut reader = BufReader::new(stream);
    let mut session = builder.build(peer, handler);
    let _ = session.greeting().write_to(&mut writer);
    let mut line = Vec::new();
    loop {
        line.clear();
        match reader.read_until(b'\n', &mut line) {
            Ok(0) | Err(_) => return,
            Ok(_) => {}
        }
        let response = session.process(&line);
        match response.action {
            mailin::Action::Reply => {
                let _ = response.write_to(&mut writer);
                let _ = writer.flush();
            }
            mailin::Action::Close => {
                let _ = response.write_to(&mut writer);
                return;
            }
            mailin::Action::UpgradeTls => return,
            mailin::Action::NoReply => {}
        }
    }
}

// ---------------------------------------------------------------------------
// Channel settings.

fn slack(url: &str) -> ChannelSpec {
    ChannelSpec::Slack {
        webhook_url: SecretRef::literal(url),
    }
}

fn pagerduty(events_url: &str, routing_key: SecretRef) -> ChannelSpec {
    ChannelSpec::Pagerduty {
        routing_key,
        events_url: Some(events_url.into()),
        severity: None,
    }
}

const SID: &str = "AC0123456789abcdef0123456789abcdef";
const TWILIO_TOKEN: &str = "twilio-auth-token-123";

fn sms(api_url: &str, to: &[&str]) -> ChannelSpec {
    ChannelSpec::Sms {
        account_sid: SID.into(),
        auth_token: SecretRef::literal(TWILIO_TOKEN),
        from: "+15550001111".into(),
        to: to.iter().map(|s| s.to_string()).collect(),
        api_url: Some(api_url.into()),
    }
}

fn email(smtp_url: &str, password: Option<SecretRef>, to: &[&str]) -> ChannelSpec {
    ChannelSpec::Email {
        smtp_url: smtp_url.into(),
        password,
        from: "Dropsync <alerts@example.com>".into(),
        to: to.iter().map(|s| s.to_string()).collect(),
    }
}

fn one(outcomes: Vec<Outcome>) -> Outcome {
    assert_eq!(outcomes.len(), 1, "{outcomes:#?}");
    outcomes.into_iter().next().unwrap()
}

// ---------------------------------------------------------------------------
// Slack

#[test]
fn slack_gets_a_json_text_post() {
    let slack_rx = receiver(vec![reply(200, "ok")]);
    let a = alert(AlertKind::Failure, "column <email> & more");
    let out = one(send_all(
        &[slack(&slack_rx.url("/services/T000/B000/XXXX"))],
        &a,
    ));
    assert_eq!(
        out,
        Outcome {
            index: 1,
            channel: "slack".into(),
            ok: true,
            attempts: 1,
            error: None
        }
    );
    let reqs = slack_rx.requests();
    assert_eq!(reqs.len(), 1);
    let r = &reqs[0];
    assert_eq!(r.method, "POST");
    assert_eq!(r.path, "/services/T000/B000/XXXX");
    assert_eq!(r.header("content-type"), "application/json");
    let body = r.json();
    assert_eq!(
        body["text"],
        "Dropsync sync 7 (model customers) failed at 2024-01-19 10:00:05 UTC, run 12: column &lt;email&gt; &amp; more"
    );
}

// ---------------------------------------------------------------------------
// PagerDuty

#[test]
fn pagerduty_triggers_then_resolves_the_same_incident() {
    let pd = receiver(vec![reply(
        202,
        r#"{"status":"success","message":"Event processed","dedup_key":"dropsync-7"}"#,
    )]);
    let channels = [pagerduty(
        &pd.url("/v2/enqueue"),
        SecretRef::literal("R0UTINGKEY"),
    )];
    let failed = one(send_all(&channels, &failure()));
    assert!(failed.ok, "{failed:?}");
    assert_eq!(failed.channel, "pagerduty");
    let mut recovered = alert(AlertKind::Recovery, "");
    recovered.run_id = Some(13);
    assert!(one(send_all(&channels, &recovered)).ok);

    let reqs = pd.requests();
    assert_eq!(reqs.len(), 2);
    assert!(reqs
        .iter()
        .all(|r| r.path == "/v2/enqueue" && r.method == "POST"));
    assert_eq!(reqs[0].header("content-type"), "application/json");

    let trigger = reqs[0].json();
    assert_eq!(trigger["routing_key"], "R0UTINGKEY");
    assert_eq!(trigger["event_action"], "trigger");
    assert_eq!(trigger["dedup_key"], "dropsync-7");
    let payload = &trigger["payload"];
    assert_eq!(
        payload["summary"],
        "Dropsync sync 7 (model customers) failed at 2024-01-19 10:00:05 UTC, run 12: the model's query failed: no such table: customer"
    );
    let source = payload["source"].as_str().unwrap();
    assert!(
        source.starts_with("dropsync on ") && source.len() > 12,
        "{source}"
    );
    assert_eq!(payload["severity"], "error");
    assert_eq!(payload["timestamp"], "2024-01-19T10:00:05Z");
    assert_eq!(payload["component"], "customers");
    let details = &payload["custom_details"];
    assert_eq!(details["sync_id"], "7");
    assert_eq!(details["run_id"], 12);
    assert_eq!(details["sync_file"], "/srv/syncs/customers.toml");
    assert_eq!(
        details["error"],
        "the model's query failed: no such table: customer"
    );

    let resolve = reqs[1].json();
    assert_eq!(resolve["routing_key"], "R0UTINGKEY");
    assert_eq!(resolve["event_action"], "resolve");
    assert_eq!(resolve["dedup_key"], trigger["dedup_key"]);
}

#[test]
fn pagerduty_warnings_and_tests_have_their_own_keys() {
    let pd = receiver(vec![reply(202, "{}")]);
    let channels = [ChannelSpec::Pagerduty {
        routing_key: SecretRef::literal("R0UTINGKEY"),
        events_url: Some(pd.url("/v2/enqueue")),
        severity: Some("critical".into()),
    }];
    send_all(&channels, &alert(AlertKind::Warning, "3 rows skipped"));
    send_all(&channels, &alert(AlertKind::Test, ""));
    send_all(&channels, &failure());
    let events: Vec<Value> = pd.requests().iter().map(Recorded::json).collect();
    let keys: Vec<&str> = events
        .iter()
        .map(|e| e["dedup_key"].as_str().unwrap())
        .collect();
    assert_eq!(
        keys,
        ["dropsync-7-warning", "dropsync-7-test", "dropsync-7"]
    );
    assert!(events.iter().all(|e| e["event_action"] == "trigger"));
    let severities: Vec<&str> = events
        .iter()
        .map(|e| e["payload"]["severity"].as_str().unwrap())
        .collect();
    assert_eq!(severities, ["warning", "critical", "critical"]);
    assert_eq!(
        events[0]["payload"]["custom_details"]["warning"],
        "3 rows skipped"
    );
    assert!(events[1]["payload"]["summary"]
        .as_str()
        .unwrap()
        .starts_with("Test alert from Dropsync for sync 7"));
}

#[test]
fn pagerduty_summary_is_cut_to_1024_characters() {
    let pd = receiver(vec![reply(202, "{}")]);
    let long = "é".repeat(3000);
    let out = one(send_all(
        &[pagerduty(&pd.url("/v2/enqueue"), SecretRef::literal("K3Y"))],
        &alert(AlertKind::Failure, &long),
    ));
    assert!(out.ok, "{out:?}");
    let event = pd.requests()[0].json();
    let summary = event["payload"]["summary"].as_str().unwrap();
    assert_eq!(summary.chars().count(), 1024);
    assert!(summary.ends_with('…'));
    // The full error still travels in the details.
    assert_eq!(event["payload"]["custom_details"]["error"], long.as_str());
}

// ---------------------------------------------------------------------------
// Twilio SMS

#[test]
fn twilio_gets_one_form_post_per_recipient() {
    let tw = receiver(vec![reply(
        201,
        r#"{"sid":"SM123","status":"queued","error_code":null,"error_message":null}"#,
    )]);
    let out = send_all(
        &[sms(&tw.base, &["+15550002222", "+447700900123"])],
        &failure(),
    );
    assert_eq!(out.len(), 2, "{out:#?}");
    let labels: Vec<&str> = out.iter().map(|o| o.channel.as_str()).collect();
    assert_eq!(labels, ["sms +15550002222", "sms +447700900123"]);
    assert!(
        out.iter().all(|o| o.ok && o.attempts == 1 && o.index == 1),
        "{out:#?}"
    );

    let reqs = tw.requests();
    assert_eq!(reqs.len(), 2);
    let mut recipients = Vec::new();
    for r in &reqs {
        assert_eq!(r.method, "POST");
        assert_eq!(r.path, format!("/2010-04-01/Accounts/{SID}/Messages.json"));
        assert_eq!(
            r.header("content-type"),
            "application/x-www-form-urlencoded"
        );
        let basic = r.header("authorization").strip_prefix("Basic ").unwrap();
        let decoded = base64::engine::general_purpose::STANDARD
            .decode(basic)
            .unwrap();
        assert_eq!(
            String::from_utf8(decoded).unwrap(),
            format!("{SID}:{TWILIO_TOKEN}")
        );
        let form = r.form();
        assert_eq!(form["From"], "+15550001111");
        assert_eq!(form["Body"], failure().summary());
        assert_eq!(form.len(), 3, "{form:?}");
        recipients.push(form["To"].clone());
    }
    recipients.sort();
    assert_eq!(recipients, ["+15550002222", "+447700900123"]);
}

#[test]
fn twilio_body_is_cut_to_1600_characters() {
    let tw = receiver(vec![reply(201, "{}")]);
    let long = "x".repeat(5000);
    let out = one(send_all(
        &[sms(&tw.base, &["+15550002222"])],
        &alert(AlertKind::Failure, &long),
    ));
    assert!(out.ok, "{out:?}");
    let body = tw.requests()[0].form()["Body"].clone();
    assert_eq!(body.chars().count(), 1600);
    assert!(body.starts_with("Dropsync sync 7 (model customers) failed at"));
    assert!(body.ends_with('…'));
}

#[test]
fn twilio_refusal_is_reported_per_recipient() {
    let tw = receiver(vec![reply(
        400,
        r#"{"code":21211,"message":"The 'To' number +15005550001 is not a valid phone number.","status":400}"#,
    )]);
    let out = send_all(&[sms(&tw.base, &["+15005550001"])], &failure());
    let out = one(out);
    assert!(!out.ok);
    assert_eq!(out.attempts, 1, "a 400 is not retried");
    let error = out.error.unwrap();
    assert!(error.contains("HTTP 400"), "{error}");
    assert!(error.contains("21211"), "{error}");
    assert!(!error.contains(TWILIO_TOKEN), "{error}");
}

// ---------------------------------------------------------------------------
// Email

#[test]
fn email_reaches_a_real_smtp_server() {
    let server = smtp_server(None, 0);
    let out = one(send_all(
        &[email(
            &server.url(None),
            None,
            &["ops@example.com", "Data Team <data@example.com>"],
        )],
        &failure(),
    ));
    assert_eq!(
        out,
        Outcome {
            index: 1,
            channel: "email ops@example.com, Data Team <data@example.com>".into(),
            ok: true,
            attempts: 1,
            error: None
        }
    );
    let mails = server.mails();
    assert_eq!(mails.len(), 1, "one message for every recipient");
    let mail = &mails[0];
    assert_eq!(mail.from, "alerts@example.com");
    let mut to = mail.to.clone();
    to.sort();
    assert_eq!(to, ["data@example.com", "ops@example.com"]);
    let data = mail.data.replace("\r\n", "\n");
    assert!(
        data.contains("Subject: [dropsync] sync 7 (customers) failed\n"),
        "{data}"
    );
    assert!(
        data.contains("From: Dropsync <alerts@example.com>\n"),
        "{data}"
    );
    assert!(
        data.contains("Content-Type: text/plain; charset=utf-8"),
        "{data}"
    );
    for part in [
        "Dropsync sync 7 (model customers) failed at 2024-01-19 10:00:05 UTC, run 12",
        "Sync:   7\n",
        "File:   /srv/syncs/customers.toml\n",
        "Model:  customers\n",
        "Run:    12\n",
        "Time:   2024-01-19 10:00:05 UTC\n",
        "Error:\nthe model's query failed: no such table: customer\n",
    ] {
        assert!(data.contains(part), "{part:?} missing from:\n{data}");
    }
}

#[test]
fn email_logs_in_with_the_password_from_the_environment() {
    let server = smtp_server(Some(("alerts@example.com", SMTP_PASSWORD)), 0);
    let out = one(send_all(
        &[email(
            &server.url(Some("alerts%40example.com")),
            Some(SecretRef::env(SMTP_PASSWORD_VAR)),
            &["ops@example.com"],
        )],
        &alert(AlertKind::Recovery, "run 13 delivered 3 files"),
    ));
    assert!(out.ok, "{out:?}");
    assert_eq!(
        *server.mailbox.logins.lock().unwrap(),
        [("alerts@example.com".to_string(), SMTP_PASSWORD.to_string())]
    );
    let mails = server.mails();
    assert_eq!(mails.len(), 1);
    assert!(mails[0]
        .data
        .contains("Subject: [dropsync] sync 7 (customers) recovered"));
}

#[test]
fn email_wrong_password_fails_at_once_without_leaking_it() {
    let server = smtp_server(Some(("alerts", "the-right-one")), 0);
    let out = one(send_all(
        &[email(
            &server.url(Some("alerts")),
            Some(SecretRef::env(SMTP_PASSWORD_VAR)),
            &["ops@example.com"],
        )],
        &failure(),
    ));
    assert!(!out.ok);
    assert_eq!(out.attempts, 1, "a permanent 5xx reply is not retried");
    let error = out.error.unwrap();
    assert!(error.contains("535"), "{error}");
    assert!(!error.contains(SMTP_PASSWORD), "{error}");
    assert!(server.mails().is_empty());
}

#[test]
fn email_transient_refusal_is_retried() {
    let server = smtp_server(None, 1);
    let out = one(send_all(
        &[email(&server.url(None), None, &["ops@example.com"])],
        &failure(),
    ));
    assert!(out.ok, "{out:?}");
    assert_eq!(out.attempts, 2);
    assert_eq!(server.mails().len(), 1);
    assert_eq!(*server.mailbox.sessions.lock().unwrap(), 2);
}

// ---------------------------------------------------------------------------
// Retries

#[test]
fn a_503_then_success_takes_two_attempts() {
    let rx = receiver(vec![reply(503, "busy"), reply(200, "ok")]);
    let out = one(send_all(&[slack(&rx.url("/hook"))], &failure()));
    assert!(out.ok, "{out:?}");
    assert_eq!(out.attempts, 2);
    assert_eq!(rx.requests().len(), 2);
}

#[test]
fn always_500_gives_up_after_three_attempts() {
    let rx = receiver(vec![reply(500, "boom")]);
    let out = one(send_all(
        &[pagerduty(&rx.url("/v2/enqueue"), SecretRef::literal("K3Y"))],
        &failure(),
    ));
    assert!(!out.ok);
    assert_eq!(out.attempts, 3);
    let error = out.error.unwrap();
    assert!(error.contains("HTTP 500 Internal Server Error"), "{error}");
    assert!(error.contains("boom"), "{error}");
    assert_eq!(rx.requests().len(), 3);
}

#[test]
fn a_400_is_not_retried_and_its_body_is_shown() {
    let rx = receiver(vec![reply(400, "invalid_payload")]);
    let out = one(send_all(&[slack(&rx.url("/hook"))], &failure()));
    assert!(!out.ok);
    assert_eq!(out.attempts, 1);
    assert_eq!(rx.requests().len(), 1);
    let error = out.error.unwrap();
    assert!(
        error.contains("HTTP 400 Bad Request: invalid_payload"),
        "{error}"
    );
}

#[test]
fn a_429_waits_for_retry_after() {
    let rx = receiver(vec![
        Reply {
            status: 429,
            headers: vec![("retry-after", "1".into())],
            body: "rate_limited".into(),
        },
        reply(200, "ok"),
    ]);
    let started = Instant::now();
    let out = one(send_all(&[slack(&rx.url("/hook"))], &failure()));
    assert!(out.ok, "{out:?}");
    assert_eq!(out.attempts, 2);
    assert!(
        started.elapsed() >= Duration::from_millis(900),
        "{:?}",
        started.elapsed()
    );
}

#[test]
fn a_channel_that_is_down_does_not_stop_the_others() {
    let pd = receiver(vec![reply(202, "{}")]);
    let tw = receiver(vec![reply(201, "{}")]);
    let server = smtp_server(None, 0);
    let down = closed_port();
    let channels = [
        slack(&format!(
            "http://127.0.0.1:{down}/services/T000/B000/SECRETPART"
        )),
        pagerduty(&pd.url("/v2/enqueue"), SecretRef::literal("K3Y")),
        sms(&tw.base, &["+15550002222"]),
        email(&server.url(None), None, &["ops@example.com"]),
        email(
            &format!("smtp://127.0.0.1:{down}?tls=none"),
            None,
            &["ops@example.com"],
        ),
    ];
    let out = send_all(&channels, &failure());
    let summary: Vec<(usize, &str, bool)> = out
        .iter()
        .map(|o| (o.index, o.channel.as_str(), o.ok))
        .collect();
    assert_eq!(
        summary,
        [
            (1, "slack", false),
            (2, "pagerduty", true),
            (3, "sms +15550002222", true),
            (4, "email ops@example.com", true),
            (5, "email ops@example.com", false),
        ]
    );
    let slack_error = out[0].error.clone().unwrap();
    assert_eq!(out[0].attempts, 3);
    assert!(
        slack_error.starts_with(&format!("cannot reach 127.0.0.1:{down}: ")),
        "{slack_error}"
    );
    assert!(
        slack_error.to_lowercase().contains("refused"),
        "{slack_error}"
    );
    assert!(
        !slack_error.contains("SECRETPART"),
        "the webhook URL is a secret: {slack_error}"
    );
    let email_error = out[4].error.clone().unwrap();
    assert_eq!(out[4].attempts, 3);
    assert!(
        email_error.starts_with(&format!("cannot reach 127.0.0.1:{down}: ")),
        "{email_error}"
    );
    assert_eq!(pd.requests().len(), 1);
    assert_eq!(tw.requests().len(), 1);
    assert_eq!(server.mails().len(), 1);
}

#[test]
fn receivers_echoing_secrets_are_scrubbed() {
    let rx = receiver(vec![reply(
        403,
        "no such hook: /services/T000/B000/S3CRET-TOKEN",
    )]);
    let out = one(send_all(
        &[slack(&rx.url("/services/T000/B000/S3CRET-TOKEN"))],
        &failure(),
    ));
    let error = out.error.unwrap();
    assert!(error.contains("HTTP 403"), "{error}");
    assert!(!error.contains("S3CRET-TOKEN"), "{error}");
}

#[test]
fn https_receivers_are_trusted_through_the_alert_ca_cert() {
    init();
    let https = &HTTPS.get().unwrap().base;
    assert!(https.starts_with("https://127.0.0.1:"), "{https}");
    let out = one(send_all(
        &[slack(&format!("{https}/2/alerts/hook"))],
        &failure(),
    ));
    // The emulator knows no such route; an HTTP answer at all shows that the
    // TLS handshake succeeded with the extra certificate.
    let error = out.error.unwrap_or_default();
    let host = https.trim_start_matches("https://");
    assert!(
        out.ok || error.starts_with(&format!("{host} answered HTTP")),
        "{error}"
    );
}

// ---------------------------------------------------------------------------
// Secrets from the environment

#[test]
fn env_secrets_are_read_and_missing_ones_named() {
    let pd = receiver(vec![reply(202, "{}")]);
    let channels = [
        pagerduty(&pd.url("/v2/enqueue"), SecretRef::env(PD_KEY_VAR)),
        pagerduty(&pd.url("/v2/enqueue"), SecretRef::env(MISSING_VAR)),
    ];
    let out = send_all(&channels, &failure());
    assert_eq!(out.len(), 2);
    assert!(out[0].ok, "{:?}", out[0]);
    assert!(!out[1].ok);
    assert_eq!(out[1].attempts, 0, "nothing is sent without the key");
    let error = out[1].error.clone().unwrap();
    assert!(
        error.starts_with("alert #2 (pagerduty): routing_key:"),
        "{error}"
    );
    assert!(error.contains(MISSING_VAR), "{error}");
    let reqs = pd.requests();
    assert_eq!(reqs.len(), 1);
    assert_eq!(reqs[0].json()["routing_key"], PD_KEY);
}

// ---------------------------------------------------------------------------
// Static checks

#[test]
fn validate_accepts_good_settings() {
    init();
    let channels: Vec<ChannelSpec> = toml::from_str::<HashMap<String, Vec<ChannelSpec>>>(&format!(
        r#"
        [[alerts]]
        type = "slack"
        webhook_url = "https://hooks.slack.com/services/T000/B000/XXXX"

        [[alerts]]
        type = "pagerduty"
        routing_key = "env:{PD_KEY_VAR}"
        severity = "warning"

        [[alerts]]
        type = "sms"
        account_sid = "{SID}"
        auth_token = "token"
        from = "Dropsync"
        to = ["+15550002222"]

        [[alerts]]
        type = "email"
        smtp_url = "smtp://alerts@smtp.example.com?tls=tls"
        password = "env:{SMTP_PASSWORD_VAR}"
        from = "alerts@example.com"
        to = ["ops@example.com"]
        "#
    ))
    .unwrap()
    .remove("alerts")
    .unwrap();
    assert_eq!(alerts::validate(&channels), Vec::<String>::new());
    assert!(alerts::validate(&[]).is_empty());
    assert!(send_all(&[], &failure()).is_empty());
}

#[test]
fn validate_names_alert_key_and_fix() {
    init();
    let channels = [
        slack("hooks.slack.com/services/T111/B222/S3CRET"),
        ChannelSpec::Pagerduty {
            routing_key: SecretRef::env(MISSING_VAR),
            events_url: Some("ftp://events.example.com".into()),
            severity: Some("urgent".into()),
        },
        ChannelSpec::Sms {
            account_sid: SID.into(),
            auth_token: SecretRef::literal("t"),
            from: "+15550001111".into(),
            to: vec!["555-0100".into()],
            api_url: None,
        },
        sms("https://api.twilio.com", &[]),
        email(
            "smtp://smtp.example.com?tls=ssl",
            None,
            &["ops@example.com"],
        ),
        email("smtp://smtp.example.com", None, &[]),
        email("smtp://smtp.example.com", None, &["not an address"]),
    ];
    let problems = alerts::validate(&channels);
    let expected = [
        (
            "alert #1 (slack): webhook_url:",
            "https://hooks.slack.com/services/",
        ),
        ("alert #2 (pagerduty): routing_key:", MISSING_VAR),
        (
            "alert #2 (pagerduty): events_url:",
            "not an http or https URL",
        ),
        (
            "alert #2 (pagerduty): severity:",
            "\"critical\", \"error\", \"warning\" or \"info\"",
        ),
        ("alert #3 (sms): to:", "\"555-0100\" is not an E.164 number"),
        ("alert #4 (sms): to:", "lists no recipients"),
        ("alert #5 (email): smtp_url:", "tls=starttls"),
        ("alert #6 (email): to:", "lists no recipients"),
        (
            "alert #7 (email): to:",
            "\"not an address\" is not an email address",
        ),
    ];
    assert_eq!(problems.len(), expected.len(), "{problems:#?}");
    for (problem, (start, part)) in problems.iter().zip(expected) {
        assert!(
            problem.starts_with(start),
            "{problem:?} should start with {start:?}"
        );
        assert!(
            problem.contains(part),
            "{problem:?} should mention {part:?}"
        );
    }
    // The Slack URL is a secret even when it is wrong.
    assert!(!problems[0].contains("S3CRET"), "{}", problems[0]);
}

#[test]
fn unusable_settings_are_reported_without_sending() {
    init();
    let out = one(send_all(
        &[email(
            "smtp://smtp.example.com?tls=ssl",
            None,
            &["ops@example.com"],
        )],
        &failure(),
    ));
    assert!(!out.ok);
    assert_eq!(out.attempts, 0);
    assert!(
        out.error
            .as_deref()
            .unwrap()
            .starts_with("alert #1 (email): smtp_url:"),
        "{out:?}"
    );
}

#[test]
fn receivers_that_accept_and_never_answer_fail_in_bounded_time_naming_the_host() {
    let silent = silent_port();
    let base = format!("http://127.0.0.1:{silent}");
    let channels = [
        slack(&format!("{base}/services/T000/B000/SECRETPART")),
        pagerduty(&format!("{base}/v2/enqueue"), SecretRef::literal("K3Y")),
        sms(&base, &["+15550002222"]),
        email(
            &format!("smtp://127.0.0.1:{silent}?tls=none"),
            None,
            &["ops@example.com"],
        ),
    ];
    let started = Instant::now();
    let out = send_all(&channels, &failure());
    let took = started.elapsed();
    eprintln!("silent receivers gave up after {took:?}");
    assert!(took < Duration::from_secs(40), "{took:?}");
    assert_eq!(out.len(), 4);
    for o in &out {
        assert!(!o.ok, "{o:?}");
        let error = o.error.clone().unwrap_or_default();
        assert!(
            error.contains(&format!("127.0.0.1:{silent} did not answer within")),
            "{}: {error}",
            o.channel
        );
        assert!(!error.contains("SECRETPART"), "{error}");
    }
}
