//! Sandbox directories under a parent: finding them by id, refusing a second live sandbox of
//! the same id, and removing those a killed launcher left behind.
//!
//! A directory is stale when its launcher (named in the directory's name, see `id`) is gone.
//! Kept directories (`ID@PID.START.kept`: sandboxes that outlive their launcher, `run -d` and
//! OCI `create`) are never stale: their launcher is meant to be gone, and `delete` removes them
//! from their record.
//! Only empty cgroups are removed (rmdir refuses the others): processes are never killed on
//! the strength of a name, since a launcher in another pid namespace would look gone too. A
//! killed launcher's sandbox empties by itself: its init dies with the launcher
//! (PR_SET_PDEATHSIG) and takes its pid namespace along.

use std::path::{Path, PathBuf};

use super::id::{self, Launcher};
use crate::error::Error;

/// A sandbox directory: its name, the sandbox id and its launcher.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Entry {
    pub dir_name: String,
    pub id: String,
    pub launcher: Launcher,
    /// A kept directory (see `id::kept_dir_name`).
    pub kept: bool,
}

/// The sandbox directories under `parent`.
pub fn entries(parent: &Path) -> Vec<Entry> {
    let Ok(dir) = std::fs::read_dir(parent) else {
        return Vec::new();
    };
    dir.filter_map(|e| {
        let e = e.ok()?;
        let name = e.file_name().into_string().ok()?;
        let (id, launcher, kept) = match id::parse_dir_name(&name) {
            Some((id, l)) => (id, l, false),
            None => {
                let (id, l) = id::parse_kept_dir_name(&name)?;
                (id, l, true)
            }
        };
        let id = id.to_owned();
        e.file_type().ok()?.is_dir().then_some(Entry {
            id,
            launcher,
            kept,
            dir_name: name,
        })
    })
    .collect()
}

/// The sandbox `id` under `parent`: the one of a live launcher (as `proc` shows launchers),
/// else a kept one (one that holds processes first).
pub fn find_live(parent: &Path, wanted: &str, proc: &Path) -> Option<Entry> {
    let all: Vec<Entry> = entries(parent)
        .into_iter()
        .filter(|e| e.id == wanted)
        .collect();
    let live = all
        .iter()
        .filter(|e| !e.kept && e.launcher.alive(proc))
        .min_by_key(|e| e.launcher);
    let kept = || {
        all.iter()
            .filter(|e| e.kept)
            .min_by_key(|e| (!busy(&parent.join(&e.dir_name)), e.launcher))
    };
    live.or_else(kept).cloned()
}

/// Whether the cgroup `dir` (or one below it) holds processes.
fn busy(dir: &Path) -> bool {
    super::v2::populated(dir) || !super::fs::procs_tree(dir).is_empty()
}

/// Removes the stale sandbox directories under each of `parents` (one per hierarchy), and
/// refuses when another live launcher runs a sandbox named `name` (if `named`). Returns the
/// (parent index, directory name) of each one removed.
pub fn sweep(
    parents: &[PathBuf],
    name: &str,
    named: bool,
    me: Launcher,
    proc: &Path,
) -> Result<Vec<(usize, String)>, Error> {
    let mut alive: Vec<(Launcher, bool)> = Vec::new();
    let mut removed = Vec::new();
    for (i, parent) in parents.iter().enumerate() {
        for e in entries(parent) {
            if e.kept {
                if named && e.id == name && busy(&parent.join(&e.dir_name)) {
                    return Err(Error::usage(format!(
                        "a sandbox named {name} is already running (detached, cgroup {}); \
                         choose another --name",
                        parent.join(&e.dir_name).display()
                    )));
                }
                continue;
            }
            if e.launcher == me {
                continue;
            }
            let live = match alive.iter().find(|(l, _)| *l == e.launcher) {
                Some(&(_, live)) => live,
                None => {
                    let live = e.launcher.alive(proc);
                    alive.push((e.launcher, live));
                    live
                }
            };
            if live {
                if named && e.id == name {
                    return Err(already_running(name, e.launcher));
                }
            } else if remove_stale(&parent.join(&e.dir_name)) {
                removed.push((i, e.dir_name));
            }
        }
    }
    Ok(removed)
}

fn already_running(name: &str, other: Launcher) -> Error {
    Error::usage(format!(
        "a sandbox named {name} is already running (launcher pid {}); choose another --name",
        other.pid
    ))
}

/// After creating our directory: whether an older live launcher created one of the same
/// name meanwhile (two launchers racing for one name: the older one keeps it).
pub fn lost_race(primary: &Path, name: &str, me: Launcher, proc: &Path) -> Result<(), Error> {
    match entries(primary)
        .into_iter()
        .filter(|e| !e.kept && e.id == name && e.launcher != me && e.launcher < me)
        .find(|e| e.launcher.alive(proc))
    {
        Some(e) => Err(already_running(name, e.launcher)),
        None => Ok(()),
    }
}

/// rmdir of a stale sandbox directory. A frozen v1 freezer cgroup is thawed first, so that
/// the pending SIGKILL of a launcher killed while ending its sandbox can finish its processes.
fn remove_stale(dir: &Path) -> bool {
    let state = dir.join("freezer.state");
    if super::fs::read(&state).is_some_and(|s| s != "THAWED") {
        let _ = super::fs::write(&state, "THAWED");
    }
    match super::fs::remove(dir, std::time::Duration::ZERO) {
        Ok(()) => true,
        Err(e) => {
            tracing::debug!(dir = %dir.display(), "stale cgroup kept: {e}");
            false
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A fixture /proc with one live launcher, and parents in two hierarchies.
    struct Fixture {
        root: PathBuf,
    }

    impl Fixture {
        fn new(tag: &str) -> Self {
            let root =
                std::env::temp_dir().join(format!("nucleus-stale-{tag}-{}", std::process::id()));
            let _ = std::fs::remove_dir_all(&root);
            std::fs::create_dir_all(root.join("proc/100")).unwrap();
            let stat = "100 (nucleus-launch) S 1 100 100 0 -1 0 0 0 0 0 0 0 0 0 20 0 1 0 5000 0 0";
            std::fs::write(root.join("proc/100/stat"), stat).unwrap();
            for h in ["pids", "memory"] {
                std::fs::create_dir_all(root.join(h)).unwrap();
            }
            Fixture { root }
        }
        fn parents(&self) -> Vec<PathBuf> {
            vec![self.root.join("pids"), self.root.join("memory")]
        }
        fn proc(&self) -> PathBuf {
            self.root.join("proc")
        }
        fn mkdir(&self, name: &str) {
            for p in self.parents() {
                std::fs::create_dir(p.join(name)).unwrap();
            }
        }
        fn exists(&self, name: &str) -> [bool; 2] {
            let p = self.parents();
            [p[0].join(name).exists(), p[1].join(name).exists()]
        }
    }

    impl Drop for Fixture {
        fn drop(&mut self) {
            let _ = std::fs::remove_dir_all(&self.root);
        }
    }

    const ME: Launcher = Launcher {
        pid: 200,
        start: 7000,
    };
    const LIVE: Launcher = Launcher {
        pid: 100,
        start: 5000,
    };

    #[test]
    fn stale_dirs_go_live_ones_stay() {
        let f = Fixture::new("sweep");
        let live = id::dir_name("web", LIVE);
        let reused_pid = id::dir_name("old", Launcher { pid: 100, start: 1 });
        let gone = id::dir_name(
            "old2",
            Launcher {
                pid: 101,
                start: 5000,
            },
        );
        for n in [&live, &reused_pid, &gone, &"not-ours".to_owned()] {
            f.mkdir(n);
        }
        let mut removed = sweep(&f.parents(), "x", true, ME, &f.proc()).unwrap();
        removed.sort();
        assert_eq!(
            removed,
            [
                (0, gone.clone()),
                (0, reused_pid.clone()),
                (1, gone.clone()),
                (1, reused_pid.clone())
            ]
        );
        assert_eq!(f.exists(&live), [true, true]);
        assert_eq!(f.exists(&reused_pid), [false, false]);
        assert_eq!(f.exists(&gone), [false, false]);
        assert_eq!(f.exists("not-ours"), [true, true]);
        assert_eq!(
            find_live(&f.parents()[0], "web", &f.proc())
                .unwrap()
                .launcher,
            LIVE
        );
        assert_eq!(find_live(&f.parents()[0], "old", &f.proc()), None);
    }

    #[test]
    fn a_live_sandbox_keeps_its_name() {
        let f = Fixture::new("name");
        f.mkdir(&id::dir_name("web", LIVE));
        let e = sweep(&f.parents(), "web", true, ME, &f.proc()).unwrap_err();
        assert_eq!(
            e.to_string(),
            "a sandbox named web is already running (launcher pid 100); choose another --name"
        );
        // Generated names are not checked (they are random).
        assert!(sweep(&f.parents(), "web", false, ME, &f.proc()).is_ok());
        // The older launcher wins a race for a name.
        assert!(lost_race(&f.parents()[0], "web", ME, &f.proc()).is_err());
        let older = Launcher {
            pid: 300,
            start: 10,
        };
        assert!(lost_race(&f.parents()[0], "web", older, &f.proc()).is_ok());
    }

    #[test]
    fn kept_sandboxes_are_never_stale() {
        let f = Fixture::new("kept");
        // Made by a launcher long gone, as every detached sandbox's is.
        let gone = Launcher { pid: 103, start: 1 };
        let running = id::kept_dir_name("web", gone);
        let stopped = id::kept_dir_name("done", gone);
        f.mkdir(&running);
        f.mkdir(&stopped);
        // One process left in `web` (the fixture's cgroup.procs), and `web` paused: a sweep
        // must neither remove nor thaw it.
        let pids = f.parents()[0].join(&running);
        std::fs::write(pids.join("cgroup.procs"), "4321\n").unwrap();
        let state = f.parents()[1].join(&running).join("freezer.state");
        std::fs::write(&state, "FROZEN\n").unwrap();
        let removed = sweep(&f.parents(), "x", true, ME, &f.proc()).unwrap();
        assert_eq!(removed, []);
        assert_eq!(f.exists(&running), [true, true]);
        assert_eq!(f.exists(&stopped), [true, true]);
        assert_eq!(std::fs::read_to_string(&state).unwrap(), "FROZEN\n");
        // Its name is taken while it runs; a stopped one's is not (the state directory, not
        // the cgroup, says whether it still exists).
        let e = sweep(&f.parents(), "web", true, ME, &f.proc()).unwrap_err();
        assert!(
            e.to_string()
                .starts_with("a sandbox named web is already running (detached, cgroup "),
            "{e}"
        );
        assert!(sweep(&f.parents(), "done", true, ME, &f.proc()).is_ok());
        // `stats` finds either.
        let found = find_live(&f.parents()[0], "web", &f.proc()).unwrap();
        assert!(found.kept);
        assert_eq!(found.dir_name, running);
        assert_eq!(
            find_live(&f.parents()[0], "done", &f.proc())
                .unwrap()
                .dir_name,
            stopped
        );
        // A live foreground sandbox of the same id wins over a kept one.
        f.mkdir(&id::dir_name("web", LIVE));
        assert!(!find_live(&f.parents()[0], "web", &f.proc()).unwrap().kept);
    }

    #[test]
    fn a_frozen_stale_cgroup_is_thawed() {
        let f = Fixture::new("thaw");
        let gone = id::dir_name("x", Launcher { pid: 102, start: 1 });
        f.mkdir(&gone);
        let state = f.parents()[1].join(&gone).join("freezer.state");
        std::fs::write(&state, "FROZEN\n").unwrap();
        // The fixture's rmdir fails on the file, as the kernel's would on a busy cgroup.
        sweep(&f.parents(), "y", false, ME, &f.proc()).unwrap();
        assert_eq!(std::fs::read_to_string(&state).unwrap(), "THAWED");
        assert_eq!(f.exists(&gone), [false, true]);
        std::fs::remove_file(&state).unwrap();
        sweep(&f.parents(), "y", false, ME, &f.proc()).unwrap();
        assert_eq!(f.exists(&gone), [false, false]);
    }
}
