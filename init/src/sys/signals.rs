//! Signal state of PID 1 and of the workload it starts.
//!
//! init blocks every signal and takes them one at a time with `rt_sigtimedwait` (as tini
//! does): no handlers, one syscall per signal (a signalfd only while waiting for `start`).
//! The workload gets a clean state: nothing blocked, nothing ignored.

use linux_raw_sys::general::{
    __NR_rt_sigaction, __NR_rt_sigprocmask, __NR_rt_sigtimedwait, SIG_BLOCK, SIG_SETMASK,
};
use rustix::io::Errno;

use super::raw::syscall4;

/// The kernel's sigset for rt_* calls: one bit per signal, signal n at bit n-1.
type SigSet = u64;
const SIGSET_SIZE: usize = core::mem::size_of::<SigSet>();
const ALL: SigSet = !0;
const SIGKILL: u32 = 9;
const SIGSTOP: u32 = 19;
const NSIG: u32 = 64;

/// The kernel's `struct sigaction` layout on x86_64 and aarch64 (handler, flags, restorer, mask).
#[repr(C)]
struct KernelSigaction {
    handler: usize,
    flags: u64,
    restorer: usize,
    mask: SigSet,
}

/// Resets every disposition to default and blocks every signal.
///
/// Ignored dispositions survive `execve`: the launcher's std runtime ignores SIGPIPE, and a
/// shell may have ignored SIGHUP or SIGINT; none of that may reach the workload.
pub fn take_over_all_signals() -> Result<(), Errno> {
    let default = KernelSigaction {
        handler: 0,
        flags: 0,
        restorer: 0,
        mask: 0,
    };
    for sig in 1..=NSIG {
        if sig == SIGKILL || sig == SIGSTOP {
            continue;
        }
        // SAFETY: `default` is a valid kernel sigaction that outlives the call; the old action
        // is not requested (null). SIG_DFL installs no handler, so no code can run async.
        unsafe {
            syscall4(
                __NR_rt_sigaction,
                sig as usize,
                &raw const default as usize,
                0,
                SIGSET_SIZE,
            )
        }?;
    }
    set_mask(SIG_BLOCK, ALL)
}

/// Unblocks everything; called in the workload child before `execve`.
pub fn unblock_all() -> Result<(), Errno> {
    set_mask(SIG_SETMASK, 0)
}

/// Blocks SIGPIPE, so that a report to a launcher that is gone (an OCI `create` returns before
/// the workload starts) fails with EPIPE instead of killing the reporter.
pub fn block_pipe() {
    const SIGPIPE: u32 = 13;
    let _ = set_mask(SIG_BLOCK, 1 << (SIGPIPE - 1));
}

fn set_mask(how: u32, set: SigSet) -> Result<(), Errno> {
    // SAFETY: `set` is a valid sigset of the size passed, living across the call; the old mask
    // is not requested.
    unsafe {
        syscall4(
            __NR_rt_sigprocmask,
            how as usize,
            &raw const set as usize,
            0,
            SIGSET_SIZE,
        )
    }
    .map(drop)
}

/// Waits for any (blocked) signal and returns its number.
pub fn wait_any() -> Result<u32, Errno> {
    let set: SigSet = ALL;
    // siginfo_t is 128 bytes; only the number (the return value) is used.
    let mut info = [0u64; 16];
    // SAFETY: `set` and `info` are valid for the sizes the kernel reads and writes (8 and 128
    // bytes) for the duration of the call; a null timeout means wait without limit.
    unsafe {
        syscall4(
            __NR_rt_sigtimedwait,
            &raw const set as usize,
            info.as_mut_ptr() as usize,
            0,
            SIGSET_SIZE,
        )
    }
    .map(|signo| signo as u32)
}

/// What ended a wait of [`wait_readable_or_signal`].
pub enum Woken {
    Readable,
    Signal(u32),
}

/// Waits until `fd` is readable or a (blocked) signal is pending: a sandbox waiting for
/// `start` must still end on `kill`. A signalfd and ppoll, made for this one wait.
pub fn wait_readable_or_signal(fd: u32) -> Result<Woken, Errno> {
    use linux_raw_sys::general::{__NR_ppoll, __NR_signalfd4, O_CLOEXEC, POLLIN};
    let set: SigSet = ALL;
    // SAFETY: signalfd4 reads `set` (SIGSET_SIZE bytes), which lives across the call.
    let sfd = unsafe {
        syscall4(
            __NR_signalfd4,
            usize::MAX, // -1: a new signalfd
            &raw const set as usize,
            SIGSET_SIZE,
            O_CLOEXEC as usize, // SFD_CLOEXEC has the same value
        )
    }?;
    let woken = loop {
        // struct pollfd { int fd; short events; short revents; } twice.
        let mut fds: [(i32, i16, i16); 2] = [
            (fd as i32, POLLIN as i16, 0),
            (sfd as i32, POLLIN as i16, 0),
        ];
        // SAFETY: `fds` holds two pollfd structs the kernel reads and writes during the call;
        // null timeout and sigmask mean wait without limit, with the mask unchanged.
        match unsafe { syscall4(__NR_ppoll, fds.as_mut_ptr() as usize, 2, 0, 0) } {
            Err(Errno::INTR) => continue,
            Err(e) => break Err(e),
            Ok(_) => {}
        }
        if fds[1].2 != 0 {
            // struct signalfd_siginfo is 128 bytes; ssi_signo is its first u32.
            let mut info = [0u32; 32];
            // SAFETY: `info` is 128 writable bytes for the duration of the call.
            let read = unsafe {
                syscall4(
                    linux_raw_sys::general::__NR_read,
                    sfd,
                    info.as_mut_ptr() as usize,
                    128,
                    0,
                )
            };
            if let Ok(128) = read {
                break Ok(Woken::Signal(info[0]));
            }
        } else if fds[0].2 != 0 {
            break Ok(Woken::Readable);
        }
    };
    super::fds::close(sfd as u32);
    woken
}

/// Sends signal `signo` to `pid` (any number, real-time signals included).
pub fn send(pid: rustix::process::Pid, signo: u32) -> Result<(), Errno> {
    // SAFETY: kill takes no pointers; any pid and signal number are valid inputs to the kernel.
    unsafe {
        syscall4(
            linux_raw_sys::general::__NR_kill,
            pid.as_raw_nonzero().get() as usize,
            signo as usize,
            0,
            0,
        )
    }
    .map(drop)
}
