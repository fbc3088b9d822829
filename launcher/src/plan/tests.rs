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
            Op::Remount { target, .. } => format!("remount {}", target.to_str().unwrap()),
            Op::Sysctl { key, .. } => format!("sysctl {}", key.to_str().unwrap()),
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

fn pos_of(names: &[String], prefix: &str) -> usize {
    names
        .iter()
        .position(|n| n.starts_with(prefix))
        .unwrap_or_else(|| panic!("{prefix} missing from {names:?}"))
}

fn oci_plan(cfg: &Config) -> Result<CompiledPlan, Error> {
    compile(
        cfg,
        &HostRoot::default(),
        &Programs::default(),
        &Ruleset::default(),
    )
}

#[test]
fn oci_bundle_plan_follows_the_bundle_then_sysctls_read_only_paths_and_masks() {
    use crate::config::oci::SandboxCgroups;
    use crate::oci::bundle::tests::{PODMAN, ROOT, TempBundle};
    let t = TempBundle::new("plan");
    let mut cfg = t.load(PODMAN, ROOT).unwrap().config;
    // Without the sandbox's cgroups its cgroup mount cannot be made: refused, not left out.
    let e = oci_plan(&cfg).unwrap_err().to_string();
    assert!(e.contains("mounts[9] (/sys/fs/cgroup)"), "{e}");

    cfg.oci.as_mut().unwrap().cgroups = Some(SandboxCgroups::V1(vec![
        (
            vec!["memory".into()],
            "/sys/fs/cgroup/memory/nucleus/x".into(),
        ),
        (
            vec!["cpu".into(), "cpuacct".into()],
            "/sys/fs/cgroup/cpu,cpuacct/nucleus/x".into(),
        ),
    ]));
    let plan = oci_plan(&cfg).unwrap();
    let n = names(&plan);
    assert_eq!(n[1], "root-bind");
    // The bundle's mounts in its order, and none of `run`'s own.
    let mounts: Vec<&str> = n
        .iter()
        .filter(|x| x.starts_with("mount ") || x.starts_with("bind "))
        .map(|x| match x.strip_prefix("bind ") {
            // Without the flags.
            Some(_) => x.rsplitn(2, ' ').last().unwrap(),
            None => x.as_str(),
        })
        .collect();
    assert_eq!(
        mounts,
        [
            "mount proc proc",
            "mount tmpfs dev",
            "mount sysfs sys",
            "mount devpts dev/pts",
            "mount mqueue dev/mqueue",
            "bind etc/hostname",
            "bind etc/hosts",
            "bind dev/shm",
            "bind run/.containerenv",
            "mount tmpfs sys/fs/cgroup",
            "bind sys/fs/cgroup/memory",
            "bind sys/fs/cgroup/cpu,cpuacct",
        ]
    );
    assert!(!n.contains(&"mount tmpfs tmp".to_owned()));
    let shallow = flags::NOFOLLOW | flags::SHALLOW;
    assert!(
        n.contains(&format!("bind etc/hostname {shallow}")),
        "podman's bind is not rbind"
    );
    assert!(n.contains(&format!(
        "bind dev/shm {}",
        shallow | flags::NOSUID | flags::NOEXEC | flags::NODEV
    )));
    // Co-mounted controllers get a link each; the cgroup tmpfs turns read-only once filled.
    let cpu = pos_of(&n, "bind sys/fs/cgroup/cpu,cpuacct");
    assert!(pos(&n, "symlink sys/fs/cgroup/cpuacct") > cpu);
    assert!(pos(&n, "remount sys/fs/cgroup") > cpu);
    // Device nodes go into the bundle's /dev once everything is mounted.
    assert!(pos(&n, "dev dev/null") > pos_of(&n, "bind run/.containerenv"));
    assert!(pos(&n, "symlink dev/ptmx") > pos(&n, "dev dev/null"));
    // Sysctls while /proc/sys is still writable, then read-only paths, then masks on top.
    let sysctl = pos(&n, "sysctl net/ipv4/ping_group_range");
    assert!(pos(&n, "mount proc proc") < sysctl);
    assert!(sysctl < pos(&n, "ro proc/sys"));
    assert!(pos(&n, "ro proc/sysrq-trigger") < pos(&n, "mask proc/acpi"));
    assert!(pos(&n, "dev dev/null") < pos(&n, "mask proc/kcore"));
    assert!(n.contains(&"mask sys/dev/block".to_owned()));
    assert!(
        !n.contains(&"mask proc/asound".to_owned()),
        "the bundle's lists replace nucleus's"
    );
    assert!(pos(&n, "mask sys/fs/selinux") < pos(&n, "pivot"));
    assert!(
        !n.contains(&"remount-root".to_owned()),
        "podman's root is writable"
    );
    assert!(pos(&n, "pivot") < pos(&n, "hostname"));
    assert!(n.contains(&"lo".to_owned()));
    assert_eq!(n.last().unwrap(), "exec");
    assert_eq!(
        plan.describe(sysctl as u16),
        "setting the sysctl net.ipv4.ping_group_range to \"0 0\" (linux.sysctl)"
    );
}

#[test]
fn oci_read_only_dev_is_filled_first_and_shared_namespaces_are_left_alone() {
    use crate::config::oci::SandboxCgroups;
    use crate::oci::bundle::tests::{RUNC_ROOTLESS, TempBundle, put};
    let t = TempBundle::new("plan-rootless");
    let mut b = t
        .edited(RUNC_ROOTLESS, |v| {
            put(v, "/mounts/1/options/0", serde_json::json!("ro"));
            serde_json::Value::as_array_mut(v.pointer_mut("/linux/namespaces").unwrap())
                .unwrap()
                .retain(|n| n["type"] != "uts");
            put(v, "/hostname", serde_json::json!(""));
        })
        .unwrap();
    b.config.oci.as_mut().unwrap().cgroups =
        Some(SandboxCgroups::V2("/sys/fs/cgroup/nucleus/x".into()));
    let n = names(&oci_plan(&b.config).unwrap());
    // A read-only /dev is mounted writable, filled, then made read-only.
    assert!(n.contains(&"mount tmpfs dev".to_owned()));
    assert!(pos(&n, "remount dev") > pos(&n, "symlink dev/stderr"));
    // In a user namespace the host's device nodes are bound, not made.
    assert!(n.contains(&"bind dev/null 0".to_owned()));
    assert!(!n.iter().any(|x| x.starts_with("dev ")));
    // On v2 the sandbox's one cgroup directory is bound.
    assert!(n.contains(&format!(
        "bind sys/fs/cgroup {}",
        flags::NOFOLLOW
            | flags::SHALLOW
            | flags::RDONLY
            | flags::NOSUID
            | flags::NOEXEC
            | flags::NODEV
            | flags::RELATIME
    )));
    assert!(pos(&n, "remount-root") < pos(&n, "pivot"));
    assert!(
        !n.contains(&"hostname".to_owned()),
        "no uts namespace: the host's name stays"
    );
    assert!(!n.contains(&"lo".to_owned()), "the host's network");
}
