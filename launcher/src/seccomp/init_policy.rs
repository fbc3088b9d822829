//! PID 1's own seccomp policy. Also compiled at build time (build.rs includes this file).

use nucleus_shared::seccomp::arch::Arch;
use nucleus_shared::seccomp::policy::{Action, Policy, Rule};
use nucleus_shared::seccomp::tables;

/// PID 1's own filter once the workload runs: wait for signals, reap, forward, exit.
pub fn init_policy(arch: Arch) -> Policy {
    const NEEDED: [&str; 7] = [
        "rt_sigtimedwait",
        "wait4",
        "kill",
        "exit_group",
        "exit",
        "close_range",
        "restart_syscall",
    ];
    let rules = NEEDED
        .iter()
        .filter_map(|n| tables::number(arch, n))
        .map(|nr| Rule {
            nr,
            conds: vec![],
            action: Action::Allow,
        })
        .collect();
    Policy {
        arch,
        default: Action::KillProcess,
        foreign: Action::KillProcess,
        rules,
    }
}
