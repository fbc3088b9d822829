//! Asking the running kernel which Landlock ABI it offers. The `landlock` crate would do this,
//! but it pulls in proc-macro crates, which this statically linked workspace cannot build.

use std::io;

/// `LANDLOCK_CREATE_RULESET_VERSION`: with a null attribute and size 0, return the ABI.
const CREATE_RULESET_VERSION: libc::c_uint = 1;

/// The kernel's Landlock ABI version (1, 2, ...), or the error that says why there is none:
/// `ENOSYS` when the kernel is built without Landlock, `EOPNOTSUPP` when it is built in but
/// not enabled at boot (not in `lsm=`).
pub fn abi() -> io::Result<u32> {
    // SAFETY: with LANDLOCK_CREATE_RULESET_VERSION the kernel reads no attribute (the pointer
    // is null and the size 0, as it requires) and creates no file descriptor; it only returns
    // a number. Kernels without the call return ENOSYS.
    let r = unsafe {
        libc::syscall(
            libc::SYS_landlock_create_ruleset,
            std::ptr::null::<libc::c_void>(),
            0usize,
            CREATE_RULESET_VERSION,
        )
    };
    if r < 0 {
        return Err(io::Error::last_os_error());
    }
    Ok(u32::try_from(r).unwrap_or(0))
}
