//! cgroup v1 (and the v1 half of hybrid hosts): one directory per hierarchy.

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use super::id::Launcher;
use super::layout::Hierarchy;
use super::place::{self, Leaf, LeafError};
use super::report::Report;
use super::signal;
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

/// Makes the sandbox's directory (`dir_name` below the parent, or the exact path of `s`) in
/// every hierarchy of `hs` and applies the limits of `s`. What cannot be had goes to `report`;
/// None when nothing could be made.
pub fn create(
    hs: &[Hierarchy],
    s: &Settings,
    dir_name: &str,
    me: Launcher,
    proc: &Path,
    report: &mut Report,
) -> Result<Option<Sandbox>, Error> {
    let l = &s.limits;
    // Made first: whatever is created from here on is removed again by its Drop.
    let mut sandbox = Sandbox::empty(Version::V1, s);
    let mut usable: Vec<(Hierarchy, PathBuf, PathBuf)> = Vec::new();
    for h in ordered(hs) {
        let (chain, path) = place::chain(&h, s, dir_name);
        let parent = chain[chain.len() - 1].clone();
        match place::make_parent(&parent, s) {
            Ok(made) => {
                sandbox.created.extend(made);
                usable.push((h, parent, path));
            }
            Err(e) => miss_controllers(
                report,
                &names(&h),
                l,
                Version::V1,
                &format!("cannot create {}: {}", parent.display(), io_text(&e)),
            ),
        }
    }
    if s.exact.is_none() {
        let parents: Vec<PathBuf> = usable.iter().map(|(_, p, _)| p.clone()).collect();
        let removed = stale::sweep(&parents, &s.name, s.named, me, proc)?;
        if !removed.is_empty() {
            tracing::debug!(count = removed.len(), "removed stale sandbox cgroups");
        }
    }
    for (h, parent, path) in usable {
        match place::make_leaf(&path, s) {
            Ok(Leaf::Created) => {}
            Ok(Leaf::Adopted) => sandbox.adopted.push(path.clone()),
            Err(LeafError::Denied(e)) => {
                miss_controllers(
                    report,
                    &names(&h),
                    l,
                    Version::V1,
                    &format!("cannot create {}: {}", path.display(), io_text(&e)),
                );
                continue;
            }
            Err(LeafError::Fatal(e)) => return Err(e),
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
    if s.named && s.exact.is_none() {
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
    if dirs.iter().all(|d| fs::procs_tree(&d.path).is_empty()) {
        return;
    }
    if let Some(f) = dirs.iter().find(|d| d.has("freezer"))
        && freeze(&f.path)
    {
        kill_all(&f.path);
        let _ = fs::write(&f.path.join("freezer.state"), "THAWED");
    }
    for d in dirs {
        kill_rounds(&d.path);
    }
}

/// Whether the freezer cgroup `dir` is frozen or freezing (a paused sandbox).
pub fn paused(dir: &Path) -> bool {
    fs::read(&dir.join("freezer.state")).is_some_and(|s| s == "FROZEN" || s == "FREEZING")
}

/// Freezes the freezer cgroup `dir` and waits (up to a second) until it is; false when it
/// cannot be frozen at all.
pub fn freeze(dir: &Path) -> bool {
    let state = dir.join("freezer.state");
    if fs::write(&state, "FROZEN").is_err() {
        return false;
    }
    let deadline = Instant::now() + Duration::from_secs(1);
    while fs::read(&state).is_some_and(|s| s != "FROZEN") && Instant::now() < deadline {
        std::thread::sleep(Duration::from_micros(200));
    }
    true
}

/// `sig` to every process of the sandbox (each once, though it is in every hierarchy), frozen
/// meanwhile so that none forks past the signal; a paused sandbox stays paused.
pub fn signal(dirs: &[Dir], sig: i32) {
    let freezer = dirs.iter().find(|d| d.has("freezer"));
    let froze = freezer.is_some_and(|f| !paused(&f.path) && freeze(&f.path));
    signal::send(
        &|| {
            let mut pids: Vec<u32> = dirs.iter().flat_map(|d| fs::procs_tree(&d.path)).collect();
            pids.sort_unstable();
            pids.dedup();
            pids
        },
        sig,
    );
    if let Some(f) = freezer.filter(|_| froze) {
        let _ = fs::write(&f.path.join("freezer.state"), "THAWED");
    }
}

/// SIGKILL to every process in `dir` and below (already gone ones are fine).
pub fn kill_all(dir: &Path) {
    signal::send(&|| fs::procs_tree(dir), libc::SIGKILL);
}

/// SIGKILL rounds until `dir` holds no process, for at most about a second.
pub fn kill_rounds(dir: &Path) {
    for _ in 0..200 {
        if fs::procs_tree(dir).is_empty() {
            return;
        }
        kill_all(dir);
        std::thread::sleep(Duration::from_millis(5));
    }
}
