//! Static checks of `[[alerts]]` for `dropsync check` and load time: the same
//! checks `send_all` makes before sending, all reported at once.

use super::{http, send, ChannelSpec};

/// Every problem in `channels`, each naming the alert (`#1`-based), the key
/// and the fix. Empty when all are usable. `env:` references are read now,
/// so run it in the environment the scheduler will run in.
pub fn validate(channels: &[ChannelSpec]) -> Vec<String> {
    let mut problems: Vec<String> = channels
        .iter()
        .enumerate()
        .filter_map(|(i, spec)| send::prepare(i + 1, spec).err())
        .flatten()
        .map(|e| e.to_string())
        .collect();
    if !channels.is_empty() {
        if let Err(e) = http::check_extra_ca(super::Settings::from_env().extra_ca.as_deref()) {
            problems.push(e.to_string());
        }
    }
    problems
}
