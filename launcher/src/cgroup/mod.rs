//! Resource limits through cgroups, v2 and v1.
//!
//! Each sandbox gets a cgroup of its own below a parent of ours (`--cgroup-parent`; default
//! `nucleus` below the launcher's own cgroup, in each hierarchy), named `ID@PID.START` (see
//! `id`). On v2 init is born in it (`CLONE_INTO_CGROUP`); on v1 the launcher moves init into
//! every hierarchy's cgroup before it hands over the plan, so nothing runs in the sandbox
//! before it is in place. When init ends, whatever is left is killed (v2 `cgroup.kill`; v1
//! freezer, SIGKILL, thaw) and the directories are removed; those of a killed launcher are
//! removed by the next start.
//!
//! A sandbox that outlives the launcher (`run -d`, OCI `create`) is made with
//! `Settings::detached` (its directory is then `ID@PID.START.kept`, which no stale sweep
//! touches) or at an exact path (`Settings::exact`, OCI `linux.cgroupsPath`, see `path` and
//! `place`), and handed over with [`Sandbox::keep`]: the [`Kept`] record, stored as JSON in the
//! sandbox's state directory, is what `delete`, `kill --all`, `ps`, `exec` and `stats` work
//! from later (see `kept`).
//!
//! One file per controller (`memory`, `cpu`, `pids`, `io`, `devices`), each working on the
//! directories it is given, so that tests can point them at a fixture tree.

pub mod cli;
pub mod config;
mod cpu;
mod devices;
pub mod doctor;
mod fs;
pub mod id;
mod io;
mod kept;
pub mod layout;
mod memory;
pub mod path;
mod pids;
mod place;
pub mod report;
mod signal;
mod stale;
pub mod stats;
pub mod units;
mod v1;
mod v2;

use std::path::{Path, PathBuf};
use std::time::Duration;

use rustix::fd::{AsFd, BorrowedFd, OwnedFd};
use rustix::fs::{Mode, OFlags};

pub use config::Settings;
use config::{Limits, Swap};
use id::Launcher;
pub use kept::{Join, join, kill_all, pids, remove_recorded, stats_for_record};
use layout::{Found, Layout, Manager};
pub use path::CgroupPath;
use report::Report;
use units::human_bytes;

use crate::error::Error;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Version {
    V1,
    V2,
}

impl Version {
    pub fn name(self) -> &'static str {
        match self {
            Version::V1 => "v1",
            Version::V2 => "v2",
        }
    }
}

/// A sandbox's cgroup directory in one hierarchy.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Dir {
    pub path: PathBuf,
    /// The directory it was made in (the kernel offers the same files there).
    pub parent: PathBuf,
    /// v1: the hierarchy's controllers; v2: those enabled for it.
    pub controllers: Vec<String>,
}

impl Dir {
    pub fn has(&self, controller: &str) -> bool {
        self.controllers.iter().any(|c| c == controller)
    }
}

/// Writes one cgroup file of `dir`, naming file, value and directory if it fails.
fn set(dir: &Path, file: &str, value: &str) -> Result<(), Error> {
    fs::write(&dir.join(file), value).map_err(|e| {
        Error::io(
            format!("setting {file} to {value:?} in {}", dir.display()),
            e,
        )
    })
}

/// Writes each `(file, value)` of a controller's plan, in order.
fn set_all(dir: &Path, writes: Vec<(&'static str, String)>) -> Result<(), Error> {
    writes
        .iter()
        .try_for_each(|(file, value)| set(dir, file, value))
}

/// How long the removal of a cgroup waits for its last processes to be gone.
const REMOVE_PATIENCE: Duration = Duration::from_secs(2);

/// The limits `controller` enforces that `l` asks for, as the report names them: (what,
/// asked for by name).
fn items(controller: &str, l: &Limits, v: Version) -> Vec<(String, bool)> {
    let mut out = Vec::new();
    match controller {
        "memory" => {
            if let Some(m) = l.memory {
                out.push((format!("--memory {}", human_bytes(m)), true));
                // Swap off goes with the memory limit; only an explicit swap limit is its own.
                if let Swap::Total(t) = l.swap {
                    out.push((format!("--memory-swap {}", human_bytes(t)), true));
                }
            }
            if let Some(r) = l.memory_reservation {
                out.push((format!("--memory-reservation {}", human_bytes(r)), true));
            }
        }
        "pids" => out.extend(pids::item(l)),
        "cpu" => {
            if let Some(n) = l.nano_cpus {
                out.push((format!("--cpus {}", units::cpus_text(n)), true));
            }
            if let Some(s) = l.cpu_shares {
                out.push((format!("--cpu-shares {s}"), true));
            }
        }
        "blkio" | "io" => {
            if let Some(w) = l.blkio_weight {
                out.push((format!("--blkio-weight {w}"), true));
            }
            out.extend(l.throttles.iter().map(|t| (t.origin.clone(), true)));
        }
        "devices" if v == Version::V1 => {
            out.push(("the device list of the minimal /dev".to_owned(), false))
        }
        _ => {}
    }
    out
}

/// Reports every limit of `controllers` as not enforced, for `why`.
fn miss_controllers(report: &mut Report, controllers: &[&str], l: &Limits, v: Version, why: &str) {
    for c in controllers {
        for (what, explicit) in items(c, l, v) {
            report.miss(what, explicit, why);
        }
    }
}

/// A sandbox's cgroups, from creation to removal (also on every error path: see Drop), or to
/// [`Sandbox::keep`] for one that outlives the launcher.
#[derive(Debug)]
pub struct Sandbox {
    version: Version,
    id: String,
    /// v1: one per hierarchy; v2: one.
    dirs: Vec<Dir>,
    /// Directories of `dirs` that existed before (an exact path's): emptied, never removed.
    adopted: Vec<PathBuf>,
    /// The missing levels above an exact path that were made for it, top-down in each
    /// hierarchy: removed at the end when empty.
    created: Vec<PathBuf>,
    /// v2: the directory, opened for `CLONE_INTO_CGROUP`.
    into: Option<OwnedFd>,
    memory_limit: Option<u64>,
    /// Whether the directories are safe from stale sweeps once the launcher is gone (kept
    /// names, or an exact path).
    keepable: bool,
    ended: bool,
}

/// What the cgroups saw of a sandbox that ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Ending {
    /// Processes the OOM killer killed.
    pub oom_kills: u64,
    pub memory_limit: Option<u64>,
}

impl Ending {
    /// The launcher's line when the workload died of SIGKILL (`status` 137) and the OOM killer
    /// was at work in the sandbox.
    pub fn oom_message(&self, status: i32) -> Option<String> {
        if self.oom_kills == 0 {
            return None;
        }
        let limit = self
            .memory_limit
            .map(|m| format!(" (limit {})", human_bytes(m)))
            .unwrap_or_default();
        Some(if status == 128 + libc::SIGKILL {
            format!("killed: out of memory{limit}")
        } else {
            let n = self.oom_kills;
            let s = if n == 1 { "" } else { "es" };
            format!(
                "warning: {n} process{s} of the sandbox killed: out of memory{limit}; the workload itself went on"
            )
        })
    }
}

impl Sandbox {
    /// One with no directory yet, for `s`.
    fn empty(version: Version, s: &Settings) -> Self {
        Sandbox {
            version,
            id: s.name.clone(),
            dirs: Vec::new(),
            adopted: Vec::new(),
            created: Vec::new(),
            into: None,
            memory_limit: s.limits.memory,
            keepable: s.detached || s.exact.is_some(),
            ended: false,
        }
    }

    pub fn version(&self) -> Version {
        self.version
    }

    pub fn id(&self) -> &str {
        &self.id
    }

    pub fn dirs(&self) -> &[Dir] {
        &self.dirs
    }

    /// The cgroup to clone init into (v2 on Linux 5.7 and later).
    pub fn clone_into(&self) -> Option<BorrowedFd<'_>> {
        self.into.as_ref().map(|fd| fd.as_fd())
    }

    /// The files init's clone child writes `0` to, to join the sandbox's cgroups by itself
    /// (see `sys::clone::Cgroup::Join`): each v1 hierarchy's `tasks`, or v2's `cgroup.procs`
    /// when the kernel has no `CLONE_INTO_CGROUP`. Opened here, by the launcher.
    pub fn join_files(&self) -> Result<Vec<OwnedFd>, Error> {
        let file = match self.version {
            Version::V1 => "tasks",
            Version::V2 => "cgroup.procs",
        };
        self.dirs
            .iter()
            .map(|d| {
                let path = d.path.join(file);
                rustix::fs::open(&path, OFlags::WRONLY | OFlags::CLOEXEC, Mode::empty())
                    .map_err(|e| Error::io(format!("opening {}", path.display()), e.into()))
            })
            .collect()
    }

    /// The error for init's clone child failing to join cgroup `r.op` (see `join_files`).
    pub fn join_error(&self, r: &nucleus_shared::status::StatusRecord) -> Option<Error> {
        if r.step != nucleus_shared::status::Step::ExecInit || self.into.is_some() {
            return None;
        }
        let d = self.dirs.get(usize::from(r.op))?;
        Some(Error::runtime(format!(
            "placing nucleus-init in the cgroup {} failed: {}",
            d.path.display(),
            crate::error::errno_text(r.errno as i32)
        )))
    }

    /// After init has exited: kills what is left, reads the OOM count and removes the cgroups.
    pub fn finish(mut self) -> Ending {
        let started = std::time::Instant::now();
        let ending = self.ending();
        for failure in self.end() {
            tracing::warn!("{failure}");
        }
        tracing::debug!(
            micros = started.elapsed().as_micros() as u64,
            "cgroups removed"
        );
        ending
    }

    /// [`finish`](Self::finish), failing when a directory of the sandbox could not be removed.
    fn finish_checked(mut self) -> Result<Ending, Error> {
        let ending = self.ending();
        let failures = self.end();
        if failures.is_empty() {
            Ok(ending)
        } else {
            Err(Error::runtime(failures.join("; ")))
        }
    }

    fn ending(&self) -> Ending {
        let oom_kills = self
            .dirs
            .iter()
            .find(|d| d.has("memory"))
            .map_or(0, |d| memory::oom_kills(self.version, &d.path));
        Ending {
            oom_kills,
            memory_limit: self.memory_limit,
        }
    }

    fn kill_rest(&self) {
        match self.version {
            Version::V2 => v2::kill(&self.dirs[0].path),
            Version::V1 => v1::kill(&self.dirs),
        }
    }

    /// Removes the directories (the primary last), then the levels made above an exact path
    /// that nothing else uses. The first rmdir doubles as the check for leftovers: a cgroup
    /// that still holds processes refuses with EBUSY, and only then is anything killed (init's
    /// end has normally taken its whole pid namespace along). Returns what could not be
    /// removed.
    fn end(&mut self) -> Vec<String> {
        if self.ended {
            return Vec::new();
        }
        self.ended = true;
        self.into = None;
        let mut killed = false;
        let mut failures = Vec::new();
        for d in self.dirs.iter().rev() {
            let adopted = self.adopted.contains(&d.path);
            let result = if adopted {
                // Not ours to remove: emptied, and rid of what the sandbox made below it.
                if !killed && !fs::procs_tree(&d.path).is_empty() {
                    killed = true;
                    self.kill_rest();
                }
                fs::descendants(&d.path)
                    .iter()
                    .rev()
                    .try_for_each(|c| fs::remove_tree(c, REMOVE_PATIENCE))
            } else {
                match std::fs::remove_dir(&d.path) {
                    Err(e) if e.raw_os_error() == Some(libc::EBUSY) => {
                        if !killed {
                            killed = true;
                            self.kill_rest();
                        }
                        fs::remove_tree(&d.path, REMOVE_PATIENCE)
                    }
                    Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(()),
                    other => other,
                }
            };
            if let Err(e) = result {
                failures.push(format!(
                    "could not remove the cgroup {}: {}",
                    d.path.display(),
                    crate::error::io_text(&e)
                ));
            }
        }
        // Deepest first; a level another sandbox now uses too refuses (EBUSY) and stays.
        for c in self.created.iter().rev() {
            match std::fs::remove_dir(c) {
                Ok(()) => {}
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
                Err(e) => tracing::debug!(
                    dir = %c.display(),
                    "cgroup made for this sandbox kept: {}",
                    crate::error::io_text(&e)
                ),
            }
        }
        failures
    }
}

impl Drop for Sandbox {
    fn drop(&mut self) {
        self.end();
    }
}

/// Creates the sandbox's cgroups as `s` asks, on this host; logs the report. None when no
/// cgroup could be (or was to be) made and best effort allows going on without.
pub fn setup(s: &Settings) -> Result<Option<Sandbox>, Error> {
    let started = std::time::Instant::now();
    let found = if s.manager == Manager::None {
        Found::default()
    } else {
        Found::probe()
    };
    let clone_into = crate::seccomp::kernel_version() >= (5, 7);
    let (sandbox, report) = setup_in(
        s,
        &found,
        Launcher::current(),
        Path::new("/proc"),
        clone_into,
    )?;
    if let Some(sb) = &sandbox {
        tracing::debug!(
            id = sb.id(),
            version = sb.version().name(),
            micros = started.elapsed().as_micros() as u64,
            "cgroups set up"
        );
    }
    if s.require
        && let Some(msg) = report.refusal()
    {
        drop(sandbox);
        return Err(Error::runtime(msg));
    }
    report.log();
    Ok(sandbox)
}

/// [`setup`] on a given view of the host: `found` hierarchies, launcher `me`, `/proc` at
/// `proc`; `clone_into` says whether the kernel has `CLONE_INTO_CGROUP`.
pub fn setup_in(
    s: &Settings,
    found: &Found,
    me: Launcher,
    proc: &Path,
    clone_into: bool,
) -> Result<(Option<Sandbox>, Report), Error> {
    let mut report = Report {
        id: s.name.clone(),
        ..Report::default()
    };
    if s.manager == Manager::None {
        report.off = true;
        return Ok((None, report));
    }
    let dir_name = if s.detached {
        id::kept_dir_name(&s.name, me)
    } else {
        id::dir_name(&s.name, me)
    };
    let sandbox = match found.choose(s.manager) {
        Ok(Layout::V1(hs)) => {
            report.version = Some("v1");
            v1::create(&hs, s, &dir_name, me, proc, &mut report)?
        }
        Ok(Layout::V2(h)) => {
            report.version = Some("v2");
            v2::create(&h, s, &dir_name, me, proc, clone_into, &mut report)?
        }
        Err(why) => {
            let all = ["memory", "pids", "cpu", "io", "devices"];
            miss_controllers(&mut report, &all, &s.limits, Version::V1, &why);
            None
        }
    };
    if sandbox.is_none() {
        report.version = None;
    }
    Ok((sandbox, report))
}

/// The directories of the running sandbox `id` under `parent` as `manager` finds them.
pub fn find(
    found: &Found,
    manager: Manager,
    parent: &config::Parent,
    id: &str,
    proc: &Path,
) -> Result<(Version, Vec<Dir>), Error> {
    let layout = found
        .choose(manager)
        .map_err(|why| Error::runtime(format!("no cgroups to look in: {why}")))?;
    let (version, hierarchies) = match layout {
        Layout::V1(hs) => (Version::V1, v1::ordered(&hs)),
        Layout::V2(h) => (Version::V2, vec![h]),
    };
    let parents: Vec<PathBuf> = hierarchies
        .iter()
        .map(|h| parent.dir(&h.mount, &h.own))
        .collect();
    let name = parents
        .iter()
        .find_map(|p| stale::find_live(p, id, proc))
        .map(|e| e.dir_name);
    let mut dirs = Vec::new();
    for (h, p) in hierarchies.iter().zip(parents) {
        let Some(path) = name.as_ref().map(|n| p.join(n)).filter(|d| d.is_dir()) else {
            continue;
        };
        let controllers = match version {
            Version::V1 => h.controllers.clone(),
            Version::V2 => fs::read(&p.join("cgroup.subtree_control"))
                .unwrap_or_default()
                .split_whitespace()
                .map(str::to_owned)
                .collect(),
        };
        dirs.push(Dir {
            path,
            parent: p,
            controllers,
        });
    }
    if dirs.is_empty() {
        let where_ = hierarchies
            .first()
            .map(|h| parent.dir(&h.mount, &h.own).display().to_string())
            .unwrap_or_default();
        return Err(Error::usage(format!(
            "no running sandbox named {id} (looked in {where_}; `run` and `stats` must share \
             --cgroup-parent and --cgroup-manager)"
        )));
    }
    Ok((version, dirs))
}

#[cfg(test)]
mod lifecycle_tests;
#[cfg(test)]
mod tests;
