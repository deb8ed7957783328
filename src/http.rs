//! Every HTTP call Dropsync makes (the Dropbox API, alert receivers) goes
//! through one client builder and one retry loop, as rclone's pacer does:
//! - [`client`]: our user agent, no redirects (a redirect would resend a
//!   credential somewhere unexpected), connect and answer timeouts, TCP
//!   keepalive, and an extra trusted CA for test servers.
//! - [`Retry`]: what a failed attempt says about trying again — again after
//!   a backoff, after the wait the server asked for, or never — and
//!   [`Policy::run`], the one loop that acts on it within a policy's limits
//!   (attempts, attempts that timed out, Retry-After waits, a deadline).

use std::time::{Duration, Instant};

/// How the client is built; the per-call deadline is set on each request.
pub struct ClientOptions {
    pub connect_timeout: Duration,
    pub timeout: Duration,
    pub keepalive: Option<Duration>,
    /// Extra trusted CAs (see [`parse_ca`]), e.g. a test server's.
    pub extra_ca: Vec<reqwest::Certificate>,
}

/// The certificates of a PEM file (a bundle may hold several); the error
/// says what is wrong with the file, for the caller to name it.
pub fn parse_ca(pem: &[u8]) -> Result<Vec<reqwest::Certificate>, String> {
    let certs = reqwest::Certificate::from_pem_bundle(pem)
        .map_err(|e| format!("not a PEM certificate file: {e}"))?;
    if certs.is_empty() {
        return Err("holds no PEM certificate (-----BEGIN CERTIFICATE-----)".into());
    }
    Ok(certs)
}

pub fn client(o: ClientOptions) -> Result<reqwest::blocking::Client, String> {
    let mut builder = reqwest::blocking::Client::builder()
        .user_agent(concat!("dropsync/", env!("CARGO_PKG_VERSION")))
        .connect_timeout(o.connect_timeout)
        .timeout(o.timeout)
        .redirect(reqwest::redirect::Policy::none());
    if let Some(k) = o.keepalive {
        builder = builder.tcp_keepalive(k);
    }
    for cert in o.extra_ca {
        builder = builder.add_root_certificate(cert);
    }
    builder
        .build()
        .map_err(|e| format!("cannot start the HTTP client: {e}"))
}

/// `Retry-After`: delay-seconds or an HTTP date.
pub fn parse_retry_after(value: &str, now: chrono::DateTime<chrono::Utc>) -> Option<Duration> {
    let value = value.trim();
    if let Ok(seconds) = value.parse::<u64>() {
        return Some(Duration::from_secs(seconds));
    }
    let at = chrono::DateTime::parse_from_rfc2822(value).ok()?;
    Some(
        (at.with_timezone(&chrono::Utc) - now)
            .to_std()
            .unwrap_or_default(),
    )
}

/// What a failed attempt says about the next one.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Retry {
    /// May pass (a 5xx, a dropped connection, write contention): back off.
    Retry,
    /// The server asked to wait this long (429 with Retry-After).
    RetryAfter(Duration),
    /// Will repeat (a refusal, bad input): stop now.
    Fatal,
}

/// A failed attempt: its error, and whether and when to try again.
#[derive(Debug)]
pub struct Failed<E> {
    pub error: E,
    pub retry: Retry,
    /// The server did not answer in time: such attempts cost a whole
    /// timeout each, so they have a budget of their own.
    pub timed_out: bool,
}

impl<E> Failed<E> {
    pub fn retry(error: E) -> Self {
        Failed {
            error,
            retry: Retry::Retry,
            timed_out: false,
        }
    }

    pub fn fatal(error: E) -> Self {
        Failed {
            error,
            retry: Retry::Fatal,
            timed_out: false,
        }
    }

    pub fn after(error: E, wait: Option<Duration>) -> Self {
        Failed {
            error,
            retry: wait.map_or(Retry::Retry, Retry::RetryAfter),
            timed_out: false,
        }
    }

    pub fn timed_out(error: E) -> Self {
        Failed {
            error,
            retry: Retry::Retry,
            timed_out: true,
        }
    }
}

/// Why the loop stopped trying.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum GaveUp {
    Fatal,
    /// Out of attempts (counting those that timed out).
    Attempts,
    /// Out of attempts that timed out.
    Timeouts,
    /// Out of Retry-After waits.
    Waits,
    /// No time left before the policy's deadline.
    Deadline,
}

/// The end of [`Policy::run`].
#[derive(Debug)]
pub struct Outcome<T, E> {
    pub result: Result<T, (E, GaveUp)>,
    /// Requests sent.
    pub sent: u32,
    /// Failures that counted as attempts (not the Retry-After waits).
    pub failures: u32,
    pub waits: u32,
}

/// Limits of one retrying call.
#[derive(Debug, Clone)]
pub struct Policy {
    /// Failures before giving up, those that timed out included.
    pub attempts: u32,
    /// Failures that timed out before giving up.
    pub timeout_attempts: u32,
    /// Retry-After waits that do not count as attempts (Dropbox asks for
    /// them under load); 0: a Retry-After counts as an attempt and waits
    /// at least its backoff.
    pub free_waits: u32,
    pub base: Duration,
    pub max_backoff: Duration,
    /// Full jitter (each wait between half and all of the backoff), so that
    /// many clients retrying spread apart.
    pub jitter: bool,
    /// The longest Retry-After honoured.
    pub max_retry_after: Duration,
    /// Nothing starts past this instant; attempts get at most the time left.
    pub deadline: Option<Instant>,
    /// Each attempt's own limit, shortened to what is left of the deadline.
    pub attempt_timeout: Option<Duration>,
}

/// Not worth starting an attempt with less time than this left.
const MIN_ATTEMPT: Duration = Duration::from_secs(1);

impl Policy {
    /// The wait after the `n`-th failure (1-based).
    pub fn backoff(&self, n: u32) -> Duration {
        let exp = self
            .base
            .saturating_mul(1 << n.saturating_sub(1).min(16))
            .min(self.max_backoff);
        if self.jitter {
            exp.mul_f64(0.5 + fastrand::f64() * 0.5)
        } else {
            exp
        }
    }

    /// Runs `attempt` (given the time it may take, when the policy bounds
    /// it) until it succeeds, fails for good, or a limit is reached.
    pub fn run<T, E: std::fmt::Display>(
        &self,
        what: &str,
        mut attempt: impl FnMut(Option<Duration>) -> Result<T, Failed<E>>,
    ) -> Outcome<T, E> {
        let (mut sent, mut failures, mut timeouts, mut waits) = (0, 0, 0, 0);
        let end = |result, sent, failures, waits| Outcome {
            result,
            sent,
            failures,
            waits,
        };
        loop {
            sent += 1;
            let time = self.attempt_timeout.map(|t| match self.deadline {
                Some(d) => t
                    .min(d.saturating_duration_since(Instant::now()))
                    .max(MIN_ATTEMPT),
                None => t,
            });
            let failed = match attempt(time) {
                Ok(v) => return end(Ok(v), sent, failures, waits),
                Err(f) => f,
            };
            let wait = match failed.retry {
                Retry::Fatal => {
                    return end(Err((failed.error, GaveUp::Fatal)), sent, failures, waits)
                }
                Retry::RetryAfter(d) if self.free_waits > 0 => {
                    waits += 1;
                    if waits > self.free_waits {
                        return end(Err((failed.error, GaveUp::Waits)), sent, failures, waits);
                    }
                    tracing::debug!(what, wait = ?d, "rate limited; waiting as Retry-After says");
                    std::thread::sleep(d.min(self.max_retry_after));
                    continue;
                }
                Retry::RetryAfter(d) => {
                    failures += 1;
                    self.backoff(failures).max(d.min(self.max_retry_after))
                }
                Retry::Retry => {
                    failures += 1;
                    self.backoff(failures)
                }
            };
            if failed.timed_out {
                timeouts += 1;
                if timeouts >= self.timeout_attempts {
                    return end(Err((failed.error, GaveUp::Timeouts)), sent, failures, waits);
                }
            }
            if failures >= self.attempts {
                return end(Err((failed.error, GaveUp::Attempts)), sent, failures, waits);
            }
            if let Some(deadline) = self.deadline {
                if Instant::now() + wait + MIN_ATTEMPT > deadline {
                    tracing::warn!(what, attempts = sent, "no time left to retry");
                    return end(Err((failed.error, GaveUp::Deadline)), sent, failures, waits);
                }
            }
            tracing::debug!(what, attempt = sent, wait = ?wait, error = %failed.error, "retrying");
            std::thread::sleep(wait);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    fn policy() -> Policy {
        Policy {
            attempts: 3,
            timeout_attempts: 3,
            free_waits: 0,
            base: Duration::from_millis(1),
            max_backoff: Duration::from_millis(64),
            jitter: false,
            max_retry_after: Duration::from_millis(5),
            deadline: None,
            attempt_timeout: None,
        }
    }

    #[test]
    fn backoff_doubles_up_to_its_cap() {
        let p = Policy {
            base: Duration::from_millis(500),
            max_backoff: Duration::from_millis(1500),
            ..policy()
        };
        assert_eq!(p.backoff(1), Duration::from_millis(500));
        assert_eq!(p.backoff(2), Duration::from_millis(1000));
        assert_eq!(p.backoff(3), Duration::from_millis(1500));
    }

    #[test]
    fn stops_after_its_attempts_or_at_once_when_fatal() {
        let o = policy().run("t", |_| -> Result<(), _> { Err(Failed::retry("down")) });
        assert_eq!((o.sent, o.result.unwrap_err().1), (3, GaveUp::Attempts));
        let o = policy().run("t", |_| -> Result<(), _> { Err(Failed::fatal("no")) });
        assert_eq!((o.sent, o.result.unwrap_err().1), (1, GaveUp::Fatal));
    }

    #[test]
    fn succeeds_on_a_later_attempt() {
        let mut calls = 0;
        let o = policy().run("t", |_| {
            calls += 1;
            if calls < 3 {
                Err(Failed::retry("down"))
            } else {
                Ok(42)
            }
        });
        assert_eq!((o.sent, o.result.unwrap()), (3, 42));
    }

    #[test]
    fn timeouts_have_a_budget_of_their_own() {
        let p = Policy {
            attempts: 6,
            timeout_attempts: 2,
            ..policy()
        };
        let o = p.run("t", |_| -> Result<(), _> {
            Err(Failed::timed_out("silent"))
        });
        assert_eq!((o.sent, o.result.unwrap_err().1), (2, GaveUp::Timeouts));
    }

    #[test]
    fn free_waits_do_not_count_as_attempts() {
        let p = Policy {
            free_waits: 4,
            ..policy()
        };
        let mut calls = 0;
        let o = p.run("t", |_| {
            calls += 1;
            match calls {
                1..=4 => Err(Failed::after("429", Some(Duration::from_millis(1)))),
                _ => Ok(()),
            }
        });
        assert!(o.result.is_ok());
        assert_eq!((o.sent, o.failures, o.waits), (5, 0, 4));
        let o = p.run("t", |_| -> Result<(), _> {
            Err(Failed::after("429", Some(Duration::from_millis(1))))
        });
        assert_eq!(o.result.unwrap_err().1, GaveUp::Waits);
    }

    #[test]
    fn gives_up_when_no_time_is_left() {
        let p = Policy {
            base: Duration::from_millis(50),
            deadline: Some(Instant::now() + Duration::from_millis(100)),
            attempt_timeout: Some(Duration::from_secs(10)),
            ..policy()
        };
        let o = p.run("t", |time| -> Result<(), _> {
            assert!(time.unwrap() <= Duration::from_secs(1), "{time:?}");
            Err(Failed::retry("down"))
        });
        assert_eq!((o.sent, o.result.unwrap_err().1), (1, GaveUp::Deadline));
    }

    #[test]
    fn retry_after_forms() {
        let now = chrono::Utc
            .with_ymd_and_hms(2015, 10, 21, 7, 27, 0)
            .unwrap();
        assert_eq!(parse_retry_after("3", now), Some(Duration::from_secs(3)));
        assert_eq!(
            parse_retry_after("Wed, 21 Oct 2015 07:28:00 GMT", now),
            Some(Duration::from_secs(60))
        );
        assert_eq!(parse_retry_after("soon", now), None);
    }
}
