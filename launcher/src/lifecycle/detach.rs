//! `run -d`: the sandbox runs under a small monitor process (this binary again, as the hidden
//! `monitor` command) that outlives the launcher, captures the sandbox's output into a
//! bounded log, keeps its exit status in the record and removes its cgroups when it ends.
//!
//! The launcher waits only until the monitor says the sandbox started (or why it could not),
//! so every error still reaches the caller with the usual exit code.

use std::io::{Read, Write};
use std::path::Path;
use std::process::{Command, Stdio};

use rustix::fd::OwnedFd;
use serde_json::json;

use super::logs::{LOG_FILE, Writer as LogWriter};
use crate::config::Config;
use crate::error::Error;
use crate::state::{Init, Kind, Lock, Record, Root};

/// Copies of `--seccomp FILE` and `--policy FILE` in the state directory.
const SECCOMP_COPY: &str = "seccomp.json";
const POLICY_COPY: &str = "policy.json";

fn copy_in(from: &Path, to: &Path) -> Result<(), Error> {
    let bytes =
        std::fs::read(from).map_err(|e| Error::io(format!("reading {}", from.display()), e))?;
    crate::state::write_atomic(to, &bytes)
}

/// The first line of a monitor whose sandbox started.
const STARTED: &str = "started";

/// Starts `cfg` detached; prints its id. `argv` is the launcher's command line, kept so that
/// the monitor and later `exec`s build the same configuration.
pub fn run_detached(
    cfg: &Config,
    auto_remove: bool,
    root_opt: Option<&str>,
    argv: Vec<String>,
    policy: Option<&str>,
) -> Result<i32, Error> {
    if cfg.terminal || cfg.interactive {
        return Err(Error::usage(
            "-d: a detached sandbox has no terminal or stdin to attach (-t, -i)",
        ));
    }
    let root = Root::new(root_opt)?;
    let id = cfg.cgroup.name.clone();
    let dir = root.create(&id)?;
    let started = (|| {
        let mut rec = Record::new(&id, Kind::Detached, &dir);
        rec.command = cfg.command.clone();
        rec.rootfs = cfg
            .rootfs
            .as_ref()
            .map(|p| p.display().to_string())
            .unwrap_or_default();
        rec.auto_remove = auto_remove;
        // The files the confinement came from are copied: a later `exec` gets the workload's
        // confinement even if they change or go.
        let seccomp = match &cfg.seccomp {
            crate::seccomp::Choice::File(p) => Some(copy_in(p, &dir.join(SECCOMP_COPY))?),
            _ => None,
        };
        let policy = policy
            .map(|p| copy_in(Path::new(p), &dir.join(POLICY_COPY)))
            .transpose()?;
        rec.launch = json!({
            "argv": argv,
            "env": cfg.env,
            "seccompCopy": seccomp.is_some(),
            "policyCopy": policy.is_some(),
        });
        rec.save()?;
        spawn_monitor(&root, &id)
    })();
    match started {
        Ok(()) => {
            println!("{id}");
            Ok(0)
        }
        Err(e) => {
            let _ = std::fs::remove_dir_all(&dir);
            Err(e)
        }
    }
}

fn spawn_monitor(root: &Root, id: &str) -> Result<(), Error> {
    let (ready_rd, ready_wr) = std::io::pipe().map_err(|e| Error::io("creating a pipe", e))?;
    let mut child = Command::new("/proc/self/exe")
        .arg("--root")
        .arg(root.path())
        .arg("monitor")
        .arg(id)
        .stdin(Stdio::null())
        .stdout(
            ready_wr
                .try_clone()
                .map_err(|e| Error::io("creating a pipe", e))?,
        )
        .stderr(ready_wr)
        .spawn()
        .map_err(|e| Error::io("starting the sandbox's monitor", e))?;
    let mut said = String::new();
    let _ = (&ready_rd).take(64 * 1024).read_to_string(&mut said);
    if said.lines().next() == Some(STARTED) {
        // The monitor runs on; init reparents it when we exit.
        return Ok(());
    }
    let _ = child.wait();
    let said = said.trim();
    Err(if said.is_empty() {
        Error::runtime("the sandbox's monitor ended before the sandbox started")
    } else {
        // Already "nucleus-launch: ..." lines from the monitor: pass them on as they are.
        Error::runtime(said.strip_prefix("nucleus-launch: ").unwrap_or(said))
    })
}

/// The hidden `monitor ID` command.
pub fn monitor(root: &Root, id: &str) -> Result<i32, Error> {
    // Out of the caller's session: its terminal's hangup must not end the sandbox.
    let _ = rustix::process::setsid();
    // Before the log thread exists, so that it inherits the mask: signals to the monitor
    // are relayed to the sandbox, never taken by that thread.
    crate::sys::signals::block().map_err(|e| Error::io("setting up signal relay", e))?;
    let dir = root.sandbox_dir(id)?;
    // The launcher's pipe: kept aside for the verdict; stdout and stderr become the log.
    let ready = rustix::io::fcntl_dupfd_cloexec(rustix::stdio::stdout(), 10)
        .map_err(|e| Error::io("keeping the launcher's pipe", e.into()))?;
    let (log_rd, log_wr) = rustix::pipe::pipe_with(rustix::pipe::PipeFlags::CLOEXEC)
        .map_err(|e| Error::io("creating the log pipe", e.into()))?;
    let redirect =
        |fd: &OwnedFd| rustix::stdio::dup2_stdout(fd).and_then(|()| rustix::stdio::dup2_stderr(fd));
    redirect(&log_wr).map_err(|e| Error::io("redirecting output to the log", e.into()))?;
    drop(log_wr);
    let log = LogWriter::open(&dir.join(LOG_FILE))?;
    let drain = std::thread::spawn(move || log.drain(log_rd));

    let result = supervise(root, id, &dir, ready);

    // Our own copies of the log pipe go; the drain ends once the sandbox's are gone too.
    if let Ok(null) = rustix::fs::open(
        "/dev/null",
        rustix::fs::OFlags::WRONLY | rustix::fs::OFlags::CLOEXEC,
        rustix::fs::Mode::empty(),
    ) {
        let _ = redirect(&null);
    }
    let _ = drain.join();
    result
}

/// Starts the sandbox of record `id`, tells the launcher, waits for it and records its end.
fn supervise(root: &Root, id: &str, dir: &Path, ready: OwnedFd) -> Result<i32, Error> {
    let say = |fd: &OwnedFd, text: &str| {
        // Through a duplicate, so that `fd` itself stays open for a later verdict.
        if let Ok(dup) = rustix::io::fcntl_dupfd_cloexec(fd, 10) {
            let mut f = std::fs::File::from(dup);
            let _ = f.write_all(text.as_bytes());
        }
    };
    let mut record = {
        // From now on the monitor is the one whose end `rm` waits for.
        let _lock = Lock::exclusive(dir)?;
        let mut record = root.load(id)?;
        record.creator = Init::current();
        record.save()?;
        record
    };
    let cfg = match config_of(&record) {
        Ok(c) => c,
        Err(e) => {
            say(&ready, &format!("nucleus-launch: {e}\n"));
            let _ = std::fs::remove_dir_all(dir);
            return Ok(crate::error::exit::RUNTIME);
        }
    };
    let mut ready = Some(ready);
    let outcome = crate::backend::native::run_observed(
        &cfg,
        crate::backend::native::Extras::default(),
        |init, cgroup| {
            let _lock = Lock::exclusive(dir)?;
            record.init = Init::of(init.pid);
            record.cgroup = cgroup.map(|c| c.record().to_json());
            record.save()?;
            if let Some(fd) = ready.take() {
                say(&fd, &format!("{STARTED}\n"));
            }
            Ok(())
        },
    );
    if let Some(fd) = ready.take() {
        // Never started: the launcher reports the error and removes the state.
        let text = match &outcome {
            Err(e) => format!("nucleus-launch: {e}\n"),
            Ok(code) => {
                format!("nucleus-launch: the sandbox ended with {code} before it started\n")
            }
        };
        say(&fd, &text);
        return Ok(crate::error::exit::RUNTIME);
    }
    let code = match &outcome {
        Ok(code) => *code,
        Err(e) => {
            eprintln!("nucleus-launch: {e}");
            e.exit_code()
        }
    };
    let _lock = Lock::exclusive(dir);
    match root.load(id) {
        // Removed meanwhile and made again under the same id: not ours to touch.
        Ok(rec) if rec.creator != Init::current() => {}
        Ok(mut rec) if rec.auto_remove => {
            drop(rec.cgroup.take());
            let _ = std::fs::remove_dir_all(dir);
        }
        Ok(mut rec) => {
            rec.exit_code = Some(code);
            let _ = rec.save();
        }
        // Removed meanwhile (`rm --force`): nothing left to record.
        Err(_) => {}
    }
    Ok(code)
}

/// The configuration a detached sandbox was started with: its `run` command line parsed
/// again, with the environment it resolved then and its id.
pub fn config_of(record: &Record) -> Result<Config, Error> {
    let argv: Vec<String> = record.launch["argv"]
        .as_array()
        .map(|a| {
            a.iter()
                .filter_map(|v| v.as_str().map(str::to_owned))
                .collect()
        })
        .unwrap_or_default();
    let matches = crate::cli::command()
        .try_get_matches_from(std::iter::once("nucleus-launch".to_owned()).chain(argv))
        .map_err(|e| Error::runtime(format!("the recorded command line no longer parses: {e}")))?;
    let crate::cli::Invocation::Run(mut args) = crate::cli::invocation(&matches) else {
        return Err(Error::runtime("the recorded command line is not a `run`"));
    };
    let copied = |key: &str, file: &str| {
        (record.launch[key].as_bool() == Some(true))
            .then(|| record.dir.join(file).display().to_string())
    };
    if let Some(p) = copied("seccompCopy", SECCOMP_COPY) {
        args.seccomp = Some(p);
    }
    if let Some(p) = copied("policyCopy", POLICY_COPY) {
        args.policy = Some(p);
    }
    let mut cfg = Config::from_args(*args, |k| std::env::var(k).ok())?;
    cfg.env = record.launch["env"]
        .as_array()
        .map(|a| {
            a.iter()
                .filter_map(|kv| Some((kv[0].as_str()?.to_owned(), kv[1].as_str()?.to_owned())))
                .collect()
        })
        .unwrap_or(cfg.env);
    cfg.cgroup.name = record.id.clone();
    cfg.cgroup.named = true;
    Ok(cfg)
}
