//! `send_all`: every message on its own thread, all within one deadline, and
//! one [`Outcome`] per message whatever happens.

use std::sync::OnceLock;
use std::thread;
use std::time::Instant;

use reqwest::blocking::Client;

use super::error::AlertError;
use super::retry::RetryPolicy;
use super::{email, http, pagerduty, slack, sms, Alert, ChannelSpec, Outcome, Settings};

/// What every delivery of one `send_all` shares.
pub(super) struct Context {
    pub(super) policy: RetryPolicy,
    /// Where alerts say they come from (`dropsync on <host>`).
    pub(super) source_host: String,
    extra_ca: Result<Option<(String, Vec<u8>)>, AlertError>,
    /// Built on first use: email-only setups never start an HTTP client.
    http: OnceLock<Result<Client, AlertError>>,
}

impl Context {
    fn new(start: Instant, settings: &Settings) -> Self {
        Context {
            policy: RetryPolicy::new(start, settings.retry_base),
            source_host: hostname::get()
                .ok()
                .and_then(|h| h.into_string().ok())
                .filter(|h| !h.is_empty())
                .unwrap_or_else(|| "unknown host".to_string()),
            extra_ca: http::extra_ca_pem(settings.extra_ca.as_deref()),
            http: OnceLock::new(),
        }
    }

    pub(super) fn http(&self) -> Result<&Client, AlertError> {
        self.http
            .get_or_init(|| http::client(self.extra_ca()?))
            .as_ref()
            .map_err(Clone::clone)
    }

    pub(super) fn extra_ca(&self) -> Result<Option<&(String, Vec<u8>)>, AlertError> {
        self.extra_ca
            .as_ref()
            .map(Option::as_ref)
            .map_err(Clone::clone)
    }
}

/// A channel's settings, checked and with its secrets read.
pub(super) enum Prepared {
    Slack(slack::Settings),
    Pagerduty(pagerduty::Settings),
    Sms(sms::Settings),
    Email(email::Settings),
}

/// Checks one channel's settings; `index` counts from 1. Every problem is
/// returned, not just the first.
pub(super) fn prepare(index: usize, spec: &ChannelSpec) -> Result<Prepared, Vec<AlertError>> {
    Ok(match spec {
        ChannelSpec::Slack { webhook_url } => Prepared::Slack(slack::prepare(index, webhook_url)?),
        ChannelSpec::Pagerduty {
            routing_key,
            events_url,
            severity,
        } => Prepared::Pagerduty(pagerduty::prepare(
            index,
            routing_key,
            events_url.as_deref(),
            severity.as_deref(),
        )?),
        ChannelSpec::Sms {
            account_sid,
            auth_token,
            from,
            to,
            api_url,
        } => Prepared::Sms(sms::prepare(
            index,
            account_sid,
            auth_token,
            from,
            to,
            api_url.as_deref(),
        )?),
        ChannelSpec::Email {
            smtp_url,
            password,
            from,
            to,
        } => Prepared::Email(email::prepare(
            index,
            smtp_url,
            password.as_ref(),
            from,
            to,
        )?),
    })
}

/// One message to send: channel `channel` (0-based position), labelled for
/// the outcome, to `recipient` for SMS.
struct Job<'a> {
    channel: usize,
    label: String,
    recipient: Option<&'a str>,
}

fn plan(channels: &[ChannelSpec]) -> Vec<Job<'_>> {
    let mut jobs = Vec::new();
    for (channel, spec) in channels.iter().enumerate() {
        match spec {
            ChannelSpec::Sms { to, .. } if !to.is_empty() => {
                jobs.extend(to.iter().map(|number| Job {
                    channel,
                    label: format!("sms {number}"),
                    recipient: Some(number),
                }));
            }
            ChannelSpec::Email { to, .. } => jobs.push(Job {
                channel,
                label: email::label(to),
                recipient: None,
            }),
            _ => jobs.push(Job {
                channel,
                label: spec.kind().to_string(),
                recipient: None,
            }),
        }
    }
    jobs
}

fn outcome(job: &Job, attempts: u32, result: Result<(), String>) -> Outcome {
    let index = job.channel + 1;
    match &result {
        Ok(()) => tracing::info!(alert = index, channel = %job.label, attempts, "alert delivered"),
        Err(e) => {
            tracing::warn!(alert = index, channel = %job.label, attempts, error = %e, "alert not delivered")
        }
    }
    Outcome {
        index,
        channel: job.label.clone(),
        ok: result.is_ok(),
        attempts,
        error: result.err(),
    }
}

/// Sends `alert` to every channel concurrently (a thread per message), each
/// with bounded retries, and returns one [`Outcome`] per message: per
/// channel, or per recipient for SMS. It never panics, never returns early,
/// and takes about 30 s at worst, however the receivers behave.
pub fn send_all(channels: &[ChannelSpec], alert: &Alert) -> Vec<Outcome> {
    send_all_with(&Settings::from_env(), channels, alert)
}

/// [`send_all`] with its settings given rather than read from the
/// environment.
pub fn send_all_with(settings: &Settings, channels: &[ChannelSpec], alert: &Alert) -> Vec<Outcome> {
    let start = Instant::now();
    let jobs = plan(channels);
    // Off the caller's thread: reqwest's blocking client must not be built or
    // dropped inside an async runtime, and a caller may well be in one.
    let delivered = thread::scope(|s| {
        match thread::Builder::new()
            .name("dropsync-alerts".into())
            .spawn_scoped(s, || deliver_all(settings, channels, &jobs, alert, start))
        {
            Ok(handle) => handle.join().ok(),
            Err(_) => Some(deliver_all(settings, channels, &jobs, alert, start)),
        }
    });
    delivered.unwrap_or_else(|| {
        jobs.iter()
            .map(|job| {
                outcome(
                    job,
                    0,
                    Err("internal error: alert delivery panicked".into()),
                )
            })
            .collect()
    })
}

fn deliver_all(
    settings: &Settings,
    channels: &[ChannelSpec],
    jobs: &[Job],
    alert: &Alert,
    start: Instant,
) -> Vec<Outcome> {
    let ctx = Context::new(start, settings);
    let prepared: Vec<Result<Prepared, String>> = channels
        .iter()
        .enumerate()
        .map(|(i, spec)| prepare(i + 1, spec).map_err(|errs| join(&errs)))
        .collect();
    let deliver = |job: &Job| -> Outcome {
        let (attempts, result) = match &prepared[job.channel] {
            Ok(settings) => deliver_one(&ctx, settings, job, alert),
            Err(problems) => (0, Err(problems.clone())),
        };
        outcome(job, attempts, result)
    };
    thread::scope(|s| {
        let running: Vec<_> = jobs
            .iter()
            .map(|job| {
                thread::Builder::new()
                    .name("dropsync-alert".into())
                    .spawn_scoped(s, || deliver(job))
                    // Out of threads: send this one here and now rather than not at all.
                    .map_err(|_| deliver(job))
            })
            .collect();
        running
            .into_iter()
            .zip(jobs)
            .map(|(run, job)| match run {
                Ok(handle) => handle.join().unwrap_or_else(|_| {
                    outcome(job, 0, Err("internal error: the sender panicked".into()))
                }),
                Err(done) => done,
            })
            .collect()
    })
}

fn deliver_one(
    ctx: &Context,
    settings: &Prepared,
    job: &Job,
    alert: &Alert,
) -> (u32, Result<(), String>) {
    let (attempts, result) = match (settings, job.recipient) {
        (Prepared::Slack(s), _) => slack::deliver(s, ctx, alert),
        (Prepared::Pagerduty(s), _) => pagerduty::deliver(s, ctx, alert),
        (Prepared::Sms(s), Some(to)) => sms::deliver(s, ctx, alert, to),
        (Prepared::Sms(_), None) => (
            0,
            Err(AlertError::Internal("an SMS without a recipient".into())),
        ),
        (Prepared::Email(s), _) => email::deliver(s, ctx, alert),
    };
    (attempts, result.map_err(|e| e.to_string()))
}

fn join(errors: &[AlertError]) -> String {
    errors
        .iter()
        .map(ToString::to_string)
        .collect::<Vec<_>>()
        .join("; ")
}
