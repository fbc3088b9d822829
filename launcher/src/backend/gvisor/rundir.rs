//! Each gVisor sandbox's private directory, removed when the sandbox ends, on every way out.
//! It is at once the OCI bundle (`config.json`, and `rootfs/` for the default root), runsc's
//! state directory (`--root`, where runsc keeps `ID_sandbox:ID.state` and its lock) and the
//! home of runsc's error log: one directory to make and remove, which matters where `/run` is
//! not a tmpfs (on ext4 mounted with `discard`, removing a directory costs about 0.4 ms).
//!
//! Directories live in one base directory, mode 0700 and owned by the launcher's user
//! (`/run/nucleus-gvisor` for root, beside the state root `/run/nucleus`, whose entries are
//! sandbox ids), named `ID@PID.START` like the sandbox's cgroups (see
//! `crate::cgroup::id`). A launcher killed by SIGKILL cannot remove its own; the next start
//! removes every directory whose launcher is gone. Nothing is ever mounted in them on the
//! host (runsc's gofer mounts in its own mount namespace), so removing one removes only our
//! files. runsc's processes die with the launcher (PR_SET_PDEATHSIG on `runsc run`, and runsc
//! ties its sandbox to itself the same way).

use std::os::unix::fs::{DirBuilderExt, MetadataExt, PermissionsExt};
use std::path::{Path, PathBuf};

use crate::cgroup::id::{self, Launcher};
use crate::error::Error;

/// The base directory for this user: `/run/nucleus-gvisor` for root, else under
/// `$XDG_RUNTIME_DIR` or the temp dir.
pub fn base() -> PathBuf {
    if rustix::process::geteuid().is_root() {
        return PathBuf::from("/run/nucleus-gvisor");
    }
    match std::env::var_os("XDG_RUNTIME_DIR") {
        Some(d) if !d.is_empty() => PathBuf::from(d).join("nucleus-gvisor"),
        _ => std::env::temp_dir().join(format!(
            "nucleus-gvisor-{}",
            rustix::process::geteuid().as_raw()
        )),
    }
}

/// Creates `dir` (and its parents) if needed and checks that it is a real directory of ours
/// that nobody else can enter.
fn private_dir(dir: &Path) -> Result<(), Error> {
    std::fs::DirBuilder::new()
        .recursive(true)
        .mode(0o700)
        .create(dir)
        .map_err(|e| Error::io(format!("creating {}", dir.display()), e))?;
    let meta = std::fs::symlink_metadata(dir)
        .map_err(|e| Error::io(format!("checking {}", dir.display()), e))?;
    if !meta.is_dir() || meta.uid() != rustix::process::geteuid().as_raw() {
        return Err(Error::runtime(format!(
            "{} is not a directory owned by this user: refusing to put sandboxes there",
            dir.display()
        )));
    }
    if meta.mode() & 0o077 != 0 {
        std::fs::set_permissions(dir, std::fs::Permissions::from_mode(0o700))
            .map_err(|e| Error::io(format!("making {} private", dir.display()), e))?;
    }
    Ok(())
}

/// The base directory, created private (for the runsc cache too); None if that fails.
pub fn ensure_base() -> Option<PathBuf> {
    let b = base();
    private_dir(&b).ok().map(|()| b)
}

/// Removes the directories under `base` whose launcher is gone.
pub fn sweep(base: &Path) {
    let Ok(entries) = std::fs::read_dir(base) else {
        return;
    };
    for e in entries.flatten() {
        let name = e.file_name();
        let Some((_, launcher)) = name.to_str().and_then(id::parse_dir_name) else {
            continue;
        };
        if launcher.alive(Path::new("/proc")) {
            continue;
        }
        let path = e.path();
        match std::fs::remove_dir_all(&path) {
            Ok(()) => tracing::debug!(dir = %path.display(), "stale gVisor run directory removed"),
            Err(e) => {
                tracing::debug!(dir = %path.display(), "stale gVisor run directory kept: {e}")
            }
        }
    }
}

/// A sandbox's directory, removed on drop.
#[derive(Debug)]
pub struct RunDir {
    path: PathBuf,
    keep: bool,
}

impl RunDir {
    /// `BASE/ID@PID.START`, fresh and private, after removing stale ones.
    pub fn create(sandbox_id: &str) -> Result<RunDir, Error> {
        let base = base();
        private_dir(&base)?;
        sweep(&base);
        let path = base.join(id::dir_name(sandbox_id, Launcher::current()));
        std::fs::DirBuilder::new()
            .mode(0o700)
            .create(&path)
            .map_err(|e| Error::io(format!("creating {}", path.display()), e))?;
        Ok(RunDir { path, keep: false })
    }

    /// An existing directory given by the user (`--gvisor-export`), which is kept.
    /// The directory is made here: one that exists already could belong to, or be changed
    /// under us by, someone else (a `rootfs` symlink swapped in while the default root is
    /// written would send root's writes anywhere).
    pub fn export(path: &Path) -> Result<RunDir, Error> {
        let what = |e| Error::io(format!("--gvisor-export {}", path.display()), e);
        match std::fs::DirBuilder::new().mode(0o700).create(path) {
            Ok(()) => {}
            Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => {
                return Err(Error::usage(format!(
                    "--gvisor-export {}: already exists (give a new directory to be made)",
                    path.display()
                )));
            }
            Err(e) => return Err(what(e)),
        }
        let path = path.canonicalize().map_err(what)?;
        Ok(RunDir { path, keep: true })
    }

    /// The OCI bundle, and runsc's state directory.
    pub fn path(&self) -> &Path {
        &self.path
    }

    pub fn log(&self) -> PathBuf {
        self.path.join("runsc.log")
    }
}

impl Drop for RunDir {
    fn drop(&mut self) {
        if self.keep {
            return;
        }
        if let Err(e) = std::fs::remove_dir_all(&self.path) {
            tracing::warn!(
                "could not remove {}: {}",
                self.path.display(),
                crate::error::io_text(&e)
            );
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn directories_of_gone_launchers_are_swept() {
        let base = std::env::temp_dir().join(format!("nucleus-rundir-test-{}", std::process::id()));
        private_dir(&base).unwrap();
        assert_eq!(std::fs::metadata(&base).unwrap().mode() & 0o777, 0o700);
        let me = Launcher::current();
        let gone = Launcher {
            start: me.start + 1,
            ..me
        };
        let live = base.join(id::dir_name("a", me));
        let stale = base.join(id::dir_name("b", gone));
        let other = base.join("runsc-info.json");
        for d in [&live, &stale] {
            std::fs::create_dir_all(d.join("bundle/rootfs/etc")).unwrap();
        }
        std::fs::write(&other, "{}").unwrap();
        sweep(&base);
        assert!(live.is_dir() && other.is_file() && !stale.exists());
        std::fs::remove_dir_all(&base).unwrap();
    }
}
