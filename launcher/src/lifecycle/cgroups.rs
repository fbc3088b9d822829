//! The cgroups of a sandbox that outlives its launcher, through the record its state keeps
//! (`crate::cgroup::Kept`): placing an `exec` in them, signalling and removing them.

use serde_json::Value;

/// Kills what is left in the recorded cgroups and removes them; a failure is reported, not
/// fatal: the state goes in any case, and the stale sweep of a later start retries.
pub fn remove(record: &Value) {
    if let Err(e) = crate::cgroup::remove_recorded(record) {
        tracing::warn!("{e}");
    }
}

/// Sends `sig` to every process in the recorded cgroups.
pub fn signal_all(record: &Value, sig: i32) {
    if let Err(e) = crate::cgroup::kill_all(record, sig) {
        tracing::warn!("{e}");
    }
}
