//! Bringing up the loopback interface of a fresh network namespace.

use linux_raw_sys::general::__NR_ioctl;
use linux_raw_sys::ioctl::SIOCSIFFLAGS;
use linux_raw_sys::net::net_device_flags::{IFF_RUNNING, IFF_UP};
use rustix::fd::AsRawFd;
use rustix::io::Errno;
use rustix::net::{AddressFamily, SocketFlags, SocketType};

use super::raw::syscall4;

/// `struct ifreq` as SIOCSIFFLAGS reads it: the name, then the flags, padded to 40 bytes.
#[repr(C)]
struct IfreqFlags {
    name: [u8; 16],
    flags: i16,
    _pad: [u8; 22],
}

pub fn loopback_up() -> Result<(), Errno> {
    let sock = rustix::net::socket_with(
        AddressFamily::INET,
        SocketType::DGRAM,
        SocketFlags::CLOEXEC,
        None,
    )?;
    let mut req = IfreqFlags {
        name: [0; 16],
        flags: (IFF_UP as u32 | IFF_RUNNING as u32) as i16,
        _pad: [0; 22],
    };
    req.name[..2].copy_from_slice(b"lo");
    // SAFETY: `sock` is an open socket owned here; `req` is a properly sized ifreq that lives
    // across the call, and SIOCSIFFLAGS only reads it.
    unsafe {
        syscall4(
            __NR_ioctl,
            sock.as_raw_fd() as usize,
            SIOCSIFFLAGS as usize,
            &raw mut req as usize,
            0,
        )
    }
    .map(drop)
}
