//! Raw system calls for the few operations rustix does not wrap (close_range, signal waits,
//! SIOCSIFFLAGS). Callers in this module tree uphold each syscall's own contract.

use rustix::io::Errno;

/// Turns the kernel's `-errno` convention into a `Result`.
fn check(ret: isize) -> Result<usize, Errno> {
    if (-4095..0).contains(&ret) {
        Err(Errno::from_raw_os_error(-ret as i32))
    } else {
        Ok(ret as usize)
    }
}

/// # Safety
/// The arguments must satisfy the contract of syscall `nr`: pointers valid for the accesses
/// the kernel makes through them, for the duration of the call.
#[cfg(target_arch = "x86_64")]
pub unsafe fn syscall4(nr: u32, a: usize, b: usize, c: usize, d: usize) -> Result<usize, Errno> {
    let ret: isize;
    // SAFETY: the x86_64 syscall ABI: number in rax, arguments in rdi, rsi, rdx, r10; rcx and
    // r11 are clobbered by the instruction. Memory effects are the caller's contract.
    unsafe {
        core::arch::asm!(
            "syscall",
            inlateout("rax") nr as isize => ret,
            in("rdi") a, in("rsi") b, in("rdx") c, in("r10") d,
            lateout("rcx") _, lateout("r11") _,
            options(nostack, preserves_flags),
        );
    }
    check(ret)
}

/// # Safety
/// As for the x86_64 version.
#[cfg(target_arch = "aarch64")]
pub unsafe fn syscall4(nr: u32, a: usize, b: usize, c: usize, d: usize) -> Result<usize, Errno> {
    let ret: isize;
    // SAFETY: the aarch64 syscall ABI: number in x8, arguments and result in x0..x3.
    unsafe {
        core::arch::asm!(
            "svc 0",
            in("x8") nr as usize,
            inlateout("x0") a as isize => ret,
            in("x1") b, in("x2") c, in("x3") d,
            options(nostack, preserves_flags),
        );
    }
    check(ret)
}
