//! PID 1 after the workload starts, as in tini and catatonit: take signals one at a time,
//! reap every child that has exited (orphans of double forks included), forward the rest to
//! the workload, and exit with its status once it ends. Never bail out while it runs.

use crate::sys::exit_group;
use rustix::process::{Pid, WaitOptions, WaitStatus};

use crate::sys::signals;

const SIGCHLD: u32 = 17;
/// Job-control stops make no sense for PID 1; catatonit ignores them too.
const IGNORED: [u32; 3] = [20, 21, 22]; // SIGTSTP, SIGTTIN, SIGTTOU

pub fn run(workload: Pid) -> ! {
    loop {
        let Ok(signo) = signals::wait_any() else {
            continue;
        };
        if signo == SIGCHLD {
            if let Some(code) = reap(workload) {
                exit_group(code)
            }
        } else if !IGNORED.contains(&signo) {
            // Real-time signals too, which rustix's `Signal` does not name.
            let _ = signals::send(workload, signo);
        }
    }
}

/// Reaps all exited children; returns the exit code once the workload is among them.
fn reap(workload: Pid) -> Option<i32> {
    let mut code = None;
    // Any child (wait4 -1): `waitpid(None)` would be only those of init's own process group,
    // which the workload (a session of its own) and job-control groups are not.
    while let Ok(Some((pid, status))) = rustix::process::wait(WaitOptions::NOHANG) {
        if pid == workload {
            code = Some(exit_code(status));
        }
    }
    code
}

/// The workload's own code, or 128 + n when signal n killed it (the shells' convention).
fn exit_code(status: WaitStatus) -> i32 {
    match (status.exit_status(), status.terminating_signal()) {
        (Some(code), _) => code,
        (None, Some(sig)) => 128 + sig,
        (None, None) => 128,
    }
}
