//! Cgroups that outlive the launcher (`run -d`, OCI `create`): the record a sandbox's state
//! directory keeps of them, and what later commands do with it (`delete`, `kill --all`, `ps`,
//! `stats`).
//!
//! The record says which directories are the sandbox's, which were there before it (used,
//! never removed) and which levels above an exact path were made for it (removed when empty).
//! It is read back from a file, so every path in it is checked before use: absolute, without
//! `.` or `..`, the levels above being ancestors of the sandbox's directories, and each one on
//! a cgroup file system when touched. Nothing outside the cgroup file systems is ever removed
//! or signalled on a record's word.

use std::path::{Component, Path, PathBuf};

use rustix::fd::OwnedFd;
use rustix::fs::{Mode, OFlags};
use serde_json::{Value, json};

use super::stats::{self, Stats};
use super::{Dir, Ending, Sandbox, Version, fs, v1, v2};
use crate::error::Error;

/// The layout of the record; a record of another is refused, not guessed at.
const FORMAT: u64 = 1;

/// A kept sandbox's cgroups, as recorded.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Kept {
    pub version: Version,
    pub id: String,
    /// v1: one per hierarchy (the primary first); v2: one.
    pub dirs: Vec<Dir>,
    /// Those of `dirs` that existed before the sandbox.
    pub adopted: Vec<PathBuf>,
    /// The levels above an exact path made for the sandbox, top-down in each hierarchy.
    pub created: Vec<PathBuf>,
    pub memory_limit: Option<u64>,
}

fn bad(why: impl std::fmt::Display) -> Error {
    Error::runtime(format!("the cgroup record is unusable: {why}"))
}

/// An absolute path of plain components (no `.`, `..` or NUL).
fn clean_path(v: &Value, what: &str) -> Result<PathBuf, Error> {
    let s = v
        .as_str()
        .ok_or_else(|| bad(format!("{what} is not a string")))?;
    let p = PathBuf::from(s);
    let plain = p.is_absolute()
        && !s.contains('\0')
        && p.components()
            .all(|c| matches!(c, Component::RootDir | Component::Normal(_)))
        && !s.split('/').any(|c| c == "." || c == "..");
    if !plain || p.parent().is_none() {
        return Err(bad(format!("{what} {s:?} is not a plain absolute path")));
    }
    Ok(p)
}

impl Sandbox {
    /// The record of these cgroups as they are, for later commands (`exec`, `kill --all`,
    /// `ps`, `stats`) while this value still owns them (a monitor that ends them itself).
    pub fn record(&self) -> Kept {
        Kept {
            version: self.version,
            id: self.id.clone(),
            dirs: self.dirs.clone(),
            adopted: self.adopted.clone(),
            created: self.created.clone(),
            memory_limit: self.memory_limit,
        }
    }

    /// Lets the cgroups outlive this value (and the launcher): nothing is removed on Drop, and
    /// the returned record is what `delete` ([`remove_recorded`]) needs later. The sandbox
    /// must have been made for it (`Settings::detached`, or an exact path), so that no stale
    /// sweep of a later launcher takes its directories for a dead launcher's; if not, it is
    /// refused (and the cgroups removed, as at any end).
    pub fn keep(mut self) -> Result<Kept, Error> {
        if !self.keepable {
            return Err(Error::runtime(
                "internal: the cgroups of a sandbox made to end with its launcher cannot be kept \
                 (set Settings::detached)",
            ));
        }
        let kept = self.record();
        self.ended = true;
        self.into = None;
        Ok(kept)
    }
}

/// Where a process that joins a kept sandbox (`exec`) goes: born in the v2 directory
/// (`CLONE_INTO_CGROUP`), or moving itself in through each file of `files` (v1 `tasks`, or
/// v2 `cgroup.procs` on kernels before 5.7), as `Sandbox::join_files` has it.
#[derive(Debug)]
pub struct Join {
    pub into: Option<OwnedFd>,
    pub files: Vec<OwnedFd>,
}

impl Kept {
    pub fn to_json(&self) -> Value {
        let dirs: Vec<Value> = self
            .dirs
            .iter()
            .map(|d| {
                json!({
                    "path": d.path.to_string_lossy(),
                    "controllers": d.controllers,
                    "created": !self.adopted.contains(&d.path),
                })
            })
            .collect();
        let created: Vec<Value> = self
            .created
            .iter()
            .map(|p| Value::from(p.to_string_lossy()))
            .collect();
        json!({
            "format": FORMAT,
            "id": self.id,
            "version": self.version.name(),
            "dirs": dirs,
            "intermediates": created,
            "memory_limit": self.memory_limit,
        })
    }

    pub fn from_json(v: &Value) -> Result<Self, Error> {
        if v.get("format").and_then(Value::as_u64) != Some(FORMAT) {
            return Err(bad(format!("format is not {FORMAT}")));
        }
        let version = match v.get("version").and_then(Value::as_str) {
            Some("v1") => Version::V1,
            Some("v2") => Version::V2,
            other => return Err(bad(format!("version {other:?} is not v1 or v2"))),
        };
        let id = v
            .get("id")
            .and_then(Value::as_str)
            .filter(|id| !id.is_empty() && id.len() <= 1024)
            .ok_or_else(|| bad("no id"))?
            .to_owned();
        let raw_dirs = v
            .get("dirs")
            .and_then(Value::as_array)
            .ok_or_else(|| bad("no dirs"))?;
        let mut dirs = Vec::new();
        let mut adopted = Vec::new();
        for d in raw_dirs {
            let path = clean_path(d.get("path").unwrap_or(&Value::Null), "a dir's path")?;
            let controllers = d
                .get("controllers")
                .and_then(Value::as_array)
                .ok_or_else(|| bad("a dir has no controllers"))?
                .iter()
                .map(|c| c.as_str().map(str::to_owned))
                .collect::<Option<Vec<String>>>()
                .ok_or_else(|| bad("a controller is not a string"))?;
            match d.get("created").and_then(Value::as_bool) {
                Some(true) => {}
                Some(false) => adopted.push(path.clone()),
                None => return Err(bad("a dir does not say whether it was created")),
            }
            let parent = path.parent().map(Path::to_path_buf).unwrap_or_default();
            dirs.push(Dir {
                path,
                parent,
                controllers,
            });
        }
        let expected = match version {
            Version::V1 => 1..=16,
            Version::V2 => 1..=1,
        };
        if !expected.contains(&dirs.len()) {
            return Err(bad(format!("{} dirs for {}", dirs.len(), version.name())));
        }
        let created = v
            .get("intermediates")
            .and_then(Value::as_array)
            .ok_or_else(|| bad("no intermediates"))?
            .iter()
            .map(|p| clean_path(p, "an intermediate"))
            .collect::<Result<Vec<PathBuf>, Error>>()?;
        if let Some(p) = created
            .iter()
            .find(|p| !dirs.iter().any(|d| d.path.starts_with(p) && d.path != **p))
        {
            return Err(bad(format!(
                "the intermediate {} is above none of its dirs",
                p.display()
            )));
        }
        let memory_limit = match v.get("memory_limit") {
            None | Some(Value::Null) => None,
            Some(n) => Some(n.as_u64().ok_or_else(|| bad("memory_limit"))?),
        };
        Ok(Kept {
            version,
            id,
            dirs,
            adopted,
            created,
            memory_limit,
        })
    }

    /// Refuses a record whose directories are not cgroups (`trusted` says: on a cgroup file
    /// system); those already gone are dropped.
    fn checked(mut self, trusted: &dyn Fn(&Path) -> bool) -> Result<Self, Error> {
        self.dirs.retain(|d| d.path.exists());
        self.created.retain(|p| p.exists());
        for p in self.dirs.iter().map(|d| &d.path).chain(&self.created) {
            if !trusted(p) {
                return Err(bad(format!(
                    "{} is not on a cgroup file system; it is left alone",
                    p.display()
                )));
            }
        }
        Ok(self)
    }

    pub(super) fn into_sandbox(self) -> Sandbox {
        Sandbox {
            version: self.version,
            id: self.id,
            dirs: self.dirs,
            adopted: self.adopted,
            created: self.created,
            into: None,
            memory_limit: self.memory_limit,
            keepable: true,
            ended: false,
        }
    }

    /// [`remove_recorded`] with `trusted` deciding what is a cgroup.
    pub(super) fn remove(self, trusted: &dyn Fn(&Path) -> bool) -> Result<Ending, Error> {
        let k = self.checked(trusted)?;
        if k.dirs.is_empty() {
            // Removed before (a `delete` that was interrupted): only the levels above are left.
            let memory_limit = k.memory_limit;
            k.into_sandbox().end();
            return Ok(Ending {
                oom_kills: 0,
                memory_limit,
            });
        }
        k.into_sandbox().finish_checked()
    }

    /// [`kill_all`] with `trusted` deciding what is a cgroup.
    pub(super) fn signal(self, sig: i32, trusted: &dyn Fn(&Path) -> bool) -> Result<(), Error> {
        if !(1..=64).contains(&sig) {
            return Err(Error::usage(format!("signal {sig}: not a signal (1-64)")));
        }
        let k = self.checked(trusted)?;
        if k.dirs.is_empty() {
            return Ok(());
        }
        match k.version {
            Version::V2 => v2::signal(&k.dirs[0].path, sig),
            Version::V1 if sig == libc::SIGKILL => v1::kill(&k.dirs),
            Version::V1 => v1::signal(&k.dirs, sig),
        }
        Ok(())
    }

    /// [`join`] with `trusted` deciding what is a cgroup.
    pub(super) fn join(
        self,
        clone_into: bool,
        trusted: &dyn Fn(&Path) -> bool,
    ) -> Result<Join, Error> {
        let recorded = self.dirs.len();
        let k = self.checked(trusted)?;
        // An exec joins all of them or none: outside one, it would escape that one's limits.
        if k.dirs.len() != recorded || recorded == 0 {
            return Err(Error::runtime(format!(
                "the cgroups of sandbox {} are gone ({} of {recorded} left)",
                k.id,
                k.dirs.len()
            )));
        }
        let open = |p: &Path, flags: OFlags| {
            rustix::fs::open(p, flags | OFlags::CLOEXEC, Mode::empty()).map_err(|e| {
                Error::io(
                    format!("opening the sandbox's cgroup {}", p.display()),
                    e.into(),
                )
            })
        };
        Ok(match k.version {
            Version::V2 if clone_into => Join {
                into: Some(open(&k.dirs[0].path, OFlags::PATH | OFlags::DIRECTORY)?),
                files: Vec::new(),
            },
            v => Join {
                into: None,
                files: k
                    .dirs
                    .iter()
                    .map(|d| {
                        let file = if v == Version::V1 {
                            "tasks"
                        } else {
                            "cgroup.procs"
                        };
                        open(&d.path.join(file), OFlags::WRONLY)
                    })
                    .collect::<Result<_, _>>()?,
            },
        })
    }

    /// [`pids`] with `trusted` deciding what is a cgroup.
    pub(super) fn pids(self, trusted: &dyn Fn(&Path) -> bool) -> Result<Vec<u32>, Error> {
        let k = self.checked(trusted)?;
        let mut pids: Vec<u32> = k
            .dirs
            .iter()
            .flat_map(|d| fs::procs_tree(&d.path))
            .collect();
        pids.sort_unstable();
        pids.dedup();
        Ok(pids)
    }

    /// [`stats_for_record`] with `trusted` deciding what is a cgroup.
    pub(super) fn stats(self, trusted: &dyn Fn(&Path) -> bool) -> Result<Stats, Error> {
        let id = self.id.clone();
        let k = self.checked(trusted)?;
        if k.dirs.is_empty() {
            return Err(Error::runtime(format!(
                "the cgroups of sandbox {id} are gone"
            )));
        }
        Ok(stats::read(&k.id, k.version, &k.dirs))
    }
}

/// `delete`: kills whatever is left in a kept sandbox's cgroups (`record`, from
/// [`Kept::to_json`]), reads its OOM count, removes its directories (those it found in place
/// only emptied) and the levels made above them when nothing else uses them. Directories
/// already gone are fine; one that cannot be removed is an error naming it.
pub fn remove_recorded(record: &Value) -> Result<Ending, Error> {
    Kept::from_json(record)?.remove(&fs::on_cgroupfs)
}

/// `kill --all`, `delete --force`: `signal` (1-64) to every process of a kept sandbox.
/// SIGKILL through v2's `cgroup.kill` (v1: frozen, killed, thawed); other signals to each
/// process through a pidfd, frozen meanwhile where a freezer is at hand (a paused sandbox stays
/// paused; the signal arrives when it resumes, but for v2, where a fatal one gets through).
pub fn kill_all(record: &Value, signal: i32) -> Result<(), Error> {
    Kept::from_json(record)?.signal(signal, &fs::on_cgroupfs)
}

/// `exec`: the sandbox's cgroups opened for a new process to join (see [`Join`]).
pub fn join(record: &Value) -> Result<Join, Error> {
    let clone_into = crate::seccomp::kernel_version() >= (5, 7);
    Kept::from_json(record)?.join(clone_into, &fs::on_cgroupfs)
}

/// The pids of every process in a kept sandbox's cgroups (and cgroups below them), sorted.
pub fn pids(record: &Value) -> Result<Vec<u32>, Error> {
    Kept::from_json(record)?.pids(&fs::on_cgroupfs)
}

/// `stats ID` of a kept sandbox, read from its recorded directories.
pub fn stats_for_record(record: &Value) -> Result<Stats, Error> {
    Kept::from_json(record)?.stats(&fs::on_cgroupfs)
}
