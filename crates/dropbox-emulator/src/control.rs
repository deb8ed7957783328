//! The control API under `/__emulator/`: tests add and clear faults and read
//! or clear the request log while the emulator runs. Not part of Dropbox's
//! API, so it takes no token and is never itself faulted or logged.

use crate::faults::Fault;
use crate::responses::{json_response, text_response};
use crate::state::Shared;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::Response;
use serde_json::{json, Value};

pub(crate) async fn add_faults(State(s): State<Shared>, body: bytes::Bytes) -> Response {
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

pub(crate) async fn clear_faults(State(s): State<Shared>) -> Response {
    s.lock().unwrap_or_else(|e| e.into_inner()).faults.clear();
    json_response(StatusCode::OK, &json!(null))
}

pub(crate) async fn read_log(State(s): State<Shared>) -> Response {
    let st = s.lock().unwrap_or_else(|e| e.into_inner());
    json_response(
        StatusCode::OK,
        &serde_json::to_value(&st.log).unwrap_or(Value::Null),
    )
}

pub(crate) async fn clear_log(State(s): State<Shared>) -> Response {
    s.lock().unwrap_or_else(|e| e.into_inner()).log.clear();
    json_response(StatusCode::OK, &json!(null))
}
