//! `doctor`'s gVisor lines: runsc's version and platforms, and whether a sandbox starts here.
//!
//! Whether one starts is only known by starting one (about 0.2 s): a static program (the
//! launcher itself, `--version`) in an otherwise empty root, on the default platform, with a
//! deadline. The answer is kept beside runsc's cached facts, keyed by the binary, the
//! platform and the boot (`/proc/sys/kernel/random/boot_id`), so `doctor` stays fast after
//! the first time; a new runsc or a reboot asks again. KVM is never tried: under nested
//! virtualisation its start can hang.

use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use serde_json::{Value, json};

use super::runsc::{self, Info};
use super::select::Platform;
use crate::doctor::Check;

/// How long the trial start may take before it counts as hanging.
const TRIAL_DEADLINE: Duration = Duration::from_secs(20);

fn check(name: &'static str, status: &'static str, detail: String, meaning: &'static str) -> Check {
    Check {
        name,
        status,
        detail,
        meaning,
    }
}

/// The gVisor checks, in report order.
pub fn checks() -> Vec<Check> {
    let found = runsc::find(&|k: &str| std::env::var(k).ok());
    let base = super::rundir::ensure_base();
    let info = found.and_then(|p| Info::load(&p, base.as_deref()));
    let info = match info {
        Ok(i) => i,
        Err(e) => {
            return vec![check(
                "gVisor runsc",
                "missing",
                e.to_string(),
                "no --runtime gvisor; --runtime auto runs untrusted workloads on the native backend",
            )];
        }
    };
    let mut out = vec![check(
        "gVisor runsc",
        "ok",
        format!("{} (version {})", info.path.display(), info.version),
        "no --runtime gvisor; --runtime auto runs untrusted workloads on the native backend",
    )];
    let default = runsc::platform(&info, None).ok();
    let platforms: Vec<String> = Platform::ALL
        .iter()
        .map(|&p| {
            let state = if !info.has(p) {
                "not in this runsc".to_owned()
            } else if let Some(why) = runsc::unusable(&info, p) {
                why
            } else if p == Platform::Kvm {
                "/dev/kvm present; never chosen by default (a start can hang under nested virtualisation): --gvisor-platform kvm".to_owned()
            } else if Some(p) == default {
                "usable (default)".to_owned()
            } else {
                "usable".to_owned()
            };
            format!("{}: {state}", p.name())
        })
        .collect();
    out.push(check(
        "gVisor platforms",
        if default.is_some() { "ok" } else { "missing" },
        platforms.join("; "),
        "--runtime gvisor needs --gvisor-platform kvm here, which may hang",
    ));
    out.push(match default {
        None => check(
            "gVisor start",
            "missing",
            "no default platform to try".into(),
            "--runtime gvisor cannot start here",
        ),
        Some(p) => {
            let (ok, detail) = trial_cached(&info, p, base.as_deref());
            check(
                "gVisor start",
                if ok { "ok" } else { "missing" },
                detail,
                "--runtime gvisor fails here (see the detail; `--log-level debug` on a run shows runsc's arguments)",
            )
        }
    });
    out
}

fn trial_key(info: &Info, p: Platform) -> Value {
    let meta = std::fs::metadata(&info.path).ok();
    json!({
        "runsc": info.path.display().to_string(),
        "version": info.version,
        "mtime": meta.map(|m| std::os::unix::fs::MetadataExt::mtime(&m)),
        "platform": p.name(),
        "boot": std::fs::read_to_string("/proc/sys/kernel/random/boot_id").unwrap_or_default().trim(),
    })
}

/// The trial's answer from the cache, else from a trial (remembered when it succeeded).
fn trial_cached(info: &Info, p: Platform, base: Option<&Path>) -> (bool, String) {
    let key = trial_key(info, p);
    let file = base.map(|b| b.join("runsc-trial.json"));
    let cached = file
        .as_deref()
        .and_then(|f| std::fs::read_to_string(f).ok())
        .and_then(|t| serde_json::from_str::<Value>(&t).ok())
        .filter(|v| v["key"] == key);
    if let Some(v) = cached {
        let ok = v["ok"].as_bool().unwrap_or(false);
        return (
            ok,
            format!(
                "{} (tried once since boot)",
                v["detail"].as_str().unwrap_or_default()
            ),
        );
    }
    // The trial runs the launcher binary itself, which a unit test's binary is not.
    if cfg!(test) {
        return (false, "not tried in unit tests".into());
    }
    if !rustix::process::geteuid().is_root() {
        return (false, "not tried: runsc runs sandboxes as root".into());
    }
    let (ok, detail) = match trial(info, p) {
        Ok(took) => (
            true,
            format!(
                "a sandbox started and exited on {} in {} ms",
                p.name(),
                took.as_millis()
            ),
        ),
        Err(why) => (false, format!("{}: {why}", p.name())),
    };
    // Only a success is remembered: a failure is tried again, once its cause may be fixed.
    if let Some(f) = file.filter(|_| ok) {
        let _ = std::fs::write(
            f,
            json!({"key": key, "ok": ok, "detail": detail}).to_string(),
        );
    }
    (ok, detail)
}

/// Starts the launcher's own static binary (`--version`) under runsc on platform `p`.
fn trial(info: &Info, p: Platform) -> Result<Duration, String> {
    let exe = std::env::current_exe().map_err(|e| e.to_string())?;
    let dir = super::rundir::RunDir::create("doctor").map_err(|e| e.to_string())?;
    let bundle = dir.path();
    let root = bundle.join("rootfs");
    let target = root.join("nucleus-launch");
    std::fs::create_dir_all(&root)
        .and_then(|()| std::fs::write(&target, b""))
        .map_err(|e| e.to_string())?;
    let spec = json!({
        "ociVersion": "1.0.2",
        "process": {
            "terminal": false,
            "user": {"uid": 0, "gid": 0},
            "args": ["/nucleus-launch", "--version"],
            "env": ["PATH=/"],
            "cwd": "/",
            "noNewPrivileges": true,
        },
        "root": {"path": root.display().to_string(), "readonly": true},
        "hostname": "nucleus-doctor",
        "mounts": [
            {"destination": "/proc", "type": "proc", "source": "proc"},
            {"destination": "/nucleus-launch", "type": "bind", "source": exe.display().to_string(), "options": ["rbind", "ro"]},
        ],
        "linux": {"namespaces": [{"type": "pid"}, {"type": "ipc"}, {"type": "uts"}, {"type": "mount"}, {"type": "network"}]},
    });
    std::fs::write(bundle.join("config.json"), spec.to_string()).map_err(|e| e.to_string())?;
    let log = dir.log();
    let flags = runsc::Flags {
        state: bundle,
        platform: p,
        network: crate::config::Network::None,
        seccomp: false,
        log: &log,
        net_raw: false,
    };
    let started = Instant::now();
    let mut cmd = Command::new(&info.path);
    cmd.args(runsc::run_args(&flags, bundle, "nucleus-doctor"))
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::null());
    crate::sys::child::tie_to_launcher(&mut cmd, Vec::new());
    let mut child = cmd.spawn().map_err(|e| e.to_string())?;
    let status = loop {
        match child.try_wait() {
            Ok(Some(st)) => break st,
            Ok(None) if started.elapsed() > TRIAL_DEADLINE => {
                let _ = child.kill();
                let _ = child.wait();
                return Err(format!(
                    "no answer within {} s: the platform hangs here",
                    TRIAL_DEADLINE.as_secs()
                ));
            }
            Ok(None) => std::thread::sleep(Duration::from_millis(5)),
            Err(e) => return Err(e.to_string()),
        }
    };
    let took = started.elapsed();
    let out = child
        .wait_with_output()
        .map(|o| String::from_utf8_lossy(&o.stdout).into_owned())
        .unwrap_or_default();
    if status.success() && out.starts_with("nucleus-launch") {
        Ok(took)
    } else {
        Err(runsc::last_error(&log).unwrap_or_else(|| format!("runsc exited with {status}")))
    }
}
