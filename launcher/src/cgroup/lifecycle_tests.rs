//! Cgroups that outlive the launcher: exact paths (`linux.cgroupsPath`), keeping, the record's
//! round trip and `delete`, on fixture trees and on this host's real hierarchies (as root; the
//! real tests work below cgroups of their own, removed at the end, and skip where they cannot).

use super::kept::Kept;
use std::os::unix::process::ExitStatusExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command};
use std::time::{Duration, Instant};

use serde_json::Value;

use super::config::{Limits, Parent};
use super::id::Launcher;
use super::layout::{Found, Hierarchy, Manager};
use super::path::CgroupPath;
use super::*;

const ME: Launcher = Launcher {
    pid: 4242,
    start: 777,
};

fn trust_all(_: &Path) -> bool {
    true
}

fn settings(name: &str) -> Settings {
    Settings {
        name: name.to_owned(),
        named: true,
        manager: Manager::Auto,
        parent: Parent::default(),
        exact: None,
        detached: false,
        require: false,
        limits: Limits::default(),
    }
}

fn exact(raw: &str, systemd: bool) -> Settings {
    Settings {
        exact: Some(CgroupPath::parse(raw, systemd).unwrap()),
        ..settings("oci")
    }
}

/// A fixture tree: v1 hierarchies or a unified one, and an empty /proc.
struct Tree {
    root: PathBuf,
}

impl Tree {
    fn new(tag: &str) -> Self {
        let root =
            std::env::temp_dir().join(format!("nucleus-cgroup-life-{tag}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&root);
        std::fs::create_dir_all(root.join("proc")).unwrap();
        Tree { root }
    }

    fn path(&self, rel: &str) -> PathBuf {
        self.root.join(rel)
    }

    fn v1(&self) -> Found {
        let v1 = ["pids", "memory", "freezer"]
            .iter()
            .map(|c| {
                let mount = self.path(&format!("v1/{c}"));
                let own = mount.join("own");
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

    fn v2(&self) -> Found {
        let mount = self.path("v2");
        std::fs::create_dir_all(&mount).unwrap();
        std::fs::write(mount.join("cgroup.controllers"), "cpu memory pids").unwrap();
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

    fn setup(&self, s: &Settings, found: &Found) -> Result<Option<Sandbox>, Error> {
        setup_in(s, found, ME, &self.path("proc"), true).map(|(sb, _)| sb)
    }

    /// What the kernel's rmdir of a cgroup ignores: its files. Deleted so that the fixture's
    /// rmdir behaves alike.
    fn strip_files(&self) {
        let mut todo = vec![self.path("v1"), self.path("v2")];
        while let Some(d) = todo.pop() {
            let Ok(entries) = std::fs::read_dir(&d) else {
                continue;
            };
            for e in entries.flatten() {
                if e.file_type().unwrap().is_dir() {
                    todo.push(e.path());
                } else {
                    std::fs::remove_file(e.path()).unwrap();
                }
            }
        }
    }
}

impl Drop for Tree {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.root);
    }
}

/// The record as it comes back from a state file.
fn round_trip(k: &Kept) -> Value {
    let text = k.to_json().to_string();
    let v: Value = serde_json::from_str(&text).unwrap();
    assert_eq!(&Kept::from_json(&v).unwrap(), k, "{text}");
    v
}

#[test]
fn exact_path_makes_its_levels_and_removes_only_those() {
    let t = Tree::new("exact-v1");
    let found = t.v1();
    // `pre` was there before (the machine's); `mid` is made for the sandbox.
    for c in ["pids", "memory", "freezer"] {
        std::fs::create_dir(t.path(&format!("v1/{c}/pre"))).unwrap();
    }
    let s = Settings {
        limits: Limits {
            memory: Some(64 << 20),
            ..Limits::default()
        },
        ..exact("/pre/mid/box", false)
    };
    let sb = t.setup(&s, &found).unwrap().unwrap();
    let paths: Vec<PathBuf> = sb.dirs().iter().map(|d| d.path.clone()).collect();
    assert_eq!(
        paths,
        ["pids", "memory", "freezer"].map(|c| t.path(&format!("v1/{c}/pre/mid/box")))
    );
    let kept = sb.keep().unwrap();
    assert_eq!(
        kept.created,
        ["pids", "memory", "freezer"].map(|c| t.path(&format!("v1/{c}/pre/mid")))
    );
    assert!(kept.adopted.is_empty());
    assert_eq!(kept.memory_limit, Some(64 << 20));
    let record = round_trip(&kept);
    assert_eq!(record["version"], "v1");
    assert_eq!(record["dirs"][0]["created"], true);
    // Nothing was removed when the Sandbox went.
    assert!(paths.iter().all(|p| p.is_dir()));

    t.strip_files();
    let ending = Kept::from_json(&record)
        .unwrap()
        .remove(&trust_all)
        .unwrap();
    assert_eq!(ending.memory_limit, Some(64 << 20));
    for c in ["pids", "memory", "freezer"] {
        assert!(!t.path(&format!("v1/{c}/pre/mid")).exists(), "{c}");
        assert!(t.path(&format!("v1/{c}/pre")).is_dir(), "{c}: pre removed");
    }
    // A second delete finds nothing left and is fine.
    Kept::from_json(&record)
        .unwrap()
        .remove(&trust_all)
        .unwrap();
}

#[test]
fn oom_count_and_failures_of_delete() {
    let t = Tree::new("oom");
    let found = t.v2();
    let s = Settings {
        detached: true,
        ..settings("oomy")
    };
    let sb = t.setup(&s, &found).unwrap().unwrap();
    let dir = sb.dirs()[0].path.clone();
    let kept = sb.keep().unwrap();
    t.strip_files();
    std::fs::write(dir.join("memory.events"), "oom_kill 3\n").unwrap();
    assert_eq!(kept.clone().into_sandbox().ending().oom_kills, 3);
    // The fixture's rmdir refuses while a file is there, as the kernel's would while a process
    // is left: `delete` says which cgroup it could not remove.
    let e = kept.clone().remove(&trust_all).unwrap_err().to_string();
    assert!(
        e.starts_with(&format!("could not remove the cgroup {}: ", dir.display())),
        "{e}"
    );
    std::fs::remove_file(dir.join("memory.events")).unwrap();
    assert_eq!(kept.remove(&trust_all).unwrap().oom_kills, 0);
    assert!(!dir.exists());
    // The shared parent stays.
    assert!(t.path("v2/nucleus").is_dir());
}

#[test]
fn an_exact_dir_in_use_is_refused_an_empty_one_used_and_left() {
    let t = Tree::new("adopt");
    let found = t.v2();
    let box_dir = t.path("v2/pods/box");
    std::fs::create_dir_all(&box_dir).unwrap();
    std::fs::write(box_dir.join("cgroup.procs"), "1\n").unwrap();
    let e = t
        .setup(&exact("/pods/box", false), &found)
        .unwrap_err()
        .to_string();
    assert_eq!(
        e,
        format!(
            "linux.cgroupsPath \"/pods/box\": the cgroup {} already exists and holds processes; \
             refusing to share it",
            box_dir.display()
        )
    );
    std::fs::write(box_dir.join("cgroup.procs"), "").unwrap();
    std::fs::create_dir(box_dir.join("child")).unwrap();
    let e = t
        .setup(&exact("/pods/box", false), &found)
        .unwrap_err()
        .to_string();
    assert!(e.contains("has cgroups below it"), "{e}");
    std::fs::remove_dir(box_dir.join("child")).unwrap();
    std::fs::write(box_dir.join("cgroup.procs"), "").unwrap();

    // Empty: used, recorded as found, and left in place (only what the sandbox made below it
    // goes).
    let sb = t
        .setup(&exact("/pods/box", false), &found)
        .unwrap()
        .unwrap();
    let kept = sb.keep().unwrap();
    assert_eq!(kept.adopted, std::slice::from_ref(&box_dir));
    assert!(kept.created.is_empty());
    let record = round_trip(&kept);
    assert_eq!(record["dirs"][0]["created"], false);
    std::fs::create_dir(box_dir.join("made-inside")).unwrap();
    t.strip_files();
    Kept::from_json(&record)
        .unwrap()
        .remove(&trust_all)
        .unwrap();
    assert!(box_dir.is_dir());
    assert!(!box_dir.join("made-inside").exists());
    assert!(t.path("v2/pods").is_dir());
}

#[test]
fn systemd_form_and_controllers_on_v2() {
    let t = Tree::new("systemd");
    let found = t.v2();
    let s = exact("machine.slice:libpod:abc", true);
    let sb = t.setup(&s, &found).unwrap().unwrap();
    let d = &sb.dirs()[0];
    assert_eq!(d.path, t.path("v2/machine.slice/libpod-abc.scope"));
    assert_eq!(d.controllers, ["memory", "pids"]);
    // Enabled from the root down to the sandbox's parent.
    assert_eq!(
        std::fs::read_to_string(t.path("v2/machine.slice/cgroup.subtree_control")).unwrap(),
        "+pids"
    );
    let kept = sb.keep().unwrap();
    assert_eq!(kept.created, [t.path("v2/machine.slice")]);
    assert_eq!(round_trip(&kept)["version"], "v2");
    t.strip_files();
    kept.remove(&trust_all).unwrap();
    assert!(!t.path("v2/machine.slice").exists());
    assert!(t.path("v2").is_dir());
}

#[test]
fn a_failed_setup_removes_the_levels_it_made() {
    let t = Tree::new("failed");
    let found = t.v1();
    // The sandbox's directory cannot be made in the last hierarchy: a file is in its place.
    std::fs::create_dir_all(t.path("v1/freezer/a/b")).unwrap();
    std::fs::write(t.path("v1/freezer/a/b/box"), "").unwrap();
    let e = t
        .setup(&exact("/a/b/box", false), &found)
        .unwrap_err()
        .to_string();
    assert!(e.contains("exists and is not a directory"), "{e}");
    // What the failed setup made is gone; the freezer's `a/b`, which was there before, stays.
    for c in ["pids", "memory"] {
        assert!(!t.path(&format!("v1/{c}/a")).exists(), "{c}");
    }
    assert!(t.path("v1/freezer/a/b/box").is_file());
}

#[test]
fn detached_sandboxes_get_kept_names_others_cannot_be_kept() {
    let t = Tree::new("detached");
    let found = t.v1();
    let s = Settings {
        detached: true,
        ..settings("web")
    };
    let sb = t.setup(&s, &found).unwrap().unwrap();
    let name = id::kept_dir_name("web", ME);
    assert_eq!(
        sb.dirs()[0].path,
        t.path(&format!("v1/pids/own/nucleus/{name}"))
    );
    let kept = sb.keep().unwrap();
    // The shared parent is not the sandbox's to remove.
    assert!(kept.created.is_empty());
    assert!(t.path(&format!("v1/pids/own/nucleus/{name}")).is_dir());

    let sb = t.setup(&settings("fg"), &found).unwrap().unwrap();
    let e = sb.keep().unwrap_err().to_string();
    assert!(e.contains("Settings::detached"), "{e}");
}

#[test]
fn hostile_records_are_refused() {
    let good = serde_json::json!({
        "format": 1, "id": "x", "version": "v2",
        "dirs": [{"path": "/sys/fs/cgroup/a/box", "controllers": ["pids"], "created": true}],
        "intermediates": ["/sys/fs/cgroup/a"], "memory_limit": null,
    });
    assert!(Kept::from_json(&good).is_ok());
    let cases: Vec<(&str, Value, &str)> = vec![
        ("/format", 2.into(), "format is not 1"),
        ("/version", "v3".into(), "is not v1 or v2"),
        ("/id", "".into(), "no id"),
        (
            "/dirs/0/path",
            "sys/fs/cgroup/a/box".into(),
            "not a plain absolute path",
        ),
        (
            "/dirs/0/path",
            "/sys/fs/cgroup/../../etc".into(),
            "not a plain absolute path",
        ),
        (
            "/dirs/0/path",
            "/sys/fs/cgroup/./a".into(),
            "not a plain absolute path",
        ),
        ("/dirs/0/path", "/".into(), "not a plain absolute path"),
        (
            "/dirs/0/path",
            "/a\u{0}b".into(),
            "not a plain absolute path",
        ),
        ("/dirs/0/path", 7.into(), "is not a string"),
        ("/dirs/0/created", Value::Null, "whether it was created"),
        ("/dirs/0/controllers", "pids".into(), "no controllers"),
        ("/intermediates/0", "/etc".into(), "above none of its dirs"),
        (
            "/intermediates/0",
            "/sys/fs/cgroup/a/box".into(),
            "above none of its dirs",
        ),
        ("/memory_limit", "1g".into(), "memory_limit"),
        ("/dirs", serde_json::json!([]), "0 dirs for v2"),
    ];
    for (pointer, value, want) in cases {
        let mut v = good.clone();
        *v.pointer_mut(pointer).unwrap() = value;
        let e = Kept::from_json(&v).unwrap_err().to_string();
        assert!(
            e.starts_with("the cgroup record is unusable: ") && e.contains(want),
            "{pointer}: {e:?} lacks {want:?}"
        );
    }
    // A record naming a plain directory (not a cgroup): left alone by every command.
    let dir = std::env::temp_dir().join(format!("nucleus-not-a-cgroup-{}", std::process::id()));
    std::fs::create_dir_all(dir.join("box")).unwrap();
    let mut v = good.clone();
    v["dirs"][0]["path"] = dir.join("box").to_string_lossy().into();
    v["intermediates"] = serde_json::json!([dir.to_string_lossy()]);
    for e in [
        remove_recorded(&v).map(|_| ()).unwrap_err(),
        kill_all(&v, libc::SIGKILL).unwrap_err(),
        pids(&v).map(|_| ()).unwrap_err(),
        stats_for_record(&v).map(|_| ()).unwrap_err(),
    ] {
        assert!(
            e.to_string().contains("is not on a cgroup file system"),
            "{e}"
        );
    }
    assert!(dir.join("box").is_dir());
    for sig in [0, 65, -9] {
        let e = kill_all(&v, sig).unwrap_err().to_string();
        assert_eq!(e, format!("signal {sig}: not a signal (1-64)"));
    }
    let e = join(&v).unwrap_err().to_string();
    assert!(e.contains("is not on a cgroup file system"), "{e}");
    std::fs::remove_dir_all(&dir).unwrap();
}

// ---- This host's real hierarchies (root only). ----

fn real(manager: Manager) -> Option<Found> {
    if !rustix::process::geteuid().is_root() {
        eprintln!("SKIP: needs root");
        return None;
    }
    let found = Found::probe();
    let ok = match manager {
        Manager::V1 => !found.v1.is_empty(),
        _ => found.v2.is_some(),
    };
    if !ok {
        eprintln!("SKIP: no {manager:?} hierarchy here");
        return None;
    }
    Some(found)
}

/// A process of our own to put in a sandbox's cgroups.
fn sleeper() -> Child {
    Command::new("sleep").arg("60").spawn().unwrap()
}

/// Its end (signal number), waiting up to 10 s; None if it still runs (then `Own` ends it:
/// a frozen v1 process does not even die of SIGKILL until thawed).
fn ended(child: &mut Child) -> Option<i32> {
    let deadline = Instant::now() + Duration::from_secs(10);
    while Instant::now() < deadline {
        if let Some(status) = child.try_wait().unwrap() {
            return status.signal();
        }
        std::thread::sleep(Duration::from_millis(10));
    }
    None
}

fn join_pid(sb_dirs: &[Dir], pid: u32) {
    for d in sb_dirs {
        fs::write(&d.path.join("cgroup.procs"), &pid.to_string()).unwrap();
    }
}

/// A directory of our own below our cgroup in every hierarchy, removed (with anything a
/// failing test left in it) at the end.
struct Own {
    dirs: Vec<PathBuf>,
}

impl Own {
    fn new(found: &Found, name: &str) -> Self {
        let mut hs: Vec<&Hierarchy> = found.v1.iter().collect();
        hs.extend(found.v2.iter());
        let dirs: Vec<PathBuf> = hs.iter().map(|h| h.own.join(name)).collect();
        for d in &dirs {
            std::fs::create_dir(d).unwrap();
        }
        Own { dirs }
    }
}

impl Drop for Own {
    fn drop(&mut self) {
        // Thawed everywhere first: a process frozen in one hierarchy cannot die in any.
        for d in &self.dirs {
            for c in std::iter::once(d.clone()).chain(fs::descendants(d)) {
                let _ = std::fs::write(c.join("freezer.state"), "THAWED");
                let _ = std::fs::write(c.join("cgroup.freeze"), "0");
            }
        }
        for d in &self.dirs {
            v1::kill_rounds(d);
        }
        for d in &self.dirs {
            let _ = fs::remove_tree(d, Duration::from_secs(2));
        }
    }
}

#[test]
fn real_v1_keep_signal_and_remove_recorded() {
    let Some(found) = real(Manager::V1) else {
        return;
    };
    let top = format!("nucleus-unit-{}", id::generate());
    let own = Own::new(&found, &top);
    // Relative: below our own cgroups, which `top` (made above, not by the sandbox) is in.
    let s = Settings {
        manager: Manager::V1,
        ..exact(&format!("{top}/inner/box"), false)
    };
    let (sb, _) = setup_in(&s, &found, Launcher::current(), Path::new("/proc"), true).unwrap();
    let sb = sb.expect("v1 cgroups");
    let dirs = sb.dirs().to_vec();
    assert!(
        dirs.iter()
            .all(|d| d.path.ends_with(format!("{top}/inner/box")))
    );
    let mut first = sleeper();
    join_pid(&dirs, first.id());
    let record = round_trip(&sb.keep().unwrap());
    assert_eq!(
        record["intermediates"].as_array().unwrap().len(),
        dirs.len()
    );

    assert_eq!(pids(&record).unwrap(), [first.id()]);
    let st = stats_for_record(&record).unwrap();
    assert_eq!(st.pids_current, Some(1));
    assert_eq!(st.version, "v1");
    // `exec` joins through each hierarchy's tasks file.
    let j = join(&record).unwrap();
    assert!(j.into.is_none());
    assert_eq!(j.files.len(), dirs.len());

    // SIGTERM to all: frozen, signalled, thawed (else it would never see it).
    kill_all(&record, libc::SIGTERM).unwrap();
    assert_eq!(ended(&mut first), Some(libc::SIGTERM));
    let freezer = dirs.iter().find(|d| d.has("freezer"));
    if let Some(f) = freezer {
        assert_eq!(fs::read(&f.path.join("freezer.state")).unwrap(), "THAWED");
    }

    // A paused sandbox stays paused through a signal; `delete` still kills it.
    let mut second = sleeper();
    join_pid(&dirs, second.id());
    if let Some(f) = freezer {
        assert!(v1::freeze(&f.path));
        kill_all(&record, libc::SIGTERM).unwrap();
        assert_eq!(fs::read(&f.path.join("freezer.state")).unwrap(), "FROZEN");
    }
    let ending = remove_recorded(&record).unwrap();
    assert_eq!(ending.oom_kills, 0);
    let sig = ended(&mut second);
    assert!(
        matches!(sig, Some(libc::SIGKILL | libc::SIGTERM)),
        "{sig:?}"
    );
    for (d, o) in dirs.iter().zip(&own.dirs) {
        assert!(!d.path.exists(), "{}", d.path.display());
        assert!(
            !d.path.parent().unwrap().exists(),
            "inner of {}",
            d.path.display()
        );
        assert!(o.is_dir(), "{} (not ours to remove) is gone", o.display());
    }
    // Again: all gone already, nothing to do.
    remove_recorded(&record).unwrap();
}

#[test]
fn real_v1_kept_sandbox_survives_stale_sweeps() {
    let Some(found) = real(Manager::V1) else {
        return;
    };
    let top = format!("nucleus-unit-{}", id::generate());
    let _own = Own::new(&found, &top);
    let parent = Parent::parse(&top).unwrap();
    // Made by a launcher that is gone now (as every detached sandbox's launcher will be).
    let gone = Launcher {
        pid: 4_000_000,
        start: 1,
    };
    let s = Settings {
        manager: Manager::V1,
        parent: parent.clone(),
        detached: true,
        ..settings("kept")
    };
    let (sb, _) = setup_in(&s, &found, gone, Path::new("/proc"), true).unwrap();
    let sb = sb.expect("v1 cgroups");
    let dirs = sb.dirs().to_vec();
    let mut child = sleeper();
    join_pid(&dirs, child.id());
    let record = round_trip(&sb.keep().unwrap());
    // A second one whose workload has ended (empty, not yet deleted).
    let (sb, _) = setup_in(
        &Settings {
            name: "stopped".into(),
            ..s.clone()
        },
        &found,
        gone,
        Path::new("/proc"),
        true,
    )
    .unwrap();
    let stopped = round_trip(&sb.unwrap().keep().unwrap());
    let stopped_dirs = Kept::from_json(&stopped).unwrap().dirs;
    // The running one is paused.
    let freezer = dirs.iter().find(|d| d.has("freezer"));
    if let Some(f) = freezer {
        assert!(v1::freeze(&f.path));
    }
    // A foreground sandbox's directory of that gone launcher: stale.
    let stale_name = id::dir_name("old", gone);
    for d in &dirs {
        std::fs::create_dir(d.parent.join(&stale_name)).unwrap();
    }

    // The next start sweeps; its own sandbox ends normally.
    let next = Settings {
        manager: Manager::V1,
        parent,
        ..settings(&format!("n{}", id::generate()))
    };
    let (sb, _) = setup_in(&next, &found, Launcher::current(), Path::new("/proc"), true).unwrap();
    sb.unwrap().finish();
    for d in &dirs {
        assert!(
            !d.parent.join(&stale_name).exists(),
            "the sweep did not run"
        );
        assert!(d.path.is_dir(), "{} was swept", d.path.display());
    }
    for d in &stopped_dirs {
        assert!(d.path.is_dir(), "{} was swept", d.path.display());
    }
    if let Some(f) = freezer {
        assert!(v1::paused(&f.path), "the sweep thawed a paused sandbox");
        let _ = fs::write(&f.path.join("freezer.state"), "THAWED");
    }
    assert_eq!(pids(&record).unwrap(), [child.id()]);
    // Its name is taken while it runs.
    let same = Settings {
        manager: Manager::V1,
        parent: Parent::parse(&top).unwrap(),
        ..settings("kept")
    };
    let e = setup_in(&same, &found, Launcher::current(), Path::new("/proc"), true).unwrap_err();
    assert!(e.to_string().contains("already running (detached"), "{e}");
    // `stats kept` finds it by its id.
    let (_, found_dirs) = find(
        &found,
        Manager::V1,
        &Parent::parse(&top).unwrap(),
        "kept",
        Path::new("/proc"),
    )
    .unwrap();
    assert_eq!(found_dirs[0].path, dirs[0].path);

    remove_recorded(&record).unwrap();
    assert_eq!(ended(&mut child), Some(libc::SIGKILL));
    assert!(dirs.iter().all(|d| !d.path.exists()));
    remove_recorded(&stopped).unwrap();
    assert!(stopped_dirs.iter().all(|d| !d.path.exists()));
}

/// The exact path, keeping, signals through the record and `delete` on the unified hierarchy.
/// On hybrid hosts it has no controllers (this is creation, `cgroup.freeze`, `cgroup.kill` and
/// removal); scripts/test-cgroup-v2.sh runs it on pure v2 kernels too, with memory and pids
/// enabled down the path.
#[test]
fn real_v2_exact_path_keep_and_remove_recorded() {
    let Some(found) = real(Manager::V2) else {
        return;
    };
    let top = format!("nucleus-unit-{}", id::generate());
    let v2_only = Found {
        v1: Vec::new(),
        ..found.clone()
    };
    let own = Own::new(&v2_only, &top);
    let s = Settings {
        manager: Manager::V2,
        limits: Limits {
            pids: Some(64),
            ..Limits::default()
        },
        ..exact(&format!("{top}/a/b/box"), false)
    };
    let (sb, report) = setup_in(&s, &found, Launcher::current(), Path::new("/proc"), true).unwrap();
    let Some(sb) = sb else {
        eprintln!("SKIP: no v2 cgroup could be made: {}", report.summary());
        return;
    };
    let dir = sb.dirs()[0].path.clone();
    let with_pids = sb.dirs()[0].has("pids");
    let mut first = sleeper();
    join_pid(sb.dirs(), first.id());
    let kept = sb.keep().unwrap();
    assert_eq!(kept.created.len(), 2);
    let record = round_trip(&kept);
    assert!(v2::populated(&dir));
    assert_eq!(pids(&record).unwrap(), [first.id()]);
    let st = stats_for_record(&record).unwrap();
    assert_eq!(st.version, "v2");
    if with_pids {
        assert_eq!((st.pids_current, st.pids_limit), (Some(1), Some(64)));
    }

    let j = join(&record).unwrap();
    assert_eq!((j.into.is_some(), j.files.len()), (true, 0));

    // SIGTERM to all: frozen meanwhile, thawed after.
    kill_all(&record, libc::SIGTERM).unwrap();
    assert_eq!(ended(&mut first), Some(libc::SIGTERM));
    assert!(!v2::paused(&dir));
    // Real-time signals too (SIGRTMIN+8: its default action ends the process).
    let mut rt = sleeper();
    join_pid(&kept.dirs, rt.id());
    kill_all(&record, 42).unwrap();
    assert_eq!(ended(&mut rt), Some(42));

    // A paused sandbox stays paused through a signal; `delete` kills it all the same.
    let mut second = sleeper();
    join_pid(&kept.dirs, second.id());
    let can_freeze = fs::write(&dir.join("cgroup.freeze"), "1").is_ok();
    if can_freeze {
        kill_all(&record, libc::SIGTERM).unwrap();
        assert!(v2::paused(&dir), "a signal thawed a paused sandbox");
    }
    remove_recorded(&record).unwrap();
    // (A fatal signal gets through v2's freezer: the SIGTERM may have ended it already.)
    let sig = ended(&mut second);
    assert!(
        matches!(sig, Some(libc::SIGKILL | libc::SIGTERM)),
        "{sig:?}"
    );
    assert!(!dir.exists());
    assert!(!own.dirs[0].join("a").exists());
    assert!(own.dirs[0].is_dir());
}

#[test]
fn an_exec_joins_all_recorded_cgroups_or_none() {
    let t = Tree::new("join-all");
    let found = t.v1();
    let s = Settings {
        detached: true,
        ..settings("joiner")
    };
    let sb = t.setup(&s, &found).unwrap().unwrap();
    let dirs: Vec<PathBuf> = sb.dirs().iter().map(|d| d.path.clone()).collect();
    assert!(dirs.len() > 1, "{dirs:?}");
    let kept = sb.keep().unwrap();
    for d in &dirs {
        std::fs::write(d.join("tasks"), "").unwrap();
    }
    let all = kept.clone().join(false, &trust_all).unwrap();
    assert_eq!(all.files.len(), dirs.len());
    // One hierarchy's directory gone: the exec would escape that one's limits.
    std::fs::remove_dir_all(&dirs[1]).unwrap();
    let e = kept.join(false, &trust_all).unwrap_err().to_string();
    assert!(
        e.contains(&format!("({} of {} left)", dirs.len() - 1, dirs.len())),
        "{e}"
    );
}
