//! Starting init: `clone3` into new namespaces, then, in the child, only async-signal-safe
//! system calls until `execveat` of the sealed init memfd.
//!
//! The child inherits the plan pipe as fd 3 and the status pipe as fd 4 (init's contract).
//! It asks for SIGKILL when the launcher dies, and checks the launcher is still there after
//! asking, so a launcher killed at any moment leaves nothing behind: init dies, and with it
//! its whole pid namespace.

use std::io;

use nucleus_shared::status::{StatusRecord, Step};
use rustix::fd::{AsRawFd, BorrowedFd, FromRawFd, OwnedFd};

/// The fds init expects (see `nucleus-init`'s `PLAN_FD` and `STATUS_FD`).
const PLAN_FD: i32 = 3;
const STATUS_FD: i32 = 4;

/// `struct clone_args` up to `cgroup` (CLONE_ARGS_SIZE_VER2, Linux 5.7).
#[repr(C)]
#[derive(Default)]
struct CloneArgs {
    flags: u64,
    pidfd: u64,
    child_tid: u64,
    parent_tid: u64,
    exit_signal: u64,
    stack: u64,
    stack_size: u64,
    tls: u64,
    set_tid: u64,
    set_tid_size: u64,
    cgroup: u64,
}

/// Moves `fd` to a number above the ones init's contract uses, so that the child's `dup2`
/// into 3 and 4 cannot overwrite one of its sources.
pub fn above_contract(fd: OwnedFd) -> io::Result<OwnedFd> {
    if fd.as_raw_fd() > STATUS_FD {
        return Ok(fd);
    }
    Ok(rustix::io::fcntl_dupfd_cloexec(&fd, STATUS_FD + 1)?)
}

/// The fds the child works with: init's memfd, the plan pipe, and both ends of the status pipe
/// (the read end is the launcher's; the child closes its copy so that it can tell whether the
/// launcher still holds it).
pub struct ChildFds<'a> {
    pub init: BorrowedFd<'a>,
    pub plan: BorrowedFd<'a>,
    pub status_rd: BorrowedFd<'a>,
    pub status_wr: BorrowedFd<'a>,
}

/// Clones a child into the namespaces in `ns_flags` that executes `init`; returns its pidfd
/// and pid.
///
/// All fds must be close-on-exec and numbered above 4 (see [`above_contract`]).
pub fn spawn_init(ns_flags: u64, fds: &ChildFds<'_>) -> io::Result<(OwnedFd, u32)> {
    let in_userns = ns_flags & libc::CLONE_NEWUSER as u64 != 0;
    let init = fds.init.as_raw_fd();
    let plan = fds.plan.as_raw_fd();
    let status = [fds.status_wr.as_raw_fd(), fds.status_rd.as_raw_fd()];
    debug_assert!(
        [init, plan, status[0], status[1]]
            .iter()
            .all(|&fd| fd > STATUS_FD)
    );
    // Everything the child needs is built before the clone: it may not allocate.
    let argv: [*const libc::c_char; 2] = [c"nucleus-init".as_ptr(), std::ptr::null()];
    let envp: [*const libc::c_char; 1] = [std::ptr::null()];

    let mut pidfd: libc::c_int = -1;
    let args = CloneArgs {
        flags: ns_flags | libc::CLONE_PIDFD as u64,
        pidfd: &raw mut pidfd as u64,
        exit_signal: libc::SIGCHLD as u64,
        ..Default::default()
    };
    // SAFETY: `args` is a valid clone_args of the size passed; with no CLONE_VM and no stack
    // the child runs on its own copy of this address space, as after fork(2). The launcher is
    // single-threaded, so no lock can be held by a thread that does not exist in the child.
    let ret = unsafe {
        libc::syscall(
            libc::SYS_clone3,
            &raw const args,
            std::mem::size_of::<CloneArgs>(),
        )
    };
    if ret < 0 {
        return Err(io::Error::last_os_error());
    }
    if ret == 0 {
        // SAFETY: in the child; `child` makes only async-signal-safe calls and never returns.
        unsafe { child(init, plan, status, in_userns, &argv, &envp) }
    }
    // SAFETY: CLONE_PIDFD stored a new fd that only we own.
    Ok((unsafe { OwnedFd::from_raw_fd(pidfd) }, ret as u32))
}

/// # Safety
/// Only in the child of `spawn_init`; the fds are open and the arrays NULL-terminated.
unsafe fn child(
    init: i32,
    plan: i32,
    [status, status_rd]: [i32; 2],
    in_userns: bool,
    argv: &[*const libc::c_char; 2],
    envp: &[*const libc::c_char; 1],
) -> ! {
    // SAFETY: plain syscalls on fds this process owns; the pointers passed to poll, execveat
    // and write point into this stack frame's live values and the caller's C strings.
    unsafe {
        // dup2 also clears close-on-exec on the new numbers.
        if libc::dup2(plan, PLAN_FD) < 0 || libc::dup2(status, STATUS_FD) < 0 {
            libc::_exit(125);
        }
        libc::close(status_rd);
        if in_userns {
            // The launcher writes our id maps, then the plan: wait for the plan (without
            // reading it), then become root of the new namespace. Only then execve keeps the
            // capabilities init needs there.
            let mut plan_ready = libc::pollfd {
                fd: PLAN_FD,
                events: libc::POLLIN,
                revents: 0,
            };
            while libc::poll(&mut plan_ready, 1, -1) < 0 {}
            if libc::setresgid(0, 0, 0) != 0 || libc::setresuid(0, 0, 0) != 0 {
                report_and_exit(Step::ExecInit);
            }
        }
        // After any change of credentials, which would clear it.
        libc::prctl(libc::PR_SET_PDEATHSIG, libc::SIGKILL as libc::c_ulong);
        // The launcher may have died before the line above: then the status pipe has no reader.
        let mut pfd = libc::pollfd {
            fd: STATUS_FD,
            events: 0,
            revents: 0,
        };
        if libc::poll(&mut pfd, 1, 0) < 0 || pfd.revents & libc::POLLERR != 0 {
            libc::_exit(125);
        }
        libc::syscall(
            libc::SYS_execveat,
            init,
            c"".as_ptr(),
            argv.as_ptr(),
            envp.as_ptr(),
            libc::AT_EMPTY_PATH,
        );
        report_and_exit(Step::ExecInit)
    }
}

/// Reports the errno of the call that just failed on the status pipe and exits 125.
///
/// # Safety
/// Only in the child of `spawn_init`, with the status pipe on `STATUS_FD`.
unsafe fn report_and_exit(step: Step) -> ! {
    // SAFETY: errno is thread-local and valid to read; `record` lives across the write.
    unsafe {
        let errno = *libc::__errno_location();
        let record = StatusRecord {
            step,
            op: StatusRecord::NO_OP,
            errno: errno as u32,
        }
        .encode();
        libc::write(STATUS_FD, record.as_ptr().cast(), record.len());
        libc::_exit(125)
    }
}
