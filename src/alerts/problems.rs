//! Settings problems of one `[[alerts]]` table, gathered all at once so that
//! `dropsync check` can list every one, and the field checks that find them.

use reqwest::Url;

use super::error::AlertError;
use crate::secret::{Secret, SecretRef};

/// The problems found in alert `#index` (1-based) of type `kind`.
pub(super) struct Problems {
    index: usize,
    kind: &'static str,
    found: Vec<AlertError>,
}

impl Problems {
    pub(super) fn new(index: usize, kind: &'static str) -> Self {
        Problems {
            index,
            kind,
            found: Vec::new(),
        }
    }

    pub(super) fn add(&mut self, key: &'static str, message: impl Into<String>) {
        self.found.push(AlertError::Config {
            index: self.index,
            kind: self.kind,
            key,
            message: message.into(),
        });
    }

    /// Whether a problem was already found with `key`.
    pub(super) fn has(&self, key: &str) -> bool {
        self.found
            .iter()
            .any(|e| matches!(e, AlertError::Config { key: k, .. } if *k == key))
    }

    /// `value` when nothing was found, else every problem. (A check that
    /// yields no value always adds a problem, so `None` alone cannot happen.)
    pub(super) fn finish<T>(self, value: Option<T>) -> Result<T, Vec<AlertError>> {
        match value {
            Some(v) if self.found.is_empty() => Ok(v),
            _ if !self.found.is_empty() => Err(self.found),
            _ => Err(vec![AlertError::Internal(format!(
                "alert #{} ({}): incomplete settings",
                self.index, self.kind
            ))]),
        }
    }

    /// The secret's value now, or a problem naming the key (and variable).
    pub(super) fn secret(&mut self, key: &'static str, secret: &SecretRef) -> Option<Secret> {
        match secret.resolve() {
            Ok(value) => Some(value),
            Err(e) => {
                self.add(key, e.to_string());
                None
            }
        }
    }

    /// An absolute http(s) URL. `shown` is false for URLs that are secrets
    /// (a Slack webhook), whose text must not appear in a message.
    pub(super) fn http_url(
        &mut self,
        key: &'static str,
        raw: &str,
        shown: bool,
        example: &str,
    ) -> Option<Url> {
        let quoted = if shown {
            format!("{raw:?} ")
        } else {
            String::new()
        };
        let problem = match Url::parse(raw.trim()) {
            Ok(url) if !matches!(url.scheme(), "http" | "https") => {
                format!("{quoted}is not an http or https URL")
            }
            Ok(url) if url.host_str().is_none_or(str::is_empty) => {
                format!("{quoted}names no host")
            }
            Ok(url) => return Some(url),
            Err(e) => format!("{quoted}is not a URL ({e})"),
        };
        self.add(
            key,
            format!("{problem}; write a full URL such as {example}"),
        );
        None
    }

    /// A non-empty string.
    pub(super) fn required(&mut self, key: &'static str, value: &str, fix: &str) -> bool {
        if value.trim().is_empty() {
            self.add(key, format!("is empty; {fix}"));
            false
        } else {
            true
        }
    }
}

/// An E.164 number: `+`, a country code not starting with 0, at most 15 digits.
pub(super) fn is_e164(number: &str) -> bool {
    let Some(digits) = number.strip_prefix('+') else {
        return false;
    };
    (2..=15).contains(&digits.len())
        && digits.bytes().all(|b| b.is_ascii_digit())
        && !digits.starts_with('0')
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn e164() {
        assert!(is_e164("+15551234567"));
        assert!(is_e164("+442071838750"));
        assert!(!is_e164("15551234567"));
        assert!(!is_e164("+0555"));
        assert!(!is_e164("+1 555 123 4567"));
        assert!(!is_e164("+1234567890123456"));
    }

    #[test]
    fn secret_urls_are_not_echoed() {
        let mut p = Problems::new(1, "slack");
        assert!(p
            .http_url("webhook_url", "ftp://secret-path", false, "https://x")
            .is_none());
        let text = p.finish(Some(())).unwrap_err()[0].to_string();
        assert!(!text.contains("secret-path"), "{text}");
        assert!(text.starts_with("alert #1 (slack): webhook_url:"), "{text}");
    }
}
