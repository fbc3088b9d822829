//! Forking the workload and preparing it for `execve`: its own session (and pty, if asked
//! for), clean signals, no stray fds, the requested user, the working directory, Landlock,
//! then a `PATH` search like `execvp`.

use core::ffi::CStr;

use crate::sys::{Fork, exit_group};
use nucleus_shared::plan::{MAX_ARGS, Process};
use nucleus_shared::status::{StatusRecord, Step};
use rustix::fd::{AsFd, AsRawFd, IntoRawFd, OwnedFd};
use rustix::io::Errno;
use rustix::pipe::PipeFlags;
use rustix::process::Pid;

use crate::setup::path::PathBuf;
use crate::sys::exec::{CStrArray, execve};
use crate::{STATUS_FD, caps, report, sys};
use nucleus_shared::fds::CONSOLE_FD;

/// Same default as docker and the shells when the environment has no `PATH`.
const DEFAULT_PATH: &[u8] = b"/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";

/// docker's exit codes for a command that is missing, or present but not executable.
const NOT_FOUND: i32 = 127;
const NOT_EXECUTABLE: i32 = 126;

/// Forks; the child never returns. A failed fork is reported like any setup step.
///
/// The child first waits until PID 1 has confined itself (its end of `gate` closed), so the
/// workload never runs next to a PID 1 that still holds capabilities or no filter.
///
/// `terminal` (from [`terminal`]) becomes the workload's controlling terminal and stdio; the
/// parent's copy is closed here, before PID 1 confines itself.
pub fn spawn(p: &Process<'_>, op: u16, terminal: Option<OwnedFd>) -> (Pid, OwnedFd) {
    let (gate_rd, gate_wr) = rustix::pipe::pipe_with(PipeFlags::CLOEXEC)
        .unwrap_or_else(|e| report::fail(Step::Fork, op, e));
    match sys::fork() {
        Ok(Fork::Child) => {
            drop(gate_wr);
            let mut byte = [0u8; 1];
            while let Err(Errno::INTR) | Ok(1..) = rustix::io::read(&gate_rd, &mut byte) {}
            drop(gate_rd);
            child(p, op, terminal)
        }
        Ok(Fork::ParentOf(pid)) => {
            drop(terminal);
            (pid, gate_wr)
        }
        Err(e) => report::fail(Step::Fork, op, e),
    }
}

/// Opens the workload's pty, passes its master on `CONSOLE_FD` (to the launcher, or to an OCI
/// console socket) and closes both; returns the slave. Nothing here is particular to PID 1:
/// an `exec` into a running sandbox takes the same path.
pub fn terminal(p: &Process<'_>, op: u16) -> OwnedFd {
    let fail = |e| -> ! { report::fail(Step::Terminal, op, e) };
    let pty = sys::pty::open(p.uid).unwrap_or_else(|e| fail(e));
    let (rows, cols) = p.console_size;
    if (rows, cols) != (0, 0) {
        let size = rustix::termios::Winsize {
            ws_row: rows,
            ws_col: cols,
            ws_xpixel: 0,
            ws_ypixel: 0,
        };
        rustix::termios::tcsetwinsize(&pty.master, size).unwrap_or_else(|e| fail(e));
    }
    // runc sends the slave's name along; readers such as conmon take the fd, not the name.
    let mut name = [0u8; 20];
    name[..9].copy_from_slice(b"/dev/pts/");
    let len = 9 + decimal(pty.number, &mut name[9..]);
    let console = sys::fds::borrow(CONSOLE_FD);
    sys::socket::send_fd(console, &name[..len], pty.master.as_fd()).unwrap_or_else(|e| fail(e));
    sys::fds::close(CONSOLE_FD);
    pty.slave
}

/// Writes `n` in decimal at the start of `out` (10 bytes hold any u32); returns the length.
fn decimal(mut n: u32, out: &mut [u8]) -> usize {
    let mut digits = [0u8; 10];
    let mut len = 0;
    loop {
        digits[len] = b'0' + (n % 10) as u8;
        len += 1;
        n /= 10;
        if n == 0 {
            break;
        }
    }
    for (i, d) in digits[..len].iter().rev().enumerate() {
        out[i] = *d;
    }
    len
}

/// Makes `slave` the controlling terminal and stdio of this process, which must lead a new
/// session.
fn attach_terminal(slave: OwnedFd) -> Result<(), Errno> {
    rustix::process::ioctl_tiocsctty(&slave)?;
    rustix::stdio::dup2_stdin(&slave)?;
    rustix::stdio::dup2_stdout(&slave)?;
    rustix::stdio::dup2_stderr(&slave)?;
    // Dropping a slave that already was one of 0, 1, 2 would close that one again.
    if slave.as_raw_fd() <= 2 {
        let _ = slave.into_raw_fd();
    }
    Ok(())
}

fn child(p: &Process<'_>, op: u16, terminal: Option<OwnedFd>) -> ! {
    let fail = |step, e: Errno| -> ! {
        report::send(step, op, e.raw_os_error() as u32);
        exit_group(report::RUNTIME_FAILED)
    };
    // Steps about one item of a list name the item's index instead of the plan operation.
    let fail_at = |step, index: usize, e: Errno| -> ! {
        report::send(step, index as u16, e.raw_os_error() as u32);
        exit_group(report::RUNTIME_FAILED)
    };
    sys::signals::unblock_all().unwrap_or_else(|e| fail(Step::InitSetup, e));
    // A session of its own, as runc gives every container process: whatever terminal the
    // launcher has stops being the workload's controlling one, so that `/dev/tty` inside
    // cannot reach it (nor TIOCSTI, which needs no capability on one's own terminal).
    rustix::process::setsid().unwrap_or_else(|e| fail(Step::InitSetup, e));
    if let Some(slave) = terminal {
        attach_terminal(slave).unwrap_or_else(|e| fail(Step::Terminal, e));
    }
    rustix::process::umask(rustix::fs::Mode::from(p.umask));
    // Only stdio and the close-on-exec status pipe remain.
    sys::fds::close_range(3, STATUS_FD - 1);
    sys::fds::close_from(STATUS_FD + 1);
    for (i, rl) in p.rlimits.iter().enumerate() {
        sys::rlimit::raise_hard(&rl).unwrap_or_else(|e| fail_at(Step::Rlimit, i, e));
    }
    // Built while every rule path can still be opened, whatever user the workload runs as;
    // enforced after the working directory is entered, which Landlock may not allow reading.
    let landlock = sys::landlock::prepare(&p.landlock)
        .unwrap_or_else(|(rule, e)| fail_at(Step::Landlock, usize::from(rule), e));
    caps::drop_privileges(p.caps, p.uid, p.gid, &p.groups)
        .unwrap_or_else(|(step, e)| fail(step, e));
    rustix::process::chdir(p.cwd).unwrap_or_else(|e| fail(Step::Chdir, e));
    landlock
        .restrict()
        .unwrap_or_else(|e| fail_at(Step::Landlock, usize::from(StatusRecord::NO_OP), e));
    // After Landlock, which needs fds of its own: a small RLIMIT_NOFILE must not stop it.
    // Only lowering is left to do here, which needs no capability.
    for (i, rl) in p.rlimits.iter().enumerate() {
        sys::rlimit::set(&rl).unwrap_or_else(|e| fail_at(Step::Rlimit, i, e));
    }
    // Last: from here on only execve (and, if it fails, write and exit) must be allowed.
    sys::seccomp::install(&p.seccomp).unwrap_or_else(|e| fail(Step::Seccomp, e));

    let e = exec(p).unwrap_or_else(|e| e);
    let not_found = e == Errno::NOENT || e == Errno::NOTDIR;
    if !report::send(Step::Exec, op, e.raw_os_error() as u32) {
        let name = p.argv.iter().next().map_or(&b""[..], |a| a.to_bytes());
        let why: &[u8] = if not_found {
            b": command not found\n"
        } else {
            b": cannot be executed\n"
        };
        report::say(&[b"nucleus-init: ", name, why]);
    }
    exit_group(if not_found { NOT_FOUND } else { NOT_EXECUTABLE })
}

/// Returns only on failure, with the error `execvp` would report.
fn exec(p: &Process<'_>) -> Result<Errno, Errno> {
    let argv = CStrArray::<{ MAX_ARGS + 1 }>::collect(p.argv.iter())?;
    let envp = CStrArray::<{ MAX_ARGS + 1 }>::collect(p.env.iter())?;
    let file = p.argv.iter().next().ok_or(Errno::INVAL)?;
    if file.to_bytes().contains(&b'/') {
        return Ok(execve(file, &argv, &envp));
    }
    let path = p
        .env
        .iter()
        .find_map(|e| e.to_bytes().strip_prefix(b"PATH="))
        .unwrap_or(DEFAULT_PATH);
    let mut denied = false;
    for dir in path.split(|&b| b == b':') {
        let dir: &[u8] = if dir.is_empty() { b"." } else { dir };
        let Ok(candidate) = PathBuf::join(&[dir, b"/", file.to_bytes()]) else {
            continue;
        };
        let candidate: &CStr = candidate.as_cstr()?;
        match execve(candidate, &argv, &envp) {
            Errno::ACCESS => denied = true,
            Errno::NOENT | Errno::NOTDIR | Errno::NAMETOOLONG | Errno::LOOP => {}
            other => return Ok(other),
        }
    }
    Ok(if denied { Errno::ACCESS } else { Errno::NOENT })
}
