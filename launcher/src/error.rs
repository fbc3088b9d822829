//! Errors of the launcher and the exit codes they map to (docker's conventions).

use std::fmt;
use std::io;

/// Exit codes of nucleus itself; anything else is the workload's own status.
pub mod exit {
    /// nucleus failed, or was used wrongly.
    pub const RUNTIME: i32 = 125;
    /// The command exists but cannot be executed.
    pub const CANNOT_EXECUTE: i32 = 126;
    /// The command was not found.
    pub const NOT_FOUND: i32 = 127;
}

#[derive(Debug)]
pub enum Error {
    /// Bad command line or configuration; nothing was started.
    Usage(String),
    /// Setting up the sandbox failed.
    Runtime(String),
    /// The workload could not be executed (126) or found (127).
    Exec { code: i32, message: String },
}

impl Error {
    pub fn usage(msg: impl Into<String>) -> Self {
        Error::Usage(msg.into())
    }

    pub fn runtime(msg: impl Into<String>) -> Self {
        Error::Runtime(msg.into())
    }

    /// A failed system call of the launcher itself: what it was doing, and why it failed.
    pub fn io(what: impl fmt::Display, e: io::Error) -> Self {
        Error::Runtime(format!("{what}: {}", io_text(&e)))
    }

    pub fn exit_code(&self) -> i32 {
        match self {
            Error::Usage(_) | Error::Runtime(_) => exit::RUNTIME,
            Error::Exec { code, .. } => *code,
        }
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Error::Usage(m) | Error::Runtime(m) | Error::Exec { message: m, .. } => f.write_str(m),
        }
    }
}

/// The OS error's sentence without Rust's " (os error N)" suffix.
pub fn io_text(e: &io::Error) -> String {
    match e.raw_os_error() {
        Some(n) => errno_text(n),
        None => e.to_string(),
    }
}

pub fn errno_text(errno: i32) -> String {
    let s = io::Error::from_raw_os_error(errno).to_string();
    match s.find(" (os error") {
        Some(i) => s[..i].to_owned(),
        None => s,
    }
}
