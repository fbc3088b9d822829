//! Validating the resource-limit options into [`Settings`]. Every bad value is refused here,
//! naming the option and the value, before anything touches the system.

use std::path::Path;

use super::cli::CgroupArgs;
use super::id;
use super::layout::Manager;
use super::units;
use crate::error::Error;

/// The pids limit every sandbox gets unless `--pids-limit` says otherwise.
pub const DEFAULT_PIDS_LIMIT: u64 = 1024;
/// The smallest `--memory` accepted: docker's floor. init itself needs far less (about
/// 100 KiB), but the kernel charges page tables, the tmpfs of `/dev` and `/tmp`, and the
/// workload's own start to the same limit; below this, starts fail in confusing ways.
pub const MIN_MEMORY: u64 = 6 << 20;
/// The smallest `--pids-limit`: init and the workload.
pub const MIN_PIDS: u64 = 2;
/// The CFS period nucleus uses for `--cpus` (docker's).
pub const CPU_PERIOD_US: u64 = 100_000;
/// The kernel's smallest CFS quota, 1 ms: `--cpus 0.01` with a 100 ms period.
pub const MIN_CPU_QUOTA_US: u64 = 1_000;

/// Swap for a memory-limited sandbox.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Swap {
    /// No swap (the default with `--memory`).
    Off,
    /// `--memory-swap N`: memory plus swap together.
    Total(u64),
    /// `--memory-swap -1`.
    Unlimited,
}

/// Which `--device-*-bps/iops`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ThrottleKind {
    ReadBps,
    WriteBps,
    ReadIops,
    WriteIops,
}

impl ThrottleKind {
    pub fn option(self) -> &'static str {
        match self {
            ThrottleKind::ReadBps => "--device-read-bps",
            ThrottleKind::WriteBps => "--device-write-bps",
            ThrottleKind::ReadIops => "--device-read-iops",
            ThrottleKind::WriteIops => "--device-write-iops",
        }
    }
}

/// One block device throttle.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Throttle {
    pub kind: ThrottleKind,
    pub major: u32,
    pub minor: u32,
    /// Bytes or operations per second.
    pub rate: u64,
    /// As given, for reports: `--device-read-bps /dev/sda:1mb`.
    pub origin: String,
}

/// The limits, validated.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Limits {
    pub memory: Option<u64>,
    pub memory_reservation: Option<u64>,
    /// Meaningful only with `memory`.
    pub swap: Swap,
    /// CFS quota per [`CPU_PERIOD_US`], from `--cpus`.
    pub cpu_quota_us: Option<u64>,
    /// `--cpus` as given, in billionths.
    pub nano_cpus: Option<u64>,
    pub cpu_shares: Option<u64>,
    /// None: unlimited.
    pub pids: Option<u64>,
    /// Whether `pids` came from `--pids-limit` (else it is the default).
    pub pids_explicit: bool,
    pub blkio_weight: Option<u64>,
    pub throttles: Vec<Throttle>,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            memory: None,
            memory_reservation: None,
            swap: Swap::Off,
            cpu_quota_us: None,
            nano_cpus: None,
            cpu_shares: None,
            pids: Some(DEFAULT_PIDS_LIMIT),
            pids_explicit: false,
            blkio_weight: None,
            throttles: Vec::new(),
        }
    }
}

impl Limits {
    /// Whether any limit was asked for by name (rather than being a default).
    pub fn any_explicit(&self) -> bool {
        self.memory.is_some()
            || self.memory_reservation.is_some()
            || self.cpu_quota_us.is_some()
            || self.cpu_shares.is_some()
            || self.pids_explicit
            || self.blkio_weight.is_some()
            || !self.throttles.is_empty()
    }
}

/// Where sandbox cgroups go, in every hierarchy.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Parent {
    /// Below the launcher's own cgroup.
    Relative(Vec<String>),
    /// From the hierarchy's root (as this process sees it).
    Absolute(Vec<String>),
}

impl Default for Parent {
    fn default() -> Self {
        Parent::Relative(vec!["nucleus".to_owned()])
    }
}

impl Parent {
    pub fn parse(raw: &str) -> Result<Self, Error> {
        let bad = |why: &str| Err(Error::usage(format!("--cgroup-parent {raw:?}: {why}")));
        if raw.contains('\0') {
            return bad("contains a NUL byte");
        }
        let parts: Vec<String> = raw
            .split('/')
            .filter(|c| !c.is_empty() && *c != ".")
            .map(str::to_owned)
            .collect();
        if parts.iter().any(|c| c == "..") {
            return bad("'..' is not allowed");
        }
        if parts.is_empty() {
            return bad("must name a cgroup below the root (e.g. /nucleus)");
        }
        if let Some(p) = parts
            .iter()
            .find(|p| p.contains('@') || p.starts_with("cgroup.") || p.len() > 200)
        {
            return bad(&format!("{p:?} cannot be a cgroup directory name here"));
        }
        Ok(if raw.starts_with('/') {
            Parent::Absolute(parts)
        } else {
            Parent::Relative(parts)
        })
    }

    /// The parent's directory in a hierarchy mounted at `mount` where our own cgroup is `own`.
    pub fn dir(&self, mount: &Path, own: &Path) -> std::path::PathBuf {
        let (base, parts) = match self {
            Parent::Relative(p) => (own, p),
            Parent::Absolute(p) => (mount, p),
        };
        parts.iter().fold(base.to_path_buf(), |d, p| d.join(p))
    }
}

/// Everything about the sandbox's id and cgroups.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Settings {
    /// The sandbox's id: `--name`, or generated.
    pub name: String,
    /// Whether the id was given with `--name` (it then has to be unique).
    pub named: bool,
    pub manager: Manager,
    pub parent: Parent,
    /// Exactly this cgroup instead of a new one below `parent` (OCI `linux.cgroupsPath`).
    pub exact: Option<super::path::CgroupPath>,
    /// The sandbox outlives the launcher (`run -d`, OCI `create`): its directory below `parent`
    /// gets the kept form that stale sweeps leave alone (see `Sandbox::keep`).
    pub detached: bool,
    /// `--cgroup-require`: fail instead of warning when something is not enforced.
    pub require: bool,
    pub limits: Limits,
}

fn bad(option: &str, raw: &str, why: impl std::fmt::Display) -> Error {
    Error::usage(format!("{option} {raw:?}: {why}"))
}

fn size_of(option: &str, raw: &str) -> Result<u64, Error> {
    units::size(raw).ok_or_else(|| {
        bad(
            option,
            raw,
            "not a size (a number with an optional unit b, k, m, g: 256m, 1.5g)",
        )
    })
}

/// The number of CPUs online, from `/sys/devices/system/cpu/online` (`0-3,5`).
pub fn online_cpus() -> u64 {
    let parse = |s: &str| -> Option<u64> {
        let mut n = 0;
        for range in s.trim().split(',') {
            let (a, b) = range.split_once('-').unwrap_or((range, range));
            n += b.parse::<u64>().ok()? - a.parse::<u64>().ok()? + 1;
        }
        Some(n)
    };
    std::fs::read_to_string("/sys/devices/system/cpu/online")
        .ok()
        .and_then(|s| parse(&s))
        .or_else(|| {
            std::thread::available_parallelism()
                .ok()
                .map(|n| n.get() as u64)
        })
        .unwrap_or(1)
}

/// What a path is: (a block device, major, minor).
pub type StatDevice = dyn Fn(&str) -> Result<(bool, u32, u32), std::io::Error>;

/// `PATH:RATE` of a `--device-*` option; `stat` gives a path's (is a block device, major,
/// minor), so that tests need no real disk.
fn throttle(kind: ThrottleKind, raw: &str, stat: &StatDevice) -> Result<Throttle, Error> {
    let option = kind.option();
    let Some((path, rate)) = raw.rsplit_once(':') else {
        return Err(bad(option, raw, "expected PATH:RATE"));
    };
    if !path.starts_with('/') {
        return Err(bad(option, raw, "the device must be an absolute path"));
    }
    let rate = match kind {
        ThrottleKind::ReadBps | ThrottleKind::WriteBps => size_of(option, rate)?,
        _ => rate
            .parse::<u64>()
            .map_err(|_| bad(option, raw, "the rate must be a whole number of operations"))?,
    };
    if rate == 0 {
        return Err(bad(option, raw, "the rate must be more than 0"));
    }
    let (block, major, minor) = stat(path).map_err(|e| {
        bad(
            option,
            raw,
            format!("{path}: {}", crate::error::io_text(&e)),
        )
    })?;
    if !block {
        return Err(bad(option, raw, format!("{path} is not a block device")));
    }
    Ok(Throttle {
        kind,
        major,
        minor,
        rate,
        origin: format!("{option} {raw}"),
    })
}

fn stat_device(path: &str) -> Result<(bool, u32, u32), std::io::Error> {
    let st = rustix::fs::stat(path)?;
    let block =
        rustix::fs::FileType::from_raw_mode(st.st_mode) == rustix::fs::FileType::BlockDevice;
    Ok((
        block,
        rustix::fs::major(st.st_rdev),
        rustix::fs::minor(st.st_rdev),
    ))
}

/// Validates `a` on a host with `cpus` CPUs online.
pub fn resolve(a: &CgroupArgs) -> Result<Settings, Error> {
    resolve_with(a, online_cpus(), &stat_device)
}

pub fn resolve_with(a: &CgroupArgs, cpus: u64, stat: &StatDevice) -> Result<Settings, Error> {
    let (name, named) = match &a.name {
        Some(n) => (id::validate(n)?, true),
        None => (id::generate(), false),
    };
    let manager = match a.manager.as_deref() {
        None => Manager::Auto,
        Some(m) => Manager::parse(m)
            .ok_or_else(|| bad("--cgroup-manager", m, "expected auto, v1, v2 or none"))?,
    };
    let parent = match a.parent.as_deref() {
        None => Parent::default(),
        Some(p) => Parent::parse(p)?,
    };
    let mut l = Limits::default();

    if let Some(raw) = &a.memory {
        let m = size_of("--memory", raw)?;
        if m < MIN_MEMORY {
            return Err(bad(
                "--memory",
                raw,
                format!(
                    "below the minimum of {} (the sandbox's own start needs about that much)",
                    units::human_bytes(MIN_MEMORY)
                ),
            ));
        }
        l.memory = Some(m);
    }
    if let Some(raw) = &a.memory_swap {
        let Some(m) = l.memory else {
            return Err(bad(
                "--memory-swap",
                raw,
                "needs --memory (it is memory plus swap)",
            ));
        };
        l.swap = if raw == "-1" {
            Swap::Unlimited
        } else {
            let total = size_of("--memory-swap", raw)?;
            if total < m {
                return Err(bad(
                    "--memory-swap",
                    raw,
                    format!(
                        "memory plus swap must be at least --memory ({})",
                        units::human_bytes(m)
                    ),
                ));
            }
            Swap::Total(total)
        };
    }
    if let Some(raw) = &a.memory_reservation {
        let r = size_of("--memory-reservation", raw)?;
        if let Some(m) = l.memory.filter(|&m| r > m) {
            return Err(bad(
                "--memory-reservation",
                raw,
                format!("must not be above --memory ({})", units::human_bytes(m)),
            ));
        }
        l.memory_reservation = Some(r);
    }
    if let Some(raw) = &a.cpus {
        let nano = units::nano_cpus(raw)
            .ok_or_else(|| bad("--cpus", raw, "not a number of CPUs (1, 0.5, 1.5)"))?;
        if nano == 0 {
            return Err(bad("--cpus", raw, "must be more than 0"));
        }
        let quota = nano / 10_000;
        if quota < MIN_CPU_QUOTA_US {
            return Err(bad("--cpus", raw, "the smallest is 0.01"));
        }
        if nano > cpus * 1_000_000_000 {
            return Err(bad(
                "--cpus",
                raw,
                format!("this host has only {cpus} CPUs online"),
            ));
        }
        l.cpu_quota_us = Some(quota);
        l.nano_cpus = Some(nano);
    }
    if let Some(raw) = &a.cpu_shares {
        let s: u64 = raw
            .parse()
            .map_err(|_| bad("--cpu-shares", raw, "not a whole number"))?;
        if !(2..=262_144).contains(&s) {
            return Err(bad("--cpu-shares", raw, "must be between 2 and 262144"));
        }
        l.cpu_shares = Some(s);
    }
    if let Some(raw) = &a.pids_limit {
        let n: i64 = raw.parse().map_err(|_| {
            bad(
                "--pids-limit",
                raw,
                "not a whole number (-1 or 0 for unlimited)",
            )
        })?;
        l.pids = match n {
            -1 | 0 => None,
            n if n < 0 => {
                return Err(bad(
                    "--pids-limit",
                    raw,
                    "-1 or 0 for unlimited, else at least 2",
                ));
            }
            n if (n as u64) < MIN_PIDS => {
                return Err(bad(
                    "--pids-limit",
                    raw,
                    "at least 2: nucleus-init and the workload count too",
                ));
            }
            // PID_MAX_LIMIT: the kernel refuses more in pids.max.
            n if n > 4_194_304 => {
                return Err(bad(
                    "--pids-limit",
                    raw,
                    "at most 4194304, the kernel's pid limit (-1 or 0 for unlimited)",
                ));
            }
            n => Some(n as u64),
        };
        l.pids_explicit = true;
    }
    if let Some(raw) = &a.blkio_weight {
        let w: u64 = raw
            .parse()
            .map_err(|_| bad("--blkio-weight", raw, "not a whole number"))?;
        if !(10..=1000).contains(&w) {
            return Err(bad("--blkio-weight", raw, "must be between 10 and 1000"));
        }
        l.blkio_weight = Some(w);
    }
    for (kind, list) in [
        (ThrottleKind::ReadBps, &a.device_read_bps),
        (ThrottleKind::WriteBps, &a.device_write_bps),
        (ThrottleKind::ReadIops, &a.device_read_iops),
        (ThrottleKind::WriteIops, &a.device_write_iops),
    ] {
        for raw in list {
            let t = throttle(kind, raw, stat)?;
            // The last one for a device wins, as with docker.
            l.throttles
                .retain(|o| !(o.kind == t.kind && (o.major, o.minor) == (t.major, t.minor)));
            l.throttles.push(t);
        }
    }
    if manager == Manager::None && l.any_explicit() {
        return Err(Error::usage(
            "resource limits need cgroups, and --cgroup-manager none turns them off",
        ));
    }
    Ok(Settings {
        name,
        named,
        manager,
        parent,
        exact: None,
        detached: false,
        require: a.require,
        limits: l,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn no_stat(_: &str) -> Result<(bool, u32, u32), std::io::Error> {
        Err(std::io::Error::from_raw_os_error(libc::ENOENT))
    }

    fn fake_stat(path: &str) -> Result<(bool, u32, u32), std::io::Error> {
        match path {
            "/dev/sda" => Ok((true, 8, 0)),
            "/dev/null" => Ok((false, 1, 3)),
            _ => no_stat(path),
        }
    }

    fn with(f: impl FnOnce(&mut CgroupArgs)) -> Result<Settings, Error> {
        let mut a = CgroupArgs::default();
        f(&mut a);
        resolve_with(&a, 2, &fake_stat)
    }

    fn err(f: impl FnOnce(&mut CgroupArgs)) -> String {
        with(f).unwrap_err().to_string()
    }

    #[test]
    fn defaults_are_a_pids_limit_and_a_generated_name() {
        let s = with(|_| {}).unwrap();
        assert_eq!(s.limits, Limits::default());
        assert_eq!(s.limits.pids, Some(1024));
        assert!(!s.limits.any_explicit());
        assert!(!s.named);
        assert_eq!(s.name.len(), 12);
        assert_eq!(s.manager, Manager::Auto);
        assert_eq!(s.parent, Parent::Relative(vec!["nucleus".into()]));
    }

    #[test]
    fn values_in_dockers_units() {
        let s = with(|a| {
            a.name = Some("box-1".into());
            a.memory = Some("256m".into());
            a.memory_swap = Some("512m".into());
            a.memory_reservation = Some("128m".into());
            a.cpus = Some("1.5".into());
            a.cpu_shares = Some("512".into());
            a.pids_limit = Some("50".into());
            a.blkio_weight = Some("300".into());
            a.device_read_bps = vec!["/dev/sda:1mb".into(), "/dev/sda:2mb".into()];
            a.device_write_iops = vec!["/dev/sda:100".into()];
        })
        .unwrap();
        let l = &s.limits;
        assert_eq!((s.name.as_str(), s.named), ("box-1", true));
        assert_eq!(l.memory, Some(256 << 20));
        assert_eq!(l.swap, Swap::Total(512 << 20));
        assert_eq!(l.memory_reservation, Some(128 << 20));
        assert_eq!(l.cpu_quota_us, Some(150_000));
        assert_eq!(l.cpu_shares, Some(512));
        assert_eq!((l.pids, l.pids_explicit), (Some(50), true));
        assert_eq!(l.blkio_weight, Some(300));
        assert_eq!(l.throttles.len(), 2);
        assert_eq!(l.throttles[0].rate, 2 << 20);
        assert_eq!((l.throttles[0].major, l.throttles[0].minor), (8, 0));
        assert_eq!(l.throttles[1].kind, ThrottleKind::WriteIops);
    }

    #[test]
    fn unlimited_pids_and_swap() {
        for raw in ["-1", "0"] {
            let s = with(|a| a.pids_limit = Some(raw.into())).unwrap();
            assert_eq!((s.limits.pids, s.limits.pids_explicit), (None, true));
        }
        let s = with(|a| {
            a.memory = Some("64m".into());
            a.memory_swap = Some("-1".into());
        })
        .unwrap();
        assert_eq!(s.limits.swap, Swap::Unlimited);
    }

    #[test]
    fn bad_values_name_the_option() {
        type Case = (Box<dyn Fn(&mut CgroupArgs)>, &'static str);
        let cases: Vec<Case> = vec![
            (
                Box::new(|a| a.memory = Some("-1".into())),
                "--memory \"-1\": not a size",
            ),
            (
                Box::new(|a| a.memory = Some("1m".into())),
                "below the minimum of 6 MiB",
            ),
            (
                Box::new(|a| a.memory = Some("lots".into())),
                "--memory \"lots\"",
            ),
            (
                Box::new(|a| a.cpus = Some("0".into())),
                "--cpus \"0\": must be more than 0",
            ),
            (
                Box::new(|a| a.cpus = Some("-1".into())),
                "--cpus \"-1\": not a number",
            ),
            (
                Box::new(|a| a.cpus = Some("0.001".into())),
                "the smallest is 0.01",
            ),
            (
                Box::new(|a| a.cpus = Some("3".into())),
                "only 2 CPUs online",
            ),
            (
                Box::new(|a| a.pids_limit = Some("abc".into())),
                "--pids-limit \"abc\": not a whole number",
            ),
            (Box::new(|a| a.pids_limit = Some("1".into())), "at least 2"),
            (
                Box::new(|a| a.pids_limit = Some("-5".into())),
                "--pids-limit \"-5\"",
            ),
            (
                Box::new(|a| a.cpu_shares = Some("1".into())),
                "between 2 and 262144",
            ),
            (
                Box::new(|a| a.blkio_weight = Some("5".into())),
                "between 10 and 1000",
            ),
            (
                Box::new(|a| a.memory_swap = Some("1g".into())),
                "needs --memory",
            ),
            (
                Box::new(|a| {
                    a.memory = Some("1g".into());
                    a.memory_swap = Some("512m".into());
                }),
                "at least --memory (1 GiB)",
            ),
            (
                Box::new(|a| {
                    a.memory = Some("64m".into());
                    a.memory_reservation = Some("128m".into());
                }),
                "must not be above --memory",
            ),
            (
                Box::new(|a| a.device_read_bps = vec!["/dev/null:1m".into()]),
                "not a block device",
            ),
            (
                Box::new(|a| a.device_read_bps = vec!["/dev/nope:1m".into()]),
                "/dev/nope: No such file",
            ),
            (
                Box::new(|a| a.device_read_bps = vec!["sda:1m".into()]),
                "absolute path",
            ),
            (
                Box::new(|a| a.device_read_iops = vec!["/dev/sda:1k".into()]),
                "whole number of operations",
            ),
            (
                Box::new(|a| a.device_write_bps = vec!["/dev/sda".into()]),
                "expected PATH:RATE",
            ),
            (
                Box::new(|a| a.device_write_bps = vec!["/dev/sda:0".into()]),
                "more than 0",
            ),
            (
                Box::new(|a| a.name = Some("../etc".into())),
                "--name \"../etc\"",
            ),
            (Box::new(|a| a.parent = Some("/".into())), "below the root"),
            (
                Box::new(|a| a.parent = Some("a/../b".into())),
                "'..' is not allowed",
            ),
            (
                Box::new(|a| a.manager = Some("v3".into())),
                "expected auto, v1, v2 or none",
            ),
            (
                Box::new(|a| {
                    a.manager = Some("none".into());
                    a.memory = Some("64m".into());
                }),
                "--cgroup-manager none",
            ),
        ];
        for (f, want) in cases {
            let e = err(f);
            assert!(e.contains(want), "{e:?} lacks {want:?}");
            assert!(!e.contains('\n'), "{e:?}");
        }
    }

    #[test]
    fn parents() {
        assert_eq!(
            Parent::parse("/nucleus//x/").unwrap(),
            Parent::Absolute(vec!["nucleus".into(), "x".into()])
        );
        assert_eq!(
            Parent::parse("sandboxes").unwrap(),
            Parent::Relative(vec!["sandboxes".into()])
        );
        let p = Parent::parse("/a/b").unwrap();
        assert_eq!(
            p.dir(Path::new("/m"), Path::new("/m/own")),
            Path::new("/m/a/b")
        );
        assert_eq!(
            Parent::default().dir(Path::new("/m"), Path::new("/m/own")),
            Path::new("/m/own/nucleus")
        );
        assert!(Parent::parse("cgroup.procs").is_err());
        assert!(Parent::parse("x@1.2").is_err());
    }
}
