//! When a run alerts, and whom: one alert when a sync goes from healthy to
//! failing, none while it stays failing, one when it recovers; optional
//! warnings about slow runs and runs that remove a large share of rows.
//!
//! The state (`alert_state` in the sync's store) flips to failing only once
//! the failure reached someone (or there is nobody to tell), so a failure
//! alert lost to a down channel is sent again on the next failed run.
//! Delivery happens after the run is recorded and never changes its outcome.

use crate::alerts::{self, Alert, AlertKind, ChannelSpec};
use crate::config::{Mode, SyncSpec};
use crate::error::{Error, Result};
use crate::history::{self, AlertDelivery, RunReport};
use crate::run::{RunControl, RunOptions};
use crate::store::SyncStore;
use chrono::Utc;
use std::path::Path;

const STATE_KEY: &str = "alert_state";
const FAILING: &str = "failing";
const HEALTHY: &str = "healthy";

/// Runs a sync, then sends the alerts its outcome calls for and records
/// them with the run.
pub fn run_and_alert(
    spec: &SyncSpec,
    state_dir: &Path,
    opts: &RunOptions,
    control: &RunControl,
) -> Result<RunReport> {
    // Timed here: with `--at` the report's start is the stamped instant,
    // not when the run began.
    let began = std::time::Instant::now();
    let result = crate::run::run_then(spec, state_dir, opts, control, |report| {
        // Under the sync's lock: the health read and written here cannot
        // interleave with another process's run of the same sync.
        match after_run(spec, state_dir, report, Some(began.elapsed())) {
            Ok(sent) => report.alerts = sent,
            // Alerting trouble is logged; the run's outcome stands.
            Err(e) => tracing::warn!(sync = %spec.sync.id, error = %e, "could not record alerts"),
        }
    });
    if let Err(e) = &result {
        before_recording(spec, e);
    }
    result
}

/// A run that could not even be recorded (the state file cannot be opened
/// or is damaged, the disk is full) is a failure the sync's channels hear
/// about too: nothing else would tell an unattended sync's owner. With no
/// state to keep health in, each such attempt alerts.
fn before_recording(spec: &SyncSpec, e: &Error) {
    if matches!(e, Error::Busy { .. } | Error::Cancelled) || spec.alerts.is_empty() {
        return;
    }
    let alert = Alert {
        kind: AlertKind::Failure,
        sync_id: spec.sync.id.clone(),
        sync_file: Some(spec.file.display().to_string()),
        model_name: spec.model.name.clone(),
        run_id: None,
        at: Utc::now(),
        message: format!("the run could not start, so nothing was delivered: {e}"),
    };
    for d in deliver(&spec.alerts, &alert) {
        tracing::info!(channel = %d.channel, ok = d.ok, "alert about a run that could not start");
    }
}

/// The alerts a finished run calls for, given whether the sync was failing
/// and how long the run really took.
pub fn alerts_for(
    spec: &SyncSpec,
    report: &RunReport,
    was_failing: bool,
    took: Option<std::time::Duration>,
) -> Vec<Alert> {
    let alert = |kind, message: String| Alert {
        kind,
        sync_id: spec.sync.id.clone(),
        sync_file: Some(spec.file.display().to_string()),
        model_name: spec.model.name.clone(),
        run_id: Some(report.run_id),
        at: report.finished_at.unwrap_or(report.started_at),
        message,
    };
    if report.error_code == Some(crate::error::ErrorCode::Cancelled) {
        // Stopped on purpose (shutdown, the user): not a failure.
        return Vec::new();
    }
    if !report.succeeded() {
        if was_failing {
            return Vec::new();
        }
        let error = report
            .error
            .clone()
            .unwrap_or_else(|| "unknown error".into());
        return vec![alert(AlertKind::Failure, error)];
    }
    let mut out = Vec::new();
    if was_failing {
        out.push(alert(
            AlertKind::Recovery,
            format!(
                "run {} succeeded ({} rows)",
                report.run_id, report.rows.queried
            ),
        ));
    }
    if let (Some(limit), Some(took)) = (spec.alert_when.run_longer_than, took) {
        if took > limit {
            out.push(alert(
                AlertKind::Warning,
                format!(
                    "run {} took {}s, longer than the {}s set in [alert_when] run_longer_than",
                    report.run_id,
                    took.as_secs(),
                    limit.as_secs()
                ),
            ));
        }
    }
    if let (Some(share), Mode::Diff) = (spec.alert_when.removed_share_over, report.mode) {
        // Rows delivered before this run: what is there now, less what was
        // added, plus what was removed.
        let before = (report.rows.queried + report.rows.removed).saturating_sub(report.rows.added);
        if before > 0 && report.rows.removed as f64 > share * before as f64 {
            out.push(alert(
                AlertKind::Warning,
                format!(
                    "run {} removed {} of {} rows ({:.1}%), more than the {}% set in [alert_when] removed_more_than_percent; check the model's query",
                    report.run_id,
                    report.rows.removed,
                    before,
                    100.0 * report.rows.removed as f64 / before as f64,
                    share * 100.0
                ),
            ));
        }
    }
    out
}

/// Sends what a finished run calls for, updates the sync's alert state and
/// records each delivery with the run.
pub fn after_run(
    spec: &SyncSpec,
    state_dir: &Path,
    report: &RunReport,
    took: Option<std::time::Duration>,
) -> Result<Vec<AlertDelivery>> {
    let store = SyncStore::open(state_dir, &spec.sync.id)?;
    let was_failing = store.meta(STATE_KEY)?.as_deref() == Some(FAILING);
    let wanted = alerts_for(spec, report, was_failing, took);
    let mut sent = Vec::new();
    let mut failure_reached_someone = spec.alerts.is_empty();
    for alert in &wanted {
        let deliveries = deliver(&spec.alerts, alert);
        if alert.kind == AlertKind::Failure && deliveries.iter().any(|d| d.ok) {
            failure_reached_someone = true;
        }
        sent.extend(deliveries);
    }
    history::record_alerts(&store, Some(report.run_id), &sent)?;
    let next_state = match (report.succeeded(), report.error_code) {
        (true, _) => Some(HEALTHY),
        (false, Some(crate::error::ErrorCode::Cancelled)) => None,
        (false, _) if was_failing || failure_reached_someone => Some(FAILING),
        (false, _) => None,
    };
    if let Some(state) = next_state {
        crate::store::write_meta(&store.conn, STATE_KEY, state).map_err(|e| store.err(e))?;
    }
    Ok(sent)
}

/// `dropsync alert test`: a test message on every channel, recorded in the
/// sync's history without a run.
pub fn send_test(spec: &SyncSpec, state_dir: &Path) -> Result<Vec<AlertDelivery>> {
    let alert = Alert {
        kind: AlertKind::Test,
        sync_id: spec.sync.id.clone(),
        sync_file: Some(spec.file.display().to_string()),
        model_name: spec.model.name.clone(),
        run_id: None,
        at: Utc::now(),
        message: "test alert: if you read this, this channel works".into(),
    };
    let sent = deliver(&spec.alerts, &alert);
    let store = SyncStore::open(state_dir, &spec.sync.id)?;
    history::record_alerts(&store, None, &sent)?;
    Ok(sent)
}

fn deliver(channels: &[ChannelSpec], alert: &Alert) -> Vec<AlertDelivery> {
    if channels.is_empty() {
        return Vec::new();
    }
    let at = Utc::now();
    alerts::send_all(channels, alert)
        .into_iter()
        .map(|o| {
            if !o.ok {
                tracing::warn!(channel = %o.channel, error = o.error.as_deref().unwrap_or(""), "alert not delivered");
            }
            AlertDelivery {
                kind: alert.kind,
                channel: format!("#{} {}", o.index, o.channel),
                ok: o.ok,
                attempts: o.attempts,
                error: o.error,
                at,
            }
        })
        .collect()
}
