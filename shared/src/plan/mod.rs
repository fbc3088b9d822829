//! The operations of a launch plan, in the order init executes them.
//!
//! Paths named `target` or `path` are relative to the new root (no leading `/`, no `..`, no
//! empty or `.` components: the launcher checks this and so does init's decoder) and init
//! resolves them beneath the root, so a symlink in an image can never send a mount to the
//! host. Paths named `source` are absolute host paths, seen through the old root while the new
//! root is being built.

use core::ffi::CStr;

use crate::wire::{DecodeError, Reader, split_header};

mod list;
mod process;

pub use list::{Item, List, StrList};
pub use process::{
    Filter, FsRule, Landlock, MAX_ARGS, MAX_GROUPS, MAX_LANDLOCK_RULES, MAX_RLIMITS, NetRule,
    Process, Rlimit,
};

/// Mount flags, our own bits so that the wire format does not depend on kernel headers.
pub mod flags {
    pub const RDONLY: u32 = 1;
    pub const NOSUID: u32 = 1 << 1;
    pub const NODEV: u32 = 1 << 2;
    pub const NOEXEC: u32 = 1 << 3;
    /// Not a mount flag: the target may not be reached through any symlink (for the mounts
    /// the sandbox itself relies on: `/proc`, `/dev`, `/tmp`).
    pub const NOFOLLOW: u32 = 1 << 4;
    /// Access-time modes (OCI `noatime`, `nodiratime`, `relatime`, `strictatime`).
    pub const NOATIME: u32 = 1 << 5;
    pub const NODIRATIME: u32 = 1 << 6;
    pub const RELATIME: u32 = 1 << 7;
    pub const STRICTATIME: u32 = 1 << 8;
    /// Not a mount flag: a `Bind` of the source mount alone, without the mounts beneath it
    /// (OCI `bind`, where `rbind` is the default).
    pub const SHALLOW: u32 = 1 << 9;
    pub const ATIME: u32 = NOATIME | NODIRATIME | RELATIME | STRICTATIME;
    pub const ALL: u32 = RDONLY | NOSUID | NODEV | NOEXEC | NOFOLLOW | ATIME | SHALLOW;
}

/// One step of the plan.
// Ops live one at a time on init's stack while the plan is walked; boxing `Exec` would need
// the allocator init does not have.
#[allow(clippy::large_enum_variant)]
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Op<'a> {
    /// Make every mount private, mount a tmpfs on `staging` and pivot into it, so that the old
    /// root sits at `/oldroot` and the new one is built at `/newroot`.
    Enter { staging: &'a CStr },
    /// The new root is a fresh tmpfs (the embedded default root).
    RootTmpfs,
    /// The new root is a recursive bind of the host directory `source`.
    RootBind { source: &'a CStr },
    /// Create a directory (and its parents) beneath the root.
    Mkdir { path: &'a CStr, mode: u32 },
    /// Create a symlink at `path` pointing to `target` (stored verbatim).
    Symlink { target: &'a CStr, path: &'a CStr },
    /// Create a file with the given contents.
    WriteFile {
        path: &'a CStr,
        mode: u32,
        contents: &'a [u8],
    },
    /// Create a character device node.
    CharDev {
        path: &'a CStr,
        mode: u32,
        major: u32,
        minor: u32,
    },
    /// Mount a new filesystem instance, creating the mount point.
    Mount {
        fstype: &'a CStr,
        target: &'a CStr,
        flags: u32,
        data: &'a CStr,
    },
    /// Bind-mount (recursively) a host path, creating the mount point as a directory or file.
    Bind {
        source: &'a CStr,
        target: &'a CStr,
        flags: u32,
        is_dir: bool,
    },
    /// Apply flags (read-only ...) to the root mount itself, once everything is in place.
    RemountRoot { flags: u32 },
    /// Make `/newroot` the root and detach the old one completely.
    PivotRoot,
    /// Set the UTS hostname.
    Hostname { name: &'a CStr },
    /// Bring up `lo` in the new network namespace.
    LoopbackUp,
    /// Hide `target` (if it exists): a file under the verified `/dev/null`, a directory under
    /// an empty read-only tmpfs.
    Mask { target: &'a CStr },
    /// Make `target` (if it exists) a read-only, nosuid, nodev, noexec bind of itself.
    ReadOnly { target: &'a CStr },
    /// Apply `flags` to the mount on `target`, once what lies in it is in place (an OCI
    /// bundle's read-only `/dev`).
    Remount { target: &'a CStr, flags: u32 },
    /// Write `value` to the kernel parameter `proc/sys/<key>` beneath the root, which must be
    /// on a procfs (an OCI bundle's `linux.sysctl`; `key` is `net/ipv4/ip_forward`).
    Sysctl { key: &'a CStr, value: &'a [u8] },
    /// Tell the launcher the sandbox is ready (a `Step::Created` record on the status pipe),
    /// then wait for one byte on `START_FD` (the OCI `start`). Only just before `Exec`.
    AwaitStart,
    /// Start the workload. Always the last operation.
    Exec(Process<'a>),
}

mod tag {
    pub const ENTER: u8 = 1;
    pub const ROOT_TMPFS: u8 = 2;
    pub const ROOT_BIND: u8 = 3;
    pub const MKDIR: u8 = 4;
    pub const SYMLINK: u8 = 5;
    pub const WRITE_FILE: u8 = 6;
    pub const CHAR_DEV: u8 = 7;
    pub const MOUNT: u8 = 8;
    pub const BIND: u8 = 9;
    pub const REMOUNT_ROOT: u8 = 10;
    pub const PIVOT_ROOT: u8 = 11;
    pub const HOSTNAME: u8 = 12;
    pub const LOOPBACK_UP: u8 = 13;
    pub const EXEC: u8 = 14;
    pub const MASK: u8 = 15;
    pub const READ_ONLY: u8 = 16;
    pub const AWAIT_START: u8 = 17;
    pub const REMOUNT: u8 = 18;
    pub const SYSCTL: u8 = 19;
}

/// A relative path beneath the root: non-empty components, none `.` or `..`, no leading `/`.
pub fn is_beneath_path(p: &[u8]) -> bool {
    !p.is_empty()
        && p.split(|&b| b == b'/')
            .all(|c| !c.is_empty() && c != b"." && c != b"..")
}

fn beneath<'a>(r: &mut Reader<'a>) -> Result<&'a CStr, DecodeError> {
    let p = r.cstr()?;
    if is_beneath_path(p.to_bytes()) {
        Ok(p)
    } else {
        Err(DecodeError::BadValue)
    }
}

fn mount_flags(r: &mut Reader<'_>) -> Result<u32, DecodeError> {
    let f = r.u32()?;
    if f & !flags::ALL == 0 {
        Ok(f)
    } else {
        Err(DecodeError::BadValue)
    }
}

impl<'a> Op<'a> {
    fn decode(r: &mut Reader<'a>) -> Result<Self, DecodeError> {
        Ok(match r.u8()? {
            tag::ENTER => Op::Enter { staging: r.cstr()? },
            tag::ROOT_TMPFS => Op::RootTmpfs,
            tag::ROOT_BIND => Op::RootBind { source: r.cstr()? },
            tag::MKDIR => Op::Mkdir {
                path: beneath(r)?,
                mode: r.u32()?,
            },
            tag::SYMLINK => Op::Symlink {
                target: r.cstr()?,
                path: beneath(r)?,
            },
            tag::WRITE_FILE => Op::WriteFile {
                path: beneath(r)?,
                mode: r.u32()?,
                contents: r.bytes()?,
            },
            tag::CHAR_DEV => Op::CharDev {
                path: beneath(r)?,
                mode: r.u32()?,
                major: r.u32()?,
                minor: r.u32()?,
            },
            tag::MOUNT => Op::Mount {
                fstype: r.cstr()?,
                target: beneath(r)?,
                flags: mount_flags(r)?,
                data: r.cstr()?,
            },
            tag::BIND => Op::Bind {
                source: r.cstr()?,
                target: beneath(r)?,
                flags: mount_flags(r)?,
                is_dir: r.bool()?,
            },
            tag::REMOUNT_ROOT => Op::RemountRoot {
                flags: mount_flags(r)?,
            },
            tag::PIVOT_ROOT => Op::PivotRoot,
            tag::HOSTNAME => Op::Hostname { name: r.cstr()? },
            tag::LOOPBACK_UP => Op::LoopbackUp,
            tag::MASK => Op::Mask {
                target: beneath(r)?,
            },
            tag::READ_ONLY => Op::ReadOnly {
                target: beneath(r)?,
            },
            tag::AWAIT_START => Op::AwaitStart,
            tag::REMOUNT => Op::Remount {
                target: beneath(r)?,
                flags: mount_flags(r)?,
            },
            tag::SYSCTL => Op::Sysctl {
                key: beneath(r)?,
                value: r.bytes()?,
            },
            tag::EXEC => Op::Exec(Process::decode(r)?),
            other => return Err(DecodeError::UnknownOp(other)),
        })
    }
}

/// The operations of a plan, decoded lazily in order.
///
/// `decode` validates the whole plan up front, so that init refuses a malformed plan before it
/// changes anything; iterating afterwards cannot fail.
#[derive(Debug, Clone)]
pub struct Plan<'a> {
    body: &'a [u8],
}

impl<'a> Plan<'a> {
    /// Checks header, every operation, and that the plan ends with exactly one `Exec`.
    pub fn decode(bytes: &'a [u8]) -> Result<Self, DecodeError> {
        let body = split_header(bytes)?;
        let mut r = Reader::new(body);
        let mut saw_exec = false;
        while !r.is_empty() {
            if saw_exec {
                return Err(DecodeError::BadOrder);
            }
            saw_exec = matches!(Op::decode(&mut r)?, Op::Exec(_));
        }
        if !saw_exec {
            return Err(DecodeError::BadOrder);
        }
        Ok(Plan { body })
    }

    /// The operations with their index (the index names the operation in status records).
    pub fn ops(&self) -> impl Iterator<Item = (u16, Op<'a>)> + use<'a> {
        let mut r = Reader::new(self.body);
        let mut index: u16 = 0;
        core::iter::from_fn(move || {
            let op = Op::decode(&mut r).ok()?;
            let i = index;
            index = index.wrapping_add(1);
            Some((i, op))
        })
    }
}

#[cfg(feature = "alloc")]
mod encode;
#[cfg(feature = "alloc")]
pub use encode::{LandlockSpec, PlanBuilder, ProcessSpec};
