//! Upload sessions: `upload_session/start`, `start_batch`, `append_v2`,
//! `finish` and `finish_batch_v2`, sequential (data in order, offsets
//! checked) and concurrent (4 MiB-multiple parts in any order, gaps found at
//! commit). A session's data waits in a file under the store's temp folder.

use crate::hash::{self, ContentHasher};
use crate::request::{
    bool_field, check_write_path, is_empty_body, receive, str_field, tag_of, write_mode, Place,
};
use crate::responses::{
    bad_request, content_hash_mismatch, json_response, payload_too_large, route_error,
    text_response,
};
use crate::state::{random_token, Inner, Shared};
use crate::store::{self, file_json, WriteError};
use axum::body::Body;
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use serde_json::{json, Value};
use std::collections::BTreeMap;
use std::path::PathBuf;

const CHUNK_MULTIPLE: u64 = 4 * 1024 * 1024;

pub(crate) struct Session {
    pub(crate) file: PathBuf,
    /// Sequential: bytes received. Concurrent: the total, known once closed.
    pub(crate) len: u64,
    pub(crate) hasher: Option<ContentHasher>,
    pub(crate) closed: bool,
    pub(crate) concurrent: bool,
    /// Concurrent sessions: offset -> (length, block digests) of each
    /// append, which may arrive in any order.
    pub(crate) parts: BTreeMap<u64, (u64, Vec<[u8; 32]>)>,
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

pub(crate) fn new_session_id() -> String {
    format!("emu-session-{}", random_token(24))
}

pub(crate) async fn start(
    s: &Shared,
    route: &str,
    headers: &HeaderMap,
    arg: Value,
    temp_dir: PathBuf,
    max: u64,
    body_slot: &mut Option<Body>,
) -> Response {
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

pub(crate) fn start_batch(st: &mut Inner, route: &str, arg: Value) -> Response {
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

/// `append_v2` and `finish` share one path: both send data at a cursor; a
/// finish then commits the session.
pub(crate) async fn append_or_finish(
    s: &Shared,
    route: &str,
    headers: &HeaderMap,
    arg: Value,
    max: u64,
    body_slot: &mut Option<Body>,
) -> Response {
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
                return route_error(json!({ ".tag": "concurrent_session_data_not_allowed" }));
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
            return lookup(json!({ ".tag": "incorrect_offset", "correct_offset": session.len }));
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

pub(crate) fn finish_batch(st: &mut Inner, route: &str, arg: Value) -> Response {
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
            finish_one(st, e)
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

/// Commits one finished session; errors are UploadSessionFinishError values.
/// A finish's `content_hash` covers that call's data, so it is checked where
/// the data arrives, not here against the whole file.
pub(crate) fn finish_one(st: &mut Inner, entry: &Value) -> Result<store::FileMeta, Value> {
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
