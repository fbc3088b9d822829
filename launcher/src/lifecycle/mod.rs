//! Sandboxes that outlive one command: docker's detached runs and the OCI runtime's
//! create/start/kill/delete, on one state directory (`crate::state`).

mod cgroups;
pub mod cli;
mod control;
mod create;
mod detach;
mod exec;
mod features;
mod list;
mod logs;
mod wait;

use cli::{Global, Lifecycle};

use crate::error::Error;
use crate::state::Root;

/// Runs one lifecycle command; returns the launcher's exit code.
pub fn dispatch(cmd: Lifecycle, global: &Global) -> Result<i32, Error> {
    let root = Root::new(global.root.as_deref())?;
    match cmd {
        Lifecycle::Create {
            id,
            bundle,
            pid_file,
            console_socket,
        } => create::create(
            &root,
            &create::Request {
                id: &id,
                bundle: &bundle,
                pid_file: pid_file.as_deref(),
                console_socket: console_socket.as_deref(),
                systemd_cgroup: global.systemd_cgroup,
            },
        ),
        Lifecycle::Start(id) => control::start(&root, &id),
        Lifecycle::State(id) => list::state(&root, &id),
        Lifecycle::Kill { id, signal, all } => control::kill(&root, &id, &signal, all),
        Lifecycle::Delete { id, force } => control::delete(&root, &id, force),
        Lifecycle::Stop { id, seconds } => control::stop(&root, &id, seconds),
        Lifecycle::List { json, quiet } => list::list(&root, json, quiet),
        Lifecycle::Logs { id, follow } => logs::print(&root, &id, follow),
        Lifecycle::Exec(args) => exec::exec(&root, &args),
        Lifecycle::Features => features::print(),
        Lifecycle::Monitor(id) => detach::monitor(&root, &id),
    }
}

pub use detach::run_detached;

/// `stats ID`: a sandbox of the state directory through its recorded cgroups (an OCI one may
/// live anywhere `linux.cgroupsPath` put it); any other by its id below the cgroup parent.
pub fn stats(a: &crate::cgroup::cli::StatsArgs, global: &Global) -> Result<i32, Error> {
    let root = Root::new(global.root.as_deref())?;
    let recorded = crate::state::check_id(&a.id)
        .ok()
        .and_then(|_| root.load(&a.id).ok())
        .and_then(|r| r.cgroup);
    let Some(record) = recorded else {
        return crate::cgroup::stats::run(a);
    };
    let stats = crate::cgroup::stats_for_record(&record)?;
    if a.json {
        println!("{}", stats.json());
    } else {
        print!("{}", stats.table());
    }
    Ok(0)
}
