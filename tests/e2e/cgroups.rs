//! Resource limits through cgroups, from inside the sandbox and from the host: on this
//! machine's v1 hierarchies (hybrid hosts), plus the v2 code paths on its unified hierarchy
//! for what that holds (placement, `cgroup.kill`, removal). Pure v2 with every controller is
//! covered in VMs by scripts/test-cgroup-v2.sh.

#[path = "../harness/mod.rs"]
mod harness;

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use harness::{
    Outcome, TempRoot, in_rootfs, launcher_command, nucleus, processes_with, rootfs_args, skip,
    skip_unless_root, spawn, wait_until,
};

/// The v1 controllers nucleus uses, as /proc/self/cgroup names their hierarchies here.
const V1: [&str; 7] = [
    "pids", "memory", "cpu", "cpuacct", "blkio", "devices", "freezer",
];

/// Root, and v1 hierarchies with a pids controller (the layout these tests check).
fn skip_unless_v1() -> bool {
    if skip_unless_root() {
        return true;
    }
    skip((!Path::new("/sys/fs/cgroup/pids/cgroup.procs").exists()).then(|| {
        "no cgroup v1 pids hierarchy at /sys/fs/cgroup/pids (v2 runs in scripts/test-cgroup-v2.sh)"
            .to_owned()
    }))
}

/// The sandboxes' parent (`nucleus` below our own cgroup, which the launcher shares) in each
/// v1 hierarchy.
fn v1_parents() -> Vec<PathBuf> {
    let own = std::fs::read_to_string("/proc/self/cgroup").expect("reading /proc/self/cgroup");
    own.lines()
        .filter_map(|l| {
            let mut f = l.splitn(3, ':');
            let (_, ctrls, path) = (f.next()?, f.next()?, f.next()?);
            V1.contains(&ctrls)
                .then(|| PathBuf::from(format!("/sys/fs/cgroup/{ctrls}{path}")).join("nucleus"))
        })
        .collect()
}

/// The unified hierarchy's sandbox parent, if there is a cgroup2 mount.
fn v2_parent() -> Option<PathBuf> {
    let own = std::fs::read_to_string("/proc/self/cgroup").ok()?;
    let path = own.lines().find_map(|l| l.strip_prefix("0::"))?;
    let mount = ["/sys/fs/cgroup/unified", "/sys/fs/cgroup"]
        .into_iter()
        .find(|m| Path::new(m).join("cgroup.controllers").exists())?;
    Some(PathBuf::from(format!("{mount}{path}")).join("nucleus"))
}

/// The directories of sandbox `name` under `parents`.
fn dirs_of(parents: &[PathBuf], name: &str) -> Vec<PathBuf> {
    let prefix = format!("{name}@");
    parents
        .iter()
        .filter_map(|p| std::fs::read_dir(p).ok())
        .flatten()
        .filter_map(|e| e.ok())
        .filter(|e| e.file_name().to_string_lossy().starts_with(&prefix))
        .map(|e| e.path())
        .collect()
}

/// A sandbox id no other test uses (ids allow no '/', and harness names fit).
fn name(tag: &str) -> String {
    harness::unique(tag)
}

fn one_line_error(out: &Outcome, starts: &str) {
    assert_eq!(out.code, 125, "{out}");
    assert_eq!(out.stderr.lines().count(), 1, "{out}");
    assert!(
        out.stderr.starts_with(&format!("nucleus-launch: {starts}")),
        "{out}"
    );
}

#[test]
fn fork_bomb_stops_at_the_pids_limit_and_the_host_stays_responsive() {
    if skip_unless_v1() {
        return;
    }
    let root = TempRoot::with_probe("forkbomb");
    let out = in_rootfs(&root, &["--pids-limit", "50"], &["forkbomb", "500"]);
    out.assert_ok();
    let forked: u32 = out.value("forked").parse().expect("a number");
    // init and the probe count too.
    assert!((40..=48).contains(&forked), "{out}");
    assert_eq!(out.value("error"), "EAGAIN", "{out}");
    // The host forks as usual meanwhile and after.
    let started = Instant::now();
    let st = std::process::Command::new("true")
        .status()
        .expect("host fork");
    assert!(st.success() && started.elapsed() < Duration::from_secs(2));
}

#[test]
fn limits_hold_in_a_user_namespace_too() {
    if skip_unless_v1() {
        return;
    }
    let root = TempRoot::with_probe("userns-limits");
    // The sandbox's root cannot create mount points in a root the host's root owns.
    root.mkdir("proc").mkdir("dev").mkdir("tmp");
    let out = in_rootfs(
        &root,
        &["--userns", "auto", "--pids-limit", "30"],
        &["forkbomb", "500"],
    );
    out.assert_ok();
    let forked: u32 = out.value("forked").parse().expect("a number");
    assert!((20..=28).contains(&forked), "{out}");
    let out = in_rootfs(
        &root,
        &["--userns", "auto", "--memory", "32m"],
        &["hog", "256"],
    );
    assert_eq!(out.code, 137, "{out}");
    assert!(
        out.stderr.contains("killed: out of memory (limit 32 MiB)"),
        "{out}"
    );
}

#[test]
fn default_pids_limit_is_1024() {
    if skip_unless_v1() {
        return;
    }
    let root = TempRoot::with_probe("pids-default");
    let out = in_rootfs(&root, &[], &["forkbomb", "500"]);
    out.assert_ok();
    // Far below the default limit: all 500 forked.
    assert_eq!(out.value("forked"), "500", "{out}");
    assert_eq!(out.value("error"), "none", "{out}");
}

#[test]
fn memory_hog_is_oom_killed_and_reported() {
    if skip_unless_v1() {
        return;
    }
    let root = TempRoot::with_probe("hog");
    let out = in_rootfs(&root, &["--memory", "32m"], &["hog", "256"]);
    assert_eq!(out.code, 137, "{out}");
    assert_eq!(
        out.stderr, "nucleus-launch: killed: out of memory (limit 32 MiB)\n",
        "{out}"
    );
    assert!(out.values("allocated").is_empty(), "{out}");
    // Under the limit, the same hog lives.
    let out = in_rootfs(&root, &["--memory", "512m"], &["hog", "64"]);
    out.assert_ok();
    assert_eq!(out.value("allocated"), "64");
}

#[test]
fn half_a_cpu_is_about_half_a_cpu() {
    if skip_unless_v1() {
        return;
    }
    let root = TempRoot::with_probe("cpus");
    let out = in_rootfs(&root, &["--cpus", "0.5"], &["spin", "1000"]);
    out.assert_ok();
    let cpu: f64 = out.value("cpu_ms").parse().expect("a number");
    let wall: f64 = out.value("wall_ms").parse().expect("a number");
    let share = cpu / wall;
    // A sanity check with a wide margin, not a timing test.
    assert!((0.2..=0.8).contains(&share), "share {share:.2}\n{out}");
}

#[test]
fn cgroups_are_gone_after_exit_and_after_a_failed_start() {
    if skip_unless_v1() {
        return;
    }
    let parents = v1_parents();
    assert!(!parents.is_empty());
    let root = TempRoot::with_probe("gone");
    for (opts, verb, code) in [
        (vec![], vec!["exit", "3"], 3),
        (vec!["--workdir", "/nonexistent"], vec!["pid"], 125),
        (vec![], vec!["no-such-verb"], 99),
    ] {
        let id = name("gone");
        let mut o = vec!["--name", id.as_str()];
        o.extend(opts.iter());
        let out = in_rootfs(&root, &o, &verb);
        assert_eq!(out.code, code, "{out}");
        assert_eq!(dirs_of(&parents, &id), Vec::<PathBuf>::new(), "{out}");
    }
    // A command that does not exist in the root.
    let id = name("gone");
    let out = nucleus([
        "run",
        "--name",
        &id,
        "--rootfs",
        root.arg(),
        "--",
        "/nonexistent",
    ]);
    assert_eq!(out.code, 127, "{out}");
    assert_eq!(dirs_of(&parents, &id), Vec::<PathBuf>::new());
}

#[test]
fn a_killed_launchers_cgroups_are_removed_by_the_next_start() {
    if skip_unless_v1() {
        return;
    }
    let parents = v1_parents();
    let root = TempRoot::with_probe("stale");
    let id = name("stale");
    let marker = harness::unique("stale-sleeper");
    let mut running = spawn(launcher_command(rootfs_args(
        &root,
        &["--name", &id],
        &["sleep", "1000", &marker],
    )));
    let made = wait_until(Duration::from_secs(10), || {
        dirs_of(&parents, &id).len() == parents.len() && processes_with(&marker).len() >= 2
    });
    assert!(made, "no sandbox cgroups: {:?}", dirs_of(&parents, &id));
    running.kill();
    // The sandbox dies with its launcher; its empty cgroups stay behind ...
    assert!(wait_until(Duration::from_secs(5), || processes_with(
        &marker
    )
    .is_empty()));
    let left = dirs_of(&parents, &id);
    assert_eq!(left.len(), parents.len(), "{left:?}");
    // init, orphaned, stays a zombie (and a member) until the host's PID 1 reaps it: up to
    // about 1.5 s on this project's VM.
    let empty = wait_until(Duration::from_secs(10), || {
        left.iter().all(|d| {
            std::fs::read_to_string(d.join("cgroup.procs")).is_ok_and(|p| p.trim().is_empty())
        })
    });
    assert!(
        empty,
        "the killed sandbox's cgroups never emptied: {left:?}"
    );
    // ... until the next start.
    in_rootfs(&root, &[], &["pid"]).assert_ok();
    assert_eq!(dirs_of(&parents, &id), Vec::<PathBuf>::new());
}

#[test]
fn stats_show_a_running_sandbox_and_move() {
    if skip_unless_v1() {
        return;
    }
    let root = TempRoot::with_probe("stats");
    let id = name("stats");
    let mut running = spawn(launcher_command(rootfs_args(
        &root,
        &["--name", &id, "--memory", "256m", "--pids-limit", "64"],
        &["hold", "96", "30"],
    )));
    let stats = || -> serde_json::Value {
        let out = nucleus(["stats", id.as_str(), "--json"]);
        out.assert_ok();
        serde_json::from_str(out.stdout.trim()).expect("stats --json is JSON")
    };
    running.expect_line("ready", Duration::from_secs(10));
    let before = stats();
    running.expect_line("held=96", Duration::from_secs(10));
    let after = stats();
    assert_eq!(after["id"], id.as_str());
    assert_eq!(after["cgroup"]["version"], "v1");
    assert_eq!(after["memory"]["limit_bytes"], 256u64 << 20);
    assert_eq!(after["pids"]["limit"], 64);
    assert!(after["pids"]["current"].as_u64().unwrap() >= 2, "{after}");
    let mem = |v: &serde_json::Value| v["memory"]["current_bytes"].as_u64().unwrap();
    assert!(
        mem(&after) >= mem(&before) + (80 << 20),
        "{before}\n{after}"
    );
    assert!(after["memory"]["peak_bytes"].as_u64().unwrap() >= mem(&after));
    let cpu = |v: &serde_json::Value| v["cpu"]["usage_usec"].as_u64().unwrap();
    assert!(cpu(&after) > cpu(&before), "{before}\n{after}");
    assert!(after["io"]["read_bytes"].is_u64(), "{after}");

    // The table says the same for people.
    let table = nucleus(["stats", id.as_str()]);
    table.assert_ok();
    assert!(table.stdout.contains("limit 256 MiB"), "{table}");
    assert!(table.stdout.contains("(limit 64)"), "{table}");

    // A second sandbox of the same name is refused while this one runs.
    let twice = in_rootfs(&root, &["--name", &id], &["pid"]);
    one_line_error(&twice, &format!("a sandbox named {id} is already running"));

    harness::sys::send_signal(running.pid(), libc::SIGTERM).expect("SIGTERM");
    assert_eq!(running.finish().code, 143);
    let gone = nucleus(["stats", id.as_str()]);
    one_line_error(&gone, &format!("no running sandbox named {id}"));
}

/// The kernel takes the block IO files as written (a throttle on the first disk).
#[test]
fn block_io_throttle_reaches_the_kernel() {
    if skip_unless_v1() {
        return;
    }
    let Some(disk) = ["/dev/vda", "/dev/sda", "/dev/nvme0n1", "/dev/xvda"]
        .into_iter()
        .find(|d| Path::new(d).exists())
    else {
        skip(Some("no disk at /dev/vda, sda, nvme0n1 or xvda".to_owned()));
        return;
    };
    let parents = v1_parents();
    let root = TempRoot::with_probe("blkio");
    let id = name("blkio");
    let rate = format!("{disk}:1m");
    let mut running = spawn(launcher_command(rootfs_args(
        &root,
        &["--name", &id, "--device-read-bps", &rate],
        &["hold", "1", "30"],
    )));
    running.expect_line("held=1", Duration::from_secs(10));
    let blkio = dirs_of(&parents, &id)
        .into_iter()
        .find(|d| d.join("blkio.throttle.read_bps_device").exists())
        .expect("the sandbox's blkio cgroup");
    let set = std::fs::read_to_string(blkio.join("blkio.throttle.read_bps_device")).unwrap();
    assert!(set.trim().ends_with(" 1048576"), "{set:?}");
    harness::sys::send_signal(running.pid(), libc::SIGTERM).expect("SIGTERM");
    assert_eq!(running.finish().code, 143);
}

#[test]
fn bad_values_fail_cleanly() {
    if skip_unless_root() {
        return;
    }
    let root = TempRoot::with_probe("bad");
    for (opts, starts) in [
        (vec!["--memory", "-1"], "--memory \"-1\": not a size"),
        (
            vec!["--memory", "1m"],
            "--memory \"1m\": below the minimum of 6 MiB",
        ),
        (vec!["--cpus", "0"], "--cpus \"0\": must be more than 0"),
        (vec!["--cpus", "-1"], "--cpus \"-1\""),
        (
            vec!["--pids-limit", "abc"],
            "--pids-limit \"abc\": not a whole number",
        ),
        (vec!["--pids-limit", "1"], "--pids-limit \"1\": at least 2"),
        (vec!["--name", "../x"], "--name \"../x\""),
        (vec!["--name", "a/b"], "--name \"a/b\""),
        (vec!["--cgroup-parent", "/"], "--cgroup-parent \"/\""),
        (
            vec!["--memory-swap", "1g"],
            "--memory-swap \"1g\": needs --memory",
        ),
        (
            vec!["--cgroup-manager", "none", "--memory", "64m"],
            "resource limits need cgroups",
        ),
        (
            vec!["--device-read-bps", "/dev/null:1m"],
            "--device-read-bps \"/dev/null:1m\": /dev/null is not a block device",
        ),
    ] {
        let out = in_rootfs(&root, &opts, &["pid"]);
        one_line_error(&out, starts);
    }
}

#[test]
fn devices_outside_the_minimal_dev_are_refused() {
    if skip_unless_v1() {
        return;
    }
    let root = TempRoot::with_probe("devices");
    let opts = ["--rootfs-rw", "--cap-add", "MKNOD", "--landlock", "off"];
    // The null device: allowed.
    let out = in_rootfs(&root, &opts, &["mknod-open", "/null2", "1", "3"]);
    out.assert_ok();
    assert_eq!(
        (out.value("mknod"), out.value("open")),
        ("ok", "ok"),
        "{out}"
    );
    // /dev/net/tun (10:200): not on the list. mknod needs the 'm' right, which the devices
    // cgroup withholds as well.
    let out = in_rootfs(&root, &opts, &["mknod-open", "/tun", "10", "200"]);
    out.assert_ok();
    let refused = out.value("mknod") == "EPERM" || out.values("open").first() == Some(&"EPERM");
    assert!(refused, "{out}");
    // Without cgroups the same steps pass the devices check (open may still fail for
    // reasons of the driver's own, never EPERM).
    let mut none = opts.to_vec();
    none.extend(["--cgroup-manager", "none"]);
    let out = in_rootfs(&root, &none, &["mknod-open", "/tun2", "10", "200"]);
    out.assert_ok();
    assert_eq!(out.value("mknod"), "ok", "{out}");
    assert_ne!(out.value("open"), "EPERM", "{out}");
}

#[test]
fn cgroup_manager_none_makes_no_cgroup() {
    if skip_unless_v1() {
        return;
    }
    let parents = v1_parents();
    let root = TempRoot::with_probe("none");
    let id = name("none");
    let mut running = spawn(launcher_command(rootfs_args(
        &root,
        &["--name", &id, "--cgroup-manager", "none"],
        &["hold", "1", "30"],
    )));
    running.expect_line("held=1", Duration::from_secs(10));
    assert_eq!(dirs_of(&parents, &id), Vec::<PathBuf>::new());
    // No pids limit either.
    running.kill();
    let out = in_rootfs(&root, &["--cgroup-manager", "none"], &["forkbomb", "500"]);
    out.assert_ok();
    assert_eq!(out.value("forked"), "500");
}

/// A process that joined the sandbox's cgroups from outside (so is not in its pid namespace,
/// which ends with init) is killed when the sandbox ends: v1's freezer, SIGKILL, thaw.
#[test]
fn leftovers_in_the_cgroups_are_killed_at_the_end() {
    if skip_unless_v1() {
        return;
    }
    let parents = v1_parents();
    let root = TempRoot::with_probe("leftover");
    let id = name("leftover");
    let mut running = spawn(launcher_command(rootfs_args(
        &root,
        &["--name", &id],
        &["hold", "1", "30"],
    )));
    running.expect_line("held=1", Duration::from_secs(10));
    let mut stray = std::process::Command::new("sleep")
        .arg("100")
        .spawn()
        .expect("a host sleep");
    for d in dirs_of(&parents, &id) {
        std::fs::write(d.join("cgroup.procs"), stray.id().to_string()).expect("joining");
    }
    harness::sys::send_signal(running.pid(), libc::SIGTERM).expect("SIGTERM");
    assert_eq!(running.finish().code, 143);
    use std::os::unix::process::ExitStatusExt;
    assert_eq!(stray.wait().expect("reaping").signal(), Some(libc::SIGKILL));
    assert_eq!(dirs_of(&parents, &id), Vec::<PathBuf>::new());
}

/// The v2 code paths on this host's unified hierarchy: it holds no controller here, so no
/// limit (best effort: only the default pids limit is missing, said at info level), but the
/// sandbox is born in its cgroup (CLONE_INTO_CGROUP), ended with cgroup.kill and removed.
#[test]
fn v2_placement_on_the_unified_hierarchy() {
    if skip_unless_root() {
        return;
    }
    let Some(parent) = v2_parent() else {
        skip(Some("no cgroup2 mount".to_owned()));
        return;
    };
    let root = TempRoot::with_probe("v2");
    let id = name("v2");
    let marker = harness::unique("v2-sleeper");
    let running = spawn(launcher_command(rootfs_args(
        &root,
        &["--name", &id, "--cgroup-manager", "v2"],
        &["sleep", "1000", &marker],
    )));
    let parents = [parent];
    let mut dir = None;
    let placed = wait_until(Duration::from_secs(10), || {
        dir = dirs_of(&parents, &id).pop();
        let procs = dir
            .as_ref()
            .and_then(|d| std::fs::read_to_string(d.join("cgroup.procs")).ok())
            .unwrap_or_default();
        let pids: Vec<u32> = procs.lines().filter_map(|l| l.parse().ok()).collect();
        // init and the probe (the launcher's clone child carries the marker too).
        let workload = processes_with(&marker)
            .into_iter()
            .find(|p| *p != running.pid());
        workload.is_some_and(|w| pids.contains(&w)) && pids.len() >= 2
    });
    assert!(placed, "the sandbox is not in {dir:?}");
    // stats finds it through the unified hierarchy.
    let out = nucleus(["stats", &id, "--json", "--cgroup-manager", "v2"]);
    out.assert_ok();
    assert!(out.stdout.contains("\"version\":\"v2\""), "{out}");
    // SIGTERM is relayed; the sandbox ends and its cgroup goes.
    harness::sys::send_signal(running.pid(), libc::SIGTERM).expect("SIGTERM");
    let out = running.finish();
    assert_eq!(out.code, 143, "{out}");
    assert_eq!(dirs_of(&parents, &id), Vec::<PathBuf>::new());
    // With --cgroup-require the missing pids controller refuses the start.
    let out = in_rootfs(
        &root,
        &["--cgroup-manager", "v2", "--cgroup-require"],
        &["pid"],
    );
    if out.code == 125 {
        one_line_error(&out, "--cgroup-require: not enforced on this host");
    } else {
        // A host whose unified hierarchy has the pids controller.
        out.assert_ok();
    }
}
