//! Bounded retries shared by every channel: a few attempts, short exponential
//! backoff, `Retry-After` honoured up to a cap, and one deadline for the
//! whole of `send_all`, so that alerting can never hold a run up for long.

use std::time::{Duration, Instant};

use super::error::AlertError;

pub(super) const ATTEMPTS: u32 = 3;
pub(super) const REQUEST_TIMEOUT: Duration = Duration::from_secs(10);
pub(super) const CONNECT_TIMEOUT: Duration = Duration::from_secs(5);
/// Everything `send_all` does fits in this, whatever the receivers do.
pub(super) const BUDGET: Duration = Duration::from_secs(30);
/// A receiver asking for minutes gets seconds: an alert that arrives late
/// is worth less than a failure report that arrives now.
const RETRY_AFTER_CAP: Duration = Duration::from_secs(10);
/// Not worth starting an attempt with less time than this left.
const MIN_ATTEMPT: Duration = Duration::from_secs(1);
const DEFAULT_BASE: Duration = Duration::from_millis(500);
pub(super) const BASE_ENV: &str = crate::env_vars::ALERT_RETRY_BASE_MS;

/// What went wrong with one attempt, and whether another may succeed.
#[derive(Debug)]
pub(super) enum Failure {
    Retryable {
        error: AlertError,
        retry_after: Option<Duration>,
    },
    Fatal(AlertError),
}

impl Failure {
    pub(super) fn retryable(error: AlertError) -> Self {
        Failure::Retryable {
            error,
            retry_after: None,
        }
    }
}

#[derive(Debug, Clone)]
pub(super) struct RetryPolicy {
    attempts: u32,
    base: Duration,
    request_timeout: Duration,
    deadline: Instant,
}

impl RetryPolicy {
    /// The policy for a `send_all` that started at `start`; the backoff base
    /// comes from `DROPSYNC_ALERT_RETRY_BASE_MS` so tests need not wait.
    pub(super) fn from_env(start: Instant) -> Self {
        let base = match std::env::var(BASE_ENV) {
            Ok(v) => match v.trim().parse::<u64>() {
                Ok(ms) => Duration::from_millis(ms),
                Err(_) => {
                    tracing::warn!(value = %v, "{BASE_ENV} is not a number of milliseconds; using 500");
                    DEFAULT_BASE
                }
            },
            Err(_) => DEFAULT_BASE,
        };
        RetryPolicy {
            attempts: ATTEMPTS,
            base,
            request_timeout: REQUEST_TIMEOUT,
            deadline: start + BUDGET,
        }
    }

    fn backoff(&self, failed_attempts: u32) -> Duration {
        self.base
            .saturating_mul(1 << failed_attempts.saturating_sub(1).min(16))
    }

    /// Runs `attempt` (given the time it may take) until it succeeds, fails
    /// for good, runs out of attempts or of time. Returns how many attempts
    /// were made and the last result.
    pub(super) fn run<T>(
        &self,
        channel: &str,
        mut attempt: impl FnMut(Duration) -> Result<T, Failure>,
    ) -> (u32, Result<T, AlertError>) {
        let mut made = 0;
        loop {
            made += 1;
            let remaining = self.deadline.saturating_duration_since(Instant::now());
            let timeout = self.request_timeout.min(remaining).max(MIN_ATTEMPT);
            let (error, retry_after) = match attempt(timeout) {
                Ok(value) => return (made, Ok(value)),
                Err(Failure::Fatal(error)) => return (made, Err(error)),
                Err(Failure::Retryable { error, retry_after }) => (error, retry_after),
            };
            if made >= self.attempts {
                return (made, Err(error));
            }
            let wait = self
                .backoff(made)
                .max(retry_after.unwrap_or_default().min(RETRY_AFTER_CAP));
            if Instant::now() + wait + MIN_ATTEMPT > self.deadline {
                tracing::warn!(channel, attempts = made, "no time left to retry the alert");
                return (made, Err(error));
            }
            tracing::warn!(
                channel,
                attempt = made,
                wait_ms = wait.as_millis() as u64,
                error = %error,
                "alert delivery failed; retrying"
            );
            std::thread::sleep(wait);
        }
    }
}

/// `Retry-After`: delay-seconds or an HTTP date.
pub(super) fn parse_retry_after(
    value: &str,
    now: chrono::DateTime<chrono::Utc>,
) -> Option<Duration> {
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

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    fn policy(base_ms: u64) -> RetryPolicy {
        RetryPolicy {
            attempts: 3,
            base: Duration::from_millis(base_ms),
            request_timeout: REQUEST_TIMEOUT,
            deadline: Instant::now() + BUDGET,
        }
    }

    fn failing() -> Failure {
        Failure::retryable(AlertError::Internal("down".into()))
    }

    #[test]
    fn backoff_doubles() {
        let p = policy(500);
        assert_eq!(p.backoff(1), Duration::from_millis(500));
        assert_eq!(p.backoff(2), Duration::from_millis(1000));
    }

    #[test]
    fn stops_after_three_attempts() {
        let (n, r) = policy(1).run("test", |_| -> Result<(), _> { Err(failing()) });
        assert_eq!(n, 3);
        assert!(r.is_err());
    }

    #[test]
    fn fatal_stops_at_once() {
        let (n, r) = policy(1).run("test", |_| -> Result<(), _> {
            Err(Failure::Fatal(AlertError::Internal("no".into())))
        });
        assert_eq!((n, r.is_err()), (1, true));
    }

    #[test]
    fn succeeds_on_second() {
        let mut calls = 0;
        let (n, r) = policy(1).run("test", |_| {
            calls += 1;
            if calls == 1 {
                Err(failing())
            } else {
                Ok(42)
            }
        });
        assert_eq!((n, r), (2, Ok(42)));
    }

    #[test]
    fn gives_up_when_out_of_time() {
        let mut p = policy(1);
        p.deadline = Instant::now() + Duration::from_millis(100);
        let (n, r) = p.run("test", |_| -> Result<(), _> { Err(failing()) });
        assert_eq!((n, r.is_err()), (1, true));
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
