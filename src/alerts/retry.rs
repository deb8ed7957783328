//! Alert delivery's retry limits: a few attempts, short exponential backoff,
//! `Retry-After` honoured up to a cap, and one deadline for the whole of
//! `send_all`, so that alerting can never hold a run up for long. The loop
//! itself is the one every HTTP call uses (`crate::http::Policy::run`).

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
const DEFAULT_BASE: Duration = Duration::from_millis(500);
pub(super) const BASE_ENV: &str = crate::env_vars::ALERT_RETRY_BASE_MS;

/// A failed delivery attempt, and whether another may succeed.
pub(super) type Failure = crate::http::Failed<AlertError>;

/// The first backoff delay: `DROPSYNC_ALERT_RETRY_BASE_MS`, so that tests
/// need not wait, else 500 ms.
pub(super) fn base_from_env() -> Duration {
    match std::env::var(BASE_ENV) {
        Ok(v) => match v.trim().parse::<u64>() {
            Ok(ms) => Duration::from_millis(ms),
            Err(_) => {
                tracing::warn!(value = %v, "{BASE_ENV} is not a number of milliseconds; using 500");
                DEFAULT_BASE
            }
        },
        Err(_) => DEFAULT_BASE,
    }
}

#[derive(Debug, Clone)]
pub(super) struct RetryPolicy(crate::http::Policy);

impl RetryPolicy {
    /// The policy for a `send_all` that started at `start`.
    pub(super) fn new(start: Instant, base: Duration) -> Self {
        RetryPolicy(crate::http::Policy {
            attempts: ATTEMPTS,
            timeout_attempts: ATTEMPTS,
            free_waits: 0,
            base,
            max_backoff: BUDGET,
            jitter: false,
            max_retry_after: RETRY_AFTER_CAP,
            deadline: Some(start + BUDGET),
            attempt_timeout: Some(REQUEST_TIMEOUT),
        })
    }

    /// Runs `attempt` (given the time it may take) until it succeeds, fails
    /// for good, runs out of attempts or of time. Returns how many attempts
    /// were made and the last result.
    pub(super) fn run<T>(
        &self,
        channel: &str,
        mut attempt: impl FnMut(Duration) -> Result<T, Failure>,
    ) -> (u32, Result<T, AlertError>) {
        let o = self
            .0
            .run(channel, |time| attempt(time.unwrap_or(REQUEST_TIMEOUT)));
        if let Err((e, _)) = &o.result {
            tracing::warn!(channel, attempts = o.sent, error = %e, "alert not delivered");
        }
        (o.sent, o.result.map_err(|(e, _)| e))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn policy(base_ms: u64) -> RetryPolicy {
        RetryPolicy::new(Instant::now(), Duration::from_millis(base_ms))
    }

    fn failing() -> Failure {
        Failure::retry(AlertError::Internal("down".into()))
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
            Err(Failure::fatal(AlertError::Internal("no".into())))
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
        p.0.deadline = Some(Instant::now() + Duration::from_millis(100));
        let (n, r) = p.run("test", |_| -> Result<(), _> { Err(failing()) });
        assert_eq!((n, r.is_err()), (1, true));
    }
}
