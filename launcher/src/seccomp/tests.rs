//! The default policy and init's policy, checked through the BPF interpreter on both
//! architectures: what a program would see for each kind of call.

use nucleus_shared::seccomp::arch::{AUDIT_ARCH_I386, Arch, X32_SYSCALL_BIT};
use nucleus_shared::seccomp::compile::compile;
use nucleus_shared::seccomp::interp::{SeccompData, run};
use nucleus_shared::seccomp::policy::{Action, Policy};
use nucleus_shared::seccomp::tables;

use super::*;

const EPERM: Action = Action::Errno(1);
const ENOSYS: Action = Action::Errno(38);

fn decide(p: &Policy, name: &str, args: [u64; 6]) -> Action {
    let nr = tables::number(p.arch, name).unwrap_or_else(|| panic!("{name} on {:?}", p.arch));
    decide_nr(p, nr, args)
}

fn decide_nr(p: &Policy, nr: u32, args: [u64; 6]) -> Action {
    let prog = compile(p).unwrap();
    let d = SeccompData {
        nr,
        arch: p.arch.audit(),
        ip: 0,
        args,
    };
    let action = Action::from_ret(run(&prog, &d).unwrap()).unwrap();
    assert_eq!(action, p.evaluate(&d));
    action
}

fn both() -> [Policy; 2] {
    [
        default_profile::policy(Arch::X86_64, &[]),
        default_profile::policy(Arch::Aarch64, &[]),
    ]
}

#[test]
fn ordinary_calls_are_allowed() {
    for p in both() {
        for name in [
            "read",
            "write",
            "openat",
            "close",
            "mmap",
            "execve",
            "exit_group",
            "futex",
            "getpid",
            "wait4",
        ] {
            assert_eq!(decide(&p, name, [0; 6]), Action::Allow, "{name}");
        }
    }
}

#[test]
fn dangerous_calls_fail_with_eperm() {
    for p in both() {
        for name in [
            "mount",
            "umount2",
            "pivot_root",
            "chroot",
            "unshare",
            "setns",
            "keyctl",
            "add_key",
            "bpf",
            "perf_event_open",
            "ptrace",
            "kexec_load",
            "init_module",
            "finit_module",
            "delete_module",
            "reboot",
            "swapon",
            "open_by_handle_at",
            "userfaultfd",
            "io_uring_setup",
            "clock_settime",
            "settimeofday",
            "sethostname",
            "syslog",
            "move_mount",
            "fsopen",
            "open_tree",
        ] {
            if tables::number(p.arch, name).is_some() {
                assert_eq!(decide(&p, name, [0; 6]), EPERM, "{name} on {:?}", p.arch);
            }
        }
    }
}

#[test]
fn unknown_calls_get_enosys_and_clone3_too() {
    for p in both() {
        assert_eq!(decide_nr(&p, 1000, [0; 6]), ENOSYS);
        assert_eq!(decide(&p, "clone3", [0; 6]), ENOSYS);
    }
}

#[test]
fn clone_without_namespaces_only() {
    const THREAD_FLAGS: u64 = 0x003d_0f00;
    for p in both() {
        assert_eq!(
            decide(&p, "clone", [THREAD_FLAGS, 0, 0, 0, 0, 0]),
            Action::Allow
        );
        assert_eq!(
            decide(&p, "clone", [17, 0, 0, 0, 0, 0]),
            Action::Allow,
            "fork-like"
        );
        for ns in [
            0x1000_0000u64,
            0x2000_0000,
            0x4000_0000,
            0x0002_0000,
            0x0400_0000,
            0x0800_0000,
            0x0200_0000,
            0x80,
        ] {
            assert_eq!(
                decide(&p, "clone", [ns | 17, 0, 0, 0, 0, 0]),
                EPERM,
                "{ns:#x}"
            );
        }
    }
}

#[test]
fn socket_families_are_limited() {
    const EAFNOSUPPORT: Action = Action::Errno(97);
    for p in both() {
        for family in [1, 2, 10] {
            assert_eq!(decide(&p, "socket", [family, 1, 0, 0, 0, 0]), Action::Allow);
        }
        assert_eq!(
            decide(&p, "socket", [16, 3, 0, 0, 0, 0]),
            Action::Allow,
            "netlink route"
        );
        assert_eq!(
            decide(&p, "socket", [16, 3, 9, 0, 0, 0]),
            Action::Allow,
            "netlink audit"
        );
        assert_eq!(
            decide(&p, "socket", [16, 3, 4, 0, 0, 0]),
            EAFNOSUPPORT,
            "netlink sock_diag"
        );
        assert_eq!(
            decide(&p, "socket", [17, 3, 0, 0, 0, 0]),
            EAFNOSUPPORT,
            "packet"
        );
        assert_eq!(
            decide(&p, "socket", [40, 1, 0, 0, 0, 0]),
            EAFNOSUPPORT,
            "vsock"
        );
        // The kernel reads an int: junk in the high half must not change the decision.
        assert_eq!(
            decide(&p, "socket", [0xdead_0000_0000_0011, 3, 0, 0, 0, 0]),
            EAFNOSUPPORT
        );
        assert_eq!(
            decide(&p, "socket", [0xdead_0000_0000_0002, 1, 0, 0, 0, 0]),
            Action::Allow
        );
    }
}

#[test]
fn terminal_injection_ioctls_are_refused_even_with_high_bits_set() {
    for p in both() {
        assert_eq!(
            decide(&p, "ioctl", [0, 0x5401, 0, 0, 0, 0]),
            Action::Allow,
            "TCGETS"
        );
        assert_eq!(
            decide(&p, "ioctl", [0, 0x5412, 0, 0, 0, 0]),
            EPERM,
            "TIOCSTI"
        );
        assert_eq!(
            decide(&p, "ioctl", [0, 0x541c, 0, 0, 0, 0]),
            EPERM,
            "TIOCLINUX"
        );
        assert_eq!(
            decide(&p, "ioctl", [0, 0xffff_ffff_0000_5412, 0, 0, 0, 0]),
            EPERM
        );
    }
}

#[test]
fn personality_and_prctl_filters() {
    for p in both() {
        assert_eq!(
            decide(&p, "personality", [0xffff_ffff, 0, 0, 0, 0, 0]),
            Action::Allow
        );
        assert_eq!(
            decide(&p, "personality", [0x0040_0000, 0, 0, 0, 0, 0]),
            EPERM,
            "READ_IMPLIES_EXEC"
        );
        assert_eq!(
            decide(&p, "prctl", [15, 0, 0, 0, 0, 0]),
            Action::Allow,
            "PR_SET_NAME"
        );
        assert_eq!(decide(&p, "prctl", [35, 0, 0, 0, 0, 0]), EPERM, "PR_SET_MM");
    }
}

#[test]
fn foreign_architectures_are_killed() {
    let p = default_profile::policy(Arch::X86_64, &[]);
    let prog = compile(&p).unwrap();
    let i386 = SeccompData {
        nr: 1,
        arch: AUDIT_ARCH_I386,
        ..Default::default()
    };
    assert_eq!(
        Action::from_ret(run(&prog, &i386).unwrap()),
        Some(Action::KillProcess)
    );
    let x32 = SeccompData {
        nr: X32_SYSCALL_BIT | 1,
        arch: Arch::X86_64.audit(),
        ..Default::default()
    };
    assert_eq!(
        Action::from_ret(run(&prog, &x32).unwrap()),
        Some(Action::KillProcess)
    );
}

#[test]
fn extra_names_are_allowed_first() {
    let extra = resolve_names(Arch::X86_64, &["io_uring_setup".into(), "clone3".into()]).unwrap();
    let p = default_profile::policy(Arch::X86_64, &extra);
    assert_eq!(decide(&p, "io_uring_setup", [0; 6]), Action::Allow);
    assert_eq!(decide(&p, "clone3", [0; 6]), Action::Allow);
    assert!(resolve_names(Arch::X86_64, &["no_such_call".into()]).is_err());
}

#[test]
fn allow_list_has_no_typos() {
    for name in default_profile::allowed_names() {
        let known = [Arch::X86_64, Arch::Aarch64]
            .iter()
            .any(|&a| tables::number(a, name).is_some());
        assert!(known, "{name} is not a system call on x86_64 or aarch64");
    }
}

#[test]
fn default_program_is_small() {
    for p in both() {
        let n = compile(&p).unwrap().len();
        assert!(n < 400, "{:?}: {n} instructions", p.arch);
    }
}

#[test]
fn init_allows_only_its_loop() {
    let p = init_policy(Arch::X86_64);
    for name in [
        "rt_sigtimedwait",
        "wait4",
        "kill",
        "exit_group",
        "close_range",
    ] {
        assert_eq!(decide(&p, name, [0; 6]), Action::Allow);
    }
    for name in ["execve", "openat", "ptrace", "write", "mmap"] {
        assert_eq!(decide(&p, name, [0; 6]), Action::KillProcess, "{name}");
    }
}

#[test]
fn unconfined_takes_no_extra_names() {
    let ctx = Context {
        arch: Arch::X86_64,
        caps: vec![],
        kernel: (6, 18),
    };
    assert!(policy(&Choice::Unconfined, &[], &ctx).unwrap().is_none());
    assert!(policy(&Choice::Unconfined, &["read".into()], &ctx).is_err());
    assert!(Choice::parse("").is_err());
}

/// Calls Podman/Docker's default profile (containers-common) allows to a workload without
/// capabilities that ours refuses on purpose. It relies on dropped capabilities for most of
/// them; we refuse them outright (the mount family, namespaces, keyrings, ptrace and its
/// pidfd_getfd cousin, reboot, syslog, clock adjustment, modify_ldt, fanotify), filter them
/// by argument (socket families), or make libc fall back to a filterable call (clone3).
const STRICTER_THAN_DOCKER: &[&str] = &[
    "adjtimex",
    "clock_adjtime",
    "clone3",
    "fanotify_mark",
    "fsconfig",
    "fsmount",
    "fsopen",
    "fspick",
    "keyctl",
    "modify_ldt",
    "mount",
    "mount_setattr",
    "move_mount",
    "open_tree",
    "pidfd_getfd",
    "pivot_root",
    "ptrace",
    "reboot",
    "setns",
    "socket",
    "syslog",
    "umount2",
    "unshare",
];

#[test]
fn allows_at_least_what_dockers_default_allows() {
    let path = "/usr/share/containers/seccomp.json";
    let Ok(text) = std::fs::read_to_string(path) else {
        assert!(
            std::env::var("NUCLEUS_MUST_WORK").as_deref() != Ok("1"),
            "{path} missing"
        );
        eprintln!("SKIP: {path} not installed (package golang-github-containers-common)");
        return;
    };
    for arch in [Arch::X86_64, Arch::Aarch64] {
        let ctx = Context {
            arch,
            caps: vec![],
            kernel: (6, 18),
        };
        let docker = oci::parse(&text, &ctx).unwrap();
        let ours = default_profile::policy(arch, &[]);
        let mut missing = Vec::new();
        for &(name, nr) in tables::all(arch) {
            let d = SeccompData {
                nr,
                arch: arch.audit(),
                ip: 0,
                args: [0; 6],
            };
            if docker.evaluate(&d) == Action::Allow
                && ours.evaluate(&d) != Action::Allow
                && !STRICTER_THAN_DOCKER.contains(&name)
            {
                missing.push(name);
            }
        }
        assert!(
            missing.is_empty(),
            "{arch:?}: Docker allows, we do not: {missing:?}"
        );
    }
}

#[test]
fn the_programs_compiled_at_build_time_are_the_current_ones() {
    // build.rs compiles the default and init policies; a launch uses its bytes as they are.
    let arch = Arch::native().unwrap();
    let ctx = Context {
        arch,
        caps: vec![],
        kernel: (6, 18),
    };
    let built = programs(&Choice::Default, &[], None, &ctx).unwrap();
    let fresh = |p| nucleus_shared::seccomp::compile::to_bytes(&compile(&p).unwrap());
    assert_eq!(built.workload, fresh(default_profile::policy(arch, &[])));
    assert_eq!(built.init, fresh(init_policy(arch)));
    assert_eq!(built.workload_insns * 8, built.workload.len());
    let logged = programs(&Choice::Default, &[], Some(&watch::Mode::LogDenied), &ctx).unwrap();
    assert_eq!(
        (logged.workload, logged.workload_flags),
        (built.workload, 2)
    );
}
