//! Signals: forwarding from the launcher to the workload, the workload's clean signal state,
//! and a SIGKILLed launcher taking its whole sandbox down.

#[path = "../harness/mod.rs"]
mod harness;

use std::time::Duration;

use harness::{
    TempRoot, finish, launcher_command, processes_with, rootfs_args, skip_unless_root, spawn,
    wait_until,
};

/// Starts `signals` in a sandbox, sends `sig` to the LAUNCHER, and expects `got=NAME` inside.
fn forwarded(name: &str, sig: i32) {
    if skip_unless_root() {
        return;
    }
    let root = TempRoot::with_probe(&format!("sig-{name}"));
    let mut running = spawn(launcher_command(rootfs_args(&root, &[], &["signals"])));
    running.expect_line("ready", Duration::from_secs(10));
    harness::sys::send_signal(running.pid(), sig).expect("signalling the launcher");
    running.expect_line(&format!("got={name}"), Duration::from_secs(5));
    if sig != libc::SIGTERM {
        harness::sys::send_signal(running.pid(), libc::SIGTERM).expect("signalling the launcher");
        running.expect_line("got=TERM", Duration::from_secs(5));
    }
    let out = running.finish();
    assert_eq!(out.code, 0, "{out}");
    assert!(!out.stdout.contains("timeout"), "{out}");
}

#[test]
fn sigterm_is_forwarded() {
    forwarded("TERM", libc::SIGTERM);
}

#[test]
fn sigint_is_forwarded() {
    forwarded("INT", libc::SIGINT);
}

#[test]
fn sighup_is_forwarded() {
    forwarded("HUP", libc::SIGHUP);
}

#[test]
fn sigquit_is_forwarded() {
    forwarded("QUIT", libc::SIGQUIT);
}

#[test]
fn sigusr1_is_forwarded() {
    forwarded("USR1", libc::SIGUSR1);
}

#[test]
fn sigusr2_is_forwarded() {
    forwarded("USR2", libc::SIGUSR2);
}

#[test]
fn sigwinch_is_forwarded() {
    forwarded("WINCH", libc::SIGWINCH);
}

#[test]
fn workload_signal_state_is_clean_despite_a_dirty_launcher() {
    if skip_unless_root() {
        return;
    }
    const IGNORED: &[i32] = &[libc::SIGPIPE, libc::SIGHUP];
    const BLOCKED: &[i32] = &[libc::SIGALRM, libc::SIGUSR1];
    // The hook works: a host program started the same way inherits the dirt.
    let mut check = std::process::Command::new("grep");
    check.args(["-E", "^Sig(Blk|Ign)", "/proc/self/status"]);
    harness::sys::dirty_signals(&mut check, IGNORED, BLOCKED);
    let seen = check.output().expect("running grep with dirty signals");
    let seen = String::from_utf8_lossy(&seen.stdout);
    let mask = |key: &str| -> u64 {
        let hex = seen.lines().find_map(|l| l.strip_prefix(key)).unwrap_or("");
        u64::from_str_radix(hex.trim(), 16).unwrap_or(0)
    };
    // Signal n is bit n-1. The test runner may add dirt of its own (here: signal 32 ignored).
    assert_eq!(
        mask("SigIgn:") & 0x1001,
        0x1001,
        "the hook did not work: {seen}"
    );
    assert_eq!(
        mask("SigBlk:") & 0x2200,
        0x2200,
        "the hook did not work: {seen}"
    );

    let root = TempRoot::with_probe("sigstate");
    let mut cmd = launcher_command(rootfs_args(&root, &[], &["sigstate"]));
    harness::sys::dirty_signals(&mut cmd, IGNORED, BLOCKED);
    let out = finish(cmd);
    out.assert_ok();
    assert_eq!(out.value("SigBlk"), "0000000000000000", "{out}");
    assert_eq!(out.value("SigIgn"), "0000000000000000", "{out}");
    assert_eq!(out.value("SigCgt"), "0000000000000000", "{out}");
}

/// The host pid's parent, from /proc/PID/stat.
fn parent_of(pid: u32) -> Option<u32> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    stat.rsplit_once(')')?
        .1
        .split_whitespace()
        .nth(1)?
        .parse()
        .ok()
}

/// True while `pid` exists and is not a zombie.
fn alive(pid: u32) -> bool {
    std::fs::read_to_string(format!("/proc/{pid}/stat"))
        .ok()
        .and_then(|s| {
            s.rsplit_once(')')
                .map(|(_, r)| r.trim_start().starts_with('Z'))
        })
        .is_some_and(|zombie| !zombie)
}

#[test]
fn sigkill_of_the_launcher_leaves_no_sandbox_process() {
    if skip_unless_root() {
        return;
    }
    let root = TempRoot::with_probe("launcher-kill");
    let marker = harness::unique("sleeper");
    let mut running = spawn(launcher_command(rootfs_args(
        &root,
        &[],
        &["sleep", "1000", &marker],
    )));
    let launcher = running.pid();
    let mut workload = None;
    let started = wait_until(Duration::from_secs(10), || {
        // The launcher's clone child carries the marker too until it becomes init; the
        // workload is the probe.
        workload = processes_with(&marker).into_iter().find(|p| {
            *p != launcher
                && std::fs::read_to_string(format!("/proc/{p}/comm"))
                    .is_ok_and(|c| c.trim() == "probe")
        });
        workload.is_some()
    });
    assert!(started, "the sandboxed sleep never showed up");
    let workload = workload.expect("found above");
    let init = parent_of(workload).expect("the workload's parent");
    assert_ne!(
        init, launcher,
        "the workload must run under init, not the launcher"
    );

    running.kill();
    let gone = wait_until(Duration::from_secs(2), || {
        processes_with(&marker).is_empty() && !alive(init)
    });
    assert!(
        gone,
        "left behind 2 s after SIGKILL: marker processes {:?}, init {init} alive: {}",
        processes_with(&marker),
        alive(init)
    );
}
