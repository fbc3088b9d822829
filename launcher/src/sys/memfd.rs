//! init runs from a sealed memfd: nothing on disk to swap, and `/proc/1/exe` inside the
//! sandbox is a file no one can write (the runc CVE-2019-5736 class of attacks).

use std::io;

use rustix::fd::OwnedFd;
use rustix::fs::{MemfdFlags, SealFlags};

pub fn sealed_executable(name: &std::ffi::CStr, bytes: &[u8]) -> io::Result<OwnedFd> {
    let fd = rustix::fs::memfd_create(name, MemfdFlags::CLOEXEC | MemfdFlags::ALLOW_SEALING)?;
    let mut rest = bytes;
    while !rest.is_empty() {
        let n = rustix::io::write(&fd, rest)?;
        rest = &rest[n..];
    }
    rustix::fs::fcntl_add_seals(
        &fd,
        SealFlags::SEAL | SealFlags::SHRINK | SealFlags::GROW | SealFlags::WRITE,
    )?;
    Ok(fd)
}
