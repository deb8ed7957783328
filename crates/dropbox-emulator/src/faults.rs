//! Faults a test can inject, per route, at start or at run time.

use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum FaultKind {
    /// 401 `expired_access_token`.
    ExpiredAccessToken,
    /// 401 `invalid_access_token`.
    InvalidAccessToken,
    /// 429 JSON `too_many_requests` with Retry-After.
    TooManyRequests,
    /// 429 plain text with Retry-After.
    TooManyRequestsText,
    /// 429 JSON `too_many_write_operations` with Retry-After.
    TooManyWriteOperations,
    /// 409 with a `too_many_write_operations` WriteError under `path`.
    WriteContention,
    /// A 5xx status (default 500) with a plain-text body.
    ServerError,
    /// Headers, then the connection drops mid-body, before the request is handled.
    Drop,
    /// The request is handled, then the response is lost mid-body.
    DropAfter,
    /// Waits `delay_ms`, then handles the request normally.
    Slow,
    /// Accepts the request and never answers (the connection stays open
    /// until the client gives up), as a stuck server or proxy does.
    Stall,
    /// 409 with `insufficient_space` (under `path` for writes).
    InsufficientSpace,
    /// The access token the request carries is revoked (with every token of
    /// its refresh token), as when the user disconnects the app in
    /// Dropbox's settings at that instant: this request and all later
    /// ones with it get 401 `invalid_access_token`.
    RevokeToken,
    /// Every open upload session is forgotten (as when one expires after
    /// 7 days) and the request gets the `not_found` lookup error.
    SessionLost,
    /// 409 with a `no_write_permission` WriteError (under `path` for
    /// writes). In `files/delete_batch` it fails entries, not the call: a
    /// hit entry gets `path_write/no_write_permission` and its file stays;
    /// `times` and `skip` count entries, in the order of the batches.
    NoWritePermission,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Fault {
    /// A route such as `files/upload_session/append_v2` or `oauth2/token`; `*` is any route.
    pub route: String,
    pub kind: FaultKind,
    /// How many matching requests it hits (default 1).
    #[serde(default = "one")]
    pub times: u32,
    /// Retry-After seconds for 429s (default 1).
    #[serde(default)]
    pub retry_after: Option<u64>,
    #[serde(default)]
    pub status: Option<u16>,
    #[serde(default)]
    pub delay_ms: Option<u64>,
    /// Skip this many matching requests before the fault starts (default 0).
    #[serde(default)]
    pub skip: u32,
}

impl Fault {
    /// Whether this fault hits entries of a batch on `route` rather than
    /// the call itself.
    pub fn per_entry(&self, route: &str) -> bool {
        self.kind == FaultKind::NoWritePermission && route == "files/delete_batch"
    }
}

fn one() -> u32 {
    1
}

/// Takes the fault that applies to this request, if any, counting it down.
/// Faults on a batch's entries are left for [`take_entry`].
pub fn take(faults: &mut Vec<Fault>, route: &str) -> Option<Fault> {
    take_where(faults, route, |f| !f.per_entry(route))
}

/// Takes the fault that hits the next entry of a batch on `route`, if any.
pub fn take_entry(faults: &mut Vec<Fault>, route: &str) -> Option<Fault> {
    take_where(faults, route, |f| f.per_entry(route))
}

fn take_where(
    faults: &mut Vec<Fault>,
    route: &str,
    applies: impl Fn(&Fault) -> bool,
) -> Option<Fault> {
    let i = faults
        .iter()
        .position(|f| f.times > 0 && (f.route == "*" || f.route == route) && applies(f))?;
    let f = &mut faults[i];
    if f.skip > 0 {
        f.skip -= 1;
        return None;
    }
    f.times -= 1;
    let hit = f.clone();
    if f.times == 0 {
        faults.remove(i);
    }
    Some(hit)
}
