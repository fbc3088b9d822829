//! The sandbox's namespaces: pid, uts, mount, net and cgroup, seen from inside.

#[path = "../harness/mod.rs"]
mod harness;

use harness::{TempRoot, in_default_root, in_rootfs, skip_unless_root};

#[test]
fn probe_refuses_to_run_outside_a_sandbox() {
    // Not even root is needed: this is the probe's own guard, which every other test relies on.
    let out = std::process::Command::new(harness::probe())
        .arg("pid")
        .output()
        .expect("running the probe on the host");
    assert_eq!(out.status.code(), Some(99), "{out:?}");
    assert!(out.stdout.is_empty(), "{out:?}");
    assert!(String::from_utf8_lossy(&out.stderr).contains("refusing"));
}

#[test]
fn workload_is_pid_2_under_nucleus_init() {
    if skip_unless_root() {
        return;
    }
    let root = TempRoot::with_probe("pid");
    let out = in_rootfs(&root, &[], &["pid"]);
    out.assert_ok();
    assert_eq!(out.value("pid"), "2", "{out}");
    assert_eq!(out.value("ppid"), "1", "{out}");
    let comm = in_rootfs(&root, &[], &["read", "/proc/1/comm"]);
    assert_eq!(comm.value("read /proc/1/comm"), "nucleus-init", "{comm}");
}

#[test]
fn only_sandbox_processes_are_visible() {
    if skip_unless_root() {
        return;
    }
    let root = TempRoot::with_probe("ps");
    let out = in_rootfs(&root, &[], &["ps"]);
    out.assert_ok();
    assert_eq!(out.value("pids"), "1,2", "{out}");
}

#[test]
fn hostname_defaults_to_nucleus() {
    if skip_unless_root() {
        return;
    }
    let root = TempRoot::with_probe("hostname");
    let out = in_rootfs(&root, &[], &["hostname"]);
    out.assert_ok();
    assert_eq!(out.value("hostname"), "nucleus", "{out}");
}

#[test]
fn hostname_option_sets_hostname_and_env() {
    if skip_unless_root() {
        return;
    }
    let root = TempRoot::with_probe("hostname-opt");
    let out = in_rootfs(&root, &["--hostname", "box-7.test"], &["hostname"]);
    out.assert_ok();
    assert_eq!(out.value("hostname"), "box-7.test", "{out}");
    let env = in_rootfs(&root, &["--hostname", "box-7.test"], &["env"]);
    assert_eq!(env.value("env:HOSTNAME"), "box-7.test", "{env}");
}

/// Mount points inside, checked against host paths that must not show.
fn assert_no_host_mounts(out: &harness::Outcome, host_paths: &[&str], max: usize) {
    out.assert_ok();
    let points: Vec<&str> = out
        .values("mount")
        .iter()
        .map(|m| m.split(' ').next().unwrap_or(""))
        .collect();
    for point in &points {
        for host in host_paths {
            assert!(
                !(point == host || point.starts_with(&format!("{host}/"))),
                "host path {host} visible as mount point {point}\n{out}"
            );
        }
    }
    // Masks and read-only binds under /proc are the sandbox's own (see hardening tests).
    let outside_proc = points.iter().filter(|p| !p.starts_with("/proc/")).count();
    assert!(
        outside_proc <= max,
        "{outside_proc} mounts outside /proc, expected at most {max}\n{out}"
    );
}

const HOST_ONLY: &[&str] = &[
    "/work", "/home", "/oldroot", "/newroot", "/sys", "/boot", "/run", "/var",
];

#[test]
fn host_mounts_are_invisible_with_rootfs() {
    if skip_unless_root() {
        return;
    }
    let root = TempRoot::with_probe("mounts");
    let out = in_rootfs(&root, &[], &["mounts"]);
    let mut hidden = HOST_ONLY.to_vec();
    hidden.push(root.arg());
    // /, /proc, /dev, /dev/pts, /dev/shm, /tmp.
    assert_no_host_mounts(&out, &hidden, 6);
}

#[test]
fn host_mounts_are_invisible_with_default_root() {
    if skip_unless_root() {
        return;
    }
    let out = in_default_root(&[], &["mounts"]);
    // The six of a rootfs, the host's /usr, /etc pieces and /lib*, and the probe itself.
    assert_no_host_mounts(&out, HOST_ONLY, 16);
}

#[test]
fn network_none_has_only_loopback_up() {
    if skip_unless_root() {
        return;
    }
    let root = TempRoot::with_probe("net-none");
    for opts in [&[][..], &["--network", "none"]] {
        let out = in_rootfs(&root, opts, &["netdevs"]);
        out.assert_ok();
        assert_eq!(out.values("netdev"), ["lo up=1"], "{opts:?}\n{out}");
    }
}

fn host_interfaces() -> Vec<String> {
    let mut names: Vec<String> = std::fs::read_to_string("/proc/net/dev")
        .expect("reading the host's /proc/net/dev")
        .lines()
        .skip(2)
        .filter_map(|l| Some(l.split_once(':')?.0.trim().to_owned()))
        .collect();
    names.sort();
    names
}

#[test]
fn network_host_shows_host_interfaces() {
    if skip_unless_root() {
        return;
    }
    let root = TempRoot::with_probe("net-host");
    let out = in_rootfs(&root, &["--network", "host"], &["netdevs"]);
    out.assert_ok();
    let mut inside: Vec<String> = out
        .values("netdev")
        .iter()
        .map(|v| v.split(' ').next().unwrap_or("").to_owned())
        .collect();
    inside.sort();
    assert_eq!(inside, host_interfaces(), "{out}");
}

#[test]
fn cgroup_namespace_roots_every_hierarchy() {
    if skip_unless_root() {
        return;
    }
    let root = TempRoot::with_probe("cgroup");
    let out = in_rootfs(&root, &[], &["cgroup"]);
    out.assert_ok();
    let lines = out.values("cgroup");
    assert!(!lines.is_empty(), "{out}");
    for line in lines {
        assert!(
            line.ends_with(":/"),
            "host cgroup path visible: {line}\n{out}"
        );
    }
}
