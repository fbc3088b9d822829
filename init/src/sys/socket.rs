//! Passing an fd over a connected unix socket (`SCM_RIGHTS`), as runc does with the pty
//! master on an OCI `--console-socket`.

use core::mem::MaybeUninit;

use rustix::fd::BorrowedFd;
use rustix::io::{Errno, IoSlice};
use rustix::net::{SendAncillaryBuffer, SendAncillaryMessage, SendFlags};

/// Sends `fd` with `data` (which must not be empty: a stream socket drops the fd of a
/// message without bytes) in one `sendmsg`, the single message a console socket's reader
/// (conmon, containerd, the launcher) expects.
pub fn send_fd(socket: BorrowedFd<'_>, data: &[u8], fd: BorrowedFd<'_>) -> Result<(), Errno> {
    let mut space = [MaybeUninit::uninit(); rustix::cmsg_space!(ScmRights(1))];
    let mut control = SendAncillaryBuffer::new(&mut space);
    let fds = [fd];
    if !control.push(SendAncillaryMessage::ScmRights(&fds)) {
        return Err(Errno::NOBUFS);
    }
    loop {
        match rustix::net::sendmsg(
            socket,
            &[IoSlice::new(data)],
            &mut control,
            SendFlags::NOSIGNAL,
        ) {
            Ok(n) if n == data.len() => return Ok(()),
            // A partial write would split what the reader expects as one message.
            Ok(_) => return Err(Errno::MSGSIZE),
            Err(Errno::INTR) => {}
            Err(e) => return Err(e),
        }
    }
}
