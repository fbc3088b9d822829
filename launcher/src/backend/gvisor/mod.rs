//! The gVisor backend: the same sandbox, run by `runsc` on gVisor's application kernel
//! instead of on the host's.
//!
//! The [`Config`] the native backend plans from is translated into an OCI bundle (`bundle`,
//! `seccomp`) in a private directory (`rundir`), the sandbox's cgroups are made as for a
//! native sandbox and `runsc run` is started inside them, tied to the launcher. stdio passes
//! straight through (runsc hands its own to the workload), signals are relayed through
//! `runsc kill` (`supervise`), and the exit status is the workload's (128 + n for signal n).
//! What gVisor cannot honour is refused or reported first (`differences`).

pub mod bundle;
pub mod cli;
pub mod differences;
pub mod doctor;
mod rundir;
pub mod runsc;
mod seccomp;
pub mod select;
mod supervise;

use std::io::Write;
use std::os::unix::fs::OpenOptionsExt;
use std::path::Path;
use std::process::Command;

pub use select::{Gvisor, Runtime};

use crate::config::Config;
use crate::error::{Error, errno_text, exit};
use crate::plan::HostRoot;

/// CAP_NET_RAW's number.
const NET_RAW: u32 = 13;

/// Runs the sandbox under runsc to completion; returns the launcher's exit code.
pub fn run(cfg: &Config, g: &Gvisor) -> Result<i32, Error> {
    differences::refuse(cfg)?;
    bundle::check_paths(cfg)?;
    // Blocked from the start (preparing takes a few milliseconds more than for a native
    // sandbox), so that a signal arriving meanwhile is relayed once runsc runs, not lost.
    let signals = crate::sys::signals::block_and_open()
        .map_err(|e| Error::io("setting up signal relay", e))?;
    let runsc_path = runsc::find(&|k: &str| std::env::var(k).ok())?;
    let info = runsc::Info::load(&runsc_path, rundir::ensure_base().as_deref())?;
    let platform = runsc::platform(&info, g.platform)?;

    let ctx = crate::seccomp::Context {
        arch: crate::seccomp::native_arch()?,
        caps: Vec::new(),
        kernel: crate::seccomp::kernel_version(),
    };
    let policy = crate::seccomp::policy(&cfg.seccomp, &cfg.seccomp_allow, &ctx)?;
    let profile = policy.as_ref().map(seccomp::for_runsc).transpose()?;
    let notes = profile.as_ref().map_or(&[][..], |p| &p.notes[..]);
    for (level, line) in differences::report(cfg, notes) {
        level.log(&line);
    }
    tracing::debug!(
        runsc = %info.path.display(),
        version = info.version,
        platform = platform.name(),
        "gVisor"
    );

    let dir = match &g.export {
        Some(d) => rundir::RunDir::export(d)?,
        None => rundir::RunDir::create(&cfg.cgroup.name)?,
    };
    let host = if cfg.rootfs.is_none() {
        HostRoot::probe(Path::new("/"))
    } else {
        HostRoot::default()
    };
    let bundle_dir = dir.path();
    let root = match &cfg.rootfs {
        Some(r) => r.clone(),
        None => {
            let r = bundle_dir.join("rootfs");
            bundle::default_root(&r, cfg, &host)?;
            r
        }
    };
    // Removed again on every way out (Sandbox's Drop), or by the next start if we are killed.
    let cgroup = match g.export {
        Some(_) => None,
        None => crate::cgroup::setup(&cfg.cgroup)?,
    };
    let inputs = bundle::Inputs {
        host: &host,
        root: &root,
        seccomp: profile.map(|p| p.json),
        own_rlimits: bundle::own_rlimits(),
        cgroups: cgroup.as_ref().map_or_else(Vec::new, |c| {
            c.dirs()
                .iter()
                .map(|d| d.path.display().to_string())
                .collect()
        }),
    };
    let seccomp = inputs.seccomp.is_some();
    write_config(bundle_dir, &bundle::spec(cfg, &inputs), g.export.is_some())?;
    let log = dir.log();
    let flags = runsc::Flags {
        state: bundle_dir,
        platform,
        network: cfg.network,
        seccomp,
        log: &log,
        net_raw: cfg.caps & (1 << NET_RAW) != 0,
    };
    let args = runsc::run_args(&flags, bundle_dir, &cfg.cgroup.name);
    if g.export.is_some() {
        return export(dir.path(), &runsc_path, &args);
    }

    let mut cmd = Command::new(&runsc_path);
    cmd.args(&args);
    let join = match &cgroup {
        Some(c) => c.join_files()?,
        None => Vec::new(),
    };
    crate::sys::child::tie_to_launcher(&mut cmd, join);
    let mut child = cmd.spawn().map_err(|e| {
        let what = match &cgroup {
            Some(c) => format!(
                "starting {} in the sandbox's cgroups ({})",
                runsc_path.display(),
                c.dirs()[0].path.display()
            ),
            None => format!("starting {}", runsc_path.display()),
        };
        Error::io(what, e)
    })?;
    tracing::debug!(pid = child.id(), "runsc started");
    let code = supervise::wait(&mut child, &signals, |sig| {
        runsc::kill(&runsc_path, &flags, &cfg.cgroup.name, sig)
    })?;
    let pids_hits = cgroup.as_ref().map_or(0, pids_limit_hits);
    let ending = cgroup.map(crate::cgroup::Sandbox::finish);
    let error = (code == 128).then(|| runsc::last_error(&log)).flatten();
    outcome(cfg, code, error, ending, pids_hits)
}

/// The launcher's exit code once runsc has exited with `code`, having logged `error` last
/// (if any): the workload's code, or what runsc's failure, the OOM killer or the pids limit
/// meant, said as the native backend says it.
fn outcome(
    cfg: &Config,
    code: i32,
    error: Option<String>,
    ending: Option<crate::cgroup::Ending>,
    pids_hits: u64,
) -> Result<i32, Error> {
    if pids_hits > 0 {
        let limit = cfg.cgroup.limits.pids.map_or("?".into(), |p| p.to_string());
        let line = format!(
            "the sandbox reached its pids limit ({limit}), which gVisor's kernel and gofer threads count toward: a thread gVisor cannot create ends the whole sandbox"
        );
        crate::enforcement::Level::of(code != 0, true).log(&line);
    }
    // runsc exits 128 when it fails itself; a workload may exit 128 too, and then runsc logged
    // nothing.
    let failure = error.filter(|_| code == 128);
    let oom = ending.filter(|e| e.oom_kills > 0);
    if let Some(e) = oom {
        // The OOM killer picks gVisor's kernel, which holds the workload's memory: the whole
        // sandbox ends, which the workload's own death by SIGKILL stands for.
        let died = code == 128 + libc::SIGKILL || failure.is_some();
        if let Some(msg) = e.oom_message(if died { 128 + libc::SIGKILL } else { code }) {
            eprintln!("nucleus-launch: {msg}");
        }
        if died {
            return Ok(128 + libc::SIGKILL);
        }
    }
    match failure {
        Some(msg) => Err(failure_error(&msg, &cfg.command[0])),
        None => Ok(code),
    }
}

/// How often the sandbox's processes hit its pids limit (`pids.events`, v1 and v2 alike).
fn pids_limit_hits(c: &crate::cgroup::Sandbox) -> u64 {
    c.dirs()
        .iter()
        .filter(|d| d.has("pids"))
        .find_map(|d| std::fs::read_to_string(d.path.join("pids.events")).ok())
        .and_then(|t| {
            t.lines()
                .find_map(|l| l.strip_prefix("max ")?.trim().parse().ok())
        })
        .unwrap_or(0)
}

/// runsc's error (its last logged one) as the native backend would say it: a workload that
/// cannot be found (127) or executed (126), else a failure of runsc itself (125).
fn failure_error(msg: &str, cmd: &str) -> Error {
    if msg.contains("error finding executable") {
        return Error::Exec {
            code: exit::NOT_FOUND,
            message: format!("{cmd}: command not found in the sandbox's PATH"),
        };
    }
    if let Some(i) = msg.rfind("failed to load ") {
        let why = msg[i..].rsplit(": ").next().unwrap_or_default();
        let errno = match why {
            "no such file or directory" => libc::ENOENT,
            "not a directory" => libc::ENOTDIR,
            "permission denied" => libc::EACCES,
            "exec format error" => libc::ENOEXEC,
            "is a directory" => libc::EISDIR,
            "too many levels of symbolic links" => libc::ELOOP,
            _ => 0,
        };
        let code = if errno == libc::ENOENT || errno == libc::ENOTDIR {
            exit::NOT_FOUND
        } else {
            exit::CANNOT_EXECUTE
        };
        let why = if errno == 0 {
            why.to_owned()
        } else {
            errno_text(errno)
        };
        return Error::Exec {
            code,
            message: format!("cannot execute {cmd}: {why}"),
        };
    }
    Error::runtime(format!("runsc could not run the sandbox: {msg}"))
}

/// `config.json` in `dir`: pretty for people reading an export; runsc does not mind either way.
fn write_config(dir: &Path, spec: &serde_json::Value, pretty: bool) -> Result<(), Error> {
    let text = if pretty {
        serde_json::to_string_pretty(spec)
    } else {
        serde_json::to_string(spec)
    };
    write_private(
        &dir.join("config.json"),
        text.unwrap_or_default().as_bytes(),
    )
}

fn write_private(path: &Path, bytes: &[u8]) -> Result<(), Error> {
    std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .open(path)
        .and_then(|mut f| f.write_all(bytes))
        .map_err(|e| Error::io(format!("writing {}", path.display()), e))
}

/// `--gvisor-export`: the bundle is written; leave runsc's arguments beside it (one per line)
/// and print the command that runs it.
fn export(dir: &Path, runsc: &Path, args: &[std::ffi::OsString]) -> Result<i32, Error> {
    let text: Vec<String> = args
        .iter()
        .map(|a| a.to_string_lossy().into_owned())
        .collect();
    write_private(&dir.join("runsc-args"), (text.join("\n") + "\n").as_bytes())?;
    println!("{} {}", runsc.display(), text.join(" "));
    Ok(0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn runsc_errors_become_the_native_exit_codes() {
        let chain =
            "running container: starting container: starting root container: starting sandbox: ";
        let cases = [
            (
                "error finding executable \"nope\" in PATH [/bin]: no such file or directory",
                "nope",
                127,
                "nope: command not found in the sandbox's PATH",
            ),
            (
                "creating process: failed to load /x: no such file or directory",
                "/x",
                127,
                "cannot execute /x: No such file or directory",
            ),
            (
                "creating process: failed to load /etc/passwd: permission denied",
                "/etc/passwd",
                126,
                "cannot execute /etc/passwd: Permission denied",
            ),
        ];
        for (tail, cmd, code, message) in cases {
            let e = failure_error(&format!("{chain}{tail}"), cmd);
            assert_eq!(e.exit_code(), code, "{tail}");
            assert_eq!(e.to_string(), message);
        }
        let e = failure_error(&format!("{chain}building seccomp program: x"), "/x");
        assert_eq!(e.exit_code(), 125);
        assert!(
            e.to_string()
                .starts_with("runsc could not run the sandbox: running container")
        );
    }
}
