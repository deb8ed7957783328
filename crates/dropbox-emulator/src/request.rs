//! Reading a request as Dropbox does: the `Dropbox-API-Arg` header or JSON
//! body, content types, write paths and modes, and bodies streamed to disk
//! with their content hash. Strict on purpose: a lenient parse would hide
//! client bugs that real Dropbox answers with a 400.

use crate::hash::ContentHasher;
use crate::responses::{bad_request, path_error};
use crate::store::WriteMode;
use axum::body::Body;
use axum::http::HeaderMap;
use axum::response::Response;
use futures_util::StreamExt;
use serde_json::{json, Value};
use std::collections::HashMap;

/// Reads Dropbox-API-Arg (or the `arg` URL parameter); it must be ASCII.
pub(crate) fn api_arg(
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

pub(crate) fn json_body(route: &str, headers: &HeaderMap, body: &[u8]) -> Result<Value, Response> {
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
pub(crate) fn is_empty_body(headers: &HeaderMap) -> bool {
    headers
        .get("content-length")
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.trim() == "0")
}

pub(crate) fn check_octet_stream(route: &str, headers: &HeaderMap) -> Result<(), Response> {
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

pub(crate) fn str_field<'a>(v: &'a Value, key: &str) -> Option<&'a str> {
    v.get(key).and_then(Value::as_str)
}

pub(crate) fn bool_field(v: &Value, key: &str) -> bool {
    v.get(key).and_then(Value::as_bool).unwrap_or(false)
}

pub(crate) fn tag_of(v: &Value) -> Option<&str> {
    v.as_str().or_else(|| v.get(".tag").and_then(Value::as_str))
}

/// Validates a write path: `/...`, no trailing slash, no empty or dot names.
pub(crate) fn check_write_path(path: &str) -> Result<(), Response> {
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

pub(crate) fn write_mode(v: Option<&Value>) -> Result<WriteMode, String> {
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

/// Where [`receive`] puts a body in its file.
#[derive(Clone, Copy)]
pub(crate) enum Place {
    Truncate,
    Append,
    At(u64),
}

/// Streams a request body into `file`, hashing as it goes (`hasher`: the
/// whole file so far; `call`: this request's data alone, for its
/// `content_hash`); `None` when the body exceeds `max` bytes.
pub(crate) async fn receive(
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

/// Reads and discards a request body.
pub(crate) async fn drain(body: Body) {
    let mut stream = body.into_data_stream();
    while let Some(Ok(_)) = stream.next().await {}
}
