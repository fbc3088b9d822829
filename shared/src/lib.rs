//! What `nucleus-launch` and `nucleus-init` must agree on.
//!
//! The launcher does all parsing and policy work in std Rust and compiles it into a *plan*: an
//! ordered list of typed operations in a small, versioned binary format ([`wire`], [`plan`]).
//! init, a libc-free PID 1, decodes that plan with fixed buffers and executes it one operation
//! at a time. When a step fails, init writes a [`status::StatusRecord`] naming the step and the
//! operation, and the launcher turns it into a sentence. Both sides are built from the same
//! commit; a version mismatch is refused, never negotiated.
//!
//! The crate is `no_std` and free of `unsafe` so that init can use it; encoding needs the
//! `alloc` feature, which only the launcher enables.
#![no_std]
#![forbid(unsafe_code)]

#[cfg(feature = "alloc")]
extern crate alloc;

pub mod fds;
pub mod plan;
pub mod seccomp;
pub mod status;
pub mod wire;
