//! `tty [wait | flood BYTES | read]`: what the workload's stdio is as a terminal, from the
//! inside: whether it is one, whether it is the controlling terminal and from which devpts,
//! its owner and size, and whether `/dev/tty` leads anywhere else.
//!
//! - `wait`: then prints `ready`, a `size=` line per SIGWINCH, and on SIGINT `int=kernel`
//!   (sent by a line discipline, as for Ctrl-C) or `int=user` (sent by a process), then exits
//!   42; `timeout` and exit 1 after 20 s.
//! - `flood BYTES`: then writes BYTES bytes of numbered lines and `end`, and exits at once.
//! - `read`: then reads stdin to its end and prints `read=BYTES`.

mod sys;

use std::io::{self, Read, Write};
use std::os::fd::AsRawFd;
use std::os::unix::fs::{FileTypeExt, MetadataExt};
use std::process::ExitCode;
use std::time::{Duration, Instant};

type Verb = io::Result<ExitCode>;

const WAIT_TIMEOUT: Duration = Duration::from_secs(20);
/// SI_KERNEL: the kernel itself sent the signal (a tty's line discipline does).
const SI_KERNEL: libc::c_int = 0x80;

pub fn tty(rest: &[String]) -> Verb {
    let mode = rest.first().map(String::as_str).unwrap_or("");
    if mode == "wait" {
        // Before the size is read: a resize from now on is a pending signal, not lost.
        sys::block(&[libc::SIGWINCH, libc::SIGINT])?;
    }
    let mut out = io::stdout().lock();
    for line in facts() {
        writeln!(out, "{line}")?;
    }
    out.flush()?;
    match mode {
        "" => Ok(ExitCode::SUCCESS),
        "wait" => wait(out),
        "flood" => {
            let bytes: usize = rest
                .get(1)
                .and_then(|n| n.parse().ok())
                .ok_or_else(|| io::Error::other("flood needs BYTES"))?;
            flood(out, bytes)
        }
        "read" => {
            let mut got = Vec::new();
            io::stdin().lock().read_to_end(&mut got)?;
            writeln!(out, "read={}", got.len())?;
            Ok(ExitCode::SUCCESS)
        }
        other => Err(io::Error::other(format!("unknown tty mode {other:?}"))),
    }
}

fn facts() -> Vec<String> {
    let stat = |fd: i32| std::fs::metadata(format!("/proc/self/fd/{fd}")).ok();
    let own_devpts = std::fs::metadata("/dev/pts/ptmx").ok().map(|m| m.dev());
    let rdev0 = stat(0).map(|m| m.rdev());
    let mut lines = Vec::new();
    for (fd, name) in [(0, "stdin"), (1, "stdout"), (2, "stderr")] {
        lines.push(format!("{name}_tty={}", u8::from(crate::sys::is_tty(fd))));
    }
    lines.push(format!(
        "same={}",
        u8::from([1, 2].iter().all(|&fd| stat(fd).map(|m| m.rdev()) == rdev0))
    ));
    let name = std::fs::read_link("/proc/self/fd/0").map_or_else(
        |e| format!("error:{e}"),
        |p| p.to_string_lossy().into_owned(),
    );
    lines.push(format!("name={name}"));
    // tty_nr, the 7th field of /proc/self/stat (after the parenthesised command).
    let tty_nr: u64 = std::fs::read_to_string("/proc/self/stat")
        .ok()
        .and_then(|s| {
            s.rsplit_once(')')?
                .1
                .split_whitespace()
                .nth(4)?
                .parse()
                .ok()
        })
        .unwrap_or(0);
    let (sid, pgrp, foreground) = sys::session_and_groups(0);
    let ctty =
        tty_nr != 0 && Some(tty_nr) == rdev0 && sys::terminal_session(0).is_ok_and(|s| s == sid);
    lines.push(format!("ctty={}", u8::from(ctty)));
    lines.push(format!(
        "session_leader={}",
        u8::from(sid as u32 == std::process::id())
    ));
    lines.push(format!("foreground={}", u8::from(foreground == pgrp)));
    let devpts = match (stat(0), own_devpts) {
        (Some(m), Some(own)) if m.file_type().is_char_device() && m.dev() == own => "own",
        (Some(m), _) if m.file_type().is_char_device() => "other",
        _ => "none",
    };
    lines.push(format!("devpts={devpts}"));
    let mut pts: Vec<String> = std::fs::read_dir("/dev/pts")
        .map(|d| {
            d.filter_map(|e| e.ok())
                .map(|e| e.file_name().to_string_lossy().into_owned())
                .collect()
        })
        .unwrap_or_default();
    pts.sort();
    lines.push(format!("pts={}", pts.join(",")));
    lines.push(format!("foreign_ttys={}", foreign_ttys(own_devpts)));
    // An fd of /dev/tty stats as /dev/tty itself; which terminal it reached shows in the
    // session that terminal belongs to: ours (a leader's, so not 0 as an outside one reads).
    let dev_tty = match std::fs::OpenOptions::new().read(true).open("/dev/tty") {
        Ok(f) => match sys::terminal_session(f.as_raw_fd()) {
            Ok(s) if s == sid && sid != 0 => "own".to_owned(),
            _ => "foreign".to_owned(),
        },
        Err(e) if e.raw_os_error() == Some(libc::ENXIO) => "ENXIO".to_owned(),
        Err(e) => format!("error:{e}"),
    };
    lines.push(format!("dev_tty={dev_tty}"));
    if let Some(m) = stat(0) {
        lines.push(format!("owner={}:{}", m.uid(), m.gid()));
    }
    lines.push(size_line());
    lines
}

/// Open fds that are terminals of any devpts but the sandbox's own (or the console).
fn foreign_ttys(own_devpts: Option<u64>) -> usize {
    let Ok(dir) = std::fs::read_dir("/proc/self/fd") else {
        return usize::MAX;
    };
    dir.filter_map(|e| e.ok())
        .filter_map(|e| std::fs::metadata(e.path()).ok())
        .filter(|m| {
            let major = libc::major(m.rdev());
            m.file_type().is_char_device()
                && (major == 4 || major == 5 || (136..=143).contains(&major))
                && Some(m.dev()) != own_devpts
        })
        .count()
}

fn size_line() -> String {
    match sys::window_size(0) {
        Ok((rows, cols)) => format!("size={rows}x{cols}"),
        Err(e) => format!("size=error:{e}"),
    }
}

fn wait(mut out: io::StdoutLock<'_>) -> Verb {
    writeln!(out, "ready")?;
    out.flush()?;
    let deadline = Instant::now() + WAIT_TIMEOUT;
    while let Some(left) = deadline.checked_duration_since(Instant::now()) {
        match sys::wait_signal(&[libc::SIGWINCH, libc::SIGINT], left)? {
            Some((libc::SIGWINCH, _)) => writeln!(out, "{}", size_line())?,
            Some((_, code)) => {
                let from = if code == SI_KERNEL { "kernel" } else { "user" };
                writeln!(out, "int={from}")?;
                out.flush()?;
                return Ok(ExitCode::from(42));
            }
            None => break,
        }
        out.flush()?;
    }
    writeln!(out, "timeout")?;
    Ok(ExitCode::from(1))
}

fn flood(mut out: io::StdoutLock<'_>, bytes: usize) -> Verb {
    let mut written = 0;
    let mut n = 0u64;
    while written < bytes {
        let line = format!("{n:0>15}\n");
        let line = &line.as_bytes()[..line.len().min(bytes - written)];
        out.write_all(line)?;
        written += line.len();
        n += 1;
    }
    writeln!(out, "end")?;
    out.flush()?;
    Ok(ExitCode::SUCCESS)
}
