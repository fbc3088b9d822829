//! Seccomp: policies, a compiler from policies to classic BPF, and an interpreter to check the
//! result without a kernel.
//!
//! The launcher compiles once, ahead of time; init only hands the finished program to the
//! kernel. There is no libseccomp anywhere.

pub mod arch;
pub mod bpf;
#[cfg(feature = "alloc")]
pub mod compile;
#[cfg(feature = "alloc")]
pub mod disasm;
pub mod interp;
#[cfg(feature = "alloc")]
pub mod policy;
pub mod tables;
