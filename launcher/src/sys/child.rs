//! A helper program (runsc) started with `std::process::Command`, tied to the launcher: it
//! dies with the launcher, and it starts inside the sandbox's cgroups.

use std::io;
use std::os::unix::process::CommandExt;
use std::process::Command;

use rustix::fd::{AsRawFd, OwnedFd};

/// Makes `cmd`'s child get SIGKILL when the launcher dies, and write `0` into each of `join`
/// (cgroup `tasks` or `cgroup.procs` files, opened close-on-exec by the caller) before it
/// executes, so that it and everything it starts are in the sandbox's cgroups from the first
/// instruction on.
pub fn tie_to_launcher(cmd: &mut Command, join: Vec<OwnedFd>) {
    let parent = std::process::id();
    // SAFETY: the closure runs in the forked child before exec and only makes async-signal-safe
    // system calls (prctl, getppid, setsid, write) on memory it owns; it allocates nothing. `join` is
    // moved into the closure, so its fds stay open until the child executes (close-on-exec).
    unsafe {
        cmd.pre_exec(move || {
            if libc::prctl(
                libc::PR_SET_PDEATHSIG,
                libc::SIGKILL as libc::c_ulong,
                0,
                0,
                0,
            ) != 0
            {
                return Err(io::Error::last_os_error());
            }
            // The launcher may have died before the prctl: nothing would kill us then.
            if libc::getppid() as u32 != parent {
                return Err(io::Error::from_raw_os_error(libc::ESRCH));
            }
            // A session of its own: a signal to the launcher's process group (a terminal's
            // hangup, ^C, a closed ssh session) reaches the launcher alone, which relays it
            // once, instead of killing runsc and its gofer before the workload sees it.
            if libc::setsid() < 0 {
                return Err(io::Error::last_os_error());
            }
            for fd in &join {
                if libc::write(fd.as_raw_fd(), b"0".as_ptr().cast(), 1) != 1 {
                    return Err(io::Error::last_os_error());
                }
            }
            Ok(())
        });
    }
}
