//! The launcher's system-call modules: the only places with `unsafe`.
#![allow(unsafe_code)]

pub mod child;
pub mod clone;
pub mod landlock;
pub mod memfd;
pub mod seccomp_probe;
pub mod signals;
