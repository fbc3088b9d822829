//! Installing a compiled seccomp program.

use linux_raw_sys::general::__NR_seccomp;
use nucleus_shared::plan::Filter;
use rustix::io::Errno;

use super::raw::syscall4;

/// SECCOMP_SET_MODE_FILTER.
const SET_MODE_FILTER: usize = 1;

/// `struct sock_fprog`.
#[repr(C)]
struct SockFprog {
    len: u16,
    filter: *const u8,
}

/// Sets no_new_privs (always: no setuid binary may regain what the sandbox took away), then
/// installs `filter` unless it is empty.
pub fn install(filter: &Filter<'_>) -> Result<(), Errno> {
    rustix::thread::set_no_new_privs(true)?;
    if filter.is_empty() {
        return Ok(());
    }
    let len = u16::try_from(filter.len()).map_err(|_| Errno::INVAL)?;
    let prog = SockFprog {
        len,
        filter: filter.program.as_ptr(),
    };
    // SAFETY: `prog` points at `len` whole instructions (the plan decoder checked the length)
    // in the plan buffer, which outlives the call; the kernel copies the program and verifies
    // every instruction before using it, so its contents cannot harm this process.
    unsafe {
        syscall4(
            __NR_seccomp,
            SET_MODE_FILTER,
            filter.flags as usize,
            &raw const prog as usize,
            0,
        )
    }
    .map(drop)
}
