//! Which seccomp filter flags the running kernel knows, asked without installing anything.

/// `Some(true)` if the kernel accepts `SECCOMP_FILTER_FLAG_*` value `flag`, `Some(false)` if
/// it refuses it, `None` if the answer is unclear.
///
/// `seccomp(SECCOMP_SET_MODE_FILTER, flag, NULL)`: the kernel rejects unknown flags (EINVAL)
/// before it reads the program, and fails to read a null one (EFAULT) otherwise.
pub fn filter_flag_supported(flag: u32) -> Option<bool> {
    // SAFETY: the program pointer is null, which the kernel only tries to read (and cannot);
    // no filter is installed whatever the outcome.
    let r = unsafe { libc::syscall(libc::SYS_seccomp, 1, flag, std::ptr::null::<u8>()) };
    if r == 0 {
        return None;
    }
    match std::io::Error::last_os_error().raw_os_error() {
        Some(libc::EFAULT) => Some(true),
        Some(libc::EINVAL) => Some(false),
        _ => None,
    }
}
