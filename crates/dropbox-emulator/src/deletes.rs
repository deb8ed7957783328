//! `files/delete_batch` and `files/delete_batch/check` (files.stone): the
//! batch is an asynchronous job. Its entries are deleted when it is
//! launched, in order; the launch answers `async_job_id` (never
//! `complete`), the first check of a job answers `in_progress` and every
//! later one `complete` with one DeleteBatchResultEntry per entry, in the
//! order given. A client must therefore poll, as it must with Dropbox.

use crate::faults;
use crate::request::str_field;
use crate::responses::{bad_request, json_response, route_error};
use crate::state::{random_token, Inner};
use crate::store::metadata_json;
use axum::http::StatusCode;
use axum::response::Response;
use serde_json::{json, Value};

/// A launched delete batch: its entries' results, and whether a check
/// has already seen it.
pub(crate) struct DeleteJob {
    entries: Vec<Value>,
    checked: bool,
}

/// files.stone DeleteArg.path is a WritePathOrId.
fn write_path_or_id(path: &str) -> bool {
    path.starts_with('/')
        || path.starts_with("id:")
        || path.strip_prefix("ns:").is_some_and(|rest| {
            rest.split('/')
                .next()
                .is_some_and(|n| !n.is_empty() && n.bytes().all(|b| b.is_ascii_digit()))
        })
}

pub(crate) fn delete_batch(st: &mut Inner, route: &str, arg: Value) -> Response {
    let Some(entries) = arg.get("entries").and_then(Value::as_array) else {
        return bad_request(route, "request body: entries: missing");
    };
    if entries.len() > 1000 {
        return bad_request(route, "request body: entries: more than 1000 entries");
    }
    for (i, e) in entries.iter().enumerate() {
        let Some(path) = str_field(e, "path") else {
            return bad_request(
                route,
                &format!("request body: entries: [{i}].path: missing"),
            );
        };
        if !write_path_or_id(path) {
            return bad_request(
                route,
                &format!("request body: entries: [{i}].path: '{path}' did not match pattern"),
            );
        }
        match e.get("parent_rev") {
            None | Some(Value::Null) => {}
            Some(Value::String(rev))
                if rev.len() >= 9
                    && rev
                        .bytes()
                        .all(|b| b.is_ascii_hexdigit() && !b.is_ascii_uppercase()) => {}
            Some(_) => {
                return bad_request(
                    route,
                    &format!("request body: entries: [{i}].parent_rev: not a rev"),
                )
            }
        }
    }
    let results = entries
        .iter()
        .map(|e| {
            let path = str_field(e, "path").unwrap_or_default();
            let deleted = match faults::take_entry(&mut st.faults, route) {
                Some(_) => Err(json!({ ".tag": "path_write", "path_write": { ".tag": "no_write_permission" } })),
                None => st.store.delete(path, str_field(e, "parent_rev")),
            };
            match deleted {
                Ok(node) => json!({ ".tag": "success", "metadata": metadata_json(&node) }),
                Err(failure) => json!({ ".tag": "failure", "failure": failure }),
            }
        })
        .collect();
    let id = format!("dbjid:{}", random_token(40));
    st.delete_jobs.insert(
        id.clone(),
        DeleteJob {
            entries: results,
            checked: false,
        },
    );
    json_response(
        StatusCode::OK,
        &json!({ ".tag": "async_job_id", "async_job_id": id }),
    )
}

pub(crate) fn delete_batch_check(st: &mut Inner, route: &str, arg: Value) -> Response {
    let Some(id) = str_field(&arg, "async_job_id") else {
        return bad_request(route, "request body: async_job_id: missing");
    };
    if id.is_empty() {
        return bad_request(
            route,
            "request body: async_job_id: must be at least 1 character",
        );
    }
    let Some(job) = st.delete_jobs.get_mut(id) else {
        return route_error(json!({ ".tag": "invalid_async_job_id" }));
    };
    if !job.checked {
        job.checked = true;
        return json_response(StatusCode::OK, &json!({ ".tag": "in_progress" }));
    }
    json_response(
        StatusCode::OK,
        &json!({ ".tag": "complete", "entries": job.entries }),
    )
}
