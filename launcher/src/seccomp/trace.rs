//! A seccomp trace: which system calls a workload made, counted per architecture and number,
//! from the audit records of a `SECCOMP_RET_LOG` filter (see [`crate::kmsg`]).
//!
//! Which records belong to the sandbox is the caller's business: it adds only those
//! ([`Trace::add`]), and the counts of records the kernel or the reader lost
//! ([`Trace::add_lost`]); a trace with losses may be missing calls.
//!
//! ## File format
//!
//! Newline-delimited JSON, one object per line, in UTF-8:
//!
//! ```text
//! {"arch":"x86_64","syscall":39,"name":"getpid","count":3}
//! {"arch":"0x40000003","syscall":20,"count":1}
//! {"lost":0}
//! ```
//!
//! - One line per `(arch, syscall)` seen, sorted by the architecture's audit value, then by
//!   number. `arch` is `x86_64` or `aarch64`, or else the `AUDIT_ARCH_*` value as `0x%08x`
//!   (`0x40000003` is i386, from `int 0x80` on x86_64). `syscall` is the number the filter saw
//!   (`seccomp_data.nr`, an unsigned 32-bit value); `name` is its name on that architecture,
//!   left out when it has none (unknown architectures, x32 numbers, numbers newer than our
//!   tables). `count` is how many records were seen.
//! - The last line is always `{"lost":N}`: how many records were lost while tracing (an upper
//!   bound: the kernel's counts cover the whole machine). A file without it is truncated.
//!
//! Reading ([`Trace::from_ndjson`]) ignores blank lines and unknown keys, adds up repeated
//! `(arch, syscall)` lines, and takes `name` instead of `syscall` on a known architecture; a
//! `name` that contradicts `syscall` is an error. Errors name the line (from 1).

use std::collections::BTreeMap;
use std::fmt::Write as _;

use nucleus_shared::seccomp::arch::Arch;
use nucleus_shared::seccomp::tables;
use serde_json::Value;

use crate::kmsg::SeccompRecord;

/// The architectures we have names for.
const ARCHES: [Arch; 2] = [Arch::X86_64, Arch::Aarch64];

/// System calls seen, by `(AUDIT_ARCH_*, number)`, and records lost.
#[cfg_attr(not(test), allow(dead_code))]
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Trace {
    counts: BTreeMap<(u32, u32), u64>,
    lost: u64,
}

/// One line of a trace.
#[cfg_attr(not(test), allow(dead_code))]
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Entry {
    /// `AUDIT_ARCH_*`.
    pub arch: u32,
    pub syscall: u32,
    pub count: u64,
}

#[cfg_attr(not(test), allow(dead_code))]
impl Entry {
    /// The architecture, if we know it.
    pub fn known_arch(&self) -> Option<Arch> {
        Arch::from_audit(self.arch)
    }

    /// The system call's name, if it has one on a known architecture.
    pub fn name(&self) -> Option<&'static str> {
        tables::name(self.known_arch()?, self.syscall)
    }
}

#[cfg_attr(not(test), allow(dead_code))]
impl Trace {
    pub fn new() -> Self {
        Self::default()
    }

    /// Counts one audit record (whatever its action).
    pub fn add(&mut self, rec: &SeccompRecord) {
        self.add_calls(rec.arch, rec.syscall, 1);
    }

    /// Counts `count` calls of `syscall` on `arch` (`AUDIT_ARCH_*`).
    pub fn add_calls(&mut self, arch: u32, syscall: u32, count: u64) {
        let c = self.counts.entry((arch, syscall)).or_insert(0);
        *c = c.saturating_add(count);
    }

    /// Counts `n` records lost (ratelimited, dropped or overwritten).
    pub fn add_lost(&mut self, n: u64) {
        self.lost = self.lost.saturating_add(n);
    }

    /// Adds everything in `other`.
    pub fn merge(&mut self, other: &Trace) {
        for e in other.entries() {
            self.add_calls(e.arch, e.syscall, e.count);
        }
        self.add_lost(other.lost);
    }

    pub fn lost(&self) -> u64 {
        self.lost
    }

    /// Whether no call was seen (losses aside).
    pub fn is_empty(&self) -> bool {
        self.counts.is_empty()
    }

    /// The calls seen, sorted by architecture, then number.
    pub fn entries(&self) -> impl Iterator<Item = Entry> + '_ {
        self.counts.iter().map(|(&(arch, syscall), &count)| Entry {
            arch,
            syscall,
            count,
        })
    }

    /// The calls seen as NDJSON, ending with the `lost` line (see the module documentation).
    pub fn to_ndjson(&self) -> String {
        let mut out = String::new();
        for e in self.entries() {
            let arch = Value::String(arch_label(e.arch));
            let _ = write!(out, "{{\"arch\":{arch},\"syscall\":{}", e.syscall);
            if let Some(name) = e.name() {
                let _ = write!(out, ",\"name\":{}", Value::String(name.to_owned()));
            }
            let _ = writeln!(out, ",\"count\":{}}}", e.count);
        }
        let _ = writeln!(out, "{{\"lost\":{}}}", self.lost);
        out
    }

    /// Reads what [`Trace::to_ndjson`] wrote.
    pub fn from_ndjson(text: &str) -> Result<Trace, String> {
        let mut trace = Trace::new();
        let mut lost_line = None;
        for (i, line) in text.lines().enumerate() {
            let n = i + 1;
            if line.trim().is_empty() {
                continue;
            }
            if let Some(at) = lost_line {
                return Err(format!(
                    "line {n}: nothing may follow the final \"lost\" line (line {at})"
                ));
            }
            let value: Value =
                serde_json::from_str(line).map_err(|e| format!("line {n}: not JSON: {e}"))?;
            let obj = value
                .as_object()
                .ok_or_else(|| format!("line {n}: not a JSON object"))?;
            if let Some(lost) = obj.get("lost") {
                if obj.contains_key("arch") || obj.contains_key("syscall") {
                    return Err(format!("line {n}: \"lost\" on a line of a system call"));
                }
                trace.add_lost(
                    lost.as_u64()
                        .ok_or_else(|| format!("line {n}: \"lost\" must be a whole number"))?,
                );
                lost_line = Some(n);
                continue;
            }
            let (arch, syscall, count) = entry(obj).map_err(|e| format!("line {n}: {e}"))?;
            trace.add_calls(arch, syscall, count);
        }
        if lost_line.is_none() {
            return Err(format!(
                "line {}: missing the final {{\"lost\":N}} line (truncated trace?)",
                text.lines().count() + 1
            ));
        }
        Ok(trace)
    }
}

/// `x86_64`, `aarch64`, or the audit value.
pub fn arch_label(audit: u32) -> String {
    match Arch::from_audit(audit) {
        Some(a) => a.name().to_owned(),
        None => format!("0x{audit:08x}"),
    }
}

fn parse_arch(label: &str) -> Option<u32> {
    if let Some(a) = ARCHES.iter().find(|a| a.name() == label) {
        return Some(a.audit());
    }
    let hex = label.strip_prefix("0x")?;
    u32::from_str_radix(hex, 16).ok()
}

/// `(arch, syscall, count)` of a line of a system call.
fn entry(obj: &serde_json::Map<String, Value>) -> Result<(u32, u32, u64), String> {
    let label = obj
        .get("arch")
        .ok_or("missing \"arch\"")?
        .as_str()
        .ok_or("\"arch\" must be a string")?;
    let arch = parse_arch(label).ok_or_else(|| {
        format!("unknown \"arch\" {label:?} (x86_64, aarch64 or an audit value as 0x...)")
    })?;
    let known = Arch::from_audit(arch);
    let name = match obj.get("name") {
        None | Some(Value::Null) => None,
        Some(Value::String(s)) => Some(s.as_str()),
        Some(_) => return Err("\"name\" must be a string".into()),
    };
    let syscall = match obj.get("syscall") {
        Some(v) => Some(
            v.as_u64()
                .and_then(|v| u32::try_from(v).ok())
                .ok_or("\"syscall\" must be a number from 0 to 4294967295")?,
        ),
        None => None,
    };
    let syscall = match (syscall, name, known) {
        (Some(nr), Some(name), Some(a)) => match tables::name(a, nr) {
            Some(real) if real != name => {
                return Err(format!(
                    "system call {nr} on {} is {real}, not {name:?}",
                    a.name()
                ));
            }
            _ => nr,
        },
        (Some(nr), _, _) => nr,
        (None, Some(name), Some(a)) => tables::number(a, name)
            .ok_or_else(|| format!("unknown system call {name:?} on {}", a.name()))?,
        (None, Some(_), None) => return Err(format!("a name needs a known arch, not {label:?}")),
        (None, None, _) => return Err("missing \"syscall\"".into()),
    };
    let count = obj
        .get("count")
        .ok_or("missing \"count\"")?
        .as_u64()
        .ok_or("\"count\" must be a whole number")?;
    Ok((arch, syscall, count))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::kmsg::{KmsgEvent, parse_line};

    const SH: &str = include_str!("testdata/trace/sh.kmsg");
    const BASIC: &str = include_str!("testdata/trace/basic.kmsg");
    const SH_NDJSON: &str = include_str!("testdata/trace/sh.ndjson");

    const X86: u32 = 0xc000_003e;

    /// A trace of every seccomp record in a kmsg fixture, and its suppressed counts.
    fn trace_of(kmsg: &str) -> Trace {
        let mut t = Trace::new();
        for line in kmsg.lines() {
            match parse_line(line) {
                Some(KmsgEvent::Seccomp(r)) => t.add(&r),
                Some(KmsgEvent::Suppressed(n)) => t.add_lost(n),
                None => {}
            }
        }
        t
    }

    #[test]
    fn format() {
        let mut t = Trace::new();
        let rec = |arch, syscall| SeccompRecord {
            seq: 1,
            serial: 1,
            pid: 1,
            ses: 1,
            comm: String::new(),
            exe: String::new(),
            arch,
            syscall,
            code: 0x7ffc_0000,
        };
        for _ in 0..3 {
            t.add(&rec(X86, 39));
        }
        t.add(&rec(0x4000_0003, 20));
        t.add(&rec(X86, 0x4000_0001)); // x32 write
        t.add(&rec(0xc000_00b7, 63));
        t.add_lost(2);
        t.add_lost(5);
        assert_eq!(
            t.to_ndjson(),
            "{\"arch\":\"0x40000003\",\"syscall\":20,\"count\":1}\n\
             {\"arch\":\"x86_64\",\"syscall\":39,\"name\":\"getpid\",\"count\":3}\n\
             {\"arch\":\"x86_64\",\"syscall\":1073741825,\"count\":1}\n\
             {\"arch\":\"aarch64\",\"syscall\":63,\"name\":\"read\",\"count\":1}\n\
             {\"lost\":7}\n"
        );
        assert_eq!(Trace::from_ndjson(&t.to_ndjson()), Ok(t));
        assert_eq!(Trace::new().to_ndjson(), "{\"lost\":0}\n");
        assert_eq!(Trace::from_ndjson("{\"lost\":0}\n"), Ok(Trace::new()));
    }

    #[test]
    fn sh_fixture_golden() {
        let t = trace_of(SH);
        assert_eq!(t.lost(), 0);
        assert_eq!(t.entries().map(|e| e.count).sum::<u64>(), 240);
        if std::env::var_os("NUCLEUS_BLESS").is_some() {
            let path = concat!(
                env!("CARGO_MANIFEST_DIR"),
                "/src/seccomp/testdata/trace/sh.ndjson"
            );
            std::fs::write(path, t.to_ndjson()).unwrap();
            return;
        }
        assert_eq!(t.to_ndjson(), SH_NDJSON);
        assert_eq!(Trace::from_ndjson(SH_NDJSON), Ok(t.clone()));
        let names: Vec<&str> = t.entries().filter_map(|e| e.name()).collect();
        for expected in [
            "execve",
            "brk",
            "mmap",
            "openat",
            "vfork",
            "wait4",
            "exit_group",
        ] {
            assert!(names.contains(&expected), "{expected} in {names:?}");
        }
    }

    #[test]
    fn ratelimit_fixture_counts_lost() {
        let t = trace_of(include_str!("testdata/trace/ratelimit.kmsg"));
        assert_eq!(t.lost(), 23);
        assert_eq!(t.entries().map(|e| e.count).sum::<u64>(), 4);
    }

    #[test]
    fn merge_and_counts() {
        let mut a = trace_of(BASIC);
        assert_eq!(
            a.entries()
                .map(|e| (e.arch, e.syscall, e.count))
                .collect::<Vec<_>>(),
            [(0x4000_0003, 20, 1), (X86, 39, 7), (X86, 110, 7)]
        );
        let b = a.clone();
        a.merge(&b);
        a.add_lost(u64::MAX);
        assert_eq!(a.lost(), u64::MAX);
        assert_eq!(a.entries().nth(1).unwrap().count, 14);
        assert!(!a.is_empty());
        a.add_calls(X86, 39, u64::MAX);
        assert_eq!(a.entries().nth(1).unwrap().count, u64::MAX);
    }

    #[test]
    fn lenient_reading() {
        let text = "\n{\"arch\":\"x86_64\",\"name\":\"getpid\",\"count\":2,\"x\":1}\n\
                    {\"arch\":\"x86_64\",\"syscall\":39,\"count\":1}\n\
                    {\"arch\":\"0x40000003\",\"syscall\":20,\"name\":\"whatever\",\"count\":0}\n\
                    {\"arch\":\"aarch64\",\"syscall\":999,\"name\":\"future_call\",\"count\":1}\n\
                    \n{\"lost\":4}\n\n";
        let t = Trace::from_ndjson(text).unwrap();
        assert_eq!(
            t.entries()
                .map(|e| (e.arch, e.syscall, e.count))
                .collect::<Vec<_>>(),
            [(0x4000_0003, 20, 0), (X86, 39, 3), (0xc000_00b7, 999, 1)]
        );
        assert_eq!(t.lost(), 4);
    }

    #[test]
    fn errors_name_the_line() {
        let ok = "{\"arch\":\"x86_64\",\"syscall\":39,\"count\":1}\n";
        for (text, want) in [
            ("", "line 1: missing the final"),
            (ok, "line 2: missing the final"),
            ("{\"lost\":1}\n{\"lost\":1}\n", "line 2: nothing may follow"),
            (
                &format!("{{\"lost\":0}}\n{ok}"),
                "line 2: nothing may follow",
            ),
            ("nope\n{\"lost\":0}", "line 1: not JSON"),
            ("[1]\n{\"lost\":0}", "line 1: not a JSON object"),
            ("{\"lost\":-1}", "line 1: \"lost\" must be"),
            (
                "{\"lost\":1,\"arch\":\"x86_64\"}",
                "line 1: \"lost\" on a line",
            ),
            (
                &format!("{ok}{{\"syscall\":1,\"count\":1}}\n"),
                "line 2: missing \"arch\"",
            ),
            (
                "{\"arch\":7,\"syscall\":1,\"count\":1}",
                "line 1: \"arch\" must be a string",
            ),
            (
                "{\"arch\":\"mips\",\"syscall\":1,\"count\":1}",
                "line 1: unknown \"arch\"",
            ),
            (
                "{\"arch\":\"0xzz\",\"syscall\":1,\"count\":1}",
                "line 1: unknown \"arch\"",
            ),
            (
                "{\"arch\":\"x86_64\",\"count\":1}",
                "line 1: missing \"syscall\"",
            ),
            (
                "{\"arch\":\"x86_64\",\"syscall\":-1,\"count\":1}",
                "line 1: \"syscall\" must be",
            ),
            (
                "{\"arch\":\"x86_64\",\"syscall\":4294967296,\"count\":1}",
                "line 1: \"syscall\"",
            ),
            (
                "{\"arch\":\"x86_64\",\"syscall\":1}",
                "line 1: missing \"count\"",
            ),
            (
                "{\"arch\":\"x86_64\",\"syscall\":1,\"count\":1.5}",
                "line 1: \"count\" must be",
            ),
            (
                "{\"arch\":\"x86_64\",\"syscall\":1,\"name\":2,\"count\":1}",
                "line 1: \"name\" must",
            ),
            (
                "{\"arch\":\"x86_64\",\"syscall\":39,\"name\":\"read\",\"count\":1}",
                "line 1: system call 39 on x86_64 is getpid, not \"read\"",
            ),
            (
                "{\"arch\":\"x86_64\",\"name\":\"nope\",\"count\":1}",
                "line 1: unknown system call",
            ),
            (
                "{\"arch\":\"0x40000003\",\"name\":\"getpid\",\"count\":1}",
                "line 1: a name needs",
            ),
        ] {
            let e = Trace::from_ndjson(text).unwrap_err();
            assert!(e.starts_with(want), "{text:?}: {e}");
        }
    }

    #[test]
    fn arch_labels() {
        for audit in [X86, 0xc000_00b7, 0x4000_0003, 0, u32::MAX] {
            assert_eq!(parse_arch(&arch_label(audit)), Some(audit));
        }
        assert_eq!(arch_label(0x4000_0003), "0x40000003");
    }
}
