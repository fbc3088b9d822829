//! The window size of the sandbox's terminal follows the host terminal's: copied when the
//! session starts and on every SIGWINCH. Setting it on the master makes the kernel send
//! SIGWINCH to the sandbox's foreground job.

use std::io;

use rustix::fd::{AsFd, BorrowedFd};

/// The terminal whose size counts, as docker takes it: stdout's, else stdin's or stderr's.
pub fn host_terminal() -> Option<BorrowedFd<'static>> {
    [
        rustix::stdio::stdout(),
        rustix::stdio::stdin(),
        rustix::stdio::stderr(),
    ]
    .into_iter()
    .find(|fd| rustix::termios::isatty(fd))
}

/// Gives `master` the size of `from`.
pub fn copy(from: BorrowedFd<'_>, master: impl AsFd) -> io::Result<()> {
    let size = rustix::termios::tcgetwinsize(from)?;
    rustix::termios::tcsetwinsize(master, size)?;
    Ok(())
}
