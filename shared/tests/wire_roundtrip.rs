//! Encoding then decoding gives back every operation, in order, with its index.

use nucleus_shared::plan::{
    Filter, FsRule, LandlockSpec, NetRule, Op, Plan, PlanBuilder, Process, ProcessSpec, Rlimit,
    flags,
};
use nucleus_shared::wire::{DecodeError, HEADER_LEN, MAGIC, MAX_PLAN_BYTES, VERSION};

fn sample_ops() -> Vec<Op<'static>> {
    vec![
        Op::Enter { staging: c"/tmp" },
        Op::RootBind {
            source: c"/srv/rootfs",
        },
        Op::RootTmpfs,
        Op::Mkdir {
            path: c"etc",
            mode: 0o755,
        },
        Op::Symlink {
            target: c"usr/bin",
            path: c"bin",
        },
        Op::WriteFile {
            path: c"etc/hosts",
            mode: 0o644,
            contents: b"127.0.0.1 localhost\n",
        },
        Op::CharDev {
            path: c"dev/null",
            mode: 0o666,
            major: 1,
            minor: 3,
        },
        Op::Mount {
            fstype: c"proc",
            target: c"proc",
            flags: flags::NOSUID | flags::NOEXEC,
            data: c"",
        },
        Op::Bind {
            source: c"/usr",
            target: c"usr",
            flags: flags::RDONLY,
            is_dir: true,
        },
        Op::RemountRoot {
            flags: flags::RDONLY,
        },
        Op::PivotRoot,
        Op::Hostname { name: c"box" },
        Op::LoopbackUp,
        Op::Mask {
            target: c"proc/kcore",
        },
        Op::ReadOnly {
            target: c"proc/sys",
        },
        Op::Remount {
            target: c"dev",
            flags: flags::RDONLY | flags::STRICTATIME | flags::NOFOLLOW,
        },
        Op::Sysctl {
            key: c"net/ipv4/ping_group_range",
            value: b"0 0",
        },
        Op::Bind {
            source: c"/srv/data",
            target: c"data",
            flags: flags::SHALLOW | flags::RELATIME,
            is_dir: true,
        },
        Op::AwaitStart,
    ]
}

fn encode(ops: &[Op<'_>]) -> Vec<u8> {
    let mut b = PlanBuilder::new();
    for (i, op) in ops.iter().enumerate() {
        assert_eq!(usize::from(b.push(op)), i);
    }
    b.exec(&ProcessSpec {
        argv: &[c"sh", c"-c", c"exit 3"],
        env: &[c"PATH=/bin"],
        cwd: c"/",
        uid: 1000,
        gid: 100,
        seccomp: Filter {
            program: &PROGRAM,
            flags: 2,
        },
        init_seccomp: Filter {
            program: &PROGRAM[..8],
            flags: 0,
        },
        caps: 1 << 21,
        rlimits: &RLIMITS,
        landlock: LandlockSpec {
            fs_handled: 0x7fff,
            net_handled: 3,
            scoped: 1,
            fs_rules: &[
                FsRule {
                    access: 0xff,
                    path: c"/usr",
                },
                FsRule {
                    access: 0x7fff,
                    path: c"/tmp",
                },
            ],
            net_rules: &[NetRule {
                access: 2,
                port: 443,
            }],
        },
        groups: &[10, 27],
        umask: 0o027,
        terminal: true,
        console_size: (40, 120),
    });
    b.finish().unwrap()
}

#[test]
fn every_operation_round_trips() {
    let ops = sample_ops();
    let bytes = encode(&ops);
    let plan = Plan::decode(&bytes).unwrap();
    let decoded: Vec<(u16, Op<'_>)> = plan.ops().collect();
    assert_eq!(decoded.len(), ops.len() + 1);
    for (i, op) in ops.iter().enumerate() {
        assert_eq!(decoded[i], (i as u16, op.clone()));
    }
    let (
        _,
        Op::Exec(Process {
            argv,
            env,
            cwd,
            uid,
            gid,
            seccomp,
            init_seccomp,
            caps,
            rlimits,
            landlock,
            groups,
            umask,
            terminal,
            console_size,
        }),
    ) = &decoded[ops.len()]
    else {
        panic!("exec last")
    };
    assert_eq!(argv.iter().collect::<Vec<_>>(), [c"sh", c"-c", c"exit 3"]);
    assert_eq!(env.iter().collect::<Vec<_>>(), [c"PATH=/bin"]);
    assert_eq!((*cwd, *uid, *gid), (c"/", 1000, 100));
    assert_eq!(
        *seccomp,
        Filter {
            program: &PROGRAM,
            flags: 2
        }
    );
    assert_eq!(
        (init_seccomp.program, init_seccomp.len()),
        (&PROGRAM[..8], 1)
    );
    assert_eq!(*caps, 1 << 21);
    assert_eq!(groups.iter().collect::<Vec<_>>(), [10, 27]);
    assert_eq!((*umask, *terminal, *console_size), (0o027, true, (40, 120)));
    assert_eq!(rlimits.iter().collect::<Vec<_>>(), RLIMITS);
    assert_eq!(
        (landlock.fs_handled, landlock.net_handled, landlock.scoped),
        (0x7fff, 3, 1)
    );
    let fs: Vec<_> = landlock
        .fs_rules
        .iter()
        .map(|r| (r.access, r.path))
        .collect();
    assert_eq!(fs, [(0xff, c"/usr"), (0x7fff, c"/tmp")]);
    assert_eq!(
        landlock.net_rules.iter().collect::<Vec<_>>(),
        [NetRule {
            access: 2,
            port: 443
        }]
    );
}

const RLIMITS: [Rlimit; 2] = [
    Rlimit {
        resource: 7,
        soft: 1024,
        hard: 4096,
    },
    Rlimit {
        resource: 4,
        soft: 0,
        hard: u64::MAX,
    },
];

#[test]
fn rlimits_with_soft_above_hard_and_bad_ports_are_refused() {
    for spec in [
        ProcessSpec {
            rlimits: &[Rlimit {
                resource: 7,
                soft: 2,
                hard: 1,
            }],
            ..minimal()
        },
        ProcessSpec {
            landlock: LandlockSpec {
                net_handled: 1,
                net_rules: &[NetRule {
                    access: 1,
                    port: 70000,
                }],
                ..Default::default()
            },
            ..minimal()
        },
    ] {
        let mut b = PlanBuilder::new();
        b.exec(&spec);
        assert_eq!(
            Plan::decode(&b.finish().unwrap()).unwrap_err(),
            DecodeError::BadValue
        );
    }
}

fn minimal() -> ProcessSpec<'static> {
    ProcessSpec {
        argv: &[c"true"],
        cwd: c"/",
        ..Default::default()
    }
}

/// Two instructions' worth of bytes (contents do not matter to the wire format).
const PROGRAM: [u8; 16] = [1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16];

#[test]
fn filters_must_be_whole_instructions() {
    let mut b = PlanBuilder::new();
    b.exec(&ProcessSpec {
        argv: &[c"true"],
        cwd: c"/",
        seccomp: Filter {
            program: &PROGRAM[..7],
            flags: 0,
        },
        ..Default::default()
    });
    assert_eq!(
        Plan::decode(&b.finish().unwrap()).unwrap_err(),
        DecodeError::BadValue
    );
}

#[test]
fn header_is_checked() {
    let good = encode(&sample_ops());
    let mut bad_magic = good.clone();
    bad_magic[0] ^= 1;
    assert_eq!(Plan::decode(&bad_magic).unwrap_err(), DecodeError::BadMagic);

    let mut bad_version = good.clone();
    bad_version[MAGIC.len()..MAGIC.len() + 4].copy_from_slice(&(VERSION + 1).to_le_bytes());
    assert_eq!(
        Plan::decode(&bad_version).unwrap_err(),
        DecodeError::BadVersion(VERSION + 1)
    );

    assert_eq!(
        Plan::decode(&good[..good.len() - 1]).unwrap_err(),
        DecodeError::Truncated
    );
    let mut trailing = good.clone();
    trailing.push(0);
    assert_eq!(Plan::decode(&trailing).unwrap_err(), DecodeError::BadLength);

    let mut huge = good[..HEADER_LEN].to_vec();
    huge[12..16].copy_from_slice(&(MAX_PLAN_BYTES as u32).to_le_bytes());
    assert_eq!(Plan::decode(&huge).unwrap_err(), DecodeError::BadLength);
}

#[test]
fn plan_must_end_with_exactly_one_exec() {
    let mut b = PlanBuilder::new();
    b.push(&Op::PivotRoot);
    assert_eq!(
        Plan::decode(&b.finish().unwrap()).unwrap_err(),
        DecodeError::BadOrder
    );

    let mut b = PlanBuilder::new();
    let spec = ProcessSpec {
        argv: &[c"true"],
        env: &[],
        cwd: c"/",
        uid: 0,
        gid: 0,
        ..Default::default()
    };
    b.exec(&spec);
    b.push(&Op::PivotRoot);
    assert_eq!(
        Plan::decode(&b.finish().unwrap()).unwrap_err(),
        DecodeError::BadOrder
    );
}

#[test]
fn paths_must_stay_beneath_the_root() {
    for bad in [
        c"/etc",
        c"../etc",
        c"a/../../b",
        c"a//b",
        c"",
        c"./a",
        c"a/",
    ] {
        for op in [
            Op::Mkdir {
                path: bad,
                mode: 0o755,
            },
            // A sysctl key is a path under proc/sys and may not climb out of it either.
            Op::Sysctl {
                key: bad,
                value: b"1",
            },
            Op::Remount {
                target: bad,
                flags: flags::RDONLY,
            },
        ] {
            let mut b = PlanBuilder::new();
            b.push(&op);
            b.exec(&ProcessSpec {
                argv: &[c"true"],
                env: &[],
                cwd: c"/",
                uid: 0,
                gid: 0,
                ..Default::default()
            });
            assert_eq!(
                Plan::decode(&b.finish().unwrap()).unwrap_err(),
                DecodeError::BadValue,
                "{op:?}"
            );
        }
    }
}

#[test]
fn empty_argv_and_unknown_flags_are_refused() {
    let mut b = PlanBuilder::new();
    b.exec(&ProcessSpec {
        argv: &[],
        env: &[],
        cwd: c"/",
        uid: 0,
        gid: 0,
        ..Default::default()
    });
    assert_eq!(
        Plan::decode(&b.finish().unwrap()).unwrap_err(),
        DecodeError::BadValue
    );

    let mut b = PlanBuilder::new();
    b.push(&Op::RemountRoot { flags: 1 << 20 });
    b.exec(&ProcessSpec {
        argv: &[c"true"],
        env: &[],
        cwd: c"/",
        uid: 0,
        gid: 0,
        ..Default::default()
    });
    assert_eq!(
        Plan::decode(&b.finish().unwrap()).unwrap_err(),
        DecodeError::BadValue
    );
}

#[test]
fn oversized_plans_are_refused_when_built() {
    let big = vec![b'x'; MAX_PLAN_BYTES];
    let mut b = PlanBuilder::new();
    b.push(&Op::WriteFile {
        path: c"f",
        mode: 0o644,
        contents: &big,
    });
    assert!(b.finish().is_err());
}
