//! Errors as the UI sees them: `{code, message}` with a closed set of codes.

use dropsync::ErrorCode;
use serde::Serialize;

/// Every code the UI may receive. Mirrors `dropsync::Error::code()` plus the
/// few the app itself produces; the UI switches on these.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Code {
    Config,
    Source,
    Query,
    PrimaryKey,
    Mapping,
    Filename,
    Destination,
    Io,
    State,
    Busy,
    Cancelled,
    ReconnectNeeded,
    Dropbox,
    Internal,
    /// The app's own: a sync file that is not in the workspace.
    NotFound,
    /// The app's own: an argument the UI should never send.
    InvalidArgument,
    /// The app's own: connecting Dropbox needs an app key first; the
    /// Connections screen shows its setup guide.
    NoAppKey,
}

impl Code {
    /// The app's code for the core's (the same name on the wire).
    pub fn from_core(code: ErrorCode) -> Code {
        match code {
            ErrorCode::Config => Code::Config,
            ErrorCode::Source => Code::Source,
            ErrorCode::Query => Code::Query,
            ErrorCode::PrimaryKey => Code::PrimaryKey,
            ErrorCode::Mapping => Code::Mapping,
            ErrorCode::Filename => Code::Filename,
            ErrorCode::Destination => Code::Destination,
            ErrorCode::Io => Code::Io,
            ErrorCode::State => Code::State,
            ErrorCode::Busy => Code::Busy,
            ErrorCode::Cancelled => Code::Cancelled,
            ErrorCode::ReconnectNeeded => Code::ReconnectNeeded,
            ErrorCode::Dropbox => Code::Dropbox,
            // A run record's code, never an error's.
            ErrorCode::Internal | ErrorCode::Interrupted => Code::Internal,
        }
    }
}

#[derive(Debug, Clone, Serialize)]
pub struct ApiError {
    pub code: Code,
    pub message: String,
}

impl ApiError {
    pub fn new(code: Code, message: impl Into<String>) -> Self {
        ApiError {
            code,
            message: message.into(),
        }
    }
}

impl From<dropsync::Error> for ApiError {
    /// The core words its fixes for the CLI; the app shows them in its own
    /// words (a screen or a field, never a command to run).
    fn from(e: dropsync::Error) -> Self {
        ApiError::new(
            Code::from_core(e.code()),
            dropsync::hints::for_app(&e.to_string()),
        )
    }
}

impl std::fmt::Display for ApiError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.message)
    }
}

pub type ApiResult<T> = Result<T, ApiError>;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn core_errors_keep_their_code_and_message() {
        let e: ApiError = dropsync::Error::config("a.toml", "[sync] mode: bad").into();
        assert_eq!(e.code, Code::Config);
        assert_eq!(e.message, "a.toml: [sync] mode: bad");
        let e: ApiError = dropsync::Error::from(dropsync::dropbox::DropboxError::ReconnectNeeded(
            "invalid_grant".into(),
        ))
        .into();
        assert_eq!(e.code, Code::ReconnectNeeded);
        assert!(e.message.contains("under Connections"), "{}", e.message);
        assert!(!e.message.contains("dropsync auth"), "{}", e.message);
        let e: ApiError = dropsync::Error::Cancelled.into();
        assert_eq!(e.code, Code::Cancelled);
        let json = serde_json::to_value(&e).unwrap();
        assert_eq!(json["code"], "cancelled");
    }

    #[test]
    fn every_core_code_has_its_own_code() {
        for c in dropsync::ErrorCode::ALL {
            if c == dropsync::ErrorCode::Interrupted {
                continue;
            }
            let code = Code::from_core(c);
            assert_eq!(serde_json::to_value(code).unwrap(), c.as_str(), "{c}");
        }
    }
}
