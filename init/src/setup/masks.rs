//! Hiding and freezing kernel interfaces under `/proc` (the OCI masked and read-only paths).
//!
//! A file is masked by binding `/dev/null` over it: the sandbox's own `/dev/null`, opened
//! beneath the root and checked to be the character device 1:3 first, so that a rootfs that
//! planted something else there cannot turn masking into a write to whatever it points at
//! (the runc CVE-2025-31133 class). A directory is masked by an empty read-only tmpfs.

use nucleus_shared::plan::flags;
use nucleus_shared::status::Step;
use rustix::fd::OwnedFd;
use rustix::fs::FileType;
use rustix::io::Errno;

use super::mounts::{bind_fd, mount_on, rebind_self, remount};
use super::path::open_beneath;

const NULL_MAJOR: u32 = 1;
const NULL_MINOR: u32 = 3;

fn resolve(e: Errno) -> (Step, Errno) {
    (Step::Resolve, e)
}

fn op(e: Errno) -> (Step, Errno) {
    (Step::Op, e)
}

/// `/dev/null` beneath the root, verified to be the real null device.
pub fn verified_null(root: &OwnedFd) -> Result<OwnedFd, (Step, Errno)> {
    let fd = open_beneath(root, b"dev/null").map_err(resolve)?;
    let st = rustix::fs::fstat(&fd).map_err(op)?;
    let is_null = FileType::from_raw_mode(st.st_mode) == FileType::CharacterDevice
        && rustix::fs::major(st.st_rdev) == NULL_MAJOR
        && rustix::fs::minor(st.st_rdev) == NULL_MINOR;
    if is_null {
        Ok(fd)
    } else {
        Err((Step::Op, Errno::NODEV))
    }
}

/// Masks `rel` if it exists (kernels differ in what `/proc` holds).
pub fn mask(root: &OwnedFd, null: &OwnedFd, rel: &[u8]) -> Result<(), (Step, Errno)> {
    let target = match open_beneath(root, rel) {
        Ok(fd) => fd,
        Err(Errno::NOENT) => return Ok(()),
        Err(e) => return Err(resolve(e)),
    };
    let st = rustix::fs::fstat(&target).map_err(op)?;
    if FileType::from_raw_mode(st.st_mode) == FileType::Directory {
        mount_on(
            &target,
            c"tmpfs",
            flags::RDONLY | flags::NOSUID | flags::NODEV | flags::NOEXEC,
            c"size=0,mode=0555",
        )
    } else {
        bind_fd(null, &target)
    }
    .map_err(op)
}

/// Binds `rel` onto itself and makes that mount read-only, if `rel` exists. The bind is
/// recursive, as runc's: mounts already beneath `rel` (`/sys/fs/cgroup` under a read-only
/// `/sys`) stay visible instead of being hidden by a bare copy of `rel`.
pub fn read_only(root: &OwnedFd, rel: &[u8]) -> Result<(), (Step, Errno)> {
    let target = match open_beneath(root, rel) {
        Ok(fd) => fd,
        Err(Errno::NOENT) => return Ok(()),
        Err(e) => return Err(resolve(e)),
    };
    rebind_self(&target).map_err(op)?;
    let mounted = open_beneath(root, rel).map_err(resolve)?;
    remount(
        &mounted,
        flags::RDONLY | flags::NOSUID | flags::NODEV | flags::NOEXEC,
    )
    .map_err(op)
}
