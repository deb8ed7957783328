//! The `/2/*` API routes' common path: injected faults first, then the
//! bearer token, then dispatch to the RPC routes (JSON body) or the content
//! routes (argument in `Dropbox-API-Arg`, data in the body), and the log.
//! The routes themselves live in `files`, `sessions` and `oauth`.

use crate::faults::{self, FaultKind};
use crate::oauth::{check_auth, revoke};
use crate::request::{api_arg, check_octet_stream, drain, json_body};
use crate::responses::{
    auth_error, bad_request, dropped, json_response, rate_limited, route_error, text_response,
    write_error_for,
};
use crate::state::{LogEntry, Shared};
use crate::{deletes, files, sessions, ACCOUNT_ID};
use axum::body::Body;
use axum::extract::{Query, Request, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use serde_json::{json, Value};
use std::collections::HashMap;
use std::time::Duration;

/// Applies an injected fault for `route`, if one is due. `Drop`/`DropAfter`
/// and `Slow` are handled by the caller around the real handler.
pub(crate) async fn pre_route(
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
        FaultKind::NoWritePermission => {
            write_error_for(route, json!({ ".tag": "no_write_permission" }))
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

const CONTENT_ROUTES: &[&str] = &[
    "files/upload",
    "files/upload_session/start",
    "files/upload_session/append_v2",
    "files/upload_session/finish",
    "files/download",
];

pub(crate) async fn api(
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
        "users/get_current_account" => current_account(),
        "auth/token/revoke" => {
            revoke(&mut st, token);
            json_response(StatusCode::OK, &Value::Null)
        }
        "files/list_folder" => files::list_folder(&st, route, arg),
        "files/list_folder/continue" => files::list_folder_continue(&st, route, arg),
        "files/create_folder_v2" => files::create_folder(&mut st, route, arg),
        "files/get_metadata" => files::get_metadata(&st, route, arg),
        "files/upload_session/start_batch" => sessions::start_batch(&mut st, route, arg),
        "files/upload_session/finish_batch_v2" => sessions::finish_batch(&mut st, route, arg),
        "files/delete_batch" => deletes::delete_batch(&mut st, route, arg),
        "files/delete_batch/check" => deletes::delete_batch_check(&mut st, route, arg),
        _ => text_response(
            StatusCode::NOT_FOUND,
            format!("Unknown API function: \"{route}\""),
        ),
    }
}

fn current_account() -> Response {
    json_response(
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
    )
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
        "files/upload" => files::upload(s, route, arg, temp_dir, max, body_slot).await,
        "files/upload_session/start" => {
            sessions::start(s, route, headers, arg, temp_dir, max, body_slot).await
        }
        "files/upload_session/append_v2" | "files/upload_session/finish" => {
            sessions::append_or_finish(s, route, headers, arg, max, body_slot).await
        }
        "files/download" => files::download(s, route, headers, arg),
        _ => text_response(
            StatusCode::NOT_FOUND,
            format!("Unknown API function: \"{route}\""),
        ),
    }
}
