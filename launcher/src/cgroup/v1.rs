//! cgroup v1 (and the v1 half of hybrid hosts): one directory per hierarchy.

use std::io;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use super::id::Launcher;
use super::layout::Hierarchy;
use super::report::Report;
use super::{Dir, Sandbox, Settings, Version, cpu, devices, fs, io as blkio, memory, pids};
use super::{miss_controllers, stale};
use crate::error::{Error, io_text};

/// Hierarchies in the order their directories are made; the first (pids, the one every
/// sandbox needs) is the primary, where `stats` looks a sandbox up.
const ORDER: [&str; 7] = [
    "pids", "memory", "freezer", "cpu", "cpuacct", "blkio", "devices",
];

pub fn ordered(hs: &[Hierarchy]) -> Vec<Hierarchy> {
    let rank = |h: &Hierarchy| {
        h.controllers
            .iter()
            .filter_map(|c| ORDER.iter().position(|o| o == c))
            .min()
            .unwrap_or(ORDER.len())
    };
    let mut hs = hs.to_vec();
    hs.sort_by_key(rank);
    hs
}

fn names(h: &Hierarchy) -> Vec<&str> {
    h.controllers.iter().map(String::as_str).collect()
}

/// Whether an error means "not allowed here" (best effort goes on without this hierarchy)
/// rather than a fault.
fn denied(e: &io::Error) -> bool {
    matches!(
        e.raw_os_error(),
        Some(libc::EACCES | libc::EPERM | libc::EROFS)
    )
}

/// Makes the sandbox's directory `dir_name` in every hierarchy of `hs` and applies the limits
/// of `s`. What cannot be had goes to `report`; None when nothing could be made.
pub fn create(
    hs: &[Hierarchy],
    s: &Settings,
    dir_name: &str,
    me: Launcher,
    proc: &Path,
    report: &mut Report,
) -> Result<Option<Sandbox>, Error> {
    let l = &s.limits;
    let mut usable: Vec<(Hierarchy, PathBuf)> = Vec::new();
    for h in ordered(hs) {
        let parent = s.parent.dir(&h.mount, &h.own);
        match fs::make_parents(&parent) {
            Ok(()) => usable.push((h, parent)),
            Err(e) => miss_controllers(
                report,
                &names(&h),
                l,
                Version::V1,
                &format!("cannot create {}: {}", parent.display(), io_text(&e)),
            ),
        }
    }
    let parents: Vec<PathBuf> = usable.iter().map(|(_, p)| p.clone()).collect();
    let removed = stale::sweep(&parents, &s.name, s.named, me, proc)?;
    if !removed.is_empty() {
        tracing::debug!(count = removed.len(), "removed stale sandbox cgroups");
    }

    let mut sandbox = Sandbox {
        version: Version::V1,
        id: s.name.clone(),
        dirs: Vec::new(),
        into: None,
        memory_limit: l.memory,
        ended: false,
    };
    for (h, parent) in usable {
        let path = parent.join(dir_name);
        match std::fs::create_dir(&path) {
            Ok(()) => {}
            Err(e) if denied(&e) => {
                miss_controllers(
                    report,
                    &names(&h),
                    l,
                    Version::V1,
                    &format!("cannot create {}: {}", path.display(), io_text(&e)),
                );
                continue;
            }
            Err(e) => {
                return Err(Error::io(
                    format!("creating the cgroup {}", path.display()),
                    e,
                ));
            }
        }
        if h.has("cpuset") {
            inherit_cpuset(&h.own, &path)?;
        }
        sandbox.dirs.push(Dir {
            path,
            parent,
            controllers: h.controllers.clone(),
        });
    }
    if sandbox.dirs.is_empty() {
        return Ok(None);
    }
    if s.named {
        stale::lost_race(&sandbox.dirs[0].parent, &s.name, me, proc)?;
    }
    for d in &sandbox.dirs {
        for c in &d.controllers {
            match c.as_str() {
                "memory" => memory::apply(Version::V1, &d.path, &d.parent, l, report)?,
                "pids" => pids::apply(&d.path, l, report)?,
                "cpu" => cpu::apply(Version::V1, &d.path, l, report)?,
                "blkio" => blkio::apply(Version::V1, &d.path, &d.parent, l, report)?,
                "devices" => {
                    devices::apply(&d.path)?;
                    report.enforce("devices limited to the minimal /dev");
                }
                _ => {}
            }
        }
    }
    let missing: Vec<&str> = ["memory", "pids", "cpu", "blkio", "devices"]
        .into_iter()
        .filter(|c| !hs.iter().any(|h| h.has(c)))
        .collect();
    miss_controllers(
        report,
        &missing,
        l,
        Version::V1,
        "no such v1 controller is mounted",
    );
    Ok(Some(sandbox))
}

/// A new cpuset cgroup has no CPUs and no memory nodes, and takes no process until it has:
/// copy them down from `own` to `dir` (only where a hierarchy co-mounts cpuset with one we use).
fn inherit_cpuset(own: &Path, dir: &Path) -> Result<(), Error> {
    let mut chain: Vec<&Path> = dir.ancestors().take_while(|d| *d != own).collect();
    chain.reverse();
    for d in chain {
        let up = d.parent().unwrap_or(own);
        for file in ["cpuset.cpus", "cpuset.mems"] {
            if fs::read(&d.join(file)).is_some_and(|v| v.is_empty()) {
                let value = fs::read(&up.join(file)).unwrap_or_default();
                super::set(d, file, &value)?;
            }
        }
    }
    Ok(())
}

/// Kills whatever is left in the sandbox's cgroups: freeze (so nothing forks meanwhile),
/// SIGKILL every process, thaw. Without a freezer hierarchy, SIGKILL rounds until empty.
pub fn kill(dirs: &[Dir]) {
    if dirs.iter().all(|d| fs::no_procs(&d.path)) {
        return;
    }
    let freezer = dirs.iter().find(|d| d.has("freezer"));
    if let Some(f) = freezer {
        let state = f.path.join("freezer.state");
        if fs::write(&state, "FROZEN").is_ok() {
            let deadline = Instant::now() + Duration::from_secs(1);
            while fs::read(&state).is_some_and(|s| s != "FROZEN") && Instant::now() < deadline {
                std::thread::sleep(Duration::from_micros(200));
            }
            kill_all(&f.path);
            let _ = fs::write(&state, "THAWED");
        }
    }
    for d in dirs {
        kill_rounds(&d.path);
    }
}

/// SIGKILL to every process in `dir` (already gone ones are fine).
pub fn kill_all(dir: &Path) {
    // A pid read from cgroup.procs may be reused by an unrelated process before the signal is
    // sent. A pidfd pins its pid: once one is held, the pid still being listed means it is
    // this cgroup's process that the pidfd names.
    let pidfds: Vec<(u32, rustix::fd::OwnedFd)> = fs::procs(dir)
        .into_iter()
        .filter_map(|pid| {
            let p = rustix::process::Pid::from_raw(pid as i32)?;
            Some((
                pid,
                rustix::process::pidfd_open(p, rustix::process::PidfdFlags::empty()).ok()?,
            ))
        })
        .collect();
    let listed = fs::procs(dir);
    for (pid, fd) in pidfds {
        if listed.contains(&pid) {
            let _ = rustix::process::pidfd_send_signal(&fd, rustix::process::Signal::KILL);
        }
    }
}

/// SIGKILL rounds until `dir` holds no process, for at most about a second.
pub fn kill_rounds(dir: &Path) {
    for _ in 0..200 {
        if fs::procs(dir).is_empty() {
            return;
        }
        kill_all(dir);
        std::thread::sleep(Duration::from_millis(5));
    }
}
