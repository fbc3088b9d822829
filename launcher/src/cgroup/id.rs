//! Sandbox ids (`run --name`, or generated) and the names of their cgroup directories.
//!
//! A sandbox's directory is `ID@PID.START`: the launcher's pid and its start time (clock ticks
//! since boot, field 22 of `/proc/PID/stat`). cgroup file systems hold no files of ours, so the
//! name is where a later launcher reads whose sandbox it is and whether that launcher still
//! runs: the pid alone could have been reused, pid and start time together cannot. `@` is not
//! allowed in ids, so the split is unambiguous. A sandbox that outlives its launcher has
//! `ID@PID.START.kept` (see [`kept_dir_name`]).

use std::path::Path;

use crate::error::Error;

/// Longest id accepted (the directory name adds at most 42 bytes; NAME_MAX is 255).
pub const MAX_LEN: usize = 128;

/// An id given with `--name`: 1 to 128 of `[A-Za-z0-9_.-]`, starting with a letter or digit
/// (docker's rule; so no `.`, `..`, `/` or NUL, and nothing that looks like an option).
pub fn validate(raw: &str) -> Result<String, Error> {
    validate_as("--name", raw)
}

/// [`validate`], naming the id `what` in the error (`sandbox id`, `ID`).
pub fn validate_as(what: &str, raw: &str) -> Result<String, Error> {
    let bad = |why: &str| Err(Error::usage(format!("{what} {raw:?}: {why}")));
    if raw.is_empty() {
        return bad("empty");
    }
    if raw.len() > MAX_LEN {
        return bad(&format!("longer than {MAX_LEN} characters"));
    }
    if !raw.starts_with(|c: char| c.is_ascii_alphanumeric()) {
        return bad("must start with a letter or digit");
    }
    if let Some(c) = raw
        .chars()
        .find(|c| !(c.is_ascii_alphanumeric() || matches!(c, '_' | '.' | '-')))
    {
        return bad(&format!(
            "{c:?} is not allowed (only letters, digits, '_', '.' and '-')"
        ));
    }
    Ok(raw.to_owned())
}

/// A fresh id: 12 random hex digits, like docker's short ids.
pub fn generate() -> String {
    let mut bytes = [0u8; 6];
    let filled =
        rustix::rand::getrandom(&mut bytes, rustix::rand::GetRandomFlags::empty()).unwrap_or(0);
    if filled < bytes.len() {
        // No entropy to be had: pid and time still make it unique on this host.
        let nanos = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.as_nanos() as u64);
        let mix = nanos ^ (u64::from(std::process::id()) << 32);
        bytes.copy_from_slice(&mix.to_le_bytes()[..6]);
    }
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// A launcher: its pid and start time.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub struct Launcher {
    pub start: u64,
    pub pid: u32,
}

impl Launcher {
    /// This process.
    pub fn current() -> Self {
        let pid = std::process::id();
        Launcher {
            pid,
            start: start_time(Path::new("/proc"), pid).unwrap_or(0),
        }
    }

    /// Whether it still runs: a process with its pid and the same start time exists in
    /// `proc` (normally `/proc`).
    pub fn alive(&self, proc: &Path) -> bool {
        start_time(proc, self.pid) == Some(self.start)
    }
}

/// Field 22 (starttime) of `PROC/PID/stat`.
pub fn start_time(proc: &Path, pid: u32) -> Option<u64> {
    state_and_start(proc, pid).map(|(_, start)| start)
}

/// Fields 3 (state: `R`, `S`, `Z`, ...) and 22 (starttime) of `PROC/PID/stat`, in one read.
pub fn state_and_start(proc: &Path, pid: u32) -> Option<(char, u64)> {
    let stat = super::fs::read_small(&proc.join(pid.to_string()).join("stat")).ok()?;
    // The command name (field 2) is in parentheses and may hold spaces and ')'.
    let mut after = stat[stat.rfind(')')? + 1..].split_whitespace();
    let state = after.next()?.chars().next()?;
    Some((state, after.nth(18)?.parse().ok()?))
}

/// `ID@PID.START`.
pub fn dir_name(id: &str, launcher: Launcher) -> String {
    format!("{id}@{}.{}", launcher.pid, launcher.start)
}

/// What marks the directory of a sandbox that outlives its launcher (`run -d`, OCI `create`).
const KEPT: &str = ".kept";

/// `ID@PID.START.kept`: the directory of a sandbox that outlives the launcher `launcher` that
/// made it. Its launcher being gone says nothing about it (the stale sweep leaves it alone);
/// it is removed by `delete` from its record. Older launchers do not parse it either.
pub fn kept_dir_name(id: &str, launcher: Launcher) -> String {
    format!("{}{KEPT}", dir_name(id, launcher))
}

/// The id and launcher of a directory named by [`kept_dir_name`]; None for anything else.
pub fn parse_kept_dir_name(name: &str) -> Option<(&str, Launcher)> {
    parse_dir_name(name.strip_suffix(KEPT)?)
}

/// The id and launcher of a directory named by [`dir_name`]; None for anything else.
pub fn parse_dir_name(name: &str) -> Option<(&str, Launcher)> {
    let (id, owner) = name.rsplit_once('@')?;
    let (pid, start) = owner.split_once('.')?;
    let launcher = Launcher {
        pid: pid.parse().ok()?,
        start: start.parse().ok()?,
    };
    (!id.is_empty() && validate(id).is_ok()).then_some((id, launcher))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_follow_dockers_rule() {
        for ok in ["web", "a", "agent-7.run_2", "0abc", &"x".repeat(MAX_LEN)] {
            assert_eq!(validate(ok).unwrap(), ok);
        }
        for bad in [
            "",
            ".",
            "..",
            "../x",
            "a/b",
            "-x",
            "_x",
            ".hidden",
            "a b",
            "a@b",
            "a\0b",
            "é",
            &"x".repeat(MAX_LEN + 1),
        ] {
            let e = validate(bad).unwrap_err().to_string();
            assert!(e.starts_with("--name "), "{bad:?}: {e}");
        }
    }

    #[test]
    fn generated_ids_are_valid_and_differ() {
        let (a, b) = (generate(), generate());
        assert_eq!(a.len(), 12);
        assert!(validate(&a).is_ok());
        assert_ne!(a, b);
    }

    #[test]
    fn dir_names_round_trip() {
        let l = Launcher {
            pid: 4242,
            start: 123_456,
        };
        let name = dir_name("my.box-1", l);
        assert_eq!(name, "my.box-1@4242.123456");
        assert_eq!(parse_dir_name(&name), Some(("my.box-1", l)));
        for other in [
            "nucleus", "x@", "x@1", "x@a.b", "@1.2", "x@1.2.3", "../x@1.2",
        ] {
            assert_eq!(parse_dir_name(other), None, "{other:?}");
        }
        // The kept form is apart: neither parser takes the other's names.
        let kept = kept_dir_name("my.box-1", l);
        assert_eq!(kept, "my.box-1@4242.123456.kept");
        assert_eq!(parse_kept_dir_name(&kept), Some(("my.box-1", l)));
        assert_eq!(parse_dir_name(&kept), None);
        assert_eq!(parse_kept_dir_name(&name), None);
        assert_eq!(parse_kept_dir_name("x@1.kept"), None);
    }

    #[test]
    fn liveness_needs_pid_and_start_time() {
        let me = Launcher::current();
        assert!(me.start > 0);
        assert!(me.alive(Path::new("/proc")));
        let reused = Launcher {
            start: me.start + 1,
            ..me
        };
        assert!(!reused.alive(Path::new("/proc")));
        // A fixture /proc: a stat line whose command holds ") " and spaces.
        let dir = std::env::temp_dir().join(format!("nucleus-id-test-{}", std::process::id()));
        std::fs::create_dir_all(dir.join("77")).unwrap();
        let stat = "77 (a) b (c) S 1 77 77 0 -1 4194560 100 0 0 0 0 0 0 0 20 0 1 0 9999 0 0";
        std::fs::write(dir.join("77/stat"), stat).unwrap();
        assert_eq!(start_time(&dir, 77), Some(9999));
        assert!(
            Launcher {
                pid: 77,
                start: 9999
            }
            .alive(&dir)
        );
        assert!(
            !Launcher {
                pid: 78,
                start: 9999
            }
            .alive(&dir)
        );
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
