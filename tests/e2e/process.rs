//! The workload as a process: exit codes, deaths by signal, reaping, inherited fds, and what
//! it can do to init.

#[path = "../harness/mod.rs"]
mod harness;

use std::fs::File;

use harness::{TempRoot, finish, in_rootfs, launcher_command, rootfs_args, skip_unless_root};

#[test]
fn every_exit_code_round_trips() {
    if skip_unless_root() {
        return;
    }
    let root = TempRoot::with_probe("exit");
    for n in 0..=255 {
        let out = in_rootfs(&root, &[], &["exit", &n.to_string()]);
        assert_eq!(out.code, n, "exit {n}\n{out}");
        assert!(out.stderr.is_empty(), "exit {n}\n{out}");
    }
}

#[test]
fn death_by_signal_exits_128_plus_n() {
    if skip_unless_root() {
        return;
    }
    let root = TempRoot::with_probe("kill-self");
    for (sig, code) in [
        ("SEGV", 139),
        ("KILL", 137),
        ("TERM", 143),
        ("ABRT", 134),
        ("USR1", 138),
    ] {
        let out = in_rootfs(&root, &[], &["kill-self", sig]);
        assert_eq!(out.code, code, "kill-self {sig}\n{out}");
        assert!(out.stderr.is_empty(), "kill-self {sig}\n{out}");
    }
}

#[test]
fn orphaned_zombies_are_reaped() {
    if skip_unless_root() {
        return;
    }
    let root = TempRoot::with_probe("orphans");
    let out = in_rootfs(&root, &[], &["orphans", "40"]);
    out.assert_ok();
    assert_eq!(out.value("orphans"), "40", "{out}");
    assert_eq!(out.value("zombies"), "0", "{out}");
}

#[test]
fn inherited_fds_do_not_leak_into_the_workload() {
    if skip_unless_root() {
        return;
    }
    let root = TempRoot::with_probe("fds");
    let file = File::open(harness::probe()).expect("opening a file to leak");
    // The hook works: a host program started the same way sees both leaked fds.
    let mut check = std::process::Command::new("ls");
    check
        .arg("/proc/self/fd")
        .stdout(std::process::Stdio::piped());
    harness::sys::leak_fd(&mut check, &file, 7);
    let seen = check.output().expect("running ls with leaked fds");
    let seen = String::from_utf8_lossy(&seen.stdout);
    assert!(
        seen.lines().any(|l| l == "7"),
        "the leak hook did not work: {seen}"
    );

    let mut cmd = launcher_command(rootfs_args(&root, &[], &["fds"]));
    harness::sys::leak_fd(&mut cmd, &file, 7);
    let out = finish(cmd);
    out.assert_ok();
    assert_eq!(out.value("fds"), "0,1,2", "{out}");
}

#[test]
fn init_executable_cannot_be_opened_for_writing() {
    if skip_unless_root() {
        return;
    }
    let root = TempRoot::with_probe("exe");
    let out = in_rootfs(&root, &[], &["exe"]);
    out.assert_ok();
    assert_ne!(out.value("exe"), "ok", "{out}");
}
