//! Where a sandbox's directory goes in one hierarchy, and making it: a new `ID@PID.START`
//! directory below the parent (`--cgroup-parent`), or exactly the directory an OCI bundle
//! names (`linux.cgroupsPath`, see `path`).
//!
//! Only what is made here is ever removed again: the levels of an exact path that were missing
//! are remembered (`Sandbox::created`), and an exact directory that already existed is used,
//! if it is empty, but left in place at the end. A parent below `--cgroup-parent` is shared by
//! every sandbox and never removed.

use std::io;
use std::path::{Path, PathBuf};

use super::layout::Hierarchy;
use super::{Settings, fs, v2};
use crate::error::{Error, io_text};

/// The cgroups from the one the placement is relative to down to the sandbox's parent (the
/// base first), and the sandbox's own directory.
pub fn chain(h: &Hierarchy, s: &Settings, dir_name: &str) -> (Vec<PathBuf>, PathBuf) {
    if let Some(exact) = &s.exact {
        return (exact.chain(&h.mount, &h.own), exact.dir(&h.mount, &h.own));
    }
    let (base, parts) = match &s.parent {
        super::config::Parent::Relative(p) => (h.own.clone(), p),
        super::config::Parent::Absolute(p) => (h.mount.clone(), p),
    };
    let mut chain = vec![base];
    for p in parts {
        let next = chain[chain.len() - 1].join(p);
        chain.push(next);
    }
    let leaf = chain[chain.len() - 1].join(dir_name);
    (chain, leaf)
}

/// Makes the parent `dir` of a sandbox's directory: returns the levels made, to remove again
/// for an exact path (a `--cgroup-parent` is shared: none are returned for it).
pub fn make_parent(dir: &Path, s: &Settings) -> io::Result<Vec<PathBuf>> {
    if s.exact.is_some() {
        fs::make_dirs(dir)
    } else {
        fs::make_parents(dir).map(|()| Vec::new())
    }
}

/// How the sandbox's own directory came to be.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Leaf {
    Created,
    /// An exact path's directory that was there, empty: used, never removed.
    Adopted,
}

/// Why the sandbox's own directory could not be had.
pub enum LeafError {
    /// Not allowed here (best effort goes on without this hierarchy).
    Denied(io::Error),
    Fatal(Error),
}

/// Whether an error means "not allowed here" rather than a fault.
pub fn denied(e: &io::Error) -> bool {
    matches!(
        e.raw_os_error(),
        Some(libc::EACCES | libc::EPERM | libc::EROFS)
    )
}

/// Makes the sandbox's directory `path`. An exact path's directory may exist already: it is
/// taken only when nothing lives in it (no process, no cgroup below), since whatever is in a
/// sandbox's cgroup is killed when the sandbox ends.
pub fn make_leaf(path: &Path, s: &Settings) -> Result<Leaf, LeafError> {
    match std::fs::create_dir(path) {
        Ok(()) => Ok(Leaf::Created),
        Err(e) if denied(&e) => Err(LeafError::Denied(e)),
        Err(e) if e.kind() == io::ErrorKind::AlreadyExists && s.exact.is_some() => {
            let raw = s.exact.as_ref().map_or("", |x| x.raw.as_str());
            let refuse = |why: &str| {
                Err(LeafError::Fatal(Error::usage(format!(
                    "linux.cgroupsPath {raw:?}: the cgroup {} {why}; refusing to share it",
                    path.display()
                ))))
            };
            if !path.is_dir() {
                return refuse("exists and is not a directory");
            }
            if v2::populated(path) || !fs::procs_tree(path).is_empty() {
                return refuse("already exists and holds processes");
            }
            if !fs::descendants(path).is_empty() {
                return refuse("already exists and has cgroups below it");
            }
            Ok(Leaf::Adopted)
        }
        Err(e) => Err(LeafError::Fatal(Error::runtime(format!(
            "creating the cgroup {}: {}",
            path.display(),
            io_text(&e)
        )))),
    }
}
