//! `prlimit64` on the calling process.

use linux_raw_sys::general::__NR_prlimit64;
use nucleus_shared::plan::Rlimit;
use rustix::io::Errno;

use super::raw::syscall4;

/// `struct rlimit64`; `u64::MAX` is RLIM_INFINITY.
#[repr(C)]
struct Rlimit64 {
    cur: u64,
    max: u64,
}

pub fn set(r: &Rlimit) -> Result<(), Errno> {
    let new = Rlimit64 {
        cur: r.soft,
        max: r.hard,
    };
    // SAFETY: `new` is a valid rlimit64 that outlives the call and is only read; the old value
    // is not requested (null); pid 0 is the caller.
    unsafe {
        syscall4(
            __NR_prlimit64,
            0,
            r.resource as usize,
            &raw const new as usize,
            0,
        )
    }
    .map(drop)
}

/// Raises only the hard limit to `r.hard` when it is above the current one, leaving the soft
/// limit as it is: done while the capability to raise still exists, before the final values
/// (which may be far smaller) are set at the end of setup.
pub fn raise_hard(r: &Rlimit) -> Result<(), Errno> {
    let mut old = Rlimit64 { cur: 0, max: 0 };
    // SAFETY: `old` is a valid, writable rlimit64 for the kernel to fill; no new value is
    // passed (null).
    unsafe {
        syscall4(
            __NR_prlimit64,
            0,
            r.resource as usize,
            0,
            &raw mut old as usize,
        )
    }?;
    if r.hard <= old.max {
        return Ok(());
    }
    set(&Rlimit {
        resource: r.resource,
        soft: old.cur,
        hard: r.hard,
    })
}
