//! The harness's raw system calls: signals to the launcher, and `pre_exec` hooks that give
//! the launcher a dirty start (leaked fds, ignored and blocked signals). All `unsafe` of the
//! harness is here.

use std::io;
use std::os::fd::{AsRawFd, RawFd};
use std::os::unix::process::CommandExt;
use std::process::Command;

pub fn is_root() -> bool {
    // SAFETY: geteuid takes no arguments and cannot fail.
    unsafe { libc::geteuid() == 0 }
}

pub fn send_signal(pid: u32, sig: i32) -> io::Result<()> {
    let pid = libc::pid_t::try_from(pid).map_err(io::Error::other)?;
    // SAFETY: kill takes no pointers; any pid and signal number are valid inputs.
    if unsafe { libc::kill(pid, sig) } != 0 {
        return Err(io::Error::last_os_error());
    }
    Ok(())
}

/// `sig` to every process of the process group `pgid` (as a terminal's hangup does).
pub fn send_signal_to_group(pgid: u32, sig: i32) -> io::Result<()> {
    let pgid = libc::pid_t::try_from(pgid).map_err(io::Error::other)?;
    // SAFETY: killpg takes no pointers; any group and signal number are valid inputs.
    if unsafe { libc::killpg(pgid, sig) } != 0 {
        return Err(io::Error::last_os_error());
    }
    Ok(())
}

/// Makes the launcher inherit `fd` twice without close-on-exec: as itself (FD_CLOEXEC
/// cleared) and duplicated onto `extra`. `fd` must stay open until the command is spawned.
pub fn leak_fd(cmd: &mut Command, fd: &impl AsRawFd, extra: RawFd) {
    let fd = fd.as_raw_fd();
    let hook = move || {
        // SAFETY: fcntl and dup2 take no pointers and are async-signal-safe; `fd` is open in
        // the child (inherited from the parent, which keeps it open until spawn returns).
        unsafe {
            if libc::fcntl(fd, libc::F_SETFD, 0) != 0 || libc::dup2(fd, extra) < 0 {
                return Err(io::Error::last_os_error());
            }
        }
        Ok(())
    };
    // SAFETY: the hook only makes async-signal-safe calls and does not allocate.
    unsafe { cmd.pre_exec(hook) };
}

/// Starts the launcher with `ignored` signals set to SIG_IGN and `blocked` ones blocked, as a
/// careless parent (nohup, a shell script, a Rust program) might.
pub fn dirty_signals(cmd: &mut Command, ignored: &'static [i32], blocked: &'static [i32]) {
    let hook = move || {
        // SAFETY: all-zero is an empty sigset_t; signal, sigaddset and sigprocmask are
        // async-signal-safe, take valid signal numbers and a set living on this stack.
        unsafe {
            for &sig in ignored {
                if libc::signal(sig, libc::SIG_IGN) == libc::SIG_ERR {
                    return Err(io::Error::last_os_error());
                }
            }
            let mut set: libc::sigset_t = std::mem::zeroed();
            for &sig in blocked {
                libc::sigaddset(&mut set, sig);
            }
            if libc::sigprocmask(libc::SIG_BLOCK, &set, std::ptr::null_mut()) != 0 {
                return Err(io::Error::last_os_error());
            }
        }
        Ok(())
    };
    // SAFETY: the hook only makes async-signal-safe calls and does not allocate.
    unsafe { cmd.pre_exec(hook) };
}

/// The running kernel's Landlock ABI version, 0 without Landlock.
pub fn landlock_abi() -> u32 {
    // SAFETY: with a null attribute, size 0 and LANDLOCK_CREATE_RULESET_VERSION (1) the kernel
    // reads nothing and creates no fd; it returns the ABI version (or ENOSYS/EOPNOTSUPP).
    let r = unsafe {
        libc::syscall(
            libc::SYS_landlock_create_ruleset,
            std::ptr::null::<libc::c_void>(),
            0usize,
            1u32,
        )
    };
    u32::try_from(r).unwrap_or(0)
}
