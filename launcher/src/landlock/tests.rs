use std::path::PathBuf;

use nucleus_shared::plan::{Op, Plan};
use nucleus_shared::status::{StatusRecord, Step};

use super::access::*;
use super::*;
use crate::cli::RunArgs;
use crate::plan::Entry;
use crate::seccomp::Programs;

fn args(rootfs: Option<&str>, extra: impl FnOnce(&mut RunArgs)) -> RunArgs {
    let mut a = RunArgs {
        rootfs: rootfs.map(str::to_owned),
        network: "none".into(),
        seccomp: Some("default".into()),
        command: vec!["sh".into()],
        ..Default::default()
    };
    extra(&mut a);
    a
}

fn config(rootfs: Option<&str>, extra: impl FnOnce(&mut RunArgs)) -> Config {
    Config::from_args(args(rootfs, extra), |_| None).unwrap()
}

fn usage_error(extra: impl FnOnce(&mut RunArgs)) -> String {
    match Config::from_args(args(None, extra), |_| None) {
        Ok(_) => panic!("accepted"),
        Err(e) => {
            assert_eq!(e.exit_code(), 125);
            e.to_string()
        }
    }
}

fn temp() -> String {
    std::env::temp_dir().to_str().unwrap().to_owned()
}

fn host() -> HostRoot {
    HostRoot {
        entries: vec![
            ("usr", Entry::Dir),
            ("bin", Entry::Link(PathBuf::from("usr/bin"))),
            ("lib64", Entry::Dir),
            ("etc/ld.so.cache", Entry::File),
        ],
        resolv_conf: false,
    }
}

/// The rules' (path, access) before any kernel reduction.
fn rules(cfg: &Config, host: &HostRoot) -> Vec<(String, u64)> {
    fs_rules(cfg, host)
        .into_iter()
        .map(|r| (r.path, r.access))
        .collect()
}

fn access_of(rules: &[(String, u64)], path: &str) -> Option<u64> {
    rules.iter().find(|(p, _)| p == path).map(|(_, a)| *a)
}

fn on(cfg: &Config, abi: u32) -> Result<(Ruleset, Report), Error> {
    compile(cfg, &host(), Kernel::from_abi(abi))
}

// ---------------------------------------------------------------- the command line

#[test]
fn command_line_options_reach_the_request() {
    let m = crate::cli::command()
        .try_get_matches_from([
            "nucleus-launch",
            "run",
            "--landlock-ro",
            "/data",
            "--landlock-rw",
            "/out/",
            "--landlock-exec",
            "/opt/bin",
            "--landlock-bind",
            "8080",
            "--landlock-connect",
            "443,80",
            "--landlock-require",
            "--",
            "true",
        ])
        .unwrap();
    let crate::cli::Invocation::Run(a) = crate::cli::invocation(&m) else {
        panic!("not run")
    };
    let cfg = Config::from_args(*a, |_| None).unwrap();
    let r = &cfg.landlock;
    assert!(r.enabled && r.require);
    let paths: Vec<(Kind, &str)> = r.paths.iter().map(|(k, p)| (*k, p.as_str())).collect();
    assert_eq!(
        paths,
        [
            (Kind::Ro, "/data"),
            (Kind::Rw, "/out"),
            (Kind::Exec, "/opt/bin")
        ]
    );
    assert_eq!(r.bind, [8080]);
    assert_eq!(r.connect, [443, 80]);

    let m = crate::cli::command()
        .try_get_matches_from(["nucleus-launch", "run", "--landlock", "off", "--", "true"])
        .unwrap();
    let crate::cli::Invocation::Run(a) = crate::cli::invocation(&m) else {
        panic!("not run")
    };
    assert!(!Config::from_args(*a, |_| None).unwrap().landlock.enabled);
    assert!(
        crate::cli::command()
            .try_get_matches_from(["nucleus-launch", "run", "--landlock", "maybe", "--", "true"])
            .is_err()
    );
}

#[test]
fn landlock_is_on_by_default() {
    let r = config(None, |_| {}).landlock;
    assert_eq!(r, Request::default());
    assert!(r.enabled && !r.require);
}

#[test]
fn bad_paths_are_refused_naming_the_option() {
    let e = usage_error(|a| a.landlock_ro = vec!["data".into()]);
    assert_eq!(e, "--landlock-ro: \"data\" is not an absolute path");
    let e = usage_error(|a| a.landlock_rw = vec!["/a/../etc".into()]);
    assert!(
        e.starts_with("--landlock-rw: ") && e.contains("'..'"),
        "{e}"
    );
    let e = usage_error(|a| a.landlock_exec = vec![String::new()]);
    assert!(e.starts_with("--landlock-exec: "), "{e}");
    let e = usage_error(|a| a.landlock_ro = vec!["/x\0y".into()]);
    assert!(e.contains("NUL"), "{e}");
}

#[test]
fn bad_ports_are_refused() {
    let e = usage_error(|a| a.landlock_bind = vec!["http".into()]);
    assert_eq!(
        e,
        "--landlock-bind \"http\": expected a port number from 1 to 65535"
    );
    for bad in ["65536", "-1", "+80", " 80", "", "99999999999"] {
        let e = usage_error(|a| a.landlock_connect = vec![bad.into()]);
        assert!(e.contains("from 1 to 65535"), "{bad}: {e}");
    }
    let e = usage_error(|a| a.landlock_connect = vec!["0".into()]);
    assert!(
        e.starts_with("--landlock-connect 0: port 0 means \"any port the kernel picks\""),
        "{e}"
    );
    assert_eq!(
        config(None, |a| a.landlock_bind = vec!["65535".into(), "1".into()])
            .landlock
            .bind,
        [65535, 1]
    );
}

#[test]
fn duplicates_are_refused_but_kinds_combine() {
    let e = usage_error(|a| a.landlock_ro = vec!["/data".into(), "/data/".into()]);
    assert_eq!(e, "--landlock-ro /data is given twice");
    let e = usage_error(|a| a.landlock_bind = vec!["80".into(), "80".into()]);
    assert_eq!(e, "--landlock-bind 80 is given twice");
    // The same path for reading and executing, the same port for bind and connect: fine.
    let cfg = config(None, |a| {
        a.landlock_ro = vec!["/data".into()];
        a.landlock_exec = vec!["/data".into()];
        a.landlock_bind = vec!["80".into()];
        a.landlock_connect = vec!["80".into()];
    });
    let (ruleset, _) = on(&cfg, 7).unwrap();
    let data: Vec<_> = ruleset
        .fs_rules
        .iter()
        .filter(|r| r.path == "/data")
        .collect();
    assert_eq!(data.len(), 1);
    assert_eq!(data[0].access, RX);
    assert_eq!(ruleset.net_rules.len(), 1);
    assert_eq!(ruleset.net_rules[0].access, BIND_TCP | CONNECT_TCP);
}

#[test]
fn off_refuses_rules_and_require() {
    let e = usage_error(|a| {
        a.landlock = Some("off".into());
        a.landlock_ro = vec!["/data".into()];
    });
    assert!(e.starts_with("--landlock off: Landlock rules"), "{e}");
    let e = usage_error(|a| {
        a.landlock = Some("off".into());
        a.landlock_require = true;
    });
    assert_eq!(e, "--landlock-require contradicts --landlock off");
    let e = usage_error(|a| a.landlock = Some("maybe".into()));
    assert!(e.contains("expected on or off"), "{e}");
}

#[test]
fn too_many_rules_are_refused() {
    let e = usage_error(|a| {
        a.landlock_ro = (0..300).map(|i| format!("/d{i}")).collect();
    });
    assert!(e.contains("at most"), "{e}");
}

// ---------------------------------------------------------------- the default ruleset

#[test]
fn default_root_reads_everything_executes_system_dirs_and_writes_scratch() {
    let r = rules(&config(None, |_| {}), &host());
    assert_eq!(access_of(&r, "/"), Some(RO));
    assert_eq!(access_of(&r, "/usr"), Some(RX));
    assert_eq!(access_of(&r, "/lib64"), Some(RX));
    // Links have the rule of their target; files under /etc are covered by "/".
    assert_eq!(access_of(&r, "/bin"), None);
    assert_eq!(access_of(&r, "/etc/ld.so.cache"), None);
    for p in ["/tmp", "/dev/shm", "/dev/pts", "/dev/null", "/dev/tty"] {
        assert_eq!(access_of(&r, p), Some(SCRATCH), "{p}");
        assert_eq!(
            access_of(&r, p).unwrap() & EXECUTE,
            0,
            "{p} is not executable"
        );
    }
    // Implied by "/": no rule of their own.
    assert_eq!(access_of(&r, "/dev"), None);
    assert_eq!(access_of(&r, "/proc"), None);
    // The workdir "/" is not made writable.
    assert!(r.iter().all(|(p, a)| p != "/" || a & WRITE_FILE == 0));
}

#[test]
fn rootfs_is_readable_and_executable_and_writable_only_with_rootfs_rw() {
    let r = rules(&config(Some(&temp()), |_| {}), &HostRoot::default());
    assert_eq!(access_of(&r, "/"), Some(RX));
    assert_eq!(access_of(&r, "/tmp"), Some(SCRATCH));

    let r = rules(
        &config(Some(&temp()), |a| a.rootfs_rw = true),
        &HostRoot::default(),
    );
    assert_eq!(access_of(&r, "/"), Some(RW));
    // Everything else is implied.
    assert_eq!(r.len(), 1, "{r:?}");
}

#[test]
fn workdir_volumes_and_tmpfs_get_what_their_mounts_allow() {
    let dir = temp();
    let cfg = config(None, |a| {
        a.workdir = Some("/work".into());
        a.volumes = vec![format!("{dir}:/data:ro"), format!("{dir}:/out")];
        a.tmpfs = vec![
            "/scratch".into(),
            "/run:exec".into(),
            "/ro:ro".into(),
            "/rox:ro,exec".into(),
        ];
    });
    let r = rules(&cfg, &host());
    assert_eq!(access_of(&r, "/work"), Some(RW));
    assert_eq!(access_of(&r, "/data"), Some(RX | RESOLVE_UNIX));
    assert_eq!(access_of(&r, "/out"), Some(RW));
    assert_eq!(access_of(&r, "/scratch"), Some(SCRATCH));
    assert_eq!(access_of(&r, "/run"), Some(RW));
    // Read-only without exec: implied by "/".
    assert_eq!(access_of(&r, "/ro"), None);
    assert_eq!(access_of(&r, "/rox"), Some(RX));
}

#[test]
fn user_rules_add_to_the_defaults_and_are_never_dropped() {
    let cfg = config(None, |a| {
        a.landlock_ro = vec!["/etc".into(), "/tmp".into()];
        a.landlock_exec = vec!["/tmp".into()];
        a.landlock_rw = vec!["/var/lib/x".into()];
    });
    let all = fs_rules(&cfg, &host());
    let etc = all
        .iter()
        .find(|r| r.path == "/etc")
        .expect("kept though implied");
    assert_eq!(etc.access, RO);
    assert_eq!(etc.origin, "--landlock-ro /etc");
    let tmp = all.iter().find(|r| r.path == "/tmp").unwrap();
    assert_eq!(tmp.access, ALL, "scratch + exec");
    assert_eq!(
        tmp.origin, "--landlock-ro /tmp",
        "the user's option names the rule"
    );
    let r = rules(&cfg, &host());
    assert_eq!(access_of(&r, "/var/lib/x"), Some(RW));
}

#[test]
fn every_device_of_the_minimal_dev_has_a_rule() {
    let cfg = config(Some(&temp()), |_| {});
    let (ruleset, _) = on(&cfg, 7).unwrap();
    let plan =
        crate::plan::compile(&cfg, &HostRoot::default(), &Programs::default(), &ruleset).unwrap();
    let devices: Vec<String> = Plan::decode(&plan.bytes)
        .unwrap()
        .ops()
        .filter_map(|(_, op)| match op {
            Op::CharDev { path, .. } => Some(format!("/{}", path.to_str().unwrap())),
            _ => None,
        })
        .collect();
    assert!(devices.len() >= 6, "{devices:?}");
    for d in devices {
        let rule = ruleset.fs_rules.iter().find(|r| r.path == d);
        assert!(
            rule.is_some_and(|r| r.access & WRITE_FILE != 0),
            "{d} not writable"
        );
    }
}

// ---------------------------------------------------------------- per kernel ABI

#[test]
fn handled_sets_follow_the_abi() {
    let cfg = config(None, |a| {
        a.landlock_connect = vec!["443".into()];
        a.landlock_bind = vec!["8080".into()];
    });
    let abi1 = access::ABI1;
    let cases: [(u32, u64, u64, u64); 12] = [
        (0, 0, 0, 0),
        (1, abi1, 0, 0),
        (2, abi1 | REFER, 0, 0),
        (3, abi1 | REFER | TRUNCATE, 0, 0),
        (4, abi1 | REFER | TRUNCATE, 3, 0),
        (5, abi1 | REFER | TRUNCATE | IOCTL_DEV, 3, 0),
        (6, abi1 | REFER | TRUNCATE | IOCTL_DEV, 3, SCOPES),
        (7, abi1 | REFER | TRUNCATE | IOCTL_DEV, 3, SCOPES),
        (8, abi1 | REFER | TRUNCATE | IOCTL_DEV, 3, SCOPES),
        (9, ALL, 3, SCOPES),
        (10, ALL, 15, SCOPES),
        (11, ALL, 15, SCOPES),
    ];
    for (abi, fs, net, scoped) in cases {
        let (r, report) = on(&cfg, abi).unwrap();
        assert_eq!(
            (r.fs_handled, r.net_handled, r.scoped),
            (fs, net, scoped),
            "ABI {abi}"
        );
        for rule in &r.fs_rules {
            assert_eq!(
                rule.access & !fs,
                0,
                "ABI {abi}: {rule:?} beyond the handled set"
            );
            assert_ne!(rule.access, 0);
        }
        if net == 0 {
            assert!(r.net_rules.is_empty(), "ABI {abi}");
        } else {
            let by_port = |p| r.net_rules.iter().find(|n| n.port == p).unwrap().access;
            assert_eq!(by_port(8080), BIND & net, "ABI {abi}");
            assert_eq!(by_port(443), CONNECT & net, "ABI {abi}");
        }
        if abi == 0 {
            assert_eq!(r, Ruleset::default());
            assert_eq!(report.status, Status::None);
        }
        let expected_missing: Vec<Feature> = cfg
            .landlock
            .features()
            .into_iter()
            .filter(|f| f.abi() > abi)
            .collect();
        assert_eq!(report.missing, expected_missing, "ABI {abi}");
    }
}

#[test]
fn without_ports_the_network_is_not_handled() {
    let (r, report) = on(&config(None, |_| {}), 7).unwrap();
    assert_eq!(r.net_handled, 0);
    assert!(r.net_rules.is_empty());
    assert!(!report.missing.contains(&Feature::Tcp));
}

#[test]
fn off_means_nothing_handled() {
    let cfg = config(None, |a| a.landlock = Some("off".into()));
    let (r, report) = on(&cfg, 7).unwrap();
    assert_eq!(r, Ruleset::default());
    assert_eq!(report.status, Status::Off);
    assert_eq!(report.summary(), "Landlock: off (--landlock off)");
    assert_eq!(report.level(), Level::Debug);
}

// ---------------------------------------------------------------- --landlock-require

fn require(extra: impl FnOnce(&mut RunArgs)) -> Config {
    config(None, |a| {
        a.landlock_require = true;
        extra(a);
    })
}

#[test]
fn require_accepts_abi_6_and_later() {
    for abi in [6, 7, 8, 9, 10, 11] {
        assert!(on(&require(|_| {}), abi).is_ok(), "ABI {abi}");
        let ports = require(|a| a.landlock_connect = vec!["443".into()]);
        assert!(on(&ports, abi).is_ok(), "ABI {abi} with ports");
    }
}

#[test]
fn require_refuses_older_kernels_naming_what_they_lack() {
    let e = on(&require(|_| {}), 5).unwrap_err();
    assert_eq!(e.exit_code(), 125);
    assert_eq!(
        e.to_string(),
        "--landlock-require: this kernel's Landlock (ABI 5) cannot enforce scoping of abstract \
         unix sockets and signals (ABI 6); Landlock ABI 6 (Linux 6.12) or later enforces \
         everything nucleus asks for"
    );
    let e = on(&require(|_| {}), 2).unwrap_err().to_string();
    assert!(
        e.contains("(ABI 2) cannot enforce truncating files (ABI 3), ioctl on device files (ABI 5), scoping"),
        "{e}"
    );
    assert!(!e.contains("TCP"), "no ports asked: {e}");
    let e = on(&require(|a| a.landlock_bind = vec!["80".into()]), 3)
        .unwrap_err()
        .to_string();
    assert!(e.contains("TCP port rules (ABI 4)"), "{e}");
    assert!(!e.contains("UDP"), "UDP is best effort: {e}");

    let e = on(&require(|_| {}), 0).unwrap_err().to_string();
    assert!(
        e.starts_with("--landlock-require: this kernel has no Landlock"),
        "{e}"
    );
    let e = compile(&require(|_| {}), &host(), Kernel::Disabled)
        .unwrap_err()
        .to_string();
    assert!(e.contains("lsm="), "{e}");
}

#[test]
fn best_effort_starts_on_every_kernel() {
    let cfg = config(None, |a| a.landlock_connect = vec!["443".into()]);
    for abi in 0..=11 {
        assert!(on(&cfg, abi).is_ok(), "ABI {abi}");
    }
    assert!(compile(&cfg, &host(), Kernel::Disabled).is_ok());
}

// ---------------------------------------------------------------- the report

#[test]
fn report_says_fully_partially_or_not_and_why() {
    let plain = config(None, |_| {});
    let (_, r) = on(&plain, 10).unwrap();
    assert_eq!(r.status, Status::Full);
    assert_eq!(r.level(), Level::Debug);
    assert!(
        r.summary()
            .starts_with("Landlock: fully enforced (ABI 10): "),
        "{}",
        r.summary()
    );
    assert!(r.summary().contains("network not restricted"));
    assert!(r.summary().contains("signals scoped to the sandbox"));
    let (_, r) = on(&plain, 12).unwrap();
    assert!(
        r.summary()
            .starts_with("Landlock: fully enforced (ABI 12, used as ABI 10): "),
        "{}",
        r.summary()
    );

    let (_, r) = on(&plain, 7).unwrap();
    assert_eq!(r.status, Status::Partial);
    assert_eq!(r.level(), Level::Info, "only defaults are missing");
    assert!(
        r.summary().ends_with(
            "; not enforced by this kernel: connecting to pathname unix sockets (ABI 9)"
        ),
        "{}",
        r.summary()
    );

    let (_, r) = on(&plain, 0).unwrap();
    assert_eq!(r.status, Status::None);
    assert_eq!(r.level(), Level::Info);
    assert_eq!(
        r.summary(),
        "Landlock: not enforced: this kernel has no Landlock (Linux 5.13 or later built with \
         CONFIG_SECURITY_LANDLOCK)"
    );
    let (_, r) = compile(&plain, &host(), Kernel::Disabled).unwrap();
    assert!(
        r.summary().contains("not enabled at boot"),
        "{}",
        r.summary()
    );
}

#[test]
fn report_warns_when_what_the_user_named_is_missing() {
    let ports = config(None, |a| {
        a.landlock_connect = vec!["443".into(), "80".into()];
        a.landlock_bind = vec!["8080".into()];
    });
    let (_, r) = on(&ports, 3).unwrap();
    assert_eq!(r.level(), Level::Warn);
    let s = r.summary();
    assert!(
        s.starts_with("Landlock: partially enforced (ABI 3): "),
        "{s}"
    );
    assert!(s.contains("ports not restricted"), "{s}");
    assert!(s.contains("TCP port rules (ABI 4)"), "{s}");

    let (_, r) = on(&ports, 7).unwrap();
    assert_eq!(r.level(), Level::Info, "UDP is an extra");
    assert!(
        r.summary()
            .contains("TCP limited to bind [8080] and connect [443,80]"),
        "{}",
        r.summary()
    );
    let (_, r) = on(&ports, 10).unwrap();
    assert!(
        r.summary()
            .contains("TCP and UDP limited to bind [8080] and connect [443,80]"),
        "{}",
        r.summary()
    );

    let paths = config(None, |a| a.landlock_ro = vec!["/data".into()]);
    assert_eq!(on(&paths, 0).unwrap().1.level(), Level::Warn);
    assert_eq!(on(&paths, 1).unwrap().1.level(), Level::Info);
}

// ---------------------------------------------------------------- into the plan, and back

#[test]
fn the_plan_carries_the_ruleset_and_failures_name_the_rule() {
    let cfg = config(Some(&temp()), |a| {
        a.landlock_ro = vec!["/nonexistent".into()];
        a.landlock_connect = vec!["443".into()];
    });
    let (ruleset, _) = on(&cfg, 7).unwrap();
    let plan =
        crate::plan::compile(&cfg, &HostRoot::default(), &Programs::default(), &ruleset).unwrap();
    let Some((_, Op::Exec(p))) = Plan::decode(&plan.bytes).unwrap().ops().last() else {
        panic!("no exec")
    };
    let l = p.landlock;
    assert_eq!(
        (l.fs_handled, l.net_handled, l.scoped),
        (ruleset.fs_handled, ruleset.net_handled, ruleset.scoped)
    );
    let decoded: Vec<(u64, String)> = l
        .fs_rules
        .iter()
        .map(|r| (r.access, r.path.to_str().unwrap().to_owned()))
        .collect();
    let expected: Vec<(u64, String)> = ruleset
        .fs_rules
        .iter()
        .map(|r| (r.access, r.path.clone()))
        .collect();
    assert_eq!(decoded, expected);
    let net: Vec<(u64, u64)> = l.net_rules.iter().map(|r| (r.access, r.port)).collect();
    assert_eq!(net, [(CONNECT_TCP, 443)]);

    let index = ruleset
        .fs_rules
        .iter()
        .position(|r| r.path == "/nonexistent")
        .unwrap();
    let fail = |op: usize, errno: i32| {
        let record = StatusRecord {
            step: Step::Landlock,
            op: op as u16,
            errno: errno as u32,
        };
        crate::report::from_record(&record, &plan, &cfg).to_string()
    };
    assert_eq!(
        fail(index, libc::ENOENT),
        "--landlock-ro /nonexistent: No such file or directory in the sandbox"
    );
    assert_eq!(
        fail(ruleset.fs_rules.len(), libc::EINVAL),
        "applying Landlock: --landlock-connect 443: Invalid argument"
    );
    assert_eq!(
        fail(usize::from(StatusRecord::NO_OP), libc::EPERM),
        "applying Landlock failed: Operation not permitted"
    );
}
