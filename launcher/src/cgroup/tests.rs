//! The cgroup logic against fixture trees laid out like `/sys/fs/cgroup` (v1 and v2), and the
//! v2 mechanics on this host's real unified hierarchy where there is one.

use std::path::{Path, PathBuf};

use super::config::{Limits, Parent, Swap};
use super::id::Launcher;
use super::layout::{Found, Hierarchy, Manager};
use super::report::Level;
use super::*;

/// A temporary tree: `proc/` with one live launcher (`LIVE`), and hierarchies.
struct Tree {
    root: PathBuf,
}

const ME: Launcher = Launcher {
    pid: 4242,
    start: 777,
};
const LIVE: Launcher = Launcher {
    pid: 100,
    start: 5000,
};

impl Tree {
    fn new(tag: &str) -> Self {
        let root = std::env::temp_dir().join(format!(
            "nucleus-cgroup-{tag}-{}-{:?}",
            std::process::id(),
            std::thread::current().id()
        ));
        let _ = std::fs::remove_dir_all(&root);
        for (pid, start) in [(LIVE.pid, LIVE.start), (ME.pid, ME.start)] {
            let dir = root.join(format!("proc/{pid}"));
            std::fs::create_dir_all(&dir).unwrap();
            let stat =
                format!("{pid} (nucleus-launch) S 1 1 1 0 -1 0 0 0 0 0 0 0 0 0 20 0 1 0 {start} 0");
            std::fs::write(dir.join("stat"), stat).unwrap();
        }
        Tree { root }
    }

    fn path(&self, rel: &str) -> PathBuf {
        self.root.join(rel)
    }

    fn file(&self, rel: &str, content: &str) {
        let p = self.path(rel);
        std::fs::create_dir_all(p.parent().unwrap()).unwrap();
        std::fs::write(p, content).unwrap();
    }

    fn read(&self, rel: &str) -> String {
        std::fs::read_to_string(self.path(rel)).unwrap_or_else(|e| panic!("{rel}: {e}"))
    }

    /// v1 hierarchies at `v1/<controller>`, our own cgroup at their root but for memory
    /// (`v1/memory/process_api/x`, as on this project's VM).
    fn v1(&self) -> Found {
        let v1 = [
            "pids", "memory", "cpu", "cpuacct", "blkio", "devices", "freezer",
        ]
        .iter()
        .map(|c| {
            let mount = self.path(&format!("v1/{c}"));
            let own = if *c == "memory" {
                mount.join("process_api/x")
            } else {
                mount.clone()
            };
            std::fs::create_dir_all(&own).unwrap();
            Hierarchy {
                controllers: vec![(*c).to_owned()],
                own,
                mount,
            }
        })
        .collect();
        Found {
            v1,
            v2: None,
            v2_is_primary: false,
        }
    }

    /// A unified hierarchy at `v2/` (our own cgroup at its root) offering `controllers`; the
    /// `nucleus` parent as the kernel shows it once they are enabled.
    fn v2(&self, controllers: &str) -> Found {
        self.file("v2/cgroup.controllers", controllers);
        self.file("v2/cgroup.subtree_control", "");
        self.file("v2/nucleus/cgroup.controllers", controllers);
        self.file("v2/nucleus/cgroup.subtree_control", "");
        self.file("v2/nucleus/memory.swap.max", "max");
        let mount = self.path("v2");
        Found {
            v1: Vec::new(),
            v2: Some(Hierarchy {
                controllers: Vec::new(),
                own: mount.clone(),
                mount,
            }),
            v2_is_primary: true,
        }
    }

    fn setup(&self, s: &Settings, found: &Found) -> Result<(Option<Sandbox>, Report), Error> {
        setup_in(s, found, ME, &self.path("proc"), true)
    }
}

impl Drop for Tree {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.root);
    }
}

fn settings(name: &str, limits: Limits) -> Settings {
    Settings {
        name: name.to_owned(),
        named: true,
        manager: Manager::Auto,
        parent: Parent::default(),
        exact: None,
        detached: false,
        require: false,
        limits,
    }
}

fn limits() -> Limits {
    Limits {
        memory: Some(64 << 20),
        swap: Swap::Off,
        cpu_quota_us: Some(50_000),
        nano_cpus: Some(500_000_000),
        cpu_shares: Some(512),
        pids: Some(50),
        pids_explicit: true,
        ..Limits::default()
    }
}

/// Empties every cgroup.procs of `sb` (they hold made-up pids) so that ending it kills nothing.
fn forget_pids(sb: &Sandbox) {
    for d in sb.dirs() {
        std::fs::write(d.path.join("cgroup.procs"), "").unwrap();
    }
}

#[test]
fn v1_directories_limits_and_attach() {
    let t = Tree::new("v1");
    let found = t.v1();
    // What the kernel offers in the memory parent: swap accounting.
    t.file(
        "v1/memory/process_api/x/nucleus/memory.memsw.limit_in_bytes",
        "",
    );
    let (sb, report) = t.setup(&settings("box", limits()), &found).unwrap();
    let sb = sb.unwrap();
    assert_eq!(sb.version(), Version::V1);
    assert!(sb.clone_into().is_none());
    let dir = id::dir_name("box", ME);
    let order: Vec<String> = sb.dirs().iter().map(|d| d.controllers.join(",")).collect();
    assert_eq!(
        order,
        [
            "pids", "memory", "freezer", "cpu", "cpuacct", "blkio", "devices"
        ]
    );
    assert_eq!(t.read(&format!("v1/pids/nucleus/{dir}/pids.max")), "50");
    let mem = format!("v1/memory/process_api/x/nucleus/{dir}");
    assert_eq!(t.read(&format!("{mem}/memory.limit_in_bytes")), "67108864");
    assert_eq!(
        t.read(&format!("{mem}/memory.memsw.limit_in_bytes")),
        "67108864"
    );
    assert_eq!(
        t.read(&format!("v1/cpu/nucleus/{dir}/cpu.cfs_quota_us")),
        "50000"
    );
    assert_eq!(
        t.read(&format!("v1/cpu/nucleus/{dir}/cpu.cfs_period_us")),
        "100000"
    );
    assert_eq!(t.read(&format!("v1/cpu/nucleus/{dir}/cpu.shares")), "512");
    assert_eq!(
        t.read(&format!("v1/devices/nucleus/{dir}/devices.deny")),
        "a"
    );
    // The fixture keeps only the last of the allow rules written.
    assert_eq!(
        t.read(&format!("v1/devices/nucleus/{dir}/devices.allow")),
        "c 136:* rwm"
    );
    assert_eq!(
        report.enforced,
        [
            "pids 50",
            "memory 64 MiB",
            "swap off",
            "cpus 0.5",
            "cpu shares 512",
            "devices limited to the minimal /dev"
        ]
    );
    assert_eq!(report.level(), Level::Debug, "{}", report.summary());

    // init's clone child joins through each hierarchy's tasks file.
    for d in sb.dirs() {
        std::fs::write(d.path.join("tasks"), "").unwrap();
    }
    assert_eq!(sb.join_files().unwrap().len(), 7);
    let record = |op| nucleus_shared::status::StatusRecord {
        step: nucleus_shared::status::Step::ExecInit,
        op,
        errno: libc::ENOSPC as u32,
    };
    let e = sb.join_error(&record(1)).unwrap().to_string();
    assert!(e.starts_with("placing nucleus-init in the cgroup "), "{e}");
    assert!(e.contains("/v1/memory/process_api/x/nucleus/"), "{e}");
    assert!(
        sb.join_error(&record(nucleus_shared::status::StatusRecord::NO_OP))
            .is_none()
    );
    forget_pids(&sb);
    std::fs::write(
        t.path(&format!("{mem}/memory.oom_control")),
        "oom_kill_disable 0\nunder_oom 0\noom_kill 1\n",
    )
    .unwrap();
    let ending = sb.finish();
    assert_eq!(
        ending,
        Ending {
            oom_kills: 1,
            memory_limit: Some(64 << 20)
        }
    );
    assert_eq!(
        ending.oom_message(137).unwrap(),
        "killed: out of memory (limit 64 MiB)"
    );
    assert!(
        ending
            .oom_message(0)
            .unwrap()
            .starts_with("warning: 1 process of")
    );
    assert_eq!(
        Ending {
            oom_kills: 0,
            memory_limit: None
        }
        .oom_message(137),
        None
    );
}

#[test]
fn v1_stale_directories_and_names() {
    let t = Tree::new("v1-stale");
    let found = t.v1();
    let stale = id::dir_name(
        "old",
        Launcher {
            pid: 999_999,
            start: 1,
        },
    );
    let live = id::dir_name("web", LIVE);
    for h in &found.v1 {
        std::fs::create_dir_all(h.own.join("nucleus").join(&stale)).unwrap();
        std::fs::create_dir_all(h.own.join("nucleus").join(&live)).unwrap();
    }
    let e = t
        .setup(&settings("web", Limits::default()), &found)
        .unwrap_err();
    assert!(
        e.to_string()
            .contains("a sandbox named web is already running"),
        "{e}"
    );
    let (sb, _) = t
        .setup(&settings("web2", Limits::default()), &found)
        .unwrap();
    for h in &found.v1 {
        assert!(!h.own.join("nucleus").join(&stale).exists());
        assert!(h.own.join("nucleus").join(&live).exists());
    }
    // `stats` finds the live one by its id.
    let (v, dirs) = find(
        &found,
        Manager::V1,
        &Parent::default(),
        "web",
        &t.path("proc"),
    )
    .unwrap();
    assert_eq!(v, Version::V1);
    assert_eq!(dirs.len(), 7);
    assert!(
        find(
            &found,
            Manager::V1,
            &Parent::default(),
            "nope",
            &t.path("proc")
        )
        .is_err()
    );
    drop(sb);
}

#[test]
fn missing_hierarchies_are_reported_by_what_they_would_enforce() {
    let t = Tree::new("v1-missing");
    let mut found = t.v1();
    found
        .v1
        .retain(|h| !h.has("cpu") && !h.has("devices") && !h.has("pids"));
    let (sb, report) = t.setup(&settings("m", limits()), &found).unwrap();
    let missing: Vec<(&str, bool)> = report
        .missing
        .iter()
        .map(|m| (m.item.what.as_str(), m.item.explicit))
        .collect();
    assert_eq!(
        missing,
        [
            ("--pids-limit 50", true),
            ("--cpus 0.5", true),
            ("--cpu-shares 512", true),
            ("the device list of the minimal /dev", false),
        ]
    );
    assert_eq!(report.level(), Level::Warn);
    assert!(
        report
            .summary()
            .contains("--cpus 0.5 (no such v1 controller is mounted)")
    );
    drop(sb);

    // No hierarchy at all: nothing is made; only defaults missing is worth an info line.
    let (sb, report) = t
        .setup(&settings("n", Limits::default()), &Found::default())
        .unwrap();
    assert!(sb.is_none());
    assert_eq!(report.version, None);
    assert_eq!(report.level(), Level::Info);
    assert!(
        report
            .summary()
            .contains("the default pids limit (1024) (no cgroup file system is mounted)")
    );
    assert!(report.refusal().is_some());
}

#[test]
fn manager_none_makes_nothing() {
    let t = Tree::new("none");
    let found = t.v1();
    let s = Settings {
        manager: Manager::None,
        ..settings("z", Limits::default())
    };
    let (sb, report) = t.setup(&s, &found).unwrap();
    assert!(sb.is_none());
    assert!(report.off);
    assert_eq!(report.refusal(), None);
    assert!(!t.path("v1/pids/nucleus").exists());
}

#[test]
fn v2_controllers_limits_and_clone_into() {
    let t = Tree::new("v2");
    let found = t.v2("cpuset cpu io memory hugetlb pids");
    let l = Limits {
        blkio_weight: Some(500),
        swap: Swap::Total(96 << 20),
        ..limits()
    };
    let (sb, report) = t.setup(&settings("box", l), &found).unwrap();
    let sb = sb.unwrap();
    assert_eq!(sb.version(), Version::V2);
    assert!(sb.clone_into().is_some());
    assert_eq!(sb.dirs()[0].controllers, ["memory", "pids", "cpu", "io"]);
    let dir = format!("v2/nucleus/{}", id::dir_name("box", ME));
    assert_eq!(t.read(&format!("{dir}/memory.max")), "67108864");
    assert_eq!(t.read(&format!("{dir}/memory.swap.max")), "33554432");
    assert_eq!(t.read(&format!("{dir}/pids.max")), "50");
    assert_eq!(t.read(&format!("{dir}/cpu.max")), "50000 100000");
    assert_eq!(t.read(&format!("{dir}/cpu.weight")), "59");
    // The nucleus parent offers no io weight file: reported, not fatal.
    assert_eq!(report.level(), Level::Warn);
    assert!(
        report
            .summary()
            .contains("--blkio-weight 500 (no proportional IO scheduler")
    );
    assert!(
        report
            .summary()
            .contains("devices not restricted by the cgroup")
    );
    // init is born in the cgroup: nothing to join, no failure to explain.
    let record = nucleus_shared::status::StatusRecord {
        step: nucleus_shared::status::Step::ExecInit,
        op: 0,
        errno: 1,
    };
    assert!(sb.join_error(&record).is_none());
    t.file(
        &format!("{dir}/memory.events"),
        "low 0\nhigh 0\nmax 3\noom 1\noom_kill 1\n",
    );
    assert_eq!(sb.finish().oom_kills, 1);
}

#[test]
fn v2_controllers_missing_from_the_parent() {
    let t = Tree::new("v2-missing");
    let found = t.v2("cpuset cpu io hugetlb");
    let (sb, report) = t.setup(&settings("c", Limits::default()), &found).unwrap();
    let sb = sb.unwrap();
    assert!(sb.dirs()[0].controllers.is_empty());
    assert_eq!(report.level(), Level::Info);
    assert!(
        report
            .summary()
            .contains("the default pids limit (1024) (the pids controller is not available in"),
        "{}",
        report.summary()
    );
    let s = Settings {
        require: true,
        ..settings("d", Limits::default())
    };
    let (_, report) = t.setup(&s, &found).unwrap();
    assert!(report.refusal().unwrap().contains("pids"));
    drop(sb);
}

/// The v2 mechanics on this host's unified hierarchy (on hybrid hosts it holds no
/// controller, so this is creation, `cgroup.events`, `cgroup.kill` and removal): root only.
#[test]
fn real_unified_hierarchy_kill_and_removal() {
    let found = Found::probe();
    if found.v2.is_none() {
        eprintln!("SKIP: no cgroup2 mount");
        return;
    }
    if !rustix::process::geteuid().is_root() {
        eprintln!("SKIP: needs root");
        return;
    }
    let s = Settings {
        manager: Manager::V2,
        ..settings(&format!("unit-{}", id::generate()), Limits::default())
    };
    let (sb, report) = setup_in(&s, &found, Launcher::current(), Path::new("/proc"), true).unwrap();
    let Some(sb) = sb else {
        eprintln!("SKIP: no v2 cgroup could be made: {}", report.summary());
        return;
    };
    let dir = sb.dirs()[0].path.clone();
    assert!(dir.is_dir());
    assert!(!v2::populated(&dir));
    let mut child = std::process::Command::new("sleep")
        .arg("30")
        .spawn()
        .unwrap();
    fs::write(&dir.join("cgroup.procs"), &child.id().to_string()).unwrap();
    assert!(v2::populated(&dir));
    let ending = sb.finish();
    assert_eq!(ending.oom_kills, 0);
    use std::os::unix::process::ExitStatusExt;
    assert_eq!(child.wait().unwrap().signal(), Some(libc::SIGKILL));
    assert!(!dir.exists());
}
