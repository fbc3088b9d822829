//! Config → plan: the ordered operations init executes. Pure: host facts come in as values
//! (`HostRoot`), so this module is tested without root or a kernel.

mod default_root;
mod dev;
mod oci;

use std::ffi::CString;
use std::os::unix::ffi::OsStrExt;
use std::path::Path;

pub use default_root::{Entry, HostRoot, etc_files};
use nucleus_shared::plan::{Filter, LandlockSpec, Op, PlanBuilder, ProcessSpec, flags};

use crate::config::{Config, Network};
use crate::error::Error;
use crate::seccomp::Programs;

/// Where init mounts its private staging tmpfs (in its own mount namespace only; the host
/// never sees it), as bubblewrap does.
pub const STAGING: &str = "/tmp";

/// A plan ready to send, with a sentence per operation for error messages.
#[derive(Debug)]
pub struct CompiledPlan {
    pub bytes: Vec<u8>,
    descriptions: Vec<String>,
    /// Where each Landlock rule comes from (filesystem rules, then port rules), as init
    /// numbers them in its status records.
    landlock_origins: Vec<String>,
}

impl CompiledPlan {
    /// What operation `index` does, for "... failed: <errno>" messages.
    pub fn describe(&self, index: u16) -> &str {
        self.descriptions
            .get(usize::from(index))
            .map_or("setting up the sandbox", String::as_str)
    }

    /// The option (or default) behind Landlock rule `index`, e.g. `--landlock-ro /data`.
    pub fn landlock_rule(&self, index: u16) -> Option<&str> {
        self.landlock_origins
            .get(usize::from(index))
            .map(String::as_str)
    }
}

fn cstring(what: &str, s: impl AsRef<[u8]>) -> Result<CString, Error> {
    CString::new(s.as_ref()).map_err(|_| Error::usage(format!("{what} contains a NUL byte")))
}

fn path_cstring(p: &Path) -> Result<CString, Error> {
    cstring(&p.display().to_string(), p.as_os_str().as_bytes())
}

/// Appends operations together with their descriptions.
struct Ops {
    builder: PlanBuilder,
    descriptions: Vec<String>,
}

impl Ops {
    fn push(&mut self, op: Op<'_>, what: impl Into<String>) {
        let index = self.builder.push(&op);
        debug_assert_eq!(usize::from(index), self.descriptions.len());
        self.descriptions.push(what.into());
    }

    fn mount(&mut self, fstype: &str, target: &str, f: u32, data: &str) -> Result<(), Error> {
        let (fs, t, d) = (
            cstring(fstype, fstype)?,
            cstring(target, target)?,
            cstring(data, data)?,
        );
        self.push(
            Op::Mount {
                fstype: &fs,
                target: &t,
                flags: f,
                data: &d,
            },
            format!("mounting {fstype} on /{target}"),
        );
        Ok(())
    }

    fn bind(&mut self, source: &Path, target: &str, f: u32, is_dir: bool) -> Result<(), Error> {
        let (s, t) = (path_cstring(source)?, cstring(target, target)?);
        self.push(
            Op::Bind {
                source: &s,
                target: &t,
                flags: f,
                is_dir,
            },
            format!("bind-mounting {} onto /{target}", source.display()),
        );
        Ok(())
    }
}

/// The OCI runtime spec's default masked paths (those under `/proc`; there is no `/sys`).
pub const MASKED: &[&str] = &[
    "proc/acpi",
    "proc/asound",
    "proc/kcore",
    "proc/keys",
    "proc/latency_stats",
    "proc/timer_list",
    "proc/timer_stats",
    "proc/sched_debug",
    "proc/scsi",
];
/// ... and its read-only paths: the kernel's knobs under `/proc`.
pub const READ_ONLY: &[&str] = &[
    "proc/bus",
    "proc/fs",
    "proc/irq",
    "proc/sys",
    "proc/sysrq-trigger",
];

fn proc_masks(ops: &mut Ops) -> Result<(), Error> {
    for path in MASKED {
        let t = cstring(path, path)?;
        ops.push(Op::Mask { target: &t }, format!("masking /{path}"));
    }
    for path in READ_ONLY {
        let t = cstring(path, path)?;
        ops.push(
            Op::ReadOnly { target: &t },
            format!("making /{path} read-only"),
        );
    }
    Ok(())
}

/// `/proc`, `/dev`, the masks, `/tmp`, then the volumes and tmpfs mounts of the command line.
fn default_mounts(ops: &mut Ops, cfg: &Config) -> Result<(), Error> {
    // The sandbox's own mounts may not be redirected by a symlink planted in an image
    // (`/proc -> /tmp`, say: the runc CVE-2019-19921 class).
    ops.mount(
        "proc",
        "proc",
        flags::NOSUID | flags::NODEV | flags::NOEXEC | flags::NOFOLLOW,
        "",
    )?;
    dev::populate(ops, cfg.userns.is_some())?;
    proc_masks(ops)?;
    ops.mount(
        "tmpfs",
        "tmp",
        flags::NOSUID | flags::NODEV | flags::NOFOLLOW,
        "mode=1777",
    )?;

    // Volume and tmpfs targets may not go through a symlink of the image either: `data -> .`
    // would stack them on the root itself (and widen their Landlock rule to all of it).
    for v in &cfg.volumes {
        let f = if v.read_only { flags::RDONLY } else { 0 };
        ops.bind(
            &v.source,
            v.target.relative(),
            f | flags::NOFOLLOW,
            v.is_dir,
        )?;
    }
    for t in &cfg.tmpfs {
        let mut f = flags::NOFOLLOW;
        for (set, bit) in [
            (t.read_only, flags::RDONLY),
            (t.noexec, flags::NOEXEC),
            (t.nosuid, flags::NOSUID),
            (t.nodev, flags::NODEV),
        ] {
            if set {
                f |= bit;
            }
        }
        let mut data = format!("mode={:o}", t.mode.unwrap_or(0o1777));
        if let Some(size) = t.size {
            data.push_str(&format!(",size={size}"));
        }
        ops.mount("tmpfs", t.target.relative(), f, &data)?;
    }
    Ok(())
}

pub fn compile(
    cfg: &Config,
    host: &HostRoot,
    seccomp: &Programs,
    landlock: &crate::landlock::Ruleset,
) -> Result<CompiledPlan, Error> {
    let mut ops = Ops::new();
    let staging = cstring(STAGING, STAGING)?;
    ops.push(
        Op::Enter { staging: &staging },
        format!("preparing a private mount namespace (staging on {STAGING})"),
    );

    match &cfg.rootfs {
        Some(dir) => {
            let source = path_cstring(dir)?;
            ops.push(
                Op::RootBind { source: &source },
                format!("bind-mounting the rootfs {}", dir.display()),
            );
        }
        None => {
            ops.push(Op::RootTmpfs, "mounting the tmpfs of the default root");
            default_root::populate(&mut ops, cfg, host)?;
        }
    }

    match &cfg.oci {
        Some(fs) => oci::layout(&mut ops, cfg, fs)?,
        None => default_mounts(&mut ops, cfg)?,
    }

    // The default root is always read-only; a --rootfs unless --rootfs-rw.
    if cfg.rootfs.is_none() || !cfg.rootfs_rw {
        ops.push(
            Op::RemountRoot {
                flags: flags::RDONLY,
            },
            "making the root read-only",
        );
    }
    let root_name = cfg.rootfs.as_ref().map_or_else(
        || "the default root".to_owned(),
        |p| p.display().to_string(),
    );
    ops.push(Op::PivotRoot, format!("pivot_root into {root_name}"));

    // An empty name (an OCI bundle without `hostname`) keeps the one the namespace started
    // with; without a uts namespace of its own the sandbox may not rename the host.
    if cfg.namespaces.uts && !cfg.hostname.is_empty() {
        let hostname = cstring("--hostname", &cfg.hostname)?;
        ops.push(
            Op::Hostname { name: &hostname },
            format!("setting the hostname to {}", cfg.hostname),
        );
    }
    if cfg.network == Network::None {
        ops.push(Op::LoopbackUp, "bringing up the loopback interface");
    }

    push_exec(&mut ops, cfg, seccomp, landlock)?;
    ops.finish(landlock)
}

/// The plan of `exec` into a running sandbox: the process alone, confined like the workload.
pub fn compile_exec(
    cfg: &Config,
    seccomp: &Programs,
    landlock: &crate::landlock::Ruleset,
) -> Result<CompiledPlan, Error> {
    let mut ops = Ops::new();
    push_exec(&mut ops, cfg, seccomp, landlock)?;
    ops.finish(landlock)
}

/// Appends the workload (after `AwaitStart` when the sandbox awaits `start`).
fn push_exec(
    ops: &mut Ops,
    cfg: &Config,
    seccomp: &Programs,
    landlock: &crate::landlock::Ruleset,
) -> Result<(), Error> {
    let argv = cfg
        .command
        .iter()
        .map(|a| cstring("command", a))
        .collect::<Result<Vec<_>, _>>()?;
    let env = cfg
        .env
        .iter()
        .map(|(k, v)| cstring(&format!("-e {k}"), format!("{k}={v}")))
        .collect::<Result<Vec<_>, _>>()?;
    let argv_refs: Vec<&_> = argv.iter().map(CString::as_c_str).collect();
    let env_refs: Vec<&_> = env.iter().map(CString::as_c_str).collect();
    if argv_refs.len() > nucleus_shared::plan::MAX_ARGS
        || env_refs.len() > nucleus_shared::plan::MAX_ARGS
    {
        return Err(Error::usage(format!(
            "at most {} arguments and {} environment variables are supported",
            nucleus_shared::plan::MAX_ARGS,
            nucleus_shared::plan::MAX_ARGS
        )));
    }
    let cwd = cstring("--workdir", cfg.workdir.as_str())?;
    let fs_paths = landlock
        .fs_rules
        .iter()
        .map(|r| cstring(&r.origin, &r.path))
        .collect::<Result<Vec<_>, _>>()?;
    let fs_rules: Vec<_> = landlock
        .fs_rules
        .iter()
        .zip(&fs_paths)
        .map(|(r, path)| nucleus_shared::plan::FsRule {
            access: r.access,
            path,
        })
        .collect();
    let net_rules: Vec<_> = landlock
        .net_rules
        .iter()
        .map(|r| nucleus_shared::plan::NetRule {
            access: r.access,
            port: u64::from(r.port),
        })
        .collect();
    if cfg.await_start {
        ops.push(Op::AwaitStart, "waiting for start".to_owned());
    }
    ops.builder.exec(&ProcessSpec {
        argv: &argv_refs,
        env: &env_refs,
        cwd: &cwd,
        uid: cfg.uid,
        gid: cfg.gid,
        seccomp: Filter {
            program: &seccomp.workload,
            flags: seccomp.workload_flags,
        },
        init_seccomp: Filter {
            program: &seccomp.init,
            flags: 0,
        },
        caps: cfg.caps,
        rlimits: &cfg.rlimits,
        landlock: LandlockSpec {
            fs_handled: landlock.fs_handled,
            net_handled: landlock.net_handled,
            scoped: landlock.scoped,
            fs_rules: &fs_rules,
            net_rules: &net_rules,
        },
        groups: &cfg.groups,
        umask: cfg.umask,
        terminal: cfg.terminal,
        console_size: cfg.console_size.unwrap_or((0, 0)),
    });
    ops.descriptions
        .push(format!("starting {:?}", cfg.command[0]));

    Ok(())
}

impl Ops {
    fn new() -> Self {
        Ops {
            builder: PlanBuilder::new(),
            descriptions: Vec::new(),
        }
    }

    fn finish(self, landlock: &crate::landlock::Ruleset) -> Result<CompiledPlan, Error> {
        let ops = self;
        let bytes = ops.builder.finish().map_err(|size| {
        Error::usage(format!(
            "the sandbox description is {size} bytes, over the {} byte limit (too many or too long arguments?)",
            nucleus_shared::wire::MAX_PLAN_BYTES
        ))
    })?;
        Ok(CompiledPlan {
            bytes,
            descriptions: ops.descriptions,
            landlock_origins: landlock
                .fs_rules
                .iter()
                .map(|r| r.origin.clone())
                .chain(landlock.net_rules.iter().map(|r| r.origin.clone()))
                .collect(),
        })
    }
}

#[cfg(test)]
mod tests;
