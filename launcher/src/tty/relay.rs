//! Copying between the host's stdio and the pty master: master to stdout always, stdin to
//! master for an interactive session. One thread each; a pipe tells them to stop.
//!
//! The master is non-blocking and every wait is a poll that also watches the stop pipe, so
//! stopping never waits on a workload that does not read or a host that does not type.

use std::io;
use std::sync::Arc;
use std::thread::JoinHandle;

use rustix::event::{PollFd, PollFlags, Timespec};
use rustix::fd::{AsFd, BorrowedFd, OwnedFd};
use rustix::io::Errno;
use rustix::termios::{LocalModes, SpecialCodeIndex};

/// After the stop, how long the output side waits for more before it gives up. The slave
/// normally closes with the sandbox and the master reports that at once (end of output);
/// this only bounds an `exec` whose processes outlive it while holding the terminal.
const GRACE: Timespec = Timespec {
    tv_sec: 0,
    tv_nsec: 200_000_000,
};

pub struct Relay {
    stop: OwnedFd,
    output: JoinHandle<()>,
    input: Option<JoinHandle<()>>,
}

/// Starts the threads. `master` must be non-blocking.
pub fn start(master: Arc<OwnedFd>, interactive: bool) -> io::Result<Relay> {
    let (stop_rd, stop) = rustix::pipe::pipe_with(rustix::pipe::PipeFlags::CLOEXEC)?;
    let stop_rd = Arc::new(stop_rd);
    let input = if interactive {
        let (master, stop_rd) = (master.clone(), stop_rd.clone());
        Some(
            std::thread::Builder::new()
                .name("tty-input".into())
                .spawn(move || copy_in(&master, &stop_rd))?,
        )
    } else {
        None
    };
    let output = std::thread::Builder::new()
        .name("tty-output".into())
        .spawn(move || copy_out(&master, &stop_rd))?;
    Ok(Relay {
        stop,
        output,
        input,
    })
}

impl Relay {
    /// Stops reading stdin, drains what the sandbox wrote, and waits for both threads.
    pub fn stop(self) {
        let _ = rustix::io::write(&self.stop, b"x");
        let _ = self.output.join();
        if let Some(input) = self.input {
            let _ = input.join();
        }
    }
}

/// Master to stdout until every slave is closed (the master then reads end of file or
/// EIO), or until the stop and a quiet `GRACE`. A stdout that fails is given up, but the
/// master is still read so that the sandbox never blocks on a full terminal.
fn copy_out(master: &OwnedFd, stop: &OwnedFd) {
    let stdout = rustix::stdio::stdout();
    let mut buf = vec![0u8; 16 * 1024];
    let mut stopping = false;
    let mut stdout_ok = true;
    loop {
        let (master_ready, stop_ready) = {
            let mut fds = vec![PollFd::new(master, PollFlags::IN)];
            if !stopping {
                fds.push(PollFd::new(stop, PollFlags::IN));
            }
            match rustix::event::poll(&mut fds, stopping.then_some(&GRACE)) {
                Ok(0) => return,
                Ok(_) | Err(Errno::INTR) => {}
                Err(_) => return,
            }
            (
                !fds[0].revents().is_empty(),
                fds.get(1).is_some_and(|f| !f.revents().is_empty()),
            )
        };
        stopping |= stop_ready;
        if !master_ready {
            continue;
        }
        match rustix::io::read(master, &mut buf) {
            Ok(0) => return,
            Ok(n) => stdout_ok = stdout_ok && write_all(stdout, &buf[..n], None),
            Err(Errno::AGAIN | Errno::INTR) => {}
            // EIO: the last slave is closed and everything it wrote has been read.
            Err(_) => return,
        }
    }
}

/// stdin to master until the stop, or stdin's end: then the workload gets an end of file
/// too (the terminal's EOF character, if it reads lines), as it would at a real terminal.
fn copy_in(master: &OwnedFd, stop: &OwnedFd) {
    let stdin = rustix::stdio::stdin();
    let mut buf = vec![0u8; 16 * 1024];
    loop {
        let (stdin_ready, stop_ready) = {
            let mut fds = [
                PollFd::new(&stdin, PollFlags::IN),
                PollFd::new(stop, PollFlags::IN),
            ];
            match rustix::event::poll(&mut fds, None) {
                Ok(_) | Err(Errno::INTR) => {}
                Err(_) => return,
            }
            (!fds[0].revents().is_empty(), !fds[1].revents().is_empty())
        };
        if stop_ready {
            return;
        }
        if !stdin_ready {
            continue;
        }
        match rustix::io::read(stdin, &mut buf) {
            Ok(0) => {
                send_eof(master, stop);
                return;
            }
            Ok(n) => {
                if !write_all(master.as_fd(), &buf[..n], Some(stop)) {
                    return;
                }
            }
            Err(Errno::AGAIN | Errno::INTR) => {}
            Err(_) => return,
        }
    }
}

fn send_eof(master: &OwnedFd, stop: &OwnedFd) {
    // The master shares the slave's settings.
    if let Ok(t) = rustix::termios::tcgetattr(master)
        && t.local_modes.contains(LocalModes::ICANON)
    {
        let eof = t.special_codes[SpecialCodeIndex::VEOF];
        write_all(master.as_fd(), &[eof], Some(stop));
    }
}

/// Writes all of `bytes`; on a non-blocking fd, waits for room (or for `stop`). False if
/// the fd failed or the stop came first.
fn write_all(fd: BorrowedFd<'_>, mut bytes: &[u8], stop: Option<&OwnedFd>) -> bool {
    while !bytes.is_empty() {
        match rustix::io::write(fd, bytes) {
            Ok(n) => bytes = &bytes[n..],
            Err(Errno::INTR) => {}
            Err(Errno::AGAIN) => {
                let mut fds = vec![PollFd::new(&fd, PollFlags::OUT)];
                if let Some(stop) = stop {
                    fds.push(PollFd::new(stop, PollFlags::IN));
                }
                match rustix::event::poll(&mut fds, None) {
                    Ok(_) | Err(Errno::INTR) => {}
                    Err(_) => return false,
                }
                if fds.get(1).is_some_and(|f| !f.revents().is_empty()) {
                    return false;
                }
            }
            Err(_) => return false,
        }
    }
    true
}
