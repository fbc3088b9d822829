//! cgroup v2: one directory in the unified hierarchy, controllers enabled down to it, init
//! born inside (`CLONE_INTO_CGROUP`), ended with `cgroup.kill`.

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use rustix::fs::{Mode, OFlags};

use super::id::Launcher;
use super::layout::Hierarchy;
use super::place::{self, Leaf, LeafError};
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

/// Makes the sandbox's directory (`dir_name` below the parent of `s`, or its exact path) in
/// the unified hierarchy `h` and applies the limits; with `clone_into`, opens it for
/// `CLONE_INTO_CGROUP`.
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
    let (chain, path) = place::chain(h, s, dir_name);
    let parent = chain[chain.len() - 1].clone();
    // Made first: whatever is created from here on is removed again by its Drop.
    let mut sandbox = Sandbox::empty(Version::V2, s);
    match place::make_parent(&parent, s) {
        Ok(made) => sandbox.created = made,
        Err(e) => {
            let why = format!("cannot create {}: {}", parent.display(), io_text(&e));
            miss_controllers(report, &all, l, Version::V2, &why);
            return Ok(None);
        }
    }
    let enabled = enable(&chain, &needed(l), l, report);
    if s.exact.is_none() {
        stale::sweep(std::slice::from_ref(&parent), &s.name, s.named, me, proc)?;
    }

    match place::make_leaf(&path, s) {
        Ok(Leaf::Created) => {}
        Ok(Leaf::Adopted) => sandbox.adopted.push(path.clone()),
        Err(LeafError::Denied(e)) => {
            let why = format!("cannot create {}: {}", path.display(), io_text(&e));
            let on: Vec<&str> = enabled.iter().map(String::as_str).collect();
            miss_controllers(report, &on, l, Version::V2, &why);
            return Ok(None);
        }
        Err(LeafError::Fatal(e)) => return Err(e),
    }
    sandbox.dirs.push(Dir {
        path: path.clone(),
        parent: parent.clone(),
        controllers: enabled,
    });
    if s.named && s.exact.is_none() {
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
    if !populated(dir) && fs::procs_tree(dir).is_empty() {
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

/// Whether the cgroup is asked to be frozen (`cgroup.freeze`): a paused sandbox. What
/// `cgroup.events` says can lag behind, and flips to 0 while a frozen process dies of a signal.
pub fn paused(dir: &Path) -> bool {
    fs::read(&dir.join("cgroup.freeze")).is_some_and(|s| s == "1")
}

/// Whether `cgroup.events` says the cgroup is frozen by now.
fn frozen(dir: &Path) -> bool {
    fs::read(&dir.join("cgroup.events"))
        .and_then(|t| fs::keyed(&t, "frozen"))
        .is_some_and(|n| n == 1)
}

/// Sets `cgroup.freeze` (Linux 5.2) to `on` and waits (up to a second) until the cgroup says
/// so; false when there is no freezer.
fn set_frozen(dir: &Path, on: bool) -> bool {
    if fs::write(&dir.join("cgroup.freeze"), if on { "1" } else { "0" }).is_err() {
        return false;
    }
    let deadline = Instant::now() + Duration::from_secs(1);
    while frozen(dir) != on && Instant::now() < deadline {
        std::thread::sleep(Duration::from_micros(200));
    }
    true
}

/// `sig` to every process in the cgroup `dir` and below: SIGKILL through `cgroup.kill`,
/// others to each process, frozen meanwhile (so that none forks past the signal) where the
/// kernel has `cgroup.freeze`; a paused sandbox stays paused.
pub fn signal(dir: &Path, sig: i32) {
    if sig == libc::SIGKILL {
        kill(dir);
        return;
    }
    let froze = !paused(dir) && dir.join("cgroup.freeze").exists() && set_frozen(dir, true);
    super::signal::send(&|| fs::procs_tree(dir), sig);
    if froze {
        set_frozen(dir, false);
    }
}
