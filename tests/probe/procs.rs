//! Verbs about processes: exit codes, signals, orphans.

use std::io::{self, Write};
use std::process::ExitCode;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use crate::sys;

type Verb = io::Result<ExitCode>;

/// The signals the launcher forwards, by name.
const FORWARDED: [(&str, i32); 7] = [
    ("TERM", libc::SIGTERM),
    ("INT", libc::SIGINT),
    ("HUP", libc::SIGHUP),
    ("QUIT", libc::SIGQUIT),
    ("USR1", libc::SIGUSR1),
    ("USR2", libc::SIGUSR2),
    ("WINCH", libc::SIGWINCH),
];
const OTHERS: [(&str, i32); 6] = [
    ("KILL", libc::SIGKILL),
    ("SEGV", libc::SIGSEGV),
    ("ABRT", libc::SIGABRT),
    ("PIPE", libc::SIGPIPE),
    ("ALRM", libc::SIGALRM),
    ("BUS", libc::SIGBUS),
];

/// How long `signals` waits for SIGTERM before giving up.
const SIGNALS_TIMEOUT: Duration = Duration::from_secs(20);

pub fn exit(code: u8) -> Verb {
    Ok(ExitCode::from(code))
}

fn signal_number(name: &str) -> Option<i32> {
    let name = name.strip_prefix("SIG").unwrap_or(name);
    FORWARDED
        .iter()
        .chain(&OTHERS)
        .find(|(n, _)| *n == name)
        .map(|(_, s)| *s)
        .or_else(|| name.parse().ok())
}

/// Dies of signal `name` (no core dump), so the launcher must report 128 + n.
pub fn kill_self(name: &str) -> Verb {
    let sig =
        signal_number(name).ok_or_else(|| io::Error::other(format!("unknown signal {name:?}")))?;
    // A core dump would go to the host's core_pattern handler; none is wanted.
    sys::no_core_dumps();
    sys::kill_self(sig)?;
    // Still alive: the signal was blocked, ignored or handled, which the test must see.
    std::thread::sleep(Duration::from_millis(500));
    println!("survived={name}");
    Ok(ExitCode::from(1))
}

/// One bit per signal number, set by the handler (an atomic store is async-signal-safe).
static RECEIVED: AtomicU64 = AtomicU64::new(0);

extern "C" fn on_signal(sig: libc::c_int) {
    RECEIVED.fetch_or(1 << sig, Ordering::SeqCst);
}

/// Prints `ready`, then `got=NAME` per signal received; ends on SIGTERM or after 20 s.
pub fn signals() -> Verb {
    for (_, sig) in FORWARDED {
        sys::set_handler(sig, on_signal)?;
    }
    let mut out = io::stdout().lock();
    writeln!(out, "ready")?;
    out.flush()?;
    let deadline = Instant::now() + SIGNALS_TIMEOUT;
    while Instant::now() < deadline {
        let got = RECEIVED.swap(0, Ordering::SeqCst);
        for (name, sig) in FORWARDED {
            if got & (1 << sig) != 0 {
                writeln!(out, "got={name}")?;
            }
        }
        out.flush()?;
        if got & (1 << libc::SIGTERM) != 0 {
            return Ok(ExitCode::SUCCESS);
        }
        std::thread::sleep(Duration::from_millis(5));
    }
    writeln!(out, "timeout")?;
    Ok(ExitCode::SUCCESS)
}

/// Process states from /proc/PID/stat, the letter after the command's closing parenthesis.
fn zombies() -> io::Result<usize> {
    let mut n = 0;
    for pid in crate::info::pids()? {
        let Ok(stat) = std::fs::read_to_string(format!("/proc/{pid}/stat")) else {
            continue; // gone in between
        };
        let state = stat
            .rsplit_once(')')
            .and_then(|(_, r)| r.trim_start().chars().next());
        if state == Some('Z') {
            n += 1;
        }
    }
    Ok(n)
}

/// Leaves `n` orphans to PID 1: each child forks a grandchild and exits at once. Half of the
/// grandchildren exit immediately (zombies before they are reparented), half a little later
/// (after it). Then counts zombies: a working init has reaped them all.
pub fn orphans(n: u32) -> Verb {
    for i in 0..n {
        let linger = if i % 2 == 0 {
            Duration::ZERO
        } else {
            Duration::from_millis(100)
        };
        sys::orphan(linger)?;
    }
    std::thread::sleep(Duration::from_millis(500));
    println!("orphans={n}");
    println!("zombies={}", zombies()?);
    Ok(ExitCode::SUCCESS)
}

pub fn sleep(secs: u64) -> Verb {
    std::thread::sleep(Duration::from_secs(secs));
    println!("slept={secs}");
    Ok(ExitCode::SUCCESS)
}
