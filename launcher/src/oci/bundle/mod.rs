//! An OCI bundle (a directory with `config.json` and, usually, the root file system) mapped
//! onto a [`Config`], following the OCI runtime spec and runc's reading of it.
//!
//! Every field read is honoured; every field that cannot be is refused with one line naming
//! its JSON path and value (`config.json: linux.namespaces[3].path ("/proc/1/ns/net"):
//! joining an existing namespace is not supported`). Fields the spec defines and nucleus does
//! not support may be present when they ask for nothing (`""`, `0`, `false`, `[]`, `{}`);
//! fields outside the spec are refused. Where nucleus is stricter than runc it says so where
//! the field is read: `no_new_privs` is always set, capabilities follow `process.rs`, the
//! device cgroup allows only the minimal `/dev` (`resources.rs`).

mod hooks;
mod json;
mod linux;
mod mounts;
mod process;
mod resources;
#[cfg(test)]
pub mod tests;

use std::path::{Path, PathBuf};

use serde_json::{Map, Value};

pub use hooks::{Hook, Hooks, run_hook};
use json::{Obj, fail, fail_at};
pub use linux::Caller;

use crate::config::Config;
use crate::config::oci::Filesystem;
use crate::error::Error;

/// A bundle, read and validated.
#[derive(Debug, Clone)]
pub struct Bundle {
    /// The bundle directory, absolute.
    pub dir: PathBuf,
    pub config: Config,
    pub hooks: Hooks,
    pub annotations: Map<String, Value>,
    /// `process.oomScoreAdj`, for whoever starts the workload to apply.
    pub oom_score_adj: Option<i32>,
    /// `linux.cgroupsPath`, as given.
    pub cgroups_path: Option<String>,
    /// The configuration as read, kept for the state directory.
    pub spec: Value,
}

/// Reads `bundle_dir/config.json`.
pub fn load(bundle_dir: &Path) -> Result<Bundle, Error> {
    let dir = std::fs::canonicalize(bundle_dir).map_err(|e| {
        Error::usage(format!(
            "bundle {}: {}",
            bundle_dir.display(),
            crate::error::io_text(&e)
        ))
    })?;
    let file = dir.join("config.json");
    let text = std::fs::read_to_string(&file)
        .map_err(|e| Error::usage(format!("{}: {}", file.display(), crate::error::io_text(&e))))?;
    let caller = Caller {
        euid: rustix::process::geteuid().as_raw(),
        egid: rustix::process::getegid().as_raw(),
        caps: crate::config::caps::available(),
    };
    from_text(&dir, &text, caller)
}

/// The bundle in `dir` whose `config.json` holds `text`, for `caller`.
pub fn from_text(dir: &Path, text: &str, caller: Caller) -> Result<Bundle, Error> {
    let spec: Value = serde_json::from_str(text).map_err(|e| {
        Error::usage(format!(
            "config.json: not valid JSON: {e} (line {}, column {})",
            e.line(),
            e.column()
        ))
    })?;
    let top = Obj::new(&spec, "")?;
    top.only(
        &[
            "ociVersion",
            "process",
            "root",
            "hostname",
            "mounts",
            "hooks",
            "annotations",
            "linux",
        ],
        &[
            ("domainname", "domain names are not supported"),
            ("solaris", "not a Linux field"),
            ("windows", "not a Linux field"),
            ("vm", "virtual-machine containers are not supported"),
            ("zos", "not a Linux field"),
        ],
    )?;
    version(&top)?;

    let Some(pv) = top.get("process") else {
        return Err(fail_at(
            "process",
            "missing (nucleus needs a process to run)",
        ));
    };
    let process = process::parse(pv, caller.caps)?;
    let (rootfs, readonly) = mounts::root(&top, dir)?;
    let linux = linux::parse(top.get("linux"), caller)?;
    let limits = resources::parse(
        top.get("linux")
            .and_then(|l| l.get("resources"))
            .filter(|v| !v.is_null()),
    )?;
    let mounts = mounts::parse(&top, dir)?;
    mounts::check_dev(&mounts)?;
    if !linux.sysctl.is_empty() && !mounts::has_proc(&mounts) {
        return Err(fail_at(
            "linux.sysctl",
            "setting sysctls needs a proc file system on /proc, and mounts has none",
        ));
    }

    let hostname = hostname(&top, linux.namespaces.uts)?;
    ids_mapped(&linux, &process)?;

    let annotations = annotations(&top)?;
    let landlock = mounts::landlock(&mounts);

    let config = Config {
        rootfs: Some(rootfs),
        rootfs_rw: !readonly,
        hostname,
        env: process.env,
        workdir: process.cwd,
        uid: process.uid,
        gid: process.gid,
        volumes: Vec::new(),
        tmpfs: Vec::new(),
        network: linux.network,
        seccomp: linux.seccomp,
        seccomp_allow: Vec::new(),
        userns: linux.userns,
        caps: process.caps,
        rlimits: process.rlimits,
        seccomp_watch: None,
        landlock,
        cgroup: crate::cgroup::Settings {
            name: crate::cgroup::id::generate(),
            named: false,
            manager: crate::cgroup::layout::Manager::Auto,
            parent: crate::cgroup::config::Parent::default(),
            exact: None,
            detached: false,
            // The bundle's limits are requirements, as under runc, which also goes on without
            // cgroups only when run without privilege and asked for no limit.
            require: caller.euid == 0 || limits.any_explicit(),
            limits,
        },
        // OCI bundles run on the native backend.
        runtime: Default::default(),
        groups: process.groups,
        umask: process.umask,
        terminal: process.terminal,
        console_size: process.console_size,
        interactive: false,
        await_start: false,
        namespaces: linux.namespaces,
        oci: Some(Filesystem {
            mounts,
            devices: linux.devices,
            sysctl: linux.sysctl,
            read_only: linux.read_only,
            masked: linux.masked,
            cgroups: None,
        }),
        command: process.args,
    };
    Ok(Bundle {
        dir: dir.to_path_buf(),
        config,
        hooks: hooks::parse(top.get("hooks"))?,
        annotations,
        oom_score_adj: process.oom_score_adj,
        cgroups_path: linux.cgroups_path,
        spec,
    })
}

/// The hooks of a config.json already accepted once (`delete` reads its saved copy).
pub fn hooks_of(spec: &Value) -> Result<Hooks, Error> {
    hooks::parse(spec.get("hooks"))
}

/// `exec --process FILE`: the process replaces the workload's in `cfg`. It may not have
/// capabilities the workload does not: an exec is confined at least like the workload.
pub fn apply_process(cfg: &mut Config, v: &Value) -> Result<(), Error> {
    let p = process::parse(v, crate::config::caps::available())?;
    if p.caps & !cfg.caps != 0 {
        return Err(Error::usage(format!(
            "process.capabilities: {} beyond what the sandbox's workload has ({})",
            crate::config::caps::names(p.caps & !cfg.caps),
            crate::config::caps::names(cfg.caps)
        )));
    }
    cfg.command = p.args;
    cfg.env = p.env;
    cfg.workdir = p.cwd;
    cfg.uid = p.uid;
    cfg.gid = p.gid;
    cfg.groups = p.groups;
    cfg.umask = p.umask;
    cfg.terminal = p.terminal;
    cfg.console_size = p.console_size;
    cfg.caps = p.caps;
    cfg.rlimits = p.rlimits;
    Ok(())
}

/// `hostname`; empty when absent (the uts namespace keeps the name it starts with).
fn hostname(top: &Obj<'_>, own_uts: bool) -> Result<String, Error> {
    match top.str("hostname")? {
        None | Some("") => Ok(String::new()),
        Some(h) if !own_uts => Err(fail(
            "hostname",
            &Value::from(h),
            "setting it needs a uts namespace of the sandbox's own (linux.namespaces has none)",
        )),
        Some(h) => crate::config::hostname(h).map_err(|_| {
            fail(
                "hostname",
                &Value::from(h),
                "use 1-64 letters, digits, '-' or '.'",
            )
        }),
    }
}

fn annotations(top: &Obj<'_>) -> Result<Map<String, Value>, Error> {
    match top.get("annotations") {
        None => Ok(Map::new()),
        Some(Value::Object(m)) => match m.iter().find(|(_, v)| !v.is_string()) {
            Some((k, v)) => Err(fail(&format!("annotations.{k}"), v, "expected a string")),
            None => Ok(m.clone()),
        },
        Some(v) => Err(fail("annotations", v, "expected an object")),
    }
}

/// `ociVersion`: 1.0, 1.1 or 1.2 (with any patch level or pre-release, `1.0.2-dev`).
fn version(top: &Obj<'_>) -> Result<(), Error> {
    let v = top.req_str("ociVersion")?;
    let core = v.split(['-', '+']).next().unwrap_or("");
    let parts: Vec<&str> = core.split('.').collect();
    let numeric = parts.len() == 3
        && parts
            .iter()
            .all(|p| !p.is_empty() && p.bytes().all(|b| b.is_ascii_digit()));
    if numeric && parts[0] == "1" && matches!(parts[1], "0" | "1" | "2") {
        Ok(())
    } else {
        Err(fail(
            "ociVersion",
            &Value::from(v),
            "nucleus implements the runtime spec 1.0 to 1.2",
        ))
    }
}

/// In a user namespace the workload's ids must exist inside.
fn ids_mapped(linux: &linux::Linux, p: &process::Process) -> Result<(), Error> {
    let Some(ns) = &linux.userns else {
        return Ok(());
    };
    let mapped = |maps: &[crate::userns::IdMap], id: u32| {
        maps.iter()
            .any(|m| id >= m.inside && id - m.inside < m.count)
    };
    if !mapped(&ns.uid_map, p.uid) {
        return Err(fail(
            "process.user.uid",
            &Value::from(p.uid),
            "not mapped in the user namespace (linux.uidMappings)",
        ));
    }
    let groups = p.groups.iter().enumerate();
    let all = std::iter::once(("process.user.gid".to_owned(), p.gid))
        .chain(groups.map(|(i, g)| (format!("process.user.additionalGids[{i}]"), *g)));
    for (at, g) in all {
        if !mapped(&ns.gid_map, g) {
            return Err(fail(
                &at,
                &Value::from(g),
                "not mapped in the user namespace (linux.gidMappings)",
            ));
        }
    }
    if ns.rootless && !p.groups.is_empty() {
        return Err(fail_at(
            "process.user.additionalGids",
            "run by an unprivileged user, supplementary groups cannot be set (setgroups is denied)",
        ));
    }
    Ok(())
}
