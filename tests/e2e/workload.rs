//! What the workload is started with: environment, working directory, user.

#[path = "../harness/mod.rs"]
mod harness;

use harness::{
    Outcome, TempRoot, finish, in_rootfs, launcher_command, rootfs_args, skip_unless_root,
};

/// `env:KEY=VALUE` lines, in order.
fn env_of(out: &Outcome) -> Vec<String> {
    out.assert_ok();
    out.stdout
        .lines()
        .filter_map(|l| l.strip_prefix("env:").map(str::to_owned))
        .collect()
}

#[test]
fn environment_is_clean() {
    if skip_unless_root() {
        return;
    }
    let root = TempRoot::with_probe("env-clean");
    let mut cmd = launcher_command(rootfs_args(&root, &[], &["env"]));
    cmd.env("NUCLEUS_TEST_LEAK", "from the caller");
    let out = finish(cmd);
    assert_eq!(
        env_of(&out),
        [
            "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin",
            "HOSTNAME=nucleus",
            "HOME=/root",
        ],
        "{out}"
    );
}

#[test]
fn env_option_sets_copies_and_overrides() {
    if skip_unless_root() {
        return;
    }
    let root = TempRoot::with_probe("env-opt");
    let unset = harness::unique("unset").replace('-', "_");
    let opts = [
        "-e",
        "A=b=c",
        "-e",
        "EMPTY=",
        "-e",
        "COPIED",
        "-e",
        &unset,
        "-e",
        "PATH=/bin",
    ];
    let mut cmd = launcher_command(rootfs_args(&root, &opts, &["env"]));
    cmd.env("COPIED", "from the caller").env_remove(&unset);
    let out = finish(cmd);
    let env = env_of(&out);
    for want in ["A=b=c", "EMPTY=", "COPIED=from the caller", "PATH=/bin"] {
        assert!(env.iter().any(|e| e == want), "{want} missing\n{out}");
    }
    assert!(
        !env.iter().any(|e| e.starts_with(&format!("{unset}="))),
        "{out}"
    );
    assert_eq!(
        env.iter().filter(|e| e.starts_with("PATH=")).count(),
        1,
        "{out}"
    );
}

#[test]
fn workdir_option_sets_the_cwd() {
    if skip_unless_root() {
        return;
    }
    let root = TempRoot::with_probe("workdir");
    let default = in_rootfs(&root, &[], &["cwd"]);
    assert_eq!(default.value("cwd"), "/", "{default}");
    for dir in ["/tmp", "/dev/pts"] {
        let out = in_rootfs(&root, &["-w", dir], &["cwd"]);
        out.assert_ok();
        assert_eq!(out.value("cwd"), dir, "{out}");
    }
}

#[test]
fn user_option_sets_uid_and_gid() {
    if skip_unless_root() {
        return;
    }
    let root = TempRoot::with_probe("user");
    for (user, uid, gid) in [
        ("1000:2000", "1000", "2000"),
        ("1234", "1234", "1234"),
        ("0", "0", "0"),
    ] {
        let out = in_rootfs(&root, &["--user", user], &["uid"]);
        out.assert_ok();
        for key in ["uid", "euid", "suid", "fsuid"] {
            assert_eq!(out.value(key), uid, "{user}: {key}\n{out}");
        }
        for key in ["gid", "egid", "sgid", "fsgid"] {
            assert_eq!(out.value(key), gid, "{user}: {key}\n{out}");
        }
        assert_eq!(
            out.value("groups"),
            "",
            "{user}: no supplementary groups\n{out}"
        );
    }
    let home = in_rootfs(&root, &["--user", "1000"], &["env"]);
    assert_eq!(home.value("env:HOME"), "/", "{home}");
}
