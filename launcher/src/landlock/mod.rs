//! Landlock, the launcher's side: which paths and ports the workload may use, compiled into the
//! plan for init to apply, reduced to what the running kernel supports, and a report of what
//! was and was not enforced.
//!
//! Everything here is pure: the kernel's ABI comes in as a [`Kernel`] value, so that every ABI
//! can be tested on any machine. Only [`Kernel::probe`] asks the running kernel.

use std::fmt::Write as _;

use crate::cli::RunArgs;
use crate::config::{Config, SandboxPath};
use crate::error::Error;
use crate::plan::{Entry, HostRoot};

/// Access rights, as `linux/landlock.h` numbers them.
#[allow(dead_code)] // the whole table, for reference
pub mod access {
    pub const EXECUTE: u64 = 1 << 0;
    pub const WRITE_FILE: u64 = 1 << 1;
    pub const READ_FILE: u64 = 1 << 2;
    pub const READ_DIR: u64 = 1 << 3;
    /// Every right of ABI 1: the above and removing and making every kind of file.
    pub const ABI1: u64 = (1 << 13) - 1;
    /// ABI 2: renaming and linking across directories.
    pub const REFER: u64 = 1 << 13;
    /// ABI 3.
    pub const TRUNCATE: u64 = 1 << 14;
    /// ABI 5: `ioctl` on character and block devices.
    pub const IOCTL_DEV: u64 = 1 << 15;
    /// ABI 9: `connect`/`sendmsg` to a pathname unix socket.
    pub const RESOLVE_UNIX: u64 = 1 << 16;
    /// Every filesystem right nucleus knows.
    pub const ALL: u64 = ABI1 | REFER | TRUNCATE | IOCTL_DEV | RESOLVE_UNIX;

    /// `--landlock-ro`: read files, list directories.
    pub const RO: u64 = READ_FILE | READ_DIR;
    /// `--landlock-exec`: read and execute.
    pub const RX: u64 = RO | EXECUTE;
    /// `--landlock-rw`: everything.
    pub const RW: u64 = ALL;
    /// Scratch space (`/tmp`, `/dev/shm`, the device nodes): everything but execute.
    pub const SCRATCH: u64 = ALL & !EXECUTE;

    /// Network rights (ABI 4; UDP from ABI 10).
    pub const BIND_TCP: u64 = 1 << 0;
    pub const CONNECT_TCP: u64 = 1 << 1;
    pub const BIND_UDP: u64 = 1 << 2;
    pub const CONNECT_SEND_UDP: u64 = 1 << 3;
    /// `--landlock-bind`.
    pub const BIND: u64 = BIND_TCP | BIND_UDP;
    /// `--landlock-connect`.
    pub const CONNECT: u64 = CONNECT_TCP | CONNECT_SEND_UDP;

    /// Scopes (ABI 6).
    pub const SCOPE_ABSTRACT_UNIX_SOCKET: u64 = 1 << 0;
    pub const SCOPE_SIGNAL: u64 = 1 << 1;
    pub const SCOPES: u64 = SCOPE_ABSTRACT_UNIX_SOCKET | SCOPE_SIGNAL;
}

/// The highest ABI whose rights nucleus knows; newer kernels are used as this one.
pub const KNOWN_ABI: u32 = 10;
/// The ABI from which everything `--landlock-require` demands is there (Linux 6.12).
pub const REQUIRED_ABI: u32 = 6;

/// A piece of Landlock and the ABI that brought it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Feature {
    Filesystem,
    Refer,
    Truncate,
    Tcp,
    IoctlDev,
    Scope,
    ResolveUnix,
    Udp,
}

impl Feature {
    /// The ABI version that introduced it.
    pub fn abi(self) -> u32 {
        match self {
            Feature::Filesystem => 1,
            Feature::Refer => 2,
            Feature::Truncate => 3,
            Feature::Tcp => 4,
            Feature::IoctlDev => 5,
            Feature::Scope => 6,
            Feature::ResolveUnix => 9,
            Feature::Udp => 10,
        }
    }

    /// Whether `--landlock-require` demands it. Later additions are enforced where the kernel
    /// has them, and reported where it does not, but do not make a kernel fall short.
    pub fn required(self) -> bool {
        self.abi() <= REQUIRED_ABI
    }

    pub fn describe(self) -> &'static str {
        match self {
            Feature::Filesystem => "filesystem rules",
            Feature::Refer => {
                "rules for renaming and linking across directories (without them such renames fail everywhere)"
            }
            Feature::Truncate => "truncating files",
            Feature::Tcp => "TCP port rules",
            Feature::IoctlDev => "ioctl on device files",
            Feature::Scope => "scoping of abstract unix sockets and signals",
            Feature::ResolveUnix => "connecting to pathname unix sockets",
            Feature::Udp => "UDP port rules",
        }
    }

    fn fs(self) -> u64 {
        match self {
            Feature::Filesystem => access::ABI1,
            Feature::Refer => access::REFER,
            Feature::Truncate => access::TRUNCATE,
            Feature::IoctlDev => access::IOCTL_DEV,
            Feature::ResolveUnix => access::RESOLVE_UNIX,
            Feature::Tcp | Feature::Udp | Feature::Scope => 0,
        }
    }

    fn net(self) -> u64 {
        match self {
            Feature::Tcp => access::BIND_TCP | access::CONNECT_TCP,
            Feature::Udp => access::BIND_UDP | access::CONNECT_SEND_UDP,
            _ => 0,
        }
    }

    fn scope(self) -> u64 {
        match self {
            Feature::Scope => access::SCOPES,
            _ => 0,
        }
    }
}

/// What the running kernel offers.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kernel {
    /// Landlock with this ABI version (at least 1).
    Abi(u32),
    /// No Landlock in this kernel (older than 5.13, or built without it).
    NotBuilt,
    /// Built in but not enabled at boot (not in the `lsm=` list).
    Disabled,
}

impl Kernel {
    /// Asks the running kernel.
    pub fn probe() -> Kernel {
        match crate::sys::landlock::abi() {
            Ok(n) if n > 0 => Kernel::Abi(n),
            Err(e) if e.raw_os_error() == Some(libc::EOPNOTSUPP) => Kernel::Disabled,
            _ => Kernel::NotBuilt,
        }
    }

    /// `Abi(n)`, or `NotBuilt` for 0: for simulating kernels.
    #[cfg(test)]
    pub fn from_abi(n: u32) -> Kernel {
        if n == 0 {
            Kernel::NotBuilt
        } else {
            Kernel::Abi(n)
        }
    }

    pub fn abi(self) -> u32 {
        match self {
            Kernel::Abi(n) => n,
            Kernel::NotBuilt | Kernel::Disabled => 0,
        }
    }

    fn supports(self, f: Feature) -> bool {
        self.abi() >= f.abi()
    }

    /// Why there is no Landlock at all (None when there is).
    fn absence(self) -> Option<&'static str> {
        match self {
            Kernel::Abi(_) => None,
            Kernel::NotBuilt => Some(
                "this kernel has no Landlock (Linux 5.13 or later built with CONFIG_SECURITY_LANDLOCK)",
            ),
            Kernel::Disabled => Some(
                "Landlock is built into this kernel but not enabled at boot (add landlock to the lsm= kernel parameter)",
            ),
        }
    }
}

/// The three kinds of path rule on the command line.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    Ro,
    Rw,
    Exec,
}

impl Kind {
    pub fn option(self) -> &'static str {
        match self {
            Kind::Ro => "--landlock-ro",
            Kind::Rw => "--landlock-rw",
            Kind::Exec => "--landlock-exec",
        }
    }

    fn access(self) -> u64 {
        match self {
            Kind::Ro => access::RO,
            Kind::Rw => access::RW,
            Kind::Exec => access::RX,
        }
    }
}

/// What the command line asked of Landlock, validated.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Request {
    /// `--landlock on` (the default).
    pub enabled: bool,
    /// `--landlock-require`.
    pub require: bool,
    pub paths: Vec<(Kind, SandboxPath)>,
    pub bind: Vec<u16>,
    pub connect: Vec<u16>,
}

impl Default for Request {
    fn default() -> Self {
        Request {
            enabled: true,
            require: false,
            paths: Vec::new(),
            bind: Vec::new(),
            connect: Vec::new(),
        }
    }
}

/// A TCP port of `--landlock-bind`/`--landlock-connect`.
fn port(option: &str, raw: &str) -> Result<u16, Error> {
    let n: u16 = raw
        .parse()
        .ok()
        .filter(|_| raw.bytes().all(|b| b.is_ascii_digit()))
        .ok_or_else(|| {
            Error::usage(format!(
                "{option} {raw:?}: expected a port number from 1 to 65535"
            ))
        })?;
    if n == 0 {
        return Err(Error::usage(format!(
            "{option} 0: port 0 means \"any port the kernel picks\", which a rule cannot name; give a port from 1 to 65535"
        )));
    }
    Ok(n)
}

impl Request {
    pub fn from_args(a: &RunArgs) -> Result<Self, Error> {
        let enabled = match a.landlock.as_deref() {
            None | Some("on") => true,
            Some("off") => false,
            Some(other) => {
                return Err(Error::usage(format!(
                    "--landlock {other:?}: expected on or off"
                )));
            }
        };
        let mut r = Request {
            enabled,
            require: a.landlock_require,
            ..Request::default()
        };
        for (kind, raws) in [
            (Kind::Ro, &a.landlock_ro),
            (Kind::Rw, &a.landlock_rw),
            (Kind::Exec, &a.landlock_exec),
        ] {
            for raw in raws {
                let path = SandboxPath::parse(kind.option(), raw)?;
                if r.paths.contains(&(kind, path.clone())) {
                    return Err(Error::usage(format!(
                        "{} {path} is given twice",
                        kind.option()
                    )));
                }
                r.paths.push((kind, path));
            }
        }
        for (option, raws, out) in [
            ("--landlock-bind", &a.landlock_bind, &mut r.bind),
            ("--landlock-connect", &a.landlock_connect, &mut r.connect),
        ] {
            for raw in raws {
                let p = port(option, raw)?;
                if out.contains(&p) {
                    return Err(Error::usage(format!("{option} {p} is given twice")));
                }
                out.push(p);
            }
        }
        if !r.enabled {
            if r.require {
                return Err(Error::usage(
                    "--landlock-require contradicts --landlock off",
                ));
            }
            if r.has_rules() {
                return Err(Error::usage(
                    "--landlock off: Landlock rules (--landlock-ro/-rw/-exec/-bind/-connect) were given too",
                ));
            }
        }
        if r.paths.len() + r.bind.len() + r.connect.len() > MAX_USER_RULES {
            return Err(Error::usage(format!(
                "at most {MAX_USER_RULES} Landlock rules can be given"
            )));
        }
        Ok(r)
    }

    fn has_rules(&self) -> bool {
        !self.paths.is_empty() || self.has_ports()
    }

    fn has_ports(&self) -> bool {
        !self.bind.is_empty() || !self.connect.is_empty()
    }

    /// The features this request asks for, in ABI order.
    fn features(&self) -> Vec<Feature> {
        let mut f = vec![
            Feature::Filesystem,
            Feature::Refer,
            Feature::Truncate,
            Feature::IoctlDev,
            Feature::Scope,
            Feature::ResolveUnix,
        ];
        if self.has_ports() {
            f.extend([Feature::Tcp, Feature::Udp]);
        }
        f.sort();
        f
    }

    /// The features the user asked for by name: not having them is worth a warning.
    fn explicit(&self) -> Vec<Feature> {
        let mut f = Vec::new();
        if !self.paths.is_empty() {
            f.push(Feature::Filesystem);
        }
        if self.has_ports() {
            f.push(Feature::Tcp);
        }
        f
    }
}

/// Room for the default rules in the plan's list of at most `MAX_LANDLOCK_RULES`.
const MAX_USER_RULES: usize = nucleus_shared::plan::MAX_LANDLOCK_RULES - 64;

/// One filesystem rule: `access` beneath `path` (absolute, inside the sandbox).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FsRule {
    pub access: u64,
    pub path: String,
    /// Where it comes from, for error messages: `--landlock-ro /x`, `the volume /data` ...
    pub origin: String,
    /// Given on the command line (never dropped as redundant).
    user: bool,
}

/// One port rule.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NetRule {
    pub access: u64,
    pub port: u16,
    pub origin: String,
}

/// The ruleset init applies; nothing handled means no Landlock at all.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Ruleset {
    pub fs_handled: u64,
    pub net_handled: u64,
    pub scoped: u64,
    pub fs_rules: Vec<FsRule>,
    pub net_rules: Vec<NetRule>,
}

/// How much of the request the kernel enforces.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Status {
    /// `--landlock off`.
    Off,
    Full,
    Partial,
    /// The kernel has no Landlock.
    None,
}

/// What was and was not enforced, and why.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Report {
    pub kernel: Kernel,
    pub status: Status,
    /// Asked for, but not in this kernel.
    pub missing: Vec<Feature>,
    /// Whether something the user named on the command line is among `missing`.
    pub explicit_missing: bool,
    pub fs_rules: usize,
    pub bind: Vec<u16>,
    pub connect: Vec<u16>,
    pub scoped: bool,
}

pub use crate::enforcement::Level;

fn ports(list: &[u16]) -> String {
    list.iter()
        .map(u16::to_string)
        .collect::<Vec<_>>()
        .join(",")
}

fn missing_list(missing: &[Feature]) -> String {
    missing
        .iter()
        .map(|f| format!("{} (ABI {})", f.describe(), f.abi()))
        .collect::<Vec<_>>()
        .join(", ")
}

impl Report {
    /// One line for the log: fully / partially / not enforced, what, and what is missing.
    pub fn summary(&self) -> String {
        let abi = self.kernel.abi();
        let mut s = match self.status {
            Status::Off => return "Landlock: off (--landlock off)".to_owned(),
            Status::None => {
                return format!(
                    "Landlock: not enforced: {}",
                    self.kernel.absence().unwrap_or("no Landlock")
                );
            }
            Status::Full if abi > KNOWN_ABI => {
                format!("Landlock: fully enforced (ABI {abi}, used as ABI {KNOWN_ABI}): ")
            }
            Status::Full => format!("Landlock: fully enforced (ABI {abi}): "),
            Status::Partial => format!("Landlock: partially enforced (ABI {abi}): "),
        };
        let _ = write!(s, "{} filesystem rules", self.fs_rules);
        if !self.bind.is_empty() || !self.connect.is_empty() {
            let proto = if self.missing.contains(&Feature::Udp) {
                "TCP"
            } else {
                "TCP and UDP"
            };
            if self.missing.contains(&Feature::Tcp) {
                s.push_str(", ports not restricted");
            } else {
                let _ = write!(
                    s,
                    ", {proto} limited to bind [{}] and connect [{}]",
                    ports(&self.bind),
                    ports(&self.connect)
                );
            }
        } else {
            s.push_str(", network not restricted (no --landlock-bind/--landlock-connect)");
        }
        if self.scoped {
            s.push_str(", abstract unix sockets and signals scoped to the sandbox");
        }
        if !self.missing.is_empty() {
            let _ = write!(
                s,
                "; not enforced by this kernel: {}",
                missing_list(&self.missing)
            );
        }
        s
    }

    pub fn level(&self) -> Level {
        Level::of(self.explicit_missing, !self.missing.is_empty())
    }

    /// Logs the summary at its level.
    pub fn log(&self) {
        self.level().log(&self.summary());
    }
}

/// The ruleset for `cfg` on `kernel`, and the report; with `--landlock-require`, an error
/// naming what the kernel lacks when it cannot enforce everything required.
pub fn compile(cfg: &Config, host: &HostRoot, kernel: Kernel) -> Result<(Ruleset, Report), Error> {
    let req = &cfg.landlock;
    let mut report = Report {
        kernel,
        status: Status::Off,
        missing: Vec::new(),
        explicit_missing: false,
        fs_rules: 0,
        bind: req.bind.clone(),
        connect: req.connect.clone(),
        scoped: false,
    };
    if !req.enabled {
        return Ok((Ruleset::default(), report));
    }
    let wanted = req.features();
    let (have, missing): (Vec<Feature>, Vec<Feature>) =
        wanted.iter().partition(|f| kernel.supports(**f));
    report.explicit_missing = req.explicit().iter().any(|f| missing.contains(f));
    report.status = if have.is_empty() {
        Status::None
    } else if missing.is_empty() {
        Status::Full
    } else {
        Status::Partial
    };
    report.missing = missing;

    if req.require {
        let short: Vec<Feature> = report
            .missing
            .iter()
            .copied()
            .filter(|f| f.required())
            .collect();
        if let Some(why) = kernel.absence() {
            return Err(Error::runtime(format!(
                "--landlock-require: {why}; Landlock ABI {REQUIRED_ABI} (Linux 6.12) or later enforces everything nucleus asks for"
            )));
        }
        if !short.is_empty() {
            return Err(Error::runtime(format!(
                "--landlock-require: this kernel's Landlock (ABI {}) cannot enforce {}; Landlock ABI {REQUIRED_ABI} (Linux 6.12) or later enforces everything nucleus asks for",
                kernel.abi(),
                missing_list(&short)
            )));
        }
    }
    if report.status == Status::None {
        return Ok((Ruleset::default(), report));
    }

    let fs_handled = have.iter().fold(0, |a, f| a | f.fs());
    let net_handled = have.iter().fold(0, |a, f| a | f.net());
    let scoped = have.iter().fold(0, |a, f| a | f.scope());
    let fs_rules: Vec<FsRule> = fs_rules(cfg, host)
        .into_iter()
        .map(|r| FsRule {
            access: r.access & fs_handled,
            ..r
        })
        .filter(|r| r.access != 0)
        .collect();
    let net_rules = if net_handled == 0 {
        Vec::new()
    } else {
        net_rules(req)
            .into_iter()
            .map(|r| NetRule {
                access: r.access & net_handled,
                ..r
            })
            .collect()
    };
    if fs_rules.len() + net_rules.len() > nucleus_shared::plan::MAX_LANDLOCK_RULES {
        return Err(Error::usage(format!(
            "too many Landlock rules: {} (at most {})",
            fs_rules.len() + net_rules.len(),
            nucleus_shared::plan::MAX_LANDLOCK_RULES
        )));
    }
    report.fs_rules = fs_rules.len();
    report.scoped = scoped != 0;
    Ok((
        Ruleset {
            fs_handled,
            net_handled,
            scoped,
            fs_rules,
            net_rules,
        },
        report,
    ))
}

/// The character devices of the minimal /dev (see `plan::dev`), written to like scratch space.
const DEVICES: &[&str] = &[
    "/dev/null",
    "/dev/zero",
    "/dev/full",
    "/dev/random",
    "/dev/urandom",
    "/dev/tty",
];

/// The filesystem rules of `cfg` (defaults and the user's), merged per path, with default
/// rules already implied by another rule left out. Not yet reduced to a kernel.
pub fn fs_rules(cfg: &Config, host: &HostRoot) -> Vec<FsRule> {
    let mut rules: Vec<FsRule> = Vec::new();
    let mut add = |path: &str, access: u64, origin: String, user: bool| {
        match rules.iter_mut().find(|r| r.path == path) {
            Some(r) => {
                r.access |= access;
                // A user's rule names itself in errors, before any default.
                if user && !r.user {
                    r.origin = origin;
                }
                r.user |= user;
            }
            None => rules.push(FsRule {
                access,
                path: path.to_owned(),
                origin,
                user,
            }),
        }
    };
    let default = |what: &str| format!("the default Landlock rule for {what}");
    match &cfg.rootfs {
        None => {
            // Everything nucleus puts in the default root may be read.
            add("/", access::RO, default("/"), false);
            for (name, entry) in &host.entries {
                // Links (/bin -> usr/bin) lead to directories that have their own rule.
                if *entry == Entry::Dir && !name.contains('/') {
                    let p = format!("/{name}");
                    add(&p, access::RX, default(&p), false);
                }
            }
        }
        Some(_) if cfg.rootfs_rw => add("/", access::RW, default("/ (--rootfs-rw)"), false),
        Some(_) => add("/", access::RX, default("/"), false),
    }
    for p in ["/tmp", "/dev/shm", "/dev/pts"].iter().chain(DEVICES) {
        add(p, access::SCRATCH, default(p), false);
    }
    if !cfg.workdir.is_root() {
        let w = cfg.workdir.as_str();
        add(
            w,
            access::RW,
            format!("the Landlock rule for the working directory {w}"),
            false,
        );
    }
    for v in &cfg.volumes {
        // What the mount allows: a read-only volume can still hold programs and sockets.
        let a = if v.read_only {
            access::RX | access::RESOLVE_UNIX
        } else {
            access::RW
        };
        let t = v.target.as_str();
        add(t, a, format!("the Landlock rule for the volume {t}"), false);
    }
    for t in &cfg.tmpfs {
        let a = match (t.read_only, t.noexec) {
            (true, true) => access::RO,
            (true, false) => access::RX,
            (false, true) => access::SCRATCH,
            (false, false) => access::RW,
        };
        let p = t.target.as_str();
        add(p, a, format!("the Landlock rule for the tmpfs {p}"), false);
    }
    for (kind, path) in &cfg.landlock.paths {
        add(
            path.as_str(),
            kind.access(),
            format!("{} {path}", kind.option()),
            true,
        );
    }
    drop_implied(rules)
}

/// True when `path` is `dir` or lies beneath it.
fn beneath(path: &str, dir: &str) -> bool {
    dir == "/"
        || path == dir
        || path
            .strip_prefix(dir)
            .is_some_and(|rest| rest.starts_with('/'))
}

/// Leaves out default rules whose rights a rule on a directory above already grants.
fn drop_implied(rules: Vec<FsRule>) -> Vec<FsRule> {
    let implied = |r: &FsRule| {
        !r.user
            && rules.iter().any(|o| {
                o.path != r.path && beneath(&r.path, &o.path) && o.access & r.access == r.access
            })
    };
    let keep: Vec<bool> = rules.iter().map(|r| !implied(r)).collect();
    rules
        .into_iter()
        .zip(keep)
        .filter_map(|(r, k)| k.then_some(r))
        .collect()
}

fn net_rules(req: &Request) -> Vec<NetRule> {
    let mut out: Vec<NetRule> = Vec::new();
    for (list, a, option) in [
        (&req.bind, access::BIND, "--landlock-bind"),
        (&req.connect, access::CONNECT, "--landlock-connect"),
    ] {
        for &port in list {
            match out.iter_mut().find(|r| r.port == port) {
                Some(r) => r.access |= a,
                None => out.push(NetRule {
                    access: a,
                    port,
                    origin: format!("{option} {port}"),
                }),
            }
        }
    }
    out
}

#[cfg(test)]
mod tests;
