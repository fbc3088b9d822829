//! Process entry and panic handling: there is no C runtime to do either.

use super::exit_group;

// The kernel enters at `_start` with the stack pointer at argc; init reads its arguments from
// the plan, not argv, so the entry only sets up a clean frame and calls `entry`.
#[cfg(target_arch = "x86_64")]
core::arch::global_asm!(
    ".globl _start",
    "_start:",
    "xor ebp, ebp",
    "and rsp, -16",
    "call {entry}",
    "ud2",
    entry = sym entry,
);

#[cfg(target_arch = "aarch64")]
core::arch::global_asm!(
    ".globl _start",
    "_start:",
    "mov x29, xzr",
    "mov x30, xzr",
    "mov x0, sp",
    "and x0, x0, #0xfffffffffffffff0",
    "mov sp, x0",
    "bl {entry}",
    "brk #1",
    entry = sym entry,
);

extern "C" fn entry() -> ! {
    crate::main()
}

#[panic_handler]
fn panic(_: &core::panic::PanicInfo<'_>) -> ! {
    // A fixed message: formatting could itself fail, and there is no allocator.
    let _ = rustix::io::write(
        super::fds::borrow(2),
        b"nucleus-init: internal error (panic)\n",
    );
    exit_group(crate::report::RUNTIME_FAILED)
}

/// Unoptimised builds link core's unwind tables, which name this symbol. init is built with
/// panic=abort, so nothing ever unwinds and this is never called.
// SAFETY: the symbol name is not used by anything else in this libc-free binary.
#[unsafe(no_mangle)]
extern "C" fn rust_eh_personality() {}
