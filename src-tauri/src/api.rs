//! Errors as the UI sees them: `{code, message}` with a closed set of codes.

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
    /// The code for one of `dropsync::Error::code()`'s strings. An unknown
    /// string (a code added to the core but not here) is `Internal`, and a
    /// unit test keeps the two lists equal.
    pub fn from_core(code: &str) -> Code {
        match code {
            "config" => Code::Config,
            "source" => Code::Source,
            "query" => Code::Query,
            "primary_key" => Code::PrimaryKey,
            "mapping" => Code::Mapping,
            "filename" => Code::Filename,
            "destination" => Code::Destination,
            "io" => Code::Io,
            "state" => Code::State,
            "busy" => Code::Busy,
            "cancelled" => Code::Cancelled,
            "reconnect_needed" => Code::ReconnectNeeded,
            "dropbox" => Code::Dropbox,
            _ => Code::Internal,
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
        for s in [
            "config",
            "source",
            "query",
            "primary_key",
            "mapping",
            "filename",
            "destination",
            "io",
            "state",
            "busy",
            "cancelled",
            "reconnect_needed",
            "dropbox",
            "internal",
        ] {
            let code = Code::from_core(s);
            assert_eq!(serde_json::to_value(code).unwrap(), s, "{s}");
        }
        assert_eq!(Code::from_core("something_new"), Code::Internal);
    }
}
