//! The only place in init with `unsafe`: entry point, memory functions the compiler expects,
//! and the few syscalls rustix does not wrap. Every block says why it holds.
#![allow(unsafe_code)]

pub mod exec;
pub mod fds;
pub mod landlock;
mod mem;
pub mod net;
pub mod pty;
mod raw;
pub mod rlimit;
pub mod seccomp;
pub mod signals;
pub mod socket;
mod start;

use core::sync::atomic::{AtomicBool, Ordering};

use nucleus_shared::wire::MAX_PLAN_BYTES;

/// Backing store of the plan. In `.bss`, so the pages a small plan never touches cost no memory.
struct PlanBuffer(core::cell::UnsafeCell<[u8; MAX_PLAN_BYTES]>);

// SAFETY: init is single-threaded, and `plan_buffer` hands the buffer out at most once.
unsafe impl Sync for PlanBuffer {}

static PLAN_BUFFER: PlanBuffer = PlanBuffer(core::cell::UnsafeCell::new([0; MAX_PLAN_BYTES]));
static PLAN_BUFFER_TAKEN: AtomicBool = AtomicBool::new(false);

/// The plan buffer, exactly once.
///
/// # Panics
/// On a second call, which would otherwise alias the buffer.
pub fn plan_buffer() -> &'static mut [u8] {
    assert!(
        !PLAN_BUFFER_TAKEN.swap(true, Ordering::Relaxed),
        "plan buffer taken twice"
    );
    // SAFETY: the flag above guarantees this is the only reference ever created to the buffer,
    // and the static lives for the whole program.
    unsafe { &mut *PLAN_BUFFER.0.get() }
}

/// The two sides of a fork.
pub enum Fork {
    Child,
    ParentOf(rustix::process::Pid),
}

/// `fork` without libc: `clone` with only the exit signal set.
pub fn fork() -> Result<Fork, rustix::io::Errno> {
    const SIGCHLD: usize = 17;
    // SAFETY: with no CLONE_VM the child gets its own copy of memory and continues on its copy
    // of this stack, like fork(2); the tls argument is read only with CLONE_SETTLS. init is
    // single-threaded and holds no locks, so nothing the child inherits is half-updated.
    let pid = unsafe { raw::syscall4(linux_raw_sys::general::__NR_clone, SIGCHLD, 0, 0, 0) }?;
    Ok(match rustix::process::Pid::from_raw(pid as i32) {
        None => Fork::Child,
        Some(pid) => Fork::ParentOf(pid),
    })
}

/// Ends the process (every thread) with `code`.
///
/// A seccomp profile may deny `exit_group` itself; then the process dies of SIGILL from an
/// undefined instruction rather than spin.
pub fn exit_group(code: i32) -> ! {
    // SAFETY: exit_group takes no pointers and does not return when allowed.
    let _ = unsafe {
        raw::syscall4(
            linux_raw_sys::general::__NR_exit_group,
            code as usize,
            0,
            0,
            0,
        )
    };
    // SAFETY: `ud2`/`udf` raise SIGILL, which the kernel forces on the process; nothing after
    // it runs.
    unsafe {
        #[cfg(target_arch = "x86_64")]
        core::arch::asm!("ud2", options(noreturn, nostack));
        #[cfg(target_arch = "aarch64")]
        core::arch::asm!("udf #0", options(noreturn, nostack));
    }
}
