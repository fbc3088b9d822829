//! Resolving paths beneath the new root.
//!
//! Every path in a plan operation is resolved with `openat2(RESOLVE_BENEATH)` from the root fd:
//! the kernel refuses (EXDEV) any walk that would leave the root, through `..` or a symlink,
//! absolute or relative, and refuses magic links (ELOOP). A mount point is created only as one
//! name inside a directory already resolved this way, so nothing outside the root is touched.

use core::ffi::CStr;

use nucleus_shared::status::Step;
use rustix::fd::{AsFd, OwnedFd};
use rustix::fs::{Mode, OFlags, ResolveFlags};
use rustix::io::Errno;

/// Longest path init builds (the kernel's PATH_MAX).
pub const PATH_MAX: usize = 4096;

/// A NUL-terminated path assembled in a fixed buffer.
pub struct PathBuf(heapless::Vec<u8, PATH_MAX>);

impl PathBuf {
    /// Joins the parts and terminates them; ENAMETOOLONG past PATH_MAX.
    pub fn join(parts: &[&[u8]]) -> Result<Self, Errno> {
        let mut v = heapless::Vec::new();
        for p in parts {
            v.extend_from_slice(p).map_err(|_| Errno::NAMETOOLONG)?;
        }
        v.push(0).map_err(|_| Errno::NAMETOOLONG)?;
        Ok(PathBuf(v))
    }

    pub fn as_cstr(&self) -> Result<&CStr, Errno> {
        CStr::from_bytes_with_nul(&self.0).map_err(|_| Errno::INVAL)
    }
}

const BENEATH: ResolveFlags = ResolveFlags::BENEATH.union(ResolveFlags::NO_MAGICLINKS);

/// Opens `rel` (a plan path) beneath `root` as an `O_PATH` fd.
pub fn open_beneath(root: impl AsFd, rel: &[u8]) -> Result<OwnedFd, Errno> {
    let p = PathBuf::join(&[rel])?;
    rustix::fs::openat2(
        root,
        p.as_cstr()?,
        OFlags::PATH | OFlags::CLOEXEC,
        Mode::empty(),
        BENEATH,
    )
}

/// Opens `rel` beneath `root` refusing symlinks in every component (ELOOP).
pub fn open_beneath_nofollow(root: impl AsFd, rel: &[u8]) -> Result<OwnedFd, Errno> {
    let p = PathBuf::join(&[rel])?;
    let how = BENEATH.union(ResolveFlags::NO_SYMLINKS);
    rustix::fs::openat2(
        root,
        p.as_cstr()?,
        OFlags::PATH | OFlags::CLOEXEC,
        Mode::empty(),
        how,
    )
}

fn resolve_err(e: Errno) -> (Step, Errno) {
    (Step::Resolve, e)
}

/// `mkdir -p` beneath the root; returns the directory, opened `O_PATH`.
pub fn ensure_dir(root: &OwnedFd, rel: &[u8], mode: u32) -> Result<OwnedFd, (Step, Errno)> {
    match open_beneath(root, rel) {
        Err(Errno::NOENT) => {}
        other => return other.map_err(resolve_err),
    }
    // Walk from the root, creating each missing component inside its resolved parent.
    let mut dir = open_beneath(root, b".").map_err(resolve_err)?;
    let mut end = 0;
    for component in rel.split(|&b| b == b'/') {
        end += component.len();
        let prefix = &rel[..end];
        end += 1;
        dir = match open_beneath(root, prefix) {
            Ok(fd) => fd,
            Err(Errno::NOENT) => {
                let name = PathBuf::join(&[component]).map_err(resolve_err)?;
                match rustix::fs::mkdirat(
                    &dir,
                    name.as_cstr().map_err(resolve_err)?,
                    Mode::from(mode),
                ) {
                    Ok(()) | Err(Errno::EXIST) => {}
                    Err(e) => return Err((Step::MountPoint, e)),
                }
                open_beneath(root, prefix).map_err(resolve_err)?
            }
            Err(e) => return Err(resolve_err(e)),
        };
    }
    Ok(dir)
}

/// Ensures the parent of `rel` exists; returns it and the final name.
pub fn ensure_parent(root: &OwnedFd, rel: &[u8]) -> Result<(OwnedFd, PathBuf), (Step, Errno)> {
    let (parent, name) = match rel.iter().rposition(|&b| b == b'/') {
        Some(i) => (ensure_dir(root, &rel[..i], 0o755)?, &rel[i + 1..]),
        None => (open_beneath(root, b".").map_err(resolve_err)?, rel),
    };
    Ok((parent, PathBuf::join(&[name]).map_err(resolve_err)?))
}
