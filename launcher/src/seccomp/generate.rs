//! A minimal OCI `linux.seccomp` profile from traces: allow exactly the system calls seen.
//!
//! ```json
//! {
//!   "defaultAction": "SCMP_ACT_ERRNO",
//!   "defaultErrnoRet": 1,
//!   "architectures": ["SCMP_ARCH_X86_64"],
//!   "syscalls": [{"names": ["brk", "execve", "exit", "exit_group", ...], "action": "SCMP_ACT_ALLOW"}]
//! }
//! ```
//!
//! - Anything not seen fails with `EPERM` rather than killing the process: a learned profile
//!   misses rare paths, and a failed call is easier to notice and survive than a `SIGSYS`.
//! - Only calls seen on `arch` count, by name, sorted and unique, merged over all traces.
//!   [`ALWAYS_ALLOWED`] is added whatever was seen: init installs the workload's filter right
//!   before `execve`, so the filter sees that `execve` (and the extra tries of a `PATH` search),
//!   and a process can only end by `exit` or `exit_group`. In trace mode these already show
//!   up, but a trace that lost records must not produce a profile that cannot start or end.
//!   init reports a failed `execve` to the launcher with a `write`, allowed only if the trace
//!   saw one (almost every program writes); without it the launcher still sees the failure,
//!   by the exit status, but not its reason.
//! - OCI profiles name system calls; numbers with no name on `arch` (x32 numbers, calls newer
//!   than our tables) are left out and listed, sorted, under `"x-nucleus-unnamed"`.
//! - Calls on another architecture (i386 `int 0x80` on x86_64) are left out and listed under
//!   `"x-nucleus-other-arch"` as `{"arch": "0x40000003", "syscall": 20}`: the profile lists
//!   `arch` only, and what becomes of calls on other architectures is the runtime's rule for
//!   foreign architectures (libseccomp kills them).
//! - When the traces lost records, their sum is `"x-nucleus-lost"`: the profile may be missing
//!   calls. Each `x-nucleus-` key is present only when it has something to say; OCI runtimes
//!   ignore unknown keys.

use std::collections::BTreeSet;

use nucleus_shared::seccomp::arch::Arch;
use nucleus_shared::seccomp::tables;
use serde_json::{Value, json};

use super::trace::{Trace, arch_label};

/// Allowed in every generated profile (see the module documentation).
pub const ALWAYS_ALLOWED: [&str; 3] = ["execve", "exit", "exit_group"];

/// The OCI name of `arch`.
pub const fn scmp_arch(arch: Arch) -> &'static str {
    match arch {
        Arch::X86_64 => "SCMP_ARCH_X86_64",
        Arch::Aarch64 => "SCMP_ARCH_AARCH64",
    }
}

/// The profile allowing what `traces` saw on `arch` (see the module documentation).
#[cfg_attr(not(test), allow(dead_code))]
pub fn generate(traces: &[Trace], arch: Arch) -> Value {
    let mut names: BTreeSet<&'static str> = ALWAYS_ALLOWED
        .iter()
        .filter_map(|&n| tables::number(arch, n).map(|_| n))
        .collect();
    let mut unnamed = BTreeSet::new();
    let mut other = BTreeSet::new();
    let mut lost = 0u64;
    for trace in traces {
        lost = lost.saturating_add(trace.lost());
        for e in trace.entries().filter(|e| e.count > 0) {
            if e.arch != arch.audit() {
                other.insert((e.arch, e.syscall));
            } else if let Some(name) = tables::name(arch, e.syscall) {
                names.insert(name);
            } else {
                unnamed.insert(e.syscall);
            }
        }
    }
    let mut profile = json!({
        "defaultAction": "SCMP_ACT_ERRNO",
        "defaultErrnoRet": 1,
        "architectures": [scmp_arch(arch)],
        "syscalls": [{"names": names, "action": "SCMP_ACT_ALLOW"}],
    });
    if !unnamed.is_empty() {
        profile["x-nucleus-unnamed"] = json!(unnamed);
    }
    if !other.is_empty() {
        let other: Vec<Value> = other
            .into_iter()
            .map(|(a, nr)| json!({"arch": arch_label(a), "syscall": nr}))
            .collect();
        profile["x-nucleus-other-arch"] = Value::Array(other);
    }
    if lost > 0 {
        profile["x-nucleus-lost"] = json!(lost);
    }
    profile
}

#[cfg(test)]
mod tests {
    use super::*;

    const SH_NDJSON: &str = include_str!("testdata/trace/sh.ndjson");
    const SH_PROFILE: &str = include_str!("testdata/trace/sh.profile.json");

    const X86: u32 = 0xc000_003e;
    const ARM: u32 = 0xc000_00b7;

    fn names(profile: &Value) -> Vec<&str> {
        profile["syscalls"][0]["names"]
            .as_array()
            .unwrap()
            .iter()
            .map(|v| v.as_str().unwrap())
            .collect()
    }

    #[test]
    fn sh_golden() {
        let trace = Trace::from_ndjson(SH_NDJSON).unwrap();
        let profile = generate(&[trace], Arch::X86_64);
        let pretty = serde_json::to_string_pretty(&profile).unwrap() + "\n";
        if std::env::var_os("NUCLEUS_BLESS").is_some() {
            std::fs::write(
                concat!(
                    env!("CARGO_MANIFEST_DIR"),
                    "/src/seccomp/testdata/trace/sh.profile.json"
                ),
                &pretty,
            )
            .unwrap();
            return;
        }
        let golden: Value = serde_json::from_str(SH_PROFILE).unwrap();
        assert_eq!(
            profile,
            golden,
            "{}",
            serde_json::to_string_pretty(&profile).unwrap()
        );
    }

    #[test]
    fn empty_traces_still_start_and_end() {
        for arch in [Arch::X86_64, Arch::Aarch64] {
            let profile = generate(&[], arch);
            assert_eq!(
                profile,
                json!({
                    "defaultAction": "SCMP_ACT_ERRNO",
                    "defaultErrnoRet": 1,
                    "architectures": [scmp_arch(arch)],
                    "syscalls": [{"names": ["execve", "exit", "exit_group"], "action": "SCMP_ACT_ALLOW"}],
                })
            );
        }
    }

    #[test]
    fn union_sorted_unique_for_one_arch() {
        let mut a = Trace::new();
        a.add_calls(X86, 39, 3); // getpid
        a.add_calls(X86, 0, 1); // read
        a.add_calls(ARM, 172, 1); // getpid on aarch64
        let mut b = Trace::new();
        b.add_calls(X86, 39, 1);
        b.add_calls(X86, 1, 1); // write
        b.add_calls(X86, 59, 1); // execve
        b.add_calls(X86, 60, 0); // exit, never seen: no matter, always there
        b.add_calls(X86, 61, 0); // wait4 with count 0: not seen
        let p = generate(&[a.clone(), b.clone()], Arch::X86_64);
        assert_eq!(
            names(&p),
            ["execve", "exit", "exit_group", "getpid", "read", "write"]
        );
        assert_eq!(
            p["x-nucleus-other-arch"],
            json!([{"arch": "aarch64", "syscall": 172}])
        );
        assert!(p.get("x-nucleus-unnamed").is_none());
        assert!(p.get("x-nucleus-lost").is_none());

        let p = generate(&[a, b], Arch::Aarch64);
        assert_eq!(p["architectures"], json!(["SCMP_ARCH_AARCH64"]));
        assert_eq!(names(&p), ["execve", "exit", "exit_group", "getpid"]);
        assert_eq!(
            p["x-nucleus-other-arch"].as_array().unwrap().len(),
            4,
            "{p:#}"
        );
    }

    #[test]
    fn unnamed_other_arch_and_lost() {
        let mut t = Trace::new();
        t.add_calls(X86, 0x4000_0001, 2); // x32 write
        t.add_calls(X86, 4000, 1);
        t.add_calls(X86, u32::MAX, 1); // syscall(-1)
        t.add_calls(0x4000_0003, 20, 1); // i386 getpid
        t.add_lost(3);
        let mut u = Trace::new();
        u.add_lost(4);
        let p = generate(&[t, u], Arch::X86_64);
        assert_eq!(names(&p), ALWAYS_ALLOWED);
        assert_eq!(
            p["x-nucleus-unnamed"],
            json!([4000, 0x4000_0001u32, u32::MAX])
        );
        assert_eq!(
            p["x-nucleus-other-arch"],
            json!([{"arch": "0x40000003", "syscall": 20}])
        );
        assert_eq!(p["x-nucleus-lost"], json!(7));
    }

    /// Our own profile reader takes what we generate, extra keys included, and means by it
    /// exactly the calls listed.
    #[test]
    fn the_launcher_reads_generated_profiles() {
        use nucleus_shared::seccomp::interp::SeccompData;
        use nucleus_shared::seccomp::policy::Action;

        let mut t = Trace::from_ndjson(SH_NDJSON).unwrap();
        t.add_calls(X86, 4000, 1);
        t.add_calls(0x4000_0003, 20, 1);
        t.add_lost(1);
        let mut arm = Trace::new();
        arm.add_calls(ARM, 63, 1);
        for arch in [Arch::X86_64, Arch::Aarch64] {
            let profile = generate(&[t.clone(), arm.clone()], arch);
            let ctx = super::super::Context {
                arch,
                caps: Vec::new(),
                kernel: (6, 18),
            };
            let text = serde_json::to_string_pretty(&profile).unwrap();
            let policy = super::super::oci::parse(&text, &ctx).unwrap();
            let allowed = names(&profile);
            for &(name, nr) in tables::all(arch) {
                let d = SeccompData {
                    nr,
                    arch: arch.audit(),
                    ip: 0,
                    args: [0; 6],
                };
                let want = if allowed.contains(&name) {
                    Action::Allow
                } else {
                    Action::Errno(1)
                };
                assert_eq!(policy.evaluate(&d), want, "{name} on {arch:?}");
            }
        }
    }

    #[test]
    fn always_allowed_exist_on_every_arch() {
        for arch in [Arch::X86_64, Arch::Aarch64] {
            for name in ALWAYS_ALLOWED {
                assert!(tables::number(arch, name).is_some(), "{name} on {arch:?}");
            }
        }
    }
}
