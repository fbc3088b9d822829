//! Shared helpers of the end-to-end tests, included by each test file with
//! `#[path = "../harness/mod.rs"] mod harness;`.
//!
//! Each test binary uses a different subset of these helpers.
#![allow(dead_code, unused_imports)]

mod host;
mod rootfs;
mod run;
pub mod sys;

use std::path::PathBuf;
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::{SystemTime, UNIX_EPOCH};

pub use host::{
    alive, host_mount_count, host_mount_points, host_mounts_changed, processes_with, wait_until,
};
pub use rootfs::TempRoot;
pub use run::{Outcome, Running, finish, launcher_command, nucleus, spawn};

/// The probe, built by cargo with this package.
pub fn probe() -> PathBuf {
    PathBuf::from(env!("CARGO_BIN_EXE_nucleus-probe"))
}

/// The launcher, built next to the probe by a workspace build.
pub fn launcher() -> PathBuf {
    let path = probe()
        .parent()
        .expect("the probe lives in a target directory")
        .join("nucleus-launch");
    assert!(
        path.is_file(),
        "{} is missing: run `cargo build --workspace` first (or `cargo build --bins`)",
        path.display()
    );
    path
}

/// True (after printing `SKIP: <reason>`) when `missing` names an absent prerequisite; the
/// test then returns early. With NUCLEUS_MUST_WORK=1 (CI) a missing prerequisite fails instead.
pub fn skip(missing: Option<String>) -> bool {
    let Some(reason) = missing else {
        return false;
    };
    if std::env::var("NUCLEUS_MUST_WORK").as_deref() == Ok("1") {
        panic!("prerequisite missing and NUCLEUS_MUST_WORK=1: {reason}");
    }
    eprintln!("SKIP: {reason}");
    true
}

/// Sandboxes need root (namespaces, mounts): `if skip_unless_root() { return; }`.
pub fn skip_unless_root() -> bool {
    skip((!sys::is_root()).then(|| "the end-to-end tests need root".to_owned()))
}

/// A string no other test (or earlier run) uses: for temp names and process markers.
pub fn unique(tag: &str) -> String {
    static COUNTER: AtomicU32 = AtomicU32::new(0);
    let nanos = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.subsec_nanos());
    format!(
        "nucleus-test-{tag}-{}-{}-{nanos}",
        std::process::id(),
        COUNTER.fetch_add(1, Ordering::Relaxed)
    )
}

/// `run OPTS... --rootfs ROOT -- /probe VERB...`, as arguments for the launcher.
pub fn rootfs_args(root: &TempRoot, opts: &[&str], verb: &[&str]) -> Vec<String> {
    let mut args = vec!["run".to_owned()];
    args.extend(opts.iter().map(|s| s.to_string()));
    args.extend([
        "--rootfs".into(),
        root.arg().into(),
        "--".into(),
        "/probe".into(),
    ]);
    args.extend(verb.iter().map(|s| s.to_string()));
    args
}

/// Runs the probe's `verb` in `root` with launcher options `opts`.
pub fn in_rootfs(root: &TempRoot, opts: &[&str], verb: &[&str]) -> Outcome {
    nucleus(rootfs_args(root, opts, verb))
}

/// Runs the probe's `verb` on the embedded default root, the probe bound in at /probe.
pub fn in_default_root(opts: &[&str], verb: &[&str]) -> Outcome {
    let bind = format!("{}:/probe:ro", probe().display());
    let mut args = vec!["run".to_owned(), "-v".into(), bind];
    args.extend(opts.iter().map(|s| s.to_string()));
    args.extend(["--".into(), "/probe".into()]);
    args.extend(verb.iter().map(|s| s.to_string()));
    nucleus(args)
}
