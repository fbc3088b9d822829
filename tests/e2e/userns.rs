//! User namespaces: `--userns auto` and `--userns map` as root, and rootless use by an
//! unprivileged caller, checked from inside and from the host.

#[path = "../harness/mod.rs"]
mod harness;

use std::os::unix::fs::MetadataExt;
use std::process::Command;

use harness::{Outcome, TempRoot, finish, in_rootfs, nucleus, rootfs_args, skip_unless_root};

/// The uid of `nobody`: an unprivileged caller for rootless runs.
const NOBODY: u32 = 65534;

/// One `inside outside count` line of a uid_map.
fn map_line(out: &Outcome, file: &str) -> Vec<u64> {
    out.value(&format!("read /proc/self/{file}"))
        .split_whitespace()
        .map(|v| v.parse().expect("number"))
        .collect()
}

/// `nucleus-launch ARGS` run by `nobody`, without any privilege.
fn as_nobody(args: Vec<String>) -> Outcome {
    let mut cmd = Command::new("setpriv");
    cmd.args([
        format!("--reuid={NOBODY}"),
        format!("--regid={NOBODY}"),
        "--clear-groups".into(),
    ])
    .arg("--inh-caps=-all")
    .arg(harness::launcher())
    .args(args)
    .stdin(std::process::Stdio::null())
    .stdout(std::process::Stdio::piped())
    .stderr(std::process::Stdio::piped());
    finish(cmd)
}

/// A probe rootfs a user namespace can use: readable, with its mount points present (the
/// sandbox's root, an unprivileged id on the host, cannot create them in a root-owned
/// directory).
fn rootless_root(tag: &str) -> TempRoot {
    let root = TempRoot::with_probe(tag);
    for dir in ["proc", "dev", "tmp"] {
        root.mkdir(dir);
    }
    root
}

#[test]
fn auto_maps_root_to_an_unprivileged_host_range() {
    if skip_unless_root() {
        return;
    }
    let root = rootless_root("userns-auto");
    root.mkdir("data");
    let vol = TempRoot::empty("userns-auto-vol");
    let volume = format!("{}:/data", vol.arg());
    let out = in_rootfs(
        &root,
        &["--userns", "auto", "-v", &volume],
        &["read", "/proc/self/uid_map"],
    );
    assert_eq!(out.code, 0, "{out}");
    let line = map_line(&out, "uid_map");
    assert_eq!((line[0], line[2]), (0, 65536), "{out}");
    assert!(
        line[1] >= 0x4000_0000,
        "root inside must not be a real host user: {out}"
    );

    // A file root creates inside belongs, on the host, to an id of that range: not to root.
    // The host directory must let that id in: world-writable, like /tmp.
    std::fs::set_permissions(
        vol.path(),
        std::os::unix::fs::PermissionsExt::from_mode(0o777),
    )
    .unwrap();
    let wrote = in_rootfs(
        &root,
        &["--userns", "auto", "-v", &volume],
        &["write", "/data/f"],
    );
    assert_eq!(wrote.value("write /data/f"), "ok", "{wrote}");
    let owner = std::fs::metadata(vol.join("f")).unwrap().uid();
    assert!(owner >= 0x4000_0000, "file owned by host uid {owner}");
}

#[test]
fn explicit_maps_are_written_as_given() {
    if skip_unless_root() {
        return;
    }
    let root = rootless_root("userns-map");
    let opts = [
        "--userns",
        "map",
        "--uid-map",
        "0:200000:1000",
        "--gid-map",
        "0:300000:1000",
        "--user",
        "7:8",
    ];
    let out = in_rootfs(&root, &opts, &["read", "/proc/self/uid_map"]);
    assert_eq!(map_line(&out, "uid_map"), [0, 200000, 1000], "{out}");
    let ids = in_rootfs(&root, &opts, &["uid"]);
    assert_eq!((ids.value("uid"), ids.value("gid")), ("7", "8"), "{ids}");
    let gid = in_rootfs(&root, &opts, &["read", "/proc/self/gid_map"]);
    assert_eq!(map_line(&gid, "gid_map"), [0, 300000, 1000], "{gid}");
}

#[test]
fn an_unprivileged_caller_gets_a_working_sandbox() {
    if skip_unless_root() {
        return;
    }
    // Default root: the README's example, run by nobody.
    let out = as_nobody(vec![
        "run".into(),
        "--".into(),
        "sh".into(),
        "-c".into(),
        "id -u; hostname; cat /proc/self/uid_map".into(),
    ]);
    assert_eq!(out.code, 0, "{out}");
    let lines: Vec<&str> = out.stdout.lines().collect();
    assert_eq!(lines[0], "0", "root inside\n{out}");
    assert_eq!(lines[1], "nucleus", "{out}");
    let map: Vec<&str> = lines[2].split_whitespace().collect();
    assert_eq!(map, ["0", "65534", "1"], "only the caller is mapped\n{out}");

    // A probe rootfs: every isolation still holds.
    let root = rootless_root("userns-rootless");
    let ps = as_nobody(rootfs_args(&root, &[], &["pid"]));
    assert_eq!((ps.code, ps.value("pid")), (0, "2"), "{ps}");
    let caps = as_nobody(rootfs_args(&root, &[], &["caps"]));
    assert_eq!(caps.value("CapEff"), "0000000000000000", "{caps}");
    assert_eq!(caps.value("Seccomp"), "2", "{caps}");
    let net = as_nobody(rootfs_args(&root, &[], &["netdevs"]));
    assert_eq!(net.code, 0, "{net}");
}

#[test]
fn what_an_unprivileged_caller_cannot_have_is_refused_clearly() {
    if skip_unless_root() {
        return;
    }
    let root = rootless_root("userns-refused");
    for opts in [
        vec!["--uid-map", "0:100000:10", "--gid-map", "0:100000:10"],
        vec!["--user", "1000"],
    ] {
        let out = as_nobody(rootfs_args(&root, &opts, &["pid"]));
        assert_eq!(out.code, 125, "{opts:?}\n{out}");
        assert_eq!(out.stderr.lines().count(), 1, "{out}");
    }
}

#[test]
fn bad_maps_are_refused() {
    if skip_unless_root() {
        return;
    }
    for opts in [
        vec!["--uid-map", "0:100000:10"],
        vec!["--userns", "map", "--uid-map", "0:100000:10"],
        vec![
            "--userns",
            "map",
            "--uid-map",
            "0:1:0",
            "--gid-map",
            "0:1:1",
        ],
        vec![
            "--userns",
            "map",
            "--uid-map",
            "0:100:10",
            "--uid-map",
            "5:200:10",
            "--gid-map",
            "0:1:1",
        ],
        vec!["--userns", "auto", "--uid-map", "0:1:1"],
        vec!["--userns", "bogus"],
    ] {
        let mut args = vec!["run"];
        args.extend(&opts);
        args.extend(["--", "true"]);
        let out = nucleus(args);
        assert_eq!(out.code, 125, "{opts:?}\n{out}");
        assert!(
            out.stderr.starts_with("nucleus-launch: ") && out.stderr.lines().count() == 1,
            "{out}"
        );
    }
}
