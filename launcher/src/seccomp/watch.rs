//! Watching a running sandbox's seccomp audit records: `--seccomp-trace` (collect every call
//! into a trace file) and `--seccomp-log-denied` (one JSON line per denial, on stderr).
//!
//! Records come from the audit multicast group, or `/dev/kmsg` where that is not allowed (see
//! `audit` and `kmsg` for why the first is preferred and what the second loses). They are
//! attributed to the sandbox by audit session: before cloning the sandbox, the launcher
//! writes its uid to `/proc/self/loginuid`, which gives it (and so every process of the
//! sandbox, which inherit it) a fresh session id that appears as `ses=` in each record. No
//! other process on the host carries it, and processes that have already exited are still
//! recognised, which a per-pid check could not do.

use std::io;
use std::path::PathBuf;

use nucleus_shared::seccomp::arch::Arch;
use nucleus_shared::seccomp::bpf::{RET_ACTION_FULL, RET_ALLOW, RET_ERRNO, RET_LOG};
use nucleus_shared::seccomp::disasm::ret_name;
use nucleus_shared::seccomp::tables;
use rustix::fd::{AsFd, BorrowedFd};

use super::trace::Trace;
use crate::audit::AuditReader;
use crate::error::Error;
use crate::kmsg::{KmsgEvent, KmsgReader, SeccompRecord};

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Mode {
    /// Record every call; write the trace here when the sandbox ends.
    Trace(PathBuf),
    /// Print each denied call as it happens.
    LogDenied,
}

enum Source {
    Audit(AuditReader),
    Kmsg(KmsgReader),
}

pub struct Watcher {
    source: Source,
    mode: Mode,
    session: u32,
    trace: Trace,
}

/// Gives this process a new audit session and returns its id.
///
/// The login uid written is the one already there (who logged in stays on record), or ours
/// when none is set: any write starts a new session, which is all attribution needs.
fn new_audit_session() -> io::Result<u32> {
    let current = std::fs::read_to_string("/proc/self/loginuid")?;
    let loginuid = match current.trim() {
        "4294967295" => rustix::process::getuid().as_raw().to_string(),
        set => set.to_owned(),
    };
    std::fs::write("/proc/self/loginuid", loginuid)?;
    let id: u32 = std::fs::read_to_string("/proc/self/sessionid")?
        .trim()
        .parse()
        .map_err(|_| io::Error::other("unreadable /proc/self/sessionid"))?;
    if id == u32::MAX {
        return Err(io::Error::other(
            "the kernel gave no audit session (audit disabled?)",
        ));
    }
    Ok(id)
}

impl Watcher {
    /// Opens a record source and starts a session for the sandbox. On failure, says why on
    /// stderr and returns `None`: the sandbox still runs, untraced.
    pub fn open(mode: Mode) -> Option<Self> {
        let what = match mode {
            Mode::Trace(_) => "--seccomp-trace",
            Mode::LogDenied => "--seccomp-log-denied",
        };
        let source = match AuditReader::open() {
            Ok(a) => Source::Audit(a),
            Err(audit_err) => match KmsgReader::open() {
                Ok(k) => {
                    eprintln!(
                        "nucleus-launch: {what}: audit multicast unavailable ({audit_err}); reading /dev/kmsg, \
                         where the kernel's printk rate limit drops most records (drops are counted)"
                    );
                    Source::Kmsg(k)
                }
                Err(e) => {
                    eprintln!(
                        "nucleus-launch: {what}: cannot read audit records ({audit_err}; /dev/kmsg: {e}); running untraced"
                    );
                    return None;
                }
            },
        };
        // SECCOMP_RET_LOG only reaches the audit log if the kernel is set to log that action.
        let logged =
            std::fs::read_to_string("/proc/sys/kernel/seccomp/actions_logged").unwrap_or_default();
        if matches!(mode, Mode::Trace(_)) && !logged.split_whitespace().any(|a| a == "log") {
            eprintln!(
                "nucleus-launch: {what}: this kernel does not log SECCOMP_RET_LOG (kernel.seccomp.actions_logged \
                 lacks \"log\"); running untraced"
            );
            return None;
        }
        match new_audit_session() {
            Ok(session) => Some(Watcher {
                source,
                mode,
                session,
                trace: Trace::new(),
            }),
            Err(e) => {
                eprintln!(
                    "nucleus-launch: {what}: cannot start an audit session to recognise the sandbox's records ({e}); running untraced"
                );
                None
            }
        }
    }

    /// Collects what has arrived. Called whenever the fd is readable, and once at the end.
    pub fn drain(&mut self) {
        let session = self.session;
        let (mode, trace) = (&self.mode, &mut self.trace);
        let mut handle = |event: KmsgEvent| match event {
            KmsgEvent::Seccomp(rec) if rec.ses == session => match mode {
                Mode::Trace(_) => trace.add(&rec),
                Mode::LogDenied => log_denied(&rec),
            },
            KmsgEvent::Seccomp(_) => {}
            KmsgEvent::Suppressed(n) => trace.add_lost(n),
        };
        let result = match &mut self.source {
            Source::Audit(a) => a.read_available(&mut handle),
            Source::Kmsg(k) => k.read_available(&mut handle),
        };
        if let Err(e) = result {
            tracing::warn!("reading audit records: {e}");
        }
    }

    /// Last collection; writes the trace file. Lost records are reported, not hidden.
    pub fn finish(mut self) -> Result<(), Error> {
        self.drain();
        let lost = self.trace.lost();
        if lost > 0 {
            eprintln!(
                "nucleus-launch: seccomp records lost by the kernel or our reader: {lost}; the trace may be incomplete"
            );
        }
        if let Mode::Trace(path) = &self.mode {
            std::fs::write(path, self.trace.to_ndjson())
                .map_err(|e| Error::io(format!("writing the trace {}", path.display()), e))?;
        }
        Ok(())
    }
}

impl AsFd for Watcher {
    fn as_fd(&self) -> BorrowedFd<'_> {
        match &self.source {
            Source::Audit(a) => a.as_fd(),
            Source::Kmsg(k) => k.as_fd(),
        }
    }
}

/// One JSON line on stderr per denied call (allowed and merely logged calls are not denials).
fn log_denied(rec: &SeccompRecord) {
    let action = rec.code & RET_ACTION_FULL;
    if action == RET_ALLOW || action == RET_LOG {
        return;
    }
    let name = Arch::from_audit(rec.arch).and_then(|a| tables::name(a, rec.syscall));
    let line = serde_json::json!({
        "pid": rec.pid,
        "comm": rec.comm,
        "syscall": rec.syscall,
        "name": name,
        "arch": super::trace::arch_label(rec.arch),
        // The audit record keeps the action but not the errno value.
        "action": if action == RET_ERRNO { "ERRNO".to_owned() } else { ret_name(rec.code) },
    });
    eprintln!("{line}");
}
