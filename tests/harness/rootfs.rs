//! Throw-away directories under the system temp dir: root filesystems holding only the probe,
//! and plain host directories to bind into sandboxes.

use std::os::unix::fs::symlink;
use std::path::{Path, PathBuf};

/// A temp directory removed on drop, even when the test panics.
pub struct TempRoot {
    path: PathBuf,
}

impl TempRoot {
    /// An empty directory.
    pub fn empty(tag: &str) -> Self {
        let path = std::env::temp_dir().join(super::unique(tag));
        std::fs::create_dir(&path).expect("creating a temp dir");
        TempRoot { path }
    }

    /// A root filesystem with nothing but the probe, at `/probe`.
    pub fn with_probe(tag: &str) -> Self {
        let root = Self::empty(tag);
        place_probe(&root.join("probe"));
        root
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    /// The path as a launcher argument (temp paths are UTF-8).
    pub fn arg(&self) -> &str {
        self.path.to_str().expect("temp paths are UTF-8")
    }

    /// `rel` inside the directory.
    pub fn join(&self, rel: &str) -> PathBuf {
        self.path.join(rel.trim_start_matches('/'))
    }

    pub fn mkdir(&self, rel: &str) -> &Self {
        std::fs::create_dir_all(self.join(rel)).expect("creating a dir in the temp root");
        self
    }

    pub fn write(&self, rel: &str, contents: &str) -> &Self {
        std::fs::write(self.join(rel), contents).expect("writing a file in the temp root");
        self
    }

    /// A symlink at `rel` pointing to `target` (taken verbatim).
    pub fn symlink(&self, target: &str, rel: &str) -> &Self {
        symlink(target, self.join(rel)).expect("creating a symlink in the temp root");
        self
    }
}

impl Drop for TempRoot {
    fn drop(&mut self) {
        // A mount leaked onto the host beneath this directory would make remove_dir_all
        // delete whatever it shows (the host's own files): keep everything, loudly, instead.
        let prefix = self.path.to_string_lossy().into_owned();
        let leaked: Vec<String> = super::host_mount_points()
            .into_iter()
            .filter(|m| m == &prefix || m.starts_with(&format!("{prefix}/")))
            .collect();
        if !leaked.is_empty() {
            eprintln!("NOT removing {prefix}: host mounts beneath it: {leaked:?}");
            return;
        }
        // remove_dir_all does not follow symlinks, so `mnt -> /` is removed as a link.
        if let Err(e) = std::fs::remove_dir_all(&self.path) {
            eprintln!("could not remove {prefix}: {e}");
        }
    }
}

/// Puts the probe at `dest` without ever holding a writable fd to it in this process.
///
/// Tests run on parallel threads: a thread that forks while another copies the probe gives
/// its child the copy's write fd until that child execs, and a sandbox executing the copy in
/// that window fails with ETXTBSY. A hard link writes nothing; `cp` writes in its own process.
fn place_probe(dest: &Path) {
    let probe = super::probe();
    if std::fs::hard_link(&probe, dest).is_ok() {
        return;
    }
    let status = std::process::Command::new("cp")
        .arg(&probe)
        .arg(dest)
        .status()
        .expect("running cp");
    assert!(
        status.success(),
        "cp {} {}: {status}",
        probe.display(),
        dest.display()
    );
}
