//! A sync's health as its runs say it, for the desktop notifications and
//! the tray: a change is news (it started failing, it works again), a
//! second failure in a row is not. Cancelled and interrupted runs say
//! nothing either way.

use crate::error::ErrorCode;
use crate::history::{self, RunReport, RunStatus};
use crate::store::{self, SyncStore};
use serde::Serialize;
use std::path::Path;

/// A finished run, as far as the sync's health goes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    Succeeded,
    Failed,
    /// Cancelled, interrupted or still running: says nothing about health.
    Neutral,
}

impl Outcome {
    pub fn of(status: RunStatus, error_code: Option<ErrorCode>) -> Outcome {
        match status {
            RunStatus::Success => Outcome::Succeeded,
            RunStatus::Failed if error_code == Some(ErrorCode::Cancelled) => Outcome::Neutral,
            RunStatus::Failed => Outcome::Failed,
            RunStatus::Interrupted | RunStatus::Running => Outcome::Neutral,
        }
    }

    pub fn of_report(r: &RunReport) -> Outcome {
        Outcome::of(r.status, r.error_code)
    }
}

/// What a run changed in its sync's health.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub enum HealthChange {
    StartedFailing,
    Recovered,
}

/// The change a run makes, given the sync's last outcome that said
/// something (`None`: it never ran, or only neutral runs). A sync's first
/// run failing is news; a second failure in a row is not.
pub fn change(previous: Option<Outcome>, now: Outcome) -> Option<HealthChange> {
    match (previous, now) {
        (Some(Outcome::Failed), Outcome::Failed) => None,
        (_, Outcome::Failed) => Some(HealthChange::StartedFailing),
        (Some(Outcome::Failed), Outcome::Succeeded) => Some(HealthChange::Recovered),
        _ => None,
    }
}

/// Neutral runs are looked through up to this many runs back.
const LOOK_BACK: usize = 20;

/// The sync's last outcome that said something, from its history, before
/// a run starts. Never creates state for a sync that never ran.
pub fn previous_outcome(state_dir: &Path, sync_id: &str) -> Option<Outcome> {
    if !store::exists(state_dir, sync_id) {
        return None;
    }
    let store = SyncStore::open(state_dir, sync_id).ok()?;
    let runs = history::list(&store, sync_id, LOOK_BACK).ok()?;
    runs.iter()
        .map(Outcome::of_report)
        .find(|o| *o != Outcome::Neutral)
}

#[cfg(test)]
mod tests {
    use super::*;
    use Outcome::*;

    #[test]
    fn changes_once_per_change() {
        assert_eq!(change(None, Failed), Some(HealthChange::StartedFailing));
        assert_eq!(
            change(Some(Succeeded), Failed),
            Some(HealthChange::StartedFailing)
        );
        assert_eq!(change(Some(Failed), Failed), None);
        assert_eq!(
            change(Some(Failed), Succeeded),
            Some(HealthChange::Recovered)
        );
        assert_eq!(change(Some(Succeeded), Succeeded), None);
        assert_eq!(change(None, Succeeded), None);
        // A cancelled run changes nothing either way.
        assert_eq!(change(Some(Failed), Neutral), None);
        assert_eq!(change(Some(Succeeded), Neutral), None);
    }

    #[test]
    fn cancel_and_interruption_are_neutral() {
        assert_eq!(
            Outcome::of(RunStatus::Failed, Some(ErrorCode::Cancelled)),
            Neutral
        );
        assert_eq!(
            Outcome::of(RunStatus::Failed, Some(ErrorCode::Query)),
            Failed
        );
        assert_eq!(Outcome::of(RunStatus::Failed, None), Failed);
        assert_eq!(Outcome::of(RunStatus::Interrupted, None), Neutral);
        assert_eq!(Outcome::of(RunStatus::Success, None), Succeeded);
    }

    #[test]
    fn previous_outcome_of_a_sync_that_never_ran_is_none() {
        let dir = tempfile::tempdir().unwrap();
        assert_eq!(previous_outcome(dir.path(), "never"), None);
        // And looking did not create its state.
        assert!(!store::exists(dir.path(), "never"));
    }
}
