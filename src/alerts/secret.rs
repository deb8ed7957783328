//! `SecretRef`: a credential written in the sync file, literally or as `env:NAME`.

use std::fmt;

use serde::Deserialize;

use crate::dropbox::Secret;

/// A secret written literally or as `"env:NAME"` (read from the environment
/// when it is used, so that sync files can be committed without credentials).
///
/// Debug and Display never show a literal value; an `env:` reference shows
/// the variable's name, which is not secret and helps the user fix it.
#[derive(Clone, PartialEq, Eq, Deserialize)]
#[serde(from = "String")]
pub struct SecretRef(Source);

#[derive(Clone, PartialEq, Eq)]
enum Source {
    Literal(Secret),
    Env(String),
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

    /// The environment variable this refers to, if any.
    pub fn env_name(&self) -> Option<&str> {
        match &self.0 {
            Source::Env(name) => Some(name),
            Source::Literal(_) => None,
        }
    }

    /// The value now: the literal, or the variable read at this moment (so a
    /// long-running scheduler picks up a rotated credential on its next alert).
    pub fn resolve(&self) -> Result<Secret, SecretError> {
        let value = match &self.0 {
            Source::Literal(s) => s.clone(),
            Source::Env(name) if name.is_empty() => return Err(SecretError::NoVariableName),
            Source::Env(name) => match std::env::var(name) {
                Ok(v) => Secret::new(v),
                Err(_) => return Err(SecretError::MissingEnv(name.clone())),
            },
        };
        if !value.expose().trim().is_empty() {
            return Ok(value);
        }
        match &self.0 {
            // An exported-but-empty variable is almost always a deployment
            // mistake; naming the variable says where to look.
            Source::Env(name) => Err(SecretError::MissingEnv(name.clone())),
            Source::Literal(_) => Err(SecretError::Empty),
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
        }
    }
}

impl fmt::Debug for SecretRef {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "SecretRef({self})")
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
}
