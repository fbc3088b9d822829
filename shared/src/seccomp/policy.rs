//! Seccomp policies as plain data, and the reference meaning of one: `Policy::evaluate` is the
//! straightforward reading the compiled program must agree with (the differential tests hold
//! them together).

use alloc::vec::Vec;

use super::arch::{Arch, X32_SYSCALL_BIT};
use super::bpf::*;
use super::interp::SeccompData;

/// What the kernel does with a system call.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Action {
    Allow,
    /// Fail with this errno (at most 4095).
    Errno(u16),
    KillProcess,
    KillThread,
    /// SIGSYS to the thread.
    Trap,
    /// Allow, and write an audit record.
    Log,
    /// Ask a supervisor listening on the notification fd.
    UserNotif,
    /// Notify a ptrace tracer, with this value.
    Trace(u16),
}

impl Action {
    /// The `SECCOMP_RET_*` value.
    pub const fn ret(self) -> u32 {
        match self {
            Action::Allow => RET_ALLOW,
            Action::Errno(e) => RET_ERRNO | (e as u32 & RET_DATA),
            Action::KillProcess => RET_KILL_PROCESS,
            Action::KillThread => RET_KILL_THREAD,
            Action::Trap => RET_TRAP,
            Action::Log => RET_LOG,
            Action::UserNotif => RET_USER_NOTIF,
            Action::Trace(v) => RET_TRACE | v as u32,
        }
    }

    /// The action a `SECCOMP_RET_*` value means.
    pub fn from_ret(ret: u32) -> Option<Self> {
        let data = (ret & RET_DATA) as u16;
        Some(match ret & RET_ACTION_FULL {
            RET_ALLOW => Action::Allow,
            RET_ERRNO => Action::Errno(data),
            RET_KILL_PROCESS => Action::KillProcess,
            RET_KILL_THREAD => Action::KillThread,
            RET_TRAP => Action::Trap,
            RET_LOG => Action::Log,
            RET_USER_NOTIF => Action::UserNotif,
            RET_TRACE => Action::Trace(data),
            _ => return None,
        })
    }
}

/// How an argument is compared with a value (unsigned, 64-bit), as in OCI profiles.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Cmp {
    Eq,
    Ne,
    Lt,
    Le,
    Gt,
    Ge,
    /// `(arg & mask) == value`.
    MaskedEq(u64),
}

/// One condition on one argument of a system call.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct ArgCond {
    /// 0..=5.
    pub arg: u8,
    pub cmp: Cmp,
    pub value: u64,
}

impl ArgCond {
    pub fn holds(&self, args: &[u64; 6]) -> bool {
        let a = args[usize::from(self.arg)];
        match self.cmp {
            Cmp::Eq => a == self.value,
            Cmp::Ne => a != self.value,
            Cmp::Lt => a < self.value,
            Cmp::Le => a <= self.value,
            Cmp::Gt => a > self.value,
            Cmp::Ge => a >= self.value,
            Cmp::MaskedEq(mask) => a & mask == self.value,
        }
    }
}

/// `action` for system call `nr` when every condition holds (always, when there are none).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Rule {
    pub nr: u32,
    pub conds: Vec<ArgCond>,
    pub action: Action,
}

/// A whole filter for one architecture.
///
/// For a system call, its rules are tried in order and the first whose conditions all hold
/// decides; with none, `default` does. Calls from another architecture (i386 through
/// `int 0x80`, and x32 on x86_64) get `foreign`; number -1 (what tracers use to skip a call)
/// is not an x32 call.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Policy {
    pub arch: Arch,
    pub default: Action,
    pub foreign: Action,
    pub rules: Vec<Rule>,
}

impl Policy {
    /// The reference meaning of the policy for one system call.
    pub fn evaluate(&self, d: &SeccompData) -> Action {
        let x32 = self.arch == Arch::X86_64 && d.nr & X32_SYSCALL_BIT != 0 && d.nr != u32::MAX;
        if d.arch != self.arch.audit() || x32 {
            return self.foreign;
        }
        self.rules
            .iter()
            .filter(|r| r.nr == d.nr)
            .find(|r| r.conds.iter().all(|c| c.holds(&d.args)))
            .map_or(self.default, |r| r.action)
    }
}
