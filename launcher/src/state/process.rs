//! A process named by pid and start time, so that a reused pid is never taken for it.

use std::path::Path;

use rustix::fd::OwnedFd;
use serde_json::{Value, json};

use crate::error::Error;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Init {
    pub pid: u32,
    /// Field 22 of `/proc/PID/stat`.
    pub start: u64,
}

impl Init {
    pub fn current() -> Self {
        Self::of(std::process::id()).unwrap_or(Init {
            pid: std::process::id(),
            start: 0,
        })
    }

    /// The process with this pid now, if any.
    pub fn of(pid: u32) -> Option<Self> {
        crate::cgroup::id::start_time(Path::new("/proc"), pid).map(|start| Init { pid, start })
    }

    /// Still there, and not a zombie waiting for its parent.
    pub fn alive(&self) -> bool {
        matches!(
            crate::cgroup::id::state_and_start(Path::new("/proc"), self.pid),
            Some((state, start)) if start == self.start && state != 'Z' && state != 'X'
        )
    }

    /// A pidfd for it, proven to name this very process: opened first, then checked, so the
    /// pid cannot be reused between the check and the use.
    pub fn pidfd(&self) -> Option<OwnedFd> {
        let pid = rustix::process::Pid::from_raw(self.pid as i32)?;
        let fd = rustix::process::pidfd_open(pid, rustix::process::PidfdFlags::empty()).ok()?;
        self.alive().then_some(fd)
    }

    pub fn to_json(self) -> Value {
        json!({ "pid": self.pid, "start": self.start.to_string() })
    }

    pub fn from_json(v: &Value) -> Option<Self> {
        Some(Init {
            pid: u32::try_from(v.get("pid")?.as_u64()?).ok()?,
            start: v.get("start")?.as_str()?.parse().ok()?,
        })
    }
}

/// A signal given as a number, or a name with or without `SIG` (`TERM`, `SIGKILL`, `9`).
pub fn signal_number(raw: &str) -> Result<i32, Error> {
    const NAMES: [&str; 31] = [
        "HUP", "INT", "QUIT", "ILL", "TRAP", "ABRT", "BUS", "FPE", "KILL", "USR1", "SEGV", "USR2",
        "PIPE", "ALRM", "TERM", "STKFLT", "CHLD", "CONT", "STOP", "TSTP", "TTIN", "TTOU", "URG",
        "XCPU", "XFSZ", "VTALRM", "PROF", "WINCH", "IO", "PWR", "SYS",
    ];
    let bad = || {
        Error::usage(format!(
            "signal {raw:?}: not a signal name (TERM, SIGKILL, ...) or number (1-64)"
        ))
    };
    if let Ok(n) = raw.parse::<i32>() {
        return if (1..=64).contains(&n) {
            Ok(n)
        } else {
            Err(bad())
        };
    }
    let upper = raw.to_ascii_uppercase();
    let name = upper.strip_prefix("SIG").unwrap_or(&upper);
    if let Some(i) = NAMES.iter().position(|n| *n == name) {
        return Ok(i as i32 + 1);
    }
    let (min, max) = (libc::SIGRTMIN(), libc::SIGRTMAX());
    let offset = |rest: &str, sign: char| -> Option<i32> {
        match rest {
            "" => Some(0),
            r => r.strip_prefix(sign)?.parse().ok(),
        }
    };
    let by_rt = if let Some(rest) = name.strip_prefix("RTMIN") {
        offset(rest, '+').map(|o| min + o)
    } else if let Some(rest) = name.strip_prefix("RTMAX") {
        offset(rest, '-').map(|o| max - o)
    } else {
        None
    };
    by_rt.filter(|n| (min..=max).contains(n)).ok_or_else(bad)
}
