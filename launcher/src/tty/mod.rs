//! Terminals for sandboxes (`run -t`, `exec -t`, OCI `process.terminal`).
//!
//! init opens a pty inside the sandbox (from the sandbox's own devpts) and sends its master
//! over `CONSOLE_FD`: either to the launcher ([`Console`]), which then relays it to its own
//! stdio ([`Session`]), or straight to an OCI `--console-socket` ([`connect_console_socket`]).
//!
//! The relay runs on threads: they may only start once init is cloned (the clone in
//! `sys::clone` relies on a single-threaded launcher), and they inherit the launcher's
//! blocked signals, so every relayed signal still reaches the signalfd.

mod console;
mod raw;
mod relay;
mod session;
mod winsize;

pub use console::{Console, connect_console_socket};
pub use session::Session;
