//! Secrets, and where each comes from, for every credential Dropsync holds:
//! Dropbox tokens, alert channels' keys and URLs, database passwords.
//!
//! - [`Secret`] never prints (Debug and Display show `***`).
//! - [`SecretRef`] is where one comes from: written literally, `env:NAME`
//!   (read when used, so files can be committed without credentials and a
//!   rotated value is picked up), or the OS credential store.
//! - [`credential_store`] is the one way to the OS credential store, with
//!   the one switch that keeps it out (`DROPSYNC_CREDENTIAL_STORE=file`).

use serde::Deserialize;
use std::fmt;

/// A secret value that never prints.
#[derive(Clone, PartialEq, Eq)]
pub struct Secret(String);

impl Secret {
    pub fn new(s: impl Into<String>) -> Self {
        Secret(s.into())
    }

    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("***")
    }
}

impl fmt::Display for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("***")
    }
}

/// Where a secret comes from. Debug and Display never show a literal
/// value; an `env:` reference shows the variable's name and a credential
/// store entry its service and account, which are not secret and say where
/// to fix it.
#[derive(Clone, PartialEq, Eq, Deserialize)]
#[cfg_attr(feature = "specta", derive(specta::Type), specta(type = String))]
#[serde(from = "String")]
pub struct SecretRef(Source);

#[derive(Clone, PartialEq, Eq)]
enum Source {
    Literal(Secret),
    Env(String),
    CredentialStore { service: String, account: String },
}

/// Why a [`SecretRef`] has no usable value.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SecretError {
    #[error("environment variable {0} is not set (or is empty); export it, or write the value in the sync file")]
    MissingEnv(String),
    #[error("\"env:\" names no variable; write \"env:NAME\"")]
    NoVariableName,
    #[error("is empty")]
    Empty,
    #[error("the OS credential store has nothing for service {service:?}, account {account:?} ({message}); store it there")]
    NotInStore {
        service: String,
        account: String,
        message: String,
    },
}

impl SecretRef {
    /// A literal secret, as if written in the file.
    pub fn literal(value: impl Into<String>) -> Self {
        SecretRef(Source::Literal(Secret::new(value)))
    }

    /// A reference to the environment variable `name`.
    pub fn env(name: impl Into<String>) -> Self {
        SecretRef(Source::Env(name.into()))
    }

    /// An entry of the OS credential store.
    pub fn credential_store(service: impl Into<String>, account: impl Into<String>) -> Self {
        SecretRef(Source::CredentialStore {
            service: service.into(),
            account: account.into(),
        })
    }

    /// The environment variable this refers to, if any.
    pub fn env_name(&self) -> Option<&str> {
        match &self.0 {
            Source::Env(name) => Some(name),
            _ => None,
        }
    }

    pub fn is_literal(&self) -> bool {
        matches!(self.0, Source::Literal(_))
    }

    /// The value now: the literal, the variable or the store's entry read
    /// at this moment (so a long-running scheduler picks up a rotated
    /// credential).
    pub fn resolve(&self) -> Result<Secret, SecretError> {
        let value = match &self.0 {
            Source::Literal(s) => s.clone(),
            Source::Env(name) if name.is_empty() => return Err(SecretError::NoVariableName),
            Source::Env(name) => match std::env::var(name) {
                Ok(v) => Secret::new(v),
                Err(_) => return Err(SecretError::MissingEnv(name.clone())),
            },
            Source::CredentialStore { service, account } => credential_store::get(service, account)
                .map_err(|message| SecretError::NotInStore {
                    service: service.clone(),
                    account: account.clone(),
                    message,
                })?,
        };
        if !value.expose().trim().is_empty() {
            return Ok(value);
        }
        match &self.0 {
            // An exported-but-empty variable is almost always a deployment
            // mistake; naming the variable says where to look.
            Source::Env(name) => Err(SecretError::MissingEnv(name.clone())),
            _ => Err(SecretError::Empty),
        }
    }
}

impl From<String> for SecretRef {
    fn from(s: String) -> Self {
        match s.strip_prefix("env:") {
            Some(name) => SecretRef(Source::Env(name.trim().to_string())),
            None => SecretRef(Source::Literal(Secret::new(s))),
        }
    }
}

impl fmt::Display for SecretRef {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.0 {
            Source::Literal(_) => f.write_str("***"),
            Source::Env(name) => write!(f, "env:{name}"),
            Source::CredentialStore { service, account } => {
                write!(f, "credential store {service}/{account}")
            }
        }
    }
}

impl fmt::Debug for SecretRef {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "SecretRef({self})")
    }
}

/// The OS credential store (Secret Service on Linux, Keychain, Windows
/// Credential Manager), through the `keyring` crate. Errors are its
/// messages, for the caller to word.
pub mod credential_store {
    use super::Secret;

    /// `DROPSYNC_CREDENTIAL_STORE=file` keeps Dropsync's own secrets out of
    /// the OS store (servers without one, tests).
    pub fn wanted() -> bool {
        std::env::var(crate::env_vars::CREDENTIAL_STORE).map_or(true, |v| v != "file")
    }

    pub fn get(service: &str, account: &str) -> Result<Secret, String> {
        keyring::Entry::new(service, account)
            .and_then(|e| e.get_password())
            .map(Secret::new)
            .map_err(|e| e.to_string())
    }

    pub fn set(service: &str, account: &str, secret: &Secret) -> Result<(), String> {
        keyring::Entry::new(service, account)
            .and_then(|e| e.set_password(secret.expose()))
            .map_err(|e| e.to_string())
    }

    /// Removes an entry; one that is not there is fine.
    pub fn delete(service: &str, account: &str) {
        let _ = keyring::Entry::new(service, account).and_then(|e| e.delete_credential());
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn literal_never_prints() {
        let s = SecretRef::from("hunter2".to_string());
        assert_eq!(format!("{s}"), "***");
        assert_eq!(format!("{s:?}"), "SecretRef(***)");
        assert_eq!(s.resolve().unwrap().expose(), "hunter2");
        assert_eq!(
            format!("{:?} {}", Secret::new("x"), Secret::new("x")),
            "*** ***"
        );
    }

    #[test]
    fn env_reference_names_the_variable() {
        let s = SecretRef::from("env:DROPSYNC_TEST_SECRET_REF_UNSET".to_string());
        assert_eq!(s.env_name(), Some("DROPSYNC_TEST_SECRET_REF_UNSET"));
        assert_eq!(
            format!("{s:?}"),
            "SecretRef(env:DROPSYNC_TEST_SECRET_REF_UNSET)"
        );
        let err = s.resolve().unwrap_err();
        assert!(err.to_string().contains("DROPSYNC_TEST_SECRET_REF_UNSET"));
    }

    #[test]
    fn empty_values_are_errors() {
        assert_eq!(
            SecretRef::from(String::new()).resolve(),
            Err(SecretError::Empty)
        );
        assert_eq!(
            SecretRef::from("env:".to_string()).resolve(),
            Err(SecretError::NoVariableName)
        );
    }

    #[test]
    fn a_credential_store_entry_names_its_service_and_account() {
        let s = SecretRef::credential_store("dropsync-source", "postgres://u@h:5432/db");
        assert_eq!(
            format!("{s}"),
            "credential store dropsync-source/postgres://u@h:5432/db"
        );
    }
}
