//! cgroup v2: one directory in the unified hierarchy, controllers enabled down to it, init
//! born inside (`CLONE_INTO_CGROUP`), ended with `cgroup.kill`.

use std::path::{Path, PathBuf};

use rustix::fs::{Mode, OFlags};

use super::config::Parent;
use super::id::Launcher;
use super::layout::Hierarchy;
use super::report::Report;
use super::{Dir, Sandbox, Settings, Version, cpu, devices, fs, io, memory, pids};
use super::{miss_controllers, stale};
use crate::error::{Error, io_text};

/// The controllers a sandbox with limits `l` needs enabled: memory (limits, stats, OOM
/// reports) and pids always, cpu and io only when asked for (enabling cpu costs the
/// scheduler something on every switch).
fn needed(l: &super::config::Limits) -> Vec<&'static str> {
    let mut n = vec!["memory", "pids"];
    if l.cpu_quota_us.is_some() || l.cpu_shares.is_some() {
        n.push("cpu");
    }
    if io::wanted(l) {
        n.push("io");
    }
    n
}

fn words(path: &Path) -> Vec<String> {
    fs::read(path)
        .unwrap_or_default()
        .split_whitespace()
        .map(str::to_owned)
        .collect()
}

/// Enables each of `wanted` in `cgroup.subtree_control` of every cgroup of `chain` (from the
/// base we may change down to the sandboxes' parent) where it is not yet; returns those that
/// reach the sandbox. Failures go to the report.
fn enable(
    chain: &[PathBuf],
    wanted: &[&'static str],
    l: &super::config::Limits,
    report: &mut Report,
) -> Vec<String> {
    // What each level enables for its children, read once. What a level may enable is what
    // its parent enables (the first level's own cgroup.controllers says it).
    let mut enabled: Vec<Vec<String>> = chain
        .iter()
        .map(|level| words(&level.join("cgroup.subtree_control")))
        .collect();
    let top = chain
        .first()
        .map(|level| words(&level.join("cgroup.controllers")))
        .unwrap_or_default();
    let mut ok = Vec::new();
    'controller: for &c in wanted {
        for (i, level) in chain.iter().enumerate() {
            let available = if i == 0 { &top } else { &enabled[i - 1] };
            if !available.iter().any(|x| x == c) {
                let why = format!("the {c} controller is not available in {}", level.display());
                miss_controllers(report, &[c], l, Version::V2, &why);
                continue 'controller;
            }
            if enabled[i].iter().any(|x| x == c) {
                continue;
            }
            let control = level.join("cgroup.subtree_control");
            if let Err(e) = fs::write(&control, &format!("+{c}")) {
                let why = if e.raw_os_error() == Some(libc::EBUSY) {
                    format!(
                        "cannot enable {c} below {}: it holds processes, and cgroup v2 enables \
                         controllers only below cgroups without any (give --cgroup-parent a \
                         cgroup of its own, e.g. /nucleus)",
                        level.display()
                    )
                } else {
                    format!(
                        "cannot enable {c} below {}: {}",
                        level.display(),
                        io_text(&e)
                    )
                };
                miss_controllers(report, &[c], l, Version::V2, &why);
                continue 'controller;
            }
            enabled[i].push(c.to_owned());
        }
        ok.push(c.to_owned());
    }
    ok
}

/// The cgroups from the one the parent is relative to down to the parent itself.
fn chain(h: &Hierarchy, parent: &Parent) -> Vec<PathBuf> {
    let (base, parts) = match parent {
        Parent::Relative(p) => (h.own.clone(), p),
        Parent::Absolute(p) => (h.mount.clone(), p),
    };
    let mut chain = vec![base];
    for p in parts {
        let next = chain[chain.len() - 1].join(p);
        chain.push(next);
    }
    chain
}

/// Makes the sandbox's directory `dir_name` below the parent of `s` in the unified hierarchy
/// `h` and applies the limits; with `clone_into`, opens it for `CLONE_INTO_CGROUP`.
pub fn create(
    h: &Hierarchy,
    s: &Settings,
    dir_name: &str,
    me: Launcher,
    proc: &Path,
    clone_into: bool,
    report: &mut Report,
) -> Result<Option<Sandbox>, Error> {
    let l = &s.limits;
    let all = ["memory", "pids", "cpu", "io"];
    let chain = chain(h, &s.parent);
    let parent = chain[chain.len() - 1].clone();
    if let Err(e) = fs::make_parents(&parent) {
        let why = format!("cannot create {}: {}", parent.display(), io_text(&e));
        miss_controllers(report, &all, l, Version::V2, &why);
        return Ok(None);
    }
    let enabled = enable(&chain, &needed(l), l, report);
    stale::sweep(std::slice::from_ref(&parent), &s.name, s.named, me, proc)?;

    let path = parent.join(dir_name);
    if let Err(e) = std::fs::create_dir(&path) {
        if matches!(
            e.raw_os_error(),
            Some(libc::EACCES | libc::EPERM | libc::EROFS)
        ) {
            let why = format!("cannot create {}: {}", path.display(), io_text(&e));
            let on: Vec<&str> = enabled.iter().map(String::as_str).collect();
            miss_controllers(report, &on, l, Version::V2, &why);
            return Ok(None);
        }
        return Err(Error::io(
            format!("creating the cgroup {}", path.display()),
            e,
        ));
    }
    let sandbox = Sandbox {
        version: Version::V2,
        id: s.name.clone(),
        dirs: vec![Dir {
            path: path.clone(),
            parent: parent.clone(),
            controllers: enabled,
        }],
        into: None,
        memory_limit: l.memory,
        ended: false,
    };
    if s.named {
        stale::lost_race(&parent, &s.name, me, proc)?;
    }
    let d = &sandbox.dirs[0];
    if d.has("memory") {
        memory::apply(Version::V2, &path, &parent, l, report)?;
    }
    if d.has("pids") {
        pids::apply(&path, l, report)?;
    }
    if d.has("cpu") {
        cpu::apply(Version::V2, &path, l, report)?;
    }
    if d.has("io") {
        io::apply(Version::V2, &path, &parent, l, report)?;
    }
    report.notes.push(devices::V2_NOTE.to_owned());
    let mut sandbox = sandbox;
    if clone_into {
        let fd = rustix::fs::open(
            &path,
            OFlags::PATH | OFlags::DIRECTORY | OFlags::CLOEXEC,
            Mode::empty(),
        )
        .map_err(|e| Error::io(format!("opening the cgroup {}", path.display()), e.into()))?;
        sandbox.into = Some(fd);
    }
    Ok(Some(sandbox))
}

/// Kills whatever is left in the sandbox's cgroup `dir`: `cgroup.kill` (Linux 5.14), else
/// SIGKILL rounds.
pub fn kill(dir: &Path) {
    if !populated(dir) && fs::no_procs(dir) {
        return;
    }
    let kill = dir.join("cgroup.kill");
    if !(kill.exists() && fs::write(&kill, "1").is_ok()) {
        super::v1::kill_rounds(dir);
    }
}

/// Whether `cgroup.events` says processes are left (`populated 1`).
pub fn populated(dir: &Path) -> bool {
    fs::read(&dir.join("cgroup.events"))
        .and_then(|t| fs::keyed(&t, "populated"))
        .is_some_and(|n| n == 1)
}
