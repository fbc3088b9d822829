//! The state directory: one directory per sandbox that outlives a command (`run -d`, OCI
//! `create`), holding its OCI state and what later commands need (`exec`, `delete`, `logs`).
//!
//! `ROOT/ID/state.json` is written whole to a temporary file and renamed over the old one, so
//! a reader never sees half of it. Whether the sandbox still runs is never stored as such: it
//! is read off the process itself (its pid and start time, as `ps` shows them), so a sandbox
//! whose monitor or caller died is still reported truthfully.

mod lock;
mod process;
mod record;

use std::path::{Path, PathBuf};

pub use lock::Lock;
pub use process::{Init, signal_number};
pub use record::{Kind, Record, START_FIFO, Status, rfc3339};

use crate::error::Error;

/// Where state lives unless `--root` says otherwise (runc's is `/run/runc`).
pub const DEFAULT_ROOT: &str = "/run/nucleus";

/// The OCI runtime-spec version our state and features documents follow.
pub const OCI_VERSION: &str = "1.2.0";

/// A state root (`--root`).
#[derive(Debug, Clone)]
pub struct Root {
    dir: PathBuf,
}

impl Root {
    pub fn new(dir: Option<&str>) -> Result<Self, Error> {
        let dir = PathBuf::from(dir.unwrap_or(DEFAULT_ROOT));
        if !dir.is_absolute() {
            return Err(Error::usage(format!(
                "--root {}: must be an absolute path",
                dir.display()
            )));
        }
        Ok(Root { dir })
    }

    pub fn path(&self) -> &Path {
        &self.dir
    }

    /// The directory of sandbox `id` (validated: no `/`, `..` or NUL can reach here).
    pub fn sandbox_dir(&self, id: &str) -> Result<PathBuf, Error> {
        Ok(self.dir.join(check_id(id)?))
    }

    /// Refuses a state root that someone else could have prepared: it must belong to us and
    /// be writable by nobody else, or its records could send our signals and removals astray.
    fn check_owner(&self) -> Result<(), Error> {
        use std::os::unix::fs::MetadataExt;
        let Ok(meta) = std::fs::symlink_metadata(&self.dir) else {
            return Ok(());
        };
        let euid = rustix::process::geteuid().as_raw();
        if !meta.is_dir() || meta.uid() != euid || meta.mode() & 0o022 != 0 {
            return Err(Error::usage(format!(
                "--root {}: must be a directory of user {euid}, writable by no one else",
                self.dir.display()
            )));
        }
        Ok(())
    }

    /// Makes the directory of a new sandbox; an id in use is an error naming it.
    pub fn create(&self, id: &str) -> Result<PathBuf, Error> {
        let dir = self.sandbox_dir(id)?;
        self.check_owner()?;
        std::fs::create_dir_all(&self.dir)
            .map_err(|e| Error::io(format!("creating the state root {}", self.dir.display()), e))?;
        // Readable by root only: the records name host paths and hold the workload's options.
        let _ = std::fs::set_permissions(
            &self.dir,
            std::os::unix::fs::PermissionsExt::from_mode(0o700),
        );
        match std::fs::create_dir(&dir) {
            Ok(()) => Ok(dir),
            Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => Err(Error::usage(format!(
                "a sandbox named {id:?} already exists (remove it with `nucleus-launch rm {id}`)"
            ))),
            Err(e) => Err(Error::io(format!("creating {}", dir.display()), e)),
        }
    }

    /// The record of sandbox `id`; an unknown id is a usage error naming it.
    pub fn load(&self, id: &str) -> Result<Record, Error> {
        let dir = self.sandbox_dir(id)?;
        self.check_owner()?;
        Record::read(&dir).map_err(|e| match e {
            record::ReadError::Missing => Error::usage(format!("no sandbox named {id:?}")),
            record::ReadError::Bad(why) => Error::runtime(format!(
                "the state of sandbox {id:?} ({}) is unreadable: {why}",
                dir.display()
            )),
        })
    }

    /// The record of `id`, read under its lock (held until the returned `Lock` is dropped).
    pub fn load_locked(&self, id: &str) -> Result<(Lock, Record), Error> {
        let dir = self.sandbox_dir(id)?;
        let lock = match Lock::exclusive(&dir) {
            Ok(l) => l,
            // No directory: the usual "no sandbox" error.
            Err(_) if !dir.exists() => {
                return Err(Error::usage(format!("no sandbox named {id:?}")));
            }
            Err(e) => return Err(e),
        };
        Ok((lock, self.load(id)?))
    }

    /// Every sandbox with a readable record, sorted by creation time.
    pub fn list(&self) -> Vec<Record> {
        let Ok(entries) = std::fs::read_dir(&self.dir) else {
            return Vec::new();
        };
        let mut all: Vec<Record> = entries
            .flatten()
            .filter_map(|e| Record::read(&e.path()).ok())
            .collect();
        all.sort_by(|a, b| (a.created, &a.id).cmp(&(b.created, &b.id)));
        all
    }
}

/// A sandbox id: the rule of `--name` (1 to 128 of `[A-Za-z0-9_.-]`, starting with a letter or
/// digit), which also covers the OCI ids podman and containerd make (64 hex digits).
pub fn check_id(raw: &str) -> Result<&str, Error> {
    crate::cgroup::id::validate_as("sandbox id", raw).map(|_| raw)
}

/// Writes `bytes` to `path` atomically: a temporary file beside it, synced, then renamed.
pub fn write_atomic(path: &Path, bytes: &[u8]) -> Result<(), Error> {
    use std::io::Write;
    let tmp = path.with_extension(format!("tmp{}", std::process::id()));
    let result = (|| {
        let mut f = std::fs::OpenOptions::new()
            .write(true)
            .create_new(true)
            .mode_0600()
            .open(&tmp)?;
        f.write_all(bytes)?;
        f.sync_data()?;
        std::fs::rename(&tmp, path)
    })();
    result.map_err(|e| {
        let _ = std::fs::remove_file(&tmp);
        Error::io(format!("writing {}", path.display()), e)
    })
}

trait Mode0600 {
    fn mode_0600(&mut self) -> &mut Self;
}

impl Mode0600 for std::fs::OpenOptions {
    fn mode_0600(&mut self) -> &mut Self {
        std::os::unix::fs::OpenOptionsExt::mode(self, 0o600)
    }
}

#[cfg(test)]
mod tests;
