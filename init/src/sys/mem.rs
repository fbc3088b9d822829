//! The memory functions compiled code calls implicitly. With no libc, init provides them.
//!
//! On x86_64 they are single `rep` string instructions. Elsewhere they are byte loops over
//! volatile accesses, which the optimiser cannot turn back into calls to these functions.

/// # Safety
/// `dest` and `src` valid for `n` bytes, not overlapping (C's `memcpy` contract).
#[unsafe(no_mangle)]
pub unsafe extern "C" fn memcpy(dest: *mut u8, src: *const u8, n: usize) -> *mut u8 {
    // SAFETY: forwarded contract; a forward copy is correct for non-overlapping buffers.
    unsafe { copy_forward(dest, src, n) };
    dest
}

/// # Safety
/// `dest` and `src` valid for `n` bytes; they may overlap.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn memmove(dest: *mut u8, src: *const u8, n: usize) -> *mut u8 {
    if (dest as usize).wrapping_sub(src as usize) >= n {
        // SAFETY: dest is before src or past its end, so copying forward never reads a byte
        // already overwritten.
        unsafe { copy_forward(dest, src, n) };
    } else {
        // SAFETY: dest overlaps the tail of src; copying from the end backwards is correct.
        unsafe { copy_backward(dest, src, n) };
    }
    dest
}

/// # Safety
/// `dest` valid for `n` bytes of writes.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn memset(dest: *mut u8, c: i32, n: usize) -> *mut u8 {
    #[cfg(target_arch = "x86_64")]
    // SAFETY: `rep stosb` writes exactly rcx bytes at rdi, which the caller guarantees valid;
    // the direction flag is clear per the ABI.
    unsafe {
        core::arch::asm!("rep stosb", inout("rcx") n => _, inout("rdi") dest => _,
            in("al") c as u8, options(nostack, preserves_flags));
    }
    #[cfg(not(target_arch = "x86_64"))]
    for i in 0..n {
        // SAFETY: i < n, within the caller's buffer.
        unsafe { dest.add(i).write_volatile(c as u8) };
    }
    dest
}

/// # Safety
/// `a` and `b` valid for `n` bytes of reads.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn memcmp(a: *const u8, b: *const u8, n: usize) -> i32 {
    for i in 0..n {
        // SAFETY: i < n, within both buffers.
        let (x, y) = unsafe { (a.add(i).read_volatile(), b.add(i).read_volatile()) };
        if x != y {
            return i32::from(x) - i32::from(y);
        }
    }
    0
}

/// # Safety
/// As for `memcmp`.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn bcmp(a: *const u8, b: *const u8, n: usize) -> i32 {
    // SAFETY: same contract.
    unsafe { memcmp(a, b, n) }
}

/// # Safety
/// Both valid for `n` bytes; a forward copy must be correct for the overlap (if any).
unsafe fn copy_forward(dest: *mut u8, src: *const u8, n: usize) {
    #[cfg(target_arch = "x86_64")]
    // SAFETY: `rep movsb` copies rcx bytes from rsi to rdi upwards (direction flag clear per
    // the ABI); validity is the caller's contract.
    unsafe {
        core::arch::asm!("rep movsb", inout("rcx") n => _, inout("rdi") dest => _,
            inout("rsi") src => _, options(nostack, preserves_flags));
    }
    #[cfg(not(target_arch = "x86_64"))]
    for i in 0..n {
        // SAFETY: i < n, within both buffers.
        unsafe { dest.add(i).write_volatile(src.add(i).read_volatile()) };
    }
}

/// # Safety
/// Both valid for `n` bytes.
unsafe fn copy_backward(dest: *mut u8, src: *const u8, n: usize) {
    for i in (0..n).rev() {
        // SAFETY: i < n, within both buffers.
        unsafe { dest.add(i).write_volatile(src.add(i).read_volatile()) };
    }
}
