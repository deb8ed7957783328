//! The `files/*` routes outside upload sessions: list_folder (+ continue,
//! with a cursor that carries its own position), create_folder_v2,
//! get_metadata, upload (one request) and download (with byte ranges).

use crate::hash::ContentHasher;
use crate::request::{bool_field, check_write_path, receive, str_field, write_mode, Place};
use crate::responses::{
    bad_request, header_safe_json, json_response, path_error, payload_too_large, route_error,
    text_response, upload_write_failed,
};
use crate::sessions::{new_session_id, Session};
use crate::state::{random_token, Inner, Shared};
use crate::store::{file_json, metadata_json, Node, WriteError};
use axum::body::Body;
use axum::http::{HeaderMap, HeaderValue, StatusCode};
use axum::response::Response;
use base64::Engine as _;
use serde_json::{json, Value};
use std::collections::BTreeMap;
use std::path::PathBuf;

pub(crate) fn list_folder(st: &Inner, route: &str, arg: Value) -> Response {
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
    list_page(st, path, bool_field(&arg, "recursive"), 0, limit)
}

pub(crate) fn list_folder_continue(st: &Inner, route: &str, arg: Value) -> Response {
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
        st,
        &path,
        bool_field(&c, "recursive"),
        c.get("offset").and_then(Value::as_u64).unwrap_or(0) as usize,
        c.get("limit").and_then(Value::as_u64).unwrap_or(2000) as usize,
    )
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

pub(crate) fn create_folder(st: &mut Inner, route: &str, arg: Value) -> Response {
    let Some(path) = str_field(&arg, "path") else {
        return bad_request(route, "request body: path: missing");
    };
    if let Err(r) = check_write_path(path) {
        return r;
    }
    match st.store.create_folder(path) {
        Ok(node) => json_response(StatusCode::OK, &json!({ "metadata": metadata_json(&node) })),
        Err(WriteError(e)) => path_error(e),
    }
}

pub(crate) fn get_metadata(st: &Inner, route: &str, arg: Value) -> Response {
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

pub(crate) async fn upload(
    s: &Shared,
    route: &str,
    arg: Value,
    temp_dir: PathBuf,
    max: u64,
    body_slot: &mut Option<Body>,
) -> Response {
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
    let size = match receive(body, &temp, Place::Truncate, max, &mut hasher, &mut None).await {
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

pub(crate) fn download(s: &Shared, route: &str, headers: &HeaderMap, arg: Value) -> Response {
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
