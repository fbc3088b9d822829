//! Backends that run a validated configuration: the native one (our own init in new
//! namespaces) and gVisor (the same configuration as an OCI bundle, run by `runsc`).

pub mod gvisor;
pub mod native;

use crate::config::Config;
use crate::error::Error;

/// Runs `cfg` on the backend it names; returns the launcher's exit code.
pub fn run(cfg: &Config) -> Result<i32, Error> {
    match &cfg.runtime {
        gvisor::Runtime::Native => native::run(cfg),
        gvisor::Runtime::Gvisor(g) => gvisor::run(cfg, g),
    }
}
