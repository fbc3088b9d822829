//! A new pty for a `terminal` workload, from the devpts instance the sandbox's `/dev/ptmx`
//! leads to (the sandbox's own: `/dev/ptmx -> pts/ptmx`, a `newinstance` mount).

use linux_raw_sys::ioctl::TIOCGPTN;
use rustix::fd::{AsFd, OwnedFd};
use rustix::io::Errno;
use rustix::process::Uid;
use rustix::pty::OpenptFlags;

/// Both sides of a new pty, and the number of the slave in its devpts (`/dev/pts/N`).
pub struct Pty {
    pub master: OwnedFd,
    pub slave: OwnedFd,
    pub number: u32,
}

/// Opens a pty whose slave belongs to `uid` (its group stays the devpts default), as runc
/// does, so that a workload running as another user can still use its own terminal.
///
/// The slave comes from the master itself (`TIOCGPTPEER`), never from a path lookup in
/// `/dev/pts` that something in the sandbox could have swapped; that ioctl also proves the
/// master really is a pty master.
pub fn open(uid: u32) -> Result<Pty, Errno> {
    let flags = OpenptFlags::RDWR | OpenptFlags::NOCTTY | OpenptFlags::CLOEXEC;
    let master = rustix::pty::openpt(flags)?;
    rustix::pty::unlockpt(&master)?;
    let slave = rustix::pty::ioctl_tiocgptpeer(&master, flags)?;
    rustix::fs::fchown(&slave, Some(Uid::from_raw(uid)), None)?;
    let number = number(&master)?;
    Ok(Pty {
        master,
        slave,
        number,
    })
}

/// `TIOCGPTN`: the slave's number.
fn number(master: impl AsFd) -> Result<u32, Errno> {
    // SAFETY: TIOCGPTN writes one `unsigned int` through its argument, which is exactly the
    // output type of this getter; the kernel rejects the request on anything but a pty master.
    unsafe {
        let get = rustix::ioctl::Getter::<{ TIOCGPTN as rustix::ioctl::Opcode }, u32>::new();
        rustix::ioctl::ioctl(master, get)
    }
}
