use std::path::PathBuf;

use nucleus_shared::plan::{Op, Plan};

use super::default_root::Entry;
use super::*;
use crate::cli::RunArgs;
use crate::landlock::Ruleset;

fn config(rootfs: Option<&str>, extra: impl FnOnce(&mut RunArgs)) -> Config {
    let mut a = RunArgs {
        rootfs: rootfs.map(str::to_owned),
        network: "none".into(),
        seccomp: Some("default".into()),
        command: vec!["sh".into(), "-c".into(), "true".into()],
        ..Default::default()
    };
    extra(&mut a);
    Config::from_args(a, |_| None).unwrap()
}

fn host() -> HostRoot {
    HostRoot {
        entries: vec![
            ("usr", Entry::Dir),
            ("bin", Entry::Link(PathBuf::from("usr/bin"))),
        ],
        resolv_conf: true,
    }
}

/// The operations as short names, to check their order.
fn names(plan: &CompiledPlan) -> Vec<String> {
    Plan::decode(&plan.bytes)
        .unwrap()
        .ops()
        .map(|(_, op)| match op {
            Op::Enter { .. } => "enter".to_owned(),
            Op::RootTmpfs => "root-tmpfs".into(),
            Op::RootBind { .. } => "root-bind".into(),
            Op::Mkdir { path, .. } => format!("mkdir {}", path.to_str().unwrap()),
            Op::Symlink { path, .. } => format!("symlink {}", path.to_str().unwrap()),
            Op::WriteFile { path, .. } => format!("write {}", path.to_str().unwrap()),
            Op::CharDev { path, .. } => format!("dev {}", path.to_str().unwrap()),
            Op::Mount { fstype, target, .. } => format!(
                "mount {} {}",
                fstype.to_str().unwrap(),
                target.to_str().unwrap()
            ),
            Op::Bind { target, flags, .. } => format!("bind {} {flags}", target.to_str().unwrap()),
            Op::RemountRoot { .. } => "remount-root".into(),
            Op::PivotRoot => "pivot".into(),
            Op::Hostname { .. } => "hostname".into(),
            Op::LoopbackUp => "lo".into(),
            Op::Mask { target } => format!("mask {}", target.to_str().unwrap()),
            Op::ReadOnly { target } => format!("ro {}", target.to_str().unwrap()),
            Op::AwaitStart => "await-start".into(),
            Op::Exec(_) => "exec".into(),
        })
        .collect()
}

fn pos(names: &[String], name: &str) -> usize {
    names
        .iter()
        .position(|n| n == name)
        .unwrap_or_else(|| panic!("{name} missing from {names:?}"))
}

#[test]
fn rootfs_plan_builds_everything_before_pivoting_and_execs_last() {
    let dir = std::env::temp_dir();
    let n = names(
        &compile(
            &config(Some(dir.to_str().unwrap()), |_| {}),
            &HostRoot::default(),
            &Programs::default(),
            &Ruleset::default(),
        )
        .unwrap(),
    );
    assert_eq!(n[0], "enter");
    assert_eq!(n[1], "root-bind");
    assert!(pos(&n, "mount proc proc") < pos(&n, "pivot"));
    assert!(pos(&n, "dev dev/null") < pos(&n, "pivot"));
    // Masks need the sandbox's own /dev/null and /proc, and must be in place before the pivot.
    assert!(pos(&n, "dev dev/null") < pos(&n, "mask proc/kcore"));
    assert!(pos(&n, "mount proc proc") < pos(&n, "ro proc/sys"));
    assert!(pos(&n, "ro proc/sysrq-trigger") < pos(&n, "pivot"));
    assert!(pos(&n, "mount tmpfs tmp") < pos(&n, "remount-root"));
    assert!(pos(&n, "remount-root") < pos(&n, "pivot"));
    assert!(pos(&n, "pivot") < pos(&n, "hostname"));
    assert_eq!(n.last().unwrap(), "exec");
    assert!(n.contains(&"lo".to_owned()));
}

#[test]
fn rootfs_rw_skips_the_read_only_remount_and_host_network_skips_loopback() {
    let dir = std::env::temp_dir();
    let cfg = config(Some(dir.to_str().unwrap()), |a| {
        a.rootfs_rw = true;
        a.network = "host".into();
    });
    let n = names(
        &compile(
            &cfg,
            &HostRoot::default(),
            &Programs::default(),
            &Ruleset::default(),
        )
        .unwrap(),
    );
    assert!(!n.contains(&"remount-root".to_owned()));
    assert!(!n.contains(&"lo".to_owned()));
}

#[test]
fn default_root_shares_host_dirs_read_only_and_recreates_links() {
    let n = names(
        &compile(
            &config(None, |_| {}),
            &host(),
            &Programs::default(),
            &Ruleset::default(),
        )
        .unwrap(),
    );
    assert_eq!(n[1], "root-tmpfs");
    assert!(n.contains(&format!(
        "bind usr {}",
        flags::RDONLY | flags::NODEV | flags::NOFOLLOW
    )));
    assert!(n.contains(&"symlink bin".to_owned()));
    assert!(n.contains(&"write etc/passwd".to_owned()));
    assert!(
        n.contains(&"remount-root".to_owned()),
        "the default root is always read-only"
    );
}

#[test]
fn volumes_and_tmpfs_come_after_the_base_mounts() {
    let dir = std::env::temp_dir();
    let cfg = config(None, |a| {
        a.volumes = vec![format!("{}:/data:ro", dir.display())];
        a.tmpfs = vec!["/scratch:size=1m".into()];
    });
    let plan = compile(&cfg, &host(), &Programs::default(), &Ruleset::default()).unwrap();
    let n = names(&plan);
    let bind = pos(
        &n,
        &format!("bind data {}", flags::RDONLY | flags::NOFOLLOW),
    );
    assert!(pos(&n, "mount tmpfs tmp") < bind);
    assert!(bind < pos(&n, "mount tmpfs scratch"));
    assert_eq!(
        plan.describe(bind as u16),
        format!("bind-mounting {} onto /data", dir.display())
    );
}
