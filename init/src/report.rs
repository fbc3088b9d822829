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

/// Writes one record; a launcher that is gone cannot be told, so errors are ignored.
pub fn send(step: Step, op: u16, code: u32) {
    let record = StatusRecord {
        step,
        op,
        errno: code,
    }
    .encode();
    let _ = rustix::io::write(sys::fds::borrow(STATUS_FD), &record);
}
