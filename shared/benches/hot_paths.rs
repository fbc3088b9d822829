//! Micro-benchmarks of the pieces of our start path that are ours (the rest is the kernel):
//! building and decoding a plan, and compiling a seccomp policy. Each prints the median of
//! many timed batches, in nanoseconds per iteration. Run with `cargo bench -p nucleus-shared`.

use std::hint::black_box;
use std::time::Instant;

use nucleus_shared::plan::{Op, Plan, PlanBuilder, ProcessSpec, flags};
use nucleus_shared::seccomp::arch::Arch;
use nucleus_shared::seccomp::compile::compile;
use nucleus_shared::seccomp::policy::{Action, ArgCond, Cmp, Policy, Rule};

/// Median ns per call of `f`, over `batches` batches of `per_batch` calls.
fn measure(name: &str, batches: usize, per_batch: usize, mut f: impl FnMut()) {
    let mut samples: Vec<f64> = (0..batches)
        .map(|_| {
            let t = Instant::now();
            for _ in 0..per_batch {
                f();
            }
            t.elapsed().as_nanos() as f64 / per_batch as f64
        })
        .collect();
    samples.sort_by(f64::total_cmp);
    println!(
        "{name:<40} {:>10.0} ns/iter (median of {batches} x {per_batch})",
        samples[batches / 2]
    );
}

/// About the plan of a `--rootfs` run with two volumes.
fn typical_plan() -> Vec<u8> {
    let mut b = PlanBuilder::new();
    b.push(&Op::Enter { staging: c"/tmp" });
    b.push(&Op::RootBind {
        source: c"/srv/images/busybox/rootfs",
    });
    b.push(&Op::Mount {
        fstype: c"proc",
        target: c"proc",
        flags: flags::NOSUID | flags::NODEV,
        data: c"",
    });
    b.push(&Op::Mount {
        fstype: c"tmpfs",
        target: c"dev",
        flags: flags::NOSUID,
        data: c"mode=0755",
    });
    for (name, minor) in [
        (c"dev/null", 3),
        (c"dev/zero", 5),
        (c"dev/full", 7),
        (c"dev/random", 8),
        (c"dev/urandom", 9),
    ] {
        b.push(&Op::CharDev {
            path: name,
            mode: 0o666,
            major: 1,
            minor,
        });
    }
    b.push(&Op::Bind {
        source: c"/home/user/project",
        target: c"work",
        flags: 0,
        is_dir: true,
    });
    b.push(&Op::Bind {
        source: c"/home/user/.cache",
        target: c"cache",
        flags: flags::RDONLY,
        is_dir: true,
    });
    b.push(&Op::RemountRoot {
        flags: flags::RDONLY,
    });
    b.push(&Op::PivotRoot);
    b.push(&Op::Hostname { name: c"nucleus" });
    b.push(&Op::LoopbackUp);
    let env = [
        c"PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin",
        c"HOME=/root",
    ];
    b.exec(&ProcessSpec {
        argv: &[c"python3", c"-c", c"print(1)"],
        env: &env,
        cwd: c"/work",
        uid: 1000,
        gid: 1000,
        ..Default::default()
    });
    b.finish().expect("small plan")
}

/// An allow-list the size of Docker's default, with argument filters on a few calls.
fn large_policy() -> Policy {
    let mut rules: Vec<Rule> = (0..450)
        .filter(|n| n % 7 != 0)
        .map(|nr| Rule {
            nr,
            conds: vec![],
            action: Action::Allow,
        })
        .collect();
    for nr in [16, 56, 41, 135] {
        rules.insert(
            0,
            Rule {
                nr,
                conds: vec![ArgCond {
                    arg: 0,
                    cmp: Cmp::MaskedEq(0x7e02_0000),
                    value: 0,
                }],
                action: Action::Allow,
            },
        );
    }
    Policy {
        arch: Arch::X86_64,
        default: Action::Errno(1),
        foreign: Action::KillProcess,
        rules,
    }
}

fn main() {
    let plan = typical_plan();
    measure("plan: build + encode", 200, 2000, || {
        black_box(typical_plan());
    });
    measure("plan: decode + walk every op", 200, 2000, || {
        let p = Plan::decode(black_box(&plan)).expect("valid");
        black_box(p.ops().count());
    });
    let policy = large_policy();
    measure("seccomp: compile 400-syscall policy", 100, 100, || {
        black_box(compile(black_box(&policy)).expect("compiles"));
    });
    println!(
        "{:<40} {:>10}",
        "cgroup setup", "not yet (cgroups are not built yet)"
    );
}
