//! The `tty` verb's raw system calls: terminal ioctls and waiting for signals. Every
//! `unsafe` block of the verb is here.

use std::io;
use std::time::Duration;

fn check(ret: libc::c_int) -> io::Result<libc::c_int> {
    if ret < 0 {
        Err(io::Error::last_os_error())
    } else {
        Ok(ret)
    }
}

/// TIOCGWINSZ: (rows, columns).
pub fn window_size(fd: libc::c_int) -> io::Result<(u16, u16)> {
    // SAFETY: an all-zero winsize is valid; TIOCGWINSZ writes one winsize through the
    // pointer, which lives across the call.
    let mut ws: libc::winsize = unsafe { std::mem::zeroed() };
    // SAFETY: as above.
    check(unsafe { libc::ioctl(fd, libc::TIOCGWINSZ, &mut ws) })?;
    Ok((ws.ws_row, ws.ws_col))
}

/// TIOCGSID: the session whose controlling terminal `fd` is (ENOTTY if none's).
pub fn terminal_session(fd: libc::c_int) -> io::Result<libc::pid_t> {
    let mut sid: libc::pid_t = 0;
    // SAFETY: TIOCGSID writes one pid_t through the pointer, which lives across the call.
    check(unsafe { libc::ioctl(fd, libc::TIOCGSID, &mut sid) })?;
    Ok(sid)
}

/// (getsid(0), getpgrp(), tcgetpgrp(fd) or -1).
pub fn session_and_groups(fd: libc::c_int) -> (libc::pid_t, libc::pid_t, libc::pid_t) {
    // SAFETY: none of these takes a pointer; any fd is a valid input to tcgetpgrp.
    unsafe { (libc::getsid(0), libc::getpgrp(), libc::tcgetpgrp(fd)) }
}

/// Blocks `signals`, so that they wait for [`wait_signal`] instead of acting.
pub fn block(signals: &[libc::c_int]) -> io::Result<()> {
    let set = sigset(signals);
    // SAFETY: `set` is an initialised sigset living across the call; no old mask requested.
    let rc = unsafe { libc::pthread_sigmask(libc::SIG_BLOCK, &set, std::ptr::null_mut()) };
    if rc != 0 {
        return Err(io::Error::from_raw_os_error(rc));
    }
    Ok(())
}

/// Waits up to `timeout` for one of the (blocked) `signals`: (number, si_code).
pub fn wait_signal(
    signals: &[libc::c_int],
    timeout: Duration,
) -> io::Result<Option<(libc::c_int, libc::c_int)>> {
    let set = sigset(signals);
    let ts = libc::timespec {
        tv_sec: timeout.as_secs() as libc::time_t,
        tv_nsec: timeout.subsec_nanos() as libc::c_long,
    };
    // SAFETY: an all-zero siginfo_t is valid; sigtimedwait fills it in.
    let mut info: libc::siginfo_t = unsafe { std::mem::zeroed() };
    loop {
        // SAFETY: `set`, `info` and `ts` live across the call; the kernel writes only `info`.
        let sig = unsafe { libc::sigtimedwait(&set, &mut info, &ts) };
        if sig >= 0 {
            return Ok(Some((sig, info.si_code)));
        }
        let e = io::Error::last_os_error();
        match e.raw_os_error() {
            Some(libc::EAGAIN) => return Ok(None),
            Some(libc::EINTR) => continue,
            _ => return Err(e),
        }
    }
}

fn sigset(signals: &[libc::c_int]) -> libc::sigset_t {
    // SAFETY: an all-zero sigset_t is a valid (empty) set on Linux; sigaddset adds valid
    // signal numbers to it.
    unsafe {
        let mut set: libc::sigset_t = std::mem::zeroed();
        for &sig in signals {
            libc::sigaddset(&mut set, sig);
        }
        set
    }
}
