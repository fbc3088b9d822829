//! An attached terminal: the sandbox's pty relayed to the launcher's stdio.

use std::sync::Arc;

use rustix::fd::{BorrowedFd, OwnedFd};
use rustix::fs::OFlags;

use super::raw::RawMode;
use super::relay::{self, Relay};
use super::winsize;
use crate::error::Error;

/// The sandbox's terminal, attached. Ending it ([`Session::finish`], or dropping it on an
/// error path) drains the sandbox's output and restores the host terminal.
pub struct Session {
    master: Arc<OwnedFd>,
    /// The host terminal whose size the sandbox's follows (none if there is no terminal).
    size_from: Option<BorrowedFd<'static>>,
    relay: Option<Relay>,
    raw: Option<RawMode>,
}

impl Session {
    /// Attaches `master` (from [`super::Console::receive_master`]): copies the window size,
    /// puts the host terminal in raw mode if `interactive` and stdin is a terminal, and
    /// starts relaying: the sandbox's output always, stdin only if `interactive` (docker's
    /// `-i`; without it the workload's terminal gets no input).
    ///
    /// Without a terminal on the host side (stdin, stdout redirected: a test, a pipe) it
    /// still works, as plain copying; docker would refuse `-it` there, nucleus does not.
    ///
    /// Starts threads: call it only after init is cloned.
    pub fn attach(master: OwnedFd, interactive: bool) -> Result<Session, Error> {
        rustix::fs::fcntl_getfl(&master)
            .and_then(|f| rustix::fs::fcntl_setfl(&master, f | OFlags::NONBLOCK))
            .map_err(|e| Error::io("preparing the sandbox's terminal", e.into()))?;
        let mut session = Session {
            master: Arc::new(master),
            size_from: winsize::host_terminal(),
            relay: None,
            raw: None,
        };
        session.resize();
        if interactive {
            session.raw = RawMode::enter()?;
        }
        session.relay = Some(
            relay::start(session.master.clone(), interactive)
                .map_err(|e| Error::io("starting the terminal relay", e))?,
        );
        Ok(session)
    }

    /// Gives the sandbox's terminal the host terminal's current size (on SIGWINCH).
    pub fn resize(&self) {
        if let Some(from) = self.size_from
            && let Err(e) = winsize::copy(from, &*self.master)
        {
            tracing::debug!(error = %e, "copying the window size");
        }
    }

    /// After the sandbox (or the `exec`) ended: relays what it still wrote, stops reading
    /// stdin, and restores the host terminal.
    pub fn finish(mut self) -> Result<(), Error> {
        self.end();
        Ok(())
    }

    fn end(&mut self) {
        if let Some(relay) = self.relay.take() {
            relay.stop();
        }
        // Restored after the last output, which was written for a raw terminal.
        self.raw = None;
    }
}

impl Drop for Session {
    fn drop(&mut self) {
        self.end();
    }
}
