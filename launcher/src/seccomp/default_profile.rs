//! nucleus's default seccomp policy: deny by default, allow what ordinary Linux programs need.
//!
//! - A system call this profile allows runs. One it knows and does not allow fails with EPERM.
//!   One it does not know at all (newer than our syscall table) fails with ENOSYS, so that
//!   libc falls back to an older call instead of giving up.
//! - `clone3` fails with ENOSYS: its flags live in memory a filter cannot read, so libc is
//!   made to fall back to `clone`, whose namespace flags are filtered below.
//! - Argument filters: `clone` without namespace flags; `socket` for unix, inet, inet6 and
//!   netlink route/audit only; `ioctl` without TIOCSTI and TIOCLINUX (typing into, or
//!   reprogramming, the terminal); `personality` to the values programs use; `prctl` without
//!   the options that reach beyond the process.
//! - Int-sized arguments are compared on their low 32 bits only: the kernel ignores the high
//!   half, so comparing all 64 bits would let a caller slip past with junk in it.
//! - Denied outright (by not being allowed): the mount family, pivot_root, chroot, unshare,
//!   setns, keyrings, bpf, perf_event_open, ptrace, kexec, modules, reboot, swap,
//!   open_by_handle_at, userfaultfd, io_uring (opt-in with --seccomp-allow), time setting,
//!   hostname setting, syslog, quotas, raw I/O ports, fanotify.

use std::collections::HashSet;

use nucleus_shared::seccomp::arch::Arch;
use nucleus_shared::seccomp::policy::{Action, ArgCond, Cmp, Policy, Rule};
use nucleus_shared::seccomp::tables;

const EPERM: u16 = 1;
const ENOSYS: u16 = 38;
const EAFNOSUPPORT: u16 = 97;
const LOW32: u64 = 0xffff_ffff;

/// Allowed without conditions (names missing on an architecture are skipped there).
const ALLOWED: &[&str] = &[
    // files and descriptors
    "read",
    "write",
    "readv",
    "writev",
    "pread64",
    "pwrite64",
    "preadv",
    "pwritev",
    "preadv2",
    "pwritev2",
    "open",
    "openat",
    "openat2",
    "creat",
    "close",
    "close_range",
    "lseek",
    "dup",
    "dup2",
    "dup3",
    "pipe",
    "pipe2",
    "fcntl",
    "flock",
    "fsync",
    "fdatasync",
    "sync",
    "syncfs",
    "sync_file_range",
    "truncate",
    "ftruncate",
    "fallocate",
    "fadvise64",
    "readahead",
    "sendfile",
    "splice",
    "tee",
    "vmsplice",
    "copy_file_range",
    "stat",
    "fstat",
    "lstat",
    "newfstatat",
    "statx",
    "statfs",
    "fstatfs",
    "access",
    "faccessat",
    "faccessat2",
    "readlink",
    "readlinkat",
    "getdents",
    "getdents64",
    "getcwd",
    "chdir",
    "fchdir",
    "mkdir",
    "mkdirat",
    "rmdir",
    "rename",
    "renameat",
    "renameat2",
    "link",
    "linkat",
    "unlink",
    "unlinkat",
    "symlink",
    "symlinkat",
    "chmod",
    "fchmod",
    "fchmodat",
    "fchmodat2",
    "chown",
    "fchown",
    "lchown",
    "fchownat",
    "umask",
    "utime",
    "utimes",
    "utimensat",
    "futimesat",
    "mknod",
    "mknodat",
    "getxattr",
    "lgetxattr",
    "fgetxattr",
    "getxattrat",
    "listxattr",
    "llistxattr",
    "flistxattr",
    "listxattrat",
    "setxattr",
    "lsetxattr",
    "fsetxattr",
    "setxattrat",
    "removexattr",
    "lremovexattr",
    "fremovexattr",
    "removexattrat",
    "file_getattr",
    "file_setattr",
    "cachestat",
    "ustat",
    "sysfs",
    "statmount",
    "name_to_handle_at",
    "listmount",
    // memory
    "brk",
    "mmap",
    "munmap",
    "mremap",
    "mprotect",
    "madvise",
    "process_madvise",
    "process_mrelease",
    "mlock",
    "mlock2",
    "munlock",
    "mlockall",
    "munlockall",
    "mincore",
    "msync",
    "remap_file_pages",
    "membarrier",
    "memfd_create",
    "memfd_secret",
    "pkey_alloc",
    "pkey_free",
    "pkey_mprotect",
    "get_mempolicy",
    "set_mempolicy",
    "mbind",
    "map_shadow_stack",
    "mseal",
    // processes and threads
    "fork",
    "vfork",
    "execve",
    "execveat",
    "exit",
    "exit_group",
    "wait4",
    "waitid",
    "kill",
    "tkill",
    "tgkill",
    "getpid",
    "getppid",
    "gettid",
    "getpgid",
    "setpgid",
    "getpgrp",
    "getsid",
    "setsid",
    "getpriority",
    "setpriority",
    "ioprio_get",
    "ioprio_set",
    "sched_yield",
    "sched_getaffinity",
    "sched_setaffinity",
    "sched_getparam",
    "sched_setparam",
    "sched_getscheduler",
    "sched_setscheduler",
    "sched_get_priority_max",
    "sched_get_priority_min",
    "sched_rr_get_interval",
    "sched_getattr",
    "sched_setattr",
    "prlimit64",
    "getrlimit",
    "setrlimit",
    "getrusage",
    "times",
    "uname",
    "sysinfo",
    "getcpu",
    "arch_prctl",
    "set_thread_area",
    "get_thread_area",
    "set_tid_address",
    "set_robust_list",
    "get_robust_list",
    "rseq",
    "futex",
    "futex_waitv",
    "futex_wake",
    "futex_wait",
    "futex_requeue",
    "capget",
    "capset",
    "pidfd_open",
    "pidfd_send_signal",
    "process_vm_readv",
    "process_vm_writev",
    "restart_syscall",
    "seccomp",
    "landlock_create_ruleset",
    "landlock_add_rule",
    "landlock_restrict_self",
    "lsm_get_self_attr",
    "lsm_list_modules",
    "uretprobe",
    // users and groups (meaningful only with capabilities, which the kernel checks)
    "getuid",
    "geteuid",
    "getgid",
    "getegid",
    "getresuid",
    "getresgid",
    "getgroups",
    "setuid",
    "setgid",
    "setreuid",
    "setregid",
    "setresuid",
    "setresgid",
    "setgroups",
    "setfsuid",
    "setfsgid",
    // signals
    "rt_sigaction",
    "rt_sigprocmask",
    "rt_sigreturn",
    "rt_sigpending",
    "rt_sigtimedwait",
    "rt_sigqueueinfo",
    "rt_tgsigqueueinfo",
    "rt_sigsuspend",
    "sigaltstack",
    "signalfd",
    "signalfd4",
    "pause",
    "alarm",
    // time (reading it, and timers)
    "clock_gettime",
    "clock_getres",
    "clock_nanosleep",
    "nanosleep",
    "gettimeofday",
    "time",
    "getitimer",
    "setitimer",
    "timer_create",
    "timer_settime",
    "timer_gettime",
    "timer_getoverrun",
    "timer_delete",
    "timerfd_create",
    "timerfd_settime",
    "timerfd_gettime",
    // waiting for events
    "poll",
    "ppoll",
    "select",
    "pselect6",
    "epoll_create",
    "epoll_create1",
    "epoll_ctl",
    "epoll_wait",
    "epoll_pwait",
    "epoll_pwait2",
    "epoll_ctl_old",
    "epoll_wait_old",
    "eventfd",
    "eventfd2",
    "inotify_init",
    "inotify_init1",
    "inotify_add_watch",
    "inotify_rm_watch",
    // System V and POSIX IPC (private to the sandbox's IPC namespace)
    "shmget",
    "shmat",
    "shmdt",
    "shmctl",
    "semget",
    "semop",
    "semtimedop",
    "semctl",
    "msgget",
    "msgsnd",
    "msgrcv",
    "msgctl",
    "mq_open",
    "mq_unlink",
    "mq_timedsend",
    "mq_timedreceive",
    "mq_notify",
    "mq_getsetattr",
    // sockets (creation is filtered below)
    "socketpair",
    "bind",
    "connect",
    "listen",
    "accept",
    "accept4",
    "getsockname",
    "getpeername",
    "sendto",
    "recvfrom",
    "sendmsg",
    "recvmsg",
    "sendmmsg",
    "recvmmsg",
    "shutdown",
    "setsockopt",
    "getsockopt",
    // asynchronous I/O (not io_uring) and randomness
    "io_setup",
    "io_destroy",
    "io_getevents",
    "io_pgetevents",
    "io_submit",
    "io_cancel",
    "getrandom",
];

/// Namespace-creating clone flags: NEWTIME, NEWNS, NEWCGROUP, NEWUTS, NEWIPC, NEWUSER,
/// NEWPID, NEWNET.
const CLONE_NEW_MASK: u64 = 0x0000_0080 | 0x0002_0000 | 0x7e00_0000;
const TIOCSTI: u64 = 0x5412;
const TIOCLINUX: u64 = 0x541c;
const AF_UNIX: u64 = 1;
const AF_INET: u64 = 2;
const AF_INET6: u64 = 10;
const AF_NETLINK: u64 = 16;
const NETLINK_ROUTE: u64 = 0;
const NETLINK_AUDIT: u64 = 9;
/// PER_LINUX, UNAME26, ADDR_NO_RANDOMIZE, both, and the query value.
const PERSONALITIES: [u64; 5] = [0x0, 0x8, 0x20000, 0x20008, 0xffff_ffff];
/// PR_SET_MM, PR_SET_IO_FLUSHER, PR_SET_PTRACER.
const PRCTL_DENIED: [u64; 3] = [35, 57, 0x5961_6d61];

fn low32(arg: u8, value: u64) -> ArgCond {
    ArgCond {
        arg,
        cmp: Cmp::MaskedEq(LOW32),
        value,
    }
}

fn rule(nr: u32, conds: Vec<ArgCond>, action: Action) -> Rule {
    Rule { nr, conds, action }
}

/// The rules for the calls allowed only with certain arguments, in order.
fn filtered(arch: Arch) -> Vec<Rule> {
    let nr = |name| tables::number(arch, name);
    let mut rules = Vec::new();
    if let Some(n) = nr("clone") {
        let no_ns = ArgCond {
            arg: 0,
            cmp: Cmp::MaskedEq(CLONE_NEW_MASK),
            value: 0,
        };
        rules.push(rule(n, vec![no_ns], Action::Allow));
        rules.push(rule(n, vec![], Action::Errno(EPERM)));
    }
    if let Some(n) = nr("clone3") {
        rules.push(rule(n, vec![], Action::Errno(ENOSYS)));
    }
    if let Some(n) = nr("socket") {
        for family in [AF_UNIX, AF_INET, AF_INET6] {
            rules.push(rule(n, vec![low32(0, family)], Action::Allow));
        }
        for proto in [NETLINK_ROUTE, NETLINK_AUDIT] {
            rules.push(rule(
                n,
                vec![low32(0, AF_NETLINK), low32(2, proto)],
                Action::Allow,
            ));
        }
        rules.push(rule(n, vec![], Action::Errno(EAFNOSUPPORT)));
    }
    if let Some(n) = nr("ioctl") {
        for cmd in [TIOCSTI, TIOCLINUX] {
            rules.push(rule(n, vec![low32(1, cmd)], Action::Errno(EPERM)));
        }
        rules.push(rule(n, vec![], Action::Allow));
    }
    if let Some(n) = nr("personality") {
        for p in PERSONALITIES {
            rules.push(rule(n, vec![low32(0, p)], Action::Allow));
        }
        rules.push(rule(n, vec![], Action::Errno(EPERM)));
    }
    if let Some(n) = nr("prctl") {
        for option in PRCTL_DENIED {
            rules.push(rule(n, vec![low32(0, option)], Action::Errno(EPERM)));
        }
        rules.push(rule(n, vec![], Action::Allow));
    }
    rules
}

/// The default policy for `arch`, with `extra` names allowed on top (`--seccomp-allow`).
pub fn policy(arch: Arch, extra: &[u32]) -> Policy {
    let mut rules: Vec<Rule> = extra
        .iter()
        .map(|&n| rule(n, vec![], Action::Allow))
        .collect();
    rules.extend(filtered(arch));
    let decided: HashSet<u32> = rules.iter().map(|r| r.nr).collect();
    let allowed: HashSet<&str> = ALLOWED.iter().copied().collect();
    for &(name, n) in tables::all(arch) {
        if !decided.contains(&n) {
            let action = if allowed.contains(name) {
                Action::Allow
            } else {
                Action::Errno(EPERM)
            };
            rules.push(rule(n, vec![], action));
        }
    }
    Policy {
        arch,
        default: Action::Errno(ENOSYS),
        foreign: Action::KillProcess,
        rules,
    }
}

/// Every name in the allow-list must exist on at least one architecture we support; a typo
/// would silently deny a call.
#[cfg(test)]
pub(crate) fn allowed_names() -> &'static [&'static str] {
    ALLOWED
}
