//! The probe's raw system calls; every `unsafe` block of the probe is here.

use std::io;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

fn check(ret: libc::c_int) -> io::Result<libc::c_int> {
    if ret < 0 {
        Err(io::Error::last_os_error())
    } else {
        Ok(ret)
    }
}

/// Makes the probe non-dumpable with a zero core limit, so dying of SIGSEGV writes no core.
pub fn no_core_dumps() {
    let zero = libc::rlimit {
        rlim_cur: 0,
        rlim_max: 0,
    };
    // SAFETY: `zero` is a valid rlimit living across the call; prctl takes no pointers here.
    unsafe {
        libc::setrlimit(libc::RLIMIT_CORE, &zero);
        libc::prctl(libc::PR_SET_DUMPABLE, 0, 0, 0, 0);
    }
}

/// Sends `sig` to the probe itself with its default action restored and the signal unblocked:
/// Rust's runtime handles SIGSEGV and SIGBUS (stack overflow detection) and ignores SIGPIPE.
pub fn kill_self(sig: i32) -> io::Result<()> {
    // SAFETY: an all-zero sigaction is SIG_DFL with an empty mask and no flags.
    let default: libc::sigaction = unsafe { std::mem::zeroed() };
    // SAFETY: `default` is valid and outlives the call; the old action is not requested.
    // SIGKILL cannot be changed (EINVAL), which does not matter: it cannot be caught either.
    unsafe { libc::sigaction(sig, &default, std::ptr::null_mut()) };
    // SAFETY: an all-zero sigset_t is an empty set; sigaddset only writes into it.
    let mut set: libc::sigset_t = unsafe { std::mem::zeroed() };
    // SAFETY: `set` is a valid sigset for the calls, the old mask is not requested; kill takes
    // no pointers and any signal number is a valid input.
    unsafe {
        libc::sigaddset(&mut set, sig);
        libc::sigprocmask(libc::SIG_UNBLOCK, &set, std::ptr::null_mut());
        check(libc::kill(libc::getpid(), sig)).map(drop)
    }
}

/// The signal state the probe was started with, one bit per signal as in /proc (signal n at
/// bit n-1): blocked, ignored and caught. Captured before Rust's runtime changes it.
static START_BLOCKED: AtomicU64 = AtomicU64::new(0);
static START_IGNORED: AtomicU64 = AtomicU64::new(0);
static START_CAUGHT: AtomicU64 = AtomicU64::new(0);

/// Runs from `.init_array`, before `main` and so before std ignores SIGPIPE and installs its
/// SIGSEGV/SIGBUS handlers: what it records is exactly what `execve` handed the probe.
extern "C" fn capture_signal_state() {
    let (mut blocked, mut ignored, mut caught) = (0u64, 0u64, 0u64);
    // SAFETY: all-zero is a valid sigset_t and sigaction to be overwritten by the kernel.
    let (mut mask, mut action): (libc::sigset_t, libc::sigaction) =
        unsafe { (std::mem::zeroed(), std::mem::zeroed()) };
    // SAFETY: a null new mask only reads the current one into `mask`, which is valid.
    unsafe { libc::sigprocmask(libc::SIG_BLOCK, std::ptr::null(), &mut mask) };
    for sig in 1..=64 {
        let bit = 1u64 << (sig - 1);
        // SAFETY: `mask` was filled above; sigismember only reads it.
        if unsafe { libc::sigismember(&mask, sig) } == 1 {
            blocked |= bit;
        }
        // SAFETY: a null new action only reads the current one into `action`, which is valid.
        // libc refuses its reserved real-time signals (EINVAL); those are skipped.
        if unsafe { libc::sigaction(sig, std::ptr::null(), &mut action) } != 0 {
            continue;
        }
        match action.sa_sigaction {
            libc::SIG_DFL => {}
            libc::SIG_IGN => ignored |= bit,
            _ => caught |= bit,
        }
    }
    START_BLOCKED.store(blocked, Ordering::Relaxed);
    START_IGNORED.store(ignored, Ordering::Relaxed);
    START_CAUGHT.store(caught, Ordering::Relaxed);
}

#[used]
// SAFETY: `.init_array` holds pointers to functions called once with no arguments the callee
// reads, before `main`; `capture_signal_state` matches that and only makes system calls.
#[unsafe(link_section = ".init_array")]
static CAPTURE_SIGNAL_STATE: extern "C" fn() = capture_signal_state;

/// (blocked, ignored, caught) at start-up.
pub fn start_signal_state() -> (u64, u64, u64) {
    (
        START_BLOCKED.load(Ordering::Relaxed),
        START_IGNORED.load(Ordering::Relaxed),
        START_CAUGHT.load(Ordering::Relaxed),
    )
}

/// Installs `handler` for `sig`, with SA_RESTART and nothing else blocked while it runs.
pub fn set_handler(sig: i32, handler: extern "C" fn(libc::c_int)) -> io::Result<()> {
    // SAFETY: an all-zero sigaction is valid (empty mask, no flags); the fields are set below.
    let mut action: libc::sigaction = unsafe { std::mem::zeroed() };
    action.sa_sigaction = handler as usize;
    action.sa_flags = libc::SA_RESTART;
    // SAFETY: `action` is fully initialised and outlives the call; the handler only does an
    // atomic fetch_or, which is async-signal-safe. The old action is not requested.
    check(unsafe { libc::sigaction(sig, &action, std::ptr::null_mut()) }).map(drop)
}

/// Forks a child that forks a grandchild and exits at once, then reaps the child: the
/// grandchild, which exits after `linger`, is left to PID 1.
pub fn orphan(linger: Duration) -> io::Result<()> {
    let pause = libc::timespec {
        tv_sec: linger.as_secs() as libc::time_t,
        tv_nsec: linger.subsec_nanos() as libc::c_long,
    };
    // SAFETY: the probe is single-threaded here; the children only call the async-signal-safe
    // fork, nanosleep and _exit, and never return into Rust code.
    let child = check(unsafe { libc::fork() })?;
    if child == 0 {
        // SAFETY: as above; `pause` lives on this stack, copied into the child.
        unsafe {
            match libc::fork() {
                0 => {
                    libc::nanosleep(&pause, std::ptr::null_mut());
                    libc::_exit(0)
                }
                n if n < 0 => libc::_exit(1),
                _ => libc::_exit(0),
            }
        }
    }
    loop {
        let mut status = 0;
        // SAFETY: `status` is a valid int to write to; `child` is our own child.
        let r = unsafe { libc::waitpid(child, &mut status, 0) };
        if r >= 0 {
            return Ok(());
        }
        let e = io::Error::last_os_error();
        if e.kind() != io::ErrorKind::Interrupted {
            return Err(e);
        }
    }
}

/// `struct ifreq` reduced to what SIOCGIFFLAGS uses: the name, then the flags (40 bytes).
#[repr(C)]
struct IfreqFlags {
    name: [u8; libc::IFNAMSIZ],
    flags: libc::c_short,
    _pad: [u8; 22],
}

/// Whether interface `name` is up (IFF_UP), asked with SIOCGIFFLAGS.
pub fn interface_is_up(name: &str) -> io::Result<bool> {
    let bytes = name.as_bytes();
    if bytes.len() >= libc::IFNAMSIZ {
        return Err(io::Error::from_raw_os_error(libc::ENAMETOOLONG));
    }
    let mut req = IfreqFlags {
        name: [0; libc::IFNAMSIZ],
        flags: 0,
        _pad: [0; 22],
    };
    req.name[..bytes.len()].copy_from_slice(bytes);
    // SAFETY: socket takes no pointers.
    let sock =
        check(unsafe { libc::socket(libc::AF_INET, libc::SOCK_DGRAM | libc::SOCK_CLOEXEC, 0) })?;
    // SAFETY: `req` is a valid, NUL-terminated ifreq of the size SIOCGIFFLAGS reads and
    // writes; `sock` is the socket opened above.
    let r = check(unsafe { libc::ioctl(sock, libc::SIOCGIFFLAGS, &mut req) });
    // SAFETY: `sock` is ours and closed exactly once.
    unsafe { libc::close(sock) };
    r?;
    Ok(req.flags & libc::IFF_UP as libc::c_short != 0)
}
