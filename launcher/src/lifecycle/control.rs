//! `start`, `kill`, `stop` and `delete` (`rm`).

use std::time::Duration;

use rustix::fs::{Mode, OFlags};

use super::wait;
use crate::error::Error;
use crate::state::{Kind, Lock, Record, Root, START_FIFO, Status, signal_number};

fn not_in(record: &Record, status: Status, what: &str) -> Error {
    Error::usage(format!(
        "sandbox {:?} is {}: {what}",
        record.id,
        status.name()
    ))
}

/// OCI `start`: lets a created sandbox's init go on to the workload.
pub fn start(root: &Root, id: &str) -> Result<i32, Error> {
    let (_lock, record) = root.load_locked(id)?;
    let status = record.status();
    if status != Status::Created {
        return Err(not_in(
            &record,
            status,
            "only a created sandbox can be started",
        ));
    }
    let fifo = record.dir.join(START_FIFO);
    // Non-blocking: with init gone there is no reader, and this fails instead of hanging.
    let fd = rustix::fs::open(
        &fifo,
        OFlags::WRONLY | OFlags::NONBLOCK | OFlags::CLOEXEC,
        Mode::empty(),
    )
    .map_err(|e| {
        Error::io(
            format!("starting sandbox {id:?}: opening {}", fifo.display()),
            e.into(),
        )
    })?;
    rustix::io::write(&fd, b"s")
        .map_err(|e| Error::io(format!("starting sandbox {id:?}"), e.into()))?;
    drop(fd);
    let _ = std::fs::remove_file(&fifo);
    super::create::after_start(&record);
    Ok(0)
}

/// `kill ID [SIGNAL]`: to init, which forwards it to the workload; `--all`: to every process in
/// the sandbox's cgroups.
pub fn kill(root: &Root, id: &str, signal: &str, all: bool) -> Result<i32, Error> {
    // 0 checks that there is something to signal, as kill(2) and runc do.
    let sig = if signal == "0" {
        0
    } else {
        signal_number(signal)?
    };
    let record = root.load(id)?;
    let status = record.status();
    if !matches!(status, Status::Created | Status::Running) {
        return Err(not_in(&record, status, "there is nothing to signal"));
    }
    if sig == 0 {
        return Ok(0);
    }
    if all && let Some(cg) = &record.cgroup {
        super::cgroups::signal_all(cg, sig);
    }
    signal_init(&record, sig)?;
    Ok(0)
}

fn signal_init(record: &Record, sig: i32) -> Result<(), Error> {
    let Some(pidfd) = record.init.as_ref().and_then(|i| i.pidfd()) else {
        // Ended between the check and now: nothing to signal, which is what was wanted.
        return Ok(());
    };
    crate::sys::signals::send_any(&pidfd, sig)
        .map_err(|e| Error::io(format!("signalling sandbox {:?}", record.id), e))
}

/// `stop ID [-t SECONDS]`: the stop signal (TERM, or the image's), then KILL.
pub fn stop(root: &Root, id: &str, seconds: u32) -> Result<i32, Error> {
    // A start in progress is let through to its init, which is then stopped.
    let (lock, record) = settled(root, id, true)?;
    drop(lock);
    let status = record.status();
    if !matches!(status, Status::Created | Status::Running) {
        // As docker: stopping a stopped sandbox succeeds.
        return Ok(0);
    }
    let init = record
        .init
        .expect("a created or running sandbox has an init");
    let sig = record
        .annotations
        .get("org.opencontainers.image.stopSignal")
        .and_then(|v| v.as_str())
        .map(signal_number)
        .transpose()?
        .unwrap_or(libc::SIGTERM);
    signal_init(&record, sig)?;
    if !wait::gone(&init, Duration::from_secs(u64::from(seconds))) {
        kill_hard(&record);
        if !wait::gone(&init, Duration::from_secs(10)) {
            return Err(Error::runtime(format!(
                "sandbox {id:?} did not end after SIGKILL"
            )));
        }
    }
    wait_for_monitor(&record);
    Ok(0)
}

fn kill_hard(record: &Record) {
    if let Some(cg) = &record.cgroup {
        super::cgroups::signal_all(cg, libc::SIGKILL);
    }
    let _ = signal_init(record, libc::SIGKILL);
}

/// A detached sandbox's monitor records the end and removes the cgroups: let it finish.
fn wait_for_monitor(record: &Record) {
    if record.kind == Kind::Detached {
        wait::gone(&record.creator, Duration::from_secs(10));
    }
}

/// The record under its lock; with `wait_start`, once a start in progress has got as far as
/// recording its init (there is nothing to signal before), at most 10 s.
fn settled(root: &Root, id: &str, wait_start: bool) -> Result<(Lock, Record), Error> {
    let deadline = std::time::Instant::now() + Duration::from_secs(10);
    loop {
        let (lock, record) = root.load_locked(id)?;
        if !wait_start
            || record.status() != Status::Creating
            || std::time::Instant::now() > deadline
        {
            return Ok((lock, record));
        }
        // The starting command records the init under this lock: let it.
        drop(lock);
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// `delete [--force] ID` / `rm`.
pub fn delete(root: &Root, id: &str, force: bool) -> Result<i32, Error> {
    let (lock, record) = match settled(root, id, force) {
        Ok(r) => r,
        // As runc: a forced delete of what is not there (a create that failed) succeeds; a
        // directory left without its record by a killed create goes too.
        Err(_) if force && !root.sandbox_dir(id)?.join("state.json").exists() => {
            let _ = std::fs::remove_dir_all(root.sandbox_dir(id)?);
            return Ok(0);
        }
        Err(e) => return Err(e),
    };
    let status = record.status();
    match status {
        Status::Running | Status::Creating if !force => {
            return Err(not_in(&record, status, "stop it first, or use --force"));
        }
        Status::Stopped => {}
        // A created sandbox never ran its workload: runc deletes it without --force too.
        Status::Created | Status::Running | Status::Creating => {
            kill_hard(&record);
            if let Some(init) = &record.init
                && !wait::gone(init, Duration::from_secs(10))
            {
                return Err(Error::runtime(format!(
                    "sandbox {id:?} did not end after SIGKILL"
                )));
            }
        }
    }
    drop(lock);
    wait_for_monitor(&record);
    // A detached sandbox's monitor has removed them, unless it was killed.
    if let Some(cg) = &record.cgroup {
        super::cgroups::remove(cg);
    }
    if record.kind == Kind::Oci {
        super::create::after_delete(&record);
    }
    std::fs::remove_dir_all(&record.dir)
        .map_err(|e| Error::io(format!("removing {}", record.dir.display()), e))?;
    Ok(0)
}
