//! File descriptors init receives by number from the launcher, and closing ranges of them.

use linux_raw_sys::general::__NR_close_range;
use rustix::fd::BorrowedFd;

use super::raw::syscall4;

/// Borrows one of the fds the launcher passes by number (the plan and the status pipe).
pub fn borrow(fd: u32) -> BorrowedFd<'static> {
    // SAFETY: fds 0..=4 are opened by the launcher before init starts and are closed only via
    // `close_range` below, after their last use; a closed fd yields EBADF, never memory
    // unsafety, since init keeps no object that owns them.
    unsafe { BorrowedFd::borrow_raw(fd as i32) }
}

/// Closes one fd that was passed by number.
pub fn close(fd: u32) {
    close_range(fd, fd);
}

/// Closes every fd from `first` up.
pub fn close_from(first: u32) {
    close_range(first, u32::MAX);
}

/// Closes `first..=last` (Linux 5.9+, below our 5.10 floor).
pub fn close_range(first: u32, last: u32) {
    // SAFETY: close_range takes no pointers. The fds it closes are numbered ones init
    // inherited; no Rust object owns them (see `borrow`), so none is left dangling.
    let _ = unsafe { syscall4(__NR_close_range, first as usize, last as usize, 0, 0) };
}
