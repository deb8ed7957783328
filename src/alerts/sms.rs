//! Twilio Programmable Messaging: one `POST .../Messages.json` per recipient.

use reqwest::Url;

use super::error::AlertError;
use super::http;
use super::problems::{is_e164, Problems};
use super::send::Context;
use super::text::truncate_utf16;
use super::Alert;
use crate::dropbox::Secret;
use crate::secret::SecretRef;

pub(super) const DEFAULT_API_URL: &str = "https://api.twilio.com";
/// Twilio refuses longer bodies (counted in UTF-16 units).
pub(super) const BODY_MAX: usize = 1600;
/// Alphanumeric sender IDs are at most 11 characters long.
const SENDER_ID_MAX: usize = 11;

pub(super) struct Settings {
    url: Url,
    account_sid: String,
    auth_token: Secret,
    from: String,
}

pub(super) fn prepare(
    index: usize,
    account_sid: &str,
    auth_token: &SecretRef,
    from: &str,
    to: &[String],
    api_url: Option<&str>,
) -> Result<Settings, Vec<AlertError>> {
    let mut p = Problems::new(index, "sms");
    let sid = account_sid.trim();
    // The SID goes into the URL path: anything but letters and digits is a typo.
    let sid_ok = p.required(
        "account_sid",
        sid,
        "write the Account SID (AC...) from the Twilio console",
    ) && if sid.bytes().all(|b| b.is_ascii_alphanumeric()) {
        true
    } else {
        p.add(
                "account_sid",
                format!("{sid:?} is not an Account SID; it has only letters and digits (AC followed by 32 hex digits)"),
            );
        false
    };
    let auth_token = p.secret("auth_token", auth_token);
    let from = from.trim();
    if !is_e164(from) && !is_sender_id(from) {
        p.add(
            "from",
            format!("{from:?} is neither an E.164 number (like +15551234567) nor an alphanumeric sender ID of at most {SENDER_ID_MAX} characters"),
        );
    }
    if to.is_empty() {
        p.add("to", "lists no recipients; write to = [\"+15551234567\"]");
    }
    for number in to {
        if !is_e164(number) {
            p.add(
                "to",
                format!("{number:?} is not an E.164 number; write it as + country code and number, without spaces, like +15551234567"),
            );
        }
    }
    let base = p.http_url(
        "api_url",
        api_url.unwrap_or(DEFAULT_API_URL),
        true,
        DEFAULT_API_URL,
    );
    let url = match (base, sid_ok) {
        (Some(base), true) => match messages_url(&base, sid) {
            Ok(url) => Some(url),
            Err(e) => {
                p.add("api_url", e);
                None
            }
        },
        _ => None,
    };
    let settings = match (url, auth_token) {
        (Some(url), Some(auth_token)) => Some(Settings {
            url,
            account_sid: sid.to_string(),
            auth_token,
            from: from.to_string(),
        }),
        _ => None,
    };
    p.finish(settings)
}

/// `{api_url}/2010-04-01/Accounts/{sid}/Messages.json`, keeping any path
/// prefix of `api_url` (a proxy may mount Twilio below one).
fn messages_url(base: &Url, sid: &str) -> Result<Url, String> {
    let text = format!(
        "{}/2010-04-01/Accounts/{sid}/Messages.json",
        base.as_str().trim_end_matches('/')
    );
    Url::parse(&text).map_err(|e| format!("cannot form the Messages URL: {e}"))
}

/// Twilio's alphanumeric sender IDs: letters, digits and spaces, at least one letter.
fn is_sender_id(s: &str) -> bool {
    (1..=SENDER_ID_MAX).contains(&s.len())
        && s.bytes().all(|b| b.is_ascii_alphanumeric() || b == b' ')
        && s.bytes().any(|b| b.is_ascii_alphabetic())
}

pub(super) fn deliver(
    s: &Settings,
    ctx: &Context,
    alert: &Alert,
    to: &str,
) -> (u32, Result<(), AlertError>) {
    let client = match ctx.http() {
        Ok(c) => c,
        Err(e) => return (0, Err(e)),
    };
    let body = truncate_utf16(&alert.summary(), BODY_MAX);
    let form = [
        ("To", to),
        ("From", s.from.as_str()),
        ("Body", body.as_str()),
    ];
    http::post(
        client,
        &ctx.policy,
        "sms",
        &s.url,
        &[s.auth_token.expose()],
        |r| {
            r.basic_auth(&s.account_sid, Some(s.auth_token.expose()))
                .form(&form)
        },
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn messages_url_keeps_prefix() {
        let base = Url::parse("http://127.0.0.1:9000/twilio/").unwrap();
        assert_eq!(
            messages_url(&base, "AC1").unwrap().as_str(),
            "http://127.0.0.1:9000/twilio/2010-04-01/Accounts/AC1/Messages.json"
        );
    }

    #[test]
    fn sender_ids() {
        assert!(is_sender_id("Dropsync"));
        assert!(!is_sender_id("12345"));
        assert!(!is_sender_id("Dropsync Alerts"));
    }

    #[test]
    fn every_bad_field_is_reported() {
        let errs = prepare(
            3,
            "AC/../x",
            &SecretRef::literal("t"),
            "555",
            &["5551234".into(), "+15551234567".into()],
            Some("not a url"),
        )
        .err()
        .unwrap();
        let text: Vec<String> = errs.iter().map(ToString::to_string).collect();
        assert_eq!(text.len(), 4, "{text:#?}");
        for (t, key) in text.iter().zip(["account_sid", "from", "to", "api_url"]) {
            assert!(t.starts_with(&format!("alert #3 (sms): {key}:")), "{t}");
        }
    }
}
