//! The native backend: plan, clone init into new namespaces, relay signals, wait, report.

use std::io;
use std::path::Path;

use nucleus_shared::status::StatusRecord;
use rustix::event::{PollFd, PollFlags};
use rustix::fd::{AsFd, OwnedFd};
use rustix::pipe::PipeFlags;
use rustix::process::{Signal, WaitIdOptions};

use crate::config::{Config, Network};
use crate::error::Error;
use crate::plan::{self, HostRoot};
use crate::report;
use crate::seccomp;
use crate::seccomp::watch::Watcher;
use crate::sys;
use crate::sys::clone::ChildFds;
use crate::userns::{self, UserNs};

/// nucleus-init, built and embedded by build.rs.
static INIT: &[u8] = include_bytes!(concat!(env!("OUT_DIR"), "/nucleus-init"));

/// Runs the sandbox to completion; returns the exit code the launcher should exit with.
pub fn run(cfg: &Config) -> Result<i32, Error> {
    run_observed(cfg, Extras::default(), |_, _| Ok(()))
}

/// Which plan to compile: a whole sandbox, or a process joining a running one (`exec`).
#[derive(Clone, Copy, PartialEq, Eq)]
pub enum PlanKind {
    Sandbox,
    Exec,
}

/// Checks what can be checked before anything starts, and compiles the plan.
pub fn prepare(cfg: &Config, kind: PlanKind) -> Result<plan::CompiledPlan, Error> {
    crate::config::ulimit::check_against_own(
        &cfg.rlimits,
        crate::config::ulimit::can_raise(),
        crate::config::ulimit::own_hard,
    )?;
    let host = if cfg.rootfs.is_none() {
        HostRoot::probe(Path::new("/"))
    } else {
        HostRoot::default()
    };
    let ctx = seccomp::Context {
        arch: seccomp::native_arch()?,
        // Until capabilities are dropped by configuration, profiles are resolved as for a
        // workload without any: the conservative reading of Docker's capability rules.
        caps: Vec::new(),
        kernel: seccomp::kernel_version(),
    };
    let started = std::time::Instant::now();
    let programs = seccomp::programs(
        &cfg.seccomp,
        &cfg.seccomp_allow,
        cfg.seccomp_watch.as_ref(),
        &ctx,
    )?;
    tracing::debug!(
        insns = programs.workload_insns,
        micros = started.elapsed().as_micros() as u64,
        "seccomp compiled"
    );
    let (mut landlock, landlock_report) =
        crate::landlock::compile(cfg, &host, crate::landlock::Kernel::probe())?;
    match kind {
        PlanKind::Sandbox => landlock_report.log(),
        // Each exec is a Landlock domain of its own, and scopes stop at a domain's edge: an
        // exec'd `kill -HUP 1` or a client of the workload's abstract socket would be refused.
        // The pid namespace already keeps signals inside the sandbox, and a network namespace
        // of its own its abstract sockets; the host's network keeps that scope.
        PlanKind::Exec => {
            use crate::landlock::access::{SCOPE_ABSTRACT_UNIX_SOCKET, SCOPE_SIGNAL};
            landlock.scoped &= !SCOPE_SIGNAL;
            if cfg.network == Network::None {
                landlock.scoped &= !SCOPE_ABSTRACT_UNIX_SOCKET;
            }
        }
    }
    let plan = match kind {
        PlanKind::Sandbox => plan::compile(cfg, &host, &programs, &landlock)?,
        PlanKind::Exec => plan::compile_exec(cfg, &programs, &landlock)?,
    };
    tracing::debug!(bytes = plan.bytes.len(), "plan compiled");
    Ok(plan)
}

/// [`run`], calling `on_start` once init runs (a detached sandbox's monitor records it
/// there); an error from `on_start` ends the sandbox.
pub fn run_observed(
    cfg: &Config,
    extras: Extras<'_>,
    on_start: impl FnOnce(&Started, Option<&crate::cgroup::Sandbox>) -> Result<(), Error>,
) -> Result<i32, Error> {
    let plan = prepare(cfg, PlanKind::Sandbox)?;

    // Blocked before the clone, so that a signal arriving meanwhile is relayed, not lost.
    let signals =
        sys::signals::block_and_open().map_err(|e| Error::io("setting up signal relay", e))?;
    // Before the clone: the sandbox must inherit the watcher's audit session, and no record
    // may arrive before we listen.
    let mut watcher = cfg.seccomp_watch.clone().and_then(Watcher::open);
    // Removed again on every way out (Sandbox's Drop), or by the next start if we are killed.
    let cgroup = crate::cgroup::setup(&cfg.cgroup)?;
    let (extras, console) = own_console(cfg, extras)?;
    let init = start_init(
        namespace_flags(cfg),
        &plan.bytes,
        cfg.userns.as_ref(),
        cgroup.as_ref(),
        extras,
    )?;
    tracing::debug!(pid = init.pid, "nucleus-init started");
    if let Err(e) = on_start(&init, cgroup.as_ref()) {
        let _ = rustix::process::pidfd_send_signal(&init.pidfd, Signal::KILL);
        let _ = wait_exit(&init.pidfd);
        return Err(e);
    }

    let ended = follow(&init, cfg, console.as_ref(), &signals, watcher.as_mut())?;
    let status = ended.status;
    let join_failure = ended
        .record
        .as_ref()
        .zip(cgroup.as_ref())
        .and_then(|(r, c)| c.join_error(r));
    // init is gone, and its pid namespace with it: end the cgroups before anything else.
    let ending = cgroup.map(crate::cgroup::Sandbox::finish);
    if let Some(e) = join_failure {
        return Err(e);
    }
    if let Some(msg) = ending.and_then(|e| e.oom_message(status)) {
        eprintln!("nucleus-launch: {msg}");
    }
    if let Some(w) = watcher {
        w.finish()?;
    }
    ended.verdict(&plan, cfg)
}

/// How a started init ended: its status, the failure it recorded (if any), and a failure of
/// the terminal relay (init's own record, when there is one, says better what went wrong).
struct Ended {
    status: i32,
    record: Option<StatusRecord>,
    terminal_failure: Option<Error>,
}

impl Ended {
    /// The launcher's exit code, or the error to report.
    fn verdict(self, plan: &plan::CompiledPlan, cfg: &Config) -> Result<i32, Error> {
        match (self.record, self.terminal_failure) {
            (Some(r), _) => Err(report::from_record(&r, plan, cfg)),
            (None, Some(e)) => Err(e),
            (None, None) => Ok(self.status),
        }
    }
}

/// Relays the terminal (if any) and signals until `init` ends.
fn follow(
    init: &Started,
    cfg: &Config,
    console: Option<&crate::tty::Console>,
    signals: &OwnedFd,
    watcher: Option<&mut Watcher>,
) -> Result<Ended, Error> {
    let (mut session, terminal_failure) = attach_terminal(console, cfg, &init.pidfd);
    let (status, record) = supervise(
        &init.pidfd,
        &init.status_rd,
        signals,
        watcher,
        session.as_mut(),
    )?;
    // The last output, and the host terminal restored, before anything is reported.
    session.map(crate::tty::Session::finish).transpose()?;
    Ok(Ended {
        status,
        record,
        terminal_failure,
    })
}

/// `exec`: starts the process of `plan` in the sandbox that `extras.enter` names. Detached, it
/// returns once the process runs (its caller reaps it); else it relays signals and the
/// terminal as `run` does and returns the process's status.
pub fn follow_exec(
    cfg: &Config,
    plan: &plan::CompiledPlan,
    extras: Extras<'_>,
    pid_file: Option<&str>,
) -> Result<i32, Error> {
    let detach = extras.detach;
    let signals = if detach {
        None
    } else {
        Some(sys::signals::block_and_open().map_err(|e| Error::io("setting up signal relay", e))?)
    };
    let (extras, console) = own_console(cfg, extras)?;
    if detach && console.is_some() {
        return Err(Error::usage(
            "exec --detach with a terminal needs --console-socket to send the pty to",
        ));
    }
    let init = start_init(0, &plan.bytes, None, None, extras)?;
    if let Some(f) = pid_file {
        crate::state::write_atomic(Path::new(f), init.pid.to_string().as_bytes())?;
    }
    let Some(signals) = signals else {
        // The status pipe closes when the process's execve succeeds, or carries why not.
        return match read_status(&init.status_rd) {
            Some(r) => Err(report::from_record(&r, plan, cfg)),
            None => Ok(0),
        };
    };
    follow(&init, cfg, console.as_ref(), &signals, None)?.verdict(plan, cfg)
}

/// `-t`: the pty's master comes back to the launcher, unless the caller sends it elsewhere
/// (an OCI `--console-socket` in `extras.console`).
fn own_console<'a>(
    cfg: &Config,
    mut extras: Extras<'a>,
) -> Result<(Extras<'a>, Option<crate::tty::Console>), Error> {
    if !cfg.terminal || extras.console.is_some() {
        return Ok((extras, None));
    }
    let (init_end, console) = crate::tty::Console::pair()?;
    extras.console = Some(init_end);
    Ok((extras, Some(console)))
}

/// Receives the workload's pty and relays it to the launcher's stdio. On failure the sandbox
/// is ended and the error kept: init's own record (if it failed first, which also closes the
/// console) says better what went wrong.
fn attach_terminal(
    console: Option<&crate::tty::Console>,
    cfg: &Config,
    pidfd: &OwnedFd,
) -> (Option<crate::tty::Session>, Option<Error>) {
    let Some(console) = console else {
        return (None, None);
    };
    match console
        .receive_master()
        .and_then(|master| crate::tty::Session::attach(master, cfg.interactive))
    {
        Ok(session) => (Some(session), None),
        Err(e) => {
            let _ = rustix::process::pidfd_send_signal(pidfd, Signal::KILL);
            (None, Some(e))
        }
    }
}

/// A running init: its pidfd, and the read end of its status pipe.
pub struct Started {
    pub pidfd: OwnedFd,
    pub pid: u32,
    pub status_rd: OwnedFd,
}

/// What a start needs beyond the plan: the optional fds of init's contract and how the child
/// relates to an existing sandbox and to the launcher.
#[derive(Default)]
pub struct Extras<'a> {
    /// init's `START_FD` (a plan with `AwaitStart`).
    pub start: Option<OwnedFd>,
    /// init's `CONSOLE_FD` (a `terminal` workload).
    pub console: Option<OwnedFd>,
    /// Join this sandbox's namespaces instead of creating new ones (`exec`).
    pub enter: Option<(rustix::fd::BorrowedFd<'a>, u64)>,
    /// init outlives the launcher.
    pub detach: bool,
    /// The cgroups of a running sandbox to join (`exec`), when there is no new one.
    pub join: Option<crate::cgroup::Join>,
}

/// Clones init into new namespaces (`ns_flags`) and into its cgroup (if any), writes its user
/// namespace's id maps (if any), then hands it `plan`. init blocks reading the plan, so
/// nothing it does can come before its ids are mapped and it is in its cgroups.
pub fn start_init(
    ns_flags: u64,
    plan: &[u8],
    userns: Option<&UserNs>,
    cgroup: Option<&crate::cgroup::Sandbox>,
    extras: Extras<'_>,
) -> Result<Started, Error> {
    let high = |fd| {
        sys::clone::above_contract(fd).map_err(|e| Error::io("arranging fds for nucleus-init", e))
    };
    let init = sys::memfd::sealed_executable(c"nucleus-init", INIT)
        .map_err(|e| Error::io("loading nucleus-init", e))?;
    let (plan_rd, plan_wr) = rustix::pipe::pipe_with(PipeFlags::CLOEXEC)
        .map_err(|e| Error::io("creating the plan pipe", e.into()))?;
    let (status_rd, status_wr) = rustix::pipe::pipe_with(PipeFlags::CLOEXEC)
        .map_err(|e| Error::io("creating the status pipe", e.into()))?;
    let (init, plan_rd, plan_wr) = (high(init)?, high(plan_rd)?, high(plan_wr)?);
    let (status_rd, status_wr) = (high(status_rd)?, high(status_wr)?);
    let start = extras.start.map(high).transpose()?;
    let console = extras.console.map(high).transpose()?;
    let fds = ChildFds {
        init: init.as_fd(),
        plan: plan_rd.as_fd(),
        plan_wr: plan_wr.as_fd(),
        status_rd: status_rd.as_fd(),
        status_wr: status_wr.as_fd(),
        start: start.as_ref().map(|f| f.as_fd()),
        console: console.as_ref().map(|f| f.as_fd()),
    };
    let flags = ns_flags
        | if userns.is_some() {
            libc::CLONE_NEWUSER as u64
        } else {
            0
        };
    // v1 (and v2 before Linux 5.7): files the child writes itself into, first thing.
    let join = match cgroup {
        Some(c) if c.clone_into().is_none() => c
            .join_files()?
            .into_iter()
            .map(high)
            .collect::<Result<Vec<_>, _>>()?,
        None => match &extras.join {
            Some(j) if j.into.is_none() => j
                .files
                .iter()
                .map(|f| {
                    f.try_clone()
                        .map_err(|e| Error::io("joining the sandbox's cgroups", e))
                })
                .map(|f| f.and_then(high))
                .collect::<Result<Vec<_>, _>>()?,
            _ => Vec::new(),
        },
        _ => Vec::new(),
    };
    let join_fds: Vec<_> = join.iter().map(|f| f.as_fd()).collect();
    let dup_high = |fd: rustix::fd::BorrowedFd<'_>| {
        fd.try_clone_to_owned()
            .map_err(|e| Error::io("joining the sandbox", e))
            .and_then(high)
    };
    let joined_v2 = extras
        .join
        .as_ref()
        .and_then(|j| j.into.as_ref())
        .map(|f| dup_high(f.as_fd()))
        .transpose()?;
    let joined_v2 = joined_v2.as_ref().map(|f| f.as_fd());
    let enter = extras
        .enter
        .map(|(fd, flags)| dup_high(fd).map(|fd| (fd, flags)))
        .transpose()?;
    let (placement, how) = match cgroup.map(|c| c.clone_into()) {
        None if joined_v2.is_some() => (
            sys::clone::Cgroup::Into(joined_v2.expect("checked")),
            "born in the sandbox's (CLONE_INTO_CGROUP)",
        ),
        None if !join_fds.is_empty() => {
            (sys::clone::Cgroup::Join(&join_fds), "joined the sandbox's")
        }
        None => (sys::clone::Cgroup::Inherit, "the launcher's"),
        Some(Some(fd)) => (
            sys::clone::Cgroup::Into(fd),
            "born in its own (CLONE_INTO_CGROUP)",
        ),
        Some(None) => (sys::clone::Cgroup::Join(&join_fds), "joined its own"),
    };
    let opts = sys::clone::Options {
        enter: enter.as_ref().map(|(fd, flags)| (fd.as_fd(), *flags)),
        detach: extras.detach,
    };
    let (pidfd, pid) = sys::clone::spawn_init(flags, &fds, placement, opts).map_err(|e| {
        let what = match cgroup {
            Some(c) if c.clone_into().is_some() => format!(
                "creating the sandbox namespaces in the cgroup {} (clone3)",
                c.dirs()[0].path.display()
            ),
            _ => "creating the sandbox namespaces (clone3)".to_owned(),
        };
        Error::io(what, e)
    })?;
    drop((init, plan_rd, status_wr, join_fds, start, console));
    drop(join);
    tracing::debug!(pid, cgroup = how, "nucleus-init cloned");
    let handed_over = userns
        .map_or(Ok(()), |ns| userns::write_maps(pid, ns))
        .and_then(|()| {
            write_all(&plan_wr, plan).map_err(|e| Error::io("passing the plan to nucleus-init", e))
        });
    if let Err(e) = handed_over {
        // The child may be anywhere before init's first step: end it and collect it here, so
        // that neither it nor (once it is gone) its cgroup outlives this error.
        let _ = rustix::process::pidfd_send_signal(&pidfd, rustix::process::Signal::KILL);
        let _ = wait_exit(&pidfd);
        return Err(e);
    }
    Ok(Started {
        pidfd,
        pid,
        status_rd,
    })
}

pub fn namespace_flags(cfg: &Config) -> u64 {
    let mut f = libc::CLONE_NEWPID | libc::CLONE_NEWNS;
    // `run` creates them all; an OCI bundle may share some with the host.
    for (new, flag) in [
        (cfg.namespaces.uts, libc::CLONE_NEWUTS),
        (cfg.namespaces.ipc, libc::CLONE_NEWIPC),
        (cfg.namespaces.cgroup, libc::CLONE_NEWCGROUP),
        (cfg.network == Network::None, libc::CLONE_NEWNET),
    ] {
        if new {
            f |= flag;
        }
    }
    f as u64
}

/// Writes all of `bytes`; the pipe's write end closes when the caller drops it.
fn write_all(fd: &OwnedFd, bytes: &[u8]) -> io::Result<()> {
    let mut rest = bytes;
    while !rest.is_empty() {
        match rustix::io::write(fd, rest) {
            Ok(n) => rest = &rest[n..],
            Err(rustix::io::Errno::INTR) => {}
            Err(e) => return Err(e.into()),
        }
    }
    Ok(())
}

/// Waits for init to exit while relaying signals, collecting a failure record (if any) and
/// feeding the seccomp watcher (if any).
fn supervise(
    pidfd: &OwnedFd,
    status_rd: &OwnedFd,
    signals: &OwnedFd,
    mut watcher: Option<&mut Watcher>,
    mut terminal: Option<&mut crate::tty::Session>,
) -> Result<(i32, Option<StatusRecord>), Error> {
    let mut record_buf = [0u8; StatusRecord::LEN];
    let mut record_len = 0;
    let mut status_open = true;
    loop {
        // Fixed slots: 0 init, 1 signals, 2 status pipe, 3 watcher (absent ones never ready).
        let mut ready = [false; 4];
        {
            let mut fds = vec![
                PollFd::new(pidfd, PollFlags::IN),
                PollFd::new(signals, PollFlags::IN),
            ];
            let mut slots = vec![0, 1];
            if status_open {
                fds.push(PollFd::new(status_rd, PollFlags::IN));
                slots.push(2);
            }
            if let Some(w) = watcher.as_deref() {
                fds.push(PollFd::new(w, PollFlags::IN));
                slots.push(3);
            }
            match rustix::event::poll(&mut fds, None) {
                Ok(_) | Err(rustix::io::Errno::INTR) => {}
                Err(e) => return Err(Error::io("waiting for the sandbox", e.into())),
            }
            for (fd, slot) in fds.iter().zip(slots) {
                ready[slot] = !fd.revents().is_empty();
            }
        }
        if ready[1] {
            while let Some(sig) = sys::signals::read_one(signals) {
                // With a pty, the size is the signal: the kernel tells the sandbox's
                // foreground job itself.
                if let (libc::SIGWINCH, Some(t)) = (sig, terminal.as_deref_mut()) {
                    t.resize();
                    continue;
                }
                tracing::debug!(sig, "forwarding signal");
                if let Some(sig) = Signal::from_named_raw(sig) {
                    let _ = rustix::process::pidfd_send_signal(pidfd, sig);
                }
            }
        }
        if ready[2] {
            status_open = read_record(status_rd, &mut record_buf, &mut record_len);
        }
        if ready[3]
            && let Some(w) = watcher.as_deref_mut()
        {
            w.drain();
        }
        if ready[0] {
            let status = wait_exit(pidfd)?;
            // Every writer of the status pipe is gone now; collect what they said.
            while status_open {
                status_open = read_record(status_rd, &mut record_buf, &mut record_len);
            }
            let record = (record_len == StatusRecord::LEN)
                .then(|| StatusRecord::decode(&record_buf))
                .flatten();
            return Ok((status, record));
        }
    }
}

/// One status record: read until it is complete, or until the pipe's end (then none).
pub fn read_status(fd: impl AsFd) -> Option<StatusRecord> {
    let mut buf = [0u8; StatusRecord::LEN];
    let mut len = 0;
    while read_record(&fd, &mut buf, &mut len) {}
    (len == buf.len())
        .then(|| StatusRecord::decode(&buf))
        .flatten()
}

/// Reads into the record buffer; false at end of file (or once it is full).
fn read_record(fd: impl AsFd, buf: &mut [u8; StatusRecord::LEN], len: &mut usize) -> bool {
    if *len == buf.len() {
        return false;
    }
    match rustix::io::read(fd, &mut buf[*len..]) {
        Ok(0) => false,
        Ok(n) => {
            *len += n;
            true
        }
        Err(rustix::io::Errno::INTR | rustix::io::Errno::AGAIN) => true,
        Err(_) => false,
    }
}

/// init's exit code, or 128 + n if signal n killed it (SIGKILL from outside, say).
fn wait_exit(pidfd: &OwnedFd) -> Result<i32, Error> {
    loop {
        match rustix::process::waitid(
            rustix::process::WaitId::PidFd(pidfd.as_fd()),
            WaitIdOptions::EXITED,
        ) {
            Ok(Some(st)) => {
                return Ok(match (st.exit_status(), st.terminating_signal()) {
                    (Some(code), _) => code,
                    (None, Some(sig)) => 128 + sig,
                    _ => 128,
                });
            }
            Ok(None) | Err(rustix::io::Errno::INTR) => continue,
            Err(e) => return Err(Error::io("collecting the sandbox's exit status", e.into())),
        }
    }
}

#[cfg(test)]
mod tests {
    use nucleus_shared::status::{Step, decode_error_code};
    use nucleus_shared::wire::{DecodeError, MAGIC, VERSION};

    use super::*;

    /// Runs the real init binary with `plan` (no new namespaces: init must refuse the plan
    /// before touching anything) and returns its exit code and status record.
    fn refused(plan: &[u8]) -> (i32, Option<StatusRecord>) {
        let init = start_init(0, plan, None, None, Extras::default()).unwrap();
        let code = wait_exit(&init.pidfd).unwrap();
        (code, read_status(&init.status_rd))
    }

    #[test]
    fn init_refuses_plans_it_does_not_understand_with_a_status_record() {
        let mut other_version = MAGIC.to_vec();
        other_version.extend_from_slice(&(VERSION + 1).to_le_bytes());
        other_version.extend_from_slice(&0u32.to_le_bytes());
        let mut unknown_op = MAGIC.to_vec();
        unknown_op.extend_from_slice(&VERSION.to_le_bytes());
        unknown_op.extend_from_slice(&1u32.to_le_bytes());
        unknown_op.push(0xee);
        let cases: [(&[u8], DecodeError); 4] = [
            (b"", DecodeError::Truncated),
            (b"GARBAGE GARBAGE GARBAGE", DecodeError::BadMagic),
            (&other_version, DecodeError::BadVersion(VERSION + 1)),
            (&unknown_op, DecodeError::UnknownOp(0xee)),
        ];
        for (plan, expected) in cases {
            let (code, record) = refused(plan);
            assert_eq!(code, crate::error::exit::RUNTIME, "{expected:?}");
            let record = record.unwrap_or_else(|| panic!("no status record for {expected:?}"));
            assert_eq!(record.step, Step::DecodePlan);
            assert_eq!(record.errno, decode_error_code(expected));
        }
    }
}
