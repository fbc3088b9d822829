//! The workload part of a plan: what to execute, as whom, and under which confinement.
//! init applies these in its child, in order: rlimits, user, capabilities, working
//! directory, Landlock, no_new_privs and seccomp, then `execve`.

use core::ffi::CStr;

use super::list::{Item, List, StrList};
use crate::wire::{DecodeError, Reader};

/// Most arguments, and most environment entries, a workload may be given.
pub const MAX_ARGS: usize = 1024;
/// More than every rlimit Linux has.
pub const MAX_RLIMITS: usize = 32;
/// Most supplementary groups (the kernel allows 65536; images use a handful).
pub const MAX_GROUPS: usize = 256;
/// Most Landlock rules of each kind.
pub const MAX_LANDLOCK_RULES: usize = 256;

/// The workload.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Process<'a> {
    pub argv: StrList<'a>,
    pub env: StrList<'a>,
    /// Absolute, inside the sandbox.
    pub cwd: &'a CStr,
    pub uid: u32,
    pub gid: u32,
    /// The workload's seccomp program, installed last before `execve`; empty for none.
    pub seccomp: Filter<'a>,
    /// init's own filter, installed once the workload runs; empty for none.
    pub init_seccomp: Filter<'a>,
    /// Capabilities kept (bit n = capability n) in every set: bounding, permitted,
    /// effective, inheritable and ambient. Securebits are locked in any case.
    pub caps: u64,
    pub rlimits: List<'a, Rlimit>,
    pub landlock: Landlock<'a>,
    /// Supplementary groups (OCI `additionalGids`); none when empty.
    pub groups: List<'a, u32>,
    /// The umask the workload starts with.
    pub umask: u32,
    /// Give the workload a new pty as its controlling terminal and stdio; init passes the
    /// master side to the launcher (or an OCI console socket) over `CONSOLE_FD`.
    pub terminal: bool,
    /// The pty's first size (rows, columns), set before its master is passed on; (0, 0) leaves
    /// it to whoever receives the master (OCI `process.consoleSize`).
    pub console_size: (u16, u16),
}

impl<'a> Process<'a> {
    pub(crate) fn decode(r: &mut Reader<'a>) -> Result<Self, DecodeError> {
        Ok(Process {
            argv: List::decode(r, 1, MAX_ARGS)?,
            env: List::decode(r, 0, MAX_ARGS)?,
            cwd: r.cstr()?,
            uid: r.u32()?,
            gid: r.u32()?,
            seccomp: Filter::read(r)?,
            init_seccomp: Filter::read(r)?,
            caps: r.u64()?,
            rlimits: List::decode(r, 0, MAX_RLIMITS)?,
            landlock: Landlock::decode(r)?,
            groups: List::decode(r, 0, MAX_GROUPS)?,
            umask: match r.u32()? {
                m if m <= 0o777 => m,
                _ => return Err(DecodeError::BadValue),
            },
            terminal: r.bool()?,
            console_size: (r.u16()?, r.u16()?),
        })
    }
}

/// A compiled classic-BPF program (`struct sock_filter` array in native byte order) and the
/// `SECCOMP_FILTER_FLAG_*` flags to install it with.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Filter<'a> {
    pub program: &'a [u8],
    pub flags: u32,
}

impl Filter<'_> {
    pub fn is_empty(&self) -> bool {
        self.program.is_empty()
    }

    /// Number of instructions.
    pub fn len(&self) -> usize {
        self.program.len() / crate::seccomp::bpf::INSN_BYTES
    }
}

impl<'a> Item<'a> for Filter<'a> {
    fn read(r: &mut Reader<'a>) -> Result<Self, DecodeError> {
        use crate::seccomp::bpf::{INSN_BYTES, MAX_INSNS};
        let program = r.bytes()?;
        let flags = r.u32()?;
        if !program.len().is_multiple_of(INSN_BYTES) || program.len() > MAX_INSNS * INSN_BYTES {
            return Err(DecodeError::BadValue);
        }
        Ok(Filter { program, flags })
    }
    #[cfg(feature = "alloc")]
    fn write(&self, w: &mut crate::wire::Writer) {
        w.bytes(self.program);
        w.u32(self.flags);
    }
}

/// A supplementary group id.
impl Item<'_> for u32 {
    fn read(r: &mut Reader<'_>) -> Result<Self, DecodeError> {
        r.u32()
    }
    #[cfg(feature = "alloc")]
    fn write(&self, w: &mut crate::wire::Writer) {
        w.u32(*self);
    }
}

/// One `setrlimit` (`RLIMIT_*` number, soft and hard value; `u64::MAX` is unlimited).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Rlimit {
    pub resource: u32,
    pub soft: u64,
    pub hard: u64,
}

impl Item<'_> for Rlimit {
    fn read(r: &mut Reader<'_>) -> Result<Self, DecodeError> {
        let rl = Rlimit {
            resource: r.u32()?,
            soft: r.u64()?,
            hard: r.u64()?,
        };
        if rl.soft > rl.hard {
            Err(DecodeError::BadValue)
        } else {
            Ok(rl)
        }
    }
    #[cfg(feature = "alloc")]
    fn write(&self, w: &mut crate::wire::Writer) {
        w.u32(self.resource);
        w.u64(self.soft);
        w.u64(self.hard);
    }
}

/// A Landlock ruleset, already reduced by the launcher to what the running kernel supports.
/// Nothing handled means no Landlock at all.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Landlock<'a> {
    /// `handled_access_fs`: the filesystem rights restricted.
    pub fs_handled: u64,
    /// `handled_access_net`.
    pub net_handled: u64,
    /// `scoped` (abstract unix sockets, signals).
    pub scoped: u64,
    pub fs_rules: List<'a, FsRule<'a>>,
    pub net_rules: List<'a, NetRule>,
}

impl<'a> Landlock<'a> {
    pub fn is_empty(&self) -> bool {
        self.fs_handled == 0 && self.net_handled == 0 && self.scoped == 0
    }

    fn decode(r: &mut Reader<'a>) -> Result<Self, DecodeError> {
        Ok(Landlock {
            fs_handled: r.u64()?,
            net_handled: r.u64()?,
            scoped: r.u64()?,
            fs_rules: List::decode(r, 0, MAX_LANDLOCK_RULES)?,
            net_rules: List::decode(r, 0, MAX_LANDLOCK_RULES)?,
        })
    }
}

/// `access` allowed beneath `path` (absolute, inside the sandbox).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FsRule<'a> {
    pub access: u64,
    pub path: &'a CStr,
}

impl<'a> Item<'a> for FsRule<'a> {
    fn read(r: &mut Reader<'a>) -> Result<Self, DecodeError> {
        Ok(FsRule {
            access: r.u64()?,
            path: r.cstr()?,
        })
    }
    #[cfg(feature = "alloc")]
    fn write(&self, w: &mut crate::wire::Writer) {
        w.u64(self.access);
        w.cstr(self.path);
    }
}

/// `access` (bind, connect) allowed on TCP `port`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct NetRule {
    pub access: u64,
    pub port: u64,
}

impl Item<'_> for NetRule {
    fn read(r: &mut Reader<'_>) -> Result<Self, DecodeError> {
        let rule = NetRule {
            access: r.u64()?,
            port: r.u64()?,
        };
        if rule.port > u64::from(u16::MAX) {
            Err(DecodeError::BadValue)
        } else {
            Ok(rule)
        }
    }
    #[cfg(feature = "alloc")]
    fn write(&self, w: &mut crate::wire::Writer) {
        w.u64(self.access);
        w.u64(self.port);
    }
}
