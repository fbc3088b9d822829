//! The launcher's side: building a plan. Field order mirrors `Op::decode` exactly; the
//! round-trip tests hold the two together.

use core::ffi::CStr;

use super::list::{Item, write_list};
use super::{Filter, FsRule, NetRule, Op, Process, Rlimit, tag};
use crate::wire::Writer;

/// Appends operations and frames them into a plan.
#[derive(Debug, Default)]
pub struct PlanBuilder {
    w: Writer,
    count: u16,
}

/// The workload as the launcher knows it: plain slices, nothing decoded.
#[derive(Debug, Clone, Copy, Default)]
pub struct ProcessSpec<'a> {
    pub argv: &'a [&'a CStr],
    pub env: &'a [&'a CStr],
    pub cwd: &'a CStr,
    pub uid: u32,
    pub gid: u32,
    pub seccomp: Filter<'a>,
    pub init_seccomp: Filter<'a>,
    pub caps: u64,
    pub rlimits: &'a [Rlimit],
    pub landlock: LandlockSpec<'a>,
    pub groups: &'a [u32],
    pub umask: u32,
    pub terminal: bool,
    pub console_size: (u16, u16),
}

/// The launcher's side of [`super::Landlock`].
#[derive(Debug, Clone, Copy, Default)]
pub struct LandlockSpec<'a> {
    pub fs_handled: u64,
    pub net_handled: u64,
    pub scoped: u64,
    pub fs_rules: &'a [FsRule<'a>],
    pub net_rules: &'a [NetRule],
}

impl PlanBuilder {
    pub fn new() -> Self {
        Self::default()
    }

    /// Appends one operation and returns its index, the number status records refer to.
    ///
    /// `Op::Exec` carries decoded lists, so the launcher adds the workload with
    /// [`PlanBuilder::exec`] instead.
    ///
    /// # Panics
    /// On `Op::Exec`, and past 65535 operations (far beyond the plan size bound).
    pub fn push(&mut self, op: &Op<'_>) -> u16 {
        let w = &mut self.w;
        match *op {
            Op::Enter { staging } => {
                w.u8(tag::ENTER);
                w.cstr(staging);
            }
            Op::RootTmpfs => w.u8(tag::ROOT_TMPFS),
            Op::RootBind { source } => {
                w.u8(tag::ROOT_BIND);
                w.cstr(source);
            }
            Op::Mkdir { path, mode } => {
                w.u8(tag::MKDIR);
                w.cstr(path);
                w.u32(mode);
            }
            Op::Symlink { target, path } => {
                w.u8(tag::SYMLINK);
                w.cstr(target);
                w.cstr(path);
            }
            Op::WriteFile {
                path,
                mode,
                contents,
            } => {
                w.u8(tag::WRITE_FILE);
                w.cstr(path);
                w.u32(mode);
                w.bytes(contents);
            }
            Op::CharDev {
                path,
                mode,
                major,
                minor,
            } => {
                w.u8(tag::CHAR_DEV);
                w.cstr(path);
                w.u32(mode);
                w.u32(major);
                w.u32(minor);
            }
            Op::Mount {
                fstype,
                target,
                flags,
                data,
            } => {
                w.u8(tag::MOUNT);
                w.cstr(fstype);
                w.cstr(target);
                w.u32(flags);
                w.cstr(data);
            }
            Op::Bind {
                source,
                target,
                flags,
                is_dir,
            } => {
                w.u8(tag::BIND);
                w.cstr(source);
                w.cstr(target);
                w.u32(flags);
                w.bool(is_dir);
            }
            Op::RemountRoot { flags } => {
                w.u8(tag::REMOUNT_ROOT);
                w.u32(flags);
            }
            Op::PivotRoot => w.u8(tag::PIVOT_ROOT),
            Op::Hostname { name } => {
                w.u8(tag::HOSTNAME);
                w.cstr(name);
            }
            Op::LoopbackUp => w.u8(tag::LOOPBACK_UP),
            Op::Mask { target } => {
                w.u8(tag::MASK);
                w.cstr(target);
            }
            Op::ReadOnly { target } => {
                w.u8(tag::READ_ONLY);
                w.cstr(target);
            }
            Op::AwaitStart => w.u8(tag::AWAIT_START),
            Op::Remount { target, flags } => {
                w.u8(tag::REMOUNT);
                w.cstr(target);
                w.u32(flags);
            }
            Op::Sysctl { key, value } => {
                w.u8(tag::SYSCTL);
                w.cstr(key);
                w.bytes(value);
            }
            Op::Exec(Process { .. }) => panic!("use PlanBuilder::exec for the workload"),
        }
        self.next_index()
    }

    /// Appends the workload, which ends the plan.
    pub fn exec(&mut self, p: &ProcessSpec<'_>) -> u16 {
        let w = &mut self.w;
        w.u8(tag::EXEC);
        write_list(w, p.argv);
        write_list(w, p.env);
        w.cstr(p.cwd);
        w.u32(p.uid);
        w.u32(p.gid);
        p.seccomp.write(w);
        p.init_seccomp.write(w);
        w.u64(p.caps);
        write_list(w, p.rlimits);
        let l = &p.landlock;
        w.u64(l.fs_handled);
        w.u64(l.net_handled);
        w.u64(l.scoped);
        write_list(w, l.fs_rules);
        write_list(w, l.net_rules);
        write_list(w, p.groups);
        w.u32(p.umask);
        w.bool(p.terminal);
        w.u16(p.console_size.0);
        w.u16(p.console_size.1);
        self.next_index()
    }

    fn next_index(&mut self) -> u16 {
        let i = self.count;
        self.count = self
            .count
            .checked_add(1)
            .expect("fewer than 65536 plan operations");
        i
    }

    /// The framed plan, or the size it would have had when over the bound.
    pub fn finish(self) -> Result<alloc::vec::Vec<u8>, usize> {
        self.w.finish()
    }
}
