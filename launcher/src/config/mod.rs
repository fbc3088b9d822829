//! A validated sandbox configuration. Every bad value is refused here, naming the option and
//! the value, before anything touches the system.

pub mod caps;
pub mod oci;
mod paths;
pub mod policy_file;
pub mod ulimit;
mod values;

use std::path::PathBuf;

pub use paths::SandboxPath;
pub use values::{Tmpfs, Volume, env, hostname, user};

use crate::cli::RunArgs;
use crate::error::Error;

pub const DEFAULT_HOSTNAME: &str = "nucleus";
/// docker's default `PATH`, used when the caller sets none.
pub const DEFAULT_PATH: &str = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Network {
    /// A new network namespace with only `lo`, up.
    None,
    /// The host's network namespace.
    Host,
}

#[derive(Debug, Clone)]
pub struct Config {
    /// `None`: the embedded default root.
    pub rootfs: Option<PathBuf>,
    pub rootfs_rw: bool,
    pub hostname: String,
    /// The complete environment of the workload, in order, without duplicates.
    pub env: Vec<(String, String)>,
    pub workdir: SandboxPath,
    pub uid: u32,
    pub gid: u32,
    pub volumes: Vec<Volume>,
    pub tmpfs: Vec<Tmpfs>,
    pub network: Network,
    pub seccomp: crate::seccomp::Choice,
    /// System call names to allow on top of the profile.
    pub seccomp_allow: Vec<String>,
    /// `None`: the host's user namespace.
    pub userns: Option<crate::userns::UserNs>,
    /// Capabilities kept (bit n = capability n); none by default.
    pub caps: u64,
    pub rlimits: Vec<nucleus_shared::plan::Rlimit>,
    /// `--seccomp-trace` or `--seccomp-log-denied`.
    pub seccomp_watch: Option<crate::seccomp::watch::Mode>,
    /// Landlock: on by default, with the user's extra rules.
    pub landlock: crate::landlock::Request,
    /// The sandbox's id and its cgroup limits.
    pub cgroup: crate::cgroup::Settings,
    /// The backend: native, or gVisor with its settings.
    pub runtime: crate::backend::gvisor::Runtime,
    /// Supplementary groups of the workload (OCI `additionalGids`).
    pub groups: Vec<u32>,
    /// The workload's umask (0o022 unless an OCI bundle says otherwise).
    pub umask: u32,
    /// A pty for the workload (`-t`, OCI `process.terminal`).
    pub terminal: bool,
    /// Its first size (rows, columns), for OCI `process.consoleSize`; `-t` copies the
    /// launcher's terminal instead.
    pub console_size: Option<(u16, u16)>,
    /// With `terminal`: relay the launcher's stdin to it (`-i`).
    pub interactive: bool,
    /// Set up everything, then wait for `start` before the workload runs (OCI `create`).
    pub await_start: bool,
    /// The uts, ipc and cgroup namespaces: new ones (always for `run`) or the launcher's.
    pub namespaces: oci::Namespaces,
    /// An OCI bundle's mounts, devices, sysctls, masked and read-only paths, replacing the
    /// defaults (`/proc`, `/dev`, `/tmp`, the masks). None for `run`.
    pub oci: Option<oci::Filesystem>,
    pub command: Vec<String>,
}

impl Config {
    pub fn from_args(
        mut a: RunArgs,
        host_env: impl Fn(&str) -> Option<String>,
    ) -> Result<Self, Error> {
        if let Some(path) = a.policy.clone() {
            let file = policy_file::load(std::path::Path::new(&path), a.policy_sha256.as_deref())?;
            policy_file::apply(file, &mut a);
        }
        if a.command.is_empty() || a.command[0].is_empty() {
            return Err(Error::usage(
                "no command given: nucleus-launch run [OPTIONS] -- CMD [ARGS...]",
            ));
        }
        values::no_nul("command", &a.command)?;
        let landlock = crate::landlock::Request::from_args(&a)?;
        let rootfs = a.rootfs.as_deref().map(paths::rootfs).transpose()?;
        let hostname = match a.hostname {
            Some(h) => values::hostname(&h)?,
            None => DEFAULT_HOSTNAME.to_owned(),
        };
        let (uid, gid) = a
            .user
            .as_deref()
            .map(values::user)
            .transpose()?
            .unwrap_or((0, 0));
        let euid = rustix::process::geteuid().as_raw();
        let egid = rustix::process::getegid().as_raw();
        let userns =
            crate::userns::resolve(a.userns.as_deref(), &a.uid_maps, &a.gid_maps, euid, egid)?;
        if let Some(ns) = &userns {
            let mapped = |maps: &[crate::userns::IdMap], id: u32| {
                maps.iter()
                    .any(|m| id >= m.inside && id - m.inside < m.count)
            };
            if !mapped(&ns.uid_map, uid) || !mapped(&ns.gid_map, gid) {
                return Err(Error::usage(format!(
                    "--user {uid}:{gid} is not mapped in the sandbox's user namespace{}",
                    if ns.rootless {
                        " (unprivileged, only root inside is mapped)"
                    } else {
                        ""
                    }
                )));
            }
        }
        let workdir = match a.workdir.as_deref() {
            Some(w) => SandboxPath::parse("--workdir", w)?,
            None => SandboxPath::root(),
        };

        let mut env = vec![
            ("PATH".to_owned(), DEFAULT_PATH.to_owned()),
            ("HOSTNAME".to_owned(), hostname.clone()),
            (
                "HOME".to_owned(),
                if uid == 0 { "/root" } else { "/" }.to_owned(),
            ),
        ];
        for e in &a.env {
            if let Some((k, v)) = values::env(e, &host_env)? {
                set_env(&mut env, k, v);
            }
        }

        let volumes = a
            .volumes
            .iter()
            .map(|v| values::volume(v))
            .collect::<Result<Vec<_>, _>>()?;
        let tmpfs = a
            .tmpfs
            .iter()
            .map(|t| values::tmpfs(t))
            .collect::<Result<Vec<_>, _>>()?;
        let network = match a.network.as_str() {
            "host" => Network::Host,
            _ => Network::None,
        };
        Ok(Config {
            rootfs,
            rootfs_rw: a.rootfs_rw,
            hostname,
            env,
            workdir,
            uid,
            gid,
            volumes,
            tmpfs,
            network,
            userns,
            landlock,
            cgroup: crate::cgroup::config::resolve(&a.cgroup)?,
            runtime: crate::backend::gvisor::select::resolve(&a.runtime, a.detach, &host_env)?,
            caps: caps::resolve(&a.cap_add, &a.cap_drop, caps::available())?,
            rlimits: rlimits(&a.ulimits)?,
            seccomp: match (&a.seccomp_inline, &a.seccomp) {
                (Some(text), None) => crate::seccomp::Choice::Inline(text.clone()),
                (_, Some(s)) => crate::seccomp::Choice::parse(s)?,
                (None, None) => crate::seccomp::Choice::Default,
            },
            seccomp_allow: a.seccomp_allow,
            seccomp_watch: match (a.seccomp_trace, a.seccomp_log_denied) {
                (Some(path), _) if path.is_empty() => {
                    return Err(Error::usage("--seccomp-trace: empty file name"));
                }
                (Some(path), _) => Some(crate::seccomp::watch::Mode::Trace(path.into())),
                (None, true) if a.seccomp.as_deref() == Some("unconfined") => {
                    return Err(Error::usage(
                        "--seccomp-log-denied needs a profile; --seccomp unconfined denies nothing",
                    ));
                }
                (None, true) => Some(crate::seccomp::watch::Mode::LogDenied),
                (None, false) => None,
            },
            groups: Vec::new(),
            umask: 0o022,
            terminal: a.tty,
            console_size: None,
            interactive: a.interactive,
            await_start: false,
            namespaces: oci::Namespaces::default(),
            oci: None,
            command: a.command,
        })
    }
}

/// Sets `k` in `env`, in its place if it is there already, else at the end.
pub fn set_env(env: &mut Vec<(String, String)>, k: String, v: String) {
    match env.iter_mut().find(|(key, _)| *key == k) {
        Some(slot) => slot.1 = v,
        None => env.push((k, v)),
    }
}

/// `--ulimit`s, one per resource (the last one given wins, as in docker).
fn rlimits(raw: &[String]) -> Result<Vec<nucleus_shared::plan::Rlimit>, Error> {
    let mut out: Vec<nucleus_shared::plan::Rlimit> = Vec::new();
    for r in raw {
        let l = ulimit::parse(r)?;
        out.retain(|o| o.resource != l.resource);
        out.push(l);
    }
    Ok(out)
}
