//! Dropping privileges in the workload child: supplementary groups, gid and uid, then every
//! capability not asked for, from every set, with the securebits locked so that neither
//! uid 0 nor a setuid binary can bring any back.

use nucleus_shared::plan::{List, MAX_GROUPS};
use nucleus_shared::status::Step;
use rustix::io::Errno;
use rustix::process::{Gid, Uid};
use rustix::thread::{CapabilitiesSecureBits as Bits, CapabilitySet, CapabilitySets};

/// Locked: root gets no capabilities from execve; setuid does not touch them (we drop them
/// ourselves); keep-caps stays off.
const SECURE_BITS: Bits = Bits::NO_ROOT
    .union(Bits::NO_ROOT_LOCKED)
    .union(Bits::NO_SETUID_FIXUP)
    .union(Bits::NO_SETUID_FIXUP_LOCKED)
    .union(Bits::KEEP_CAPS_LOCKED);

/// Becomes `uid`/`gid` (no supplementary groups) with exactly the capabilities in `keep`.
///
/// With `SECBIT_NOROOT`, capabilities survive `execve` only through the ambient set, so the
/// kept ones go into every set, ambient included.
pub fn drop_privileges(
    keep: u64,
    uid: u32,
    gid: u32,
    groups: &List<'_, u32>,
) -> Result<(), (Step, Errno)> {
    let caps_err = |e| (Step::Caps, e);
    rustix::thread::set_capabilities_secure_bits(SECURE_BITS).map_err(caps_err)?;
    set_user(uid, gid, groups).map_err(|e| (Step::SetUser, e))?;
    // CAP_SETPCAP is still effective here; the bounding set must shrink before it goes.
    for bit in 0..64u32 {
        if keep & (1 << bit) != 0 {
            continue;
        }
        match rustix::thread::remove_capability_from_bounding_set(CapabilitySet::from_bits_retain(
            1 << bit,
        )) {
            Ok(()) => {}
            // Past the kernel's last capability.
            Err(Errno::INVAL) => break,
            Err(e) => return Err(caps_err(e)),
        }
    }
    let set = CapabilitySet::from_bits_retain(keep);
    let sets = CapabilitySets {
        effective: set,
        permitted: set,
        inheritable: set,
    };
    rustix::thread::set_capabilities(None, sets).map_err(caps_err)?;
    rustix::thread::clear_ambient_capability_set().map_err(caps_err)?;
    for bit in (0..64u32).filter(|b| keep & (1 << b) != 0) {
        rustix::thread::configure_capability_in_ambient_set(
            CapabilitySet::from_bits_retain(1 << bit),
            true,
        )
        .map_err(caps_err)?;
    }
    Ok(())
}

fn set_user(uid: u32, gid: u32, groups: &List<'_, u32>) -> Result<(), Errno> {
    let gid = Gid::from_raw(gid);
    let mut list: heapless::Vec<Gid, MAX_GROUPS> = heapless::Vec::new();
    for g in groups.iter() {
        // The decoder bounds the list to MAX_GROUPS.
        let _ = list.push(Gid::from_raw(g));
    }
    match rustix::thread::set_thread_groups(&list) {
        // A rootless sandbox's user namespace denies setgroups (the kernel insists, so that
        // dropping a group cannot grant access): the caller's groups stay, unmapped.
        Err(Errno::PERM) if list.is_empty() && setgroups_denied() => {}
        other => other?,
    }
    rustix::thread::set_thread_res_gid(gid, gid, gid)?;
    let uid = Uid::from_raw(uid);
    rustix::thread::set_thread_res_uid(uid, uid, uid)
}

/// Whether this user namespace has `setgroups` set to `deny`.
fn setgroups_denied() -> bool {
    let Ok(fd) = rustix::fs::open(
        c"/proc/self/setgroups",
        rustix::fs::OFlags::RDONLY | rustix::fs::OFlags::CLOEXEC,
        rustix::fs::Mode::empty(),
    ) else {
        return false;
    };
    let mut buf = [0u8; 8];
    rustix::io::read(&fd, &mut buf).is_ok_and(|n| buf[..n].starts_with(b"deny"))
}

/// CAP_KILL: PID 1 forwards signals to a workload that may run under another uid.
const CAP_KILL: u32 = 5;

/// PID 1's own confinement once the workload runs: only CAP_KILL left, in every set, so
/// that a workload given capabilities (`--cap-add SYS_PTRACE`, `SYS_ADMIN`) still finds
/// nothing in PID 1 worth attacking.
pub fn confine_init() -> Result<(), Errno> {
    for bit in (0..64u32).filter(|&b| b != CAP_KILL) {
        match rustix::thread::remove_capability_from_bounding_set(CapabilitySet::from_bits_retain(
            1 << bit,
        )) {
            Ok(()) => {}
            Err(Errno::INVAL) => break,
            Err(e) => return Err(e),
        }
    }
    let kill = CapabilitySet::from_bits_retain(1 << CAP_KILL);
    rustix::thread::set_capabilities(
        None,
        CapabilitySets {
            effective: kill,
            permitted: kill,
            inheritable: CapabilitySet::empty(),
        },
    )
}

/// What the child of an `exec` still needs between its fork and [`drop_privileges`]: switching
/// user and groups, locking the securebits and shrinking the bounding set, raising hard
/// rlimits, opening Landlock rule paths whatever their modes; and CAP_KILL for init itself.
/// Never DAC_READ_SEARCH (`open_by_handle_at` reaches the host's files), SYS_ADMIN or
/// SYS_MODULE, unless the workload has them.
const EXEC_SETUP: u64 = 1 << 1 // DAC_OVERRIDE
    | 1 << CAP_KILL
    | 1 << 6 // SETGID
    | 1 << 7 // SETUID
    | 1 << 8 // SETPCAP
    | 1 << 24; // SYS_RESOURCE

/// Before an `exec`'s fork: its child appears in a pid namespace where the workload already
/// runs, and a workload with CAP_SYS_PTRACE (and no Landlock) could trace it before it drops
/// privileges; so it starts with no more than the workload's capabilities and the few its
/// setup needs, never the full set init joined the sandbox with.
pub fn narrow_for_exec(keep: u64) -> Result<(), Errno> {
    let allowed = keep | EXEC_SETUP;
    for bit in (0..64u32).filter(|b| allowed & (1 << b) == 0) {
        match rustix::thread::remove_capability_from_bounding_set(CapabilitySet::from_bits_retain(
            1 << bit,
        )) {
            Ok(()) => {}
            Err(Errno::INVAL) => break,
            Err(e) => return Err(e),
        }
    }
    let now = rustix::thread::capabilities(None)?;
    let set = |held: CapabilitySet| held & CapabilitySet::from_bits_retain(allowed);
    rustix::thread::set_capabilities(
        None,
        CapabilitySets {
            effective: set(now.effective),
            permitted: set(now.permitted),
            inheritable: set(now.inheritable),
        },
    )
}
