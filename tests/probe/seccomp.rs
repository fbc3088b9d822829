//! Verbs that try the seccomp filter from inside: raw system calls by name, calls of a
//! foreign architecture, clone with namespace flags, sockets, terminal injection, threads
//! and fork/exec. Each prints `ok` or the errno's name, so tests tell the filter's answer
//! (EPERM, ENOSYS, EAFNOSUPPORT) from the kernel's own (EFAULT, EINVAL, EBADF ...).
//!
//! Allowed calls must never act: every call is issued with arguments under which the kernel
//! refuses it, or under which it acts on the probe alone (see `sys::CALLS`).

use std::ffi::CString;
use std::io::{self, Write};
use std::os::fd::AsRawFd;
use std::process::ExitCode;

use crate::files::errno_name;
use crate::sys;

type Verb = io::Result<ExitCode>;

fn usage(msg: impl Into<String>) -> io::Error {
    io::Error::new(io::ErrorKind::InvalidInput, msg.into())
}

fn result<T>(r: &io::Result<T>) -> String {
    match r {
        Ok(_) => "ok".to_owned(),
        Err(e) => errno_name(e),
    }
}

/// Decimal, `0x` hex, or a negative decimal taken as two's complement (`-1`).
fn parse_u64(raw: &str) -> Result<u64, String> {
    let parsed = if let Some(hex) = raw.strip_prefix("0x") {
        u64::from_str_radix(hex, 16).ok()
    } else if let Some(neg) = raw.strip_prefix('-') {
        neg.parse::<i64>().ok().map(|n| n.wrapping_neg() as u64)
    } else {
        raw.parse().ok()
    };
    parsed.ok_or_else(|| format!("not a number: {raw:?}"))
}

fn parse_all(raw: &[String]) -> io::Result<Vec<u64>> {
    raw.iter().map(|r| parse_u64(r).map_err(usage)).collect()
}

/// `syscall NAME [ARG...]`: prints `syscall NAME=ok` or `syscall NAME=ERRNO`. NAME is one of
/// `sys::CALLS`, or a number of at least 1000 (no system call anywhere).
pub fn syscall(name: &str, raw: &[String]) -> Verb {
    let args = parse_all(raw)?;
    let r = if let Some(call) = sys::known_call(name) {
        sys::issue(call, &args)
    } else if let Ok(nr) = parse_u64(name) {
        if !args.is_empty() {
            return Err(usage("unassigned numbers take no arguments"));
        }
        sys::issue_unassigned(nr)
    } else {
        let known: Vec<&str> = sys::known_call_names().collect();
        Err(format!(
            "unknown system call {name:?}; known: {}",
            known.join(" ")
        ))
    }
    .map_err(usage)?;
    println!("syscall {name}={}", result(&r));
    Ok(ExitCode::SUCCESS)
}

/// `int80`: i386 getpid through `int 0x80`. The filter must kill the process (SIGSYS); if
/// it survives, prints `int80=survived` and what eax held.
pub fn int80() -> Verb {
    #[cfg(target_arch = "x86_64")]
    {
        sys::no_core_dumps();
        io::stdout().flush()?;
        let eax = sys::int80_getpid();
        println!("int80=survived");
        println!("int80_eax={eax}");
        Ok(ExitCode::SUCCESS)
    }
    #[cfg(not(target_arch = "x86_64"))]
    {
        println!("int80=unsupported");
        Ok(ExitCode::SUCCESS)
    }
}

/// `x32`: x32 getpid. The filter must kill the process; prints `x32=survived` otherwise.
pub fn x32() -> Verb {
    #[cfg(target_arch = "x86_64")]
    {
        sys::no_core_dumps();
        io::stdout().flush()?;
        let r = sys::x32_getpid();
        println!("x32=survived");
        println!("x32_result={}", result(&r));
        Ok(ExitCode::SUCCESS)
    }
    #[cfg(not(target_arch = "x86_64"))]
    {
        println!("x32=unsupported");
        Ok(ExitCode::SUCCESS)
    }
}

/// `clone3`: clone3 with zeroed arguments (size 64); prints `clone3=ERRNO` (or `ok` if a
/// child was made, which then exited at once).
pub fn clone3() -> Verb {
    println!("clone3={}", result(&sys::clone3_zeroed()));
    Ok(ExitCode::SUCCESS)
}

/// `clone FLAGS`: raw fork-like clone with FLAGS (namespace flags and an exit signal only);
/// prints `clone=ok` when a child was made (it exits at once) or `clone=ERRNO`.
pub fn clone(raw: &str) -> Verb {
    let flags = parse_u64(raw).map_err(usage)?;
    let r = sys::clone_and_reap(flags).map_err(usage)?;
    println!("clone={}", result(&r));
    Ok(ExitCode::SUCCESS)
}

/// `threads N`: N threads each return a value and try `unshare(0)`; prints `threads=N` once
/// all are joined with the right values, and every distinct unshare result.
pub fn threads(n: usize) -> Verb {
    let unshare = sys::known_call("unshare").ok_or_else(|| usage("no unshare in the table"))?;
    let handles: Vec<_> = (0..n)
        .map(|i| {
            std::thread::Builder::new()
                .name(format!("probe-{i}"))
                .spawn(move || {
                    let r = sys::issue(unshare, &[0]).unwrap_or_else(|e| Err(io::Error::other(e)));
                    (i * 3, result(&r))
                })
        })
        .collect::<io::Result<_>>()?;
    let mut joined = 0;
    let mut unshare_results: Vec<String> = Vec::new();
    for (i, h) in handles.into_iter().enumerate() {
        let (value, r) = h
            .join()
            .map_err(|_| io::Error::other(format!("thread {i} panicked")))?;
        if value == i * 3 {
            joined += 1;
        }
        if !unshare_results.contains(&r) {
            unshare_results.push(r);
        }
    }
    println!("threads={joined}");
    println!("thread_unshare={}", unshare_results.join(","));
    Ok(ExitCode::SUCCESS)
}

/// `tiocsti`: TIOCSTI and TIOCLINUX on /dev/null, with the request as is and with junk in its
/// high 32 bits (which the kernel ignores). Without a filter all four are ENOTTY.
pub fn tiocsti() -> Verb {
    // Never a terminal: should the filter let TIOCSTI through, nothing is typed anywhere.
    let null = std::fs::File::open("/dev/null");
    let fd = match &null {
        Ok(f) if !sys::is_tty(f.as_raw_fd()) => f.as_raw_fd(),
        _ => -1,
    };
    const HIGH: u64 = 0xffff_ffff_0000_0000;
    // The generic ioctl numbers, the same on x86_64 and aarch64.
    for (key, request) in [("tiocsti", 0x5412_u64), ("tioclinux", 0x541c)] {
        println!("{key}={}", result(&sys::ioctl_byte(fd, request)));
        println!(
            "{key}_high={}",
            result(&sys::ioctl_byte(fd, HIGH | request))
        );
    }
    Ok(ExitCode::SUCCESS)
}

/// `socket FAMILY TYPE PROTO`: prints `socket=ok` (and closes it) or `socket=ERRNO`.
pub fn socket(raw: &[String]) -> Verb {
    let [family, kind, proto] = parse_all(raw)?[..] else {
        return Err(usage("socket FAMILY TYPE PROTO"));
    };
    println!("socket={}", result(&sys::socket(family, kind, proto)));
    Ok(ExitCode::SUCCESS)
}

fn describe_status(status: libc::c_int) -> String {
    if libc::WIFEXITED(status) {
        libc::WEXITSTATUS(status).to_string()
    } else if libc::WIFSIGNALED(status) {
        format!("signal {}", libc::WTERMSIG(status))
    } else {
        format!("status {status:#x}")
    }
}

/// `fork-exec PATH [ARG...]`: fork, execv PATH, wait; prints `fork-exec=CODE` (or
/// `fork-exec=signal N`). Then the same through std (posix_spawn or vfork-style clone):
/// `spawn=CODE`.
pub fn fork_exec(path: &str, args: &[String]) -> Verb {
    let to_c = |s: &str| CString::new(s).map_err(|_| usage("NUL in an argument"));
    let cpath = to_c(path)?;
    let mut argv = vec![cpath.clone()];
    for a in args {
        argv.push(to_c(a)?);
    }
    io::stdout().flush()?;
    let status = sys::fork_exec(&cpath, &argv)?;
    println!("fork-exec={}", describe_status(status));
    io::stdout().flush()?;
    let spawned = std::process::Command::new(path).args(args).status();
    match spawned {
        Ok(st) => match st.code() {
            Some(c) => println!("spawn={c}"),
            None => println!("spawn={st}"),
        },
        Err(e) => println!("spawn={}", errno_name(&e)),
    }
    Ok(ExitCode::SUCCESS)
}

/// `stack-allow-all NAME [ARG...]`: stacks a filter allowing everything, prints
/// `stack=ok` (or the errno), then issues NAME as `syscall` does: a later, looser filter
/// must not undo the launcher's.
pub fn stack_allow_all(name: &str, raw: &[String]) -> Verb {
    println!("stack={}", result(&sys::stack_allow_all_filter()));
    syscall(name, raw)
}
