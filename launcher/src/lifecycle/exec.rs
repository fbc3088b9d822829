//! `exec`: a new process in a running sandbox, in all of its namespaces and cgroups and
//! confined exactly like its workload (same seccomp program, Landlock rules, capabilities and
//! rlimits). nucleus-init starts it: the launcher's child joins the namespaces with one
//! `setns` on init's pidfd, then runs init with a plan that holds only the process; init
//! forks it into the sandbox's pid namespace and waits for it, as it does for a workload.

use std::path::Path;

use crate::backend::native::{self, Extras, PlanKind};
use crate::config::{Config, SandboxPath};
use crate::error::Error;
use crate::state::{Kind, Record, Root, Status};

use super::cli::ExecArgs;

/// The namespaces a sandbox can have, as `/proc/PID/ns` names them.
const NAMESPACES: [(&str, i32); 7] = [
    ("user", libc::CLONE_NEWUSER),
    ("mnt", libc::CLONE_NEWNS),
    ("pid", libc::CLONE_NEWPID),
    ("uts", libc::CLONE_NEWUTS),
    ("ipc", libc::CLONE_NEWIPC),
    ("net", libc::CLONE_NEWNET),
    ("cgroup", libc::CLONE_NEWCGROUP),
];

pub fn exec(root: &Root, a: &ExecArgs) -> Result<i32, Error> {
    let record = root.load(&a.id)?;
    let status = record.status();
    if status != Status::Running {
        return Err(Error::usage(format!(
            "sandbox {:?} is {}: exec needs a running sandbox",
            a.id,
            status.name()
        )));
    }
    let init = record.init.expect("a running sandbox has an init");
    let mut cfg = config_of(&record)?;
    apply(&mut cfg, a)?;
    let plan = native::prepare(&cfg, PlanKind::Exec)?;
    let pidfd = init
        .pidfd()
        .ok_or_else(|| Error::usage(format!("sandbox {:?} has just ended", a.id)))?;
    let flags = namespaces_of(init.pid)?;
    let join = record
        .cgroup
        .as_ref()
        .map(crate::cgroup::join)
        .transpose()?;
    let console = match (&a.console_socket, cfg.terminal) {
        (Some(path), true) => Some(crate::tty::connect_console_socket(Path::new(path))?),
        (Some(_), false) => {
            return Err(Error::usage(
                "--console-socket is for a process with a terminal (process.terminal or -t)",
            ));
        }
        (None, _) => None,
    };
    let extras = Extras {
        console,
        enter: Some((rustix::fd::AsFd::as_fd(&pidfd), flags)),
        detach: a.detach,
        join,
        ..Extras::default()
    };
    native::follow_exec(&cfg, &plan, extras, a.pid_file.as_deref())
}

/// The sandbox's configuration, as its workload got it.
fn config_of(record: &Record) -> Result<Config, Error> {
    match record.kind {
        Kind::Detached => super::detach::config_of(record),
        Kind::Oci => super::create::config_of(record),
    }
}

/// What `exec` changes: the process, as `--process` (OCI) or the command line (docker) says.
fn apply(cfg: &mut Config, a: &ExecArgs) -> Result<(), Error> {
    cfg.await_start = false;
    cfg.interactive = a.interactive;
    cfg.seccomp_watch = None;
    if let Some(path) = &a.process {
        if !a.command.is_empty() {
            return Err(Error::usage(
                "exec: give either --process FILE or a command, not both",
            ));
        }
        let text = std::fs::read_to_string(path)
            .map_err(|e| Error::io(format!("reading --process {path}"), e))?;
        let doc: serde_json::Value = serde_json::from_str(&text)
            .map_err(|e| Error::usage(format!("--process {path}: not JSON: {e}")))?;
        crate::oci::bundle::apply_process(cfg, &doc)
            .map_err(|e| Error::usage(format!("--process {path}: {e}")))?;
        // Inherited from here by the process (range checked by apply_process).
        if let Some(adj) = doc.get("oomScoreAdj").and_then(serde_json::Value::as_i64) {
            std::fs::write("/proc/self/oom_score_adj", adj.to_string())
                .map_err(|e| Error::io("setting process.oomScoreAdj", e))?;
        }
    } else {
        if a.command.is_empty() || a.command[0].is_empty() {
            return Err(Error::usage(
                "exec: no command given: nucleus-launch exec ID -- CMD [ARGS...]",
            ));
        }
        cfg.command = a.command.clone();
        cfg.terminal = a.tty;
    }
    if a.process.is_some() && a.tty {
        cfg.terminal = true;
    }
    for e in &a.env {
        if let Some((k, v)) = crate::config::env(e, &|k| std::env::var(k).ok())? {
            crate::config::set_env(&mut cfg.env, k, v);
        }
    }
    if let Some(w) = &a.workdir {
        cfg.workdir = SandboxPath::parse("--workdir", w)?;
    }
    if let Some(u) = &a.user {
        let (uid, gid) = crate::config::user(u)?;
        cfg.uid = uid;
        cfg.gid = gid;
    }
    Ok(())
}

/// The `CLONE_NEW*` flags of the namespaces where `pid` differs from the launcher.
fn namespaces_of(pid: u32) -> Result<u64, Error> {
    let mut flags = 0u64;
    for (name, flag) in NAMESPACES {
        let theirs = std::fs::read_link(format!("/proc/{pid}/ns/{name}"))
            .map_err(|e| Error::io(format!("reading the sandbox's {name} namespace"), e))?;
        let ours = std::fs::read_link(format!("/proc/self/ns/{name}")).ok();
        if ours.as_ref() != Some(&theirs) {
            flags |= flag as u64;
        }
    }
    Ok(flags)
}
