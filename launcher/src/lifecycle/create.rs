//! OCI `create`: the sandbox is set up from a bundle up to the workload's `execve`, then waits
//! for `start` (init blocks on the start FIFO, see init's `AwaitStart`). init is left to the
//! caller: conmon or containerd's shim is a child subreaper and reaps it when it ends, which
//! is how they learn the exit status. `delete` removes what is left.

use std::path::Path;

use rustix::fd::OwnedFd;
use rustix::fs::{Mode, OFlags};
use serde_json::json;

use crate::backend::native::{self, Extras, PlanKind};
use crate::config::Config;
use crate::error::Error;
use crate::state::{Init, Kind, Record, Root, START_FIFO};

/// The copy of the bundle's config.json in the state directory: what `exec` and `delete`
/// read, whatever happens to the bundle meanwhile.
const CONFIG_COPY: &str = "config.json";

pub struct Request<'a> {
    pub id: &'a str,
    pub bundle: &'a str,
    pub pid_file: Option<&'a str>,
    pub console_socket: Option<&'a str>,
    pub systemd_cgroup: bool,
}

pub fn create(root: &Root, req: &Request<'_>) -> Result<i32, Error> {
    crate::state::check_id(req.id)?;
    let bundle = crate::oci::bundle::load(Path::new(req.bundle))?;
    let bundle_dir = bundle.dir.clone();
    let mut cfg = bundle.config.clone();
    cfg.cgroup.name = req.id.to_owned();
    cfg.cgroup.named = true;
    cfg.cgroup.detached = true;
    cfg.cgroup.exact = bundle
        .cgroups_path
        .as_deref()
        .map(|p| crate::cgroup::CgroupPath::parse(p, req.systemd_cgroup))
        .transpose()?;
    cfg.await_start = true;
    let console = match (cfg.terminal, req.console_socket) {
        (true, Some(path)) => Some(crate::tty::connect_console_socket(Path::new(path))?),
        (true, None) => {
            return Err(Error::usage(
                "process.terminal is set: --console-socket is required to receive the pty",
            ));
        }
        (false, Some(_)) => {
            return Err(Error::usage(
                "--console-socket given, but process.terminal is not set in config.json",
            ));
        }
        (false, None) => None,
    };
    let dir = root.create(req.id)?;
    let mut record = Record::new(req.id, Kind::Oci, &dir);
    record.bundle = bundle_dir.display().to_string();
    record.rootfs = cfg
        .rootfs
        .as_ref()
        .map(|p| p.display().to_string())
        .unwrap_or_default();
    record.annotations = bundle.annotations.clone();
    record.command = cfg.command.clone();
    record.launch = json!({ "bundle": CONFIG_COPY, "systemdCgroup": req.systemd_cgroup });
    let made = (|| {
        crate::state::write_atomic(
            &dir.join(CONFIG_COPY),
            &serde_json::to_vec_pretty(&bundle.spec).expect("a JSON value always encodes"),
        )?;
        record.save()?;
        let start = start_fifo(&dir)?;
        let cgroup = crate::cgroup::setup(&cfg.cgroup)?;
        // Recorded at once: a create killed from here on leaves what `delete` can remove
        // (the cgroups, and through them any process in them).
        record.cgroup = cgroup.as_ref().map(|c| c.record().to_json());
        record.save()?;
        // A `cgroup` mount shows the sandbox's own directories: known only now.
        if let Some(fs) = cfg.oci.as_mut() {
            fs.cgroups = cgroup
                .as_ref()
                .and_then(crate::config::oci::SandboxCgroups::of);
        }
        let plan = native::prepare(&cfg, PlanKind::Sandbox)?;
        let init = native::start_init(
            native::namespace_flags(&cfg),
            &plan.bytes,
            cfg.userns.as_ref(),
            cgroup.as_ref(),
            Extras {
                start: Some(start),
                console,
                detach: true,
                ..Extras::default()
            },
        )?;
        record.init = Init::of(init.pid);
        let ready = (|| {
            record.save()?;
            if let Some(adj) = bundle.oom_score_adj {
                std::fs::write(format!("/proc/{}/oom_score_adj", init.pid), adj.to_string())
                    .map_err(|e| Error::io("setting process.oomScoreAdj", e))?;
            }
            await_created(&init.status_rd, &plan, &cfg)?;
            for hook in bundle
                .hooks
                .prestart
                .iter()
                .chain(&bundle.hooks.create_runtime)
            {
                crate::oci::bundle::run_hook(hook, &state_text(&record))?;
            }
            if let Some(f) = req.pid_file {
                crate::state::write_atomic(Path::new(f), init.pid.to_string().as_bytes())?;
            }
            Ok(())
        })();
        if let Err(e) = ready {
            let _ = rustix::process::pidfd_send_signal(&init.pidfd, rustix::process::Signal::KILL);
            super::wait::exited(&init.pidfd, std::time::Duration::from_secs(5));
            return Err(e);
        }
        // From here on the cgroups belong to the record; `delete` removes them.
        if let Some(c) = cgroup {
            record.cgroup = Some(c.keep()?.to_json());
            record.save()?;
        }
        Ok(())
    })();
    if let Err(e) = made {
        let _ = std::fs::remove_dir_all(&dir);
        return Err(e);
    }
    Ok(0)
}

/// The FIFO `start` writes into, opened read-write for init: it never sees an end of file.
fn start_fifo(dir: &Path) -> Result<OwnedFd, Error> {
    let path = dir.join(START_FIFO);
    rustix::fs::mknodat(
        rustix::fs::CWD,
        &path,
        rustix::fs::FileType::Fifo,
        Mode::from_raw_mode(0o600),
        0,
    )
    .map_err(|e| Error::io(format!("creating {}", path.display()), e.into()))?;
    rustix::fs::open(&path, OFlags::RDWR | OFlags::CLOEXEC, Mode::empty())
        .map_err(|e| Error::io(format!("opening {}", path.display()), e.into()))
}

/// Reads init's status pipe until it says the sandbox is set up, or why it is not.
fn await_created(
    status: &OwnedFd,
    plan: &crate::plan::CompiledPlan,
    cfg: &Config,
) -> Result<(), Error> {
    match native::read_status(status) {
        Some(r) if r.step == nucleus_shared::status::Step::Created => Ok(()),
        Some(r) => Err(crate::report::from_record(&r, plan, cfg)),
        None => Err(Error::runtime(
            "nucleus-init ended while setting up the sandbox",
        )),
    }
}

fn state_text(record: &Record) -> String {
    record.oci_state().to_string()
}

/// The configuration of a created sandbox, from the copy of its config.json.
pub fn config_of(record: &Record) -> Result<Config, Error> {
    let systemd = record.launch["systemdCgroup"].as_bool().unwrap_or(false);
    let spec = std::fs::read(record.dir.join(CONFIG_COPY))
        .map_err(|e| Error::io("reading the sandbox's config.json", e))?;
    let spec: serde_json::Value = serde_json::from_slice(&spec)
        .map_err(|e| Error::runtime(format!("the sandbox's config.json: {e}")))?;
    let _ = systemd;
    let caller = crate::oci::bundle::Caller {
        euid: rustix::process::geteuid().as_raw(),
        egid: rustix::process::getegid().as_raw(),
        caps: crate::config::caps::available(),
    };
    let bundle =
        crate::oci::bundle::from_text(Path::new(&record.bundle), &spec.to_string(), caller)?;
    let mut cfg = bundle.config;
    cfg.cgroup.name = record.id.clone();
    Ok(cfg)
}

/// After `start`: the poststart hooks (failures are logged, as the spec says).
pub fn after_start(record: &Record) {
    run_logged(record, |h| &h.poststart);
}

/// After `delete`: the poststop hooks.
pub fn after_delete(record: &Record) {
    run_logged(record, |h| &h.poststop);
}

fn run_logged(
    record: &Record,
    which: impl Fn(&crate::oci::bundle::Hooks) -> &Vec<crate::oci::bundle::Hook>,
) {
    if record.kind != Kind::Oci {
        return;
    }
    let Ok(spec) = std::fs::read(record.dir.join(CONFIG_COPY)) else {
        return;
    };
    let Ok(spec) = serde_json::from_slice::<serde_json::Value>(&spec) else {
        return;
    };
    let Ok(hooks) = crate::oci::bundle::hooks_of(&spec) else {
        return;
    };
    for hook in which(&hooks) {
        if let Err(e) = crate::oci::bundle::run_hook(hook, &state_text(record)) {
            tracing::warn!("{e}");
        }
    }
}
