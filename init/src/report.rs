//! Failure reports on the status pipe. init never formats text: it names the step, the plan
//! operation and the errno, and the launcher, which knows the plan, writes the sentence.

use nucleus_shared::status::{StatusRecord, Step};
use rustix::io::Errno;

use crate::{STATUS_FD, sys};

/// Exit code of a sandbox whose runtime failed before the workload ran (docker's 125).
pub const RUNTIME_FAILED: i32 = 125;

pub fn fail(step: Step, op: u16, errno: Errno) -> ! {
    fail_code(step, op, errno.raw_os_error() as u32)
}

pub fn fail_code(step: Step, op: u16, code: u32) -> ! {
    send(step, op, code);
    sys::exit_group(RUNTIME_FAILED)
}

/// Writes one record; false when no launcher listens any more (after an OCI `create`).
pub fn send(step: Step, op: u16, code: u32) -> bool {
    let record = StatusRecord {
        step,
        op,
        errno: code,
    }
    .encode();
    // Every report in the workload child comes right before its exit.
    sys::signals::block_pipe();
    rustix::io::write(sys::fds::borrow(STATUS_FD), &record).is_ok()
}

/// One line on stderr, for the one failure a caller without a status pipe must still hear of:
/// a workload that cannot be started after `start` (conmon shows the container's stderr).
pub fn say(parts: &[&[u8]]) {
    let err = sys::fds::borrow(2);
    for p in parts {
        let _ = rustix::io::write(err, p);
    }
}
