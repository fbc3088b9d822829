//! The host terminal in raw mode while a session is attached, and put back on every way out
//! the launcher has: the guard's drop (normal end, errors), and a panic hook (a release
//! build aborts on panic, so no destructor runs then). The launcher relays SIGTERM, SIGHUP,
//! SIGINT and the rest to the sandbox instead of dying of them, so they end it through the
//! normal path; only an uncatchable SIGKILL (or a signal nobody sends a launcher, such as
//! SIGALRM) leaves the terminal raw, for `reset` to repair.

use std::sync::{Mutex, Once, TryLockError};

use rustix::termios::{OptionalActions, Termios};

use crate::error::Error;

/// stdin's settings from before raw mode, while raw mode is on.
static SAVED: Mutex<Option<Termios>> = Mutex::new(None);
static HOOK: Once = Once::new();

/// Raw mode on stdin's terminal; dropping it restores the settings it found.
pub struct RawMode(());

impl RawMode {
    /// Puts stdin's terminal in raw mode (as `cfmakeraw`: no echo, no line editing, no
    /// signals from keys, no output processing), so that every key reaches the sandbox's own
    /// line discipline. None when stdin is not a terminal, or when the launcher runs in the
    /// background of its terminal (changing it would stop the launcher with SIGTTOU).
    pub fn enter() -> Result<Option<RawMode>, Error> {
        let stdin = rustix::stdio::stdin();
        if !rustix::termios::isatty(stdin) {
            return Ok(None);
        }
        if let Ok(foreground) = rustix::termios::tcgetpgrp(stdin)
            && foreground != rustix::process::getpgrp()
        {
            tracing::debug!("not the terminal's foreground job: leaving it as it is");
            return Ok(None);
        }
        let saved = rustix::termios::tcgetattr(stdin)
            .map_err(|e| Error::io("reading the terminal's settings", e.into()))?;
        let mut raw = saved.clone();
        raw.make_raw();
        HOOK.call_once(|| {
            let previous = std::panic::take_hook();
            std::panic::set_hook(Box::new(move |info| {
                restore();
                previous(info);
            }));
        });
        *lock() = Some(saved);
        if let Err(e) = rustix::termios::tcsetattr(stdin, OptionalActions::Now, &raw) {
            restore();
            return Err(Error::io("putting the terminal in raw mode", e.into()));
        }
        Ok(Some(RawMode(())))
    }
}

impl Drop for RawMode {
    fn drop(&mut self) {
        restore();
    }
}

/// Puts stdin's saved settings back, once. Never blocks: a panic while the lock is held
/// (it is held only here and in `enter`) skips the restore rather than hang.
fn restore() {
    let saved = match SAVED.try_lock() {
        Ok(mut saved) => saved.take(),
        Err(TryLockError::Poisoned(p)) => p.into_inner().take(),
        Err(TryLockError::WouldBlock) => None,
    };
    if let Some(saved) = saved {
        let _ = rustix::termios::tcsetattr(rustix::stdio::stdin(), OptionalActions::Now, &saved);
    }
}

fn lock() -> std::sync::MutexGuard<'static, Option<Termios>> {
    SAVED.lock().unwrap_or_else(|p| p.into_inner())
}
