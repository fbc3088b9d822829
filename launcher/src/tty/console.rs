//! The socket init sends the pty master on (`CONSOLE_FD`), and receiving it.

use std::io;
use std::mem::MaybeUninit;
use std::path::Path;

use rustix::fd::OwnedFd;
use rustix::io::{Errno, IoSliceMut};
use rustix::net::{
    AddressFamily, RecvAncillaryBuffer, RecvAncillaryMessage, RecvFlags, ReturnFlags,
    SocketAddrUnix, SocketFlags, SocketType,
};

use crate::error::Error;

/// The launcher's end of the console socket.
pub struct Console {
    socket: OwnedFd,
}

impl Console {
    /// A connected pair: the first fd is init's `CONSOLE_FD` (`Extras.console`), the other
    /// end stays here. Both are close-on-exec; init's copy survives only through the dup2 of
    /// the launcher's child, so init is its only holder.
    pub fn pair() -> Result<(OwnedFd, Console), Error> {
        let (init_end, ours) = rustix::net::socketpair(
            AddressFamily::UNIX,
            SocketType::STREAM,
            SocketFlags::CLOEXEC,
            None,
        )
        .map_err(|e| Error::io("creating the console socket", e.into()))?;
        Ok((init_end, Console { socket: ours }))
    }

    /// Waits for init to send the pty master. Cannot hang past init: when init ends (having
    /// failed a setup step, say) its end closes and this returns an error; the caller should
    /// prefer init's status record, which says why.
    pub fn receive_master(&self) -> Result<OwnedFd, Error> {
        let master = receive_one_fd(&self.socket)
            .map_err(|e| Error::io("receiving the sandbox's terminal from nucleus-init", e))?;
        if !rustix::termios::isatty(&master) {
            return Err(Error::runtime(
                "nucleus-init sent something that is not a terminal as the sandbox's terminal",
            ));
        }
        Ok(master)
    }
}

/// OCI `--console-socket PATH` (runc's protocol): a stream socket connected to PATH, to be
/// passed as init's `CONSOLE_FD`; init sends the master there as one `SCM_RIGHTS` message
/// whose bytes are the slave's path inside the sandbox.
pub fn connect_console_socket(path: &Path) -> Result<OwnedFd, Error> {
    let what = || format!("connecting to the console socket {}", path.display());
    let addr = SocketAddrUnix::new(path).map_err(|e| Error::io(what(), e.into()))?;
    let socket = rustix::net::socket_with(
        AddressFamily::UNIX,
        SocketType::STREAM,
        SocketFlags::CLOEXEC,
        None,
    )
    .map_err(|e| Error::io(what(), e.into()))?;
    loop {
        match rustix::net::connect(&socket, &addr) {
            Ok(()) => return Ok(socket),
            Err(Errno::INTR) => {}
            Err(e) => return Err(Error::io(what(), e.into())),
        }
    }
}

/// Receives one message that carries exactly one fd. Extra fds are closed, a truncated
/// control message refused (an fd would have been lost), and end of file is `UnexpectedEof`.
fn receive_one_fd(socket: &OwnedFd) -> io::Result<OwnedFd> {
    // Room for a few more fds than expected, to see (and close) what a broken sender adds.
    let mut space = [MaybeUninit::uninit(); rustix::cmsg_space!(ScmRights(4))];
    let mut name = [0u8; 256];
    loop {
        let mut control = RecvAncillaryBuffer::new(&mut space);
        let got = match rustix::net::recvmsg(
            socket,
            &mut [IoSliceMut::new(&mut name)],
            &mut control,
            RecvFlags::CMSG_CLOEXEC,
        ) {
            Ok(got) => got,
            Err(Errno::INTR) => continue,
            Err(e) => return Err(e.into()),
        };
        let mut fds: Vec<OwnedFd> = Vec::new();
        for msg in control.drain() {
            if let RecvAncillaryMessage::ScmRights(received) = msg {
                fds.extend(received);
            }
        }
        if got.flags.contains(ReturnFlags::CTRUNC) {
            return Err(io::Error::other("the message was truncated"));
        }
        return match (fds.len(), got.bytes) {
            (1, _) => Ok(fds.remove(0)),
            (0, 0) => Err(io::Error::new(
                io::ErrorKind::UnexpectedEof,
                "nucleus-init ended without sending it",
            )),
            (n, _) => Err(io::Error::other(format!("expected one fd, got {n}"))),
        };
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rustix::fd::AsFd;
    use rustix::io::IoSlice;
    use rustix::net::{SendAncillaryBuffer, SendAncillaryMessage, SendFlags};

    fn send(socket: &OwnedFd, data: &[u8], fds: &[rustix::fd::BorrowedFd<'_>]) {
        let mut space = [MaybeUninit::uninit(); rustix::cmsg_space!(ScmRights(4))];
        let mut control = SendAncillaryBuffer::new(&mut space);
        if !fds.is_empty() {
            assert!(control.push(SendAncillaryMessage::ScmRights(fds)));
        }
        rustix::net::sendmsg(
            socket,
            &[IoSlice::new(data)],
            &mut control,
            SendFlags::empty(),
        )
        .unwrap();
    }

    #[test]
    fn receives_the_one_fd_sent() {
        let (init_end, console) = Console::pair().unwrap();
        let (r, _w) = rustix::pipe::pipe().unwrap();
        send(&init_end, b"/dev/pts/0", &[r.as_fd()]);
        let got = receive_one_fd(&console.socket).unwrap();
        assert_eq!(
            rustix::fs::fstat(&got).unwrap().st_ino,
            rustix::fs::fstat(&r).unwrap().st_ino
        );
    }

    #[test]
    fn a_non_terminal_is_refused() {
        let (init_end, console) = Console::pair().unwrap();
        let (r, _w) = rustix::pipe::pipe().unwrap();
        send(&init_end, b"x", &[r.as_fd()]);
        let err = console.receive_master().unwrap_err().to_string();
        assert!(err.contains("not a terminal"), "{err}");
    }

    #[test]
    fn end_of_file_and_wrong_counts_are_errors() {
        let (init_end, console) = Console::pair().unwrap();
        drop(init_end);
        let err = console.receive_master().unwrap_err().to_string();
        assert!(err.contains("ended without sending it"), "{err}");

        let (init_end, console) = Console::pair().unwrap();
        send(&init_end, b"no fd", &[]);
        assert!(receive_one_fd(&console.socket).is_err());

        let (init_end, console) = Console::pair().unwrap();
        let (r, w) = rustix::pipe::pipe().unwrap();
        send(&init_end, b"two", &[r.as_fd(), w.as_fd()]);
        let err = receive_one_fd(&console.socket).unwrap_err().to_string();
        assert!(err.contains("got 2"), "{err}");
    }

    #[test]
    fn console_socket_paths_that_cannot_work_are_errors() {
        let long = format!("/tmp/{}", "x".repeat(200));
        let err = connect_console_socket(Path::new(&long))
            .unwrap_err()
            .to_string();
        assert!(err.contains("console socket"), "{err}");
        let err = connect_console_socket(Path::new("/nonexistent/nucleus-console.sock"))
            .unwrap_err()
            .to_string();
        assert!(err.contains("/nonexistent/nucleus-console.sock"), "{err}");
    }
}
