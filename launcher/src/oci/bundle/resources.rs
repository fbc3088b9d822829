//! `linux.resources` → the cgroup limits nucleus enforces (`crate::cgroup::config::Limits`).
//!
//! What runc leaves alone when a field is absent stays unlimited here too: no pids limit
//! (`run`'s default of 1024 is not applied), and no swap limit beside a memory limit unless
//! `memory.swap` gives one. Zero means "not set" where runc reads it so (`shares`, `quota`,
//! `period`, a throttle's `rate`), and -1 means unlimited.

use serde_json::Value;

use super::json::{Obj, fail, fail_at};
use crate::cgroup::config::{
    CPU_PERIOD_US, Limits, MIN_CPU_QUOTA_US, MIN_MEMORY, MIN_PIDS, Swap, Throttle, ThrottleKind,
};
use crate::error::Error;

/// The character devices the device cgroup nucleus writes lets a sandbox use, as (major,
/// minor or any): null, zero, full, random, urandom, tty, ptmx and the devpts terminals. Kept
/// in step with `cgroup::devices::ALLOWED`, which writes exactly these.
pub const CGROUP_ALLOWED: &[(u32, Option<u32>)] = &[
    (1, Some(3)),
    (1, Some(5)),
    (1, Some(7)),
    (1, Some(8)),
    (1, Some(9)),
    (5, Some(0)),
    (5, Some(2)),
    (136, None),
];

/// Whether the device cgroup lets the sandbox use the character device `major:minor`
/// (`None`: every minor).
pub fn cgroup_allows(major: u32, minor: Option<u32>) -> bool {
    CGROUP_ALLOWED
        .iter()
        .any(|&(a, b)| a == major && (b.is_none() || b == minor))
}

pub fn parse(v: Option<&Value>) -> Result<Limits, Error> {
    let mut l = Limits {
        pids: None,
        swap: Swap::Unlimited,
        ..Limits::default()
    };
    let Some(v) = v else {
        return Ok(l);
    };
    let r = Obj::new(v, "linux.resources")?;
    r.only(
        &["devices", "memory", "cpu", "pids", "blockIO"],
        &[
            ("hugepageLimits", "hugepage limits are not supported"),
            (
                "network",
                "network classes and priorities are not supported",
            ),
            ("rdma", "RDMA limits are not supported"),
            (
                "unified",
                "cgroup v2 files by name are not supported (give the limits in their own fields)",
            ),
        ],
    )?;
    if let Some(v) = r.get("memory") {
        memory(&Obj::new(v, "linux.resources.memory")?, &mut l)?;
    }
    if let Some(v) = r.get("cpu") {
        cpu(&Obj::new(v, "linux.resources.cpu")?, &mut l)?;
    }
    if let Some(v) = r.get("pids") {
        pids(&Obj::new(v, "linux.resources.pids")?, &mut l)?;
    }
    if let Some(v) = r.get("blockIO") {
        block_io(&Obj::new(v, "linux.resources.blockIO")?, &mut l)?;
    }
    devices(&r)?;
    Ok(l)
}

/// A byte count where 0 and -1 mean "not set" and "unlimited" (both: no limit).
fn bytes(m: &Obj<'_>, key: &str) -> Result<Option<i64>, Error> {
    match m.i64(key)? {
        Some(n) if n < -1 => Err(fail(
            &m.at(key),
            &Value::from(n),
            "expected a number of bytes, or -1 for unlimited",
        )),
        other => Ok(other),
    }
}

fn memory(m: &Obj<'_>, l: &mut Limits) -> Result<(), Error> {
    m.only(
        &[
            "limit",
            "reservation",
            "swap",
            "disableOOMKiller",
            "useHierarchy",
            "checkBeforeUpdate",
        ],
        &[
            ("kernel", "kernel memory limits are not supported"),
            ("kernelTCP", "kernel TCP memory limits are not supported"),
            ("swappiness", "swappiness is not supported"),
        ],
    )?;
    if m.bool("disableOOMKiller")? == Some(true) {
        return Err(fail(
            &m.at("disableOOMKiller"),
            &Value::Bool(true),
            "turning the OOM killer off is not supported",
        ));
    }
    if m.bool("useHierarchy")? == Some(false) {
        return Err(fail(
            &m.at("useHierarchy"),
            &Value::Bool(false),
            "memory accounting is always hierarchical",
        ));
    }
    m.bool("checkBeforeUpdate")?;
    if let Some(n) = bytes(m, "limit")?.filter(|n| *n > 0) {
        if (n as u64) < MIN_MEMORY {
            return Err(fail(
                &m.at("limit"),
                &Value::from(n),
                format!(
                    "below the minimum of {MIN_MEMORY} bytes (the sandbox's own start needs about that much)"
                ),
            ));
        }
        l.memory = Some(n as u64);
    }
    if let Some(n) = bytes(m, "reservation")?.filter(|n| *n > 0) {
        if let Some(limit) = l.memory.filter(|limit| n as u64 > *limit) {
            return Err(fail(
                &m.at("reservation"),
                &Value::from(n),
                format!("above memory.limit ({limit})"),
            ));
        }
        l.memory_reservation = Some(n as u64);
    }
    match bytes(m, "swap")? {
        None | Some(0) | Some(-1) => {}
        Some(n) => {
            let Some(limit) = l.memory else {
                return Err(fail(
                    &m.at("swap"),
                    &Value::from(n),
                    "needs memory.limit (it is memory plus swap)",
                ));
            };
            if (n as u64) < limit {
                return Err(fail(
                    &m.at("swap"),
                    &Value::from(n),
                    format!("memory plus swap must be at least memory.limit ({limit})"),
                ));
            }
            l.swap = Swap::Total(n as u64);
        }
    }
    Ok(())
}

fn cpu(c: &Obj<'_>, l: &mut Limits) -> Result<(), Error> {
    c.only(
        &["shares", "quota", "period"],
        &[
            ("cpus", "cpusets are not supported"),
            ("mems", "cpusets are not supported"),
            (
                "realtimeRuntime",
                "real-time scheduling limits are not supported",
            ),
            (
                "realtimePeriod",
                "real-time scheduling limits are not supported",
            ),
            ("burst", "CPU burst is not supported"),
            ("idle", "idle scheduling is not supported"),
        ],
    )?;
    match c.u64("shares")? {
        None | Some(0) => {}
        Some(s) if (2..=262_144).contains(&s) => l.cpu_shares = Some(s),
        Some(s) => {
            return Err(fail(
                &c.at("shares"),
                &Value::from(s),
                "must be between 2 and 262144",
            ));
        }
    }
    let period = c.u64("period")?.filter(|p| *p != 0);
    if let Some(p) = period.filter(|p| *p != CPU_PERIOD_US) {
        return Err(fail(
            &c.at("period"),
            &Value::from(p),
            format!("only the period of {CPU_PERIOD_US} microseconds is supported"),
        ));
    }
    match c.i64("quota")? {
        None | Some(0) | Some(-1) => {}
        Some(q) if q < MIN_CPU_QUOTA_US as i64 => {
            return Err(fail(
                &c.at("quota"),
                &Value::from(q),
                format!("the smallest quota is {MIN_CPU_QUOTA_US} microseconds (-1: unlimited)"),
            ));
        }
        Some(q) => {
            l.cpu_quota_us = Some(q as u64);
            l.nano_cpus = Some(q as u64 * 10_000);
        }
    }
    Ok(())
}

fn pids(p: &Obj<'_>, l: &mut Limits) -> Result<(), Error> {
    p.only(&["limit"], &[])?;
    l.pids_explicit = true;
    l.pids = match p.i64("limit")? {
        None => return Err(fail_at(&p.at("limit"), "missing (required)")),
        Some(n) if n <= 0 => None,
        Some(n) if (n as u64) < MIN_PIDS => {
            return Err(fail(
                &p.at("limit"),
                &Value::from(n),
                "at least 2: nucleus-init and the workload count too",
            ));
        }
        Some(n) if n > 4_194_304 => {
            return Err(fail(
                &p.at("limit"),
                &Value::from(n),
                "at most 4194304, the kernel's pid limit",
            ));
        }
        Some(n) => Some(n as u64),
    };
    Ok(())
}

fn block_io(b: &Obj<'_>, l: &mut Limits) -> Result<(), Error> {
    b.only(
        &[
            "weight",
            "throttleReadBpsDevice",
            "throttleWriteBpsDevice",
            "throttleReadIOPSDevice",
            "throttleWriteIOPSDevice",
        ],
        &[
            ("leafWeight", "leaf weights are not supported"),
            ("weightDevice", "per-device weights are not supported"),
        ],
    )?;
    match b.u64("weight")? {
        None | Some(0) => {}
        Some(w) if (10..=1000).contains(&w) => l.blkio_weight = Some(w),
        Some(w) => {
            return Err(fail(
                &b.at("weight"),
                &Value::from(w),
                "must be between 10 and 1000",
            ));
        }
    }
    for (key, kind) in [
        ("throttleReadBpsDevice", ThrottleKind::ReadBps),
        ("throttleWriteBpsDevice", ThrottleKind::WriteBps),
        ("throttleReadIOPSDevice", ThrottleKind::ReadIops),
        ("throttleWriteIOPSDevice", ThrottleKind::WriteIops),
    ] {
        for (i, v) in b.array(key)?.iter().enumerate() {
            let path = format!("{}[{i}]", b.at(key));
            let t = Obj::new(v, &path)?;
            t.only(&["major", "minor", "rate"], &[])?;
            let num = |k: &str| -> Result<u32, Error> {
                t.u32(k)?
                    .ok_or_else(|| fail_at(&t.at(k), "missing (required)"))
            };
            let (major, minor) = (num("major")?, num("minor")?);
            let rate = t
                .u64("rate")?
                .ok_or_else(|| fail_at(&t.at("rate"), "missing (required)"))?;
            if rate == 0 {
                // runc writes 0, which removes a throttle: nothing to limit.
                continue;
            }
            l.throttles
                .retain(|o| !(o.kind == kind && (o.major, o.minor) == (major, minor)));
            l.throttles.push(Throttle {
                kind,
                major,
                minor,
                rate,
                origin: path,
            });
        }
    }
    Ok(())
}

/// `devices`, the device cgroup's rules. nucleus always denies every device but the minimal
/// `/dev` (see [`CGROUP_ALLOWED`]), which is what runc's own defaults come to once a bundle
/// denies everything (runc appends its defaults after the bundle's rules, so a bundle's deny
/// of one of them changes nothing). A rule that allows more is refused: it would not be
/// honoured. Rules that deny are what happens anyway.
fn devices(r: &Obj<'_>) -> Result<(), Error> {
    for (i, v) in r.array("devices")?.iter().enumerate() {
        let path = format!("linux.resources.devices[{i}]");
        let d = Obj::new(v, &path)?;
        d.only(&["allow", "type", "major", "minor", "access"], &[])?;
        let allow = d
            .bool("allow")?
            .ok_or_else(|| fail_at(&d.at("allow"), "missing (required)"))?;
        let kind = d.str("type")?.unwrap_or("a");
        if !matches!(kind, "a" | "b" | "c") {
            return Err(fail(
                &d.at("type"),
                &Value::from(kind),
                "expected a, b or c",
            ));
        }
        let access = d.str("access")?.unwrap_or("rwm");
        if access.is_empty() || !access.chars().all(|c| matches!(c, 'r' | 'w' | 'm')) {
            return Err(fail(
                &d.at("access"),
                &Value::from(access),
                "expected letters of rwm",
            ));
        }
        let number = |k: &str| -> Result<Option<u32>, Error> {
            match d.i64(k)? {
                None | Some(-1) => Ok(None),
                Some(n) if (0..=u32::MAX as i64).contains(&n) => Ok(Some(n as u32)),
                Some(n) => Err(fail(&d.at(k), &Value::from(n), "not a device number")),
            }
        };
        let (major, minor) = (number("major")?, number("minor")?);
        if !allow {
            continue;
        }
        let covered = kind == "c" && major.is_some_and(|m| cgroup_allows(m, minor));
        if !covered {
            return Err(fail(
                &path,
                v,
                "nucleus lets a sandbox use only the devices of the minimal /dev (null, zero, full, random, urandom, tty, ptmx and its terminals); allowing more is not supported",
            ));
        }
    }
    Ok(())
}
