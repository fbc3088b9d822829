//! Starting init: `clone3` into new namespaces, then, in the child, only async-signal-safe
//! system calls until `execveat` of the sealed init memfd.
//!
//! The child inherits the plan pipe as fd 3 and the status pipe as fd 4 (init's contract).
//! Unless it is to outlive the launcher (`Options::detach`: OCI `create`, `exec --detach`),
//! it asks for SIGKILL when the launcher dies, and checks the launcher is still there after
//! asking, so a launcher killed at any moment leaves nothing behind: init dies, and with it
//! its whole pid namespace. A detached child is found again through the state directory.

use std::io;

use nucleus_shared::status::{StatusRecord, Step};
use rustix::fd::{AsRawFd, BorrowedFd, FromRawFd, OwnedFd};

/// The fds init expects (`nucleus_shared::fds`).
const PLAN_FD: i32 = nucleus_shared::fds::PLAN_FD as i32;
const STATUS_FD: i32 = nucleus_shared::fds::STATUS_FD as i32;
const START_FD: i32 = nucleus_shared::fds::START_FD as i32;
const CONSOLE_FD: i32 = nucleus_shared::fds::CONSOLE_FD as i32;
/// Sources must lie above every number of the contract.
const LAST_CONTRACT_FD: i32 = nucleus_shared::fds::FIRST_FREE as i32 - 1;

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
/// into 3 to 6 cannot overwrite one of its sources.
pub fn above_contract(fd: OwnedFd) -> io::Result<OwnedFd> {
    if fd.as_raw_fd() > LAST_CONTRACT_FD {
        return Ok(fd);
    }
    Ok(rustix::io::fcntl_dupfd_cloexec(&fd, LAST_CONTRACT_FD + 1)?)
}

/// The fds the child works with: init's memfd, both ends of the plan pipe and of the status
/// pipe (the plan's write end and the status's read end are the launcher's; the child closes
/// its copies, so that a launcher gone before writing the plan ends the child's wait for it,
/// and so that it can tell whether the launcher still holds the status pipe).
pub struct ChildFds<'a> {
    pub init: BorrowedFd<'a>,
    pub plan: BorrowedFd<'a>,
    pub plan_wr: BorrowedFd<'a>,
    pub status_rd: BorrowedFd<'a>,
    pub status_wr: BorrowedFd<'a>,
    /// init's `START_FD`, for a plan that awaits `start`.
    pub start: Option<BorrowedFd<'a>>,
    /// init's `CONSOLE_FD`, for a `terminal` workload.
    pub console: Option<BorrowedFd<'a>>,
}

/// How the child relates to the sandbox and to the launcher.
#[derive(Clone, Copy)]
pub struct Options<'a> {
    /// Join the namespaces (`CLONE_NEW*` bits) of the process behind this pidfd first (`exec`
    /// into a running sandbox); the namespaces to create are then none.
    pub enter: Option<(BorrowedFd<'a>, u64)>,
    /// The child outlives the launcher (OCI `create`, `exec --detach`): no SIGKILL when the
    /// launcher exits.
    pub detach: bool,
}

/// `CLONE_INTO_CGROUP` (Linux 5.7): `clone_args.cgroup` is an fd of the child's cgroup v2.
const CLONE_INTO_CGROUP: u64 = 0x2_0000_0000;

/// Which cgroups the child starts in.
pub enum Cgroup<'a> {
    /// The launcher's own.
    Inherit,
    /// Born in this cgroup v2 directory (`CLONE_INTO_CGROUP`, Linux 5.7).
    Into(BorrowedFd<'a>),
    /// Moves itself, first thing, by writing `0` to each of these files, opened for writing
    /// by the launcher: cgroup v1 `tasks` files (or v2 `cgroup.procs` before Linux 5.7).
    ///
    /// On v1, a process moved by its pid (`cgroup.procs`, or `tasks` with another's pid)
    /// takes the kernel's global `cgroup_threadgroup_rwsem` for writing, which waits for an
    /// RCU grace period (5-15 ms here) unless a move happened just before; a thread moving
    /// itself through `tasks` does not (current kernels; older ones take the lock either
    /// way), and costs about 20 us per hierarchy.
    Join(&'a [BorrowedFd<'a>]),
}

/// Clones a child into the namespaces in `ns_flags` (and the cgroup of `cgroup`) that executes
/// `init`; returns its pidfd and pid.
///
/// A new cgroup namespace takes its root from the cgroup its creator is in at that moment. So
/// that the sandbox's is its own cgroup and not the launcher's, a child bound for another
/// cgroup makes it itself, by `unshare`, once it is there.
///
/// If joining cgroup `i` of [`Cgroup::Join`] fails, the child reports `Step::ExecInit` with
/// `op` = `i` on the status pipe.
///
/// All fds must be close-on-exec and numbered above 4 (see [`above_contract`]).
pub fn spawn_init(
    ns_flags: u64,
    fds: &ChildFds<'_>,
    cgroup: Cgroup<'_>,
    opts: Options<'_>,
) -> io::Result<(OwnedFd, u32)> {
    let in_userns = ns_flags & libc::CLONE_NEWUSER as u64 != 0;
    let enter = opts.enter.map(|(fd, flags)| (fd.as_raw_fd(), flags as i32));
    let new_cgroupns = ns_flags & libc::CLONE_NEWCGROUP as u64 != 0;
    let (ns_flags, into, join, late_cgroupns): (_, _, &[BorrowedFd<'_>], _) = match cgroup {
        Cgroup::Inherit => (ns_flags, None, &[], false),
        Cgroup::Into(fd) => (
            ns_flags & !(libc::CLONE_NEWCGROUP as u64),
            Some(fd.as_raw_fd()),
            &[],
            new_cgroupns,
        ),
        Cgroup::Join(files) => (
            ns_flags & !(libc::CLONE_NEWCGROUP as u64),
            None,
            files,
            new_cgroupns,
        ),
    };
    let init = fds.init.as_raw_fd();
    let plan = fds.plan.as_raw_fd();
    let status = [fds.status_wr.as_raw_fd(), fds.status_rd.as_raw_fd()];
    let plan_wr = fds.plan_wr.as_raw_fd();
    let extra = [
        fds.start.map_or(-1, |f| f.as_raw_fd()),
        fds.console.map_or(-1, |f| f.as_raw_fd()),
    ];
    debug_assert!(
        [init, plan, plan_wr, status[0], status[1]]
            .iter()
            .chain(extra.iter().filter(|&&fd| fd >= 0))
            .chain(enter.iter().map(|(fd, _)| fd))
            .chain(
                join.iter()
                    .map(|f| f.as_raw_fd())
                    .collect::<Vec<_>>()
                    .iter()
            )
            .all(|&fd| fd > LAST_CONTRACT_FD)
    );
    // Everything the child needs is built before the clone: it may not allocate.
    let argv: [*const libc::c_char; 2] = [c"nucleus-init".as_ptr(), std::ptr::null()];
    let envp: [*const libc::c_char; 1] = [std::ptr::null()];

    let mut pidfd: libc::c_int = -1;
    let args = CloneArgs {
        flags: ns_flags
            | libc::CLONE_PIDFD as u64
            | if into.is_some() { CLONE_INTO_CGROUP } else { 0 },
        pidfd: &raw mut pidfd as u64,
        exit_signal: libc::SIGCHLD as u64,
        cgroup: into.map_or(0, |fd| fd as u64),
        ..Default::default()
    };
    // SAFETY: `args` is a valid clone_args of the size passed; with no CLONE_VM and no stack
    // the child runs on its own copy of this address space, as after fork(2). Another thread
    // (a detached sandbox's log drain) may hold a lock at this moment, which the child's copy
    // would never release: the child therefore takes none (no allocation, no stdio, only the
    // raw system calls below).
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
        unsafe {
            child(
                init,
                [plan, plan_wr],
                status,
                extra,
                (in_userns, enter, opts.detach),
                (join, late_cgroupns),
                &argv,
                &envp,
            )
        }
    }
    // SAFETY: CLONE_PIDFD stored a new fd that only we own.
    Ok((unsafe { OwnedFd::from_raw_fd(pidfd) }, ret as u32))
}

/// # Safety
/// Only in the child of `spawn_init`; the fds are open and the arrays NULL-terminated.
#[allow(clippy::too_many_arguments)]
unsafe fn child(
    init: i32,
    [plan, plan_wr]: [i32; 2],
    [status, status_rd]: [i32; 2],
    [start, console]: [i32; 2],
    (in_userns, enter, detach): (bool, Option<(i32, i32)>, bool),
    (join, late_cgroupns): (&[BorrowedFd<'_>], bool),
    argv: &[*const libc::c_char; 2],
    envp: &[*const libc::c_char; 1],
) -> ! {
    // SAFETY: plain syscalls on fds this process owns; the pointers passed to poll, execveat
    // and write point into this stack frame's live values and the caller's C strings.
    unsafe {
        // dup2 also clears close-on-exec on the new numbers; numbers of the contract not
        // used here must not hold anything else.
        if libc::dup2(plan, PLAN_FD) < 0 || libc::dup2(status, STATUS_FD) < 0 {
            libc::_exit(125);
        }
        for (src, dst) in [(start, START_FD), (console, CONSOLE_FD)] {
            if src < 0 {
                libc::close(dst);
            } else if libc::dup2(src, dst) < 0 {
                report_and_exit(Step::ExecInit);
            }
        }
        libc::close(status_rd);
        libc::close(plan_wr);
        // Into the sandbox's cgroups before anything else.
        for (i, f) in join.iter().enumerate() {
            if libc::write(f.as_raw_fd(), c"0".as_ptr().cast(), 1) != 1 {
                report_op_and_exit(Step::ExecInit, i as u16);
            }
        }
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
        if let Some((pidfd, flags)) = enter {
            // All of the sandbox's namespaces at once (Linux 5.8); its pid namespace holds
            // init's children, not init itself.
            if libc::setns(pidfd, flags) != 0 {
                report_and_exit(Step::ExecInit);
            }
            // Root of the sandbox's user namespace, or execve would drop every capability.
            if flags & libc::CLONE_NEWUSER != 0
                && (libc::setresgid(0, 0, 0) != 0 || libc::setresuid(0, 0, 0) != 0)
            {
                report_and_exit(Step::ExecInit);
            }
        }
        // In our cgroups now: they become the root of the new cgroup namespace.
        if late_cgroupns && libc::unshare(libc::CLONE_NEWCGROUP) != 0 {
            report_and_exit(Step::ExecInit);
        }
        // A session of its own: a signal to the launcher's process group (^C, a terminal's
        // hangup) reaches the launcher alone, which relays it once; init in that group too
        // would forward a second copy to the workload.
        if libc::setsid() < 0 {
            report_and_exit(Step::ExecInit);
        }
        // After any change of credentials, which would clear it.
        if !detach {
            libc::prctl(libc::PR_SET_PDEATHSIG, libc::SIGKILL as libc::c_ulong);
        }
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
    // SAFETY: the caller's guarantee is ours.
    unsafe { report_op_and_exit(step, StatusRecord::NO_OP) }
}

/// As [`report_and_exit`], naming `op`.
///
/// # Safety
/// Only in the child of `spawn_init`, with the status pipe on `STATUS_FD`.
unsafe fn report_op_and_exit(step: Step, op: u16) -> ! {
    // SAFETY: errno is thread-local and valid to read; `record` lives across the write.
    unsafe {
        let errno = *libc::__errno_location();
        let record = StatusRecord {
            step,
            op,
            errno: errno as u32,
        }
        .encode();
        libc::write(STATUS_FD, record.as_ptr().cast(), record.len());
        libc::_exit(125)
    }
}
