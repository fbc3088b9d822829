//! Waiting for a process we do not parent (a sandbox's init, a monitor): through its pidfd,
//! which becomes readable when it exits.

use std::time::{Duration, Instant};

use rustix::event::{PollFd, PollFlags};
use rustix::fd::OwnedFd;

use crate::state::Init;

/// True once the process has exited, false if `limit` passed first.
pub fn exited(pidfd: &OwnedFd, limit: Duration) -> bool {
    let deadline = Instant::now() + limit;
    loop {
        let left = deadline.saturating_duration_since(Instant::now());
        let ts = rustix::event::Timespec {
            tv_sec: left.as_secs() as i64,
            tv_nsec: i64::from(left.subsec_nanos()),
        };
        let mut fds = [PollFd::new(pidfd, PollFlags::IN)];
        match rustix::event::poll(&mut fds, Some(&ts)) {
            Ok(0) => return false,
            Ok(_) => return true,
            Err(rustix::io::Errno::INTR) => {}
            Err(_) => return true,
        }
    }
}

/// Waits until `init` is gone (or a zombie), at most `limit`.
pub fn gone(init: &Init, limit: Duration) -> bool {
    match init.pidfd() {
        None => true,
        Some(fd) => exited(&fd, limit) || !init.alive(),
    }
}
