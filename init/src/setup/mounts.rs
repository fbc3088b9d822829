//! Mounts: entering a private staging root, building the new root, and pivoting into it.
//!
//! Layout while setting up (after `enter`): `/` is a private tmpfs, `/oldroot` the host's root
//! (host paths are reached as `/oldroot/<path>`), `/newroot` the sandbox root being built.
//! Mount targets are never named by path: each is resolved beneath the root to an fd, and the
//! mount is made through that fd's `/proc/self/fd` link (as runc does), so what gets mounted
//! over is exactly what was checked, directory or file.

use core::ffi::CStr;

use nucleus_shared::plan::flags;
use nucleus_shared::status::Step;
use rustix::fd::{AsFd, AsRawFd, OwnedFd};
use rustix::fs::{Mode, OFlags, StatVfsMountFlags};
use rustix::io::Errno;
use rustix::mount::{MountFlags, MountPropagationFlags, UnmountFlags};

use super::path::{PathBuf, ensure_dir, open_beneath};

const OLD_ROOT: &[u8] = b"/oldroot";
const NEW_ROOT: &CStr = c"/newroot";

fn op_err(e: Errno) -> (Step, Errno) {
    (Step::Op, e)
}

fn mount_flags(f: u32) -> MountFlags {
    let mut m = MountFlags::empty();
    for (ours, kernel) in [
        (flags::RDONLY, MountFlags::RDONLY),
        (flags::NOSUID, MountFlags::NOSUID),
        (flags::NODEV, MountFlags::NODEV),
        (flags::NOEXEC, MountFlags::NOEXEC),
        (flags::NOATIME, MountFlags::NOATIME),
        (flags::NODIRATIME, MountFlags::NODIRATIME),
        (flags::RELATIME, MountFlags::RELATIME),
        (flags::STRICTATIME, MountFlags::STRICTATIME),
    ] {
        if f & ours != 0 {
            m |= kernel;
        }
    }
    m
}

/// Private propagation everywhere, a tmpfs on `staging`, and a pivot into it.
pub fn enter(staging: &CStr) -> Result<(), Errno> {
    rustix::mount::mount_change(
        c"/",
        MountPropagationFlags::PRIVATE | MountPropagationFlags::REC,
    )?;
    rustix::mount::mount(
        c"tmpfs",
        staging,
        c"tmpfs",
        MountFlags::NOSUID | MountFlags::NODEV,
        c"mode=0755",
    )?;
    rustix::process::chdir(staging)?;
    for dir in [c"oldroot", c"newroot"] {
        rustix::fs::mkdir(dir, Mode::from(0o755))?;
    }
    rustix::process::pivot_root(c".", c"oldroot")?;
    rustix::process::chdir(c"/")
}

fn open_new_root() -> Result<OwnedFd, Errno> {
    rustix::fs::open(
        NEW_ROOT,
        OFlags::PATH | OFlags::DIRECTORY | OFlags::CLOEXEC,
        Mode::empty(),
    )
}

pub fn root_tmpfs() -> Result<OwnedFd, Errno> {
    rustix::mount::mount(
        c"tmpfs",
        NEW_ROOT,
        c"tmpfs",
        MountFlags::NOSUID | MountFlags::NODEV,
        c"mode=0755",
    )?;
    open_new_root()
}

pub fn root_bind(source: &CStr) -> Result<OwnedFd, Errno> {
    let host = PathBuf::join(&[OLD_ROOT, source.to_bytes()])?;
    rustix::mount::mount_bind_recursive(host.as_cstr()?, NEW_ROOT)?;
    open_new_root()
}

/// The magic link naming `fd` exactly, reached through the host's procfs under the old root.
fn fd_path(fd: &impl AsFd) -> Result<PathBuf, Errno> {
    let mut digits = [0u8; 10];
    let mut n = fd.as_fd().as_raw_fd() as u32;
    let mut i = digits.len();
    loop {
        i -= 1;
        digits[i] = b'0' + (n % 10) as u8;
        n /= 10;
        if n == 0 {
            break;
        }
    }
    PathBuf::join(&[OLD_ROOT, b"/proc/self/fd/", &digits[i..]])
}

pub fn mount_fs(
    root: &OwnedFd,
    fstype: &CStr,
    rel: &[u8],
    f: u32,
    data: &CStr,
) -> Result<(), (Step, Errno)> {
    let mut dir = ensure_dir(root, rel, 0o755)?;
    if f & flags::NOFOLLOW != 0 {
        dir = super::path::open_beneath_nofollow(root, rel).map_err(|e| (Step::Resolve, e))?;
    }
    let path = fd_path(&dir).map_err(op_err)?;
    rustix::mount::mount(
        fstype,
        path.as_cstr().map_err(op_err)?,
        fstype,
        mount_flags(f),
        data,
    )
    .map_err(op_err)
}

pub fn bind(
    root: &OwnedFd,
    source: &CStr,
    rel: &[u8],
    f: u32,
    is_dir: bool,
) -> Result<(), (Step, Errno)> {
    let host = PathBuf::join(&[OLD_ROOT, source.to_bytes()]).map_err(op_err)?;
    let nofollow = f & flags::NOFOLLOW != 0;
    let resolve = |rel: &[u8]| {
        if nofollow {
            super::path::open_beneath_nofollow(root, rel)
        } else {
            open_beneath(root, rel)
        }
        .map_err(|e| (Step::Resolve, e))
    };
    let target = if is_dir {
        ensure_dir(root, rel, 0o755)?;
        resolve(rel)?
    } else {
        super::files::ensure_file(root, rel)?;
        resolve(rel)?
    };
    let path = fd_path(&target).map_err(op_err)?;
    let (from, to) = (
        host.as_cstr().map_err(op_err)?,
        path.as_cstr().map_err(op_err)?,
    );
    if f & flags::SHALLOW != 0 {
        rustix::mount::mount_bind(from, to)
    } else {
        rustix::mount::mount_bind_recursive(from, to)
    }
    .map_err(op_err)?;
    if f & !(flags::NOFOLLOW | flags::SHALLOW) == 0 {
        return Ok(());
    }
    // The fd above names what lies under the new mount; reopen to reach the mount itself.
    let mounted = resolve(rel)?;
    remount(&mounted, f).map_err(op_err)
}

/// Applies flags to the mount `fd` is the root of (a bind remount changes this mount only).
///
/// The mount's current flags are kept: a remount that would clear a flag the mount carries
/// (nosuid on a volume from /tmp, say) fails in a user namespace, where such flags are locked,
/// and clearing them anywhere would loosen the mount.
pub fn remount(fd: &impl AsFd, f: u32) -> Result<(), Errno> {
    let path = fd_path(fd)?;
    let current = rustix::fs::fstatvfs(fd)?.f_flag;
    let mut keep = MountFlags::empty();
    // An access-time mode asked for replaces the mount's (the kernel takes one of them).
    let atime_asked = f & flags::ATIME != 0;
    for (st, mf) in [
        (StatVfsMountFlags::RDONLY, MountFlags::RDONLY),
        (StatVfsMountFlags::NOSUID, MountFlags::NOSUID),
        (StatVfsMountFlags::NODEV, MountFlags::NODEV),
        (StatVfsMountFlags::NOEXEC, MountFlags::NOEXEC),
        (StatVfsMountFlags::NOATIME, MountFlags::NOATIME),
        (StatVfsMountFlags::NODIRATIME, MountFlags::NODIRATIME),
        (StatVfsMountFlags::RELATIME, MountFlags::RELATIME),
    ] {
        let is_atime =
            mf == MountFlags::NOATIME || mf == MountFlags::NODIRATIME || mf == MountFlags::RELATIME;
        if current.contains(st) && !(atime_asked && is_atime) {
            keep |= mf;
        }
    }
    rustix::mount::mount_remount(
        path.as_cstr()?,
        MountFlags::BIND | keep | mount_flags(f),
        c"",
    )
}

/// Applies `f` to the root mount itself: through the root's own fd, never a path, so that
/// nothing mounted on top of it (a volume whose target resolved to `/`) takes its place.
pub fn remount_root(root: &OwnedFd, f: u32) -> Result<(), Errno> {
    remount(root, f)
}

/// Makes the new root `/` and detaches everything else (the staging tmpfs and the host).
pub fn pivot(root: &OwnedFd) -> Result<(), Errno> {
    rustix::process::fchdir(root)?;
    rustix::process::pivot_root(c".", c".")?;
    // The old root is now stacked on top of `/`; detaching it removes the whole host view.
    rustix::mount::unmount(c".", UnmountFlags::DETACH)?;
    rustix::process::chdir(c"/")
}

/// Mounts a new `fstype` instance exactly on `target`.
pub fn mount_on(target: &OwnedFd, fstype: &CStr, f: u32, data: &CStr) -> Result<(), Errno> {
    let path = fd_path(target)?;
    rustix::mount::mount(fstype, path.as_cstr()?, fstype, mount_flags(f), data)
}

/// Binds what `source` names exactly onto what `target` names exactly (not recursive).
pub fn bind_fd(source: &OwnedFd, target: &OwnedFd) -> Result<(), Errno> {
    let (from, to) = (fd_path(source)?, fd_path(target)?);
    rustix::mount::mount_bind(from.as_cstr()?, to.as_cstr()?)
}

/// Binds `fd` onto itself with the mounts beneath it, so that a remount of the new top mount
/// leaves them in place.
pub fn rebind_self(fd: &OwnedFd) -> Result<(), Errno> {
    let p = fd_path(fd)?;
    rustix::mount::mount_bind_recursive(p.as_cstr()?, p.as_cstr()?)
}

/// Applies `f` to the mount on `rel` (a mount the plan made earlier).
pub fn remount_at(root: &OwnedFd, rel: &[u8], f: u32) -> Result<(), (Step, Errno)> {
    let fd = if f & flags::NOFOLLOW != 0 {
        super::path::open_beneath_nofollow(root, rel)
    } else {
        open_beneath(root, rel)
    }
    .map_err(|e| (Step::Resolve, e))?;
    remount(&fd, f).map_err(op_err)
}
