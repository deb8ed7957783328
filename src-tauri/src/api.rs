//! Errors as the UI sees them: `{code, message}` with a closed set of codes.

use dropsync::ErrorCode;
use serde::Serialize;

/// Every code the UI may receive: the core's (`dropsync::ErrorCode`, the
/// same names on the wire) and the few the app itself produces. The UI
/// switches on these.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, specta::Type)]
#[serde(untagged)]
pub enum Code {
    Core(ErrorCode),
    App(AppCode),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, specta::Type)]
#[serde(rename_all = "snake_case")]
pub enum AppCode {
    /// A sync file that is not in the workspace.
    NotFound,
    /// An argument the UI should never send.
    InvalidArgument,
    /// Connecting Dropbox needs an app key first; the Connections screen
    /// shows its setup guide.
    NoAppKey,
}

#[derive(Debug, Clone, Serialize, specta::Type)]
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
            Code::Core(e.code()),
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
        assert_eq!(e.code, Code::Core(ErrorCode::Config));
        assert_eq!(e.message, "a.toml: [sync] mode: bad");
        let e: ApiError = dropsync::Error::from(dropsync::dropbox::DropboxError::ReconnectNeeded(
            "invalid_grant".into(),
        ))
        .into();
        assert_eq!(e.code, Code::Core(ErrorCode::ReconnectNeeded));
        assert!(e.message.contains("under Connections"), "{}", e.message);
        assert!(!e.message.contains("dropsync auth"), "{}", e.message);
        let e: ApiError = dropsync::Error::Cancelled.into();
        assert_eq!(e.code, Code::Core(ErrorCode::Cancelled));
        let json = serde_json::to_value(&e).unwrap();
        assert_eq!(json["code"], "cancelled");
    }

    #[test]
    fn codes_keep_their_names_on_the_wire() {
        for c in ErrorCode::ALL {
            assert_eq!(serde_json::to_value(Code::Core(c)).unwrap(), c.as_str());
        }
        assert_eq!(
            serde_json::to_value(Code::App(AppCode::NoAppKey)).unwrap(),
            "no_app_key"
        );
    }
}
