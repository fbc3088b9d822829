//! OCI `linux.seccomp` objects and Docker/Podman seccomp profiles (JSON) → [`Policy`].
//!
//! One reader for both formats: the OCI runtime spec's (`defaultAction`, `defaultErrnoRet`,
//! `architectures`, `flags`, `syscalls[]` with `names`, `action`, `errnoRet` and `args`) and
//! Docker's superset (`archMap`, the legacy single `name`, `includes`/`excludes` by architecture,
//! capability and kernel version). Entries are resolved against a [`Context`] at load time, the
//! way Docker does before it hands the result to runc.
//!
//! # Meaning
//!
//! Our policies are *first match*: a system call's rules are tried in file order and the first
//! whose conditions all hold decides. Runtimes that use libseccomp (runc, crun) read a profile
//! differently in two corners, and a profile that lands in one is refused with an error saying
//! which entries disagree, instead of meaning something else here than under Docker or Podman:
//!
//! - they skip every rule whose action is the default action, so such a rule never hides a
//!   later, overlapping rule for the same call with another action;
//! - an unconditional rule for a call replaces that call's earlier conditional rules.
//!
//! Everything else agrees: conditions within one entry are ANDed, entries for the same call are
//! alternatives, and once a call has an unconditional rule later ones never apply (libseccomp
//! drops them too). Rules with the default action are dropped (they cannot change the outcome
//! once the cases above are excluded), and so are unreachable ones and exact repeats.
//!
//! Two conditions on the same argument in one entry are refused as well: libseccomp refuses
//! them, runc and crun split them into alternatives (OR), and readers expect AND.
//!
//! Calls from a foreign architecture (i386, x32) are killed; a profile's sub-architectures are
//! accepted but not filtered for.

use std::collections::HashMap;

use nucleus_shared::seccomp::arch::Arch;
use nucleus_shared::seccomp::policy::{Action, ArgCond, Cmp, Policy, Rule};
use nucleus_shared::seccomp::tables;
use serde_json::{Map, Value};

use super::Context;

#[cfg(test)]
mod tests;

/// What `SCMP_ACT_ERRNO` and `SCMP_ACT_TRACE` return without an explicit value, as in runc and
/// crun.
const EPERM: u16 = 1;
/// The kernel's MAX_ERRNO: larger errno values are not errors to userspace.
const MAX_ERRNO: u64 = 4095;

/// libseccomp's architecture names, all accepted in `architectures` and `archMap`.
const SCMP_ARCHES: &[&str] = &[
    "SCMP_ARCH_X86",
    "SCMP_ARCH_X86_64",
    "SCMP_ARCH_X32",
    "SCMP_ARCH_ARM",
    "SCMP_ARCH_AARCH64",
    "SCMP_ARCH_LOONGARCH64",
    "SCMP_ARCH_M68K",
    "SCMP_ARCH_MIPS",
    "SCMP_ARCH_MIPS64",
    "SCMP_ARCH_MIPS64N32",
    "SCMP_ARCH_MIPSEL",
    "SCMP_ARCH_MIPSEL64",
    "SCMP_ARCH_MIPSEL64N32",
    "SCMP_ARCH_PPC",
    "SCMP_ARCH_PPC64",
    "SCMP_ARCH_PPC64LE",
    "SCMP_ARCH_S390",
    "SCMP_ARCH_S390X",
    "SCMP_ARCH_PARISC",
    "SCMP_ARCH_PARISC64",
    "SCMP_ARCH_RISCV64",
    "SCMP_ARCH_SH",
    "SCMP_ARCH_SHEB",
];

/// `seccomp(2)` filter flags. Accepted and ignored: the launcher picks the flags itself.
const FLAGS: &[&str] = &[
    "SECCOMP_FILTER_FLAG_TSYNC",
    "SECCOMP_FILTER_FLAG_LOG",
    "SECCOMP_FILTER_FLAG_SPEC_ALLOW",
    "SECCOMP_FILTER_FLAG_NEW_LISTENER",
    "SECCOMP_FILTER_FLAG_TSYNC_ESRCH",
    "SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV",
];

/// The profile `text` (an OCI `linux.seccomp` object or a Docker profile) as a policy for
/// `ctx`. The error is one sentence that names the field at fault, e.g.
/// `syscalls[3].action: unknown action "SCMP_ACT_FOO"`.
pub fn parse(text: &str, ctx: &Context) -> Result<Policy, String> {
    let root: Value = serde_json::from_str(text).map_err(|e| json_error(&e))?;
    let Value::Object(top) = &root else {
        return Err(format!(
            "the profile must be a JSON object, found {}",
            describe(&root)
        ));
    };

    for key in ["listenerPath", "listenerMetadata"] {
        if let Some(v) = field(top, key)
            && v != &Value::String(String::new())
        {
            return Err(format!(
                "{key}: seccomp user notification listeners are not supported"
            ));
        }
    }

    let default_errno = opt_uint(top, "defaultErrnoRet", "defaultErrnoRet", u64::MAX)?;
    let default_name = req_str(top, "defaultAction", "defaultAction")?;
    let default = action(
        default_name,
        default_errno,
        "defaultAction",
        "defaultErrnoRet",
    )?;

    check_arches(top, ctx.arch)?;
    for (i, flag) in str_array(top, "flags", "flags")?.into_iter().enumerate() {
        if !FLAGS.contains(&flag) {
            return Err(format!("flags[{i}]: unknown flag {flag:?}"));
        }
        // TSYNC asks for what holds anyway: the filter goes on before the workload has threads.
        if !flag.starts_with("SECCOMP_FILTER_FLAG_TSYNC") {
            return Err(format!("flags[{i}]: {flag} is not supported"));
        }
    }

    let mut rules = Rules::new(ctx.arch, default);
    let entries = match field(top, "syscalls") {
        None => &[][..],
        Some(Value::Array(a)) => a.as_slice(),
        Some(v) => return Err(expected("syscalls", "an array", v)),
    };
    for (i, entry) in entries.iter().enumerate() {
        let at = format!("syscalls[{i}]");
        let Value::Object(entry) = entry else {
            return Err(expected(&at, "an object", entry));
        };
        let parsed = syscall_entry(entry, &at, ctx)?;
        if !parsed.applies {
            continue;
        }
        for nr in parsed.nrs {
            let rule = Rule {
                nr,
                conds: parsed.conds.clone(),
                action: parsed.action,
            };
            rules.push(rule, i)?;
        }
    }

    Ok(Policy {
        arch: ctx.arch,
        default,
        foreign: Action::KillProcess,
        rules: rules.finish(),
    })
}

/// One `syscalls[]` entry, checked whether or not it applies, so that a profile with a mistake
/// fails on every host and not only on those whose capabilities or kernel reach the mistake.
struct Entry {
    /// Whether its `includes` and `excludes` select it for the context.
    applies: bool,
    /// Its call numbers on the context's architecture (names of other architectures skipped).
    nrs: Vec<u32>,
    action: Action,
    /// ANDed; none for an unconditional rule.
    conds: Vec<ArgCond>,
}

fn syscall_entry(entry: &Map<String, Value>, at: &str, ctx: &Context) -> Result<Entry, String> {
    let errno = opt_uint(entry, "errnoRet", &format!("{at}.errnoRet"), u64::MAX)?;
    let action = action(
        req_str(entry, "action", &format!("{at}.action"))?,
        errno,
        &format!("{at}.action"),
        &format!("{at}.errnoRet"),
    )?;

    let names: Vec<(String, &str)> = match (field(entry, "names"), field(entry, "name")) {
        (Some(_), Some(_)) => {
            return Err(format!("{at}: has both names and name; use one of them"));
        }
        (None, None) => return Err(format!("{at}: names is missing")),
        (None, Some(v)) => {
            let path = format!("{at}.name");
            let s = v.as_str().ok_or_else(|| expected(&path, "a string", v))?;
            vec![(path, s)]
        }
        (Some(_), None) => str_array(entry, "names", &format!("{at}.names"))?
            .into_iter()
            .enumerate()
            .map(|(j, s)| (format!("{at}.names[{j}]"), s))
            .collect(),
    };
    let mut nrs = Vec::with_capacity(names.len());
    for (path, name) in names {
        match tables::number(ctx.arch, name) {
            Some(nr) => nrs.push(nr),
            // A call of another architecture: libseccomp skips it too.
            None if tables::known_anywhere(name) => {}
            None => return Err(format!("{path}: unknown system call {name:?}")),
        }
    }

    let conds = args(entry, at)?;

    let mut applies = true;
    for (key, include) in [("includes", true), ("excludes", false)] {
        let path = format!("{at}.{key}");
        let filter = match field(entry, key) {
            None => continue,
            Some(Value::Object(f)) => f,
            Some(v) => return Err(expected(&path, "an object", v)),
        };
        if !filter_holds(filter, &path, include, ctx)? {
            applies = false;
        }
    }

    Ok(Entry {
        applies,
        nrs,
        action,
        conds,
    })
}

/// The conditions of `entry.args`, ANDed.
fn args(entry: &Map<String, Value>, at: &str) -> Result<Vec<ArgCond>, String> {
    let list = match field(entry, "args") {
        None => return Ok(Vec::new()),
        Some(Value::Array(a)) => a,
        Some(v) => return Err(expected(&format!("{at}.args"), "an array", v)),
    };
    let mut conds: Vec<ArgCond> = Vec::with_capacity(list.len());
    for (k, arg) in list.iter().enumerate() {
        let p = format!("{at}.args[{k}]");
        let Value::Object(arg) = arg else {
            return Err(expected(&p, "an object", arg));
        };
        let index = req_uint(arg, "index", &format!("{p}.index"), 5)? as u8;
        let value = req_uint(arg, "value", &format!("{p}.value"), u64::MAX)?;
        let value_two = opt_uint(arg, "valueTwo", &format!("{p}.valueTwo"), u64::MAX)?.unwrap_or(0);
        let op_path = format!("{p}.op");
        let (cmp, value) = match req_str(arg, "op", &op_path)? {
            "SCMP_CMP_NE" => (Cmp::Ne, value),
            "SCMP_CMP_LT" => (Cmp::Lt, value),
            "SCMP_CMP_LE" => (Cmp::Le, value),
            "SCMP_CMP_EQ" => (Cmp::Eq, value),
            "SCMP_CMP_GE" => (Cmp::Ge, value),
            "SCMP_CMP_GT" => (Cmp::Gt, value),
            // (arg & value) == valueTwo. With bits of valueTwo outside the mask the condition
            // can never hold; libseccomp versions disagree on whether to mask them away, so
            // such a profile means different things to different runtimes: refused.
            "SCMP_CMP_MASKED_EQ" if value_two & !value != 0 => {
                return Err(format!(
                    "{p}.valueTwo: {value_two:#x} has bits outside the mask {value:#x}, so the \
                     condition could never hold (runtimes disagree on what it means)"
                ));
            }
            "SCMP_CMP_MASKED_EQ" => (Cmp::MaskedEq(value), value_two),
            other => return Err(format!("{op_path}: unknown operator {other:?}")),
        };
        if let Some(j) = conds.iter().position(|c| c.arg == index) {
            return Err(format!(
                "{p}: a second condition on argument {index} (after args[{j}]); runc and crun \
                 would OR them and libseccomp refuses them: write one entry per condition"
            ));
        }
        conds.push(ArgCond {
            arg: index,
            cmp,
            value,
        });
    }
    Ok(conds)
}

/// Whether an `includes` (all must hold) or `excludes` (none may hold) object lets its entry
/// apply in `ctx`.
fn filter_holds(
    filter: &Map<String, Value>,
    at: &str,
    include: bool,
    ctx: &Context,
) -> Result<bool, String> {
    let arches = str_array(filter, "arches", &format!("{at}.arches"))?;
    let caps = str_array(filter, "caps", &format!("{at}.caps"))?;
    let min_kernel = match field(filter, "minKernel") {
        None => None,
        Some(v) => Some(kernel_version(v, &format!("{at}.minKernel"))?),
    };
    let ours = docker_arch_names(ctx.arch);
    let has_cap = |c: &&str| ctx.caps.iter().any(|have| have == c);
    let kernel_ok = |min: (u32, u32)| ctx.kernel >= min;
    Ok(if include {
        (arches.is_empty() || arches.iter().any(|a| ours.contains(a)))
            && caps.iter().all(has_cap)
            && min_kernel.is_none_or(kernel_ok)
    } else {
        !arches.iter().any(|a| ours.contains(a))
            && !caps.iter().any(has_cap)
            && !min_kernel.is_some_and(kernel_ok)
    })
}

/// The names Docker profiles use in `includes.arches` for `arch` (Go's `amd64`, the kernel's
/// `x86_64`). Other names (`x86`, `arm`, `s390x`, typos) just do not match, as in Docker.
fn docker_arch_names(arch: Arch) -> &'static [&'static str] {
    match arch {
        Arch::X86_64 => &["amd64", "x86_64"],
        Arch::Aarch64 => &["arm64", "aarch64"],
    }
}

/// libseccomp's name of `arch`.
fn scmp_arch(arch: Arch) -> &'static str {
    match arch {
        Arch::X86_64 => "SCMP_ARCH_X86_64",
        Arch::Aarch64 => "SCMP_ARCH_AARCH64",
    }
}

/// `architectures` (OCI) or `archMap` (Docker): every name must be libseccomp's, and when
/// either lists anything, `arch` must be among the listed (main) architectures.
fn check_arches(top: &Map<String, Value>, arch: Arch) -> Result<(), String> {
    let known = |name: &str, path: &str| {
        if SCMP_ARCHES.contains(&name) {
            Ok(())
        } else {
            Err(format!("{path}: unknown architecture {name:?}"))
        }
    };
    let ours = scmp_arch(arch);

    let listed = str_array(top, "architectures", "architectures")?;
    for (i, a) in listed.iter().enumerate() {
        known(a, &format!("architectures[{i}]"))?;
    }

    let map = match field(top, "archMap") {
        None => &[][..],
        Some(Value::Array(a)) => a.as_slice(),
        Some(v) => return Err(expected("archMap", "an array", v)),
    };
    let mut mains = Vec::with_capacity(map.len());
    for (i, entry) in map.iter().enumerate() {
        let p = format!("archMap[{i}]");
        let Value::Object(entry) = entry else {
            return Err(expected(&p, "an object", entry));
        };
        let main = req_str(entry, "architecture", &format!("{p}.architecture"))?;
        known(main, &format!("{p}.architecture"))?;
        let subs_path = format!("{p}.subArchitectures");
        for (j, s) in str_array(entry, "subArchitectures", &subs_path)?
            .into_iter()
            .enumerate()
        {
            known(s, &format!("{subs_path}[{j}]"))?;
        }
        mains.push(main);
    }

    if !listed.is_empty() && !mains.is_empty() {
        return Err(
            "architectures and archMap are both given; use one of them, as Docker requires"
                .to_string(),
        );
    }
    for (key, names) in [("architectures", &listed), ("archMap", &mains)] {
        if !names.is_empty() && !names.contains(&ours) {
            return Err(format!(
                "{key}: the profile is for {}, not for {ours}",
                names.join(", ")
            ));
        }
    }
    Ok(())
}

/// `action` (with `errno`, from `errnoRet`) as our action; the paths name the two fields.
fn action(name: &str, errno: Option<u64>, at: &str, errno_at: &str) -> Result<Action, String> {
    let ret = |max: u64| -> Result<u16, String> {
        match errno {
            None => Ok(EPERM),
            Some(e) if e <= max => Ok(e as u16),
            Some(e) => Err(format!(
                "{errno_at}: {e} is out of range for {name} (at most {max})"
            )),
        }
    };
    let a = match name {
        "SCMP_ACT_ERRNO" => return Ok(Action::Errno(ret(MAX_ERRNO)?)),
        "SCMP_ACT_TRACE" => return Ok(Action::Trace(ret(u64::from(u16::MAX))?)),
        "SCMP_ACT_ALLOW" => Action::Allow,
        // libseccomp's SCMP_ACT_KILL is SCMP_ACT_KILL_THREAD.
        "SCMP_ACT_KILL" | "SCMP_ACT_KILL_THREAD" => Action::KillThread,
        "SCMP_ACT_KILL_PROCESS" => Action::KillProcess,
        "SCMP_ACT_TRAP" => Action::Trap,
        "SCMP_ACT_LOG" => Action::Log,
        // Without a listener the kernel answers ENOSYS: not what the profile asks for.
        "SCMP_ACT_NOTIFY" => {
            return Err(format!(
                "{at}: SCMP_ACT_NOTIFY needs a user-notification listener, which nucleus does not provide"
            ));
        }
        _ => return Err(format!("{at}: unknown action {name:?}")),
    };
    if errno.is_some() {
        // As crun: a value nothing would use is a mistake.
        return Err(format!(
            "{errno_at}: {name} takes no return value (only SCMP_ACT_ERRNO and SCMP_ACT_TRACE do)"
        ));
    }
    Ok(a)
}

/// `"MAJOR.MINOR"`, as Docker's `minKernel`.
fn kernel_version(v: &Value, at: &str) -> Result<(u32, u32), String> {
    let bad = || expected(at, "a kernel version \"MAJOR.MINOR\" such as \"5.8\"", v);
    let s = v.as_str().ok_or_else(bad)?;
    let (major, minor) = s.split_once('.').ok_or_else(bad)?;
    let num = |t: &str| {
        if !t.is_empty() && t.bytes().all(|b| b.is_ascii_digit()) {
            t.parse::<u32>().ok()
        } else {
            None
        }
    };
    Ok((num(major).ok_or_else(bad)?, num(minor).ok_or_else(bad)?))
}

/// The rules in file order, with the checks and reductions described in the module doc.
struct Rules {
    arch: Arch,
    default: Action,
    out: Vec<Rule>,
    /// Per call: the rules met so far (those with the default action too, which are not
    /// emitted), each with the index of its entry.
    seen: HashMap<u32, Vec<(Rule, usize)>>,
}

impl Rules {
    fn new(arch: Arch, default: Action) -> Self {
        Rules {
            arch,
            default,
            out: Vec::new(),
            seen: HashMap::new(),
        }
    }

    /// Adds `rule`, from `syscalls[entry]`.
    fn push(&mut self, rule: Rule, entry: usize) -> Result<(), String> {
        let default = self.default;
        let earlier = self.seen.entry(rule.nr).or_default();
        if earlier
            .iter()
            .any(|(e, _)| e.conds.is_empty() && e.action != default)
        {
            // Never reached here, and dropped by libseccomp.
            return Ok(());
        }
        for (e, from) in earlier.iter() {
            let why = if e.action == default
                && rule.action != default
                && may_overlap(&e.conds, &rule.conds)
            {
                "that one has the default action and comes first, so it decides where both \
                 match, while runc and crun skip rules with the default action"
            } else if rule.conds.is_empty() && rule.action != default && e.action != rule.action {
                "that one has conditions and comes first, so it decides where they hold, while \
                 libseccomp lets a later unconditional rule replace it"
            } else {
                continue;
            };
            let name = tables::name(self.arch, rule.nr).unwrap_or("?");
            return Err(format!(
                "syscalls[{entry}]: its rule for {name:?} conflicts with syscalls[{from}]: {why}; \
                 reorder or merge the two entries"
            ));
        }
        if earlier.iter().any(|(e, _)| *e == rule) {
            // A repeat is never reached.
            return Ok(());
        }
        earlier.push((rule.clone(), entry));
        if rule.action != default {
            self.out.push(rule);
        }
        Ok(())
    }

    fn finish(self) -> Vec<Rule> {
        self.out
    }
}

/// Whether some argument values could satisfy both sets of conditions (`true` unless one of
/// them provably excludes the other).
fn may_overlap(a: &[ArgCond], b: &[ArgCond]) -> bool {
    !a.iter()
        .any(|x| b.iter().any(|y| x.arg == y.arg && disjoint(x, y)))
}

/// Whether no value satisfies both conditions on one argument.
fn disjoint(x: &ArgCond, y: &ArgCond) -> bool {
    match (range(x), range(y)) {
        (Some((lo1, hi1)), Some((lo2, hi2))) => hi1 < lo2 || hi2 < lo1,
        _ => match (x.cmp, y.cmp) {
            (Cmp::MaskedEq(m1), Cmp::MaskedEq(m2)) => (x.value ^ y.value) & m1 & m2 != 0,
            (Cmp::MaskedEq(m), _) => point(y).is_some_and(|p| p & m != x.value),
            (_, Cmp::MaskedEq(m)) => point(x).is_some_and(|p| p & m != y.value),
            (Cmp::Ne, _) => point(y) == Some(x.value),
            (_, Cmp::Ne) => point(x) == Some(y.value),
            _ => false,
        },
    }
}

/// The values satisfying `c`, when they form an interval (`lo > hi` when empty).
fn range(c: &ArgCond) -> Option<(u64, u64)> {
    let v = c.value;
    Some(match c.cmp {
        Cmp::Eq => (v, v),
        Cmp::Lt => match v.checked_sub(1) {
            Some(hi) => (0, hi),
            None => (1, 0),
        },
        Cmp::Le => (0, v),
        Cmp::Gt => match v.checked_add(1) {
            Some(lo) => (lo, u64::MAX),
            None => (1, 0),
        },
        Cmp::Ge => (v, u64::MAX),
        Cmp::Ne | Cmp::MaskedEq(_) => return None,
    })
}

/// The one value satisfying `c`, if it is an equality.
fn point(c: &ArgCond) -> Option<u64> {
    match c.cmp {
        Cmp::Eq => Some(c.value),
        Cmp::MaskedEq(u64::MAX) => Some(c.value),
        _ => None,
    }
}

// JSON helpers. Absent and `null` are the same everywhere: Go writes `null` for empty lists.

fn field<'a>(obj: &'a Map<String, Value>, key: &str) -> Option<&'a Value> {
    obj.get(key).filter(|v| !v.is_null())
}

fn req_str<'a>(obj: &'a Map<String, Value>, key: &str, at: &str) -> Result<&'a str, String> {
    match field(obj, key) {
        None => Err(format!("{at} is missing")),
        Some(Value::String(s)) => Ok(s),
        Some(v) => Err(expected(at, "a string", v)),
    }
}

/// A list of strings; empty when absent.
fn str_array<'a>(obj: &'a Map<String, Value>, key: &str, at: &str) -> Result<Vec<&'a str>, String> {
    match field(obj, key) {
        None => Ok(Vec::new()),
        Some(Value::Array(items)) => items
            .iter()
            .enumerate()
            .map(|(i, v)| {
                v.as_str()
                    .ok_or_else(|| expected(&format!("{at}[{i}]"), "a string", v))
            })
            .collect(),
        Some(v) => Err(expected(at, "an array of strings", v)),
    }
}

fn req_uint(obj: &Map<String, Value>, key: &str, at: &str, max: u64) -> Result<u64, String> {
    opt_uint(obj, key, at, max)?.ok_or_else(|| format!("{at} is missing"))
}

/// A whole number in `0..=max`, or `None` when absent.
fn opt_uint(
    obj: &Map<String, Value>,
    key: &str,
    at: &str,
    max: u64,
) -> Result<Option<u64>, String> {
    let Some(v) = field(obj, key) else {
        return Ok(None);
    };
    match (v.as_u64(), v.as_i64(), v.as_f64()) {
        (Some(n), _, _) if n <= max => Ok(Some(n)),
        (Some(n), _, _) => Err(format!("{at}: {n} is too large (at most {max})")),
        (None, Some(n), _) => Err(format!("{at}: {n} is negative")),
        (None, None, Some(f)) if f >= 18_446_744_073_709_551_616.0 => {
            Err(format!("{at}: {v} is too large (at most {max})"))
        }
        (None, None, Some(_)) => Err(format!("{at}: {v} is not a whole number")),
        _ => Err(expected(at, "a number", v)),
    }
}

fn expected(at: &str, what: &str, found: &Value) -> String {
    format!("{at}: expected {what}, found {}", describe(found))
}

fn describe(v: &Value) -> String {
    match v {
        Value::Null => "null".to_string(),
        Value::Bool(b) => format!("{b}"),
        Value::Number(n) => format!("the number {n}"),
        Value::String(s) if s.chars().count() <= 40 => format!("the string {s:?}"),
        Value::String(_) => "a string".to_string(),
        Value::Array(_) => "an array".to_string(),
        Value::Object(_) => "an object".to_string(),
    }
}

fn json_error(e: &serde_json::Error) -> String {
    let full = e.to_string();
    let suffix = format!(" at line {} column {}", e.line(), e.column());
    let msg = full.strip_suffix(&suffix).unwrap_or(&full);
    format!(
        "malformed JSON at line {} column {}: {msg}",
        e.line(),
        e.column()
    )
}
