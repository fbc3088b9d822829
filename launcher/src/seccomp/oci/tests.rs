//! The OCI/Docker profile reader: the containers-common profile as installed, a Docker-style
//! fixture, and one small inline profile per feature and per mistake.

use nucleus_shared::seccomp::arch::{AUDIT_ARCH_I386, Arch, X32_SYSCALL_BIT};
use nucleus_shared::seccomp::compile::compile;
use nucleus_shared::seccomp::interp::{SeccompData, run};
use nucleus_shared::seccomp::policy::{Action, ArgCond, Cmp, Policy, Rule};
use nucleus_shared::seccomp::tables;

use super::super::Context;
use super::parse;

const EPERM: Action = Action::Errno(1);
const EINVAL: Action = Action::Errno(22);
const ENOSYS: Action = Action::Errno(38);

const CONTAINERS_PROFILE: &str = "/usr/share/containers/seccomp.json";
const DOCKER_STYLE: &str = include_str!("../testdata/docker-style.json");

const CLONE_NEWUSER: u64 = 0x1000_0000;
const CLONE_NEWNS: u64 = 0x0002_0000;
const SIGCHLD: u64 = 17;
const AF_NETLINK: u64 = 16;
const NETLINK_AUDIT: u64 = 9;

fn ctx(arch: Arch, caps: &[&str], kernel: (u32, u32)) -> Context {
    Context {
        arch,
        caps: caps.iter().map(|c| c.to_string()).collect(),
        kernel,
    }
}

fn x86(caps: &[&str]) -> Context {
    ctx(Arch::X86_64, caps, (6, 18))
}

fn arm(caps: &[&str]) -> Context {
    ctx(Arch::Aarch64, caps, (6, 18))
}

fn ok(text: &str, c: &Context) -> Policy {
    parse(text, c).unwrap_or_else(|e| panic!("{e}\nprofile: {text}"))
}

fn err(text: &str) -> String {
    match parse(text, &x86(&[])) {
        Ok(p) => panic!("accepted: {text}\n{p:?}"),
        Err(e) => e,
    }
}

/// What the compiled program decides for `name(args)`, checked against the policy's reference
/// meaning.
fn decide(p: &Policy, name: &str, args: [u64; 6]) -> Action {
    let nr = tables::number(p.arch, name).unwrap_or_else(|| panic!("{name} on {:?}", p.arch));
    decide_data(
        p,
        SeccompData {
            nr,
            arch: p.arch.audit(),
            ip: 0,
            args,
        },
    )
}

fn decide_data(p: &Policy, d: SeccompData) -> Action {
    let prog = compile(p).unwrap_or_else(|e| panic!("{e:?}"));
    let action = Action::from_ret(run(&prog, &d).unwrap()).unwrap();
    assert_eq!(action, p.evaluate(&d), "{d:?}");
    action
}

fn call(p: &Policy, name: &str) -> Action {
    decide(p, name, [0; 6])
}

fn arg0(p: &Policy, name: &str, a0: u64) -> Action {
    decide(p, name, [a0, 0, 0, 0, 0, 0])
}

/// A profile with the given default action and one `syscalls[]` entry (JSON text).
fn one(default: &str, entry: &str) -> String {
    format!(r#"{{"defaultAction": "{default}", "syscalls": [{entry}]}}"#)
}

// ---- the containers-common profile ------------------------------------------------------------

/// The installed profile, or `None` (with the reason printed) when it is absent; with
/// NUCLEUS_MUST_WORK=1 its absence fails the test.
fn containers_profile() -> Option<String> {
    match std::fs::read_to_string(CONTAINERS_PROFILE) {
        Ok(text) => Some(text),
        Err(e) => {
            let reason = format!(
                "{CONTAINERS_PROFILE}: {e} (package golang-github-containers-common installs it)"
            );
            if std::env::var("NUCLEUS_MUST_WORK").as_deref() == Ok("1") {
                panic!("prerequisite missing and NUCLEUS_MUST_WORK=1: {reason}");
            }
            eprintln!("skipped: {reason}");
            None
        }
    }
}

#[test]
fn containers_profile_x86_64_without_caps() {
    let Some(text) = containers_profile() else {
        return;
    };
    let p = ok(&text, &x86(&[]));
    assert_eq!(p.arch, Arch::X86_64);
    // defaultAction SCMP_ACT_ERRNO with defaultErrnoRet 38.
    assert_eq!(p.default, ENOSYS);
    assert_eq!(p.foreign, Action::KillProcess);
    compile(&p).unwrap();

    for name in [
        "read",
        "write",
        "openat",
        "open",
        "close",
        "execve",
        "exit_group",
        "clone3",
        "arch_prctl",
        "modify_ldt",
        "epoll_wait_old",
    ] {
        assert_eq!(call(&p, name), Action::Allow, "{name}");
    }
    assert_eq!(arg0(&p, "clone", SIGCHLD), Action::Allow);

    // This profile (containers-common 0.50) has no argument filter on clone and allows the
    // mount and namespace calls outright; it leaves them to the capabilities.
    assert_eq!(arg0(&p, "clone", CLONE_NEWUSER | SIGCHLD), Action::Allow);
    assert_eq!(arg0(&p, "clone", CLONE_NEWNS | SIGCHLD), Action::Allow);
    for name in [
        "mount",
        "umount2",
        "unshare",
        "pivot_root",
        "reboot",
        "ptrace",
    ] {
        assert_eq!(call(&p, name), Action::Allow, "{name}");
    }
    // setns is in the big allow list and again in the CAP_SYS_ADMIN-only pair: the first
    // (unconditional) rule wins, here and in libseccomp.
    assert_eq!(call(&p, "setns"), Action::Allow);

    // Explicitly refused with EPERM.
    for name in [
        "kexec_load",
        "kexec_file_load",
        "userfaultfd",
        "swapon",
        "vmsplice",
        "move_pages",
        "bpf",
        "perf_event_open",
        "sethostname",
        "open_by_handle_at",
        "chroot",
        "init_module",
        "acct",
        "iopl",
        "clock_settime",
        "vhangup",
    ] {
        assert_eq!(call(&p, name), EPERM, "{name}");
    }
    // Not listed at all: the default.
    for name in ["add_key", "request_key", "io_uring_setup"] {
        assert_eq!(call(&p, name), ENOSYS, "{name}");
    }

    // personality: only the listed personas.
    for persona in [0, 8, 0x20000, 0x20008, 0xffff_ffff] {
        assert_eq!(
            arg0(&p, "personality", persona),
            Action::Allow,
            "{persona:#x}"
        );
    }
    for persona in [1, 0x0040_0000, 0x1_0000_0000] {
        assert_eq!(arg0(&p, "personality", persona), ENOSYS, "{persona:#x}");
    }

    // socket: audit netlink sockets get EINVAL without CAP_AUDIT_WRITE, all others pass.
    let socket = |dom, ty, proto| decide(&p, "socket", [dom, ty, proto, 0, 0, 0]);
    assert_eq!(socket(AF_NETLINK, 3, NETLINK_AUDIT), EINVAL);
    assert_eq!(socket(AF_NETLINK, 3, 0), Action::Allow);
    assert_eq!(socket(2, 1, 0), Action::Allow);
    assert_eq!(socket(2, 1, NETLINK_AUDIT), Action::Allow);

    // i386 and x32 calls never reach the rules.
    let nr = tables::number(Arch::X86_64, "read").unwrap();
    let i386 = SeccompData {
        nr: 3,
        arch: AUDIT_ARCH_I386,
        ip: 0,
        args: [0; 6],
    };
    assert_eq!(decide_data(&p, i386), Action::KillProcess);
    let x32 = SeccompData {
        nr: nr | X32_SYSCALL_BIT,
        arch: Arch::X86_64.audit(),
        ip: 0,
        args: [0; 6],
    };
    assert_eq!(decide_data(&p, x32), Action::KillProcess);
}

#[test]
fn containers_profile_x86_64_with_caps() {
    let Some(text) = containers_profile() else {
        return;
    };
    let p = ok(&text, &x86(&["CAP_SYS_ADMIN"]));
    compile(&p).unwrap();
    for name in [
        "bpf",
        "perf_event_open",
        "sethostname",
        "setdomainname",
        "fanotify_init",
        "quotactl",
        "setns",
    ] {
        assert_eq!(call(&p, name), Action::Allow, "{name}");
    }
    // Other capabilities' calls stay refused.
    for name in ["chroot", "init_module", "acct", "open_by_handle_at"] {
        assert_eq!(call(&p, name), EPERM, "{name}");
    }

    let p = ok(
        &text,
        &x86(&[
            "CAP_SYS_CHROOT",
            "CAP_DAC_READ_SEARCH",
            "CAP_SYS_MODULE",
            "CAP_AUDIT_WRITE",
        ]),
    );
    for name in [
        "chroot",
        "open_by_handle_at",
        "init_module",
        "delete_module",
    ] {
        assert_eq!(call(&p, name), Action::Allow, "{name}");
    }
    assert_eq!(call(&p, "bpf"), EPERM);
    assert_eq!(
        decide(&p, "socket", [AF_NETLINK, 3, NETLINK_AUDIT, 0, 0, 0]),
        Action::Allow
    );
}

#[test]
fn containers_profile_aarch64() {
    let Some(text) = containers_profile() else {
        return;
    };
    for caps in [&[][..], &["CAP_SYS_ADMIN"][..]] {
        let p = ok(&text, &arm(caps));
        assert_eq!(p.arch, Arch::Aarch64);
        assert_eq!(p.default, ENOSYS);
        compile(&p).unwrap();
        for name in [
            "read", "write", "openat", "close", "execve", "mount", "clone3",
        ] {
            assert_eq!(call(&p, name), Action::Allow, "{name}");
        }
        assert_eq!(arg0(&p, "clone", SIGCHLD), Action::Allow);
        assert_eq!(call(&p, "kexec_load"), EPERM);
        assert_eq!(arg0(&p, "personality", 8), Action::Allow);
        assert_eq!(arg0(&p, "personality", 1), ENOSYS);
        let admin = if caps.is_empty() {
            EPERM
        } else {
            Action::Allow
        };
        assert_eq!(call(&p, "bpf"), admin);
        // x86-only calls in the profile do not exist here and were skipped.
        assert!(tables::number(Arch::Aarch64, "open").is_none());
        assert!(tables::number(Arch::Aarch64, "arch_prctl").is_none());
    }
}

#[test]
fn containers_profile_rules_are_in_file_order() {
    let Some(text) = containers_profile() else {
        return;
    };
    let p = ok(&text, &x86(&[]));
    let nr = tables::number(Arch::X86_64, "socket").unwrap();
    let socket: Vec<&Rule> = p.rules.iter().filter(|r| r.nr == nr).collect();
    // syscalls[30] to [33]; [33] repeats [31] and is dropped.
    assert_eq!(socket.len(), 3, "{socket:?}");
    assert_eq!(socket[0].action, EINVAL);
    assert_eq!(
        socket[0].conds,
        [
            ArgCond {
                arg: 0,
                cmp: Cmp::Eq,
                value: AF_NETLINK
            },
            ArgCond {
                arg: 2,
                cmp: Cmp::Eq,
                value: NETLINK_AUDIT
            },
        ]
    );
    assert_eq!(socket[1].conds[0].cmp, Cmp::Ne);
    assert_eq!(socket[2].conds[0].cmp, Cmp::Ne);
    // No rule repeats the default action, and every call has at most one unconditional rule,
    // which is its last.
    for r in &p.rules {
        assert_ne!(r.action, p.default);
        let rest: Vec<&Rule> = p.rules.iter().filter(|s| s.nr == r.nr).collect();
        let uncond = rest.iter().filter(|s| s.conds.is_empty()).count();
        assert!(uncond <= 1);
        if uncond == 1 {
            assert!(rest.last().unwrap().conds.is_empty());
        }
    }
}

// ---- a Docker-style profile -------------------------------------------------------------------

#[test]
fn docker_style_without_caps() {
    for c in [x86(&[]), arm(&[])] {
        let p = ok(DOCKER_STYLE, &c);
        assert_eq!(p.default, EPERM, "defaultErrnoRet 1");
        for name in ["read", "write", "openat", "close", "exit_group"] {
            assert_eq!(call(&p, name), Action::Allow, "{name}");
        }
        // clone: only without namespace flags.
        assert_eq!(arg0(&p, "clone", SIGCHLD), Action::Allow);
        assert_eq!(
            arg0(&p, "clone", 0x003d_0f00),
            Action::Allow,
            "thread flags"
        );
        assert_eq!(arg0(&p, "clone", CLONE_NEWUSER | SIGCHLD), EPERM);
        assert_eq!(arg0(&p, "clone", CLONE_NEWNS), EPERM);
        // Bits above the mask's 32 do not matter.
        assert_eq!(arg0(&p, "clone", 1 << 40 | SIGCHLD), Action::Allow);
        assert_eq!(call(&p, "clone3"), ENOSYS);
        for name in ["mount", "unshare", "setns", "bpf", "reboot"] {
            assert_eq!(call(&p, name), EPERM, "{name}");
        }
        // minKernel 4.8 holds on 6.18; 99.0 does not; excludes minKernel 6.0 drops syslog.
        assert_eq!(call(&p, "ptrace"), Action::Allow);
        assert_eq!(call(&p, "io_uring_setup"), EPERM);
        assert_eq!(call(&p, "syslog"), EPERM);
        assert_eq!(arg0(&p, "personality", 0), Action::Allow);
        assert_eq!(arg0(&p, "personality", 0xffff_ffff), Action::Allow);
        assert_eq!(arg0(&p, "personality", 8), EPERM);
    }
}

#[test]
fn docker_style_arches() {
    let p = ok(DOCKER_STYLE, &x86(&[]));
    assert_eq!(call(&p, "arch_prctl"), Action::Allow);
    assert_eq!(call(&p, "chown"), Action::Allow);
    let p = ok(DOCKER_STYLE, &arm(&[]));
    // The arm/arm64 entry names only 32-bit arm calls: nothing of it exists on aarch64.
    let nrs: Vec<u32> = p.rules.iter().map(|r| r.nr).collect();
    let allowed: Vec<&str> = nrs
        .iter()
        .map(|&nr| tables::name(Arch::Aarch64, nr).unwrap())
        .collect();
    assert!(!allowed.contains(&"arch_prctl"));
    assert!(allowed.contains(&"fstat") && allowed.contains(&"newfstatat"));
}

#[test]
fn docker_style_with_caps_and_old_kernel() {
    let p = ok(DOCKER_STYLE, &x86(&["CAP_SYS_ADMIN"]));
    for name in ["mount", "unshare", "setns", "bpf", "clone3"] {
        assert_eq!(call(&p, name), Action::Allow, "{name}");
    }
    assert_eq!(arg0(&p, "clone", CLONE_NEWUSER | SIGCHLD), Action::Allow);
    // includes.caps needs all of them.
    assert_eq!(call(&p, "reboot"), EPERM);
    let p = ok(DOCKER_STYLE, &x86(&["CAP_SYS_ADMIN", "CAP_SYS_BOOT"]));
    assert_eq!(call(&p, "reboot"), Action::Allow);

    let p = ok(DOCKER_STYLE, &ctx(Arch::X86_64, &[], (4, 7)));
    assert_eq!(call(&p, "ptrace"), EPERM, "minKernel 4.8 on 4.7");
    assert_eq!(
        call(&p, "syslog"),
        Action::Allow,
        "excludes minKernel 6.0 on 4.7"
    );
    let p = ok(DOCKER_STYLE, &ctx(Arch::X86_64, &[], (4, 8)));
    assert_eq!(call(&p, "ptrace"), Action::Allow, "minKernel 4.8 on 4.8");
    let p = ok(DOCKER_STYLE, &ctx(Arch::X86_64, &[], (4, 10)));
    assert_eq!(call(&p, "ptrace"), Action::Allow, "4.10 is after 4.8");
}

// ---- actions, errno values, operators ---------------------------------------------------------

#[test]
fn every_action() {
    for (name, errno, want) in [
        ("SCMP_ACT_ALLOW", None, Action::Allow),
        ("SCMP_ACT_ERRNO", None, EPERM),
        ("SCMP_ACT_ERRNO", Some(13), Action::Errno(13)),
        ("SCMP_ACT_ERRNO", Some(0), Action::Errno(0)),
        ("SCMP_ACT_ERRNO", Some(4095), Action::Errno(4095)),
        ("SCMP_ACT_KILL", None, Action::KillThread),
        ("SCMP_ACT_KILL_THREAD", None, Action::KillThread),
        ("SCMP_ACT_KILL_PROCESS", None, Action::KillProcess),
        ("SCMP_ACT_TRAP", None, Action::Trap),
        ("SCMP_ACT_TRACE", None, Action::Trace(1)),
        ("SCMP_ACT_TRACE", Some(1234), Action::Trace(1234)),
        ("SCMP_ACT_TRACE", Some(65535), Action::Trace(65535)),
        ("SCMP_ACT_LOG", None, Action::Log),
    ] {
        let errno_field = errno.map_or(String::new(), |e| format!(r#", "errnoRet": {e}"#));
        // As a rule's action.
        let default = if want == Action::Allow {
            "SCMP_ACT_KILL_PROCESS"
        } else {
            "SCMP_ACT_ALLOW"
        };
        let text = one(
            default,
            &format!(r#"{{"names": ["getpid"], "action": "{name}"{errno_field}}}"#),
        );
        for c in [x86(&[]), arm(&[])] {
            let p = ok(&text, &c);
            assert_eq!(call(&p, "getpid"), want, "{name} {errno:?}");
            assert_ne!(call(&p, "getppid"), want, "{name} {errno:?}");
        }
        // As the default action.
        let errno_field = errno.map_or(String::new(), |e| format!(r#", "defaultErrnoRet": {e}"#));
        let text = format!(r#"{{"defaultAction": "{name}"{errno_field}}}"#);
        let p = ok(&text, &x86(&[]));
        assert_eq!(p.default, want, "{text}");
        assert!(p.rules.is_empty());
        assert_eq!(call(&p, "getpid"), want);
    }
}

#[test]
fn errno_defaults() {
    // No errnoRet, no defaultErrnoRet: EPERM both.
    let p = ok(
        &one(
            "SCMP_ACT_ERRNO",
            r#"{"names": ["read"], "action": "SCMP_ACT_ALLOW"}"#,
        ),
        &x86(&[]),
    );
    assert_eq!(p.default, EPERM);
    let p = ok(
        r#"{"defaultAction": "SCMP_ACT_ALLOW", "syscalls": [
            {"names": ["mount"], "action": "SCMP_ACT_ERRNO"},
            {"names": ["umount2"], "action": "SCMP_ACT_ERRNO", "errnoRet": 38},
            {"names": ["chroot"], "action": "SCMP_ACT_ERRNO", "errnoRet": null}]}"#,
        &x86(&[]),
    );
    assert_eq!(call(&p, "mount"), EPERM);
    assert_eq!(call(&p, "umount2"), ENOSYS);
    assert_eq!(call(&p, "chroot"), EPERM);
    // defaultErrnoRet does not leak into rules, nor errnoRet into the default.
    let p = ok(
        r#"{"defaultAction": "SCMP_ACT_ERRNO", "defaultErrnoRet": 38, "syscalls": [
            {"names": ["mount"], "action": "SCMP_ACT_ERRNO"}]}"#,
        &x86(&[]),
    );
    assert_eq!(p.default, ENOSYS);
    assert_eq!(call(&p, "mount"), EPERM);
}

#[test]
fn every_operator() {
    const V: u64 = 0x1_0000_0010;
    type Holds = fn(u64) -> bool;
    let ops: [(&str, u64, Holds); 7] = [
        ("SCMP_CMP_EQ", 0, |a| a == V),
        ("SCMP_CMP_NE", 0, |a| a != V),
        ("SCMP_CMP_LT", 0, |a| a < V),
        ("SCMP_CMP_LE", 0, |a| a <= V),
        ("SCMP_CMP_GT", 0, |a| a > V),
        ("SCMP_CMP_GE", 0, |a| a >= V),
        // (arg & V) == 0x10
        ("SCMP_CMP_MASKED_EQ", 0x10, |a| a & V == 0x10),
    ];
    for (op, value_two, holds) in ops {
        let text = one(
            "SCMP_ACT_ERRNO",
            &format!(
                r#"{{"names": ["ioctl"], "action": "SCMP_ACT_ALLOW",
                    "args": [{{"index": 1, "value": {V}, "valueTwo": {value_two}, "op": "{op}"}}]}}"#
            ),
        );
        let p = ok(&text, &x86(&[]));
        let samples = [
            0,
            1,
            0x10,
            0x1f,
            0xff10,
            0xffff_ffff,
            V - 1,
            V,
            V + 1,
            0x2_0000_0000,
            u64::MAX,
        ];
        for a1 in samples {
            let want = if holds(a1) { Action::Allow } else { EPERM };
            assert_eq!(
                decide(&p, "ioctl", [0, a1, 0, 0, 0, 0]),
                want,
                "{op} {a1:#x}"
            );
        }
    }
}

#[test]
fn masked_eq_with_value_two_outside_the_mask_is_refused() {
    // libseccomp versions disagree on whether (arg & 0xff) == 0x101 can ever hold.
    let e = parse(
        &one(
            "SCMP_ACT_ALLOW",
            r#"{"names": ["clone"], "action": "SCMP_ACT_ERRNO",
                "args": [{"index": 0, "value": 255, "valueTwo": 257, "op": "SCMP_CMP_MASKED_EQ"}]}"#,
        ),
        &x86(&[]),
    )
    .unwrap_err();
    assert!(
        e.contains("valueTwo") && e.contains("outside the mask"),
        "{e}"
    );
    let p = ok(
        &one(
            "SCMP_ACT_ALLOW",
            r#"{"names": ["clone"], "action": "SCMP_ACT_ERRNO",
                "args": [{"index": 0, "value": 255, "valueTwo": 1, "op": "SCMP_CMP_MASKED_EQ"}]}"#,
        ),
        &x86(&[]),
    );
    assert_eq!(
        p.rules[0].conds,
        [ArgCond {
            arg: 0,
            cmp: Cmp::MaskedEq(255),
            value: 1
        }]
    );
    assert_eq!(arg0(&p, "clone", 0x301), EPERM);
    assert_eq!(arg0(&p, "clone", 0x302), Action::Allow);
}

#[test]
fn several_args_are_anded_and_several_entries_are_alternatives() {
    let p = ok(
        &one(
            "SCMP_ACT_ERRNO",
            r#"{"names": ["mmap"], "action": "SCMP_ACT_ALLOW", "args": [
                    {"index": 2, "value": 4, "op": "SCMP_CMP_MASKED_EQ", "valueTwo": 0},
                    {"index": 3, "value": 1, "op": "SCMP_CMP_EQ"}]},
               {"names": ["mmap"], "action": "SCMP_ACT_ALLOW", "args": [
                    {"index": 4, "value": 100, "op": "SCMP_CMP_GT"}]}"#,
        ),
        &x86(&[]),
    );
    let mmap = |a2, a3, a4| decide(&p, "mmap", [0, 0, a2, a3, a4, 0]);
    assert_eq!(mmap(3, 1, 0), Action::Allow);
    assert_eq!(mmap(7, 1, 0), EPERM, "PROT_EXEC");
    assert_eq!(mmap(3, 2, 0), EPERM);
    assert_eq!(mmap(7, 2, 101), Action::Allow, "second entry");
}

// ---- includes and excludes --------------------------------------------------------------------

fn gated(filter: &str) -> String {
    one(
        "SCMP_ACT_ERRNO",
        &format!(r#"{{"names": ["getpid"], "action": "SCMP_ACT_ALLOW", {filter}}}"#),
    )
}

fn applies(filter: &str, c: &Context) -> bool {
    let p = ok(&gated(filter), c);
    match call(&p, "getpid") {
        Action::Allow => true,
        a => {
            assert_eq!(a, EPERM);
            false
        }
    }
}

#[test]
fn includes_and_excludes_by_arch() {
    for (names, on_x86, on_arm) in [
        (r#"["amd64"]"#, true, false),
        (r#"["x86_64"]"#, true, false),
        (r#"["arm64"]"#, false, true),
        (r#"["aarch64"]"#, false, true),
        (r#"["x86", "x32", "arm"]"#, false, false),
        (r#"["s390x", "amd64", "arm64"]"#, true, true),
        (r#"["no-such-arch"]"#, false, false),
        ("[]", true, true),
        ("null", true, true),
    ] {
        let inc = format!(r#""includes": {{"arches": {names}}}"#);
        assert_eq!(applies(&inc, &x86(&[])), on_x86, "{inc}");
        assert_eq!(applies(&inc, &arm(&[])), on_arm, "{inc}");
        let exc = format!(r#""excludes": {{"arches": {names}}}"#);
        let listed = names != "[]" && names != "null";
        assert_eq!(applies(&exc, &x86(&[])), !on_x86 || !listed, "{exc}");
        assert_eq!(applies(&exc, &arm(&[])), !on_arm || !listed, "{exc}");
    }
}

#[test]
fn includes_and_excludes_by_caps() {
    let admin = x86(&["CAP_SYS_ADMIN"]);
    let both = x86(&["CAP_SYS_ADMIN", "CAP_NET_ADMIN"]);
    let none = x86(&[]);
    let inc_one = r#""includes": {"caps": ["CAP_SYS_ADMIN"]}"#;
    let inc_two = r#""includes": {"caps": ["CAP_SYS_ADMIN", "CAP_NET_ADMIN"]}"#;
    let exc_one = r#""excludes": {"caps": ["CAP_SYS_ADMIN"]}"#;
    let exc_two = r#""excludes": {"caps": ["CAP_NET_ADMIN", "CAP_SYS_ADMIN"]}"#;
    assert!(applies(inc_one, &admin) && applies(inc_one, &both) && !applies(inc_one, &none));
    // includes: all of them.
    assert!(!applies(inc_two, &admin) && applies(inc_two, &both));
    // excludes: any of them.
    assert!(!applies(exc_one, &admin) && applies(exc_one, &none));
    assert!(!applies(exc_two, &admin) && !applies(exc_two, &both) && applies(exc_two, &none));
    // Case matters, as in Docker.
    assert!(!applies(
        r#""includes": {"caps": ["cap_sys_admin"]}"#,
        &admin
    ));
    // Both at once: includes and not excluded.
    let mixed =
        r#""includes": {"caps": ["CAP_SYS_ADMIN"]}, "excludes": {"caps": ["CAP_NET_ADMIN"]}"#;
    assert!(applies(mixed, &admin) && !applies(mixed, &both) && !applies(mixed, &none));
}

#[test]
fn includes_and_excludes_by_kernel() {
    let on = |k| ctx(Arch::X86_64, &[], k);
    let inc = r#""includes": {"minKernel": "5.8"}"#;
    let exc = r#""excludes": {"minKernel": "5.8"}"#;
    for (kernel, newer) in [
        ((4, 19), false),
        ((5, 7), false),
        ((5, 8), true),
        ((5, 10), true),
        ((6, 0), true),
        ((6, 18), true),
    ] {
        assert_eq!(applies(inc, &on(kernel)), newer, "{kernel:?}");
        assert_eq!(applies(exc, &on(kernel)), !newer, "{kernel:?}");
    }
    assert!(applies(r#""includes": {"minKernel": null}"#, &on((3, 0))));
    // Unknown keys in a filter are ignored.
    assert!(applies(
        r#""includes": {"comment": "x", "minKernel": "3.0"}"#,
        &on((3, 0))
    ));
}

// ---- names ------------------------------------------------------------------------------------

#[test]
fn legacy_name_field() {
    let text = one(
        "SCMP_ACT_ERRNO",
        r#"{"name": "getpid", "action": "SCMP_ACT_ALLOW"},
           {"name": "chown32", "action": "SCMP_ACT_ALLOW"}"#,
    );
    for c in [x86(&[]), arm(&[])] {
        let p = ok(&text, &c);
        assert_eq!(p.rules.len(), 1, "chown32 is skipped");
        assert_eq!(call(&p, "getpid"), Action::Allow);
        assert_eq!(call(&p, "getppid"), EPERM);
    }
}

#[test]
fn names_of_other_architectures_are_skipped() {
    let text = one(
        "SCMP_ACT_ERRNO",
        r#"{"names": ["_llseek", "open", "arm_fadvise64_64", "set_tls", "s390_runtime_instr",
                      "riscv_flush_icache", "getpid", "time", "ugetrlimit"],
            "action": "SCMP_ACT_ALLOW"}"#,
    );
    let p = ok(&text, &x86(&[]));
    let names: Vec<&str> = p
        .rules
        .iter()
        .map(|r| tables::name(Arch::X86_64, r.nr).unwrap())
        .collect();
    assert_eq!(names, ["open", "getpid", "time"]);
    let p = ok(&text, &arm(&[]));
    let names: Vec<&str> = p
        .rules
        .iter()
        .map(|r| tables::name(Arch::Aarch64, r.nr).unwrap())
        .collect();
    assert_eq!(names, ["getpid"]);
}

#[test]
fn empty_and_absent_lists() {
    for text in [
        r#"{"defaultAction": "SCMP_ACT_ALLOW"}"#,
        r#"{"defaultAction": "SCMP_ACT_ALLOW", "syscalls": null, "architectures": null,
            "flags": null, "archMap": null, "listenerPath": ""}"#,
        r#"{"defaultAction": "SCMP_ACT_ALLOW", "syscalls": [], "architectures": [], "flags": []}"#,
        &one(
            "SCMP_ACT_ALLOW",
            r#"{"names": [], "action": "SCMP_ACT_ERRNO", "args": null, "includes": null}"#,
        ),
    ] {
        let p = ok(text, &x86(&[]));
        assert_eq!(p.default, Action::Allow);
        assert!(p.rules.is_empty(), "{text}");
    }
}

// ---- architectures, flags, unknown fields -----------------------------------------------------

#[test]
fn architectures_and_flags() {
    let text = r#"{
        "defaultAction": "SCMP_ACT_ERRNO",
        "architectures": ["SCMP_ARCH_X86_64", "SCMP_ARCH_X86", "SCMP_ARCH_X32", "SCMP_ARCH_AARCH64"],
        "flags": ["SECCOMP_FILTER_FLAG_TSYNC", "SECCOMP_FILTER_FLAG_TSYNC_ESRCH"],
        "syscalls": [{"names": ["read"], "action": "SCMP_ACT_ALLOW"}]
    }"#;
    for c in [x86(&[]), arm(&[])] {
        assert_eq!(call(&ok(text, &c), "read"), Action::Allow);
    }
    // Flags that would change what the filter does are refused, not dropped.
    for flag in [
        "SECCOMP_FILTER_FLAG_LOG",
        "SECCOMP_FILTER_FLAG_SPEC_ALLOW",
        "SECCOMP_FILTER_FLAG_NEW_LISTENER",
        "SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV",
    ] {
        let text = format!(
            r#"{{"defaultAction": "SCMP_ACT_ERRNO", "flags": ["SECCOMP_FILTER_FLAG_TSYNC", "{flag}"]}}"#
        );
        assert_eq!(
            parse(&text, &x86(&[])).unwrap_err(),
            format!("flags[1]: {flag} is not supported")
        );
    }
    let notify = r#"{"defaultAction": "SCMP_ACT_ERRNO",
        "syscalls": [{"names": ["read"], "action": "SCMP_ACT_NOTIFY"}]}"#;
    assert!(
        parse(notify, &x86(&[]))
            .unwrap_err()
            .contains("SCMP_ACT_NOTIFY needs a user-notification listener")
    );
    let only_x86 = r#"{"defaultAction": "SCMP_ACT_ERRNO", "architectures": ["SCMP_ARCH_X86_64"]}"#;
    ok(only_x86, &x86(&[]));
    let e = parse(only_x86, &arm(&[])).unwrap_err();
    assert_eq!(
        e,
        "architectures: the profile is for SCMP_ARCH_X86_64, not for SCMP_ARCH_AARCH64"
    );
    let map = r#"{"defaultAction": "SCMP_ACT_ERRNO", "archMap": [
        {"architecture": "SCMP_ARCH_AARCH64", "subArchitectures": ["SCMP_ARCH_ARM"]}]}"#;
    ok(map, &arm(&[]));
    let e = parse(map, &x86(&[])).unwrap_err();
    assert_eq!(
        e,
        "archMap: the profile is for SCMP_ARCH_AARCH64, not for SCMP_ARCH_X86_64"
    );
}

#[test]
fn unknown_fields_are_ignored() {
    let text = r#"{
        "defaultAction": "SCMP_ACT_ERRNO", "defaultErrno": "ENOSYS", "comment": {"a": [1, 2]},
        "syscalls": [{"names": ["read"], "action": "SCMP_ACT_ALLOW", "comment": "reads",
                      "errno": "EPERM", "future": true,
                      "args": [{"index": 0, "value": 0, "op": "SCMP_CMP_EQ", "note": 1}]}]
    }"#;
    let p = ok(text, &x86(&[]));
    assert_eq!(p.rules.len(), 1);
}

// ---- rule order and the libseccomp corners ----------------------------------------------------

#[test]
fn first_unconditional_rule_wins_and_later_ones_are_dropped() {
    let p = ok(
        &one(
            "SCMP_ACT_ERRNO",
            r#"{"names": ["setns"], "action": "SCMP_ACT_ALLOW"},
               {"names": ["setns"], "action": "SCMP_ACT_ERRNO", "errnoRet": 13},
               {"names": ["setns"], "action": "SCMP_ACT_LOG",
                "args": [{"index": 1, "value": 0, "op": "SCMP_CMP_EQ"}]}"#,
        ),
        &x86(&[]),
    );
    assert_eq!(p.rules.len(), 1);
    assert_eq!(call(&p, "setns"), Action::Allow);
}

#[test]
fn rules_after_an_unconditional_one_never_conflict() {
    let p = ok(
        &one(
            "SCMP_ACT_KILL_PROCESS",
            r#"{"names": ["personality"], "action": "SCMP_ACT_ALLOW",
                "args": [{"index": 0, "value": 0, "op": "SCMP_CMP_EQ"}]},
               {"names": ["personality"], "action": "SCMP_ACT_ALLOW"},
               {"names": ["personality"], "action": "SCMP_ACT_ERRNO", "errnoRet": 13},
               {"names": ["personality"], "action": "SCMP_ACT_KILL_PROCESS"}"#,
        ),
        &x86(&[]),
    );
    assert_eq!(p.rules.len(), 2);
    assert_eq!(arg0(&p, "personality", 0), Action::Allow);
    assert_eq!(arg0(&p, "personality", 5), Action::Allow);
}

#[test]
fn rules_with_the_default_action_are_dropped() {
    let p = ok(
        &one(
            "SCMP_ACT_ERRNO",
            r#"{"names": ["mount"], "action": "SCMP_ACT_ERRNO", "errnoRet": 1},
               {"names": ["read"], "action": "SCMP_ACT_ALLOW"},
               {"names": ["mount"], "action": "SCMP_ACT_ERRNO"},
               {"names": ["ptrace"], "action": "SCMP_ACT_ALLOW",
                "args": [{"index": 0, "value": 16, "op": "SCMP_CMP_NE"}]},
               {"names": ["ptrace"], "action": "SCMP_ACT_ERRNO",
                "args": [{"index": 0, "value": 16, "op": "SCMP_CMP_EQ"}]}"#,
        ),
        &x86(&[]),
    );
    let names: Vec<&str> = p
        .rules
        .iter()
        .map(|r| tables::name(Arch::X86_64, r.nr).unwrap())
        .collect();
    assert_eq!(names, ["read", "ptrace"]);
    assert_eq!(arg0(&p, "ptrace", 16), EPERM);
    assert_eq!(arg0(&p, "ptrace", 0), Action::Allow);
}

#[test]
fn a_default_action_rule_before_a_disjoint_one_is_fine() {
    // The containers-common socket pattern, with the default errno.
    let p = ok(
        &one(
            "SCMP_ACT_ERRNO",
            r#"{"names": ["socket"], "action": "SCMP_ACT_ERRNO", "args": [
                    {"index": 0, "value": 16, "op": "SCMP_CMP_EQ"},
                    {"index": 2, "value": 9, "op": "SCMP_CMP_EQ"}]},
               {"names": ["socket"], "action": "SCMP_ACT_ALLOW", "args": [
                    {"index": 2, "value": 9, "op": "SCMP_CMP_NE"}]},
               {"names": ["socket"], "action": "SCMP_ACT_ALLOW", "args": [
                    {"index": 0, "value": 16, "op": "SCMP_CMP_NE"}]},
               {"names": ["socket"], "action": "SCMP_ACT_ALLOW", "args": [
                    {"index": 0, "value": 8, "op": "SCMP_CMP_LT"}]},
               {"names": ["socket"], "action": "SCMP_ACT_ALLOW", "args": [
                    {"index": 0, "value": 16, "op": "SCMP_CMP_GT"}]},
               {"names": ["socket"], "action": "SCMP_ACT_ALLOW", "args": [
                    {"index": 0, "value": 240, "valueTwo": 0, "op": "SCMP_CMP_MASKED_EQ"}]}"#,
        ),
        &x86(&[]),
    );
    assert_eq!(p.rules.len(), 5);
    let socket = |dom, proto| decide(&p, "socket", [dom, 3, proto, 0, 0, 0]);
    assert_eq!(socket(16, 9), EPERM);
    assert_eq!(socket(16, 0), Action::Allow);
    assert_eq!(socket(2, 9), Action::Allow);
}

#[test]
fn order_dependent_profiles_are_refused() {
    // A rule with the default action hides a later one here; runc and crun skip it.
    let e = err(&one(
        "SCMP_ACT_ERRNO",
        r#"{"names": ["read", "ptrace"], "action": "SCMP_ACT_ERRNO"},
           {"names": ["ptrace"], "action": "SCMP_ACT_ALLOW"}"#,
    ));
    assert!(
        e.starts_with(r#"syscalls[1]: its rule for "ptrace" conflicts with syscalls[0]: "#),
        "{e}"
    );
    let e = err(&one(
        "SCMP_ACT_ERRNO",
        r#"{"names": ["ptrace"], "action": "SCMP_ACT_ERRNO",
            "args": [{"index": 0, "value": 16, "op": "SCMP_CMP_GE"}]},
           {"names": ["ptrace"], "action": "SCMP_ACT_ALLOW",
            "args": [{"index": 0, "value": 20, "op": "SCMP_CMP_LE"}]}"#,
    ));
    assert!(e.contains("default action"), "{e}");
    // An unconditional rule after conditional ones with another action replaces them in
    // libseccomp.
    let e = err(&one(
        "SCMP_ACT_KILL_PROCESS",
        r#"{"names": ["personality"], "action": "SCMP_ACT_ALLOW",
            "args": [{"index": 0, "value": 0, "op": "SCMP_CMP_EQ"}]},
           {"names": ["getpid", "personality"], "action": "SCMP_ACT_ERRNO"}"#,
    ));
    assert!(
        e.starts_with(r#"syscalls[1]: its rule for "personality" conflicts with syscalls[0]: "#),
        "{e}"
    );
    assert!(e.contains("unconditional"), "{e}");
    // The same with the same action is fine.
    ok(
        &one(
            "SCMP_ACT_KILL_PROCESS",
            r#"{"names": ["personality"], "action": "SCMP_ACT_ALLOW",
                "args": [{"index": 0, "value": 0, "op": "SCMP_CMP_EQ"}]},
               {"names": ["personality"], "action": "SCMP_ACT_ALLOW"}"#,
        ),
        &x86(&[]),
    );
    // A conflict only in entries that do not apply is no conflict.
    ok(
        &one(
            "SCMP_ACT_ERRNO",
            r#"{"names": ["ptrace"], "action": "SCMP_ACT_ERRNO",
                "includes": {"caps": ["CAP_SYS_PTRACE"]}},
               {"names": ["ptrace"], "action": "SCMP_ACT_ALLOW"}"#,
        ),
        &x86(&[]),
    );
}

// ---- mistakes ---------------------------------------------------------------------------------

#[test]
fn malformed_json() {
    let e = err("{\n  \"defaultAction\": \"SCMP_ACT_ALLOW\",\n  \"syscalls\": [\n    {,");
    let prefix = "malformed JSON at line 4 column 6: ";
    assert!(e.starts_with(prefix), "{e}");
    assert!(!e[prefix.len()..].contains(" at line"), "{e}");
    let e = err("");
    assert!(e.starts_with("malformed JSON at line 1 column 0: "), "{e}");
    let e = err(r#"{"defaultAction": "SCMP_ACT_ALLOW"} trailing"#);
    assert!(e.starts_with("malformed JSON at line 1 column "), "{e}");
}

#[test]
fn bad_inputs_name_the_field() {
    let entry = |e: &str| one("SCMP_ACT_ERRNO", e);
    let cases: Vec<(String, &str)> = vec![
        ("[]".into(), "the profile must be a JSON object, found an array"),
        ("{}".into(), "defaultAction is missing"),
        (
            r#"{"defaultAction": 1}"#.into(),
            "defaultAction: expected a string, found the number 1",
        ),
        (
            r#"{"defaultAction": "SCMP_ACT_FOO"}"#.into(),
            r#"defaultAction: unknown action "SCMP_ACT_FOO""#,
        ),
        (
            r#"{"defaultAction": "SCMP_ACT_ERRNO", "defaultErrnoRet": 4096}"#.into(),
            "defaultErrnoRet: 4096 is out of range for SCMP_ACT_ERRNO (at most 4095)",
        ),
        (
            r#"{"defaultAction": "SCMP_ACT_ERRNO", "defaultErrnoRet": -1}"#.into(),
            "defaultErrnoRet: -1 is negative",
        ),
        (
            r#"{"defaultAction": "SCMP_ACT_ALLOW", "defaultErrnoRet": 1}"#.into(),
            "defaultErrnoRet: SCMP_ACT_ALLOW takes no return value (only SCMP_ACT_ERRNO and \
             SCMP_ACT_TRACE do)",
        ),
        (
            r#"{"defaultAction": "SCMP_ACT_ALLOW", "listenerPath": "/run/agent.sock"}"#.into(),
            "listenerPath: seccomp user notification listeners are not supported",
        ),
        (
            r#"{"defaultAction": "SCMP_ACT_ALLOW", "listenerMetadata": "x"}"#.into(),
            "listenerMetadata: seccomp user notification listeners are not supported",
        ),
        (
            r#"{"defaultAction": "SCMP_ACT_ALLOW", "flags": ["SECCOMP_FILTER_FLAG_FOO"]}"#.into(),
            r#"flags[0]: unknown flag "SECCOMP_FILTER_FLAG_FOO""#,
        ),
        (
            r#"{"defaultAction": "SCMP_ACT_ALLOW", "architectures": ["SCMP_ARCH_X86", "x86_64"]}"#
                .into(),
            r#"architectures[1]: unknown architecture "x86_64""#,
        ),
        (
            r#"{"defaultAction": "SCMP_ACT_ALLOW", "architectures": ["SCMP_ARCH_AARCH64", "SCMP_ARCH_ARM"]}"#
                .into(),
            "architectures: the profile is for SCMP_ARCH_AARCH64, SCMP_ARCH_ARM, not for \
             SCMP_ARCH_X86_64",
        ),
        (
            r#"{"defaultAction": "SCMP_ACT_ALLOW", "architectures": ["SCMP_ARCH_X86_64"],
                "archMap": [{"architecture": "SCMP_ARCH_X86_64"}]}"#
                .into(),
            "architectures and archMap are both given; use one of them, as Docker requires",
        ),
        (
            r#"{"defaultAction": "SCMP_ACT_ALLOW", "archMap": [{"architecture": "SCMP_ARCH_X86_64",
                "subArchitectures": ["SCMP_ARCH_I386"]}]}"#
                .into(),
            r#"archMap[0].subArchitectures[0]: unknown architecture "SCMP_ARCH_I386""#,
        ),
        (
            r#"{"defaultAction": "SCMP_ACT_ALLOW", "syscalls": {}}"#.into(),
            "syscalls: expected an array, found an object",
        ),
        (
            r#"{"defaultAction": "SCMP_ACT_ALLOW", "syscalls": ["read"]}"#.into(),
            r#"syscalls[0]: expected an object, found the string "read""#,
        ),
        (
            entry(r#"{"names": ["read"], "action": "SCMP_ACT_FOO"}"#),
            r#"syscalls[0].action: unknown action "SCMP_ACT_FOO""#,
        ),
        (
            entry(r#"{"names": ["read"]}"#),
            "syscalls[0].action is missing",
        ),
        (
            entry(r#"{"action": "SCMP_ACT_ALLOW"}"#),
            "syscalls[0]: names is missing",
        ),
        (
            entry(r#"{"names": ["read"], "name": "write", "action": "SCMP_ACT_ALLOW"}"#),
            "syscalls[0]: has both names and name; use one of them",
        ),
        (
            entry(r#"{"names": ["read", "write", "foo"], "action": "SCMP_ACT_ALLOW"}"#),
            r#"syscalls[0].names[2]: unknown system call "foo""#,
        ),
        (
            entry(r#"{"name": "definitely_not_a_syscall", "action": "SCMP_ACT_ALLOW"}"#),
            r#"syscalls[0].name: unknown system call "definitely_not_a_syscall""#,
        ),
        (
            entry(r#"{"names": "read", "action": "SCMP_ACT_ALLOW"}"#),
            r#"syscalls[0].names: expected an array of strings, found the string "read""#,
        ),
        (
            entry(r#"{"names": ["read", 3], "action": "SCMP_ACT_ALLOW"}"#),
            "syscalls[0].names[1]: expected a string, found the number 3",
        ),
        (
            entry(r#"{"names": ["read"], "action": "SCMP_ACT_ERRNO", "errnoRet": 5000}"#),
            "syscalls[0].errnoRet: 5000 is out of range for SCMP_ACT_ERRNO (at most 4095)",
        ),
        (
            entry(r#"{"names": ["read"], "action": "SCMP_ACT_TRACE", "errnoRet": 65536}"#),
            "syscalls[0].errnoRet: 65536 is out of range for SCMP_ACT_TRACE (at most 65535)",
        ),
        (
            entry(r#"{"names": ["read"], "action": "SCMP_ACT_ERRNO", "errnoRet": "EPERM"}"#),
            r#"syscalls[0].errnoRet: expected a number, found the string "EPERM""#,
        ),
        (
            entry(r#"{"names": ["read"], "action": "SCMP_ACT_KILL", "errnoRet": 1}"#),
            "syscalls[0].errnoRet: SCMP_ACT_KILL takes no return value (only SCMP_ACT_ERRNO and \
             SCMP_ACT_TRACE do)",
        ),
        (
            entry(
                r#"{"names": ["read"], "action": "SCMP_ACT_ALLOW",
                    "args": [{"index": 0, "value": 1, "op": "SCMP_CMP_FOO"}]}"#,
            ),
            r#"syscalls[0].args[0].op: unknown operator "SCMP_CMP_FOO""#,
        ),
        (
            entry(
                r#"{"names": ["read"], "action": "SCMP_ACT_ALLOW",
                    "args": [{"index": 6, "value": 1, "op": "SCMP_CMP_EQ"}]}"#,
            ),
            "syscalls[0].args[0].index: 6 is too large (at most 5)",
        ),
        (
            entry(
                r#"{"names": ["read"], "action": "SCMP_ACT_ALLOW",
                    "args": [{"value": 1, "op": "SCMP_CMP_EQ"}]}"#,
            ),
            "syscalls[0].args[0].index is missing",
        ),
        (
            entry(
                r#"{"names": ["read"], "action": "SCMP_ACT_ALLOW",
                    "args": [{"index": 0, "value": "1", "op": "SCMP_CMP_EQ"}]}"#,
            ),
            r#"syscalls[0].args[0].value: expected a number, found the string "1""#,
        ),
        (
            entry(
                r#"{"names": ["read"], "action": "SCMP_ACT_ALLOW",
                    "args": [{"index": 0, "value": -5, "op": "SCMP_CMP_EQ"}]}"#,
            ),
            "syscalls[0].args[0].value: -5 is negative",
        ),
        (
            entry(
                r#"{"names": ["read"], "action": "SCMP_ACT_ALLOW",
                    "args": [{"index": 0, "value": 1.5, "op": "SCMP_CMP_EQ"}]}"#,
            ),
            "syscalls[0].args[0].value: 1.5 is not a whole number",
        ),
        (
            entry(
                r#"{"names": ["read"], "action": "SCMP_ACT_ALLOW",
                    "args": [{"index": 0, "value": 18446744073709551616, "op": "SCMP_CMP_EQ"}]}"#,
            ),
            "syscalls[0].args[0].value: 1.8446744073709552e+19 is too large (at most \
             18446744073709551615)",
        ),
        (
            entry(
                r#"{"names": ["read"], "action": "SCMP_ACT_ALLOW",
                    "args": [{"index": 0, "value": 1, "valueTwo": -1, "op": "SCMP_CMP_MASKED_EQ"}]}"#,
            ),
            "syscalls[0].args[0].valueTwo: -1 is negative",
        ),
        (
            entry(
                r#"{"names": ["read"], "action": "SCMP_ACT_ALLOW",
                    "args": [{"index": 0, "value": 1}]}"#,
            ),
            "syscalls[0].args[0].op is missing",
        ),
        (
            entry(
                r#"{"names": ["read"], "action": "SCMP_ACT_ALLOW", "args": [
                    {"index": 0, "value": 1, "op": "SCMP_CMP_GE"},
                    {"index": 0, "value": 5, "op": "SCMP_CMP_LE"}]}"#,
            ),
            "syscalls[0].args[1]: a second condition on argument 0 (after args[0]); runc and \
             crun would OR them and libseccomp refuses them: write one entry per condition",
        ),
        (
            entry(r#"{"names": ["read"], "action": "SCMP_ACT_ALLOW", "args": {}}"#),
            "syscalls[0].args: expected an array, found an object",
        ),
        (
            entry(
                r#"{"names": ["read"], "action": "SCMP_ACT_ALLOW", "includes": {"minKernel": "5"}}"#,
            ),
            r#"syscalls[0].includes.minKernel: expected a kernel version "MAJOR.MINOR" such as "5.8", found the string "5""#,
        ),
        (
            entry(
                r#"{"names": ["read"], "action": "SCMP_ACT_ALLOW", "excludes": {"minKernel": 5.8}}"#,
            ),
            r#"syscalls[0].excludes.minKernel: expected a kernel version "MAJOR.MINOR" such as "5.8", found the number 5.8"#,
        ),
        (
            entry(
                r#"{"names": ["read"], "action": "SCMP_ACT_ALLOW", "excludes": {"minKernel": "5.8.1"}}"#,
            ),
            r#"syscalls[0].excludes.minKernel: expected a kernel version "MAJOR.MINOR" such as "5.8", found the string "5.8.1""#,
        ),
        (
            entry(r#"{"names": ["read"], "action": "SCMP_ACT_ALLOW", "includes": {"caps": "CAP_X"}}"#),
            r#"syscalls[0].includes.caps: expected an array of strings, found the string "CAP_X""#,
        ),
        (
            entry(r#"{"names": ["read"], "action": "SCMP_ACT_ALLOW", "excludes": []}"#),
            "syscalls[0].excludes: expected an object, found an array",
        ),
    ];
    for (text, want) in cases {
        assert_eq!(err(&text), want, "profile: {text}");
    }
}

#[test]
fn mistakes_in_entries_that_do_not_apply_are_still_errors() {
    // The same profile must be refused on every host, whatever its capabilities and kernel.
    for filter in [
        r#""includes": {"caps": ["CAP_SYS_ADMIN"]}"#,
        r#""includes": {"arches": ["s390x"]}"#,
        r#""excludes": {"minKernel": "3.0"}"#,
    ] {
        let e = err(&one(
            "SCMP_ACT_ERRNO",
            &format!(r#"{{"names": ["read"], "action": "SCMP_ACT_ALOW", {filter}}}"#),
        ));
        assert_eq!(e, r#"syscalls[0].action: unknown action "SCMP_ACT_ALOW""#);
        let e = err(&one(
            "SCMP_ACT_ERRNO",
            &format!(r#"{{"names": ["raed"], "action": "SCMP_ACT_ALLOW", {filter}}}"#),
        ));
        assert_eq!(e, r#"syscalls[0].names[0]: unknown system call "raed""#);
    }
}

#[test]
fn every_error_is_one_line() {
    let e = err(&one(
        "SCMP_ACT_ERRNO",
        r#"{"names": ["read"], "action": "SCMP_ACT_ERRNO"},
           {"names": ["read"], "action": "SCMP_ACT_ALLOW"}"#,
    ));
    assert!(!e.contains('\n'), "{e}");
    assert!(!err("{\n\n").contains('\n'));
}
