//! Waiting for `runsc run` while relaying signals to the workload.
//!
//! `runsc run` does not forward signals itself (they would kill it, and the sandbox with it),
//! so the launcher keeps them blocked, reads them from its signalfd as the native backend
//! does, and hands each to `runsc kill`, which delivers it to the container's first process,
//! the workload. A signal that arrives before the container runs is retried until it can be
//! delivered, for a while.

use std::os::unix::process::ExitStatusExt;
use std::process::Child;
use std::time::{Duration, Instant};

use rustix::event::{PollFd, PollFlags, Timespec};
use rustix::fd::OwnedFd;

use crate::error::Error;
use crate::sys;

/// How often an undelivered signal is retried, and for how long.
const RETRY_EVERY: Duration = Duration::from_millis(20);
const RETRY_FOR: Duration = Duration::from_secs(10);

/// The exit code of a finished `runsc run`: its own, or 128 + n if signal n killed it.
pub fn code(status: std::process::ExitStatus) -> i32 {
    status
        .code()
        .or_else(|| status.signal().map(|s| 128 + s))
        .unwrap_or(128)
}

/// Waits for `child` to exit, relaying each signal read from `signals` through `relay`.
pub fn wait(
    child: &mut Child,
    signals: &OwnedFd,
    mut relay: impl FnMut(i32) -> Result<(), String>,
) -> Result<i32, Error> {
    let pid = rustix::process::Pid::from_child(child);
    let pidfd = rustix::process::pidfd_open(pid, rustix::process::PidfdFlags::empty())
        .map_err(|e| Error::io("watching runsc", e.into()))?;
    let mut pending: Vec<(i32, Instant)> = Vec::new();
    loop {
        let timeout = (!pending.is_empty()).then(|| Timespec {
            tv_sec: 0,
            tv_nsec: RETRY_EVERY.as_nanos() as _,
        });
        let mut fds = [
            PollFd::new(&pidfd, PollFlags::IN),
            PollFd::new(signals, PollFlags::IN),
        ];
        match rustix::event::poll(&mut fds, timeout.as_ref()) {
            Ok(_) | Err(rustix::io::Errno::INTR) => {}
            Err(e) => return Err(Error::io("waiting for the sandbox", e.into())),
        }
        let (exited, signalled) = (!fds[0].revents().is_empty(), !fds[1].revents().is_empty());
        if signalled {
            while let Some(sig) = sys::signals::read_one(signals) {
                pending.push((sig, Instant::now()));
            }
        }
        if exited {
            let status = child
                .wait()
                .map_err(|e| Error::io("collecting runsc's exit status", e))?;
            return Ok(code(status));
        }
        pending.retain(|&(sig, since)| {
            tracing::debug!(sig, "forwarding signal through runsc kill");
            match relay(sig) {
                Ok(()) => false,
                Err(why) if since.elapsed() < RETRY_FOR => {
                    tracing::debug!(sig, "runsc kill failed, will retry: {why}");
                    true
                }
                Err(why) => {
                    tracing::warn!("signal {sig} not delivered to the workload: {why}");
                    false
                }
            }
        });
    }
}
