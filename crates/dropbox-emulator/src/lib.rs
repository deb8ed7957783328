//! A strict local emulator of the Dropbox HTTP API v2 for tests.
//!
//! It serves the file routes, OAuth 2 (authorize with auto-approval, token,
//! refresh, revoke) and a control API under `/__emulator/` to inject faults
//! and read the request log. Files live on disk under a root folder.
//! Shapes, headers and content types follow the API spec exactly: a lenient
//! fake would hide the bugs real Dropbox catches.

// Handlers return `Result<_, Response>` so an error is already the HTTP answer;
// boxing every early return would only add noise.
#![allow(clippy::result_large_err)]

pub mod faults;
pub mod hash;
pub mod store;

use axum::body::Body;
use axum::extract::{DefaultBodyLimit, Query, Request, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode};
use axum::response::Response;
use axum::routing::{any, get, post};
use axum::Router;
use base64::Engine as _;
use faults::{Fault, FaultKind};
use futures_util::StreamExt;
use hash::ContentHasher;
use serde_json::{json, Value};
use sha2::Digest;
use std::collections::{BTreeMap, HashMap};
use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use store::{file_json, metadata_json, Node, Store, WriteError, WriteMode};

pub const DEFAULT_APP_KEY: &str = "emulator-app-key";
/// The emulated account's id: `dbid:` and 35 more characters, 40 in all,
/// as users_common.stone's AccountId requires.
pub const ACCOUNT_ID: &str = "dbid:AADropsyncEmulatorAccount4dRw9Xq2Lk";
const MAX_REQUEST_BYTES: u64 = 150 * 1024 * 1024;
const CHUNK_MULTIPLE: u64 = 4 * 1024 * 1024;

#[derive(Debug, Clone)]
pub struct Config {
    pub root: PathBuf,
    pub port: u16,
    /// Serve HTTPS with a self-signed certificate written (PEM) to this file.
    pub tls_cert_out: Option<PathBuf>,
    pub max_request_bytes: u64,
    pub app_key: String,
    /// Redirect URIs registered for the app; empty allows any loopback URI.
    pub redirect_uris: Vec<String>,
    pub token_ttl: Duration,
    pub space_bytes: u64,
    /// Caps list_folder pages (to test pagination with few files).
    pub list_page_size: Option<usize>,
    /// Access tokens valid from the start (headless tests).
    pub static_tokens: Vec<String>,
    pub faults: Vec<Fault>,
}

impl Config {
    pub fn new(root: impl Into<PathBuf>) -> Self {
        Config {
            root: root.into(),
            port: 0,
            tls_cert_out: None,
            max_request_bytes: MAX_REQUEST_BYTES,
            app_key: DEFAULT_APP_KEY.into(),
            redirect_uris: Vec::new(),
            token_ttl: Duration::from_secs(4 * 3600),
            space_bytes: 2 * 1024 * 1024 * 1024 * 1024,
            list_page_size: None,
            static_tokens: Vec::new(),
            faults: Vec::new(),
        }
    }
}

struct Token {
    expires: Instant,
    refresh: Option<String>,
    revoked: bool,
}

struct AuthCode {
    challenge: Option<String>,
    redirect_uri: Option<String>,
    offline: bool,
}

struct Session {
    file: PathBuf,
    /// Sequential: bytes received. Concurrent: the total, known once closed.
    len: u64,
    hasher: Option<ContentHasher>,
    closed: bool,
    concurrent: bool,
    /// Concurrent sessions: offset -> (length, block digests) of each
    /// append, which may arrive in any order.
    parts: BTreeMap<u64, (u64, Vec<[u8; 32]>)>,
}

impl Session {
    /// Whether a concurrent append of `len` bytes at `offset` overlaps a part
    /// already received at another offset (resending a part is a retry).
    fn overlaps(&self, offset: u64, len: u64) -> bool {
        let end = offset.saturating_add(len);
        self.parts
            .range(..end)
            .any(|(&o, &(l, _))| o != offset && o + l > offset)
    }

    /// Concurrent sessions: the content hash when the parts cover
    /// `[0, len)` without gaps.
    fn assembled_hash(&self) -> Option<String> {
        let mut at = 0;
        let mut blocks = Vec::new();
        for (&o, (l, digests)) in &self.parts {
            if o != at {
                return None;
            }
            at += l;
            blocks.extend_from_slice(digests);
        }
        (at == self.len).then(|| hash::combine(&blocks))
    }
}

#[derive(Debug, Clone, serde::Serialize)]
pub struct LogEntry {
    pub route: String,
    pub status: u16,
    pub arg: Option<String>,
    pub bytes: u64,
}

struct Inner {
    store: Store,
    tokens: HashMap<String, Token>,
    refresh_tokens: HashMap<String, bool>,
    codes: HashMap<String, AuthCode>,
    sessions: HashMap<String, Session>,
    faults: Vec<Fault>,
    log: Vec<LogEntry>,
    config: Config,
}

type Shared = Arc<Mutex<Inner>>;

fn random_token(len: usize) -> String {
    use rand::Rng;
    rand::rng()
        .sample_iter(rand::distr::Alphanumeric)
        .take(len)
        .map(char::from)
        .collect()
}

// ---------- responses ----------

/// JSON with exactly `Content-Type: application/json`, as the SDKs require.
fn json_response(status: StatusCode, body: &Value) -> Response {
    let mut r = Response::new(Body::from(body.to_string()));
    *r.status_mut() = status;
    r.headers_mut()
        .insert("content-type", HeaderValue::from_static("application/json"));
    r
}

fn text_response(status: StatusCode, body: String) -> Response {
    let mut r = Response::new(Body::from(body));
    *r.status_mut() = status;
    r.headers_mut().insert(
        "content-type",
        HeaderValue::from_static("text/plain; charset=utf-8"),
    );
    r
}

fn summary_of(v: &Value) -> String {
    let mut parts = Vec::new();
    let mut cur = v;
    while let Some(tag) = cur.get(".tag").and_then(Value::as_str) {
        parts.push(tag.to_string());
        match cur.get(tag) {
            Some(next) if next.is_object() => cur = next,
            _ => break,
        }
    }
    format!("{}/...", parts.join("/"))
}

/// A 409 route error: `{"error_summary": "path/not_found/...", "error": {...}}`.
fn route_error(error: Value) -> Response {
    json_response(
        StatusCode::CONFLICT,
        &json!({ "error_summary": summary_of(&error), "error": error }),
    )
}

fn path_error(inner: Value) -> Response {
    route_error(json!({ ".tag": "path", "path": inner }))
}

/// files/upload's `path` error: UploadError.path is the struct
/// UploadWriteFailed, whose fields sit beside the tag (Stone inlines a
/// struct member of a union), not under a `path` key.
fn upload_write_failed(reason: Value, upload_session_id: &str) -> Response {
    route_error(json!({
        ".tag": "path",
        "reason": reason,
        "upload_session_id": upload_session_id,
    }))
}

/// A WriteError answered by `route`, in the shape that route's error union
/// gives it.
fn write_error_for(route: &str, reason: Value) -> Response {
    if route == "files/upload" {
        upload_write_failed(reason, "")
    } else {
        path_error(reason)
    }
}

fn content_hash_mismatch() -> Response {
    route_error(json!({ ".tag": "content_hash_mismatch" }))
}

fn new_session_id() -> String {
    format!("emu-session-{}", random_token(24))
}

fn bad_request(route: &str, message: &str) -> Response {
    text_response(
        StatusCode::BAD_REQUEST,
        format!("Error in call to API function \"{route}\": {message}"),
    )
}

fn auth_error(tag: &str) -> Response {
    json_response(
        StatusCode::UNAUTHORIZED,
        &json!({ "error_summary": format!("{tag}/..."), "error": { ".tag": tag } }),
    )
}

fn rate_limited(reason: &str, retry_after: u64, text: bool) -> Response {
    let mut r = if text {
        text_response(StatusCode::TOO_MANY_REQUESTS, "too_many_requests".into())
    } else {
        json_response(
            StatusCode::TOO_MANY_REQUESTS,
            &json!({
                "error_summary": format!("{reason}/..."),
                "error": { "reason": { ".tag": reason }, "retry_after": retry_after }
            }),
        )
    };
    r.headers_mut().insert(
        "retry-after",
        HeaderValue::from_str(&retry_after.to_string()).unwrap_or(HeaderValue::from_static("1")),
    );
    r
}

/// A response whose body breaks off: the client sees the connection drop.
fn dropped() -> Response {
    let stream = futures_util::stream::iter(vec![
        Ok(bytes::Bytes::from_static(b"{\"partial\":")),
        Err(std::io::Error::other(
            "connection dropped by fault injection",
        )),
    ]);
    let mut r = Response::new(Body::from_stream(stream));
    r.headers_mut()
        .insert("content-type", HeaderValue::from_static("application/json"));
    r.headers_mut()
        .insert("content-length", HeaderValue::from_static("4096"));
    r
}

// ---------- request parsing ----------

/// Reads Dropbox-API-Arg (or the `arg` URL parameter); it must be ASCII.
fn api_arg(
    route: &str,
    headers: &HeaderMap,
    query: &HashMap<String, String>,
) -> Result<(Value, String), Response> {
    let raw = match headers.get("dropbox-api-arg") {
        Some(v) => {
            if !v.as_bytes().is_ascii() {
                return Err(bad_request(
                    route,
                    "Dropbox-API-Arg header must be HTTP header-safe: escape non-ASCII characters as \\uXXXX",
                ));
            }
            String::from_utf8_lossy(v.as_bytes()).into_owned()
        }
        None => match query.get("arg") {
            Some(a) => a.clone(),
            None => return Err(bad_request(route, "missing Dropbox-API-Arg header")),
        },
    };
    let value = serde_json::from_str(&raw)
        .map_err(|e| bad_request(route, &format!("could not decode input as JSON: {e}")))?;
    Ok((value, raw))
}

fn json_body(route: &str, headers: &HeaderMap, body: &[u8]) -> Result<Value, Response> {
    let ct = headers
        .get("content-type")
        .and_then(|v| v.to_str().ok())
        .unwrap_or("");
    if !ct.starts_with("application/json") {
        return Err(bad_request(
            route,
            &format!("Bad HTTP \"Content-Type\" header: \"{ct}\". Expecting one of \"application/json\", \"application/json; charset=utf-8\", \"text/plain; charset=dropbox-cors-hack\"."),
        ));
    }
    serde_json::from_slice(body)
        .map_err(|e| bad_request(route, &format!("could not decode input as JSON: {e}")))
}

/// A request that declares no body (`Content-Length: 0`).
fn is_empty_body(headers: &HeaderMap) -> bool {
    headers
        .get("content-length")
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.trim() == "0")
}

fn check_octet_stream(route: &str, headers: &HeaderMap) -> Result<(), Response> {
    let ct = headers
        .get("content-type")
        .and_then(|v| v.to_str().ok())
        .unwrap_or("");
    if ct != "application/octet-stream" && !ct.is_empty() {
        return Err(bad_request(
            route,
            &format!("Bad HTTP \"Content-Type\" header: \"{ct}\". Expecting one of \"application/octet-stream\", \"text/plain; charset=dropbox-cors-hack\"."),
        ));
    }
    Ok(())
}

fn str_field<'a>(v: &'a Value, key: &str) -> Option<&'a str> {
    v.get(key).and_then(Value::as_str)
}

fn bool_field(v: &Value, key: &str) -> bool {
    v.get(key).and_then(Value::as_bool).unwrap_or(false)
}

fn tag_of(v: &Value) -> Option<&str> {
    v.as_str().or_else(|| v.get(".tag").and_then(Value::as_str))
}

/// Validates a write path: `/...`, no trailing slash, no empty or dot names.
fn check_write_path(path: &str) -> Result<(), Response> {
    if !path.starts_with('/') || path.ends_with('/') || path.contains("//") {
        return Err(path_error(json!({ ".tag": "malformed_path" })));
    }
    for comp in path.split('/').skip(1) {
        if comp == "." || comp == ".." || comp.chars().any(|c| c.is_control() || c == '\\') {
            return Err(path_error(json!({ ".tag": "malformed_path" })));
        }
        if comp.ends_with(' ') || comp.ends_with('.') || comp.len() > 255 {
            return Err(path_error(json!({ ".tag": "disallowed_name" })));
        }
    }
    Ok(())
}

fn write_mode(v: Option<&Value>) -> Result<WriteMode, String> {
    match v {
        None => Ok(WriteMode::Add),
        Some(m) => match tag_of(m) {
            Some("add") => Ok(WriteMode::Add),
            Some("overwrite") => Ok(WriteMode::Overwrite),
            Some("update") => m
                .get("update")
                .and_then(Value::as_str)
                .map(|r| WriteMode::Update(r.to_string()))
                .ok_or_else(|| "mode update needs a rev".into()),
            other => Err(format!("unknown write mode {other:?}")),
        },
    }
}

// ---------- the server ----------

pub struct Running {
    pub addr: SocketAddr,
    /// `http://127.0.0.1:PORT` (or https).
    pub base_url: String,
    shutdown: Option<tokio::sync::oneshot::Sender<()>>,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl Running {
    pub fn stop(mut self) {
        self.shutdown_now();
    }

    fn shutdown_now(&mut self) {
        if let Some(tx) = self.shutdown.take() {
            let _ = tx.send(());
        }
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

impl Drop for Running {
    fn drop(&mut self) {
        self.shutdown_now();
    }
}

/// Starts the emulator on a thread of its own; returns once it listens.
pub fn start(config: Config) -> anyhow::Result<Running> {
    let (ready_tx, ready_rx) = std::sync::mpsc::channel();
    let (shutdown_tx, shutdown_rx) = tokio::sync::oneshot::channel::<()>();
    let thread = std::thread::spawn(move || {
        let rt = match tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .enable_all()
            .build()
        {
            Ok(rt) => rt,
            Err(e) => {
                let _ = ready_tx.send(Err(anyhow::anyhow!(e)));
                return;
            }
        };
        rt.block_on(async move {
            match bind(config).await {
                Ok((addr, base_url, server)) => {
                    let _ = ready_tx.send(Ok((addr, base_url)));
                    tokio::select! {
                        _ = server => {}
                        _ = shutdown_rx => {}
                    }
                }
                Err(e) => {
                    let _ = ready_tx.send(Err(e));
                }
            }
        });
    });
    let (addr, base_url) = ready_rx.recv()??;
    Ok(Running {
        addr,
        base_url,
        shutdown: Some(shutdown_tx),
        thread: Some(thread),
    })
}

type ServerFuture = std::pin::Pin<Box<dyn std::future::Future<Output = ()> + Send>>;

/// Binds 127.0.0.1:port and returns the address, base URL and the server future.
pub async fn bind(config: Config) -> anyhow::Result<(SocketAddr, String, ServerFuture)> {
    let mut store = Store::open(&config.root, config.space_bytes)?;
    store.space_bytes = config.space_bytes;
    std::fs::create_dir_all(store.temp_dir())?;
    let mut tokens = HashMap::new();
    for t in &config.static_tokens {
        tokens.insert(
            t.clone(),
            Token {
                expires: Instant::now() + Duration::from_secs(10 * 365 * 86400),
                refresh: None,
                revoked: false,
            },
        );
    }
    let tls = config.tls_cert_out.clone();
    let inner = Inner {
        store,
        tokens,
        refresh_tokens: HashMap::new(),
        codes: HashMap::new(),
        sessions: HashMap::new(),
        faults: config.faults.clone(),
        log: Vec::new(),
        config: config.clone(),
    };
    let state: Shared = Arc::new(Mutex::new(inner));
    let app = Router::new()
        .route("/oauth2/authorize", get(authorize))
        .route("/oauth2/token", post(token))
        .route("/__emulator/faults", post(add_faults).delete(clear_faults))
        .route("/__emulator/log", get(read_log).delete(clear_log))
        .route("/2/{*route}", any(api))
        .layer(DefaultBodyLimit::disable())
        .with_state(state);
    let listener = std::net::TcpListener::bind(("127.0.0.1", config.port))?;
    listener.set_nonblocking(true)?;
    let addr = listener.local_addr()?;
    let server: ServerFuture = match tls {
        None => {
            let listener = tokio::net::TcpListener::from_std(listener)?;
            Box::pin(async move {
                let _ = axum::serve(listener, app).await;
            })
        }
        Some(cert_out) => {
            let _ = rustls::crypto::ring::default_provider().install_default();
            let cert =
                rcgen::generate_simple_self_signed(vec!["localhost".into(), "127.0.0.1".into()])?;
            let cert_pem = cert.cert.pem();
            let key_pem = cert.signing_key.serialize_pem();
            std::fs::write(&cert_out, &cert_pem)?;
            let tls = axum_server::tls_rustls::RustlsConfig::from_pem(
                cert_pem.into_bytes(),
                key_pem.into_bytes(),
            )
            .await?;
            let server = axum_server::from_tcp_rustls(listener, tls)?;
            Box::pin(async move {
                let _ = server.serve(app.into_make_service()).await;
            })
        }
    };
    let scheme = if config.tls_cert_out.is_some() {
        "https"
    } else {
        "http"
    };
    Ok((
        addr,
        format!("{scheme}://127.0.0.1:{}", addr.port()),
        server,
    ))
}

async fn add_faults(State(s): State<Shared>, body: bytes::Bytes) -> Response {
    let faults: Vec<Fault> = match serde_json::from_slice::<Vec<Fault>>(&body)
        .or_else(|_| serde_json::from_slice::<Fault>(&body).map(|f| vec![f]))
    {
        Ok(f) => f,
        Err(e) => return text_response(StatusCode::BAD_REQUEST, format!("bad fault: {e}")),
    };
    let mut st = s.lock().unwrap_or_else(|e| e.into_inner());
    st.faults.extend(faults);
    json_response(StatusCode::OK, &json!({ "faults": st.faults.len() }))
}

async fn clear_faults(State(s): State<Shared>) -> Response {
    s.lock().unwrap_or_else(|e| e.into_inner()).faults.clear();
    json_response(StatusCode::OK, &json!(null))
}

async fn read_log(State(s): State<Shared>) -> Response {
    let st = s.lock().unwrap_or_else(|e| e.into_inner());
    json_response(
        StatusCode::OK,
        &serde_json::to_value(&st.log).unwrap_or(Value::Null),
    )
}

async fn clear_log(State(s): State<Shared>) -> Response {
    s.lock().unwrap_or_else(|e| e.into_inner()).log.clear();
    json_response(StatusCode::OK, &json!(null))
}

// ---------- OAuth ----------

fn loopback(uri: &str) -> bool {
    ["http://127.0.0.1", "http://localhost", "http://[::1]"]
        .iter()
        .any(|p| uri.starts_with(p))
}

async fn authorize(State(s): State<Shared>, Query(q): Query<HashMap<String, String>>) -> Response {
    let mut st = s.lock().unwrap_or_else(|e| e.into_inner());
    let fail = |msg: &str| {
        text_response(
            StatusCode::BAD_REQUEST,
            format!("Invalid authorization request: {msg}"),
        )
    };
    if q.get("client_id") != Some(&st.config.app_key) {
        return fail("unknown client_id (app key)");
    }
    if q.get("response_type").map(String::as_str) != Some("code") {
        return fail("response_type must be \"code\"");
    }
    let challenge = q.get("code_challenge").cloned();
    if challenge.is_some() && q.get("code_challenge_method").map(String::as_str) != Some("S256") {
        return fail("code_challenge_method must be S256");
    }
    if q.get("state").is_some_and(|s| s.len() > 500) {
        return fail("state is longer than 500 bytes");
    }
    let redirect_uri = q.get("redirect_uri").cloned();
    if let Some(uri) = &redirect_uri {
        let registered = if st.config.redirect_uris.is_empty() {
            loopback(uri)
        } else {
            st.config.redirect_uris.contains(uri)
        };
        if !registered {
            return fail("redirect_uri does not exactly match a URI registered for the app");
        }
    }
    let code = random_token(43);
    st.codes.insert(
        code.clone(),
        AuthCode {
            challenge,
            redirect_uri: redirect_uri.clone(),
            offline: q.get("token_access_type").map(String::as_str) == Some("offline"),
        },
    );
    match redirect_uri {
        Some(uri) => {
            let mut location = format!(
                "{uri}{}code={code}",
                if uri.contains('?') { "&" } else { "?" }
            );
            if let Some(state) = q.get("state") {
                location.push_str("&state=");
                location.push_str(&urlencode(state));
            }
            let mut r = Response::new(Body::empty());
            *r.status_mut() = StatusCode::FOUND;
            if let Ok(v) = HeaderValue::from_str(&location) {
                r.headers_mut().insert("location", v);
            }
            r
        }
        None => {
            let mut r = Response::new(Body::from(format!(
                "<!doctype html><title>Dropbox emulator</title><p>Enter this code into your app:</p><code id=\"auth-code\">{code}</code>"
            )));
            r.headers_mut().insert(
                "content-type",
                HeaderValue::from_static("text/html; charset=utf-8"),
            );
            r
        }
    }
}

fn urlencode(s: &str) -> String {
    s.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'.' | b'_' | b'~' => {
                (b as char).to_string()
            }
            _ => format!("%{b:02X}"),
        })
        .collect()
}

fn oauth_error(error: &str, description: &str) -> Response {
    json_response(
        StatusCode::BAD_REQUEST,
        &json!({ "error": error, "error_description": description }),
    )
}

fn issue_token(st: &mut Inner, refresh: Option<String>) -> (String, u64) {
    let access = format!("sl.emu-{}", random_token(40));
    let ttl = st.config.token_ttl;
    st.tokens.insert(
        access.clone(),
        Token {
            expires: Instant::now() + ttl,
            refresh,
            revoked: false,
        },
    );
    (access, ttl.as_secs())
}

async fn token(State(s): State<Shared>, headers: HeaderMap, body: bytes::Bytes) -> Response {
    if let Some(r) = pre_route(&s, "oauth2/token", None, None).await {
        return r;
    }
    let ct = headers
        .get("content-type")
        .and_then(|v| v.to_str().ok())
        .unwrap_or("");
    if !ct.starts_with("application/x-www-form-urlencoded") {
        return oauth_error(
            "invalid_request",
            "the body must be application/x-www-form-urlencoded",
        );
    }
    let form: HashMap<String, String> = url_form(&body);
    let mut st = s.lock().unwrap_or_else(|e| e.into_inner());
    let response = token_inner(&mut st, &form);
    let status = response.status().as_u16();
    st.log.push(LogEntry {
        route: "oauth2/token".into(),
        status,
        arg: form.get("grant_type").cloned(),
        bytes: body.len() as u64,
    });
    response
}

fn token_inner(st: &mut Inner, form: &HashMap<String, String>) -> Response {
    if form.get("client_id") != Some(&st.config.app_key) {
        return oauth_error("invalid_client", "unknown client_id");
    }
    match form.get("grant_type").map(String::as_str) {
        Some("authorization_code") => {
            let Some(code) = form.get("code").and_then(|c| st.codes.remove(c)) else {
                return oauth_error("invalid_grant", "code doesn't exist or has expired");
            };
            if let Some(challenge) = &code.challenge {
                let Some(verifier) = form.get("code_verifier") else {
                    return oauth_error("invalid_grant", "missing code_verifier");
                };
                let digest = sha2::Sha256::digest(verifier.as_bytes());
                let computed = base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(digest);
                if &computed != challenge {
                    return oauth_error("invalid_grant", "invalid code verifier");
                }
            } else if form.get("client_secret").is_none() {
                return oauth_error("invalid_client", "no client_secret and no PKCE");
            }
            if code.redirect_uri.as_ref() != form.get("redirect_uri") {
                return oauth_error("invalid_grant", "redirect_uri mismatch");
            }
            let refresh = code.offline.then(|| format!("rt-{}", random_token(48)));
            if let Some(r) = &refresh {
                st.refresh_tokens.insert(r.clone(), true);
            }
            let (access, ttl) = issue_token(st, refresh.clone());
            let mut body = json!({
                "access_token": access,
                "token_type": "bearer",
                "expires_in": ttl,
                "scope": "account_info.read files.content.read files.content.write files.metadata.read files.metadata.write",
                "uid": "12345",
                "account_id": ACCOUNT_ID,
            });
            if let Some(r) = refresh {
                body["refresh_token"] = json!(r);
            }
            json_response(StatusCode::OK, &body)
        }
        Some("refresh_token") => {
            let Some(rt) = form.get("refresh_token") else {
                return oauth_error("invalid_request", "missing refresh_token");
            };
            if st.refresh_tokens.get(rt) != Some(&true) {
                return oauth_error("invalid_grant", "refresh token is invalid or revoked");
            }
            let (access, ttl) = issue_token(st, Some(rt.clone()));
            json_response(
                StatusCode::OK,
                &json!({ "access_token": access, "token_type": "bearer", "expires_in": ttl }),
            )
        }
        _ => oauth_error(
            "unsupported_grant_type",
            "grant_type must be authorization_code or refresh_token",
        ),
    }
}

fn url_form(body: &[u8]) -> HashMap<String, String> {
    serde_urlencoded::from_bytes(body).unwrap_or_default()
}

// ---------- API routes ----------

/// Applies an injected fault for `route`, if one is due. `Drop`/`DropAfter`
/// and `Slow` are handled by the caller around the real handler.
async fn pre_route(
    s: &Shared,
    route: &str,
    arg: Option<&str>,
    bearer: Option<&str>,
) -> Option<Response> {
    let fault = {
        let mut st = s.lock().unwrap_or_else(|e| e.into_inner());
        faults::take(&mut st.faults, route)
    }?;
    let retry = fault.retry_after.unwrap_or(1);
    let response = match fault.kind {
        FaultKind::ExpiredAccessToken => auth_error("expired_access_token"),
        FaultKind::InvalidAccessToken => auth_error("invalid_access_token"),
        FaultKind::TooManyRequests => rate_limited("too_many_requests", retry, false),
        FaultKind::TooManyRequestsText => rate_limited("too_many_requests", retry, true),
        FaultKind::TooManyWriteOperations => {
            rate_limited("too_many_write_operations", retry, false)
        }
        FaultKind::WriteContention => {
            write_error_for(route, json!({ ".tag": "too_many_write_operations" }))
        }
        FaultKind::InsufficientSpace => {
            write_error_for(route, json!({ ".tag": "insufficient_space" }))
        }
        FaultKind::SessionLost => {
            let mut st = s.lock().unwrap_or_else(|e| e.into_inner());
            for (_, session) in st.sessions.drain() {
                let _ = std::fs::remove_file(session.file);
            }
            let not_found = json!({ ".tag": "not_found" });
            if route.ends_with("append_v2") {
                route_error(not_found)
            } else {
                route_error(json!({ ".tag": "lookup_failed", "lookup_failed": not_found }))
            }
        }
        FaultKind::RevokeToken => {
            let mut st = s.lock().unwrap_or_else(|e| e.into_inner());
            revoke(&mut st, bearer.unwrap_or_default());
            return None;
        }
        FaultKind::ServerError => {
            let code = StatusCode::from_u16(fault.status.unwrap_or(500))
                .unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
            text_response(code, "Internal Server Error (injected)".into())
        }
        FaultKind::Drop => dropped(),
        FaultKind::Slow => {
            tokio::time::sleep(Duration::from_millis(fault.delay_ms.unwrap_or(1000))).await;
            return None;
        }
        FaultKind::Stall => {
            {
                let mut st = s.lock().unwrap_or_else(|e| e.into_inner());
                st.log.push(LogEntry {
                    route: format!("{route}#stall"),
                    status: 0,
                    arg: arg.map(str::to_string),
                    bytes: 0,
                });
            }
            // Dropped when the client closes the connection.
            std::future::pending::<()>().await;
            return None;
        }
        FaultKind::DropAfter => {
            // Marks the request; the handler runs and its response is replaced.
            let mut st = s.lock().unwrap_or_else(|e| e.into_inner());
            st.log.push(LogEntry {
                route: format!("{route}#drop-after"),
                status: 0,
                arg: arg.map(str::to_string),
                bytes: 0,
            });
            return None;
        }
    };
    let mut st = s.lock().unwrap_or_else(|e| e.into_inner());
    st.log.push(LogEntry {
        route: route.to_string(),
        status: response.status().as_u16(),
        arg: arg.map(str::to_string),
        bytes: 0,
    });
    Some(response)
}

/// Revokes an access token and every token of its refresh token.
fn revoke(st: &mut Inner, token: &str) {
    let refresh = st.tokens.get(token).and_then(|t| t.refresh.clone());
    if let Some(t) = st.tokens.get_mut(token) {
        t.revoked = true;
    }
    if let Some(r) = refresh {
        st.refresh_tokens.insert(r.clone(), false);
        for t in st.tokens.values_mut() {
            if t.refresh.as_ref() == Some(&r) {
                t.revoked = true;
            }
        }
    }
}

fn check_auth(st: &Inner, headers: &HeaderMap) -> Result<String, Response> {
    let Some(auth) = headers.get("authorization").and_then(|v| v.to_str().ok()) else {
        return Err(bad_request(
            "auth",
            "missing Authorization header; expected \"Bearer <token>\"",
        ));
    };
    let Some(token) = auth.strip_prefix("Bearer ") else {
        return Err(bad_request(
            "auth",
            "Authorization header must be \"Bearer <token>\"",
        ));
    };
    match st.tokens.get(token) {
        None => Err(auth_error("invalid_access_token")),
        Some(t) if t.revoked => Err(auth_error("invalid_access_token")),
        Some(t) if t.expires <= Instant::now() => Err(auth_error("expired_access_token")),
        Some(_) => Ok(token.to_string()),
    }
}

const CONTENT_ROUTES: &[&str] = &[
    "files/upload",
    "files/upload_session/start",
    "files/upload_session/append_v2",
    "files/upload_session/finish",
    "files/download",
];

async fn api(
    State(s): State<Shared>,
    axum::extract::Path(route): axum::extract::Path<String>,
    Query(q): Query<HashMap<String, String>>,
    req: Request,
) -> Response {
    let headers = req.headers().clone();
    let content = CONTENT_ROUTES.contains(&route.as_str());
    let arg_raw = headers
        .get("dropbox-api-arg")
        .map(|v| String::from_utf8_lossy(v.as_bytes()).into_owned());
    let drop_after = {
        let st = s.lock().unwrap_or_else(|e| e.into_inner());
        st.faults.iter().any(|f| {
            f.kind == FaultKind::DropAfter && f.skip == 0 && (f.route == "*" || f.route == route)
        })
    };
    let bearer = headers
        .get(axum::http::header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "));
    if let Some(r) = pre_route(&s, &route, arg_raw.as_deref(), bearer).await {
        // Like Dropbox's front end, read the whole request before answering,
        // so a client still sending its body sees the error, not a reset.
        drain(req.into_body()).await;
        return r;
    }
    let auth = {
        let st = s.lock().unwrap_or_else(|e| e.into_inner());
        check_auth(&st, &headers)
    };
    let response = match auth {
        Err(r) => {
            drain(req.into_body()).await;
            r
        }
        Ok(_) if content => content_route(&s, &route, &headers, &q, req.into_body()).await,
        Ok(token) => {
            let body = match axum::body::to_bytes(req.into_body(), 1 << 20).await {
                Ok(b) => b,
                Err(_) => return bad_request(&route, "request body too large"),
            };
            rpc_route(&s, &route, &headers, &body, &token)
        }
    };
    let status = response.status().as_u16();
    {
        let mut st = s.lock().unwrap_or_else(|e| e.into_inner());
        st.log.push(LogEntry {
            route: route.clone(),
            status,
            arg: arg_raw,
            bytes: 0,
        });
    }
    if drop_after {
        return dropped();
    }
    response
}

fn rpc_route(s: &Shared, route: &str, headers: &HeaderMap, body: &[u8], token: &str) -> Response {
    let arg = match json_body(route, headers, body) {
        Ok(v) => v,
        Err(r) => return r,
    };
    let mut st = s.lock().unwrap_or_else(|e| e.into_inner());
    match route {
        "users/get_current_account" => json_response(
            StatusCode::OK,
            &json!({
                "account_id": ACCOUNT_ID,
                "name": {
                    "given_name": "Dana", "surname": "Tester", "familiar_name": "Dana",
                    "display_name": "Dana Tester", "abbreviated_name": "DT"
                },
                "email": "dana@example.com",
                "email_verified": true,
                "disabled": false,
                "country": "DE",
                "locale": "en",
                "referral_link": "https://db.tt/emulator",
                "is_paired": false,
                "account_type": { ".tag": "pro" },
                "root_info": { ".tag": "user", "root_namespace_id": "3235641", "home_namespace_id": "3235641" }
            }),
        ),
        "auth/token/revoke" => {
            revoke(&mut st, token);
            json_response(StatusCode::OK, &Value::Null)
        }
        "files/list_folder" => {
            let Some(path) = str_field(&arg, "path") else {
                return bad_request(route, "request body: path: missing");
            };
            if !path.is_empty() && !path.starts_with('/') && !path.starts_with("id:") {
                return bad_request(
                    route,
                    "request body: path: must be \"\", start with \"/\" or be an id:",
                );
            }
            // An `id:` path lists the folder it names.
            let resolved = st.store.resolve(path);
            let path = resolved.as_deref().unwrap_or(path);
            if !path.is_empty() {
                match st.store.get(path) {
                    None => return path_error(json!({ ".tag": "not_found" })),
                    Some(Node::File(_)) => return path_error(json!({ ".tag": "not_folder" })),
                    Some(Node::Folder { .. }) => {}
                }
            }
            let limit = arg
                .get("limit")
                .and_then(Value::as_u64)
                .unwrap_or(2000)
                .clamp(1, 2000) as usize;
            list_page(&st, path, bool_field(&arg, "recursive"), 0, limit)
        }
        "files/list_folder/continue" => {
            let Some(cursor) = str_field(&arg, "cursor") else {
                return bad_request(route, "request body: cursor: missing");
            };
            let decoded = base64::engine::general_purpose::URL_SAFE_NO_PAD
                .decode(cursor)
                .ok()
                .and_then(|b| serde_json::from_slice::<Value>(&b).ok());
            let Some(c) = decoded else {
                return route_error(json!({ ".tag": "reset" }));
            };
            let path = str_field(&c, "path").unwrap_or("").to_string();
            if !path.is_empty() && st.store.get(&path).is_none() {
                return route_error(json!({ ".tag": "reset" }));
            }
            list_page(
                &st,
                &path,
                bool_field(&c, "recursive"),
                c.get("offset").and_then(Value::as_u64).unwrap_or(0) as usize,
                c.get("limit").and_then(Value::as_u64).unwrap_or(2000) as usize,
            )
        }
        "files/create_folder_v2" => {
            let Some(path) = str_field(&arg, "path") else {
                return bad_request(route, "request body: path: missing");
            };
            if let Err(r) = check_write_path(path) {
                return r;
            }
            match st.store.create_folder(path) {
                Ok(node) => {
                    json_response(StatusCode::OK, &json!({ "metadata": metadata_json(&node) }))
                }
                Err(WriteError(e)) => path_error(e),
            }
        }
        "files/get_metadata" => {
            let Some(path) = str_field(&arg, "path") else {
                return bad_request(route, "request body: path: missing");
            };
            if path.is_empty() {
                return bad_request(route, "request body: path: The root folder is unsupported.");
            }
            match st.store.get(path) {
                Some(node) => json_response(StatusCode::OK, &metadata_json(node)),
                None => path_error(json!({ ".tag": "not_found" })),
            }
        }
        "files/upload_session/start_batch" => {
            let n = arg.get("num_sessions").and_then(Value::as_u64).unwrap_or(0);
            if !(1..=1000).contains(&n) {
                return bad_request(
                    route,
                    "request body: num_sessions: must be between 1 and 1000",
                );
            }
            let concurrent = arg
                .get("session_type")
                .and_then(tag_of)
                .is_some_and(|t| t == "concurrent");
            let temp_dir = st.store.temp_dir();
            let mut ids = Vec::new();
            for _ in 0..n {
                let id = new_session_id();
                let file = temp_dir.join(&id);
                if let Err(e) = std::fs::File::create(&file) {
                    return text_response(
                        StatusCode::INTERNAL_SERVER_ERROR,
                        format!("cannot create a session: {e}"),
                    );
                }
                st.sessions.insert(
                    id.clone(),
                    Session {
                        file,
                        len: 0,
                        hasher: (!concurrent).then(ContentHasher::default),
                        closed: false,
                        concurrent,
                        parts: BTreeMap::new(),
                    },
                );
                ids.push(id);
            }
            json_response(StatusCode::OK, &json!({ "session_ids": ids }))
        }
        "files/upload_session/finish_batch_v2" => {
            let Some(entries) = arg.get("entries").and_then(Value::as_array) else {
                return bad_request(route, "request body: entries: missing");
            };
            if entries.len() > 1000 {
                return bad_request(route, "request body: entries: more than 1000 entries");
            }
            let results: Vec<Value> = entries
                .iter()
                .map(|e| {
                    // An entry's content_hash covers the data of this call,
                    // and finish_batch carries none.
                    if str_field(e, "content_hash").is_some_and(|h| h != hash::EMPTY) {
                        return Err(json!({ ".tag": "content_hash_mismatch" }));
                    }
                    finish_one(&mut st, e)
                })
                .map(|r| match r {
                    Ok(meta) => {
                        let mut v = file_json(&meta);
                        v[".tag"] = json!("success");
                        v
                    }
                    Err(failure) => json!({ ".tag": "failure", "failure": failure }),
                })
                .collect();
            json_response(StatusCode::OK, &json!({ "entries": results }))
        }
        _ => text_response(
            StatusCode::NOT_FOUND,
            format!("Unknown API function: \"{route}\""),
        ),
    }
}

fn list_page(st: &Inner, path: &str, recursive: bool, offset: usize, limit: usize) -> Response {
    let limit = st
        .config
        .list_page_size
        .map_or(limit, |cap| limit.min(cap))
        .max(1);
    let all = st.store.list(path, recursive);
    let end = (offset + limit).min(all.len());
    let entries: Vec<Value> = all
        .get(offset..end)
        .unwrap_or(&[])
        .iter()
        .map(metadata_json)
        .collect();
    let cursor = base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(
        json!({ "path": path, "recursive": recursive, "offset": end, "limit": limit }).to_string(),
    );
    json_response(
        StatusCode::OK,
        &json!({ "entries": entries, "cursor": cursor, "has_more": end < all.len() }),
    )
}

/// Commits one finished session; errors are UploadSessionFinishError values.
/// A finish's `content_hash` covers that call's data, so it is checked where
/// the data arrives, not here against the whole file.
fn finish_one(st: &mut Inner, entry: &Value) -> Result<store::FileMeta, Value> {
    let lookup = |t: Value| json!({ ".tag": "lookup_failed", "lookup_failed": t });
    let cursor = entry.get("cursor").cloned().unwrap_or(Value::Null);
    let commit = entry.get("commit").cloned().unwrap_or(Value::Null);
    let id = str_field(&cursor, "session_id").unwrap_or("").to_string();
    let offset = cursor
        .get("offset")
        .and_then(Value::as_u64)
        .unwrap_or(u64::MAX);
    let Some(session) = st.sessions.get(&id) else {
        return Err(lookup(json!({ ".tag": "not_found" })));
    };
    if !session.closed {
        return Err(if session.concurrent {
            json!({ ".tag": "concurrent_session_not_closed" })
        } else {
            lookup(json!({ ".tag": "not_closed" }))
        });
    }
    let assembled = if session.concurrent {
        match session.assembled_hash() {
            Some(h) => Some(h),
            None => return Err(json!({ ".tag": "concurrent_session_missing_data" })),
        }
    } else {
        None
    };
    if offset != session.len {
        return Err(lookup(
            json!({ ".tag": "incorrect_offset", "correct_offset": session.len }),
        ));
    }
    let Some(path) = str_field(&commit, "path").map(str::to_string) else {
        return Err(json!({ ".tag": "path", "path": { ".tag": "malformed_path" } }));
    };
    if check_write_path(&path).is_err() {
        return Err(json!({ ".tag": "path", "path": { ".tag": "malformed_path" } }));
    }
    let mode = write_mode(commit.get("mode"))
        .map_err(|_| json!({ ".tag": "path", "path": { ".tag": "malformed_path" } }))?;
    let (file, len) = (session.file.clone(), session.len);
    if session.concurrent {
        // Bytes of refused parts may lie past the end.
        if let Ok(f) = std::fs::OpenOptions::new().write(true).open(&file) {
            let _ = f.set_len(len);
        }
    }
    let hash = match (
        assembled,
        st.sessions.get_mut(&id).and_then(|s| s.hasher.take()),
    ) {
        (Some(h), _) => h,
        (None, Some(h)) => h.finish(),
        (None, None) => store::hash_file(&file).map(|(_, h)| h).unwrap_or_default(),
    };
    match st.store.write_file(
        &path,
        &file,
        len,
        hash.clone(),
        mode,
        bool_field(&commit, "autorename"),
        bool_field(&commit, "strict_conflict"),
        str_field(&commit, "client_modified").map(str::to_string),
    ) {
        Ok(meta) => {
            if let Some(s) = st.sessions.remove(&id) {
                let _ = std::fs::remove_file(s.file);
            }
            Ok(meta)
        }
        // The data stays: the client may retry the commit with an empty body.
        Err(WriteError(e)) => Err(json!({ ".tag": "path", "path": e })),
    }
}

/// Where [`receive`] puts a body in its file.
#[derive(Clone, Copy)]
enum Place {
    Truncate,
    Append,
    At(u64),
}

/// Streams a request body into `file`, hashing as it goes (`hasher`: the
/// whole file so far; `call`: this request's data alone, for its
/// `content_hash`); `None` when the body exceeds `max` bytes.
async fn receive(
    body: Body,
    file: &std::path::Path,
    place: Place,
    max: u64,
    hasher: &mut Option<ContentHasher>,
    call: &mut Option<ContentHasher>,
) -> Result<Option<u64>, String> {
    use std::io::{Seek, Write};
    let append = matches!(place, Place::Append);
    // Plain blocking writes: a frame lands in the page cache in microseconds,
    // and tokio's File would copy every frame once more and hop threads.
    let mut f = std::fs::OpenOptions::new()
        .create(true)
        .append(append)
        .write(true)
        .truncate(matches!(place, Place::Truncate))
        .open(file)
        .map_err(|e| e.to_string())?;
    if let Place::At(offset) = place {
        f.seek(std::io::SeekFrom::Start(offset))
            .map_err(|e| e.to_string())?;
    }
    let mut stream = body.into_data_stream();
    let mut n = 0u64;
    while let Some(chunk) = stream.next().await {
        let chunk = chunk.map_err(|e| e.to_string())?;
        n += chunk.len() as u64;
        if n > max {
            // Read the rest, so the client gets the answer rather than a
            // connection reset while it is still sending.
            while let Some(Ok(_)) = stream.next().await {}
            return Ok(None);
        }
        if let Some(h) = hasher.as_mut() {
            h.update(&chunk);
        }
        if let Some(h) = call.as_mut() {
            h.update(&chunk);
        }
        f.write_all(&chunk).map_err(|e| e.to_string())?;
    }
    Ok(Some(n))
}

fn payload_too_large() -> Response {
    route_error(json!({ ".tag": "payload_too_large" }))
}

/// Reads and discards a request body.
async fn drain(body: Body) {
    let mut stream = body.into_data_stream();
    while let Some(Ok(_)) = stream.next().await {}
}

async fn content_route(
    s: &Shared,
    route: &str,
    headers: &HeaderMap,
    q: &HashMap<String, String>,
    body: Body,
) -> Response {
    let mut body = Some(body);
    let response = content_route_inner(s, route, headers, q, &mut body).await;
    if let Some(rest) = body {
        drain(rest).await;
    }
    response
}

async fn content_route_inner(
    s: &Shared,
    route: &str,
    headers: &HeaderMap,
    q: &HashMap<String, String>,
    body_slot: &mut Option<Body>,
) -> Response {
    if route != "files/download" {
        if let Err(r) = check_octet_stream(route, headers) {
            return r;
        }
    }
    let (arg, _) = match api_arg(route, headers, q) {
        Ok(a) => a,
        Err(r) => return r,
    };
    let (temp_dir, max) = {
        let st = s.lock().unwrap_or_else(|e| e.into_inner());
        (st.store.temp_dir(), st.config.max_request_bytes)
    };
    match route {
        "files/upload" => {
            let Some(path) = str_field(&arg, "path").map(str::to_string) else {
                return bad_request(route, "Dropbox-API-Arg: path: missing");
            };
            if let Err(r) = check_write_path(&path) {
                return r;
            }
            let mode = match write_mode(arg.get("mode")) {
                Ok(m) => m,
                Err(e) => return bad_request(route, &e),
            };
            let temp = temp_dir.join(format!("upload-{}", random_token(16)));
            let mut hasher = Some(ContentHasher::default());
            let Some(body) = body_slot.take() else {
                return bad_request(route, "no body");
            };
            let size =
                match receive(body, &temp, Place::Truncate, max, &mut hasher, &mut None).await {
                    Ok(Some(n)) => n,
                    Ok(None) => {
                        let _ = std::fs::remove_file(&temp);
                        return payload_too_large();
                    }
                    Err(e) => {
                        let _ = std::fs::remove_file(&temp);
                        return bad_request(route, &format!("error reading the body: {e}"));
                    }
                };
            let hash = hasher.map(|h| h.finish()).unwrap_or_default();
            if let Some(expected) = str_field(&arg, "content_hash") {
                if expected != hash {
                    let _ = std::fs::remove_file(&temp);
                    return route_error(json!({ ".tag": "content_hash_mismatch" }));
                }
            }
            let mut st = s.lock().unwrap_or_else(|e| e.into_inner());
            let result = st.store.write_file(
                &path,
                &temp,
                size,
                hash,
                mode,
                bool_field(&arg, "autorename"),
                bool_field(&arg, "strict_conflict"),
                str_field(&arg, "client_modified").map(str::to_string),
            );
            match result {
                Ok(meta) => {
                    let _ = std::fs::remove_file(&temp);
                    json_response(StatusCode::OK, &file_json(&meta))
                }
                Err(WriteError(e)) => {
                    // UploadWriteFailed: the data stays in a closed session
                    // whose id lets the client commit it with finish.
                    let id = new_session_id();
                    let file = temp_dir.join(&id);
                    if std::fs::rename(&temp, &file).is_err() {
                        let _ = std::fs::remove_file(&temp);
                    }
                    st.sessions.insert(
                        id.clone(),
                        Session {
                            file,
                            len: size,
                            hasher: None,
                            closed: true,
                            concurrent: false,
                            parts: BTreeMap::new(),
                        },
                    );
                    upload_write_failed(e, &id)
                }
            }
        }
        "files/upload_session/start" => {
            let concurrent = arg
                .get("session_type")
                .and_then(tag_of)
                .is_some_and(|t| t == "concurrent");
            let id = new_session_id();
            if concurrent && bool_field(&arg, "close") {
                return route_error(json!({ ".tag": "concurrent_session_close_not_allowed" }));
            }
            if concurrent && !is_empty_body(headers) {
                return route_error(json!({ ".tag": "concurrent_session_data_not_allowed" }));
            }
            let file = temp_dir.join(&id);
            let mut hasher = (!concurrent).then(ContentHasher::default);
            let Some(body) = body_slot.take() else {
                return bad_request(route, "no body");
            };
            // content_hash covers this call's data (files.stone).
            let expected = str_field(&arg, "content_hash");
            let mut call = expected.map(|_| ContentHasher::default());
            let n = match receive(body, &file, Place::Truncate, max, &mut hasher, &mut call).await {
                Ok(Some(n)) => n,
                Ok(None) => {
                    let _ = std::fs::remove_file(&file);
                    return payload_too_large();
                }
                Err(e) => return bad_request(route, &format!("error reading the body: {e}")),
            };
            if concurrent && n > 0 {
                let _ = std::fs::remove_file(&file);
                return route_error(json!({ ".tag": "concurrent_session_data_not_allowed" }));
            }
            if let (Some(expected), Some(call)) = (expected, call) {
                if call.finish() != expected {
                    let _ = std::fs::remove_file(&file);
                    return content_hash_mismatch();
                }
            }
            let mut st = s.lock().unwrap_or_else(|e| e.into_inner());
            st.sessions.insert(
                id.clone(),
                Session {
                    file,
                    len: n,
                    hasher,
                    closed: bool_field(&arg, "close"),
                    concurrent,
                    parts: BTreeMap::new(),
                },
            );
            json_response(StatusCode::OK, &json!({ "session_id": id }))
        }
        "files/upload_session/append_v2" | "files/upload_session/finish" => {
            let cursor = arg.get("cursor").cloned().unwrap_or(Value::Null);
            let id = str_field(&cursor, "session_id").unwrap_or("").to_string();
            let Some(offset) = cursor.get("offset").and_then(Value::as_u64) else {
                return bad_request(route, "Dropbox-API-Arg: cursor.offset: missing");
            };
            let lookup = |t: Value| {
                if route.ends_with("finish") {
                    route_error(json!({ ".tag": "lookup_failed", "lookup_failed": t }))
                } else {
                    route_error(t)
                }
            };
            // content_hash covers the data of this call only, for append and
            // finish alike (files.stone, UploadSession{Append,Finish}Arg).
            let expected = str_field(&arg, "content_hash").map(str::to_string);
            let close = route.ends_with("finish") || bool_field(&arg, "close");
            let (file, mut hasher, concurrent, before) = {
                let mut st = s.lock().unwrap_or_else(|e| e.into_inner());
                let Some(session) = st.sessions.get_mut(&id) else {
                    return lookup(json!({ ".tag": "not_found" }));
                };
                if session.closed && route.ends_with("append_v2") {
                    return lookup(json!({ ".tag": "closed" }));
                }
                if session.concurrent && route.ends_with("finish") {
                    // No data in a concurrent finish; the last append closed
                    // the session (else finish_one says it is not closed).
                    if !is_empty_body(headers) {
                        return route_error(
                            json!({ ".tag": "concurrent_session_data_not_allowed" }),
                        );
                    }
                    if expected.as_deref().is_some_and(|h| h != hash::EMPTY) {
                        return content_hash_mismatch();
                    }
                    let entry = json!({
                        "cursor": { "session_id": id, "offset": offset },
                        "commit": arg.get("commit").cloned().unwrap_or(Value::Null),
                    });
                    return match finish_one(&mut st, &entry) {
                        Ok(meta) => json_response(StatusCode::OK, &file_json(&meta)),
                        Err(e) => route_error(e),
                    };
                }
                if session.concurrent {
                    if offset % CHUNK_MULTIPLE != 0 {
                        return lookup(json!({ ".tag": "concurrent_session_invalid_offset" }));
                    }
                } else if offset != session.len {
                    return lookup(
                        json!({ ".tag": "incorrect_offset", "correct_offset": session.len }),
                    );
                }
                let hasher = if session.concurrent {
                    Some(ContentHasher::default())
                } else {
                    session.hasher.take()
                };
                // The whole-file hash as it was, should this call be refused.
                let before = if expected.is_some() && !session.concurrent {
                    hasher.clone()
                } else {
                    None
                };
                (session.file.clone(), hasher, session.concurrent, before)
            };
            let Some(body) = body_slot.take() else {
                return bad_request(route, "no body");
            };
            let place = if concurrent {
                Place::At(offset)
            } else {
                Place::Append
            };
            // A concurrent part's own hasher already covers just this call.
            let mut call = (expected.is_some() && !concurrent).then(ContentHasher::default);
            let received = receive(body, &file, place, max, &mut hasher, &mut call).await;
            let mut st = s.lock().unwrap_or_else(|e| e.into_inner());
            let mismatch = match (&expected, &received) {
                (Some(expected), Ok(Some(_))) => {
                    let got = if concurrent {
                        hasher.clone().map(ContentHasher::finish)
                    } else {
                        call.map(ContentHasher::finish)
                    };
                    got.as_deref() != Some(expected.as_str())
                }
                _ => false,
            };
            let n = match received {
                Ok(Some(n)) if !mismatch => n,
                Ok(_) | Err(_) => {
                    // Undo the partial append so the offset stays truthful;
                    // a concurrent part that failed is simply not recorded.
                    if let Some(session) = st.sessions.get_mut(&id).filter(|s| !s.concurrent) {
                        if let Ok(f) = std::fs::OpenOptions::new().write(true).open(&session.file) {
                            let _ = f.set_len(session.len);
                        }
                        session.hasher = before;
                    }
                    return match received {
                        _ if mismatch => content_hash_mismatch(),
                        Ok(None) => payload_too_large(),
                        _ => bad_request(route, "error reading the body"),
                    };
                }
            };
            let Some(session) = st.sessions.get_mut(&id) else {
                return lookup(json!({ ".tag": "not_found" }));
            };
            if concurrent {
                if !close && n % CHUNK_MULTIPLE != 0 {
                    return lookup(json!({ ".tag": "concurrent_session_invalid_data_size" }));
                }
                let end = offset + n;
                if session.overlaps(offset, n) || (session.closed && end > session.len) {
                    return lookup(json!({ ".tag": "concurrent_session_invalid_offset" }));
                }
                if close && session.parts.range(end..).next().is_some() {
                    return lookup(json!({ ".tag": "concurrent_session_invalid_offset" }));
                }
                let blocks = hasher.map(ContentHasher::into_blocks).unwrap_or_default();
                if n > 0 || close {
                    session.parts.insert(offset, (n, blocks));
                }
                if close {
                    session.len = end;
                    session.closed = true;
                }
            } else {
                session.len += n;
                session.hasher = hasher;
                session.closed |= close;
            }
            if route.ends_with("append_v2") {
                return json_response(StatusCode::OK, &Value::Null);
            }
            let len = st.sessions.get(&id).map(|s| s.len).unwrap_or(0);
            let entry = json!({
                "cursor": { "session_id": id, "offset": len },
                "commit": arg.get("commit").cloned().unwrap_or(Value::Null),
            });
            match finish_one(&mut st, &entry) {
                Ok(meta) => json_response(StatusCode::OK, &file_json(&meta)),
                Err(e) => route_error(e),
            }
        }
        "files/download" => {
            let Some(path) = str_field(&arg, "path") else {
                return bad_request(route, "Dropbox-API-Arg: path: missing");
            };
            let st = s.lock().unwrap_or_else(|e| e.into_inner());
            match st.store.get(path) {
                Some(Node::File(m)) => {
                    let disk = st.store.disk_path(&m.path_display);
                    let data = std::fs::read(&disk).unwrap_or_default();
                    let range = headers.get("range").and_then(|v| v.to_str().ok());
                    let mut r = match range.map(|h| byte_range(h, data.len() as u64)) {
                        None => Response::new(Body::from(data)),
                        Some(Some((first, last))) => {
                            let part = data[first as usize..=last as usize].to_vec();
                            let mut r = Response::new(Body::from(part));
                            *r.status_mut() = StatusCode::PARTIAL_CONTENT;
                            let cr = format!("bytes {first}-{last}/{}", data.len());
                            if let Ok(v) = HeaderValue::from_str(&cr) {
                                r.headers_mut().insert("content-range", v);
                            }
                            r
                        }
                        Some(None) => {
                            let mut r = text_response(
                                StatusCode::RANGE_NOT_SATISFIABLE,
                                "Range not satisfiable".into(),
                            );
                            let cr = format!("bytes */{}", data.len());
                            if let Ok(v) = HeaderValue::from_str(&cr) {
                                r.headers_mut().insert("content-range", v);
                            }
                            return r;
                        }
                    };
                    r.headers_mut().insert(
                        "content-type",
                        HeaderValue::from_static("application/octet-stream"),
                    );
                    let result = header_safe_json(&file_json(m));
                    if let Ok(v) = HeaderValue::from_str(&result) {
                        r.headers_mut().insert("dropbox-api-result", v);
                    }
                    r
                }
                Some(Node::Folder { .. }) => path_error(json!({ ".tag": "not_file" })),
                None => path_error(json!({ ".tag": "not_found" })),
            }
        }
        _ => text_response(
            StatusCode::NOT_FOUND,
            format!("Unknown API function: \"{route}\""),
        ),
    }
}

/// The inclusive byte range a single-range `Range` header asks of a body of
/// `len` bytes (`bytes=a-b`, `bytes=a-`, `bytes=-n`); `None` when it cannot
/// be satisfied.
fn byte_range(header: &str, len: u64) -> Option<(u64, u64)> {
    let spec = header.trim().strip_prefix("bytes=")?;
    let (a, b) = spec.split_once('-')?;
    let (a, b) = (a.trim(), b.trim());
    let (first, last) = if a.is_empty() {
        let n: u64 = b.parse().ok()?;
        if n == 0 {
            return None;
        }
        (len.saturating_sub(n), len.checked_sub(1)?)
    } else {
        let first: u64 = a.parse().ok()?;
        let last = if b.is_empty() {
            len.checked_sub(1)?
        } else {
            b.parse::<u64>().ok()?.min(len.checked_sub(1)?)
        };
        (first, last)
    };
    (first <= last && last < len).then_some((first, last))
}

/// JSON with every non-ASCII character escaped as `\uXXXX`, for headers.
pub fn header_safe_json(v: &Value) -> String {
    let mut out = String::new();
    for c in v.to_string().chars() {
        if c.is_ascii() && c != '\u{7f}' {
            out.push(c);
        } else {
            let mut buf = [0u16; 2];
            for unit in c.encode_utf16(&mut buf) {
                out.push_str(&format!("\\u{unit:04x}"));
            }
        }
    }
    out
}
