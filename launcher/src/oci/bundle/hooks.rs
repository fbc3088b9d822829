//! `hooks`: programs the runtime runs on the host at points of the container's life, with
//! the container's state JSON on stdin.
//!
//! `prestart` (deprecated) and `createRuntime` run in the runtime's namespaces after the
//! sandbox is created; `poststart` after the workload started; `poststop` after it is gone.
//! `createContainer` and `startContainer` would have to run inside the sandbox's namespaces
//! and are refused. The lifecycle code calls each list at its point; this module reads them
//! and runs one.

use std::io::{ErrorKind, Read, Write};
use std::os::unix::process::CommandExt;
use std::path::PathBuf;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use rustix::event::{PollFd, PollFlags, Timespec};
use rustix::process::{Pid, PidfdFlags, Signal};
use serde_json::Value;

use super::json::{Obj, fail, no_nul};
use crate::error::Error;

/// One hook.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Hook {
    pub path: PathBuf,
    /// The whole argv, `args[0]` included; empty: just the path.
    pub args: Vec<String>,
    /// The environment; `None` (no `env` given): the launcher's own, as runc passes its own.
    pub env: Option<Vec<(String, String)>>,
    pub timeout: Option<Duration>,
    /// `hooks.poststart[0]`, for messages.
    pub origin: String,
}

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Hooks {
    /// Deprecated; run like `create_runtime`, before it (runc's order).
    pub prestart: Vec<Hook>,
    pub create_runtime: Vec<Hook>,
    pub poststart: Vec<Hook>,
    pub poststop: Vec<Hook>,
}

pub fn parse(v: Option<&Value>) -> Result<Hooks, Error> {
    let Some(v) = v else {
        return Ok(Hooks::default());
    };
    let h = Obj::new(v, "hooks")?;
    let inside = "hooks that run inside the container's namespaces are not supported";
    h.only(
        &["prestart", "createRuntime", "poststart", "poststop"],
        &[("createContainer", inside), ("startContainer", inside)],
    )?;
    let list = |key: &str| -> Result<Vec<Hook>, Error> {
        h.array(key)?
            .iter()
            .enumerate()
            .map(|(i, v)| one(&format!("hooks.{key}[{i}]"), v))
            .collect()
    };
    Ok(Hooks {
        prestart: list("prestart")?,
        create_runtime: list("createRuntime")?,
        poststart: list("poststart")?,
        poststop: list("poststop")?,
    })
}

fn one(at: &str, v: &Value) -> Result<Hook, Error> {
    let o = Obj::new(v, at)?;
    o.only(&["path", "args", "env", "timeout"], &[])?;
    let path = o.req_str("path")?;
    let pv = Value::from(path);
    no_nul(&o.at("path"), &pv, path)?;
    if !path.starts_with('/') {
        return Err(fail(&o.at("path"), &pv, "not an absolute path"));
    }
    let args = o.strings("args")?;
    for (i, a) in args.iter().enumerate() {
        no_nul(&format!("{at}.args[{i}]"), &Value::from(*a), a)?;
    }
    let env = match o.get("env") {
        None => None,
        Some(_) => {
            let mut out = Vec::new();
            for (i, e) in o.strings("env")?.into_iter().enumerate() {
                let ep = format!("{at}.env[{i}]");
                let ev = Value::from(e);
                no_nul(&ep, &ev, e)?;
                match e.split_once('=') {
                    Some((k, val)) if !k.is_empty() => out.push((k.to_owned(), val.to_owned())),
                    _ => return Err(fail(&ep, &ev, "expected KEY=VALUE")),
                }
            }
            Some(out)
        }
    };
    let timeout = match o.i64("timeout")? {
        None => None,
        Some(t) if t > 0 => Some(Duration::from_secs(t as u64)),
        Some(t) => {
            return Err(fail(
                &o.at("timeout"),
                &Value::from(t),
                "must be more than 0 seconds",
            ));
        }
    };
    Ok(Hook {
        path: PathBuf::from(path),
        args: args.into_iter().map(str::to_owned).collect(),
        env,
        timeout,
        origin: at.to_owned(),
    })
}

/// How much of a hook's output an error message quotes.
const KEEP: usize = 2048;

/// Runs `hook` on the host with `state_json` on its stdin and waits for it, at most its
/// timeout (then it and its process group are killed). An error names the hook and says
/// why, with the end of what it wrote to stderr.
pub fn run_hook(hook: &Hook, state_json: &str) -> Result<(), Error> {
    let name = format!("{} ({})", hook.origin, hook.path.display());
    let mut cmd = Command::new(&hook.path);
    if let Some((argv0, rest)) = hook.args.split_first() {
        cmd.arg0(argv0).args(rest);
    }
    if let Some(env) = &hook.env {
        cmd.env_clear().envs(env.iter().map(|(k, v)| (k, v)));
    }
    // Its own process group, so that a timeout ends what it started too.
    cmd.process_group(0)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    let mut child = cmd.spawn().map_err(|e| {
        Error::runtime(format!(
            "hook {name}: cannot run it: {}",
            crate::error::io_text(&e)
        ))
    })?;
    let pid = Pid::from_child(&child);
    let outcome = supervise(&mut child, pid, hook.timeout, state_json.as_bytes());
    match outcome {
        Ok((status, _)) if status.success() => Ok(()),
        Ok((status, stderr)) => {
            let how = match (
                status.code(),
                std::os::unix::process::ExitStatusExt::signal(&status),
            ) {
                (Some(c), _) => format!("exit status {c}"),
                (None, Some(s)) => format!("killed by signal {s}"),
                (None, None) => "failed".to_owned(),
            };
            Err(Error::runtime(format!(
                "hook {name} failed: {how}{}",
                quote(&stderr)
            )))
        }
        Err(Waited::TimedOut(stderr)) => Err(Error::runtime(format!(
            "hook {name} did not finish within {} s and was killed{}",
            hook.timeout.map_or(0, |t| t.as_secs()),
            quote(&stderr)
        ))),
        Err(Waited::Io(e)) => {
            let _ = rustix::process::kill_process_group(pid, Signal::KILL);
            let _ = child.wait();
            Err(Error::io(format!("running hook {name}"), e))
        }
    }
}

/// `: <the last line of stderr>`, or nothing.
fn quote(stderr: &[u8]) -> String {
    let text = String::from_utf8_lossy(stderr);
    let line = text.trim().lines().last().unwrap_or("").trim();
    if line.is_empty() {
        String::new()
    } else {
        format!(": {line}")
    }
}

enum Waited {
    TimedOut(Vec<u8>),
    Io(std::io::Error),
}

/// Feeds stdin, drains stdout (discarded) and stderr (the end kept), and waits for the
/// child's exit, all in one poll loop, so that a hook that neither reads its input nor
/// closes its output cannot stall the runtime past its timeout.
fn supervise(
    child: &mut std::process::Child,
    pid: Pid,
    timeout: Option<Duration>,
    input: &[u8],
) -> Result<(std::process::ExitStatus, Vec<u8>), Waited> {
    let io = Waited::Io;
    let pidfd = rustix::process::pidfd_open(pid, PidfdFlags::empty()).map_err(|e| io(e.into()))?;
    let mut stdin = child.stdin.take();
    let mut stdout = child.stdout.take();
    let mut stderr = child.stderr.take();
    for fd in [
        stdin.as_ref().map(rustix::fd::AsFd::as_fd),
        stdout.as_ref().map(rustix::fd::AsFd::as_fd),
        stderr.as_ref().map(rustix::fd::AsFd::as_fd),
    ]
    .into_iter()
    .flatten()
    {
        let fl = rustix::fs::fcntl_getfl(fd).map_err(|e| io(e.into()))?;
        rustix::fs::fcntl_setfl(fd, fl | rustix::fs::OFlags::NONBLOCK).map_err(|e| io(e.into()))?;
    }
    let deadline = timeout.map(|t| Instant::now() + t);
    let mut written = 0;
    let mut kept: Vec<u8> = Vec::new();
    let mut buf = [0u8; 4096];
    loop {
        if written == input.len() {
            stdin = None;
        }
        let wait = match deadline {
            None => None,
            Some(d) => {
                let left = d.saturating_duration_since(Instant::now());
                if left.is_zero() {
                    let _ = rustix::process::kill_process_group(pid, Signal::KILL);
                    let _ = child.wait();
                    return Err(Waited::TimedOut(kept));
                }
                Some(Timespec {
                    tv_sec: left.as_secs() as i64,
                    tv_nsec: i64::from(left.subsec_nanos()),
                })
            }
        };
        let mut fds = vec![PollFd::new(&pidfd, PollFlags::IN)];
        if let Some(s) = &stdin {
            fds.push(PollFd::new(s, PollFlags::OUT));
        }
        if let Some(s) = &stdout {
            fds.push(PollFd::new(s, PollFlags::IN));
        }
        if let Some(s) = &stderr {
            fds.push(PollFd::new(s, PollFlags::IN));
        }
        match rustix::event::poll(&mut fds, wait.as_ref()) {
            Ok(_) | Err(rustix::io::Errno::INTR) => {}
            Err(e) => return Err(io(e.into())),
        }
        let exited = !fds[0].revents().is_empty();
        drop(fds);

        if let Some(s) = stdin.as_mut() {
            match s.write(&input[written..]) {
                Ok(n) => written += n,
                Err(e)
                    if e.kind() == ErrorKind::WouldBlock || e.kind() == ErrorKind::Interrupted => {}
                // A hook need not read its input.
                Err(_) => written = input.len(),
            }
        }
        if drain(&mut stdout, &mut buf, None) {
            stdout = None;
        }
        if drain(&mut stderr, &mut buf, Some(&mut kept)) {
            stderr = None;
        }
        if exited {
            let status = child.wait().map_err(io)?;
            // What it wrote just before exiting is still in the pipe; what a process it left
            // behind writes later is not waited for.
            drain(&mut stderr, &mut buf, Some(&mut kept));
            return Ok((status, kept));
        }
    }
}

/// Reads what `pipe` holds now; true once it reached its end (or failed).
fn drain<R: Read>(pipe: &mut Option<R>, buf: &mut [u8], mut keep: Option<&mut Vec<u8>>) -> bool {
    let Some(p) = pipe.as_mut() else {
        return false;
    };
    loop {
        match p.read(buf) {
            Ok(0) => return true,
            Ok(n) => {
                if let Some(k) = keep.as_deref_mut() {
                    k.extend_from_slice(&buf[..n]);
                    if k.len() > KEEP {
                        k.drain(..k.len() - KEEP);
                    }
                }
            }
            Err(e) if e.kind() == ErrorKind::Interrupted => {}
            Err(e) if e.kind() == ErrorKind::WouldBlock => return false,
            Err(_) => return true,
        }
    }
}
