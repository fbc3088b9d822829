//! Commands on one sandbox take its lock, so that `start`, `kill`, `delete` and the monitor
//! never act on a half-written state or on each other's half-done work.

use std::path::Path;

use rustix::fd::OwnedFd;
use rustix::fs::{FlockOperation, Mode, OFlags};

use crate::error::Error;

/// An exclusive `flock` on the sandbox's directory, held until dropped.
pub struct Lock {
    _fd: OwnedFd,
}

impl Lock {
    pub fn exclusive(dir: &Path) -> Result<Self, Error> {
        let fd = rustix::fs::open(
            dir,
            OFlags::RDONLY | OFlags::DIRECTORY | OFlags::CLOEXEC,
            Mode::empty(),
        )
        .map_err(|e| Error::io(format!("opening {}", dir.display()), e.into()))?;
        loop {
            match rustix::fs::flock(&fd, FlockOperation::LockExclusive) {
                Ok(()) => return Ok(Lock { _fd: fd }),
                Err(rustix::io::Errno::INTR) => {}
                Err(e) => return Err(Error::io(format!("locking {}", dir.display()), e.into())),
            }
        }
    }
}
