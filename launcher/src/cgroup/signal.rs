//! Signalling the processes of a cgroup by pid without hitting another process that reused a
//! pid meanwhile.

use rustix::fd::OwnedFd;
use rustix::process::{Pid, PidfdFlags, pidfd_open};

/// Sends signal `sig` (real-time ones included) to each pid that `list` gives (a cgroup's
/// `cgroup.procs`, read afresh on each call); returns how many were signalled.
///
/// A pid read from cgroup.procs may be reused by an unrelated process before the signal is
/// sent. A pidfd pins the process it was opened for: once one is held, the pid still being
/// listed means it is this cgroup's process that the pidfd names.
pub fn send(list: &dyn Fn() -> Vec<u32>, sig: i32) -> usize {
    let pidfds: Vec<(u32, OwnedFd)> = list()
        .into_iter()
        .filter_map(|pid| {
            let p = Pid::from_raw(i32::try_from(pid).ok()?)?;
            Some((pid, pidfd_open(p, PidfdFlags::empty()).ok()?))
        })
        .collect();
    let listed = list();
    pidfds
        .iter()
        .filter(|(pid, fd)| listed.contains(pid) && crate::sys::signals::send_any(fd, sig).is_ok())
        .count()
}
