//! `nucleus-launch doctor`: what this host supports, and what each missing piece means for a
//! sandbox. A table for people, `--json` for tools.

use std::path::Path;

use serde_json::json;

/// One line of the report.
#[derive(Debug, Clone)]
pub struct Check {
    pub name: &'static str,
    /// `ok`, `partial` or `missing`.
    pub status: &'static str,
    /// What was found.
    pub detail: String,
    /// What it means for a sandbox when not `ok`.
    pub meaning: &'static str,
}

fn check(name: &'static str, ok: bool, detail: String, meaning: &'static str) -> Check {
    Check {
        name,
        status: if ok { "ok" } else { "missing" },
        detail,
        meaning,
    }
}

fn read(path: &str) -> Option<String> {
    std::fs::read_to_string(path)
        .ok()
        .map(|s| s.trim().to_owned())
}

fn namespaces() -> Vec<Check> {
    let kinds = [
        ("pid", "no process isolation: nucleus cannot run"),
        ("mnt", "no private mounts: nucleus cannot run"),
        ("uts", "no private hostname: nucleus cannot run"),
        ("ipc", "no private IPC: nucleus cannot run"),
        ("net", "only --network host works"),
        ("cgroup", "the host's cgroup tree is visible inside"),
        ("user", "no --userns and no rootless use"),
        ("time", "(not used yet)"),
    ];
    kinds
        .iter()
        .map(|&(ns, meaning)| {
            let ok = Path::new("/proc/self/ns").join(ns).exists();
            check("namespace", ok, ns.to_owned(), meaning)
        })
        .collect()
}

fn user_namespaces() -> Check {
    let max: u64 = read("/proc/sys/user/max_user_namespaces")
        .and_then(|v| v.parse().ok())
        .unwrap_or(0);
    let unpriv = read("/proc/sys/kernel/unprivileged_userns_clone").is_none_or(|v| v == "1");
    let ok = max > 0 && unpriv;
    let detail = format!(
        "max_user_namespaces={max}, unprivileged clone {}",
        if unpriv { "allowed" } else { "disabled" }
    );
    check(
        "user namespaces for unprivileged users",
        ok,
        detail,
        "rootless runs fail; root can still use --userns if max > 0",
    )
}

fn seccomp() -> Vec<Check> {
    let actions = read("/proc/sys/kernel/seccomp/actions_avail").unwrap_or_default();
    let have = |a: &str| actions.split_whitespace().any(|x| x == a);
    vec![
        check(
            "seccomp filters",
            !actions.is_empty(),
            actions.clone(),
            "no system call filter: sandboxes are far weaker",
        ),
        check(
            "seccomp log action",
            have("log"),
            "SECCOMP_RET_LOG".into(),
            "--seccomp-trace cannot record calls",
        ),
        check(
            "seccomp user notification",
            have("user_notif"),
            "SECCOMP_RET_USER_NOTIF".into(),
            "profiles using SCMP_ACT_NOTIFY get ENOSYS",
        ),
        seccomp_flags(),
    ]
}

/// The filter flags nucleus uses or profiles may ask for.
fn seccomp_flags() -> Check {
    const FLAGS: [(&str, u32); 6] = [
        ("TSYNC", 1),
        ("LOG", 2),
        ("SPEC_ALLOW", 4),
        ("NEW_LISTENER", 8),
        ("TSYNC_ESRCH", 16),
        // Only valid together with NEW_LISTENER.
        ("WAIT_KILLABLE_RECV", 8 | 32),
    ];
    let answers: Vec<(&str, Option<bool>)> = FLAGS
        .iter()
        .map(|&(n, f)| (n, crate::sys::seccomp_probe::filter_flag_supported(f)))
        .collect();
    let missing: Vec<&str> = answers
        .iter()
        .filter(|(_, a)| *a != Some(true))
        .map(|(n, _)| *n)
        .collect();
    let detail = answers
        .iter()
        .map(|(n, a)| {
            format!(
                "{n}{}",
                match a {
                    Some(true) => "",
                    Some(false) => " (no)",
                    None => " (?)",
                }
            )
        })
        .collect::<Vec<_>>()
        .join(" ");
    Check {
        name: "seccomp filter flags",
        status: if missing.is_empty() {
            "ok"
        } else if missing.contains(&"LOG") {
            "missing"
        } else {
            "partial"
        },
        detail,
        meaning: "without LOG, --seccomp-log-denied sees no denials; the others only matter to profiles that ask for them",
    }
}

fn audit() -> Vec<Check> {
    let multicast = crate::audit::AuditReader::open();
    let kmsg = crate::kmsg::KmsgReader::open();
    vec![
        check(
            "audit multicast (seccomp traces)",
            multicast.is_ok(),
            multicast.err().map_or("readable".into(), |e| e.to_string()),
            "traces fall back to /dev/kmsg, where the printk rate limit drops most records",
        ),
        check(
            "/dev/kmsg",
            kmsg.is_ok(),
            kmsg.err().map_or("readable".into(), |e| e.to_string()),
            "without the audit multicast either, --seccomp-trace and --seccomp-log-denied run untraced",
        ),
    ]
}

/// Every check, in report order.
pub fn checks() -> Vec<Check> {
    let uname = rustix::system::uname();
    let mut all = vec![Check {
        name: "kernel",
        status: "ok",
        detail: format!(
            "{} {}",
            uname.release().to_string_lossy(),
            uname.machine().to_string_lossy()
        ),
        meaning: "",
    }];
    all.extend(namespaces());
    all.push(user_namespaces());
    all.extend(seccomp());
    all.extend(extra_checks());
    all.extend(audit());
    all.extend(crate::backend::gvisor::doctor::checks());
    all
}

/// The Landlock ABI from which every right and scope nucleus asks for by default exists.
const LANDLOCK_FULL_ABI: u32 = 6;

fn landlock() -> Check {
    use crate::landlock::Kernel;
    let (status, detail) = match Kernel::probe() {
        Kernel::Abi(n) if n >= LANDLOCK_FULL_ABI => ("ok", format!("ABI {n}")),
        Kernel::Abi(n) => (
            "partial",
            format!("ABI {n} (TCP port rules need ABI 4, scoping ABI 6)"),
        ),
        Kernel::Disabled => (
            "missing",
            "built but disabled (add landlock to the lsm= boot parameter)".into(),
        ),
        Kernel::NotBuilt => ("missing", "not in this kernel".into()),
    };
    Check {
        name: "Landlock",
        status,
        detail,
        meaning: "best effort enforces less (the run reports what); --landlock-require refuses to start",
    }
}

/// Checks contributed by other modules: Landlock, cgroups.
fn extra_checks() -> Vec<Check> {
    let mut checks = vec![landlock()];
    checks.extend(crate::cgroup::doctor::checks());
    checks
}

pub fn render_table(checks: &[Check]) -> String {
    let width = checks.iter().map(|c| c.name.len()).max().unwrap_or(0);
    let mut out = String::new();
    for c in checks {
        let mark = match c.status {
            "ok" => "ok     ",
            "partial" => "partial",
            _ => "MISSING",
        };
        out.push_str(&format!("{mark}  {:width$}  {}\n", c.name, c.detail));
        if c.status != "ok" && !c.meaning.is_empty() {
            out.push_str(&format!("{:>w$}-> {}\n", "", c.meaning, w = width + 11));
        }
    }
    out
}

pub fn render_json(checks: &[Check]) -> String {
    let items: Vec<_> = checks
        .iter()
        .map(|c| json!({"check": c.name, "status": c.status, "detail": c.detail, "meaning": c.meaning}))
        .collect();
    serde_json::to_string_pretty(&json!({ "checks": items })).unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_check_has_a_meaning_when_it_can_fail() {
        for c in checks() {
            assert!(c.name == "kernel" || !c.meaning.is_empty(), "{c:?}");
            assert!(["ok", "partial", "missing"].contains(&c.status), "{c:?}");
        }
    }

    #[test]
    fn renders_missing_pieces_with_their_meaning() {
        let c = vec![check("x", false, "gone".into(), "no x for you")];
        let table = render_table(&c);
        assert!(
            table.contains("MISSING") && table.contains("no x for you"),
            "{table}"
        );
        let v: serde_json::Value = serde_json::from_str(&render_json(&c)).unwrap();
        assert_eq!(v["checks"][0]["status"], "missing");
    }
}
