//! How loudly an enforcement report is said, shared by every best-effort layer (Landlock,
//! cgroups): quiet when everything asked for holds, louder the more it matters that it does
//! not.

/// How loudly to say it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Level {
    /// Something the user asked for by name is not enforced: one line on stderr.
    Warn,
    /// A default is not enforced: the isolation is weaker than on a capable host.
    Info,
    /// Everything is enforced.
    Debug,
}

impl Level {
    pub fn of(named_missing: bool, anything_missing: bool) -> Level {
        if named_missing {
            Level::Warn
        } else if anything_missing {
            Level::Info
        } else {
            Level::Debug
        }
    }

    /// Logs `line` at this level.
    pub fn log(self, line: &str) {
        match self {
            Level::Warn => tracing::warn!("{line}"),
            Level::Info => tracing::info!("{line}"),
            Level::Debug => tracing::debug!("{line}"),
        }
    }
}
