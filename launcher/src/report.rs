//! Turning init's status records into one sentence naming the step and the path.

use nucleus_shared::status::{StatusRecord, Step, decode_error_text};

use crate::config::Config;
use crate::error::{Error, errno_text, exit};
use crate::plan::CompiledPlan;

pub fn from_record(r: &StatusRecord, plan: &CompiledPlan, cfg: &Config) -> Error {
    let errno = r.errno as i32;
    let why = errno_text(errno);
    let what = plan.describe(r.op);
    let cmd = &cfg.command[0];
    match r.step {
        Step::Exec => {
            let code = if errno == libc::ENOENT || errno == libc::ENOTDIR {
                exit::NOT_FOUND
            } else {
                exit::CANNOT_EXECUTE
            };
            let message = if code == exit::NOT_FOUND && !cmd.contains('/') {
                format!("{cmd}: command not found in the sandbox's PATH")
            } else {
                format!("cannot execute {cmd}: {why}")
            };
            Error::Exec { code, message }
        }
        Step::Resolve if errno == libc::EXDEV => Error::runtime(format!(
            "{what} failed: the target leaves the sandbox root (through a symlink or '..')"
        )),
        Step::Resolve if errno == libc::ELOOP => Error::runtime(format!(
            "{what} failed: the target is a symlink (or lies beneath one), which is refused here"
        )),
        Step::Resolve => Error::runtime(format!("{what} failed: resolving the target: {why}")),
        Step::MountPoint => {
            let hint = if cfg.userns.is_some() && (errno == libc::EACCES || errno == libc::EPERM) {
                " (in a user namespace the sandbox's root cannot write a rootfs the host's root owns: \
                 create the mount point in the rootfs beforehand)"
            } else {
                ""
            };
            Error::runtime(format!(
                "{what} failed: creating its mount point: {why}{hint}"
            ))
        }
        Step::Op => Error::runtime(format!("{what} failed: {why}")),
        Step::Chdir => Error::runtime(format!(
            "cannot enter the working directory {}: {why}",
            cfg.workdir
        )),
        Step::SetUser => Error::runtime(format!(
            "cannot switch to user {}:{}: {why}",
            cfg.uid, cfg.gid
        )),
        Step::Fork => Error::runtime(format!("starting the workload failed: {why}")),
        Step::Terminal => Error::runtime(format!("giving the workload a terminal failed: {why}")),
        // Not a failure; callers that await `start` take it before reporting.
        Step::Created => Error::runtime("the sandbox stopped while waiting for start"),
        Step::ExecInit => Error::runtime(format!("starting nucleus-init failed: {why}")),
        Step::ReadPlan => Error::runtime(format!("nucleus-init could not read its plan: {why}")),
        Step::DecodePlan => Error::runtime(format!(
            "nucleus-init refused its plan: {}",
            decode_error_text(r.errno)
        )),
        Step::InitSetup => Error::runtime(format!("nucleus-init could not prepare itself: {why}")),
        Step::Seccomp => Error::runtime(format!("installing the seccomp filter failed: {why}")),
        Step::InitSeccomp => Error::runtime(format!(
            "confining nucleus-init itself (capabilities, seccomp) failed: {why}"
        )),
        Step::Caps => Error::runtime(format!(
            "dropping capabilities (keeping {}) failed: {why}",
            crate::config::caps::names(cfg.caps)
        )),
        Step::Rlimit => {
            let l = cfg.rlimits.get(usize::from(r.op));
            Error::runtime(format!(
                "setting resource limit {} failed: {why}",
                l.map_or(0, |l| l.resource)
            ))
        }
        Step::Landlock => match plan.landlock_rule(r.op) {
            Some(rule) if errno == libc::ENOENT || errno == libc::ENOTDIR => {
                Error::runtime(format!("{rule}: {why} in the sandbox"))
            }
            Some(rule) if errno == libc::ELOOP => Error::runtime(format!(
                "applying Landlock: {rule}: the path is a symlink (or lies beneath one), which is refused: name the real path"
            )),
            Some(rule) => Error::runtime(format!("applying Landlock: {rule}: {why}")),
            None => Error::runtime(format!("applying Landlock failed: {why}")),
        },
    }
}
