//! Seccomp from inside real sandboxes: the default filter's denials (EPERM), unknown calls
//! (ENOSYS), argument filters (clone, socket, ioctl, personality, prctl), foreign
//! architectures (killed: exit 159), `--seccomp-allow`, OCI/Docker profiles, and refusals of
//! bad profiles. Whatever a test expects of the filter, it also shows that the probe sees
//! something else under `--seccomp unconfined`, so a test cannot pass by not testing.
//!
//! The probe runs as root with nearly every capability: every call it makes has arguments
//! under which the kernel refuses it (EFAULT, EINVAL, EBADF ...) should the filter let it
//! through (see `tests/probe/sys.rs`).

#[path = "../harness/mod.rs"]
mod harness;

use std::path::Path;

use harness::{
    Outcome, TempRoot, in_default_root, in_rootfs, nucleus, processes_with, skip, skip_unless_root,
};

/// Exit status of a sandbox whose workload was killed by SIGSYS.
const KILLED_BY_SIGSYS: i32 = 128 + libc::SIGSYS;
const UNCONFINED: &[&str] = &["--seccomp", "unconfined"];
/// Podman's (containers-common's) seccomp profile, a Docker profile.
const CONTAINERS_PROFILE: &str = "/usr/share/containers/seccomp.json";

/// `syscall NAME ARGS...` in `root` with launcher options `opts`: the result (`ok`, `EPERM`).
fn syscall(root: &TempRoot, opts: &[&str], name: &str, args: &[&str]) -> String {
    let mut verb = vec!["syscall", name];
    verb.extend(args);
    let out = in_rootfs(root, opts, &verb);
    out.assert_ok();
    out.value(&format!("syscall {name}")).to_owned()
}

/// The value of a `Key:` line of a /proc/PID/status printed by the probe's `read` verb.
fn status_field<'a>(out: &'a Outcome, key: &str) -> &'a str {
    out.stdout
        .lines()
        .map(|l| l.rsplit_once('=').map_or(l, |(_, v)| v)) // the first line: `read PATH=Name:`
        .find_map(|l| l.strip_prefix(key)?.strip_prefix(':'))
        .map(str::trim)
        .unwrap_or_else(|| panic!("no {key}: in the status\n{out}"))
}

fn status(root: &TempRoot, opts: &[&str], pid: &str) -> Outcome {
    let out = in_rootfs(root, opts, &["read", &format!("/proc/{pid}/status")]);
    out.assert_ok();
    out
}

#[test]
fn status_shows_a_filter_and_no_new_privs() {
    if skip_unless_root() {
        return;
    }
    let root = TempRoot::with_probe("sc-status");
    let out = status(&root, &[], "self");
    assert_eq!(status_field(&out, "Seccomp"), "2", "{out}");
    assert_eq!(status_field(&out, "NoNewPrivs"), "1", "{out}");
    let filters: u32 = status_field(&out, "Seccomp_filters")
        .parse()
        .unwrap_or_else(|_| panic!("Seccomp_filters is not a number\n{out}"));
    assert!(filters >= 1, "{out}");

    let out = status(&root, UNCONFINED, "self");
    assert_eq!(status_field(&out, "Seccomp"), "0", "{out}");
    assert_eq!(status_field(&out, "NoNewPrivs"), "1", "{out}");

    // The embedded default root gets the same.
    let out = in_default_root(&[], &["read", "/proc/self/status"]);
    out.assert_ok();
    assert_eq!(status_field(&out, "Seccomp"), "2", "{out}");
    let out = in_default_root(&[], &["syscall", "mount"]);
    out.assert_ok();
    assert_eq!(out.value("syscall mount"), "EPERM", "{out}");
}

#[test]
fn init_has_a_filter_of_its_own() {
    if skip_unless_root() {
        return;
    }
    let root = TempRoot::with_probe("sc-init");
    let out = status(&root, &[], "1");
    assert_eq!(status_field(&out, "Name"), "nucleus-init", "{out}");
    assert_eq!(status_field(&out, "Seccomp"), "2", "{out}");
    assert_eq!(status_field(&out, "NoNewPrivs"), "1", "{out}");
    // Even when the workload runs unconfined.
    let out = status(&root, UNCONFINED, "1");
    assert_eq!(status_field(&out, "Seccomp"), "2", "{out}");
}

/// Calls the default profile denies. Their arguments make each fail harmlessly when allowed.
const DENIED: &[&str] = &[
    "mount",
    "umount2",
    "pivot_root",
    "chroot",
    "unshare",
    "setns",
    "keyctl",
    "add_key",
    "request_key",
    "bpf",
    "perf_event_open",
    "ptrace",
    "open_by_handle_at",
    "userfaultfd",
    "io_uring_setup",
    "kexec_load",
    "kexec_file_load",
    "init_module",
    "finit_module",
    "delete_module",
    "settimeofday",
    "clock_settime",
    "adjtimex",
    "clock_adjtime",
    "sethostname",
    "setdomainname",
    "swapon",
    "swapoff",
    "syslog",
    "acct",
    "quotactl",
    "fsopen",
    "fsmount",
    "fspick",
    "fsconfig",
    "open_tree",
    "move_mount",
    "mount_setattr",
    "pidfd_getfd",
    #[cfg(target_arch = "x86_64")]
    "iopl",
    #[cfg(target_arch = "x86_64")]
    "ioperm",
];

/// Denied calls whose unfiltered result does not depend on capabilities, sysctls or kernel
/// configuration: without the filter, none of them is EPERM.
const NEVER_EPERM_UNFILTERED: &[(&str, &str)] = &[
    ("unshare", "ok"),
    ("mount", "EFAULT"),
    ("umount2", "EFAULT"),
    ("chroot", "EFAULT"),
    ("setns", "EBADF"),
    ("keyctl", "EOPNOTSUPP"),
    ("add_key", "EFAULT"),
    ("perf_event_open", "EFAULT"),
    ("ptrace", "ESRCH"),
];

#[test]
fn denied_calls_fail_with_eperm() {
    if skip_unless_root() {
        return;
    }
    let root = TempRoot::with_probe("sc-denied");
    let mut wrong = Vec::new();
    let mut unfiltered = Vec::new();
    for name in DENIED {
        let got = syscall(&root, &[], name, &[]);
        if got != "EPERM" {
            wrong.push(format!("{name}={got}"));
        }
        unfiltered.push(format!("{name}={}", syscall(&root, UNCONFINED, name, &[])));
    }
    assert!(
        wrong.is_empty(),
        "not EPERM under the default profile: {wrong:?}\n(unconfined: {unfiltered:?})"
    );
    for (name, want) in NEVER_EPERM_UNFILTERED {
        assert!(
            unfiltered.contains(&format!("{name}={want}")),
            "without a filter {name} should give {want}: {unfiltered:?}"
        );
    }
}

#[test]
fn allowed_calls_reach_the_kernel() {
    if skip_unless_root() {
        return;
    }
    let root = TempRoot::with_probe("sc-allowed");
    for (name, want) in [
        ("read", "EBADF"),
        ("write", "EBADF"),
        ("getpid", "ok"),
        ("openat", "EFAULT"),
        ("ioctl", "EBADF"),
        ("personality", "ok"),
        ("prctl", "ok"),
    ] {
        assert_eq!(syscall(&root, &[], name, &[]), want, "{name}");
    }
}

#[test]
fn unknown_numbers_and_clone3_get_enosys() {
    if skip_unless_root() {
        return;
    }
    let root = TempRoot::with_probe("sc-enosys");
    assert_eq!(syscall(&root, &[], "1000", &[]), "ENOSYS");
    let out = in_rootfs(&root, &[], &["clone3"]);
    out.assert_ok();
    assert_eq!(out.value("clone3"), "ENOSYS", "{out}");
    // Without the filter clone3 works (the probe's child exits at once).
    let out = in_rootfs(&root, UNCONFINED, &["clone3"]);
    out.assert_ok();
    assert_eq!(out.value("clone3"), "ok", "{out}");
}

#[test]
fn threads_fork_and_exec_work_and_inherit_the_filter() {
    if skip_unless_root() {
        return;
    }
    let root = TempRoot::with_probe("sc-threads");
    let out = in_rootfs(&root, &[], &["threads", "8"]);
    out.assert_ok();
    assert_eq!(out.value("threads"), "8", "{out}");
    assert_eq!(out.value("thread_unshare"), "EPERM", "{out}");

    let out = in_rootfs(&root, &[], &["fork-exec", "/probe", "exit", "7"]);
    out.assert_ok();
    assert_eq!(out.value("fork-exec"), "7", "{out}");
    assert_eq!(out.value("spawn"), "7", "{out}");

    // A child, forked or spawned, then exec'd, is still filtered.
    let out = in_rootfs(&root, &[], &["fork-exec", "/probe", "syscall", "unshare"]);
    out.assert_ok();
    assert_eq!(out.values("syscall unshare"), ["EPERM", "EPERM"], "{out}");
    assert_eq!(out.value("fork-exec"), "0", "{out}");
    assert_eq!(out.value("spawn"), "0", "{out}");

    let out = in_rootfs(&root, UNCONFINED, &["threads", "8"]);
    out.assert_ok();
    assert_eq!(out.value("thread_unshare"), "ok", "{out}");
}

#[test]
fn a_looser_stacked_filter_does_not_undo_ours() {
    if skip_unless_root() {
        return;
    }
    let root = TempRoot::with_probe("sc-stack");
    let out = in_rootfs(&root, &[], &["stack-allow-all", "unshare"]);
    out.assert_ok();
    assert_eq!(out.value("stack"), "ok", "{out}");
    assert_eq!(out.value("syscall unshare"), "EPERM", "{out}");
    let out = in_rootfs(&root, UNCONFINED, &["stack-allow-all", "unshare"]);
    out.assert_ok();
    assert_eq!(out.value("syscall unshare"), "ok", "{out}");
}

/// SIGCHLD as clone's exit signal.
const SIGCHLD: u64 = 17;

#[test]
fn clone_with_namespace_flags_is_denied() {
    if skip_unless_root() {
        return;
    }
    let root = TempRoot::with_probe("sc-clone");
    let clone = |opts: &[&str], flags: u64| {
        let out = in_rootfs(&root, opts, &["clone", &format!("{flags:#x}")]);
        out.assert_ok();
        out.value("clone").to_owned()
    };
    assert_eq!(clone(&[], SIGCHLD), "ok", "a plain fork");
    for (name, flag) in [
        ("CLONE_NEWUSER", 0x1000_0000),
        ("CLONE_NEWNS", 0x0002_0000),
        ("CLONE_NEWPID", 0x2000_0000),
        ("CLONE_NEWNET", 0x4000_0000),
        ("CLONE_NEWUTS", 0x0400_0000),
        ("CLONE_NEWIPC", 0x0800_0000),
        ("CLONE_NEWCGROUP", 0x0200_0000),
    ] {
        assert_eq!(clone(&[], flag | SIGCHLD), "EPERM", "{name}");
    }
    // The kernel ignores the high half of clone's flags; so must the filter.
    assert_eq!(clone(&[], 0xffff_0000_0000_0000 | SIGCHLD), "ok");
    assert_eq!(
        clone(&[], 0xffff_0000_0000_0000 | 0x1000_0000 | SIGCHLD),
        "EPERM",
        "CLONE_NEWUSER with junk in the high half"
    );
    assert_eq!(clone(UNCONFINED, 0x1000_0000 | SIGCHLD), "ok");
}

#[test]
fn sockets_are_limited_to_unix_inet_and_netlink_route_and_audit() {
    if skip_unless_root() {
        return;
    }
    let root = TempRoot::with_probe("sc-socket");
    let socket = |opts: &[&str], args: [&str; 3]| {
        let mut verb = vec!["socket"];
        verb.extend(args);
        let out = in_rootfs(&root, opts, &verb);
        out.assert_ok();
        out.value("socket").to_owned()
    };
    // Allowed: the filter leaves the kernel's answer alone.
    for args in [
        ["2", "1", "0"],           // AF_INET stream
        ["2", "2", "0"],           // AF_INET datagram
        ["1", "1", "0"],           // AF_UNIX
        ["10", "2", "0"],          // AF_INET6 (EAFNOSUPPORT from a kernel without IPv6)
        ["16", "3", "0"],          // AF_NETLINK, NETLINK_ROUTE
        ["16", "3", "9"],          // AF_NETLINK, NETLINK_AUDIT
        ["0x100000002", "2", "0"], // AF_INET with junk in the high half, which the kernel ignores
    ] {
        let unfiltered = socket(UNCONFINED, args);
        assert_eq!(socket(&[], args), unfiltered, "socket {args:?}");
    }
    for args in [["2", "1", "0"], ["1", "1", "0"], ["16", "3", "0"]] {
        assert_eq!(socket(&[], args), "ok", "socket {args:?}");
    }
    // Denied.
    let denied = [
        ["17", "3", "0"],           // AF_PACKET
        ["16", "3", "4"],           // AF_NETLINK, NETLINK_SOCK_DIAG
        ["16", "3", "0x100000004"], // ... with junk in the high half
        ["40", "1", "0"],           // AF_VSOCK
        ["0x100000011", "3", "0"],  // AF_PACKET with junk in the high half
        ["38", "5", "0"],           // AF_ALG
        ["31", "5", "1"],           // AF_BLUETOOTH
    ];
    let mut unfiltered = Vec::new();
    for args in denied {
        assert_eq!(socket(&[], args), "EAFNOSUPPORT", "socket {args:?}");
        unfiltered.push(socket(UNCONFINED, args));
    }
    assert!(
        unfiltered.iter().any(|r| r != "EAFNOSUPPORT"),
        "every denied family is unsupported even without a filter: the test proves nothing \
         on this kernel: {unfiltered:?}"
    );
}

#[test]
fn tiocsti_and_tioclinux_are_denied_whatever_the_high_bits() {
    if skip_unless_root() {
        return;
    }
    let root = TempRoot::with_probe("sc-tiocsti");
    let keys = ["tiocsti", "tiocsti_high", "tioclinux", "tioclinux_high"];
    let out = in_rootfs(&root, &[], &["tiocsti"]);
    out.assert_ok();
    for key in keys {
        assert_eq!(out.value(key), "EPERM", "{key}\n{out}");
    }
    // Unfiltered, /dev/null is simply not a terminal.
    let out = in_rootfs(&root, UNCONFINED, &["tiocsti"]);
    out.assert_ok();
    for key in keys {
        assert_eq!(out.value(key), "ENOTTY", "{key}\n{out}");
    }
    // The same through the generic verb, on no fd at all.
    for (request, want) in [
        ("0x5412", "EPERM"),
        ("0xffffffff00005412", "EPERM"),
        ("0x541c", "EPERM"),
        ("0x5413", "EBADF"), // TIOCGWINSZ is allowed
    ] {
        assert_eq!(
            syscall(&root, &[], "ioctl", &["-1", request]),
            want,
            "ioctl {request}"
        );
    }
}

#[test]
fn personality_and_prctl_are_filtered_on_the_low_32_bits() {
    if skip_unless_root() {
        return;
    }
    let root = TempRoot::with_probe("sc-persona");
    for (args, want) in [
        (["0xffffffff"], "ok"),  // query
        (["0x20008"], "ok"),     // ADDR_NO_RANDOMIZE | UNAME26
        (["0x400000"], "EPERM"), // READ_IMPLIES_EXEC
        (["0xffffffff00400000"], "EPERM"),
        (["0x100000000"], "ok"), // PER_LINUX with junk in the high half
    ] {
        assert_eq!(
            syscall(&root, &[], "personality", &args),
            want,
            "personality {args:?}"
        );
    }
    assert_eq!(
        syscall(&root, UNCONFINED, "personality", &["0x400000"]),
        "ok"
    );
    // PR_SET_MM (35), with and without junk in the high half; PR_SET_PTRACER; PR_GET_DUMPABLE.
    for (args, want) in [
        (&["35"][..], "EPERM"),
        (&["0xffffffff00000023"], "EPERM"),
        (&["0x59616d61", "0"], "EPERM"),
        (&["3"], "ok"),
    ] {
        assert_eq!(syscall(&root, &[], "prctl", args), want, "prctl {args:?}");
    }
    // Unfiltered, PR_SET_MM with an option of 0 and a non-zero arg4 is EINVAL.
    assert_eq!(syscall(&root, UNCONFINED, "prctl", &["35"]), "EINVAL");
}

/// Runs `verb` in `root`, under `opts`, expecting death by SIGSYS with nothing printed.
fn assert_killed(root: &TempRoot, opts: &[&str], verb: &str) {
    let out = in_rootfs(root, opts, &[verb]);
    assert_eq!(out.code, KILLED_BY_SIGSYS, "{verb} with {opts:?}\n{out}");
    assert!(
        out.stdout.is_empty() && out.stderr.is_empty(),
        "{verb} with {opts:?}\n{out}"
    );
}

#[test]
fn foreign_architectures_are_killed() {
    if skip_unless_root() {
        return;
    }
    if !cfg!(target_arch = "x86_64") {
        // Not a missing prerequisite: nothing to check here, even in CI.
        eprintln!("SKIP: int 0x80 and x32 exist only on x86_64 (aarch64 compat is not probed)");
        return;
    }
    let root = TempRoot::with_probe("sc-foreign");
    // Without a filter both return (x32 with ENOSYS when the kernel lacks the x32 ABI).
    let out = in_rootfs(&root, UNCONFINED, &["int80"]);
    if out.code == 128 + libc::SIGSEGV {
        // The kernel refuses i386 calls itself: there is nothing for the filter to stop.
        eprintln!("SKIP: int 0x80 raises SIGSEGV even without a filter: IA32 emulation is off");
        return;
    }
    out.assert_ok();
    assert_eq!(out.value("int80"), "survived", "{out}");
    let out = in_rootfs(&root, UNCONFINED, &["x32"]);
    out.assert_ok();
    assert_eq!(out.value("x32"), "survived", "{out}");

    assert_killed(&root, &[], "int80");
    assert_killed(&root, &[], "x32");
    // With an extra allowed call too.
    assert_killed(&root, &["--seccomp-allow", "io_uring_setup"], "int80");
}

#[test]
fn seccomp_allow_opens_a_denied_call() {
    if skip_unless_root() {
        return;
    }
    if std::fs::read_to_string("/proc/sys/kernel/io_uring_disabled").is_ok_and(|v| v.trim() == "2")
    {
        // A host's choice, not a missing prerequisite: the kernel would answer EPERM itself.
        eprintln!("SKIP: io_uring is disabled on this host (kernel.io_uring_disabled=2)");
        return;
    }
    let root = TempRoot::with_probe("sc-allow");
    assert_eq!(syscall(&root, &[], "io_uring_setup", &[]), "EPERM");
    // A null params pointer: the kernel's own EFAULT.
    for opts in [
        &["--seccomp-allow", "io_uring_setup"][..],
        &["--seccomp-allow", "io_uring_enter,io_uring_setup"],
        &[
            "--seccomp-allow",
            "io_uring_enter",
            "--seccomp-allow",
            "io_uring_setup",
        ],
    ] {
        assert_eq!(
            syscall(&root, opts, "io_uring_setup", &[]),
            "EFAULT",
            "{opts:?}"
        );
    }
    // Only what was named.
    let opts = ["--seccomp-allow", "io_uring_setup"];
    assert_eq!(syscall(&root, &opts, "unshare", &[]), "EPERM");
    assert_eq!(syscall(&root, &opts, "1000", &[]), "ENOSYS");
}

// --- the embedded default root: real programs under the default profile ---

#[test]
fn shell_and_coreutils_run_under_the_default_profile() {
    if skip_unless_root() {
        return;
    }
    let out = nucleus(["run", "--", "sh", "-c", "echo ok"]);
    out.assert_ok();
    assert_eq!(out.stdout, "ok\n", "{out}");
    let script = "ls /usr/bin >/dev/null && cat /etc/hostname && printf 'b\\na\\n' | sort \
                  && id -u && date +%Y >/dev/null && mkdir /tmp/d && touch /tmp/d/f \
                  && ls /tmp/d && rm -r /tmp/d && echo done";
    let out = nucleus(["run", "--", "sh", "-c", script]);
    out.assert_ok();
    assert_eq!(out.stdout, "nucleus\na\nb\n0\nf\ndone\n", "{out}");
}

#[test]
fn python_threads_sockets_and_subprocesses_run_under_the_default_profile() {
    if skip_unless_root() {
        return;
    }
    if skip((!Path::new("/usr/bin/python3").exists()).then(|| {
        "/usr/bin/python3 is missing on the host (the default root shares its /usr)".to_owned()
    })) {
        return;
    }
    let program = "\
import threading, socket, subprocess, sys
results = []
threads = [threading.Thread(target=results.append, args=(i,)) for i in range(8)]
for t in threads: t.start()
for t in threads: t.join()
a, b = socket.socketpair()
a.sendall(b'ping'); assert b.recv(4) == b'ping'
s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
s.bind(('127.0.0.1', 0)); s.listen(1)
c = socket.create_connection(s.getsockname()); conn, _ = s.accept()
c.sendall(b'pong'); assert conn.recv(4) == b'pong'
out = subprocess.run([sys.executable, '-c', 'print(6 * 7)'], capture_output=True, text=True)
print(len(results), out.stdout.strip(), subprocess.call(['true']))
";
    let out = nucleus(["run", "--", "python3", "-c", program]);
    out.assert_ok();
    assert_eq!(out.stdout, "8 42 0\n", "{out}");
}

// --- OCI/Docker profiles ---

#[test]
fn podmans_profile_is_enforced() {
    if skip_unless_root() {
        return;
    }
    if skip((!Path::new(CONTAINERS_PROFILE).exists()).then(|| {
        format!("{CONTAINERS_PROFILE} is missing (Debian package golang-github-containers-common)")
    })) {
        return;
    }
    let root = TempRoot::with_probe("sc-podman");
    let opts = ["--seccomp", CONTAINERS_PROFILE];
    let out = status(&root, &opts, "self");
    assert_eq!(status_field(&out, "Seccomp"), "2", "{out}");
    // Allowed by the profile: the kernel's own answers.
    assert_eq!(syscall(&root, &opts, "read", &[]), "EBADF");
    assert_eq!(syscall(&root, &opts, "getpid", &[]), "ok");
    // Denied by an explicit rule (EPERM), and by the default action (errno 38, ENOSYS).
    for name in ["kexec_load", "swapon", "userfaultfd"] {
        assert_eq!(syscall(&root, &opts, name, &[]), "EPERM", "{name}");
    }
    assert_eq!(syscall(&root, &opts, "1000", &[]), "ENOSYS");
    // The profile allows personality only with the usual values.
    assert_eq!(
        syscall(&root, &opts, "personality", &["0x400000"]),
        "ENOSYS"
    );
    // Foreign architectures stay killed.
    if cfg!(target_arch = "x86_64") {
        assert_killed(&root, &opts, "x32");
    }
    // Ordinary programs still work.
    let out = in_rootfs(&root, &opts, &["threads", "4"]);
    out.assert_ok();
    assert_eq!(out.value("threads"), "4", "{out}");
    let out = in_rootfs(&root, &opts, &["fork-exec", "/probe", "exit", "3"]);
    out.assert_ok();
    assert_eq!(out.value("fork-exec"), "3", "{out}");
}

#[test]
fn a_custom_profile_means_what_it_says() {
    if skip_unless_root() {
        return;
    }
    let dir = TempRoot::empty("sc-custom");
    dir.write(
        "profile.json",
        r#"{
            "defaultAction": "SCMP_ACT_ALLOW",
            "syscalls": [
                {"names": ["unshare"], "action": "SCMP_ACT_ERRNO", "errnoRet": 13},
                {"names": ["socket"], "action": "SCMP_ACT_ERRNO", "errnoRet": 97,
                 "args": [{"index": 0, "value": 17, "op": "SCMP_CMP_EQ"}]},
                {"names": ["setns"], "action": "SCMP_ACT_KILL_PROCESS"}
            ]
        }"#,
    );
    let profile = dir.join("profile.json");
    let opts = ["--seccomp", profile.to_str().expect("UTF-8")];
    let root = TempRoot::with_probe("sc-custom-root");
    assert_eq!(syscall(&root, &opts, "unshare", &[]), "EACCES");
    // Everything else is allowed: the kernel's own answer.
    assert_eq!(syscall(&root, &opts, "mount", &[]), "EFAULT");
    assert_eq!(syscall(&root, &opts, "1000", &[]), "ENOSYS");
    for (args, want) in [(["17", "3", "0"], "EAFNOSUPPORT"), (["2", "2", "0"], "ok")] {
        let mut verb = vec!["socket"];
        verb.extend(args);
        let out = in_rootfs(&root, &opts, &verb);
        out.assert_ok();
        assert_eq!(out.value("socket"), want, "socket {args:?}\n{out}");
    }
    let out = in_rootfs(&root, &opts, &["syscall", "setns"]);
    assert_eq!(out.code, KILLED_BY_SIGSYS, "{out}");
    // An allow-all default does not let foreign architectures in.
    if cfg!(target_arch = "x86_64") {
        assert_killed(&root, &opts, "int80");
    }
    // --seccomp-allow goes before the profile's rules.
    let with_allow = [opts[0], opts[1], "--seccomp-allow", "unshare"];
    assert_eq!(syscall(&root, &with_allow, "unshare", &[]), "ok");
}

#[test]
fn a_profile_that_denies_everything_fails_instead_of_hanging() {
    if skip_unless_root() {
        return;
    }
    // execve fails, the report's write fails, and exit_group fails: init's child must still
    // go away (or the launcher refuse the profile) instead of retrying exit_group forever.
    let dir = TempRoot::empty("sc-deny-all");
    dir.write("profile.json", r#"{"defaultAction": "SCMP_ACT_ERRNO"}"#);
    let profile = dir.join("profile.json");
    let root = TempRoot::with_probe("sc-deny-all-root");
    let out = in_rootfs(
        &root,
        &["--seccomp", profile.to_str().expect("UTF-8")],
        &["pid"],
    );
    assert_ne!(out.code, 0, "{out}");
    assert!(out.stdout.is_empty(), "{out}");
}

// --- refusals ---

/// `run OPTS --rootfs ROOT -- /probe sleep 5 MARKER` must fail with 125, print nothing on
/// stdout and one `nucleus-launch: ` line naming each of `mentions`, and leave no process.
fn assert_refused(opts: &[&str], mentions: &[&str]) {
    let root = TempRoot::with_probe("sc-refused");
    let marker = harness::unique("sc-refused");
    let mut args = vec!["run"];
    args.extend(opts);
    args.extend([
        "--rootfs",
        root.arg(),
        "--",
        "/probe",
        "sleep",
        "5",
        &marker,
    ]);
    let out = nucleus(&args);
    assert_eq!(out.code, 125, "{opts:?}\n{out}");
    assert!(out.stdout.is_empty(), "{opts:?}\n{out}");
    let lines: Vec<&str> = out.stderr.lines().collect();
    assert!(
        lines.len() == 1 && lines[0].starts_with("nucleus-launch: "),
        "{opts:?}: expected one `nucleus-launch: ` line on stderr\n{out}"
    );
    for m in mentions {
        assert!(
            lines[0].contains(m),
            "{opts:?}: the message should mention {m:?}\n{out}"
        );
    }
    assert_eq!(
        processes_with(&marker),
        Vec::<u32>::new(),
        "{opts:?}: processes left\n{out}"
    );
}

#[test]
fn bad_profiles_are_refused() {
    if skip_unless_root() {
        return;
    }
    let dir = TempRoot::empty("sc-bad");
    let missing = dir.join("no-such-profile.json");
    let missing = missing.to_str().expect("UTF-8");
    assert_refused(&["--seccomp", missing], &["--seccomp", missing]);
    let cases = [
        ("truncated.json", r#"{"defaultAction": "#, "JSON"),
        ("empty.json", "", "JSON"),
        (
            "bad-default.json",
            r#"{"defaultAction": "SCMP_ACT_BOGUS"}"#,
            "SCMP_ACT_BOGUS",
        ),
        (
            "bad-action.json",
            r#"{"defaultAction": "SCMP_ACT_ALLOW",
                "syscalls": [{"names": ["read"], "action": "SCMP_ACT_SOMETIMES"}]}"#,
            "SCMP_ACT_SOMETIMES",
        ),
        (
            "bad-name.json",
            r#"{"defaultAction": "SCMP_ACT_ALLOW",
                "syscalls": [{"names": ["no_such_syscall_xyz"], "action": "SCMP_ACT_ERRNO"}]}"#,
            "no_such_syscall_xyz",
        ),
    ];
    for (file, text, mention) in cases {
        dir.write(file, text);
        let path = dir.join(file);
        let path = path.to_str().expect("UTF-8");
        assert_refused(&["--seccomp", path], &["--seccomp", path, mention]);
    }
    assert_refused(&["--seccomp", dir.arg()], &["--seccomp", dir.arg()]);
    assert_refused(&["--seccomp", ""], &["--seccomp"]);
}

#[test]
fn bad_seccomp_allow_is_refused() {
    if skip_unless_root() {
        return;
    }
    assert_refused(
        &["--seccomp-allow", "no_such_call"],
        &["--seccomp-allow", "no_such_call"],
    );
    assert_refused(
        &["--seccomp-allow", "read,no_such_call"],
        &["--seccomp-allow", "no_such_call"],
    );
    assert_refused(
        &["--seccomp", "unconfined", "--seccomp-allow", "read"],
        &["--seccomp-allow", "unconfined"],
    );
}
