//! `process`: the workload's command, environment, user, capabilities and limits.
//!
//! Capabilities. nucleus keeps one set and puts it in all five (bounding, permitted,
//! effective, inheritable and ambient) with the securebits locked, so the workload holds
//! exactly that set across `execve`, whatever its uid. A bundle gives five sets; the one kept
//! is what the workload could actually use under runc after its `execve`:
//!
//! - uid 0: runc leaves root's privilege rules alone, so an `execve` by root makes every
//!   capability of the bounding set permitted and effective again: the set is `bounding`.
//! - any other uid: only the ambient set survives an `execve` (file capabilities and setuid
//!   binaries could add more under runc, but nucleus always sets `no_new_privs`, which
//!   forbids that), and of it only what is also permitted and inheritable, the capabilities
//!   the kernel lets runc raise there.
//!
//! The sets must otherwise be consistent (effective ⊆ permitted ⊆ bounding, inheritable ⊆
//! bounding); anything else is refused rather than guessed at. `noNewPrivileges: false` is
//! accepted and nucleus still sets `no_new_privs`: a non-root workload cannot gain what runc
//! would let a setuid binary give.

use nucleus_shared::plan::Rlimit;
use serde_json::Value;

use super::json::{Obj, fail, fail_at, no_nul, sandbox_path};
use crate::config::SandboxPath;
use crate::config::caps::NAMES;
use crate::error::Error;

/// What `process` says.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Process {
    pub args: Vec<String>,
    pub env: Vec<(String, String)>,
    pub cwd: SandboxPath,
    pub uid: u32,
    pub gid: u32,
    pub groups: Vec<u32>,
    pub umask: u32,
    pub terminal: bool,
    /// (rows, columns).
    pub console_size: Option<(u16, u16)>,
    pub caps: u64,
    pub rlimits: Vec<Rlimit>,
    pub oom_score_adj: Option<i32>,
}

const UNSUPPORTED: &[(&str, &str)] = &[
    ("apparmorProfile", "AppArmor profiles are not supported"),
    ("selinuxLabel", "SELinux labels are not supported"),
    ("commandLine", "a Windows field"),
    ("scheduler", "scheduling attributes are not supported"),
    ("ioPriority", "I/O priorities are not supported"),
    ("execCPUAffinity", "CPU affinities are not supported"),
];

/// `process`; `available`: the capabilities the launcher holds.
pub fn parse(v: &Value, available: u64) -> Result<Process, Error> {
    let p = Obj::new(v, "process")?;
    p.only(
        &[
            "terminal",
            "consoleSize",
            "user",
            "args",
            "env",
            "cwd",
            "capabilities",
            "rlimits",
            "noNewPrivileges",
            "oomScoreAdj",
        ],
        UNSUPPORTED,
    )?;
    p.bool("noNewPrivileges")?;

    let args: Vec<String> = p.strings("args")?.into_iter().map(str::to_owned).collect();
    match args.first() {
        None => return Err(fail_at("process.args", "no command: the array is empty")),
        Some(a) if a.is_empty() => {
            return Err(fail("process.args[0]", &Value::from(""), "empty command"));
        }
        Some(_) => {}
    }
    for (i, a) in args.iter().enumerate() {
        no_nul(&format!("process.args[{i}]"), &Value::from(a.as_str()), a)?;
    }

    let cwd = sandbox_path("process.cwd", p.req_str("cwd")?)?;
    let (uid, gid, groups, umask) = user(&p)?;
    let console_size = match p.get("consoleSize") {
        None => None,
        Some(v) => {
            let b = Obj::new(v, "process.consoleSize")?;
            b.only(&["height", "width"], &[])?;
            let dim = |key: &str| -> Result<u16, Error> {
                let n = b.req_u32(key)?;
                u16::try_from(n).map_err(|_| {
                    fail(
                        &format!("process.consoleSize.{key}"),
                        &Value::from(n),
                        "at most 65535",
                    )
                })
            };
            Some((dim("height")?, dim("width")?))
        }
    };
    let oom_score_adj = match p.i64("oomScoreAdj")? {
        None => None,
        Some(n) if (-1000..=1000).contains(&n) => Some(n as i32),
        Some(n) => {
            return Err(fail(
                "process.oomScoreAdj",
                &Value::from(n),
                "must be between -1000 and 1000",
            ));
        }
    };
    Ok(Process {
        args,
        env: env(&p)?,
        cwd,
        uid,
        gid,
        groups,
        umask,
        terminal: p.bool("terminal")?.unwrap_or(false),
        console_size,
        caps: capabilities(p.get("capabilities"), uid, available)?,
        rlimits: rlimits(&p)?,
        oom_score_adj,
    })
}

/// `KEY=VALUE` entries, verbatim and in order (OCI gives the whole environment); a key given
/// twice keeps its first place and its last value, as `setenv` would.
fn env(p: &Obj<'_>) -> Result<Vec<(String, String)>, Error> {
    let mut out: Vec<(String, String)> = Vec::new();
    for (i, e) in p.strings("env")?.into_iter().enumerate() {
        let path = format!("process.env[{i}]");
        let v = Value::from(e);
        no_nul(&path, &v, e)?;
        let Some((k, val)) = e.split_once('=') else {
            return Err(fail(&path, &v, "expected KEY=VALUE"));
        };
        if k.is_empty() {
            return Err(fail(&path, &v, "empty variable name"));
        }
        match out.iter_mut().find(|(key, _)| key == k) {
            Some(slot) => slot.1 = val.to_owned(),
            None => out.push((k.to_owned(), val.to_owned())),
        }
    }
    Ok(out)
}

fn user(p: &Obj<'_>) -> Result<(u32, u32, Vec<u32>, u32), Error> {
    let Some(v) = p.get("user") else {
        return Err(fail_at("process.user", "missing (required)"));
    };
    let u = Obj::new(v, "process.user")?;
    u.only(
        &["uid", "gid", "umask", "additionalGids"],
        &[(
            "username",
            "user names are a Windows field; give uid and gid",
        )],
    )?;
    let id = |key: &str| -> Result<u32, Error> {
        let n = u.req_u32(key)?;
        if n == u32::MAX {
            return Err(fail(
                &u.at(key),
                &Value::from(n),
                "4294967295 is not a valid id",
            ));
        }
        Ok(n)
    };
    let (uid, gid) = (id("uid")?, id("gid")?);
    let umask = match u.u32("umask")? {
        None => 0o022,
        Some(m) if m <= 0o777 => m,
        Some(m) => {
            return Err(fail(
                "process.user.umask",
                &Value::from(m),
                "must be at most 0o777 (511)",
            ));
        }
    };
    let mut groups = Vec::new();
    for (i, g) in u.array("additionalGids")?.iter().enumerate() {
        let path = format!("process.user.additionalGids[{i}]");
        let n = super::json::uint(&path, g, u64::from(u32::MAX) - 1)? as u32;
        if !groups.contains(&n) {
            groups.push(n);
        }
    }
    if groups.len() > nucleus_shared::plan::MAX_GROUPS {
        return Err(fail_at(
            "process.user.additionalGids",
            format!(
                "at most {} groups are supported",
                nucleus_shared::plan::MAX_GROUPS
            ),
        ));
    }
    Ok((uid, gid, groups, umask))
}

/// One capability set; unknown names are refused.
fn cap_set(c: &Obj<'_>, key: &str) -> Result<u64, Error> {
    let path = c.at(key);
    let mut set = 0;
    for (i, name) in c.strings(key)?.into_iter().enumerate() {
        let bit = name
            .strip_prefix("CAP_")
            .and_then(|n| NAMES.iter().position(|k| *k == n))
            .ok_or_else(|| {
                fail(
                    &format!("{path}[{i}]"),
                    &Value::from(name),
                    "unknown capability (names as CAP_NET_RAW)",
                )
            })?;
        set |= 1 << bit;
    }
    Ok(set)
}

fn capabilities(v: Option<&Value>, uid: u32, available: u64) -> Result<u64, Error> {
    let Some(v) = v else {
        // No capabilities object: runc would leave root all of its own; nucleus gives none.
        return Ok(0);
    };
    let c = Obj::new(v, "process.capabilities")?;
    c.only(
        &[
            "bounding",
            "effective",
            "permitted",
            "inheritable",
            "ambient",
        ],
        &[],
    )?;
    let bounding = cap_set(&c, "bounding")?;
    let effective = cap_set(&c, "effective")?;
    let permitted = cap_set(&c, "permitted")?;
    let inheritable = cap_set(&c, "inheritable")?;
    let ambient = cap_set(&c, "ambient")?;
    let outside = |set: u64, within: u64, key: &str, what: &str| -> Result<(), Error> {
        let extra = set & !within;
        if extra == 0 {
            return Ok(());
        }
        Err(fail_at(
            &c.at(key),
            format!(
                "{} not in {what} (the kernel would refuse this set)",
                crate::config::caps::names(extra)
            ),
        ))
    };
    outside(effective, permitted, "effective", "permitted")?;
    outside(permitted, bounding, "permitted", "bounding")?;
    outside(inheritable, bounding, "inheritable", "bounding")?;
    // The kernel raises an ambient capability only if it is permitted and inheritable; runc
    // tries and goes on without those it cannot raise (`runc spec` itself gives an ambient
    // set with no inheritable one), so those are what the workload has.
    let kept = if uid == 0 {
        bounding
    } else {
        ambient & permitted & inheritable
    };
    let lacking = kept & !available;
    if lacking != 0 {
        return Err(fail_at(
            "process.capabilities",
            format!(
                "{}: nucleus-launch does not hold it itself, so no sandbox can",
                crate::config::caps::names(lacking)
            ),
        ));
    }
    Ok(kept)
}

/// `RLIMIT_*` entries, each type once; names as the kernel's, looked up in `--ulimit`'s table.
fn rlimits(p: &Obj<'_>) -> Result<Vec<Rlimit>, Error> {
    let mut out: Vec<Rlimit> = Vec::new();
    for (i, v) in p.array("rlimits")?.iter().enumerate() {
        let path = format!("process.rlimits[{i}]");
        let path = path.as_str();
        let r = Obj::new(v, path)?;
        r.only(&["type", "soft", "hard"], &[])?;
        let kind = r.req_str("type")?;
        let resource = kind
            .strip_prefix("RLIMIT_")
            .filter(|n| n.bytes().all(|b| b.is_ascii_uppercase()))
            .and_then(|n| crate::config::ulimit::parse(&format!("{}=0", n.to_lowercase())).ok())
            .map(|l| l.resource)
            .ok_or_else(|| fail(&r.at("type"), &Value::from(kind), "unknown resource limit"))?;
        let soft = r
            .u64("soft")?
            .ok_or_else(|| fail_at(&r.at("soft"), "missing (required)"))?;
        let hard = r
            .u64("hard")?
            .ok_or_else(|| fail_at(&r.at("hard"), "missing (required)"))?;
        if soft > hard {
            return Err(fail(path, v, "the soft limit is above the hard limit"));
        }
        if out.iter().any(|o| o.resource == resource) {
            return Err(fail(path, v, format!("{kind} is given twice")));
        }
        out.push(Rlimit {
            resource,
            soft,
            hard,
        });
    }
    Ok(out)
}
