//! `execve` with argument and environment arrays built from the plan.

use core::ffi::CStr;

use rustix::io::Errno;

/// A NULL-terminated array of pointers to C strings borrowed for `'a`, as `execve` wants it.
pub struct CStrArray<'a, const N: usize> {
    ptrs: [*const u8; N],
    len: usize,
    _strings: core::marker::PhantomData<&'a CStr>,
}

impl<'a, const N: usize> CStrArray<'a, N> {
    /// Collects the strings; fails with E2BIG when more than `N - 1` are given.
    pub fn collect(items: impl Iterator<Item = &'a CStr>) -> Result<Self, Errno> {
        let mut a = CStrArray {
            ptrs: [core::ptr::null(); N],
            len: 0,
            _strings: Default::default(),
        };
        for s in items {
            if a.len + 1 >= N {
                return Err(Errno::TOOBIG);
            }
            a.ptrs[a.len] = s.as_ptr().cast();
            a.len += 1;
        }
        Ok(a)
    }
}

/// Replaces the process image; returns only on failure.
pub fn execve<const A: usize, const E: usize>(
    path: &CStr,
    argv: &CStrArray<'_, A>,
    envp: &CStrArray<'_, E>,
) -> Errno {
    // SAFETY: both arrays end with a null pointer (`collect` keeps at least one null slot) and
    // every other entry points to a NUL-terminated string borrowed for the arrays' lifetime,
    // which covers this call; `path` is a valid C string.
    let r = unsafe {
        super::raw::syscall4(
            linux_raw_sys::general::__NR_execve,
            path.as_ptr() as usize,
            argv.ptrs.as_ptr() as usize,
            envp.ptrs.as_ptr() as usize,
            0,
        )
    };
    r.err().unwrap_or(Errno::INVAL)
}
