//! Signals the launcher relays to the sandbox. They are blocked before the sandbox is cloned
//! (so none is lost or acted on in between) and read from a signalfd in the wait loop.

use std::io;
use std::mem::MaybeUninit;

use rustix::fd::{FromRawFd, OwnedFd};

/// What a user or supervisor sends to stop, reload or resize a foreground program.
pub const FORWARDED: [i32; 7] = [
    libc::SIGTERM,
    libc::SIGINT,
    libc::SIGHUP,
    libc::SIGQUIT,
    libc::SIGUSR1,
    libc::SIGUSR2,
    libc::SIGWINCH,
];

/// `FORWARDED` as a sigset.
fn forwarded() -> libc::sigset_t {
    let mut set = MaybeUninit::<libc::sigset_t>::uninit();
    // SAFETY: sigemptyset initialises the set it is given; `set` is valid for writes.
    unsafe { libc::sigemptyset(set.as_mut_ptr()) };
    for sig in FORWARDED {
        // SAFETY: `set` was initialised above; `sig` is a valid signal number.
        unsafe { libc::sigaddset(set.as_mut_ptr(), sig) };
    }
    // SAFETY: initialised by sigemptyset and only modified by sigaddset since.
    unsafe { set.assume_init() }
}

/// Blocks `FORWARDED` in the calling thread, and so in every thread it starts afterwards: a
/// process that will relay them must block them before it starts any thread, or one of those
/// threads takes a signal with its default action (and TERM ends the process).
pub fn block() -> io::Result<()> {
    let set = forwarded();
    // SAFETY: `set` is a valid sigset; the old mask is not requested.
    if unsafe { libc::pthread_sigmask(libc::SIG_BLOCK, &set, std::ptr::null_mut()) } != 0 {
        return Err(io::Error::last_os_error());
    }
    Ok(())
}

/// Blocks `FORWARDED` (see [`block`]) and returns a signalfd for them.
pub fn block_and_open() -> io::Result<OwnedFd> {
    block()?;
    let set = forwarded();
    // SAFETY: `set` is valid for the call; -1 asks for a new fd.
    let fd = unsafe { libc::signalfd(-1, &set, libc::SFD_CLOEXEC | libc::SFD_NONBLOCK) };
    if fd < 0 {
        return Err(io::Error::last_os_error());
    }
    // SAFETY: signalfd returned a new fd that nothing else owns.
    Ok(unsafe { OwnedFd::from_raw_fd(fd) })
}

/// Reads one pending signal from the signalfd, if any.
pub fn read_one(fd: &OwnedFd) -> Option<i32> {
    let mut info = [0u8; std::mem::size_of::<libc::signalfd_siginfo>()];
    match rustix::io::read(fd, &mut info) {
        Ok(n) if n == info.len() => {
            // ssi_signo is the first field, a u32.
            Some(u32::from_ne_bytes([info[0], info[1], info[2], info[3]]) as i32)
        }
        _ => None,
    }
}

/// Sends any signal, real-time ones included (which rustix's `Signal` does not name), to the
/// process behind `pidfd`.
pub fn send_any(pidfd: &OwnedFd, sig: i32) -> io::Result<()> {
    use std::os::fd::AsRawFd;
    // SAFETY: pidfd_send_signal with a null siginfo reads no memory; the fd is open for the
    // duration of the call, and any signal number is a valid input (the kernel checks it).
    let ret = unsafe {
        libc::syscall(
            libc::SYS_pidfd_send_signal,
            pidfd.as_raw_fd(),
            sig,
            std::ptr::null::<libc::siginfo_t>(),
            0,
        )
    };
    if ret < 0 {
        return Err(io::Error::last_os_error());
    }
    Ok(())
}
