//! OAuth 2 as Dropbox runs it: the authorize page (auto-approved, PKCE or
//! client secret, offline refresh tokens), `oauth2/token` for codes and
//! refreshes, revocation, and the bearer-token check every API call passes.

use crate::api::pre_route;
use crate::responses::{auth_error, bad_request, json_response, text_response};
use crate::state::{random_token, Inner, LogEntry, Shared};
use crate::ACCOUNT_ID;
use axum::body::Body;
use axum::extract::{Query, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode};
use axum::response::Response;
use base64::Engine as _;
use serde_json::json;
use sha2::Digest;
use std::collections::HashMap;
use std::time::Instant;

pub(crate) struct Token {
    pub(crate) expires: Instant,
    pub(crate) refresh: Option<String>,
    pub(crate) revoked: bool,
}

pub(crate) struct AuthCode {
    pub(crate) challenge: Option<String>,
    pub(crate) redirect_uri: Option<String>,
    pub(crate) offline: bool,
}

fn loopback(uri: &str) -> bool {
    ["http://127.0.0.1", "http://localhost", "http://[::1]"]
        .iter()
        .any(|p| uri.starts_with(p))
}

pub(crate) async fn authorize(
    State(s): State<Shared>,
    Query(q): Query<HashMap<String, String>>,
) -> Response {
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

pub(crate) async fn token(
    State(s): State<Shared>,
    headers: HeaderMap,
    body: bytes::Bytes,
) -> Response {
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

/// Revokes an access token and every token of its refresh token.
pub(crate) fn revoke(st: &mut Inner, token: &str) {
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

pub(crate) fn check_auth(st: &Inner, headers: &HeaderMap) -> Result<String, Response> {
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
