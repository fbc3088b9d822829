//! Verbs about privileges: capabilities (also of a forked child), securebits and attempts to
//! regain what was dropped, the operations capabilities guard (`mknod`, `chown`), resource
//! limits, ptrace, and what a path is (`stat`: masked files are the null device).
//!
//! Everything here acts on the probe itself or on files it creates under `/tmp`: device nodes
//! are never opened, limits are only ever set for the probe, and a ptrace seize is released
//! when the probe exits.

use std::fs;
use std::io::{self, Write};
use std::os::unix::fs::{FileTypeExt, MetadataExt};
use std::process::ExitCode;

use crate::files::errno_name;
use crate::sys;

type Verb = io::Result<ExitCode>;

/// Every capability set of /proc/self/status, in the order the kernel prints them.
const CAP_SETS: [&str; 5] = ["CapInh", "CapPrm", "CapEff", "CapBnd", "CapAmb"];

fn result<T>(r: &io::Result<T>) -> String {
    match r {
        Ok(_) => "ok".to_owned(),
        Err(e) => errno_name(e),
    }
}

fn usage(msg: impl Into<String>) -> io::Error {
    io::Error::new(io::ErrorKind::InvalidInput, msg.into())
}

/// `prefix` + `Key=value` for each capability set and NoNewPrivs, read from /proc/self/status
/// by whichever process calls it.
fn print_caps(prefix: &str) -> io::Result<()> {
    let status = fs::read_to_string("/proc/self/status")?;
    let mut out = io::stdout().lock();
    for key in CAP_SETS.iter().chain(&["NoNewPrivs"]) {
        let value = status
            .lines()
            .find_map(|l| l.strip_prefix(key)?.strip_prefix(':'))
            .map(str::trim)
            .ok_or_else(|| io::Error::other(format!("no {key} in /proc/self/status")))?;
        writeln!(out, "{prefix}{key}={value}")?;
    }
    out.flush()
}

/// `fork-caps`: the probe's capability sets, then those of a child it forks (no exec), as
/// `child CapEff=...` lines.
pub fn fork_caps() -> Verb {
    print_caps("")?;
    let child = sys::fork_and_wait(|| print_caps("child ").is_ok())?;
    println!("child_status={child}");
    Ok(ExitCode::SUCCESS)
}

/// `securebits`: the locked securebits as hex, then attempts to clear them (`unlock=`) and to
/// set keep-caps (`keepcaps=`), both of which must fail once locked.
pub fn securebits() -> Verb {
    println!("securebits={:#x}", sys::securebits()?);
    println!("unlock={}", result(&sys::set_securebits(0)));
    println!("keepcaps={}", result(&sys::set_keepcaps()));
    println!("securebits_after={:#x}", sys::securebits()?);
    Ok(ExitCode::SUCCESS)
}

/// `regain-caps BIT`: tries to get capability BIT back: into every set with capset, then into
/// the ambient set. Prints `capset=`, `ambient=` results and the sets afterwards.
pub fn regain_caps(bit: u32) -> Verb {
    if bit >= 64 {
        return Err(usage("BIT must be below 64"));
    }
    println!("capset={}", result(&sys::capset_all(1 << bit)));
    println!("ambient={}", result(&sys::raise_ambient(bit)));
    print_caps("after ")?;
    Ok(ExitCode::SUCCESS)
}

/// Only under the sandbox's /tmp (a tmpfs with nodev): nothing the probe creates lands on an
/// image, and a device node there cannot be used even if opened (it never is).
fn in_tmp(path: &str) -> io::Result<()> {
    if path.starts_with("/tmp/") && !path.contains("/../") {
        Ok(())
    } else {
        Err(usage(format!(
            "{path}: only paths under /tmp/ are accepted"
        )))
    }
}

/// `mknod PATH`: creates the character device 1:3 (null) at PATH, never opens it, removes it
/// again; prints `mknod PATH=ok` or the errno.
pub fn mknod(path: &str) -> Verb {
    in_tmp(path)?;
    let r = sys::mknod_null(path);
    if r.is_ok() {
        fs::remove_file(path)?;
    }
    println!("mknod {path}={}", result(&r));
    Ok(ExitCode::SUCCESS)
}

/// `chown PATH UID`: creates the empty file PATH if it is missing, then gives it to UID (the
/// group unchanged); prints `chown PATH=ok` or the errno, and the owner afterwards.
pub fn chown(path: &str, uid: u32) -> Verb {
    in_tmp(path)?;
    fs::OpenOptions::new()
        .write(true)
        .create(true)
        .truncate(false)
        .open(path)?;
    println!("chown {path}={}", result(&sys::chown(path, uid)));
    println!("owner {path}={}", fs::metadata(path)?.uid());
    Ok(ExitCode::SUCCESS)
}

/// docker's names of the limits `rlimit` knows (the constants are `c_int` on some libcs).
#[allow(clippy::unnecessary_cast)]
const LIMITS: [(&str, u32); 6] = [
    ("core", libc::RLIMIT_CORE as u32),
    ("nofile", libc::RLIMIT_NOFILE as u32),
    ("nproc", libc::RLIMIT_NPROC as u32),
    ("stack", libc::RLIMIT_STACK as u32),
    ("memlock", libc::RLIMIT_MEMLOCK as u32),
    ("fsize", libc::RLIMIT_FSIZE as u32),
];

fn show_limit(v: u64) -> String {
    if v == libc::RLIM_INFINITY {
        "unlimited".to_owned()
    } else {
        v.to_string()
    }
}

/// `rlimit NAME`: `rlimit NAME=SOFT:HARD`, then an attempt to raise the hard limit by one for
/// the probe itself: `raise NAME=ok` or the errno (EPERM without CAP_SYS_RESOURCE).
pub fn rlimit(name: &str) -> Verb {
    let resource = LIMITS
        .iter()
        .find(|(n, _)| *n == name)
        .map(|(_, r)| *r)
        .ok_or_else(|| usage(format!("unknown limit {name:?}")))?;
    let (soft, hard) = sys::getrlimit(resource)?;
    println!("rlimit {name}={}:{}", show_limit(soft), show_limit(hard));
    let raised = if hard == libc::RLIM_INFINITY {
        Err(io::Error::from_raw_os_error(libc::EINVAL))
    } else {
        sys::setrlimit(resource, soft, hard + 1)
    };
    println!("raise {name}={}", result(&raised));
    Ok(ExitCode::SUCCESS)
}

/// `ptrace-attach PID`: PTRACE_SEIZE, which does not stop the tracee; the probe then exits,
/// which detaches. Prints `ptrace PID=ok` or the errno.
pub fn ptrace_attach(pid: i32) -> Verb {
    println!("ptrace {pid}={}", result(&sys::ptrace_seize(pid)));
    Ok(ExitCode::SUCCESS)
}

/// `trace-new SECS`: for SECS seconds, seizes (PTRACE_SEIZE) every process that appears and
/// prints `traced PID CAPEFF` with the capabilities it holds at that moment: what a workload
/// holding CAP_SYS_PTRACE could take over (an `exec`'s process before it drops privileges).
pub fn trace_new(secs: i32) -> Verb {
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(secs as u64);
    let mut seen = std::collections::HashSet::new();
    seen.insert(std::process::id());
    println!("tracing");
    while std::time::Instant::now() < deadline {
        for entry in fs::read_dir("/proc")?.flatten() {
            let Some(pid) = entry
                .file_name()
                .to_str()
                .and_then(|n| n.parse::<u32>().ok())
            else {
                continue;
            };
            if pid <= 1 || !seen.insert(pid) || sys::ptrace_seize(pid as i32).is_err() {
                continue;
            }
            let status = fs::read_to_string(format!("/proc/{pid}/status")).unwrap_or_default();
            if let Some(cap) = status.lines().find_map(|l| l.strip_prefix("CapEff:")) {
                println!("traced {pid} {}", cap.trim());
            }
            // Its exit must reach its parent again: an exec waits for it.
            let _ = sys::ptrace_release(pid as i32);
        }
    }
    Ok(ExitCode::SUCCESS)
}

/// `stat PATH`: `stat PATH=KIND [MAJOR:MINOR]` (without following a final symlink) and
/// `fs PATH=tmpfs|proc|devpts|0xMAGIC`, the file system holding it.
pub fn stat(path: &str) -> Verb {
    let meta = match fs::symlink_metadata(path) {
        Ok(m) => m,
        Err(e) => {
            println!("stat {path}={}", errno_name(&e));
            return Ok(ExitCode::SUCCESS);
        }
    };
    let t = meta.file_type();
    let kind = if t.is_char_device() {
        let rdev = meta.rdev();
        format!("chr {}:{}", libc::major(rdev), libc::minor(rdev))
    } else if t.is_block_device() {
        "blk".to_owned()
    } else if t.is_dir() {
        "dir".to_owned()
    } else if t.is_symlink() {
        "lnk".to_owned()
    } else if t.is_file() {
        "reg".to_owned()
    } else {
        "other".to_owned()
    };
    println!("stat {path}={kind}");
    let fs = match sys::fs_magic(path) {
        Ok(0x0102_1994) => "tmpfs".to_owned(),
        Ok(0x9fa0) => "proc".to_owned(),
        Ok(0x1cd1) => "devpts".to_owned(),
        Ok(m) => format!("{m:#x}"),
        Err(e) => errno_name(&e),
    };
    println!("fs {path}={fs}");
    Ok(ExitCode::SUCCESS)
}

/// `userns-mount DIR`: in a forked child, a new user, mount and pid namespace (where the child
/// holds every capability), then a tmpfs and then a fresh procfs mounted on DIR (under /tmp).
/// Prints `userns-mount tmpfs=ok|ERRNO|unshare:ERRNO` and the same for `proc`: the kernel
/// refuses a procfs that would reveal more than the sandbox's masked /proc.
pub fn userns_mount(dir: &str) -> Verb {
    in_tmp(&format!("{}/", dir.trim_end_matches('/')))?;
    for (name, fstype) in [("tmpfs", c"tmpfs"), ("proc", c"proc")] {
        let r = match sys::mount_in_new_userns(fstype, dir)? {
            (3, _) => "ok".to_owned(),
            (step, errno) => {
                let e = errno_name(&io::Error::from_raw_os_error(errno));
                match step {
                    0 => format!("unshare:{e}"),
                    1 => format!("fork:{e}"),
                    _ => e,
                }
            }
        };
        println!("userns-mount {name}={r}");
    }
    Ok(ExitCode::SUCCESS)
}
