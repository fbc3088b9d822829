//! Seccomp in the launcher: which policy a sandbox gets (our default, an OCI/Docker profile
//! file, or none), compiled ahead of time with `nucleus_shared::seccomp`.

pub mod default_profile;
mod init_policy;
pub use init_policy::init_policy;
pub mod explain;
pub mod generate;
pub mod oci;
pub mod trace;
pub mod watch;

use std::path::PathBuf;

use nucleus_shared::seccomp::arch::Arch;
use nucleus_shared::seccomp::compile::{CompileError, compile, to_bytes};
use nucleus_shared::seccomp::policy::{Action, Policy, Rule};
use nucleus_shared::seccomp::tables;

use crate::error::Error;

/// What a profile is resolved against: Docker profiles include rules by architecture, by the
/// capabilities the workload keeps, and by kernel version.
#[derive(Debug, Clone)]
pub struct Context {
    pub arch: Arch,
    /// Capability names (`CAP_SYS_ADMIN` ...) the workload keeps.
    pub caps: Vec<String>,
    /// The running kernel's (major, minor).
    pub kernel: (u32, u32),
}

/// `--seccomp`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Choice {
    Default,
    Unconfined,
    /// An OCI `linux.seccomp` or Docker profile.
    File(PathBuf),
    /// The same, given inline in a policy file.
    Inline(String),
}

impl Choice {
    pub fn parse(raw: &str) -> Result<Self, Error> {
        Ok(match raw {
            "default" => Choice::Default,
            "unconfined" => Choice::Unconfined,
            "" => {
                return Err(Error::usage(
                    "--seccomp: empty value (default, unconfined or a profile file)",
                ));
            }
            path => Choice::File(PathBuf::from(path)),
        })
    }
}

/// Compiled programs, ready for the plan.
#[derive(Debug, Clone, Default)]
pub struct Programs {
    /// The workload's program; empty when unconfined.
    pub workload: Vec<u8>,
    pub workload_insns: usize,
    /// `SECCOMP_FILTER_FLAG_*` for the workload's program.
    pub workload_flags: u32,
    /// PID 1's own program.
    pub init: Vec<u8>,
}

/// The architecture we run on; only x86_64 and aarch64 are supported.
pub fn native_arch() -> Result<Arch, Error> {
    Arch::native().ok_or_else(|| {
        Error::runtime("seccomp: this CPU architecture is not supported (x86_64 and aarch64 are)")
    })
}

/// Resolves `names` (`--seccomp-allow`) to numbers, refusing unknown ones.
pub fn resolve_names(arch: Arch, names: &[String]) -> Result<Vec<u32>, Error> {
    names
        .iter()
        .map(|n| {
            tables::number(arch, n).ok_or_else(|| {
                Error::usage(format!(
                    "--seccomp-allow: unknown system call {n:?} on {}",
                    arch.name()
                ))
            })
        })
        .collect()
}

/// The workload's policy for `choice`, or `None` when unconfined.
pub fn policy(choice: &Choice, allow: &[String], ctx: &Context) -> Result<Option<Policy>, Error> {
    let extra = resolve_names(ctx.arch, allow)?;
    let mut policy = match choice {
        Choice::Unconfined if extra.is_empty() => return Ok(None),
        Choice::Unconfined => {
            return Err(Error::usage(
                "--seccomp-allow adds to a profile; it means nothing with --seccomp unconfined",
            ));
        }
        Choice::Default => return Ok(Some(default_profile::policy(ctx.arch, &extra))),
        Choice::Inline(text) => oci::parse(text, ctx)
            .map_err(|e| Error::usage(format!("the policy file's seccomp profile: {e}")))?,
        Choice::File(path) => {
            let text = std::fs::read_to_string(path)
                .map_err(|e| Error::io(format!("--seccomp {}", path.display()), e))?;
            oci::parse(&text, ctx)
                .map_err(|e| Error::usage(format!("--seccomp {}: {e}", path.display())))?
        }
    };
    // Allowed names go first: the first matching rule decides.
    let extra_rules = extra.into_iter().map(|nr| Rule {
        nr,
        conds: vec![],
        action: Action::Allow,
    });
    policy.rules.splice(0..0, extra_rules);
    Ok(Some(policy))
}

pub fn compile_error(e: CompileError) -> Error {
    Error::usage(match e {
        CompileError::TooLong(n) => {
            format!("seccomp: the profile compiles to {n} instructions, over the kernel's 4096")
        }
        CompileError::BadArg(i) => format!("seccomp: argument index {i} (must be 0-5)"),
        CompileError::BadErrno(e) => format!("seccomp: errno {e} (must be at most 4095)"),
        CompileError::TooComplex(nr) => {
            format!("seccomp: too many argument conditions for system call {nr}")
        }
    })
}

/// The default and init programs as build.rs compiled them for the target's architecture.
static PRECOMPILED_DEFAULT: &[u8] =
    include_bytes!(concat!(env!("OUT_DIR"), "/seccomp-default.bpf"));
static PRECOMPILED_INIT: &[u8] = include_bytes!(concat!(env!("OUT_DIR"), "/seccomp-init.bpf"));
const PRECOMPILED_ARCH: Option<Arch> = if PRECOMPILED_INIT.is_empty() {
    None
} else {
    Arch::native()
};

/// SECCOMP_FILTER_FLAG_LOG: also log what the filter denies.
const FILTER_FLAG_LOG: u32 = 2;

/// Everything the plan needs: the workload's program (if any) and init's.
pub fn programs(
    choice: &Choice,
    allow: &[String],
    watch: Option<&watch::Mode>,
    ctx: &Context,
) -> Result<Programs, Error> {
    let precompiled = PRECOMPILED_ARCH == Some(ctx.arch);
    let init = if precompiled {
        PRECOMPILED_INIT.to_vec()
    } else {
        to_bytes(&compile(&init_policy(ctx.arch)).map_err(compile_error)?)
    };
    let default_as_built = *choice == Choice::Default && allow.is_empty() && precompiled;
    if default_as_built && !matches!(watch, Some(watch::Mode::Trace(_))) {
        let flags = if watch.is_some() { FILTER_FLAG_LOG } else { 0 };
        let insns = PRECOMPILED_DEFAULT.len() / nucleus_shared::seccomp::bpf::INSN_BYTES;
        return Ok(Programs {
            workload: PRECOMPILED_DEFAULT.to_vec(),
            workload_insns: insns,
            workload_flags: flags,
            init,
        });
    }
    let (policy, flags) = match watch {
        // Tracing allows everything and logs it: the point is to learn what is needed.
        Some(watch::Mode::Trace(_)) => {
            resolve_names(ctx.arch, allow)?;
            let log_all = Policy {
                arch: ctx.arch,
                default: Action::Log,
                foreign: Action::KillProcess,
                rules: Vec::new(),
            };
            (Some(log_all), 0)
        }
        Some(watch::Mode::LogDenied) => (policy(choice, allow, ctx)?, FILTER_FLAG_LOG),
        None => (policy(choice, allow, ctx)?, 0),
    };
    let (workload, workload_insns) = match policy {
        Some(p) => {
            let prog = compile(&p).map_err(compile_error)?;
            (to_bytes(&prog), prog.len())
        }
        None => (Vec::new(), 0),
    };
    Ok(Programs {
        workload,
        workload_insns,
        workload_flags: flags,
        init,
    })
}

/// The running kernel's (major, minor), from uname.
pub fn kernel_version() -> (u32, u32) {
    let release = rustix::system::uname()
        .release()
        .to_string_lossy()
        .into_owned();
    let mut parts = release
        .split(|c: char| !c.is_ascii_digit())
        .filter_map(|p| p.parse().ok());
    (parts.next().unwrap_or(0), parts.next().unwrap_or(0))
}

#[cfg(test)]
mod tests;
