//! The probe's raw system calls; every `unsafe` block of the probe is here.

use std::io;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

fn check(ret: libc::c_int) -> io::Result<libc::c_int> {
    if ret < 0 {
        Err(io::Error::last_os_error())
    } else {
        Ok(ret)
    }
}

/// Makes the probe non-dumpable with a zero core limit, so dying of SIGSEGV writes no core.
pub fn no_core_dumps() {
    let zero = libc::rlimit {
        rlim_cur: 0,
        rlim_max: 0,
    };
    // SAFETY: `zero` is a valid rlimit living across the call; prctl takes no pointers here.
    unsafe {
        libc::setrlimit(libc::RLIMIT_CORE, &zero);
        libc::prctl(libc::PR_SET_DUMPABLE, 0, 0, 0, 0);
    }
}

/// Sends `sig` to the probe itself with its default action restored and the signal unblocked:
/// Rust's runtime handles SIGSEGV and SIGBUS (stack overflow detection) and ignores SIGPIPE.
pub fn kill_self(sig: i32) -> io::Result<()> {
    // SAFETY: an all-zero sigaction is SIG_DFL with an empty mask and no flags.
    let default: libc::sigaction = unsafe { std::mem::zeroed() };
    // SAFETY: `default` is valid and outlives the call; the old action is not requested.
    // SIGKILL cannot be changed (EINVAL), which does not matter: it cannot be caught either.
    unsafe { libc::sigaction(sig, &default, std::ptr::null_mut()) };
    // SAFETY: an all-zero sigset_t is an empty set; sigaddset only writes into it.
    let mut set: libc::sigset_t = unsafe { std::mem::zeroed() };
    // SAFETY: `set` is a valid sigset for the calls, the old mask is not requested; kill takes
    // no pointers and any signal number is a valid input.
    unsafe {
        libc::sigaddset(&mut set, sig);
        libc::sigprocmask(libc::SIG_UNBLOCK, &set, std::ptr::null_mut());
        check(libc::kill(libc::getpid(), sig)).map(drop)
    }
}

/// The signal state the probe was started with, one bit per signal as in /proc (signal n at
/// bit n-1): blocked, ignored and caught. Captured before Rust's runtime changes it.
static START_BLOCKED: AtomicU64 = AtomicU64::new(0);
static START_IGNORED: AtomicU64 = AtomicU64::new(0);
static START_CAUGHT: AtomicU64 = AtomicU64::new(0);

/// Runs from `.init_array`, before `main` and so before std ignores SIGPIPE and installs its
/// SIGSEGV/SIGBUS handlers: what it records is exactly what `execve` handed the probe.
extern "C" fn capture_signal_state() {
    let (mut blocked, mut ignored, mut caught) = (0u64, 0u64, 0u64);
    // SAFETY: all-zero is a valid sigset_t and sigaction to be overwritten by the kernel.
    let (mut mask, mut action): (libc::sigset_t, libc::sigaction) =
        unsafe { (std::mem::zeroed(), std::mem::zeroed()) };
    // SAFETY: a null new mask only reads the current one into `mask`, which is valid.
    unsafe { libc::sigprocmask(libc::SIG_BLOCK, std::ptr::null(), &mut mask) };
    for sig in 1..=64 {
        let bit = 1u64 << (sig - 1);
        // SAFETY: `mask` was filled above; sigismember only reads it.
        if unsafe { libc::sigismember(&mask, sig) } == 1 {
            blocked |= bit;
        }
        // SAFETY: a null new action only reads the current one into `action`, which is valid.
        // libc refuses its reserved real-time signals (EINVAL); those are skipped.
        if unsafe { libc::sigaction(sig, std::ptr::null(), &mut action) } != 0 {
            continue;
        }
        match action.sa_sigaction {
            libc::SIG_DFL => {}
            libc::SIG_IGN => ignored |= bit,
            _ => caught |= bit,
        }
    }
    START_BLOCKED.store(blocked, Ordering::Relaxed);
    START_IGNORED.store(ignored, Ordering::Relaxed);
    START_CAUGHT.store(caught, Ordering::Relaxed);
}

#[used]
// SAFETY: `.init_array` holds pointers to functions called once with no arguments the callee
// reads, before `main`; `capture_signal_state` matches that and only makes system calls.
#[unsafe(link_section = ".init_array")]
static CAPTURE_SIGNAL_STATE: extern "C" fn() = capture_signal_state;

/// (blocked, ignored, caught) at start-up.
pub fn start_signal_state() -> (u64, u64, u64) {
    (
        START_BLOCKED.load(Ordering::Relaxed),
        START_IGNORED.load(Ordering::Relaxed),
        START_CAUGHT.load(Ordering::Relaxed),
    )
}

/// Installs `handler` for `sig`, with SA_RESTART and nothing else blocked while it runs.
pub fn set_handler(sig: i32, handler: extern "C" fn(libc::c_int)) -> io::Result<()> {
    // SAFETY: an all-zero sigaction is valid (empty mask, no flags); the fields are set below.
    let mut action: libc::sigaction = unsafe { std::mem::zeroed() };
    action.sa_sigaction = handler as usize;
    action.sa_flags = libc::SA_RESTART;
    // SAFETY: `action` is fully initialised and outlives the call; the handler only does an
    // atomic fetch_or, which is async-signal-safe. The old action is not requested.
    check(unsafe { libc::sigaction(sig, &action, std::ptr::null_mut()) }).map(drop)
}

/// Forks a child that forks a grandchild and exits at once, then reaps the child: the
/// grandchild, which exits after `linger`, is left to PID 1.
pub fn orphan(linger: Duration) -> io::Result<()> {
    let pause = libc::timespec {
        tv_sec: linger.as_secs() as libc::time_t,
        tv_nsec: linger.subsec_nanos() as libc::c_long,
    };
    // SAFETY: the probe is single-threaded here; the children only call the async-signal-safe
    // fork, nanosleep and _exit, and never return into Rust code.
    let child = check(unsafe { libc::fork() })?;
    if child == 0 {
        // SAFETY: as above; `pause` lives on this stack, copied into the child.
        unsafe {
            match libc::fork() {
                0 => {
                    libc::nanosleep(&pause, std::ptr::null_mut());
                    libc::_exit(0)
                }
                n if n < 0 => libc::_exit(1),
                _ => libc::_exit(0),
            }
        }
    }
    loop {
        let mut status = 0;
        // SAFETY: `status` is a valid int to write to; `child` is our own child.
        let r = unsafe { libc::waitpid(child, &mut status, 0) };
        if r >= 0 {
            return Ok(());
        }
        let e = io::Error::last_os_error();
        if e.kind() != io::ErrorKind::Interrupted {
            return Err(e);
        }
    }
}

/// `struct ifreq` reduced to what SIOCGIFFLAGS uses: the name, then the flags (40 bytes).
#[repr(C)]
struct IfreqFlags {
    name: [u8; libc::IFNAMSIZ],
    flags: libc::c_short,
    _pad: [u8; 22],
}

/// Whether interface `name` is up (IFF_UP), asked with SIOCGIFFLAGS.
pub fn interface_is_up(name: &str) -> io::Result<bool> {
    let bytes = name.as_bytes();
    if bytes.len() >= libc::IFNAMSIZ {
        return Err(io::Error::from_raw_os_error(libc::ENAMETOOLONG));
    }
    let mut req = IfreqFlags {
        name: [0; libc::IFNAMSIZ],
        flags: 0,
        _pad: [0; 22],
    };
    req.name[..bytes.len()].copy_from_slice(bytes);
    // SAFETY: socket takes no pointers.
    let sock =
        check(unsafe { libc::socket(libc::AF_INET, libc::SOCK_DGRAM | libc::SOCK_CLOEXEC, 0) })?;
    // SAFETY: `req` is a valid, NUL-terminated ifreq of the size SIOCGIFFLAGS reads and
    // writes; `sock` is the socket opened above.
    let r = check(unsafe { libc::ioctl(sock, libc::SIOCGIFFLAGS, &mut req) });
    // SAFETY: `sock` is ours and closed exactly once.
    unsafe { libc::close(sock) };
    r?;
    Ok(req.flags & libc::IFF_UP as libc::c_short != 0)
}

/// One argument of a raw system call issued by the `syscall` verb.
#[derive(Debug, Clone, Copy)]
pub enum Arg {
    /// A number the kernel reads as a number (fd, flags, length, command).
    Int(u64),
    /// An address the kernel may read or write through. Only null and kernel-half addresses
    /// are accepted: no user memory lives there, so the kernel cannot touch ours.
    Ptr(u64),
}

/// A system call the `syscall` verb knows, with arguments under which it fails, or acts on
/// the probe alone, if the filter lets it through. The probe runs as root with nearly every
/// capability: an allowed call with real arguments would act on the host.
#[derive(Debug, Clone, Copy)]
pub struct Call {
    pub name: &'static str,
    nr: libc::c_long,
    args: &'static [Arg],
    /// Arguments that cannot be overridden from the command line (calls that act on the
    /// host, such as keyrings, the kernel log or time, with some integer arguments).
    fixed: bool,
}

const fn call(name: &'static str, nr: libc::c_long, args: &'static [Arg], fixed: bool) -> Call {
    Call {
        name,
        nr,
        args,
        fixed,
    }
}

/// -1, as a 64-bit argument: an invalid fd, and an address in the kernel half.
pub const MINUS_1: u64 = u64::MAX;
/// `AT_FDCWD` as an argument.
const AT_FDCWD: u64 = libc::AT_FDCWD as i64 as u64;

use Arg::{Int, Ptr};

/// What each call does with these arguments when it is allowed, as root: the result the
/// filter must replace (EPERM) to be seen at all. Names missing on an architecture are left
/// out there.
const CALLS: &[Call] = &[
    // Allowed by the default profile.
    // EBADF
    call(
        "read",
        libc::SYS_read,
        &[Int(MINUS_1), Ptr(0), Int(0)],
        false,
    ),
    // EBADF
    call(
        "write",
        libc::SYS_write,
        &[Int(MINUS_1), Ptr(0), Int(0)],
        false,
    ),
    call("getpid", libc::SYS_getpid, &[], false),
    // EFAULT
    call(
        "openat",
        libc::SYS_openat,
        &[Int(AT_FDCWD), Ptr(0), Int(0)],
        false,
    ),
    // ioctl(fd, request, arg): fd -1 is EBADF
    call(
        "ioctl",
        libc::SYS_ioctl,
        &[Int(MINUS_1), Int(0), Ptr(0)],
        false,
    ),
    // personality(0xffffffff) only queries; other values act on the probe alone
    call(
        "personality",
        libc::SYS_personality,
        &[Int(0xffff_ffff)],
        false,
    ),
    // prctl(PR_GET_DUMPABLE); PR_SET_MM (35) with sub-option 0 and a non-zero arg4 is EINVAL
    // at once; every prctl acts on the calling process alone
    call(
        "prctl",
        libc::SYS_prctl,
        &[Int(3), Ptr(0), Ptr(0), Ptr(MINUS_1), Ptr(0)],
        false,
    ),
    // Denied by the default profile.
    // unshare(0) does nothing; other flags act on the probe alone
    call("unshare", libc::SYS_unshare, &[Int(0)], false),
    // EFAULT (a null target)
    call(
        "mount",
        libc::SYS_mount,
        &[Ptr(0), Ptr(0), Ptr(0), Int(0), Ptr(0)],
        true,
    ),
    // EFAULT
    call("umount2", libc::SYS_umount2, &[Ptr(0), Int(0)], true),
    // EFAULT
    call("pivot_root", libc::SYS_pivot_root, &[Ptr(0), Ptr(0)], true),
    // EFAULT
    call("chroot", libc::SYS_chroot, &[Ptr(0)], true),
    // EBADF
    call("setns", libc::SYS_setns, &[Int(MINUS_1), Int(0)], true),
    // EOPNOTSUPP: no such operation (keyrings are not namespaced: never a real one)
    call(
        "keyctl",
        libc::SYS_keyctl,
        &[Int(0x7fff_ffff), Int(0), Int(0), Int(0), Int(0)],
        true,
    ),
    // EFAULT
    call(
        "add_key",
        libc::SYS_add_key,
        &[Ptr(0), Ptr(0), Ptr(0), Int(0), Int(0)],
        true,
    ),
    // EFAULT
    call(
        "request_key",
        libc::SYS_request_key,
        &[Ptr(0), Ptr(0), Ptr(0), Int(0)],
        true,
    ),
    // EINVAL: no such command
    call("bpf", libc::SYS_bpf, &[Int(0xffff), Ptr(0), Int(0)], true),
    // EFAULT
    call(
        "perf_event_open",
        libc::SYS_perf_event_open,
        &[Ptr(0), Int(0), Int(MINUS_1), Int(MINUS_1), Int(0)],
        true,
    ),
    // ESRCH: no such request, and pid 0 is nobody
    call(
        "ptrace",
        libc::SYS_ptrace,
        &[Int(MINUS_1), Int(0), Ptr(0), Ptr(0)],
        true,
    ),
    // EFAULT
    call(
        "open_by_handle_at",
        libc::SYS_open_by_handle_at,
        &[Int(MINUS_1), Ptr(0), Int(0)],
        true,
    ),
    // EFAULT
    call(
        "name_to_handle_at",
        libc::SYS_name_to_handle_at,
        &[Int(MINUS_1), Ptr(0), Ptr(0), Ptr(0), Int(0)],
        true,
    ),
    // EINVAL: unknown flags
    call(
        "userfaultfd",
        libc::SYS_userfaultfd,
        &[Int(0x7fff_ffff)],
        true,
    ),
    // EFAULT: no params
    call(
        "io_uring_setup",
        libc::SYS_io_uring_setup,
        &[Int(0), Ptr(0)],
        true,
    ),
    // EINVAL: 1000 segments (16 at most) and unknown flags; ENOSYS without CONFIG_KEXEC.
    // Never 0 segments, which unloads the loaded kernel.
    call(
        "kexec_load",
        libc::SYS_kexec_load,
        &[Int(0), Int(1000), Ptr(0), Int(0xffff_0000)],
        true,
    ),
    // EINVAL: unknown flags
    call(
        "kexec_file_load",
        libc::SYS_kexec_file_load,
        &[Int(MINUS_1), Int(MINUS_1), Int(0), Ptr(0), Int(0xffff_0000)],
        true,
    ),
    // ENOEXEC: a 0-byte image (ENOSYS without CONFIG_MODULES)
    call(
        "init_module",
        libc::SYS_init_module,
        &[Ptr(0), Int(0), Ptr(0)],
        true,
    ),
    // EINVAL: unknown flags
    call(
        "finit_module",
        libc::SYS_finit_module,
        &[Int(MINUS_1), Ptr(0), Int(0xffff_0000)],
        true,
    ),
    // EFAULT
    call(
        "delete_module",
        libc::SYS_delete_module,
        &[Ptr(0), Int(0)],
        true,
    ),
    // EFAULT: an unmapped time; never a time zone, which would warp the clock
    call(
        "settimeofday",
        libc::SYS_settimeofday,
        &[Ptr(MINUS_1), Ptr(MINUS_1)],
        true,
    ),
    // EINVAL: no such clock
    call(
        "clock_settime",
        libc::SYS_clock_settime,
        &[Int(0x7fff_ffff), Ptr(MINUS_1)],
        true,
    ),
    // EFAULT
    call("adjtimex", libc::SYS_adjtimex, &[Ptr(MINUS_1)], true),
    // EINVAL: no such clock
    call(
        "clock_adjtime",
        libc::SYS_clock_adjtime,
        &[Int(0x7fff_ffff), Ptr(MINUS_1)],
        true,
    ),
    // EINVAL: longer than the 64 bytes allowed, refused before the name is read
    call(
        "sethostname",
        libc::SYS_sethostname,
        &[Ptr(MINUS_1), Int(1000)],
        true,
    ),
    call(
        "setdomainname",
        libc::SYS_setdomainname,
        &[Ptr(MINUS_1), Int(1000)],
        true,
    ),
    // EINVAL: unknown flags
    call(
        "swapon",
        libc::SYS_swapon,
        &[Ptr(0), Int(0xffff_ffff)],
        true,
    ),
    // EFAULT
    call("swapoff", libc::SYS_swapoff, &[Ptr(0)], true),
    // EINVAL: no such action (never 5, which clears the host's kernel log)
    call(
        "syslog",
        libc::SYS_syslog,
        &[Int(0x7fff), Ptr(0), Int(0)],
        true,
    ),
    // EFAULT (never null, which turns accounting off)
    call("acct", libc::SYS_acct, &[Ptr(MINUS_1)], true),
    // ENODEV: no device
    call(
        "quotactl",
        libc::SYS_quotactl,
        &[Int(0), Ptr(0), Int(0), Ptr(0)],
        true,
    ),
    // EFAULT
    call("fsopen", libc::SYS_fsopen, &[Ptr(0), Int(0)], true),
    // EBADF
    call(
        "fsmount",
        libc::SYS_fsmount,
        &[Int(MINUS_1), Int(0), Int(0)],
        true,
    ),
    // EFAULT
    call(
        "fspick",
        libc::SYS_fspick,
        &[Int(MINUS_1), Ptr(0), Int(0)],
        true,
    ),
    // EINVAL: no such command
    call(
        "fsconfig",
        libc::SYS_fsconfig,
        &[Int(MINUS_1), Int(0xffff), Ptr(0), Ptr(0), Int(0)],
        true,
    ),
    // EFAULT
    call(
        "open_tree",
        libc::SYS_open_tree,
        &[Int(MINUS_1), Ptr(0), Int(0)],
        true,
    ),
    // EFAULT
    call(
        "move_mount",
        libc::SYS_move_mount,
        &[Int(MINUS_1), Ptr(0), Int(MINUS_1), Ptr(0), Int(0)],
        true,
    ),
    // EINVAL: size 0
    call(
        "mount_setattr",
        libc::SYS_mount_setattr,
        &[Int(MINUS_1), Ptr(0), Int(0), Ptr(0), Int(0)],
        true,
    ),
    // EBADF
    call(
        "pidfd_getfd",
        libc::SYS_pidfd_getfd,
        &[Int(MINUS_1), Int(0), Int(0)],
        true,
    ),
    // EINVAL: level 4 is over the highest, 3
    #[cfg(target_arch = "x86_64")]
    call("iopl", libc::SYS_iopl, &[Int(4)], true),
    // EINVAL: past the 65536 ports
    #[cfg(target_arch = "x86_64")]
    call(
        "ioperm",
        libc::SYS_ioperm,
        &[Int(0xffff_ffff), Int(1), Int(1)],
        true,
    ),
];

/// Numbers from here on are not system calls on any architecture we run on: `syscall 1000`
/// issues one with all-zero arguments.
pub const FIRST_UNASSIGNED: u64 = 1000;

pub fn known_call(name: &str) -> Option<&'static Call> {
    CALLS.iter().find(|c| c.name == name)
}

pub fn known_call_names() -> impl Iterator<Item = &'static str> {
    CALLS.iter().map(|c| c.name)
}

fn unmapped(addr: u64) -> bool {
    // User space ends below 2^56 (x86_64 five-level paging) and 2^52 (aarch64).
    addr == 0 || addr >= 0xffff_8000_0000_0000
}

/// The six arguments of `call` with `given` overriding its defaults from the left.
fn arguments(call: &Call, given: &[u64]) -> Result<[u64; 6], String> {
    if call.fixed && !given.is_empty() {
        return Err(format!(
            "{}: its arguments are fixed to ones that cannot act on the host",
            call.name
        ));
    }
    if given.len() > call.args.len() {
        return Err(format!(
            "{} takes at most {} arguments",
            call.name,
            call.args.len()
        ));
    }
    let mut out = [0u64; 6];
    for (i, kind) in call.args.iter().enumerate() {
        out[i] = match (*kind, given.get(i)) {
            (Int(_), Some(&v)) => v,
            (Ptr(_), Some(&v)) if unmapped(v) => v,
            (Ptr(_), Some(&v)) => {
                return Err(format!(
                    "{}: argument {} is an address; only 0 and kernel-half addresses are \
                     accepted, not {v:#x}",
                    call.name,
                    i + 1
                ));
            }
            (Int(v) | Ptr(v), None) => v,
        };
    }
    Ok(out)
}

fn syscall6(nr: libc::c_long, a: [u64; 6]) -> io::Result<i64> {
    // SAFETY: the callers pass either a call of the table with `arguments` applied (every
    // address argument null or in the kernel half, so the kernel reads and writes none of
    // our memory; no call of the table maps, unmaps or clones memory), or an unassigned
    // number with null arguments. Extra arguments are ignored by the kernel.
    let r = unsafe { libc::syscall(nr, a[0], a[1], a[2], a[3], a[4], a[5]) };
    if r < 0 {
        Err(io::Error::last_os_error())
    } else {
        Ok(r)
    }
}

/// Issues `call` with `given` arguments over its defaults. The outer error is a usage error.
pub fn issue(call: &Call, given: &[u64]) -> Result<io::Result<i64>, String> {
    let args = arguments(call, given)?;
    Ok(syscall6(call.nr, args))
}

/// Issues system call number `nr` (at least FIRST_UNASSIGNED) with null arguments.
pub fn issue_unassigned(nr: u64) -> Result<io::Result<i64>, String> {
    if nr < FIRST_UNASSIGNED {
        return Err(format!(
            "only numbers from {FIRST_UNASSIGNED} up are accepted, not {nr}"
        ));
    }
    let nr = libc::c_long::try_from(nr)
        .map_err(|_| format!("{nr} does not fit a system call number"))?;
    Ok(syscall6(nr, [0; 6]))
}

/// `i386` getpid (20) through `int 0x80`, which the kernel reports to seccomp as
/// AUDIT_ARCH_I386. Returns what eax holds after, if the process survives.
#[cfg(target_arch = "x86_64")]
pub fn int80_getpid() -> i64 {
    let mut rax: i64 = 20;
    // SAFETY: the compat getpid takes no arguments and touches no memory; the 32-bit entry
    // may clobber r8-r11, declared as such; no stack is used.
    unsafe {
        std::arch::asm!(
            "int 0x80",
            inout("rax") rax,
            lateout("r8") _,
            lateout("r9") _,
            lateout("r10") _,
            lateout("r11") _,
            options(nostack),
        );
    }
    rax
}

/// x32 getpid: the x86_64 number 39 with the x32 bit set.
#[cfg(target_arch = "x86_64")]
pub fn x32_getpid() -> io::Result<i64> {
    syscall6(39 | 0x4000_0000, [0; 6])
}

/// Reaps `pid` (any kind of child: clone3 with no exit signal needs __WALL), retrying on
/// EINTR. Returns the raw wait status.
fn reap(pid: libc::pid_t) -> io::Result<libc::c_int> {
    loop {
        let mut status = 0;
        // SAFETY: `status` is a valid int to write to; `pid` is our own child.
        let r = unsafe { libc::waitpid(pid, &mut status, libc::__WALL) };
        if r >= 0 {
            return Ok(status);
        }
        let e = io::Error::last_os_error();
        if e.kind() != io::ErrorKind::Interrupted {
            return Err(e);
        }
    }
}

/// The namespace flags and the exit signal: all `clone` accepts from the command line. The
/// high 32 bits are ignored by the kernel (and so accepted, to check the filter does too).
const CLONE_ACCEPTED: u64 = 0xffff_ffff_0000_0000 | 0x0000_0080 | 0x0002_0000 | 0x7e00_0000 | 0xff;

/// Raw `clone(flags, NULL stack)`, fork-like: the child `_exit`s at once, the parent reaps it.
/// Returns the child's raw wait status. Called while the probe is single-threaded.
pub fn clone_and_reap(flags: u64) -> Result<io::Result<libc::c_int>, String> {
    if flags & !CLONE_ACCEPTED != 0 {
        return Err(format!(
            "flags {flags:#x}: only namespace flags and a signal are accepted (no CLONE_VM, \
             CLONE_SETTLS or pointer flags)"
        ));
    }
    // SAFETY: without CLONE_VM and with a null stack, clone is fork: the child runs on a
    // copy of our memory. Its first act is the async-signal-safe _exit; the probe is
    // single-threaded here, so no lock is held in the copy. No pointers are passed.
    let r = unsafe { libc::syscall(libc::SYS_clone, flags, 0u64, 0u64, 0u64, 0u64) };
    if r == 0 {
        // SAFETY: the child leaves without running anything else.
        unsafe { libc::_exit(0) };
    }
    if r < 0 {
        return Ok(Err(io::Error::last_os_error()));
    }
    Ok(reap(r as libc::pid_t))
}

/// `struct clone_args` of clone3 (size 64, CLONE_ARGS_SIZE_VER0).
#[repr(C)]
#[derive(Default)]
struct CloneArgs {
    flags: u64,
    pidfd: u64,
    child_tid: u64,
    parent_tid: u64,
    exit_signal: u64,
    stack: u64,
    stack_size: u64,
    tls: u64,
}

/// clone3 with all-zero arguments (a fork without exit signal, if allowed): the child
/// `_exit`s at once and is reaped. Called while the probe is single-threaded.
pub fn clone3_zeroed() -> io::Result<()> {
    let args = CloneArgs::default();
    let size = std::mem::size_of::<CloneArgs>();
    // SAFETY: `args` is a valid clone_args of `size` bytes living across the call; with no
    // flags and no stack it is a fork: the child runs on a copy of our memory and its first
    // act is the async-signal-safe _exit; the probe is single-threaded here.
    let r = unsafe { libc::syscall(libc::SYS_clone3, &args as *const CloneArgs, size) };
    if r == 0 {
        // SAFETY: the child leaves without running anything else.
        unsafe { libc::_exit(0) };
    }
    if r < 0 {
        return Err(io::Error::last_os_error());
    }
    reap(r as libc::pid_t).map(drop)
}

/// `ioctl(fd, request, &byte)` through the raw system call, so all 64 bits of `request`
/// reach the kernel.
pub fn ioctl_byte(fd: libc::c_int, request: u64) -> io::Result<()> {
    // Only requests that read one byte: others may write more than `byte` holds.
    let low = request & 0xffff_ffff;
    assert!(
        low == 0x5412 || low == 0x541c,
        "ioctl_byte is for TIOCSTI and TIOCLINUX only, not {request:#x}"
    );
    let byte: u8 = b'#';
    // SAFETY: `byte` lives across the call; TIOCSTI reads one byte through the pointer and
    // TIOCLINUX reads its subcode byte ('#' is none), neither writes; the kernel ignores the
    // high half of the request. The callers pass /dev/null or -1, which answer neither.
    let r = unsafe {
        libc::syscall(
            libc::SYS_ioctl,
            libc::c_long::from(fd),
            request,
            &byte as *const u8,
        )
    };
    if r < 0 {
        Err(io::Error::last_os_error())
    } else {
        Ok(())
    }
}

/// `socket(family, type, protocol)` with all 64 bits of each argument; the socket is closed.
pub fn socket(family: u64, kind: u64, proto: u64) -> io::Result<()> {
    // SAFETY: socket takes no pointers.
    let fd = unsafe { libc::syscall(libc::SYS_socket, family, kind, proto) };
    if fd < 0 {
        return Err(io::Error::last_os_error());
    }
    // SAFETY: `fd` was just returned to us and is closed exactly once.
    unsafe { libc::close(fd as libc::c_int) };
    Ok(())
}

/// fork, then execv(`path`, `argv`) in the child (exit 127 if that fails); returns the raw
/// wait status. Everything the child touches is prepared before the fork.
pub fn fork_exec(path: &std::ffi::CStr, argv: &[std::ffi::CString]) -> io::Result<libc::c_int> {
    let mut ptrs: Vec<*const libc::c_char> = argv.iter().map(|a| a.as_ptr()).collect();
    ptrs.push(std::ptr::null());
    // SAFETY: the child only calls the async-signal-safe execv and _exit, with `path` and the
    // null-terminated `ptrs` prepared before the fork (valid in the child's copy).
    let pid = check(unsafe { libc::fork() })?;
    if pid == 0 {
        // SAFETY: as above.
        unsafe {
            libc::execv(path.as_ptr(), ptrs.as_ptr());
            libc::_exit(127)
        }
    }
    reap(pid)
}

/// Stacks a second filter that allows everything: it must not loosen the first.
pub fn stack_allow_all_filter() -> io::Result<()> {
    let mut insns = [libc::sock_filter {
        code: (libc::BPF_RET | libc::BPF_K) as u16,
        jt: 0,
        jf: 0,
        k: libc::SECCOMP_RET_ALLOW,
    }];
    let prog = libc::sock_fprog {
        len: insns.len() as u16,
        filter: insns.as_mut_ptr(),
    };
    // SAFETY: `prog` points to `insns`, both living across the call; the kernel copies the
    // program. no_new_privs is set by the launcher, which seccomp requires of non-admins.
    let r = unsafe {
        libc::syscall(
            libc::SYS_seccomp,
            libc::SECCOMP_SET_MODE_FILTER,
            0u64,
            &prog as *const libc::sock_fprog,
        )
    };
    if r < 0 {
        Err(io::Error::last_os_error())
    } else {
        Ok(())
    }
}

/// Whether `fd` is a terminal.
pub fn is_tty(fd: libc::c_int) -> bool {
    // SAFETY: isatty takes no pointers; any fd is a valid input.
    unsafe { libc::isatty(fd) == 1 }
}

/// The securebits of the probe (prctl PR_GET_SECUREBITS).
pub fn securebits() -> io::Result<u32> {
    // SAFETY: PR_GET_SECUREBITS takes no pointers and only reads the probe's own state.
    let r = check(unsafe { libc::prctl(libc::PR_GET_SECUREBITS, 0, 0, 0, 0) })?;
    Ok(r as u32)
}

/// prctl(PR_SET_SECUREBITS, bits): changes the probe's own securebits, if it may.
pub fn set_securebits(bits: u32) -> io::Result<()> {
    // SAFETY: PR_SET_SECUREBITS takes no pointers and acts on the calling thread only.
    check(unsafe { libc::prctl(libc::PR_SET_SECUREBITS, libc::c_ulong::from(bits), 0, 0, 0) })
        .map(drop)
}

/// prctl(PR_SET_KEEPCAPS, 1) for the probe itself.
pub fn set_keepcaps() -> io::Result<()> {
    // SAFETY: PR_SET_KEEPCAPS takes no pointers and acts on the calling thread only.
    check(unsafe { libc::prctl(libc::PR_SET_KEEPCAPS, 1 as libc::c_ulong, 0, 0, 0) }).map(drop)
}

/// `struct __user_cap_header_struct` and `__user_cap_data_struct` (version 3: two of them).
#[repr(C)]
struct CapHeader {
    version: u32,
    pid: libc::c_int,
}

#[repr(C)]
#[derive(Clone, Copy)]
struct CapData {
    effective: u32,
    permitted: u32,
    inheritable: u32,
}

const LINUX_CAPABILITY_VERSION_3: u32 = 0x2008_0522;

/// capset(2) of the probe itself with `set` in the effective, permitted and inheritable sets.
pub fn capset_all(set: u64) -> io::Result<()> {
    let mut header = CapHeader {
        version: LINUX_CAPABILITY_VERSION_3,
        pid: 0,
    };
    let half = |shift: u32| CapData {
        effective: (set >> shift) as u32,
        permitted: (set >> shift) as u32,
        inheritable: (set >> shift) as u32,
    };
    let data = [half(0), half(32)];
    // SAFETY: `header` and the two `data` structs of version 3 live across the call; the
    // kernel reads both and may write the header's version; pid 0 is the probe itself.
    let r = unsafe {
        libc::syscall(
            libc::SYS_capset,
            &mut header as *mut CapHeader,
            data.as_ptr(),
        )
    };
    if r < 0 {
        Err(io::Error::last_os_error())
    } else {
        Ok(())
    }
}

/// prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_RAISE, bit) for the probe itself.
pub fn raise_ambient(bit: u32) -> io::Result<()> {
    // SAFETY: PR_CAP_AMBIENT takes no pointers and acts on the calling thread only.
    check(unsafe {
        libc::prctl(
            libc::PR_CAP_AMBIENT,
            libc::PR_CAP_AMBIENT_RAISE as libc::c_ulong,
            libc::c_ulong::from(bit),
            0 as libc::c_ulong,
            0 as libc::c_ulong,
        )
    })
    .map(drop)
}

fn c_path(path: &str) -> io::Result<std::ffi::CString> {
    std::ffi::CString::new(path).map_err(|_| io::Error::from_raw_os_error(libc::EINVAL))
}

/// Creates the character device 1:3 (the null device), mode 0600, at `path`.
pub fn mknod_null(path: &str) -> io::Result<()> {
    let p = c_path(path)?;
    // SAFETY: `p` is a NUL-terminated path living across the call; mknod reads only it.
    check(unsafe { libc::mknod(p.as_ptr(), libc::S_IFCHR | 0o600, libc::makedev(1, 3)) }).map(drop)
}

/// chown(path, uid, unchanged group).
pub fn chown(path: &str, uid: u32) -> io::Result<()> {
    let p = c_path(path)?;
    // SAFETY: `p` is a NUL-terminated path living across the call; a gid of -1 leaves the
    // group as it is.
    check(unsafe { libc::chown(p.as_ptr(), uid, libc::gid_t::MAX) }).map(drop)
}

/// The probe's (soft, hard) limit of `resource`.
pub fn getrlimit(resource: u32) -> io::Result<(u64, u64)> {
    let mut rl = libc::rlimit {
        rlim_cur: 0,
        rlim_max: 0,
    };
    // SAFETY: `rl` is a valid rlimit for the kernel to fill, living across the call.
    check(unsafe { libc::getrlimit(resource as _, &mut rl) })?;
    Ok((rl.rlim_cur, rl.rlim_max))
}

/// Sets the probe's own limit of `resource`.
pub fn setrlimit(resource: u32, soft: u64, hard: u64) -> io::Result<()> {
    let rl = libc::rlimit {
        rlim_cur: soft,
        rlim_max: hard,
    };
    // SAFETY: `rl` is a valid rlimit living across the call; it applies to the probe only.
    check(unsafe { libc::setrlimit(resource as _, &rl) }).map(drop)
}

/// A ptrace request that takes no address or data (SEIZE without options, INTERRUPT, DETACH
/// without a signal).
fn ptrace_plain(request: libc::c_uint, pid: i32) -> io::Result<()> {
    // SAFETY: with null address and data these requests read and write no memory of ours.
    let r = unsafe {
        libc::syscall(
            libc::SYS_ptrace,
            request as libc::c_long,
            libc::c_long::from(pid),
            0 as libc::c_long,
            0 as libc::c_long,
        )
    };
    if r < 0 {
        Err(io::Error::last_os_error())
    } else {
        Ok(())
    }
}

/// PTRACE_SEIZE of `pid`: unlike PTRACE_ATTACH it does not stop the tracee, and the tracer's
/// exit detaches it.
pub fn ptrace_seize(pid: i32) -> io::Result<()> {
    ptrace_plain(libc::PTRACE_SEIZE, pid)
}

/// Stops a seized tracee (PTRACE_INTERRUPT, then waits for the stop) and detaches from it, so
/// that its exit goes to its real parent again.
pub fn ptrace_release(pid: i32) -> io::Result<()> {
    ptrace_plain(libc::PTRACE_INTERRUPT, pid)?;
    let mut status = 0;
    // SAFETY: `status` is a valid int for the kernel to write, living across the call.
    if unsafe { libc::waitpid(pid, &mut status, libc::__WALL) } < 0 {
        return Err(io::Error::last_os_error());
    }
    ptrace_plain(libc::PTRACE_DETACH, pid)
}

/// The magic number of the file system holding `path` (statfs f_type).
pub fn fs_magic(path: &str) -> io::Result<u64> {
    let p = c_path(path)?;
    // SAFETY: all-zero is a valid statfs for the kernel to overwrite.
    let mut st: libc::statfs = unsafe { std::mem::zeroed() };
    // SAFETY: `p` is a NUL-terminated path and `st` a statfs, both living across the call.
    check(unsafe { libc::statfs(p.as_ptr(), &mut st) })?;
    Ok(st.f_type as u64)
}

/// Forks a child that runs `body` and `_exit`s (0 if it returned true, else 1); returns the
/// child's exit code. Called while the probe is single-threaded, so the child's copy holds
/// no lock of another thread.
pub fn fork_and_wait(body: impl FnOnce() -> bool) -> io::Result<i32> {
    use std::io::Write;
    // Nothing buffered may be printed twice.
    io::stdout().flush()?;
    // SAFETY: the probe is single-threaded here, so the child may run ordinary Rust code (it
    // allocates and prints); it leaves with _exit, never returning into the parent's frames.
    let pid = check(unsafe { libc::fork() })?;
    if pid == 0 {
        let ok = body();
        let _ = io::stdout().flush();
        // SAFETY: ends the child without running the parent's exit handlers twice.
        unsafe { libc::_exit(if ok { 0 } else { 1 }) }
    }
    let status = reap(pid)?;
    Ok(if libc::WIFEXITED(status) {
        libc::WEXITSTATUS(status)
    } else {
        128 + libc::WTERMSIG(status)
    })
}

/// In a forked child: a new user, mount and pid namespace, then (in a grandchild, PID 1 of
/// the new pid namespace) a mount of `fstype` on `target`. Returns the first failure as
/// (step, errno): step 0 unshare, 1 fork, 2 mount; (3, 0) when everything worked. Errnos
/// travel in exit codes, so 63 stands for 63 and above. Whatever is mounted lives in the
/// child's own mount namespace, which ends with it.
pub fn mount_in_new_userns(fstype: &std::ffi::CStr, target: &str) -> io::Result<(i32, i32)> {
    let t = c_path(target)?;
    io::Write::flush(&mut io::stdout())?;
    // SAFETY: the probe is single-threaded here; the children only make async-signal-safe
    // system calls (unshare, fork, mount, waitpid, _exit) with the NUL-terminated strings
    // prepared before the fork, and never return into Rust code.
    let pid = check(unsafe { libc::fork() })?;
    if pid == 0 {
        // SAFETY: as above.
        unsafe {
            let errno = || (*libc::__errno_location()).min(63);
            let flags = libc::CLONE_NEWUSER | libc::CLONE_NEWNS | libc::CLONE_NEWPID;
            if libc::unshare(flags) != 0 {
                libc::_exit(errno());
            }
            let grandchild = libc::fork();
            if grandchild < 0 {
                libc::_exit(64 + errno());
            }
            if grandchild == 0 {
                let r = libc::mount(
                    fstype.as_ptr(),
                    t.as_ptr(),
                    fstype.as_ptr(),
                    libc::MS_NOSUID | libc::MS_NODEV | libc::MS_NOEXEC,
                    std::ptr::null(),
                );
                libc::_exit(if r == 0 { 0 } else { errno() });
            }
            let mut status = 0;
            if libc::waitpid(grandchild, &mut status, 0) < 0 || !libc::WIFEXITED(status) {
                libc::_exit(255);
            }
            libc::_exit(match libc::WEXITSTATUS(status) {
                0 => 192,
                e => 128 + e,
            })
        }
    }
    let status = reap(pid)?;
    if !libc::WIFEXITED(status) {
        return Err(io::Error::other(format!(
            "the child ended with {status:#x}"
        )));
    }
    Ok(match libc::WEXITSTATUS(status) {
        192 => (3, 0),
        255 => return Err(io::Error::other("the grandchild was lost")),
        c @ 128.. => (2, c - 128),
        c @ 64.. => (1, c - 64),
        c => (0, c),
    })
}

/// `kill(pid, 0)`: checks whether a signal could be sent, sends none.
pub fn probe_signal(pid: libc::pid_t) -> io::Result<()> {
    // SAFETY: kill takes no pointers; signal 0 delivers nothing to any process.
    check(unsafe { libc::kill(pid, 0) }).map(drop)
}

/// Forks a child that sleeps for `pause` and exits; returns its pid. Called while the probe is
/// single-threaded.
pub fn fork_sleeper(pause: Duration) -> io::Result<libc::pid_t> {
    let ts = libc::timespec {
        tv_sec: pause.as_secs() as libc::time_t,
        tv_nsec: pause.subsec_nanos() as libc::c_long,
    };
    // SAFETY: the probe is single-threaded here; the child only calls the async-signal-safe
    // nanosleep and _exit with `ts`, copied into it, and never returns into Rust code.
    let pid = check(unsafe { libc::fork() })?;
    if pid == 0 {
        // SAFETY: as above.
        unsafe {
            libc::nanosleep(&ts, std::ptr::null_mut());
            libc::_exit(0)
        }
    }
    Ok(pid)
}

/// SIGKILL to each of the probe's own children in `pids`, then reaps them.
pub fn kill_and_reap(pids: &[libc::pid_t]) {
    for &pid in pids {
        // SAFETY: kill takes no pointers; `pid` is a child of ours that has not been reaped,
        // so the number cannot belong to another process.
        unsafe { libc::kill(pid, libc::SIGKILL) };
    }
    for &pid in pids {
        let _ = reap(pid);
    }
}

/// mknod(path, S_IFCHR | 0600, major:minor).
pub fn mknod_char(path: &str, major: u32, minor: u32) -> io::Result<()> {
    let p = c_path(path)?;
    // SAFETY: `p` is a NUL-terminated path living across the call; mknod reads only it.
    check(unsafe {
        libc::mknod(
            p.as_ptr(),
            libc::S_IFCHR | 0o600,
            libc::makedev(major, minor),
        )
    })
    .map(drop)
}

/// The kernel log, as `dmesg` reads it (syslog(SYSLOG_ACTION_READ_ALL)); at most 64 KiB.
pub fn read_kernel_log() -> io::Result<String> {
    const READ_ALL: libc::c_int = 3;
    let mut buf = vec![0u8; 64 << 10];
    // SAFETY: the buffer is valid for writes of its length, which is what the call is given;
    // READ_ALL only copies into it and does not clear the log.
    let n = check(unsafe {
        libc::klogctl(READ_ALL, buf.as_mut_ptr().cast(), buf.len() as libc::c_int)
    })?;
    buf.truncate(n as usize);
    Ok(String::from_utf8_lossy(&buf).into_owned())
}

/// The kernel's version string (`uname -v`), from uname(2): unlike `/proc/version` no mount
/// or namespace can change it.
pub fn uname_version() -> String {
    // SAFETY: all-zero is a valid utsname for the kernel to overwrite.
    let mut u: libc::utsname = unsafe { std::mem::zeroed() };
    // SAFETY: `u` is a utsname living across the call.
    if unsafe { libc::uname(&mut u) } != 0 {
        return String::new();
    }
    // SAFETY: the kernel NUL-terminates every utsname field within its array.
    unsafe { std::ffi::CStr::from_ptr(u.version.as_ptr()) }
        .to_string_lossy()
        .into_owned()
}
