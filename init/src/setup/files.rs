//! Files, symlinks and device nodes created inside the new root.

use core::ffi::CStr;

use nucleus_shared::status::Step;
use rustix::fd::OwnedFd;
use rustix::fs::{FileType, Mode, OFlags, ResolveFlags};
use rustix::io::Errno;

use super::path::ensure_parent;

fn op_err(e: Errno) -> (Step, Errno) {
    (Step::Op, e)
}

pub fn symlink(root: &OwnedFd, target: &CStr, rel: &[u8]) -> Result<(), (Step, Errno)> {
    let (dir, name) = ensure_parent(root, rel)?;
    rustix::fs::symlinkat(target, &dir, name.as_cstr().map_err(op_err)?).map_err(op_err)
}

pub fn write_file(
    root: &OwnedFd,
    rel: &[u8],
    mode: u32,
    contents: &[u8],
) -> Result<(), (Step, Errno)> {
    let (dir, name) = ensure_parent(root, rel)?;
    // O_EXCL|O_NOFOLLOW: never write through something that was already there.
    let flags = OFlags::WRONLY | OFlags::CREATE | OFlags::EXCL | OFlags::NOFOLLOW | OFlags::CLOEXEC;
    let fd = rustix::fs::openat(
        &dir,
        name.as_cstr().map_err(op_err)?,
        flags,
        Mode::from(mode),
    )
    .map_err(op_err)?;
    let mut rest = contents;
    while !rest.is_empty() {
        match rustix::io::write(&fd, rest) {
            Ok(n) => rest = &rest[n..],
            Err(Errno::INTR) => {}
            Err(e) => return Err(op_err(e)),
        }
    }
    Ok(())
}

pub fn char_dev(
    root: &OwnedFd,
    rel: &[u8],
    mode: u32,
    major: u32,
    minor: u32,
) -> Result<(), (Step, Errno)> {
    let (dir, name) = ensure_parent(root, rel)?;
    let dev = rustix::fs::makedev(major, minor);
    rustix::fs::mknodat(
        &dir,
        name.as_cstr().map_err(op_err)?,
        FileType::CharacterDevice,
        Mode::from(mode),
        dev,
    )
    .map_err(op_err)
}

/// Creates an empty file to bind a file over, unless the target already exists beneath the root.
pub fn ensure_file(root: &OwnedFd, rel: &[u8]) -> Result<(), (Step, Errno)> {
    match super::path::open_beneath(root, rel) {
        Ok(_) => return Ok(()),
        Err(Errno::NOENT) => {}
        Err(e) => return Err((Step::Resolve, e)),
    }
    let (dir, name) = ensure_parent(root, rel)?;
    let flags = OFlags::WRONLY | OFlags::CREATE | OFlags::EXCL | OFlags::NOFOLLOW | OFlags::CLOEXEC;
    // EEXIST here is a dangling symlink: it points nowhere inside the root, so it is refused.
    rustix::fs::openat(
        &dir,
        name.as_cstr().map_err(op_err)?,
        flags,
        Mode::from(0o644),
    )
    .map(drop)
    .map_err(|e| {
        if e == Errno::EXIST {
            (Step::Resolve, Errno::NOENT)
        } else {
            op_err(e)
        }
    })
}

/// Writes a kernel parameter: `proc/sys/<key>` beneath the root, opened without following any
/// symlink and without creating anything, and only if it lies on a procfs, so that an image
/// whose `/proc` is not (yet) the sandbox's procfs cannot turn this into a write to its files.
pub fn sysctl(root: &OwnedFd, key: &[u8], value: &[u8]) -> Result<(), (Step, Errno)> {
    let path = super::path::PathBuf::join(&[b"proc/sys/", key]).map_err(op_err)?;
    let how = ResolveFlags::BENEATH | ResolveFlags::NO_MAGICLINKS | ResolveFlags::NO_SYMLINKS;
    let fd = rustix::fs::openat2(
        root,
        path.as_cstr().map_err(op_err)?,
        OFlags::WRONLY | OFlags::NOCTTY | OFlags::CLOEXEC,
        Mode::empty(),
        how,
    )
    .map_err(|e| (Step::Resolve, e))?;
    if rustix::fs::fstatfs(&fd).map_err(op_err)?.f_type != rustix::fs::PROC_SUPER_MAGIC {
        return Err(op_err(Errno::XDEV));
    }
    // procfs takes a parameter in one write; a short one would leave half a value.
    match rustix::io::write(&fd, value) {
        Ok(n) if n == value.len() => Ok(()),
        Ok(_) => Err(op_err(Errno::INVAL)),
        Err(e) => Err(op_err(e)),
    }
}
