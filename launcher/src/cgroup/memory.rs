//! The memory controller: limit, reservation, swap; OOM kills; usage.
//!
//! v1 files: `memory.limit_in_bytes`, `memory.memsw.limit_in_bytes` (memory plus swap; only
//! with swap accounting), `memory.soft_limit_in_bytes`, `memory.oom_control` (`oom_kill N`),
//! `memory.usage_in_bytes`, `memory.max_usage_in_bytes`.
//! v2 files: `memory.max`, `memory.swap.max` (swap alone), `memory.low`, `memory.events`
//! (`oom_kill N`), `memory.current`, `memory.peak` (Linux 5.19).

use std::path::Path;

use super::config::{Limits, Swap};
use super::report::Report;
use super::units::human_bytes;
use super::{Version, set_all};
use crate::error::Error;

/// The (file, value) writes for `l`, in order, and what each enforces. `has` says whether the
/// kernel offers a file (read in the sandbox's parent, which has the same files).
pub fn writes(
    v: Version,
    l: &Limits,
    has: &dyn Fn(&str) -> bool,
    report: &mut Report,
) -> Vec<(&'static str, String)> {
    let mut w = Vec::new();
    if let Some(m) = l.memory {
        let file = match v {
            Version::V1 => "memory.limit_in_bytes",
            Version::V2 => "memory.max",
        };
        w.push((file, m.to_string()));
        report.enforce(format!("memory {}", human_bytes(m)));
        // v1 counts memory plus swap; v2 counts swap alone.
        let (swap_file, value) = match (v, l.swap) {
            (Version::V1, Swap::Off) => ("memory.memsw.limit_in_bytes", Some(m)),
            (Version::V2, Swap::Off) => ("memory.swap.max", Some(0)),
            (Version::V1, Swap::Total(t)) => ("memory.memsw.limit_in_bytes", Some(t)),
            (Version::V2, Swap::Total(t)) => ("memory.swap.max", Some(t - m)),
            (_, Swap::Unlimited) => ("", None),
        };
        let (what, explicit) = match l.swap {
            Swap::Total(t) => (format!("--memory-swap {}", human_bytes(t)), true),
            _ => ("swap off".to_owned(), false),
        };
        if let Some(value) = value {
            if has(swap_file) {
                w.push((swap_file, value.to_string()));
                report.enforce(what);
            } else if swap_total() == Some(0) {
                // Nothing to limit: the host has no swap at all.
                report.enforce(format!("{what} (the host has no swap)"));
            } else {
                report.miss(
                    what,
                    explicit,
                    format!("no {swap_file}: swap accounting is off"),
                );
            }
        }
    }
    if let Some(r) = l.memory_reservation {
        let file = match v {
            Version::V1 => "memory.soft_limit_in_bytes",
            Version::V2 => "memory.low",
        };
        w.push((file, r.to_string()));
        report.enforce(format!("memory reservation {}", human_bytes(r)));
    }
    w
}

/// Applies `l` to the sandbox's memory cgroup `dir` (whose parent is `parent`).
pub fn apply(
    v: Version,
    dir: &Path,
    parent: &Path,
    l: &Limits,
    report: &mut Report,
) -> Result<(), Error> {
    let has = |f: &str| parent.join(f).exists();
    set_all(dir, writes(v, l, &has, report))
}

/// The host's swap size from `/proc/meminfo`, in kB.
fn swap_total() -> Option<u64> {
    let meminfo = std::fs::read_to_string("/proc/meminfo").ok()?;
    meminfo.lines().find_map(|l| {
        let rest = l.strip_prefix("SwapTotal:")?;
        rest.trim().trim_end_matches("kB").trim().parse().ok()
    })
}

/// How many processes of the sandbox the OOM killer killed.
pub fn oom_kills(v: Version, dir: &Path) -> u64 {
    let (file, key) = match v {
        Version::V1 => ("memory.oom_control", "oom_kill"),
        Version::V2 => ("memory.events", "oom_kill"),
    };
    super::fs::read(&dir.join(file))
        .and_then(|t| super::fs::keyed(&t, key))
        .unwrap_or(0)
}

/// (current, peak, limit) in bytes; peak and limit may be unknown or unlimited.
pub fn usage(v: Version, dir: &Path) -> (Option<u64>, Option<u64>, Option<u64>) {
    let n = |f: &str| super::fs::read_number(&dir.join(f)).flatten();
    match v {
        Version::V1 => (
            n("memory.usage_in_bytes"),
            n("memory.max_usage_in_bytes"),
            n("memory.limit_in_bytes"),
        ),
        Version::V2 => (n("memory.current"), n("memory.peak"), n("memory.max")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn limits(memory: u64, swap: Swap) -> Limits {
        Limits {
            memory: Some(memory),
            swap,
            ..Limits::default()
        }
    }

    #[test]
    fn v1_limits_memory_plus_swap() {
        let mut r = Report::default();
        let w = writes(
            Version::V1,
            &limits(256 << 20, Swap::Off),
            &|_| true,
            &mut r,
        );
        assert_eq!(
            w,
            [
                ("memory.limit_in_bytes", "268435456".to_owned()),
                ("memory.memsw.limit_in_bytes", "268435456".to_owned()),
            ]
        );
        assert_eq!(r.enforced, ["memory 256 MiB", "swap off"]);
        let w = writes(
            Version::V1,
            &limits(256 << 20, Swap::Total(1 << 30)),
            &|_| true,
            &mut Report::default(),
        );
        assert_eq!(
            w[1],
            ("memory.memsw.limit_in_bytes", "1073741824".to_owned())
        );
    }

    #[test]
    fn v2_limits_swap_alone() {
        let mut r = Report::default();
        let l = Limits {
            memory_reservation: Some(64 << 20),
            ..limits(256 << 20, Swap::Total(384 << 20))
        };
        let w = writes(Version::V2, &l, &|_| true, &mut r);
        assert_eq!(
            w,
            [
                ("memory.max", "268435456".to_owned()),
                ("memory.swap.max", "134217728".to_owned()),
                ("memory.low", "67108864".to_owned()),
            ]
        );
        assert_eq!(
            r.enforced,
            [
                "memory 256 MiB",
                "--memory-swap 384 MiB",
                "memory reservation 64 MiB"
            ]
        );
        let w = writes(Version::V2, &limits(8 << 20, Swap::Off), &|_| true, &mut r);
        assert_eq!(w[1], ("memory.swap.max", "0".to_owned()));
        let w = writes(
            Version::V2,
            &limits(8 << 20, Swap::Unlimited),
            &|_| true,
            &mut r,
        );
        assert_eq!(w.len(), 1);
    }

    #[test]
    fn missing_swap_accounting_is_reported_not_fatal() {
        let mut r = Report::default();
        let w = writes(
            Version::V1,
            &limits(64 << 20, Swap::Total(128 << 20)),
            &|f| f != "memory.memsw.limit_in_bytes",
            &mut r,
        );
        assert_eq!(w.len(), 1);
        if swap_total() != Some(0) {
            assert_eq!(r.missing.len(), 1);
            assert!(r.missing[0].item.explicit);
            assert!(r.missing[0].why.contains("swap accounting"));
        }
    }

    #[test]
    fn oom_kills_from_each_layout() {
        let dir = std::env::temp_dir().join(format!("nucleus-mem-test-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        assert_eq!(oom_kills(Version::V2, &dir), 0);
        std::fs::write(
            dir.join("memory.events"),
            "low 0\nhigh 0\nmax 40\noom 1\noom_kill 1\noom_group_kill 0\n",
        )
        .unwrap();
        std::fs::write(
            dir.join("memory.oom_control"),
            "oom_kill_disable 0\nunder_oom 0\noom_kill 2\n",
        )
        .unwrap();
        assert_eq!(oom_kills(Version::V2, &dir), 1);
        assert_eq!(oom_kills(Version::V1, &dir), 2);
        std::fs::write(dir.join("memory.current"), "1048576\n").unwrap();
        std::fs::write(dir.join("memory.max"), "max\n").unwrap();
        assert_eq!(usage(Version::V2, &dir), (Some(1 << 20), None, None));
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
