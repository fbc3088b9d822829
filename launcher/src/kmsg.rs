//! Seccomp audit records from the kernel log (`/dev/kmsg`), for `SECCOMP_RET_LOG` tracing.
//!
//! With no audit daemon, the kernel prints every audit record with `printk`, so a record of a
//! logged system call (type 1326, `AUDIT_SECCOMP`) reaches `/dev/kmsg`. One `read` of
//! `/dev/kmsg` returns one record:
//!
//! ```text
//! 5,2800419,1783914766,-;audit: type=1326 audit(1795918265.173:2832030): auid=4294967295 uid=0 gid=0 ses=4294967295 pid=9033 comm="t2" exe=2F746D702F736320746573742F7432 sig=0 arch=c000003e syscall=39 compat=0 ip=0x7f3e7442e829 code=0x7ffc0000
//! ```
//!
//! - The prefix is `priority,sequence,timestamp_us,flags[,more];` (the kernel may add fields
//!   before `;`). The priority's facility (`priority >> 3`) is 0 for the kernel's own
//!   messages; a record written to `/dev/kmsg` from user space gets facility 1 (`LOG_USER`) even
//!   if it claims otherwise, so records with another facility are ignored: they are forgeable.
//!   Continuation lines (`␠KEY=value`, the record's dictionary) follow the first line.
//! - `audit(SECONDS.MILLIS:SERIAL)`: the serial is global to all audit records.
//! - `subj=...` follows `ses=` when an LSM is active; it is not quoted and may contain spaces.
//! - `comm` and `exe` are audit "untrusted strings": in double quotes, or, when they contain a
//!   space, a double quote, a control character or a byte above 0x7e, unquoted upper-case hex
//!   of the bytes (`comm=612062` is `a b`, `exe=2F746D702F...` a path with a space).
//!   `exe=(null)` appears for a task without an executable.
//! - `arch` is the `AUDIT_ARCH_*` value in hex without `0x` (`40000003` for `int 0x80` on
//!   x86_64, with `compat=1`), `syscall` is decimal (negative for a negative `nr`), `code` is
//!   the action in hex: `0x7ffc0000` `SECCOMP_RET_LOG`, `0x80000000` `KILL_PROCESS` (with
//!   `sig=31`), `0x50000` `ERRNO` (only with `SECCOMP_FILTER_FLAG_LOG`; the errno is not kept).
//!
//! ## What is lost, and how it shows
//!
//! The kernel prints audit records through `printk_ratelimit()`: by default (sysctls
//! `kernel.printk_ratelimit=5`, `kernel.printk_ratelimit_burst=10`) at most **10 records per 5
//! seconds** reach the log, for all audit records of the whole machine together. 20 000 logged
//! calls in a row gave 10 records, then, at the next rate-limited `printk` after the 5 s window
//! (possibly much later, or never during a trace), one line naming the count:
//!
//! ```text
//! 4,2800384,1758814353,-;kauditd_printk_skb: 23 callbacks suppressed
//! ```
//!
//! The count is every `printk_ratelimit()` caller's misses in that window, so it may include a
//! few non-audit messages; the line names whichever caller ended the window, so any of the
//! audit functions counts. When records are dropped before printing (the audit rate limit,
//! `auditctl -r`, or the backlog), the kernel prints a running total since boot, and the
//! reason:
//!
//! ```text
//! 4,2800405,1766015831,-;audit: audit_lost=5974 audit_rate_limit=10 audit_backlog_limit=64
//! 3,2800406,1766015832,-;audit: rate limit exceeded
//! ```
//!
//! (the reason may also be `backlog limit exceeded` or `kauditd hold queue overflow`, after
//! `audit: audit_backlog=N > audit_backlog_limit=M`; a task over the backlog limit first sleeps
//! up to `backlog_wait_time`, so on this kernel a flood with `printk_ratelimit=0` only slowed
//! the tracee down). Finally a reader slower than the writers finds its next record overwritten
//! in the ring buffer (about 128 KiB here, some 560 records): `read` fails with `EPIPE` and the
//! next record's sequence number tells how many were skipped.
//!
//! [`parse_line`] reports `callbacks suppressed` lines as [`KmsgEvent::Suppressed`];
//! [`KmsgReader`] also turns increases of `audit_lost` and `EPIPE` gaps into `Suppressed`.
//! For a complete trace the ratelimit must be lifted (`kernel.printk_ratelimit=0`), or the
//! records read from the audit netlink multicast group instead (`AUDIT_NLGRP_READLOG`, which
//! the kernel feeds before the printk ratelimit); [`parse_seccomp_body`] parses the text of such
//! a netlink message too.

use std::io;

use rustix::fd::{AsFd, BorrowedFd, OwnedFd};
use rustix::fs::{Mode, OFlags, SeekFrom};
use rustix::io::Errno;

/// `AUDIT_SECCOMP`, the audit record type of a logged seccomp action.
pub const AUDIT_SECCOMP: u32 = 1326;

/// The functions whose `N callbacks suppressed` line counts audit records not printed:
/// `kauditd_printk_skb` (`audit_printk_skb` before Linux 4.11) drops records, the others are
/// the audit's own warnings sharing the same ratelimit state.
const AUDIT_RATELIMITED: [&str; 5] = [
    "kauditd_printk_skb",
    "audit_printk_skb",
    "audit_log_lost",
    "audit_log_start",
    "audit_panic",
];

/// One `type=1326` audit record: a system call a seccomp filter logged.
#[cfg_attr(not(test), allow(dead_code))]
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SeccompRecord {
    /// The kmsg sequence number (0 when parsed from a netlink message).
    pub seq: u64,
    /// The audit serial number, `audit(...:SERIAL)`.
    pub serial: u64,
    /// The thread group (process) id, as seen from the initial pid namespace.
    pub pid: u32,
    /// The audit session id (`ses=`), inherited by every descendant; `u32::MAX` when unset.
    pub ses: u32,
    /// The thread's name (hex decoded); empty if missing.
    pub comm: String,
    /// The executable's path (hex decoded); empty if missing, `(null)` if none.
    pub exe: String,
    /// `AUDIT_ARCH_*` of the call.
    pub arch: u32,
    /// The system call number (`seccomp_data.nr`, so -1 is `0xffff_ffff`).
    pub syscall: u32,
    /// The `SECCOMP_RET_*` action, without its data: `0x7ffc0000` for `SECCOMP_RET_LOG`.
    pub code: u32,
}

#[cfg_attr(not(test), allow(dead_code))]
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum KmsgEvent {
    Seccomp(SeccompRecord),
    /// This many audit records (or, for `EPIPE` gaps, log records) were not seen.
    Suppressed(u64),
}

/// Parses one kmsg record (its first line; continuation lines are ignored).
///
/// Returns `Seccomp` for a kernel `type=1326` record, `Suppressed(N)` for the audit's
/// `N callbacks suppressed` line, and `None` for anything else, including records written by
/// user space, malformed records and records missing `pid`, `arch`, `syscall` or `code`.
/// The cumulative `audit_lost=` lines need state; see [`parse_audit_lost`].
#[cfg_attr(not(test), allow(dead_code))]
pub fn parse_line(line: &str) -> Option<KmsgEvent> {
    let (seq, msg) = kernel_message(line)?;
    if let Some(rest) = msg.strip_prefix("audit: ") {
        let (kind, body) = rest.trim_start().strip_prefix("type=")?.split_once(' ')?;
        if kind.parse::<u32>().ok()? != AUDIT_SECCOMP {
            return None;
        }
        return parse_seccomp_body(seq, body).map(KmsgEvent::Seccomp);
    }
    let (func, rest) = msg.split_once(": ")?;
    if !AUDIT_RATELIMITED.contains(&func) {
        return None;
    }
    let n = rest.trim_end().strip_suffix(" callbacks suppressed")?;
    n.parse().ok().map(KmsgEvent::Suppressed)
}

/// The total in an `audit: audit_lost=N ...` line: audit records the kernel dropped since boot.
#[cfg_attr(not(test), allow(dead_code))]
pub fn parse_audit_lost(line: &str) -> Option<u64> {
    let (_, msg) = kernel_message(line)?;
    let rest = msg.strip_prefix("audit: audit_lost=")?;
    let end = rest
        .find(|c: char| !c.is_ascii_digit())
        .unwrap_or(rest.len());
    rest[..end].parse().ok()
}

/// Parses the body of a seccomp audit record: `audit(SECS.MS:SERIAL): key=value ...`, as it
/// follows `type=1326` in the kernel log, and as the text of an `AUDIT_SECCOMP` netlink message.
#[cfg_attr(not(test), allow(dead_code))]
pub fn parse_seccomp_body(seq: u64, body: &str) -> Option<SeccompRecord> {
    let rest = body.trim_start().strip_prefix("audit(")?;
    let (stamp, fields) = rest.split_once("):")?;
    let (_, serial) = stamp.split_once(':')?;
    let serial = serial.parse().ok()?;

    let (mut pid, mut arch, mut syscall, mut code) = (None, None, None, None);
    let mut ses = u32::MAX;
    let (mut comm, mut exe) = (String::new(), String::new());
    // Later fields win: `subj=` comes early, is not escaped and could contain `key=value`.
    for (key, value) in fields
        .split_ascii_whitespace()
        .filter_map(|t| t.split_once('='))
    {
        match key {
            "pid" => pid = value.parse::<u32>().ok(),
            "ses" => ses = value.parse().unwrap_or(u32::MAX),
            "arch" => arch = parse_hex(value),
            "syscall" => syscall = parse_nr(value),
            "code" => code = parse_hex(value),
            "comm" => comm = untrusted_string(value),
            "exe" => exe = untrusted_string(value),
            _ => {}
        }
    }
    Some(SeccompRecord {
        seq,
        serial,
        pid: pid?,
        ses,
        comm,
        exe,
        arch: arch?,
        syscall: syscall?,
        code: code?,
    })
}

/// The sequence number and message of a kernel (facility 0) record's first line.
fn kernel_message(line: &str) -> Option<(u64, &str)> {
    let line = line.split('\n').next().unwrap_or("");
    let (prefix, msg) = line.split_once(';')?;
    let mut fields = prefix.split(',');
    let priority: u32 = fields.next()?.parse().ok()?;
    let seq: u64 = fields.next()?.parse().ok()?;
    if priority >> 3 != 0 {
        return None;
    }
    Some((seq, msg))
}

fn parse_hex(value: &str) -> Option<u32> {
    let digits = value
        .strip_prefix("0x")
        .or_else(|| value.strip_prefix("0X"))
        .unwrap_or(value);
    u32::from_str_radix(digits, 16).ok()
}

/// `syscall=%ld` of an `int` number: -1 is `0xffff_ffff`, as in `seccomp_data.nr`.
fn parse_nr(value: &str) -> Option<u32> {
    let v: i64 = value.parse().ok()?;
    i32::try_from(v)
        .map(|v| v as u32)
        .or_else(|_| u32::try_from(v))
        .ok()
}

/// An audit untrusted string: `"text"`, or hex of the bytes; anything else (`(null)`) as is.
fn untrusted_string(value: &str) -> String {
    if let Some(inner) = value.strip_prefix('"').and_then(|v| v.strip_suffix('"')) {
        return inner.to_owned();
    }
    let bytes = value.as_bytes();
    if !bytes.is_empty() && bytes.len().is_multiple_of(2) && bytes.iter().all(u8::is_ascii_hexdigit)
    {
        let decoded: Vec<u8> = bytes
            .chunks_exact(2)
            .map(|pair| (hex_digit(pair[0]) << 4) | hex_digit(pair[1]))
            .collect();
        return String::from_utf8_lossy(&decoded).into_owned();
    }
    value.to_owned()
}

fn hex_digit(b: u8) -> u8 {
    match b {
        b'0'..=b'9' => b - b'0',
        b'a'..=b'f' => b - b'a' + 10,
        _ => b - b'A' + 10,
    }
}

/// Reads records from `/dev/kmsg`, from the moment it was opened on.
#[cfg_attr(not(test), allow(dead_code))]
pub struct KmsgReader {
    fd: OwnedFd,
    buf: Vec<u8>,
    tracker: LossTracker,
}

#[cfg_attr(not(test), allow(dead_code))]
impl KmsgReader {
    /// Opens `/dev/kmsg` (non-blocking, close-on-exec) and skips the records already in it.
    /// Fails when the log is not readable (not root, `kernel.dmesg_restrict`, no `/dev/kmsg`).
    pub fn open() -> io::Result<Self> {
        Self::open_path("/dev/kmsg")
    }

    fn open_path(path: &str) -> io::Result<Self> {
        let fd = rustix::fs::open(
            path,
            OFlags::RDONLY | OFlags::NONBLOCK | OFlags::CLOEXEC,
            Mode::empty(),
        )?;
        let mut reader = KmsgReader {
            fd,
            // Larger than any record (the kernel fails a read into a smaller buffer).
            buf: vec![0; 16 * 1024],
            tracker: LossTracker::default(),
        };
        reader.skip_existing()?;
        Ok(reader)
    }

    /// Moves to the end of the log. It reads its way there rather than `lseek(SEEK_END)`
    /// straight away: only a record tells its sequence number, which is needed to count the
    /// records overwritten if the first read after opening fails with `EPIPE`; on the way it
    /// also learns the last `audit_lost` total. The log is small (a ring of some hundred KiB:
    /// a few ms at most); a log written faster than it can be read is left by `SEEK_END`.
    fn skip_existing(&mut self) -> io::Result<()> {
        const MAX_RECORDS: usize = 1 << 20;
        for _ in 0..MAX_RECORDS {
            match rustix::io::read(&self.fd, &mut self.buf[..]) {
                Ok(0) | Err(Errno::AGAIN) => return Ok(()),
                Ok(n) => {
                    let record = String::from_utf8_lossy(&self.buf[..n]);
                    self.tracker.skip(&record);
                }
                Err(Errno::PIPE | Errno::INTR) => {}
                Err(e) => return Err(e.into()),
            }
        }
        rustix::fs::seek(&self.fd, SeekFrom::End(0))?;
        self.tracker = LossTracker::default();
        Ok(())
    }

    /// Reads every record available now and hands `f` the seccomp records and the counts of
    /// records lost (ratelimited, dropped, or overwritten before this reader got to them).
    pub fn read_available(&mut self, mut f: impl FnMut(KmsgEvent)) -> io::Result<()> {
        loop {
            match rustix::io::read(&self.fd, &mut self.buf[..]) {
                Ok(0) | Err(Errno::AGAIN) => break,
                Ok(n) => {
                    let record = String::from_utf8_lossy(&self.buf[..n]);
                    self.tracker.record(&record, &mut f);
                }
                Err(Errno::PIPE) => self.tracker.overrun(),
                Err(Errno::INTR) => {}
                Err(e) => return Err(e.into()),
            }
        }
        self.tracker.idle(&mut f);
        Ok(())
    }
}

impl AsFd for KmsgReader {
    fn as_fd(&self) -> BorrowedFd<'_> {
        self.fd.as_fd()
    }
}

/// The sequence number of any record, kernel or not.
fn record_seq(record: &str) -> Option<u64> {
    record.split(',').nth(1)?.parse().ok()
}

/// The reader's state for counting what it did not see.
#[derive(Debug, Default)]
struct LossTracker {
    /// The sequence number of the last record read.
    last_seq: Option<u64>,
    /// `EPIPE` since the last record: the gap is known at the next one.
    overrun: bool,
    /// The last `audit_lost=` total seen.
    audit_lost: Option<u64>,
}

impl LossTracker {
    fn overrun(&mut self) {
        self.overrun = true;
    }

    /// A record from before the reader started: only its sequence number and loss total count.
    fn skip(&mut self, record: &str) {
        if let Some(seq) = record_seq(record) {
            self.last_seq = Some(seq);
        }
        if let Some(total) = parse_audit_lost(record) {
            self.audit_lost = Some(total);
        }
    }

    fn record(&mut self, record: &str, f: &mut impl FnMut(KmsgEvent)) {
        if let Some(seq) = record_seq(record) {
            // Sequence numbers have no gaps but for records overwritten before we read them.
            let mut skipped = match self.last_seq {
                Some(last) => seq.saturating_sub(last.saturating_add(1)),
                None => 0,
            };
            if std::mem::take(&mut self.overrun) {
                skipped = skipped.max(1);
            }
            if skipped > 0 {
                f(KmsgEvent::Suppressed(skipped));
            }
            self.last_seq = Some(seq);
        }
        if let Some(event) = parse_line(record) {
            f(event);
        } else if let Some(total) = parse_audit_lost(record) {
            // The first total seen has no base: the kernel prints it right after a loss.
            let lost = match self.audit_lost {
                Some(prev) if total > prev => total - prev,
                Some(_) => 0,
                None => 1,
            };
            self.audit_lost = Some(total.max(self.audit_lost.unwrap_or(0)));
            if lost > 0 {
                f(KmsgEvent::Suppressed(lost));
            }
        }
    }

    /// No record follows an `EPIPE` yet: count at least one.
    fn idle(&mut self, f: &mut impl FnMut(KmsgEvent)) {
        if std::mem::take(&mut self.overrun) {
            f(KmsgEvent::Suppressed(1));
            // The gap to the next record is then counted from here.
            self.last_seq = self.last_seq.map(|s| s + 1);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const BASIC: &str = include_str!("seccomp/testdata/trace/basic.kmsg");
    const SH: &str = include_str!("seccomp/testdata/trace/sh.kmsg");
    const RATELIMIT: &str = include_str!("seccomp/testdata/trace/ratelimit.kmsg");
    const OTHER: &str = include_str!("seccomp/testdata/trace/other.kmsg");

    const RET_LOG: u32 = 0x7ffc_0000;

    /// The records of a fixture: each starts with a line that is not a continuation.
    fn records(text: &str) -> Vec<String> {
        let mut out: Vec<String> = Vec::new();
        for line in text.lines() {
            match out.last_mut() {
                Some(last) if line.starts_with(' ') => {
                    last.push_str(line);
                    last.push('\n');
                }
                _ => out.push(format!("{line}\n")),
            }
        }
        out
    }

    fn seccomp(text: &str) -> Vec<SeccompRecord> {
        records(text)
            .iter()
            .filter_map(|r| match parse_line(r) {
                Some(KmsgEvent::Seccomp(s)) => Some(s),
                _ => None,
            })
            .collect()
    }

    #[test]
    fn real_record() {
        let line = BASIC.lines().next().unwrap();
        assert_eq!(
            parse_line(line),
            Some(KmsgEvent::Seccomp(SeccompRecord {
                seq: 2800419,
                serial: 2832030,
                pid: 9033,
                ses: u32::MAX,
                comm: "t2".into(),
                exe: "/tmp/sc test/t2".into(),
                arch: 0xc000_003e,
                syscall: 39,
                code: RET_LOG,
            }))
        );
    }

    #[test]
    fn every_record_of_the_fixtures_parses() {
        for text in [BASIC, SH] {
            let n = text.lines().filter(|l| l.contains("type=1326")).count();
            assert_eq!(seccomp(text).len(), n);
        }
        assert_eq!(seccomp(SH).len(), 240);
    }

    #[test]
    fn comm_and_exe_encodings() {
        let recs = seccomp(BASIC);
        let comms: Vec<&str> = recs.iter().map(|r| r.comm.as_str()).collect();
        assert_eq!(
            comms,
            [
                "t2", "t2", "a b", "a b", "q\"x", "q\"x", "ü", "ü", "x=y", "x=y", "t2", "t2", "t2",
                "t2", "t2"
            ]
        );
        assert_eq!(recs[4].exe, "/tmp/sc test/t2 prog");
        assert!(recs.iter().all(|r| r.exe.starts_with("/tmp/sc test/t2")));
    }

    #[test]
    fn codes_arches_and_numbers() {
        let recs = seccomp(BASIC);
        // getppid with RET_ERRNO|1 and SECCOMP_FILTER_FLAG_LOG: the errno is not logged.
        assert_eq!((recs[11].syscall, recs[11].code), (110, 0x0005_0000));
        // getppid with RET_KILL_PROCESS.
        assert_eq!((recs[13].syscall, recs[13].code), (110, 0x8000_0000));
        // getpid through int 0x80.
        assert_eq!((recs[14].arch, recs[14].syscall), (0x4000_0003, 20));
        assert!(recs[..14].iter().all(|r| r.arch == 0xc000_003e));
    }

    #[test]
    fn sh_fixture() {
        let recs = seccomp(SH);
        // execve by execvp (two misses on PATH, then sh), then sh and its child ls.
        assert_eq!(recs[0].syscall, 59);
        assert_eq!(recs[0].comm, "t2");
        assert!(
            recs.iter()
                .any(|r| r.comm == "sh" && r.exe == "/usr/bin/dash")
        );
        assert!(
            recs.iter()
                .any(|r| r.comm == "ls" && r.exe == "/usr/bin/ls")
        );
        let pids: std::collections::BTreeSet<u32> = recs.iter().map(|r| r.pid).collect();
        assert_eq!(pids.len(), 2, "{pids:?}");
        assert!(recs.windows(2).all(|w| w[1].seq == w[0].seq + 1));
        assert!(recs.iter().all(|r| r.code == RET_LOG));
    }

    #[test]
    fn rate_limit_lines() {
        let events: Vec<KmsgEvent> = records(RATELIMIT)
            .iter()
            .filter_map(|r| parse_line(r))
            .filter(|e| !matches!(e, KmsgEvent::Seccomp(_)))
            .collect();
        assert_eq!(events, [KmsgEvent::Suppressed(23)]);
        let totals: Vec<u64> = records(RATELIMIT)
            .iter()
            .filter_map(|r| parse_audit_lost(r))
            .collect();
        assert_eq!(totals, [5974, 8957]);
        assert_eq!(
            parse_line("4,1,1,-;kauditd_printk_skb: 19992 callbacks suppressed"),
            Some(KmsgEvent::Suppressed(19992))
        );
        assert_eq!(
            parse_line("4,1,1,-;audit_log_lost: 7 callbacks suppressed\n"),
            Some(KmsgEvent::Suppressed(7))
        );
        // Another subsystem's ratelimit says nothing about audit records.
        assert_eq!(
            parse_line("4,1,1,-;net_ratelimit: 7 callbacks suppressed"),
            None
        );
        assert_eq!(
            parse_line("4,1,1,-;kauditd_printk_skb: many callbacks suppressed"),
            None
        );
    }

    #[test]
    fn other_records_are_ignored() {
        for r in records(OTHER) {
            assert_eq!(parse_line(&r), None, "{r}");
            assert_eq!(parse_audit_lost(&r), None, "{r}");
        }
        for r in records(RATELIMIT) {
            if r.contains("rate limit exceeded") {
                assert_eq!(parse_line(&r), None);
            }
        }
    }

    #[test]
    fn forged_records_from_user_space_are_ignored() {
        let forged: Vec<String> = records(OTHER)
            .into_iter()
            .filter(|r| r.contains("forged") || r.contains("99 callbacks"))
            .collect();
        assert_eq!(forged.len(), 2);
        for r in &forged {
            assert_eq!(parse_line(r), None);
            // The same text with the kernel's facility would count.
            let (prio, rest) = r.split_once(',').unwrap();
            let kernel = format!("{},{rest}", prio.parse::<u32>().unwrap() & 7);
            assert!(parse_line(&kernel).is_some(), "{kernel}");
        }
    }

    #[test]
    fn continuation_lines_and_extra_prefix_fields() {
        let line = BASIC.lines().next().unwrap();
        let with_dict = format!("{line}\n SUBSYSTEM=virtio\n DEVICE=+virtio:virtio1\n");
        assert_eq!(parse_line(&with_dict), parse_line(line));
        assert_eq!(parse_line(" SUBSYSTEM=virtio"), None);
        // CONFIG_PRINTK_CALLER adds a field to the prefix.
        let caller = line.replacen(",-;", ",-,caller=T9033;", 1);
        assert_eq!(parse_line(&caller), parse_line(line));
    }

    fn body(fields: &str) -> String {
        format!("5,7,1,-;audit: type=1326 audit(1795918265.173:42): {fields}")
    }

    fn parse_fields(fields: &str) -> Option<SeccompRecord> {
        match parse_line(&body(fields)) {
            Some(KmsgEvent::Seccomp(r)) => Some(r),
            None => None,
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn lsm_subject_and_order() {
        let r = parse_fields(
            "auid=1000 uid=1000 gid=1000 ses=3 subj=/usr/bin/foo (enforce) pid=77 comm=\"foo\" \
             exe=\"/usr/bin/foo\" sig=0 arch=c00000b7 syscall=63 compat=0 ip=0xffff code=0x7ffc0000",
        )
        .unwrap();
        assert_eq!(
            (r.pid, r.arch, r.syscall, r.comm.as_str(), r.exe.as_str()),
            (77, 0xc000_00b7, 63, "foo", "/usr/bin/foo")
        );
        // An unescaped subject cannot override the kernel's own fields, which follow it.
        let r = parse_fields(
            "subj=x pid=1 syscall=1 pid=77 comm=\"a\" exe=\"/b\" arch=c000003e syscall=39 code=0x7ffc0000",
        )
        .unwrap();
        assert_eq!((r.pid, r.syscall), (77, 39));
        assert_eq!(r.serial, 42);
        assert_eq!(r.seq, 7);
    }

    #[test]
    fn missing_and_odd_fields() {
        let full = "pid=5 comm=\"c\" exe=\"/e\" arch=c000003e syscall=39 code=0x7ffc0000";
        assert!(parse_fields(full).is_some());
        for key in [
            "pid=5 ",
            "arch=c000003e ",
            "syscall=39 ",
            " code=0x7ffc0000",
        ] {
            assert_eq!(parse_fields(&full.replace(key, "")), None, "without {key}");
        }
        let r = parse_fields("pid=5 arch=c000003e syscall=39 code=0x7ffc0000").unwrap();
        assert_eq!((r.comm.as_str(), r.exe.as_str()), ("", ""));
        let r = parse_fields("pid=5 comm=\"\" exe=(null) arch=c000003e syscall=-1 code=7ffc0000")
            .unwrap();
        assert_eq!((r.comm.as_str(), r.exe.as_str()), ("", "(null)"));
        assert_eq!((r.syscall, r.code), (u32::MAX, RET_LOG));
        // Hex that is not UTF-8.
        let r = parse_fields("pid=5 comm=FF41 arch=c000003e syscall=1 code=0x0").unwrap();
        assert_eq!(r.comm, "\u{fffd}A");
        for bad in [
            "pid=-5 arch=c000003e syscall=39 code=0x7ffc0000",
            "pid=5 arch=zz syscall=39 code=0x7ffc0000",
            "pid=5 arch=c000003e syscall=99999999999 code=0x7ffc0000",
            "pid=5 arch=c000003e syscall=39 code=0x1ffffffff",
            "pid=5 arch=c000003e syscall=39 code=",
        ] {
            assert_eq!(parse_fields(bad), None, "{bad}");
        }
    }

    #[test]
    fn garbage() {
        for line in [
            "",
            ";",
            "\n",
            "5,1,1,-",
            "x,1,1,-;audit: type=1326 audit(1.2:3): pid=1 arch=c000003e syscall=1 code=0",
            "5,y,1,-;audit: type=1326 audit(1.2:3): pid=1 arch=c000003e syscall=1 code=0",
            "5,1,1,-;audit: type=1326",
            "5,1,1,-;audit: type=1326 audit(",
            "5,1,1,-;audit: type=1326 audit(1.2): pid=1 arch=c000003e syscall=1 code=0",
            "5,1,1,-;audit: type=1326 audit(1.2:x): pid=1 arch=c000003e syscall=1 code=0",
            "5,1,1,-;audit: type=13260 audit(1.2:3): pid=1 arch=c000003e syscall=1 code=0",
            "5,1,1,-;audit: type=1300 audit(1.2:3): pid=1 arch=c000003e syscall=1 code=0",
            "5,1,1,-;audit: type=1326 audit(1.2:3) pid=1 arch=c000003e syscall=1 code=0",
            "5,1,1,-;: callbacks suppressed",
            "5,1,1,-;kauditd_printk_skb: -1 callbacks suppressed",
            "5,1,1,-;audit: audit_lost=x",
            "\u{0}\u{1}ü;;;,,,",
        ] {
            assert_eq!(parse_line(line), None, "{line:?}");
            assert_eq!(parse_audit_lost(line), None, "{line:?}");
        }
        // Never panics on any prefix of a real record.
        let line = BASIC.lines().next().unwrap();
        for end in (0..line.len()).filter(|&i| line.is_char_boundary(i)) {
            let _ = parse_line(&line[..end]);
        }
    }

    #[test]
    fn netlink_body() {
        // The text of an AUDIT_SECCOMP message from the audit multicast group.
        let text = "audit(1795918295.917:2832285): auid=4294967295 uid=0 gid=0 ses=4294967295 pid=10819 comm=\"t\" exe=2F746D702F736320746573742F74 sig=0 arch=c000003e syscall=39 compat=0 ip=0x7f53cd3f8829 code=0x7ffc0000";
        let r = parse_seccomp_body(0, text).unwrap();
        assert_eq!((r.serial, r.pid, r.syscall), (2832285, 10819, 39));
        assert_eq!(r.exe, "/tmp/sc test/t");
    }

    fn track(tracker: &mut LossTracker, steps: &[Option<&str>]) -> Vec<KmsgEvent> {
        let mut events = Vec::new();
        for step in steps {
            match step {
                Some(r) => tracker.record(r, &mut |e| events.push(e)),
                None => tracker.overrun(),
            }
        }
        tracker.idle(&mut |e| events.push(e));
        events
    }

    #[test]
    fn loss_tracking() {
        let rec = |seq: u64| {
            format!(
                "5,{seq},1,-;audit: type=1326 audit(1.2:{seq}): pid=1 arch=c000003e syscall=39 code=0x7ffc0000\n"
            )
        };
        let other = |seq: u64| format!("6,{seq},1,-;loop0: detected capacity change\n");
        let lost = |seq: u64, total: u64| {
            format!(
                "4,{seq},1,-;audit: audit_lost={total} audit_rate_limit=10 audit_backlog_limit=64\n"
            )
        };
        let mut t = LossTracker::default();
        let (r10, o11, r50, l51, l52, l53, r54) = (
            rec(10),
            other(11),
            rec(50),
            lost(51, 100),
            lost(52, 130),
            lost(53, 130),
            rec(54),
        );
        let events = track(
            &mut t,
            &[
                Some(&r10),
                Some(&o11),
                None,
                Some(&r50),
                Some(&l51),
                Some(&l52),
                Some(&l53),
                None,
                Some(&r54),
            ],
        );
        let counts: Vec<u64> = events
            .iter()
            .map(|e| match e {
                KmsgEvent::Suppressed(n) => *n,
                KmsgEvent::Seccomp(r) => 1_000_000 + r.seq,
            })
            .collect();
        // 12..=49 overwritten; audit_lost: first seen counts 1, then the increase; an EPIPE
        // with no gap still counts one.
        assert_eq!(counts, [1_000_010, 38, 1_000_050, 1, 30, 1, 1_000_054]);

        // EPIPE before any record, and EPIPE with nothing after it.
        let mut t = LossTracker::default();
        let r7 = rec(7);
        let counts: Vec<KmsgEvent> = track(&mut t, &[None, Some(&r7), None]);
        assert_eq!(counts.len(), 3);
        assert_eq!(counts[0], KmsgEvent::Suppressed(1));
        assert_eq!(counts[2], KmsgEvent::Suppressed(1));
        // The next record after an idle EPIPE counts the rest of the gap: 8 was counted.
        let r20 = rec(20);
        let events = track(&mut t, &[Some(&r20)]);
        assert_eq!(events[0], KmsgEvent::Suppressed(11));
        assert_eq!(events.len(), 2);
    }

    fn kmsg_readable() -> bool {
        rustix::fs::access("/dev/kmsg", rustix::fs::Access::READ_OK).is_ok()
            && std::fs::File::open("/dev/kmsg").is_ok()
    }

    #[test]
    fn open_fails_cleanly() {
        let e = KmsgReader::open_path("/nonexistent/kmsg").err().unwrap();
        assert_eq!(e.kind(), io::ErrorKind::NotFound);
    }

    #[test]
    fn reader_starts_at_the_end() {
        if !kmsg_readable() {
            eprintln!("skipped: /dev/kmsg is not readable");
            return;
        }
        let started = std::time::Instant::now();
        let mut reader = KmsgReader::open().unwrap();
        eprintln!("opened in {:?}", started.elapsed());
        // It knows where it is: a gap from here on is a loss.
        assert!(reader.tracker.last_seq.is_some());
        // The fd polls (nothing to check: the kernel may log at any time).
        let mut fds = [rustix::event::PollFd::new(
            &reader,
            rustix::event::PollFlags::IN,
        )];
        rustix::event::poll(&mut fds, Some(&rustix::event::Timespec::default())).unwrap();
        // Only records from now on: at most a few (whatever the kernel logs meanwhile).
        let mut n = 0;
        reader.read_available(|_| n += 1).unwrap();
        assert!(n < 10, "{n} events right after opening");
    }

    /// A logged `getpid` on a thread of this process shows up with this process's pid.
    #[test]
    fn logged_call_end_to_end() {
        let logged = std::fs::read_to_string("/proc/sys/kernel/seccomp/actions_logged")
            .is_ok_and(|a| a.split_whitespace().any(|w| w == "log"));
        let audit_off = std::fs::read_to_string("/proc/cmdline")
            .is_ok_and(|c| c.split_whitespace().any(|w| w == "audit=0"));
        if !kmsg_readable() || !logged || audit_off {
            eprintln!("skipped: /dev/kmsg unreadable or seccomp log actions not logged");
            return;
        }
        let Some(arch) = nucleus_shared::seccomp::arch::Arch::native() else {
            return;
        };
        let getpid = nucleus_shared::seccomp::tables::number(arch, "getpid").unwrap();
        let mut reader = KmsgReader::open().unwrap();
        let pid = std::process::id();
        // The kernel prints at most 10 audit records per 5 s window (by default), for the whole
        // machine: retry once after a window.
        for attempt in 0..2 {
            std::thread::spawn(move || sys::log_getpid(arch, getpid))
                .join()
                .unwrap();
            let deadline = std::time::Instant::now() + std::time::Duration::from_millis(5500);
            while std::time::Instant::now() < deadline {
                let mut seen = false;
                reader
                    .read_available(|e| {
                        if let KmsgEvent::Seccomp(r) = e {
                            seen |= r.pid == pid && r.syscall == getpid && r.code == RET_LOG;
                        }
                    })
                    .unwrap();
                if seen {
                    return;
                }
                let mut fds = [rustix::event::PollFd::new(
                    &reader,
                    rustix::event::PollFlags::IN,
                )];
                let timeout = rustix::event::Timespec {
                    tv_sec: 0,
                    tv_nsec: 100_000_000,
                };
                let _ = rustix::event::poll(&mut fds, Some(&timeout));
            }
            eprintln!("attempt {attempt}: no record yet (ratelimited?)");
        }
        panic!("the logged getpid never showed up in /dev/kmsg");
    }

    #[allow(unsafe_code)]
    mod sys {
        use nucleus_shared::seccomp::arch::Arch;
        use nucleus_shared::seccomp::compile::compile;
        use nucleus_shared::seccomp::policy::{Action, Policy, Rule};

        /// On the calling thread only: a filter logging `getpid`, then one `getpid`.
        pub fn log_getpid(arch: Arch, getpid: u32) {
            log_getpid_times(arch, getpid, 1);
        }

        /// On the calling thread only: a filter logging `getpid`, then `times` calls.
        pub fn log_getpid_times(arch: Arch, getpid: u32, times: u32) {
            let policy = Policy {
                arch,
                default: Action::Allow,
                foreign: Action::Allow,
                rules: vec![Rule {
                    nr: getpid,
                    conds: vec![],
                    action: Action::Log,
                }],
            };
            let filter: Vec<libc::sock_filter> = compile(&policy)
                .unwrap()
                .iter()
                .map(|i| libc::sock_filter {
                    code: i.code,
                    jt: i.jt,
                    jf: i.jf,
                    k: i.k,
                })
                .collect();
            let prog = libc::sock_fprog {
                len: filter.len() as u16,
                filter: filter.as_ptr().cast_mut(),
            };
            // SAFETY: prctl with integer arguments only affects this thread.
            let r = unsafe { libc::prctl(libc::PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) };
            assert_eq!(r, 0);
            // SAFETY: `prog` points to `filter`, alive for the call; without TSYNC the filter
            // applies to this thread only, which ends right after.
            let r = unsafe {
                libc::syscall(
                    libc::SYS_seccomp,
                    libc::SECCOMP_SET_MODE_FILTER,
                    0,
                    &prog as *const libc::sock_fprog,
                )
            };
            assert_eq!(r, 0, "{}", std::io::Error::last_os_error());
            for _ in 0..times {
                // SAFETY: getpid has no arguments and no effect.
                unsafe { libc::syscall(libc::SYS_getpid) };
            }
        }
    }
}
