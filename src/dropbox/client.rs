//! The Dropbox API v2 client: every call goes through one retry loop that
//! reads errors by their `.tag`s — 429 waits for Retry-After, 5xx and dropped
//! connections back off with jitter, an expired token is refreshed once.

use super::content_hash::{BlockDigests, BLOCK};
use super::{header_safe, DropboxError, Secret};
use crate::http::Failed;
use serde::Deserialize;
use serde_json::{json, Value};
use std::fs::File;
use std::io::Read;
use std::path::Path;
use std::sync::Mutex;
use std::time::{Duration, Instant};

/// The three hosts; each can be pointed elsewhere (tests use the emulator).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Endpoints {
    pub api: String,
    pub content: String,
    pub oauth: String,
}

impl Default for Endpoints {
    fn default() -> Self {
        Endpoints {
            api: "https://api.dropboxapi.com".into(),
            content: "https://content.dropboxapi.com".into(),
            oauth: "https://www.dropbox.com".into(),
        }
    }
}

impl Endpoints {
    /// `DROPSYNC_DROPBOX_API_URL`, `_CONTENT_URL` and `_OAUTH_URL`, else Dropbox's hosts.
    pub fn from_env() -> Self {
        let d = Endpoints::default();
        let var = |name: &str, default: String| {
            std::env::var(name)
                .ok()
                .filter(|v| !v.is_empty())
                .map(|v| v.trim_end_matches('/').to_string())
                .unwrap_or(default)
        };
        Endpoints {
            api: var(crate::env_vars::DROPBOX_API_URL, d.api),
            content: var(crate::env_vars::DROPBOX_CONTENT_URL, d.content),
            oauth: var(crate::env_vars::DROPBOX_OAUTH_URL, d.oauth),
        }
    }
}

/// How long a call may wait, so that a Dropbox (or proxy) that accepts the
/// connection and never answers fails the run instead of hanging it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Timeouts {
    /// To open the connection (TCP and TLS).
    pub connect: Duration,
    /// For a whole call without a body to send: request, answer and its body.
    pub answer: Duration,
    /// The slowest upload speed tolerated: a call sending `n` bytes may take
    /// `answer + n / min_bytes_per_sec`.
    pub min_bytes_per_sec: u64,
}

impl Default for Timeouts {
    fn default() -> Self {
        Timeouts {
            connect: Duration::from_secs(10),
            answer: Duration::from_secs(30),
            min_bytes_per_sec: 1024 * 1024,
        }
    }
}

impl Timeouts {
    /// `DROPSYNC_DROPBOX_TIMEOUT_SECS`, `_CONNECT_TIMEOUT_SECS` and
    /// `_MIN_BYTES_PER_SEC`, else the defaults (30 s, 10 s, 1 MiB/s).
    pub fn from_env() -> Self {
        let d = Timeouts::default();
        let var = |name: &str| {
            std::env::var(name)
                .ok()
                .and_then(|v| v.trim().parse::<u64>().ok())
                .filter(|v| *v > 0)
        };
        Timeouts {
            connect: var(crate::env_vars::DROPBOX_CONNECT_TIMEOUT_SECS)
                .map(Duration::from_secs)
                .unwrap_or(d.connect),
            answer: var(crate::env_vars::DROPBOX_TIMEOUT_SECS)
                .map(Duration::from_secs)
                .unwrap_or(d.answer),
            min_bytes_per_sec: var(crate::env_vars::DROPBOX_MIN_BYTES_PER_SEC)
                .unwrap_or(d.min_bytes_per_sec),
        }
    }

    /// The deadline of a call that sends `bytes` bytes.
    pub fn for_body(&self, bytes: u64) -> Duration {
        self.answer + Duration::from_secs(bytes / self.min_bytes_per_sec.max(1))
    }
}

/// `host` or `host:port` of a URL, as an error names it.
fn host_of(url: &str) -> String {
    match reqwest::Url::parse(url) {
        Ok(u) => match (u.host_str(), u.port()) {
            (Some(h), Some(p)) => format!("{h}:{p}"),
            (Some(h), None) => h.to_string(),
            _ => url.to_string(),
        },
        Err(_) => url.to_string(),
    }
}

fn secs(d: Duration) -> String {
    if d.subsec_millis() == 0 {
        format!("{} s", d.as_secs())
    } else {
        format!("{:.1} s", d.as_secs_f64())
    }
}

/// What a failed send says: a timeout names the host, the limit and the route.
fn send_failure(
    e: &reqwest::Error,
    url: &str,
    route: &str,
    timeouts: &Timeouts,
    limit: Duration,
) -> (String, bool) {
    if e.is_timeout() {
        let host = host_of(url);
        let text = if e.is_connect() {
            format!(
                "could not connect to {host} within {} on {route}",
                secs(timeouts.connect)
            )
        } else {
            format!("no answer from {host} within {} on {route}", secs(limit))
        };
        (text, true)
    } else {
        (format!("connection failed: {}", error_chain(e)), false)
    }
}

/// Dropbox's retry limits (see `crate::http::Policy`): six attempts for
/// 5xx, dropped connections and write contention, with full-jitter backoff;
/// two for a server that does not answer in time, each costing a whole
/// timeout, to bound a run against a silent server; and up to twenty
/// Retry-After waits (Dropbox asks for them under load), each at most five
/// minutes, which do not count as attempts.
pub fn retry_policy() -> crate::http::Policy {
    let base_ms = std::env::var(crate::env_vars::DROPBOX_RETRY_BASE_MS)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(500);
    crate::http::Policy {
        attempts: 6,
        timeout_attempts: 2,
        free_waits: 20,
        base: Duration::from_millis(base_ms),
        max_backoff: Duration::from_millis(base_ms * 64),
        jitter: true,
        max_retry_after: Duration::from_secs(300),
        deadline: None,
        attempt_timeout: None,
    }
}

/// A failed attempt of a call: to retry (its text, for the final error),
/// or an error to return as it is.
enum Attempt {
    Failed(String),
    Stop(DropboxError),
}

impl std::fmt::Display for Attempt {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Attempt::Failed(text) => f.write_str(text),
            Attempt::Stop(e) => write!(f, "{e}"),
        }
    }
}

/// The error of a call the policy gave up on.
fn gave_up<T>(route: &str, o: crate::http::Outcome<T, Attempt>) -> Result<T, DropboxError> {
    use crate::http::GaveUp;
    match o.result {
        Ok(v) => Ok(v),
        Err((Attempt::Stop(e), _)) => Err(e),
        Err((Attempt::Failed(last), why)) => Err(DropboxError::Exhausted {
            route: route.into(),
            attempts: if why == GaveUp::Waits {
                o.waits
            } else {
                o.failures
            },
            last,
        }),
    }
}

#[derive(Debug, Clone)]
pub enum Credentials {
    /// A short-lived access token (no refresh): `DROPSYNC_DROPBOX_ACCESS_TOKEN`.
    Access(Secret),
    /// A refresh token and the app key it was issued to (PKCE: no secret).
    Refresh {
        refresh_token: Secret,
        app_key: String,
    },
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Account {
    pub account_id: String,
    pub email: String,
    pub display_name: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct FileMetadata {
    pub name: String,
    pub path_display: String,
    pub path_lower: String,
    pub size: u64,
    pub rev: String,
    pub content_hash: Option<String>,
    pub server_modified: String,
}

/// What a listed entry is (its `.tag`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
#[serde(rename_all = "lowercase")]
pub enum EntryKind {
    File,
    Folder,
    /// A deleted entry (listed only when asked for) or a tag this client
    /// does not know.
    Other,
}

impl EntryKind {
    fn of_tag(tag: &str) -> EntryKind {
        match tag {
            "file" => EntryKind::File,
            "folder" => EntryKind::Folder,
            _ => EntryKind::Other,
        }
    }
}

/// A listed entry.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Entry {
    pub kind: EntryKind,
    pub name: String,
    pub path_display: String,
    pub size: Option<u64>,
    pub server_modified: Option<String>,
}

struct Token {
    value: Secret,
    expires: Option<Instant>,
}

pub struct Client {
    http: reqwest::blocking::Client,
    endpoints: Endpoints,
    retry: crate::http::Policy,
    timeouts: Timeouts,
    credentials: Credentials,
    token: Mutex<Option<Token>>,
}

/// Refresh this long before the token expires, as the official SDKs do.
const REFRESH_MARGIN: Duration = Duration::from_secs(300);

fn io_err(context: impl Into<String>, source: std::io::Error) -> DropboxError {
    DropboxError::Io {
        context: context.into(),
        source,
    }
}

/// `DROPSYNC_DROPBOX_CA_CERT`: a test emulator over HTTPS uses a
/// self-signed certificate.
pub(crate) fn extra_ca() -> Result<Vec<reqwest::Certificate>, DropboxError> {
    let Ok(path) = std::env::var(crate::env_vars::DROPBOX_CA_CERT) else {
        return Ok(Vec::new());
    };
    let pem = std::fs::read(&path).map_err(|e| io_err(format!("cannot read {path}"), e))?;
    crate::http::parse_ca(&pem).map_err(|e| DropboxError::NotConfigured(format!("{path}: {e}")))
}

/// A body for one attempt: rebuilt from the file on every retry.
type BodyFn<'a> = dyn Fn() -> Result<reqwest::blocking::Body, DropboxError> + 'a;

impl Client {
    pub fn new(endpoints: Endpoints, credentials: Credentials) -> Result<Client, DropboxError> {
        let timeouts = Timeouts::from_env();
        // Every call also gets its own deadline (`Timeouts::for_body`); this
        // one covers the token refresh.
        let http = crate::http::client(crate::http::ClientOptions {
            connect_timeout: timeouts.connect,
            timeout: timeouts.answer,
            keepalive: Some(Duration::from_secs(15)),
            extra_ca: extra_ca()?,
        })
        .map_err(DropboxError::NotConfigured)?;
        let token = match &credentials {
            Credentials::Access(t) => Some(Token {
                value: t.clone(),
                expires: None,
            }),
            Credentials::Refresh { .. } => None,
        };
        Ok(Client {
            http,
            endpoints,
            retry: retry_policy(),
            timeouts,
            credentials,
            token: Mutex::new(token),
        })
    }

    fn access_token(&self, force_refresh: bool) -> Result<Secret, DropboxError> {
        let mut guard = self.token.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(t) = guard.as_ref() {
            let fresh = t
                .expires
                .is_none_or(|e| Instant::now() + REFRESH_MARGIN < e);
            if fresh && !force_refresh {
                return Ok(t.value.clone());
            }
        }
        let Credentials::Refresh {
            refresh_token,
            app_key,
        } = &self.credentials
        else {
            return match guard.as_ref() {
                Some(t) if !force_refresh => Ok(t.value.clone()),
                _ => Err(DropboxError::Auth(
                    "the access token expired and no refresh token is configured".into(),
                )),
            };
        };
        let (value, expires_in) = refresh(
            &self.http,
            &self.endpoints,
            refresh_token,
            app_key,
            &self.retry,
            &self.timeouts,
        )?;
        *guard = Some(Token {
            value: value.clone(),
            expires: Some(Instant::now() + expires_in),
        });
        Ok(value)
    }

    /// Sends one call with the retry policy; returns the successful response.
    fn call(
        &self,
        route: &str,
        host: &str,
        arg: &Value,
        body: &BodyFn<'_>,
        rpc: bool,
    ) -> Result<reqwest::blocking::Response, DropboxError> {
        let url = format!("{host}/2/{route}");
        let mut refreshed = false;
        let outcome = self.retry.run(route, |_| loop {
            let token = self.access_token(false).map_err(stop)?;
            let mut req = self.http.post(&url).bearer_auth(token.expose());
            let limit;
            req = if rpc {
                let arg = arg.to_string();
                limit = self.timeouts.for_body(arg.len() as u64);
                req.header("Content-Type", "application/json").body(arg)
            } else {
                let body = body().map_err(stop)?;
                let len = body.as_bytes().map_or(0, |b| b.len() as u64);
                limit = self.timeouts.for_body(len);
                req.header("Content-Type", "application/octet-stream")
                    .header("Dropbox-API-Arg", header_safe(arg))
                    .body(body)
            };
            let resp = match req.timeout(limit).send() {
                Ok(resp) => resp,
                Err(e) => {
                    let (failure, timeout) = send_failure(&e, &url, route, &self.timeouts, limit);
                    let failure = Attempt::Failed(failure);
                    return Err(if timeout {
                        Failed::timed_out(failure)
                    } else {
                        Failed::retry(failure)
                    });
                }
            };
            // An expired token is refreshed once and the call sent again
            // at once: not a failure of the call.
            match self.classify(route, resp, &mut refreshed) {
                Verdict::Ok(resp) => return Ok(resp),
                Verdict::SendAgain => continue,
                Verdict::Failed(f) => return Err(f),
            }
        });
        gave_up(route, outcome)
    }

    /// What an answer means for the call.
    fn classify(
        &self,
        route: &str,
        resp: reqwest::blocking::Response,
        refreshed: &mut bool,
    ) -> Verdict {
        let status = resp.status().as_u16();
        let request_id = resp
            .headers()
            .get("x-dropbox-request-id")
            .and_then(|v| v.to_str().ok())
            .map(str::to_string);
        let fatal = |e| Verdict::Failed(Failed::fatal(Attempt::Stop(e)));
        match status {
            200 => Verdict::Ok(resp),
            401 => {
                let tag = read_json(resp)
                    .and_then(|v| v["error"][".tag"].as_str().map(str::to_string))
                    .unwrap_or_else(|| "invalid_access_token".into());
                if tag == "expired_access_token"
                    && !*refreshed
                    && matches!(self.credentials, Credentials::Refresh { .. })
                {
                    *refreshed = true;
                    return match self.access_token(true) {
                        Ok(_) => Verdict::SendAgain,
                        Err(e) => fatal(e),
                    };
                }
                fatal(DropboxError::Auth(tag))
            }
            429 => {
                let wait = resp
                    .headers()
                    .get("retry-after")
                    .and_then(|v| v.to_str().ok())
                    .and_then(|v| crate::http::parse_retry_after(v, chrono::Utc::now()))
                    .unwrap_or(self.retry.base);
                Verdict::Failed(Failed::after(
                    Attempt::Failed("rate limited (429)".into()),
                    Some(wait),
                ))
            }
            409 => {
                let v = read_json(resp).unwrap_or(Value::Null);
                let summary = tag_path(&v["error"]);
                if summary.contains("too_many_write_operations") {
                    Verdict::Failed(Failed::retry(Attempt::Failed(format!(
                        "write contention ({summary})"
                    ))))
                } else {
                    fatal(route_error(route, &summary, Box::new(v["error"].clone())))
                }
            }
            400 => fatal(DropboxError::BadInput {
                route: route.into(),
                message: resp.text().unwrap_or_default(),
            }),
            403 | 422 => {
                let v = read_json(resp).unwrap_or(Value::Null);
                fatal(DropboxError::Route {
                    route: route.into(),
                    summary: tag_path(&v["error"]),
                    message: format!(
                        "access to this path was denied ({}); check the app's permissions and the folder",
                        tag_path(&v["error"])
                    ),
                    detail: Box::new(v["error"].clone()),
                })
            }
            s if s >= 500 => Verdict::Failed(Failed::retry(Attempt::Failed(format!(
                "server error {s}{}",
                request_id
                    .map(|r| format!(" (request id {r})"))
                    .unwrap_or_default()
            )))),
            s => fatal(DropboxError::BadInput {
                route: route.into(),
                message: format!("unexpected status {s}: {}", resp.text().unwrap_or_default()),
            }),
        }
    }

    fn rpc(&self, route: &str, arg: &Value) -> Result<Value, DropboxError> {
        let resp = self.call(
            route,
            &self.endpoints.api,
            arg,
            &|| Ok(reqwest::blocking::Body::from(Vec::new())),
            true,
        )?;
        read_json(resp).ok_or_else(|| DropboxError::BadInput {
            route: route.into(),
            message: "the response was not JSON".into(),
        })
    }

    fn content(&self, route: &str, arg: &Value, body: &BodyFn<'_>) -> Result<Value, DropboxError> {
        let resp = self.call(route, &self.endpoints.content, arg, body, false)?;
        read_json(resp).ok_or_else(|| DropboxError::BadInput {
            route: route.into(),
            message: "the response was not JSON".into(),
        })
    }

    pub fn current_account(&self) -> Result<Account, DropboxError> {
        let v = self.rpc("users/get_current_account", &Value::Null)?;
        Ok(Account {
            account_id: v["account_id"].as_str().unwrap_or_default().to_string(),
            email: v["email"].as_str().unwrap_or_default().to_string(),
            display_name: v["name"]["display_name"]
                .as_str()
                .unwrap_or_default()
                .to_string(),
        })
    }

    /// Every entry of a folder ("" or "/" is the root), all pages.
    pub fn list_folder(&self, path: &str) -> Result<Vec<Entry>, DropboxError> {
        let path = if path == "/" { "" } else { path };
        let mut restarts = 0;
        'restart: loop {
            let mut out = Vec::new();
            let mut page =
                self.rpc("files/list_folder", &json!({ "path": path, "limit": 2000 }))?;
            loop {
                for e in page["entries"].as_array().into_iter().flatten() {
                    out.push(Entry {
                        kind: EntryKind::of_tag(e[".tag"].as_str().unwrap_or_default()),
                        name: e["name"].as_str().unwrap_or_default().to_string(),
                        path_display: e["path_display"].as_str().unwrap_or_default().to_string(),
                        size: e["size"].as_u64(),
                        server_modified: e["server_modified"].as_str().map(str::to_string),
                    });
                }
                if !page["has_more"].as_bool().unwrap_or(false) {
                    return Ok(out);
                }
                let cursor = page["cursor"].as_str().unwrap_or_default().to_string();
                match self.rpc("files/list_folder/continue", &json!({ "cursor": cursor })) {
                    Ok(next) => page = next,
                    // The cursor went stale: list again from the start, once or twice.
                    Err(e) if e.summary() == Some("reset") && restarts < 2 => {
                        restarts += 1;
                        continue 'restart;
                    }
                    Err(e) => return Err(e),
                }
            }
        }
    }

    /// Creates a folder (and its parents); an existing folder is fine.
    pub fn create_folder(&self, path: &str) -> Result<(), DropboxError> {
        match self.rpc(
            "files/create_folder_v2",
            &json!({ "path": path, "autorename": false }),
        ) {
            Ok(_) => Ok(()),
            Err(e) if e.summary() == Some("path/conflict/folder") => Ok(()),
            Err(e) => Err(e),
        }
    }

    /// Metadata of a path, `None` if nothing is there.
    pub fn get_metadata(&self, path: &str) -> Result<Option<Value>, DropboxError> {
        match self.rpc("files/get_metadata", &json!({ "path": path })) {
            Ok(v) => Ok(Some(v)),
            Err(e) if e.summary() == Some("path/not_found") => Ok(None),
            Err(e) => Err(e),
        }
    }

    /// Uploads a small file in one request (overwriting), verifying its hash.
    pub fn upload(
        &self,
        local: &Path,
        remote: &str,
        progress: &dyn Fn(u64),
    ) -> Result<FileMetadata, DropboxError> {
        // Bytes: every retry sends the same buffer without copying it.
        let data = bytes::Bytes::from(
            std::fs::read(local)
                .map_err(|e| io_err(format!("cannot read {}", local.display()), e))?,
        );
        let hash = super::content_hash::content_hash(&data);
        let arg = json!({
            "path": remote, "mode": "overwrite", "autorename": false, "mute": true,
            "strict_conflict": false, "content_hash": hash,
        });
        let v = self.content("files/upload", &arg, &|| {
            Ok(reqwest::blocking::Body::from(data.clone()))
        })?;
        progress(data.len() as u64);
        let meta: FileMetadata = serde_json::from_value(v).map_err(|e| DropboxError::BadInput {
            route: "files/upload".into(),
            message: format!("unexpected metadata: {e}"),
        })?;
        verify(remote, &hash, &meta)?;
        Ok(meta)
    }

    /// Sends a file through an upload session in chunks (a multiple of 4 MiB,
    /// at most 148 MiB). With `streams` > 1 and more than one chunk, the
    /// session is a concurrent one and that many chunks are read, hashed and
    /// sent at once, so the server never waits for the client's hashing;
    /// with one stream a reader thread loads the next chunk while the
    /// current one is on the wire. Memory is bounded by a few chunks
    /// whatever the file size. Resumes on `incorrect_offset`; restarts the
    /// file if the session is lost.
    pub fn upload_session(
        &self,
        local: &Path,
        chunk: u64,
        streams: usize,
        progress: &dyn Fn(u64),
    ) -> Result<Session, DropboxError> {
        let chunk = (chunk / BLOCK).clamp(1, 37) * BLOCK;
        let size = std::fs::metadata(local)
            .map_err(|e| io_err(format!("cannot read {}", local.display()), e))?
            .len();
        let mut restarts = 0;
        loop {
            let pass = if streams > 1 && size > chunk {
                self.upload_concurrent_once(local, size, chunk, streams, progress)?
            } else {
                self.upload_once(local, size, chunk, progress)?
            };
            match pass {
                Some(session) => return Ok(session),
                None if restarts < 2 => {
                    restarts += 1;
                    tracing::debug!("upload session lost; sending the file again");
                }
                None => {
                    return Err(DropboxError::Exhausted {
                        route: "files/upload_session/append_v2".into(),
                        attempts: restarts + 1,
                        last: "the upload session was lost each time".into(),
                    })
                }
            }
        }
    }

    /// One pass over the file through a concurrent session: workers take
    /// chunks in turn and append them at their offsets; the last chunk, the
    /// only one that may be short, closes the session once all others are
    /// in. `None` when the session was lost.
    fn upload_concurrent_once(
        &self,
        local: &Path,
        size: u64,
        chunk: u64,
        streams: usize,
        progress: &dyn Fn(u64),
    ) -> Result<Option<Session>, DropboxError> {
        let started = self.content(
            "files/upload_session/start",
            &json!({ "close": false, "session_type": "concurrent" }),
            &|| Ok(reqwest::blocking::Body::from(bytes::Bytes::new())),
        )?;
        let Some(id) = started["session_id"].as_str().map(str::to_string) else {
            return Err(DropboxError::BadInput {
                route: "files/upload_session/start".into(),
                message: "no session_id in the answer".into(),
            });
        };
        let file =
            File::open(local).map_err(|e| io_err(format!("cannot read {}", local.display()), e))?;
        let chunks = size.div_ceil(chunk);
        let last = chunks - 1;
        let mut parts: Vec<Option<BlockDigests>> = vec![None; chunks as usize];
        let next = std::sync::atomic::AtomicU64::new(0);
        let stop = std::sync::atomic::AtomicBool::new(false);
        let failure = std::thread::scope(|scope| {
            let (tx, rx) = std::sync::mpsc::channel();
            for _ in 0..(streams as u64).min(last) {
                let tx = tx.clone();
                let (file, id, next, stop) = (&file, &id, &next, &stop);
                scope.spawn(move || {
                    while !stop.load(std::sync::atomic::Ordering::Relaxed) {
                        let i = next.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                        if i >= last {
                            break;
                        }
                        let sent = self.append_part(local, file, id, i * chunk, chunk, false);
                        let failed = sent.is_err();
                        if tx.send(sent.map(|d| (i, d))).is_err() || failed {
                            break;
                        }
                    }
                });
            }
            drop(tx);
            let mut failure = None;
            let mut done = 0;
            for sent in rx {
                match sent {
                    Ok((i, digests)) => {
                        parts[i as usize] = Some(digests);
                        done += chunk;
                        progress(done);
                    }
                    Err(e) => {
                        stop.store(true, std::sync::atomic::Ordering::Relaxed);
                        failure.get_or_insert(e);
                    }
                }
            }
            failure
        });
        let closing = match failure {
            None => self.append_part(local, &file, &id, last * chunk, size - last * chunk, true),
            Some(e) => Err(e),
        };
        match closing {
            Ok(digests) => parts[last as usize] = Some(digests),
            Err(e) if session_lost(&e) => return Ok(None),
            Err(e) => return Err(e),
        }
        progress(size);
        let mut all = BlockDigests::default();
        for part in parts {
            all.extend(part.unwrap_or_default());
        }
        Ok(Some(Session {
            id,
            offset: size,
            content_hash: all.finish(),
        }))
    }

    /// Hashes `len` bytes at `offset` and appends them to a concurrent session.
    fn append_part(
        &self,
        local: &Path,
        file: &File,
        id: &str,
        offset: u64,
        len: u64,
        close: bool,
    ) -> Result<BlockDigests, DropboxError> {
        // A mapping of just this part, sent as it is: no copy into a
        // buffer, and its pages leave the process once the part is sent.
        // Offsets are multiples of 4 MiB, so page-aligned.
        let read_err = |e: std::io::Error| io_err(format!("cannot read {}", local.display()), e);
        let current = file.metadata().map_err(read_err)?.len();
        if current < offset + len {
            return Err(DropboxError::Io {
                context: format!("{} changed while it was uploaded", local.display()),
                source: std::io::Error::other("the file got shorter"),
            });
        }
        // SAFETY: staged files are ours and are not changed while they are
        // sent; a file changed anyway yields other bytes than were hashed,
        // which the content-hash check reports.
        let map = unsafe {
            memmap2::MmapOptions::new()
                .offset(offset)
                .len(len as usize)
                .map(file)
        }
        .map_err(read_err)?;
        let _ = map.advise(memmap2::Advice::Sequential);
        let mut digests = BlockDigests::default();
        digests.update(&map);
        let data = bytes::Bytes::from_owner(map);
        // content_hash covers this call's data only (files.stone).
        self.content(
            "files/upload_session/append_v2",
            &json!({
                "cursor": { "session_id": id, "offset": offset }, "close": close,
                "content_hash": digests.clone().finish(),
            }),
            &|| Ok(reqwest::blocking::Body::from(data.clone())),
        )?;
        Ok(digests)
    }

    /// One pass over the file; `None` when the session was lost.
    fn upload_once(
        &self,
        local: &Path,
        size: u64,
        chunk: u64,
        progress: &dyn Fn(u64),
    ) -> Result<Option<Session>, DropboxError> {
        #[allow(clippy::type_complexity)]
        let (tx, rx) =
            std::sync::mpsc::sync_channel::<Result<(bytes::Bytes, BlockDigests), DropboxError>>(0);
        // Sent buffers come back for reuse: fresh 16 MiB buffers would cost a
        // page fault per 4 KiB every chunk.
        let (pool_tx, pool_rx) = std::sync::mpsc::channel::<Vec<u8>>();
        std::thread::scope(|scope| {
            scope.spawn(move || {
                let read = || -> Result<(), DropboxError> {
                    let mut f = File::open(local)
                        .map_err(|e| io_err(format!("cannot read {}", local.display()), e))?;
                    let mut left = size;
                    while left > 0 {
                        let len = chunk.min(left) as usize;
                        let mut buf = pool_rx.try_recv().unwrap_or_default();
                        buf.resize(len, 0);
                        f.read_exact(&mut buf)
                            .map_err(|e| io_err(format!("cannot read {}", local.display()), e))?;
                        left -= len as u64;
                        // Hash while the bytes are still in cache.
                        let mut digests = BlockDigests::default();
                        digests.update(&buf);
                        if tx.send(Ok((bytes::Bytes::from(buf), digests))).is_err() {
                            return Ok(());
                        }
                    }
                    Ok(())
                };
                if let Err(e) = read() {
                    let _ = tx.send(Err(e));
                }
            });
            // Owned here so that leaving early drops it and the reader stops:
            // the scope waits for the reader before it returns.
            let rx = rx;
            let mut digests = BlockDigests::default();
            let mut offset: u64 = 0;
            let mut session_id: Option<String> = None;
            // An empty file is one empty, closing start.
            let mut chunks = rx.iter();
            loop {
                let (data, chunk_digests) = match chunks.next() {
                    Some(Ok(d)) => d,
                    Some(Err(e)) => return Err(e),
                    None if offset == 0 && session_id.is_none() => {
                        (bytes::Bytes::new(), BlockDigests::default())
                    }
                    None => {
                        return Err(DropboxError::Io {
                            context: format!("{} changed while it was uploaded", local.display()),
                            source: std::io::Error::other("short read"),
                        })
                    }
                };
                let len = data.len() as u64;
                let last = offset + len == size;
                let body = || Ok(reqwest::blocking::Body::from(data.clone()));
                // Each call's content_hash covers the data of that call only
                // (files.stone), never the file so far.
                let hash = chunk_digests.clone().finish();
                let sent = match &session_id {
                    None => self
                        .content(
                            "files/upload_session/start",
                            &json!({ "close": last, "content_hash": hash }),
                            &body,
                        )
                        .map(|v| v["session_id"].as_str().map(str::to_string)),
                    Some(id) => self
                        .content(
                            "files/upload_session/append_v2",
                            &json!({
                                "cursor": { "session_id": id, "offset": offset }, "close": last,
                                "content_hash": hash,
                            }),
                            &body,
                        )
                        .map(|_| None),
                };
                match sent {
                    Ok(new_id) => {
                        if new_id.is_some() {
                            session_id = new_id;
                        }
                    }
                    Err(DropboxError::Route {
                        ref summary,
                        ref detail,
                        ..
                    }) if summary.starts_with("incorrect_offset") => {
                        // A request succeeded but its answer was lost: the
                        // server already holds this chunk if its offset is
                        // the chunk's end; anything else means start again.
                        let correct = detail["correct_offset"].as_u64().unwrap_or(u64::MAX);
                        if correct != offset + len {
                            return Ok(None);
                        }
                        tracing::debug!(
                            offset,
                            "incorrect_offset: the server already has this chunk"
                        );
                    }
                    Err(ref e) if session_lost(e) => return Ok(None),
                    Err(e) => return Err(e),
                }
                digests.extend(chunk_digests);
                let _ = pool_tx.send(Vec::from(data));
                offset += len;
                progress(offset);
                if last {
                    return Ok(Some(Session {
                        id: session_id.unwrap_or_default(),
                        offset,
                        content_hash: digests.finish(),
                    }));
                }
            }
        })
    }

    /// Commits closed sessions together; per-file outcomes in order.
    pub fn finish_batch(
        &self,
        entries: &[(Session, String)],
    ) -> Result<Vec<Result<FileMetadata, String>>, DropboxError> {
        let arg = json!({
            "entries": entries.iter().map(|(s, path)| json!({
                "cursor": { "session_id": s.id, "offset": s.offset },
                "commit": { "path": path, "mode": "overwrite", "autorename": false, "mute": true, "strict_conflict": false },
            })).collect::<Vec<_>>()
        });
        let v = self.rpc("files/upload_session/finish_batch_v2", &arg)?;
        let results = v["entries"].as_array().cloned().unwrap_or_default();
        if results.len() != entries.len() {
            return Err(DropboxError::BadInput {
                route: "files/upload_session/finish_batch_v2".into(),
                message: format!("{} results for {} files", results.len(), entries.len()),
            });
        }
        Ok(results
            .into_iter()
            .map(|r| {
                if r[".tag"] == "success" {
                    serde_json::from_value(r).map_err(|e| format!("unexpected metadata: {e}"))
                } else {
                    Err(tag_path(&r["failure"]))
                }
            })
            .collect())
    }

    /// Deletes files (or folders) with `files/delete_batch`, at most 1000
    /// per job, polling `files/delete_batch/check` until each job ends.
    /// Per path, in order: `Ok` when it is gone (deleted now, or already
    /// not there: `path_lookup/not_found`), else the DeleteError's tags
    /// (e.g. `path_write/no_write_permission`, `too_many_write_operations`).
    /// A job that fails as a whole (`failed`) fails each of its paths.
    pub fn delete_batch(&self, paths: &[String]) -> Result<Vec<Result<(), String>>, DropboxError> {
        const ROUTE: &str = "files/delete_batch";
        let mut out = Vec::with_capacity(paths.len());
        for chunk in paths.chunks(1000) {
            let arg = json!({
                "entries": chunk.iter().map(|p| json!({ "path": p })).collect::<Vec<_>>()
            });
            let launched = self.rpc(ROUTE, &arg)?;
            let status = match launched[".tag"].as_str() {
                Some("complete") => launched,
                Some("async_job_id") => {
                    let job = launched["async_job_id"].as_str().unwrap_or_default();
                    self.wait_delete_job(job)?
                }
                other => {
                    return Err(DropboxError::BadInput {
                        route: ROUTE.into(),
                        message: format!("unexpected answer {other:?}"),
                    })
                }
            };
            if status[".tag"] == "failed" {
                let why = tag_path(&status["failed"]);
                out.extend(
                    chunk
                        .iter()
                        .map(|_| Err(format!("the batch failed ({why})"))),
                );
                continue;
            }
            let entries = status["entries"].as_array().cloned().unwrap_or_default();
            if entries.len() != chunk.len() {
                return Err(DropboxError::BadInput {
                    route: ROUTE.into(),
                    message: format!("{} results for {} paths", entries.len(), chunk.len()),
                });
            }
            out.extend(entries.iter().map(|e| {
                if e[".tag"] == "success" {
                    return Ok(());
                }
                match tag_path(&e["failure"]) {
                    gone if gone == "path_lookup/not_found" => Ok(()),
                    tags => Err(tags),
                }
            }));
        }
        Ok(out)
    }

    /// Polls a delete job until it is no longer `in_progress` (a few
    /// minutes at most): its `complete` or `failed` status.
    fn wait_delete_job(&self, job: &str) -> Result<Value, DropboxError> {
        const ROUTE: &str = "files/delete_batch/check";
        let started = Instant::now();
        let mut wait = Duration::from_millis(50);
        loop {
            let status = self.rpc(ROUTE, &json!({ "async_job_id": job }))?;
            match status[".tag"].as_str() {
                Some("in_progress") => {}
                Some("complete") | Some("failed") => return Ok(status),
                other => {
                    return Err(DropboxError::BadInput {
                        route: ROUTE.into(),
                        message: format!("unexpected status {other:?}"),
                    })
                }
            }
            if started.elapsed() > self.timeouts.answer * 10 {
                return Err(DropboxError::Destination(format!(
                    "the delete job was still in progress after {} ({ROUTE})",
                    secs(started.elapsed())
                )));
            }
            std::thread::sleep(wait);
            wait = (wait * 2).min(Duration::from_secs(2));
        }
    }

    /// Downloads a file's bytes (tests and verification).
    pub fn download(&self, path: &str) -> Result<Vec<u8>, DropboxError> {
        let resp = self.call(
            "files/download",
            &self.endpoints.content,
            &json!({ "path": path }),
            &|| Ok(reqwest::blocking::Body::from(Vec::new())),
            false,
        )?;
        resp.bytes()
            .map(|b| b.to_vec())
            .map_err(|e| io_err("cannot read the download", std::io::Error::other(e)))
    }

    /// Revokes the token (and with it the refresh token it came from).
    pub fn revoke(&self) -> Result<(), DropboxError> {
        self.rpc("auth/token/revoke", &Value::Null).map(|_| ())
    }
}

/// A closed upload session ready to commit.
#[derive(Debug, Clone)]
pub struct Session {
    pub id: String,
    pub offset: u64,
    pub content_hash: String,
}

/// A session that expired or was closed under us: the file starts again.
fn session_lost(e: &DropboxError) -> bool {
    matches!(e, DropboxError::Route { summary, .. }
        if summary.starts_with("not_found") || summary.starts_with("closed"))
}

pub fn verify(path: &str, expected: &str, meta: &FileMetadata) -> Result<(), DropboxError> {
    match &meta.content_hash {
        Some(got) if got == expected => Ok(()),
        got => Err(DropboxError::HashMismatch {
            path: path.into(),
            expected: expected.into(),
            got: got.clone().unwrap_or_else(|| "none".into()),
        }),
    }
}

/// An error with its causes, which reqwest's Display leaves out.
fn error_chain(e: &dyn std::error::Error) -> String {
    let mut out = e.to_string();
    let mut cur = e.source();
    while let Some(s) = cur {
        out.push_str(": ");
        out.push_str(&s.to_string());
        cur = s.source();
    }
    out
}

fn read_json(resp: reqwest::blocking::Response) -> Option<Value> {
    let bytes = resp.bytes().ok()?;
    serde_json::from_slice(&bytes).ok()
}

/// `{".tag":"path","path":{".tag":"not_found"}}` -> `path/not_found`.
///
/// A union member whose value is a struct has its fields beside the tag
/// (Stone's JSON encoding): files/upload's `path` error is UploadWriteFailed,
/// `{".tag":"path","reason":{WriteError},"upload_session_id":"..."}`, and
/// its WriteError is followed under `reason`.
pub fn tag_path(v: &Value) -> String {
    let mut parts = Vec::new();
    let mut cur = v;
    while let Some(tag) = cur.get(".tag").and_then(Value::as_str) {
        parts.push(tag.to_string());
        match cur.get(tag) {
            Some(next) if next.is_object() => cur = next,
            _ => match cur.get("reason").filter(|r| r.is_object()) {
                Some(reason) => cur = reason,
                None => break,
            },
        }
    }
    parts.join("/")
}

/// A message a person can act on, from a route error's tags.
fn route_error(route: &str, summary: &str, detail: Box<Value>) -> DropboxError {
    let last = summary.rsplit('/').next().unwrap_or(summary);
    let message = match last {
        "not_found" => "the folder or file does not exist; create the folder (dropsync dropbox mkdir PATH) or fix [destination] path".to_string(),
        "not_folder" => "that path is a file, not a folder; fix [destination] path".to_string(),
        "no_write_permission" => "no permission to write there; pick a folder this account can write to".to_string(),
        "insufficient_space" => "the Dropbox account is full; free space or upgrade the plan".to_string(),
        "disallowed_name" => "Dropbox does not allow that file name; change the filename template".to_string(),
        "malformed_path" => "the path is malformed; check [destination] path and the filename template".to_string(),
        "file" | "folder" | "file_ancestor" => format!("a conflicting item exists at that path ({summary}); move it away or change the filename"),
        "team_folder" | "access_restricted" | "operation_suppressed" => format!("Dropbox refused the write ({summary})"),
        "payload_too_large" => "a request was larger than Dropbox accepts (150 MiB); this is a bug in Dropsync's chunking".to_string(),
        "content_hash_mismatch" => "the uploaded data was corrupted in transit; the run will retry".to_string(),
        _ => format!("the request failed ({summary})"),
    };
    DropboxError::Route {
        route: route.into(),
        summary: summary.into(),
        message,
        detail,
    }
}

/// Exchanges a refresh token for an access token.
pub(crate) fn refresh(
    http: &reqwest::blocking::Client,
    endpoints: &Endpoints,
    refresh_token: &Secret,
    app_key: &str,
    retry: &crate::http::Policy,
    timeouts: &Timeouts,
) -> Result<(Secret, Duration), DropboxError> {
    const ROUTE: &str = "oauth2/token";
    let url = format!("{}/{ROUTE}", endpoints.api);
    let outcome = retry.run(ROUTE, |_| {
        let resp = http
            .post(&url)
            .form(&[
                ("grant_type", "refresh_token"),
                ("refresh_token", refresh_token.expose()),
                ("client_id", app_key),
            ])
            .timeout(timeouts.answer)
            .send();
        match resp {
            Err(e) => {
                let (failure, timeout) = send_failure(&e, &url, ROUTE, timeouts, timeouts.answer);
                let failure = Attempt::Failed(failure);
                Err(if timeout {
                    Failed::timed_out(failure)
                } else {
                    Failed::retry(failure)
                })
            }
            Ok(r) if r.status().is_success() => {
                let v = read_json(r).unwrap_or(Value::Null);
                let token = v["access_token"].as_str().ok_or_else(|| {
                    stop(DropboxError::BadInput {
                        route: ROUTE.into(),
                        message: "no access_token in the response".into(),
                    })
                })?;
                let expires = v["expires_in"].as_u64().unwrap_or(14_400);
                Ok((Secret::new(token), Duration::from_secs(expires)))
            }
            Ok(r) if r.status().as_u16() == 400 || r.status().as_u16() == 401 => {
                let v = read_json(r).unwrap_or(Value::Null);
                let error = v["error"].as_str().unwrap_or("invalid_grant").to_string();
                Err(stop(DropboxError::ReconnectNeeded(format!(
                    "the refresh token was refused: {error}"
                ))))
            }
            Ok(r) => Err(Failed::retry(Attempt::Failed(format!(
                "status {}",
                r.status()
            )))),
        }
    });
    gave_up(ROUTE, outcome)
}

/// An error that ends a call without retrying.
fn stop(e: DropboxError) -> Failed<Attempt> {
    Failed::fatal(Attempt::Stop(e))
}

/// What an answer means for a call.
enum Verdict {
    Ok(reqwest::blocking::Response),
    /// Send the same request again now (after refreshing the token).
    SendAgain,
    Failed(Failed<Attempt>),
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tag_paths_follow_nested_unions_and_upload_reasons() {
        let not_found = json!({".tag": "path", "path": {".tag": "not_found"}});
        assert_eq!(tag_path(&not_found), "path/not_found");
        // UploadWriteFailed, a struct, sits beside its tag (Stone's encoding).
        let upload = json!({".tag": "path", "reason": {".tag": "conflict", "conflict": {".tag": "folder"}}, "upload_session_id": "s1"});
        assert_eq!(tag_path(&upload), "path/conflict/folder");
        let offset = json!({".tag": "lookup_failed", "lookup_failed": {".tag": "incorrect_offset", "correct_offset": 8}});
        assert_eq!(tag_path(&offset), "lookup_failed/incorrect_offset");
        assert_eq!(tag_path(&json!({".tag": "reset"})), "reset");
    }
}
