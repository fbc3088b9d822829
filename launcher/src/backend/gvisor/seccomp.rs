//! A compiled seccomp [`Policy`] as the OCI `linux.seccomp` object runsc loads
//! (`--oci-seccomp`), and what of it runsc cannot honour.
//!
//! runsc builds its filter from the profile itself, inside its kernel (runsc/specutils/seccomp),
//! and its reading differs from libseccomp's in ways this translation relies on or works
//! around. The object is meant for runsc alone; runc or crun would read it differently.
//!
//! - Entries are tried in order for each call and the first whose conditions all hold
//!   decides, as in our policies (libseccomp instead lets an unconditional rule replace a
//!   call's conditional ones). So each policy rule becomes one entry, in order; calls with a
//!   single unconditional rule are grouped by action.
//! - Conditions of one entry are ANDed, except that two conditions on the same argument are
//!   ORed (runc's legacy reading): such a rule cannot be expressed and is refused.
//! - runsc ignores `errnoRet` and `defaultErrnoRet` (every release up to at least 2026-09):
//!   `SCMP_ACT_ERRNO` always answers EPERM. ENOSYS is kept by `SCMP_ACT_TRACE`, which with
//!   no tracer attached fails the call with ENOSYS, as in Linux; that holds only while the
//!   policy keeps `ptrace` from the workload (a tracer of its own could let the call run).
//!   Other errno values become EPERM, and the report says which. `errnoRet` is still
//!   written, for a runsc that reads it.
//! - runsc knows neither `SCMP_ACT_KILL_PROCESS` nor `SCMP_ACT_LOG`: the first becomes
//!   `SCMP_ACT_KILL` (the calling thread dies instead of the whole process), the second
//!   `SCMP_ACT_ALLOW` (the call runs, unlogged). A user notification, which the kernel answers
//!   with ENOSYS when nobody listens (nucleus never does), is given ENOSYS the same way.
//! - Calls of other architectures: runsc kills the thread (it runs no 32-bit code at all).

use std::collections::{BTreeMap, BTreeSet};

use nucleus_shared::seccomp::policy::{Action, ArgCond, Cmp, Policy};
use nucleus_shared::seccomp::tables;
use serde_json::{Value, json};

use crate::error::{Error, errno_text};

const EPERM: u16 = 1;
const ENOSYS: u16 = 38;

/// The profile for runsc and the differences from the policy as the native backend enforces it.
#[derive(Debug, Clone)]
pub struct Profile {
    pub json: Value,
    /// One sentence per difference (empty when runsc enforces the policy exactly).
    pub notes: Vec<String>,
}

/// An OCI action with its `errnoRet`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
struct OciAction {
    name: &'static str,
    errno: Option<u16>,
}

/// What runsc is told for `a`, and what it will really do differently (into `lost`).
struct Mapper {
    /// Whether SCMP_ACT_TRACE can stand in for ENOSYS (the workload cannot ptrace).
    trace_enosys: bool,
    /// errno -> calls for which runsc answers EPERM instead.
    lost_errno: BTreeMap<u16, BTreeSet<String>>,
    kill_process: BTreeSet<String>,
    log: BTreeSet<String>,
}

impl Mapper {
    fn map(&mut self, a: Action, call: &str) -> OciAction {
        let act = |name, errno| OciAction { name, errno };
        match a {
            Action::Allow => act("SCMP_ACT_ALLOW", None),
            Action::Errno(EPERM) => act("SCMP_ACT_ERRNO", Some(EPERM)),
            Action::Errno(ENOSYS) | Action::UserNotif if self.trace_enosys => {
                act("SCMP_ACT_TRACE", Some(ENOSYS))
            }
            Action::Errno(e) => {
                self.lost_errno
                    .entry(e)
                    .or_default()
                    .insert(call.to_owned());
                act("SCMP_ACT_ERRNO", Some(e))
            }
            Action::UserNotif => {
                self.lost_errno
                    .entry(ENOSYS)
                    .or_default()
                    .insert(call.to_owned());
                act("SCMP_ACT_ERRNO", Some(ENOSYS))
            }
            Action::KillProcess => {
                self.kill_process.insert(call.to_owned());
                act("SCMP_ACT_KILL", None)
            }
            Action::KillThread => act("SCMP_ACT_KILL", None),
            Action::Trap => act("SCMP_ACT_TRAP", None),
            Action::Log => {
                self.log.insert(call.to_owned());
                act("SCMP_ACT_ALLOW", None)
            }
            Action::Trace(v) => act("SCMP_ACT_TRACE", Some(v)),
        }
    }

    fn notes(&self) -> Vec<String> {
        let list = |s: &BTreeSet<String>| s.iter().cloned().collect::<Vec<_>>().join(", ");
        let mut notes: Vec<String> = self
            .lost_errno
            .iter()
            .map(|(e, calls)| {
                format!(
                    "runsc answers EPERM where the profile says errno {e} ({}) for {}",
                    errno_text(i32::from(*e)),
                    list(calls)
                )
            })
            .collect();
        if !self.kill_process.is_empty() {
            notes.push(format!(
                "runsc kills only the calling thread where the profile kills the process, for {}",
                list(&self.kill_process)
            ));
        }
        if !self.log.is_empty() {
            notes.push(format!(
                "runsc allows without logging what the profile logs, for {}",
                list(&self.log)
            ));
        }
        notes
    }
}

fn cond_json(c: &ArgCond) -> Value {
    let (op, value, two) = match c.cmp {
        Cmp::Eq => ("SCMP_CMP_EQ", c.value, None),
        Cmp::Ne => ("SCMP_CMP_NE", c.value, None),
        Cmp::Lt => ("SCMP_CMP_LT", c.value, None),
        Cmp::Le => ("SCMP_CMP_LE", c.value, None),
        Cmp::Gt => ("SCMP_CMP_GT", c.value, None),
        Cmp::Ge => ("SCMP_CMP_GE", c.value, None),
        // OCI: `value` is the mask, `valueTwo` what the masked argument must equal.
        Cmp::MaskedEq(mask) => ("SCMP_CMP_MASKED_EQ", mask, Some(c.value)),
    };
    let mut v = json!({"index": c.arg, "value": value, "op": op});
    if let Some(two) = two {
        v["valueTwo"] = json!(two);
    }
    v
}

fn entry(names: Vec<&str>, a: OciAction, args: Vec<Value>) -> Value {
    let mut e = json!({"names": names, "action": a.name});
    if let Some(errno) = a.errno {
        e["errnoRet"] = json!(errno);
    }
    if !args.is_empty() {
        e["args"] = Value::Array(args);
    }
    e
}

/// Whether `policy` lets the workload call ptrace at all (with any arguments).
fn allows_ptrace(policy: &Policy) -> bool {
    let permissive = |a: Action| matches!(a, Action::Allow | Action::Log);
    let Some(nr) = tables::number(policy.arch, "ptrace") else {
        return false;
    };
    let rules: Vec<_> = policy.rules.iter().filter(|r| r.nr == nr).collect();
    rules.iter().any(|r| permissive(r.action))
        || (!rules.iter().any(|r| r.conds.is_empty()) && permissive(policy.default))
}

/// The OCI profile for runsc (see the module documentation).
pub fn for_runsc(policy: &Policy) -> Result<Profile, Error> {
    let mut m = Mapper {
        trace_enosys: !allows_ptrace(policy),
        lost_errno: BTreeMap::new(),
        kill_process: BTreeSet::new(),
        log: BTreeSet::new(),
    };
    let mut per_call: BTreeMap<u32, usize> = BTreeMap::new();
    for r in &policy.rules {
        *per_call.entry(r.nr).or_default() += 1;
    }
    // By number: `tables::name` searches the whole table for each rule.
    let table = tables::all(policy.arch);
    let mut names: Vec<Option<&str>> = vec![
        None;
        table
            .iter()
            .map(|&(_, n)| n as usize + 1)
            .max()
            .unwrap_or(0)
    ];
    for &(name, nr) in table {
        names[nr as usize] = Some(name);
    }
    let mut grouped: BTreeMap<OciAction, Vec<&str>> = BTreeMap::new();
    let mut ordered = Vec::new();
    for r in &policy.rules {
        // Numbers without a name have no entry in runsc's table either: it fails them with
        // ENOSYS whatever the profile says.
        let Some(name) = names.get(r.nr as usize).copied().flatten() else {
            tracing::debug!(
                nr = r.nr,
                "seccomp rule for an unnamed call left out for runsc"
            );
            continue;
        };
        let mut seen = 0u8;
        for c in &r.conds {
            if seen & (1 << c.arg) != 0 {
                return Err(Error::usage(format!(
                    "seccomp: the profile's rule for {name} tests argument {} twice, which runsc \
                     reads as \"either\" (runc's legacy rule), not \"both\": it cannot run under --runtime gvisor",
                    c.arg
                )));
            }
            seen |= 1 << c.arg;
        }
        let action = m.map(r.action, name);
        if r.conds.is_empty() && per_call[&r.nr] == 1 {
            grouped.entry(action).or_default().push(name);
        } else {
            ordered.push(entry(
                vec![name],
                action,
                r.conds.iter().map(cond_json).collect(),
            ));
        }
    }
    let default = m.map(policy.default, "every other call");
    let mut syscalls: Vec<Value> = grouped
        .into_iter()
        .map(|(a, names)| entry(names, a, Vec::new()))
        .collect();
    syscalls.extend(ordered);
    let mut json = json!({
        "defaultAction": default.name,
        "architectures": [crate::seccomp::generate::scmp_arch(policy.arch)],
        "syscalls": syscalls,
    });
    if let Some(e) = default.errno {
        json["defaultErrnoRet"] = json!(e);
    }
    Ok(Profile {
        json,
        notes: m.notes(),
    })
}

#[cfg(test)]
mod tests {
    use nucleus_shared::seccomp::arch::Arch;
    use nucleus_shared::seccomp::interp::SeccompData;
    use nucleus_shared::seccomp::policy::Rule;

    use super::*;

    /// What runsc does with `profile` for one call: its entries in order, first match, with
    /// the errno runsc really returns (EPERM for every SCMP_ACT_ERRNO, ENOSYS for an
    /// untraced SCMP_ACT_TRACE).
    fn runsc_decides(profile: &Value, arch: Arch, d: &SeccompData) -> Action {
        let act = |e: &Value| match e["action"].as_str().unwrap() {
            "SCMP_ACT_ALLOW" => Action::Allow,
            "SCMP_ACT_ERRNO" => Action::Errno(EPERM),
            "SCMP_ACT_TRACE" => Action::Errno(ENOSYS),
            "SCMP_ACT_KILL" => Action::KillThread,
            "SCMP_ACT_TRAP" => Action::Trap,
            other => panic!("runsc does not know {other}"),
        };
        let name = tables::name(arch, d.nr);
        for e in profile["syscalls"].as_array().unwrap() {
            let named = e["names"]
                .as_array()
                .unwrap()
                .iter()
                .any(|n| Some(n.as_str().unwrap()) == name);
            let holds = e["args"].as_array().is_none_or(|args| {
                args.iter().all(|c| {
                    let a = d.args[c["index"].as_u64().unwrap() as usize];
                    let v = c["value"].as_u64().unwrap();
                    match c["op"].as_str().unwrap() {
                        "SCMP_CMP_EQ" => a == v,
                        "SCMP_CMP_NE" => a != v,
                        "SCMP_CMP_MASKED_EQ" => a & v == c["valueTwo"].as_u64().unwrap(),
                        other => panic!("unexpected {other}"),
                    }
                })
            });
            if named && holds {
                return act(e);
            }
        }
        act(&json!({"action": profile["defaultAction"]}))
    }

    fn errno_as_runsc(a: Action) -> Action {
        match a {
            Action::Errno(ENOSYS) => a,
            Action::Errno(_) => Action::Errno(EPERM),
            other => other,
        }
    }

    #[test]
    fn the_default_policy_means_the_same_under_runsc_but_for_errno_values() {
        let arch = crate::seccomp::native_arch().unwrap();
        let policy = crate::seccomp::default_profile::policy(arch, &[]);
        let p = for_runsc(&policy).unwrap();
        let mut samples: Vec<[u64; 6]> = vec![[0; 6], [u64::MAX; 6]];
        for v in [
            1,
            2,
            3,
            9,
            10,
            16,
            17,
            0x5412,
            0x541c,
            0x1000_0000,
            0x20008,
            35,
            57,
        ] {
            samples.push([v, v, v, 0, 0, 0]);
            samples.push([16, 3, v, 0, 0, 0]);
        }
        let numbers = tables::all(arch)
            .iter()
            .map(|&(_, n)| n)
            .chain([1000, 2000]);
        for nr in numbers {
            for args in &samples {
                let d = SeccompData {
                    nr,
                    arch: arch.audit(),
                    ip: 0,
                    args: *args,
                };
                assert_eq!(
                    runsc_decides(&p.json, arch, &d),
                    errno_as_runsc(policy.evaluate(&d)),
                    "{:?} {args:?}",
                    tables::name(arch, nr)
                );
            }
        }
        // socket(AF_PACKET, ...) answers EAFNOSUPPORT natively, EPERM under runsc: said so.
        assert_eq!(p.notes.len(), 1, "{:?}", p.notes);
        assert!(
            p.notes[0].contains("errno 97") && p.notes[0].ends_with("for socket"),
            "{:?}",
            p.notes
        );
        assert_eq!(p.json["defaultAction"], "SCMP_ACT_TRACE");
    }

    #[test]
    fn enosys_falls_back_to_eperm_when_the_workload_may_ptrace() {
        let arch = crate::seccomp::native_arch().unwrap();
        let ptrace = tables::number(arch, "ptrace").unwrap();
        let policy = crate::seccomp::default_profile::policy(arch, &[ptrace]);
        let p = for_runsc(&policy).unwrap();
        assert_eq!(p.json["defaultAction"], "SCMP_ACT_ERRNO");
        assert_eq!(p.json["defaultErrnoRet"], 38);
        assert!(
            p.notes.iter().any(|n| n.contains("errno 38")),
            "{:?}",
            p.notes
        );
    }

    #[test]
    fn what_runsc_cannot_express_is_refused_or_reported() {
        let arch = crate::seccomp::native_arch().unwrap();
        let nr = |n| tables::number(arch, n).unwrap();
        let cond = |arg, value| ArgCond {
            arg,
            cmp: Cmp::Eq,
            value,
        };
        let twice = Policy {
            arch,
            default: Action::Allow,
            foreign: Action::KillProcess,
            rules: vec![Rule {
                nr: nr("socket"),
                conds: vec![cond(0, 1), cond(0, 2)],
                action: Action::Errno(EPERM),
            }],
        };
        let e = for_runsc(&twice).unwrap_err().to_string();
        assert!(e.contains("socket tests argument 0 twice"), "{e}");

        let odd = Policy {
            arch,
            default: Action::Allow,
            foreign: Action::KillProcess,
            rules: vec![
                Rule {
                    nr: nr("getppid"),
                    conds: vec![],
                    action: Action::KillProcess,
                },
                Rule {
                    nr: nr("sync"),
                    conds: vec![],
                    action: Action::Log,
                },
                Rule {
                    nr: nr("umask"),
                    conds: vec![cond(0, 0)],
                    action: Action::Errno(22),
                },
            ],
        };
        let p = for_runsc(&odd).unwrap();
        assert_eq!(p.notes.len(), 3, "{:?}", p.notes);
        assert_eq!(p.json["defaultAction"], "SCMP_ACT_ALLOW");
        let text = p.json.to_string();
        assert!(
            !text.contains("KILL_PROCESS") && !text.contains("ACT_LOG"),
            "{text}"
        );
        assert!(text.contains("\"errnoRet\":22"), "{text}");
    }
}
