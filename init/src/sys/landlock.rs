//! Applying the plan's Landlock ruleset to the workload child, in two steps: [`prepare`]
//! creates the ruleset and adds each path and port rule while the child still has init's
//! privileges (so that every rule path can be opened, whatever user the workload runs as);
//! [`Prepared::restrict`] sets no_new_privs and enforces it, last before seccomp. The launcher
//! has already reduced every set to what the running kernel supports.

use linux_raw_sys::general::{
    __NR_landlock_add_rule, __NR_landlock_create_ruleset, __NR_landlock_restrict_self,
};
use linux_raw_sys::landlock::{
    LANDLOCK_ACCESS_FS_EXECUTE, LANDLOCK_ACCESS_FS_IOCTL_DEV, LANDLOCK_ACCESS_FS_READ_FILE,
    LANDLOCK_ACCESS_FS_TRUNCATE, LANDLOCK_ACCESS_FS_WRITE_FILE, landlock_net_port_attr,
    landlock_path_beneath_attr, landlock_rule_type, landlock_ruleset_attr,
};
use nucleus_shared::plan::Landlock;
use nucleus_shared::status::StatusRecord;
use rustix::fd::{AsRawFd, FromRawFd, OwnedFd};
use rustix::fs::{FileType, Mode, OFlags};
use rustix::io::Errno;

use super::raw::syscall4;

/// `LANDLOCK_ACCESS_FS_RESOLVE_UNIX` (ABI 9), not yet in linux-raw-sys.
const ACCESS_FS_RESOLVE_UNIX: u64 = 1 << 16;

/// The rights that apply to a file that is not a directory; the kernel refuses a rule on
/// such a file with any other right (EINVAL).
const FILE_RIGHTS: u64 = LANDLOCK_ACCESS_FS_EXECUTE as u64
    | LANDLOCK_ACCESS_FS_WRITE_FILE as u64
    | LANDLOCK_ACCESS_FS_READ_FILE as u64
    | LANDLOCK_ACCESS_FS_TRUNCATE as u64
    | LANDLOCK_ACCESS_FS_IOCTL_DEV as u64
    | ACCESS_FS_RESOLVE_UNIX;

/// A ruleset with all its rules, not yet enforced; `None` when the plan has no Landlock.
pub struct Prepared(Option<OwnedFd>);

/// Builds the ruleset of `l`. On failure, the index of the rule at fault (filesystem rules
/// first, then port rules) or `StatusRecord::NO_OP`, and the error.
pub fn prepare(l: &Landlock<'_>) -> Result<Prepared, (u16, Errno)> {
    if l.is_empty() {
        return Ok(Prepared(None));
    }
    let general = |e| (StatusRecord::NO_OP, e);
    let attr = landlock_ruleset_attr {
        handled_access_fs: l.fs_handled,
        handled_access_net: l.net_handled,
        scoped: l.scoped,
    };
    // SAFETY: `attr` is a valid ruleset attribute of the size passed, living across the call;
    // the kernel only reads it (older kernels accept the larger struct since its extra fields
    // are zero whenever they do not know them: the launcher reduced the sets). On success the
    // result is a new file descriptor that nothing else owns.
    let ruleset = unsafe {
        let fd = syscall4(
            __NR_landlock_create_ruleset,
            &raw const attr as usize,
            core::mem::size_of::<landlock_ruleset_attr>(),
            0,
            0,
        )
        .map_err(general)?;
        OwnedFd::from_raw_fd(fd as i32)
    };

    let root = rustix::fs::open(
        c"/",
        OFlags::PATH | OFlags::DIRECTORY | OFlags::CLOEXEC,
        Mode::empty(),
    )
    .map_err(general)?;
    let mut index: u16 = 0;
    for rule in l.fs_rules.iter() {
        let at = |e| (index, e);
        // After pivot_root the root is the sandbox's. No symlink may redirect a rule: an
        // image's `data -> .` would otherwise turn a rule for /data into one for /.
        let rel = rule
            .path
            .to_bytes()
            .strip_prefix(b"/")
            .unwrap_or(rule.path.to_bytes());
        let rel = if rel.is_empty() { &b"."[..] } else { rel };
        let fd = crate::setup::path::open_beneath_nofollow(&root, rel).map_err(at)?;
        let is_dir = FileType::from_raw_mode(rustix::fs::fstat(&fd).map_err(at)?.st_mode)
            == FileType::Directory;
        let mut access = rule.access & l.fs_handled;
        if !is_dir {
            access &= FILE_RIGHTS;
        }
        if access != 0 {
            let beneath = landlock_path_beneath_attr {
                allowed_access: access,
                parent_fd: fd.as_raw_fd(),
            };
            add_rule(&ruleset, Rule::PathBeneath(&beneath)).map_err(at)?;
        }
        index = index.wrapping_add(1);
    }
    for rule in l.net_rules.iter() {
        let port = landlock_net_port_attr {
            allowed_access: rule.access & l.net_handled,
            port: rule.port,
        };
        if port.allowed_access != 0 {
            add_rule(&ruleset, Rule::NetPort(&port)).map_err(|e| (index, e))?;
        }
        index = index.wrapping_add(1);
    }
    Ok(Prepared(Some(ruleset)))
}

impl Prepared {
    /// Enforces the ruleset on the calling process and its future children.
    pub fn restrict(self) -> Result<(), Errno> {
        let Some(ruleset) = self.0 else {
            return Ok(());
        };
        restrict_self(&ruleset)
    }
}

fn restrict_self(ruleset: &OwnedFd) -> Result<(), Errno> {
    // landlock_restrict_self needs no_new_privs (or CAP_SYS_ADMIN, which is gone by now).
    rustix::thread::set_no_new_privs(true)?;
    // SAFETY: takes no pointers; `ruleset` is a ruleset fd, borrowed for the call.
    unsafe {
        syscall4(
            __NR_landlock_restrict_self,
            ruleset.as_raw_fd() as usize,
            0,
            0,
            0,
        )
    }
    .map(drop)
}

/// A rule's attribute, which decides its type.
enum Rule<'a> {
    PathBeneath(&'a landlock_path_beneath_attr),
    NetPort(&'a landlock_net_port_attr),
}

/// `landlock_add_rule(ruleset, type, attr, 0)`.
fn add_rule(ruleset: &OwnedFd, rule: Rule<'_>) -> Result<(), Errno> {
    let (kind, attr) = match rule {
        Rule::PathBeneath(a) => (
            landlock_rule_type::LANDLOCK_RULE_PATH_BENEATH,
            core::ptr::from_ref(a) as usize,
        ),
        Rule::NetPort(a) => (
            landlock_rule_type::LANDLOCK_RULE_NET_PORT,
            core::ptr::from_ref(a) as usize,
        ),
    };
    // SAFETY: `attr` points to the attribute struct matching `kind`, borrowed for the whole
    // call; the kernel only reads it. A bad fd inside a path_beneath_attr is an EBADF, not
    // memory unsafety.
    unsafe {
        syscall4(
            __NR_landlock_add_rule,
            ruleset.as_raw_fd() as usize,
            kind as usize,
            attr,
            0,
        )
    }
    .map(drop)
}
