//! Dropbox's answer shapes: JSON with its exact content type, route errors
//! with `error_summary`, 400/401/429 bodies, and the broken response a `drop`
//! fault sends. Every route builds its answers here so the shapes stay one.

use axum::body::Body;
use axum::http::{HeaderValue, StatusCode};
use axum::response::Response;
use serde_json::{json, Value};

/// JSON with exactly `Content-Type: application/json`, as the SDKs require.
pub(crate) fn json_response(status: StatusCode, body: &Value) -> Response {
    let mut r = Response::new(Body::from(body.to_string()));
    *r.status_mut() = status;
    r.headers_mut()
        .insert("content-type", HeaderValue::from_static("application/json"));
    r
}

pub(crate) fn text_response(status: StatusCode, body: String) -> Response {
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
pub(crate) fn route_error(error: Value) -> Response {
    json_response(
        StatusCode::CONFLICT,
        &json!({ "error_summary": summary_of(&error), "error": error }),
    )
}

pub(crate) fn path_error(inner: Value) -> Response {
    route_error(json!({ ".tag": "path", "path": inner }))
}

/// files/upload's `path` error: UploadError.path is the struct
/// UploadWriteFailed, whose fields sit beside the tag (Stone inlines a
/// struct member of a union), not under a `path` key.
pub(crate) fn upload_write_failed(reason: Value, upload_session_id: &str) -> Response {
    route_error(json!({
        ".tag": "path",
        "reason": reason,
        "upload_session_id": upload_session_id,
    }))
}

/// A WriteError answered by `route`, in the shape that route's error union
/// gives it.
pub(crate) fn write_error_for(route: &str, reason: Value) -> Response {
    if route == "files/upload" {
        upload_write_failed(reason, "")
    } else {
        path_error(reason)
    }
}

pub(crate) fn content_hash_mismatch() -> Response {
    route_error(json!({ ".tag": "content_hash_mismatch" }))
}

pub(crate) fn bad_request(route: &str, message: &str) -> Response {
    text_response(
        StatusCode::BAD_REQUEST,
        format!("Error in call to API function \"{route}\": {message}"),
    )
}

pub(crate) fn auth_error(tag: &str) -> Response {
    json_response(
        StatusCode::UNAUTHORIZED,
        &json!({ "error_summary": format!("{tag}/..."), "error": { ".tag": tag } }),
    )
}

pub(crate) fn rate_limited(reason: &str, retry_after: u64, text: bool) -> Response {
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
pub(crate) fn dropped() -> Response {
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

pub(crate) fn payload_too_large() -> Response {
    route_error(json!({ ".tag": "payload_too_large" }))
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
