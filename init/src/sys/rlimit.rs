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
