//! The bundles real clients write (`runc spec`, `runc spec --rootless`, podman 4.3) map
//! without error and as they say; what nucleus cannot honour is refused, naming the field.

use std::path::PathBuf;
use std::sync::atomic::{AtomicU32, Ordering};

use nucleus_shared::plan::flags;
use serde_json::{Value, json};

use super::*;
use crate::config::Network;
use crate::config::oci::MountKind;
use crate::seccomp::Choice;

/// `runc spec` (runc 1.1.5).
pub const RUNC: &str = include_str!("testdata/runc-spec.json");
/// `runc spec --rootless`, made by root (so its maps are 0 -> 0).
pub const RUNC_ROOTLESS: &str = include_str!("testdata/runc-spec-rootless.json");
/// What podman 4.3 hands its runtime for `run --rm --network none --ulimit ... busybox sh`,
/// with its storage paths replaced by `@BUNDLE@/...`.
pub const PODMAN: &str = include_str!("testdata/podman-4.3.json");

pub const ROOT: Caller = Caller {
    euid: 0,
    egid: 0,
    caps: crate::config::caps::ALL,
};
/// User 1000 (whose bounding set is full, as usual: capabilities in its own user
/// namespace are its to give).
const USER: Caller = Caller {
    euid: 1000,
    egid: 1000,
    caps: crate::config::caps::ALL,
};

/// A bundle directory with a `rootfs` and podman's `userdata` files, removed on drop.
pub struct TempBundle {
    pub dir: PathBuf,
}

impl TempBundle {
    pub fn new(tag: &str) -> Self {
        static N: AtomicU32 = AtomicU32::new(0);
        let dir = std::env::temp_dir().join(format!(
            "nucleus-bundle-{tag}-{}-{}",
            std::process::id(),
            N.fetch_add(1, Ordering::Relaxed)
        ));
        let _ = std::fs::remove_dir_all(&dir);
        for d in ["rootfs", "userdata/shm"] {
            std::fs::create_dir_all(dir.join(d)).unwrap();
        }
        for f in ["hostname", "hosts", ".containerenv"] {
            std::fs::write(dir.join("userdata").join(f), "").unwrap();
        }
        let dir = std::fs::canonicalize(dir).unwrap();
        TempBundle { dir }
    }

    /// `text` with `@BUNDLE@` pointing here.
    pub fn text(&self, fixture: &str) -> String {
        fixture.replace("@BUNDLE@", &self.dir.display().to_string())
    }

    pub fn load(&self, fixture: &str, caller: Caller) -> Result<Bundle, Error> {
        from_text(&self.dir, &self.text(fixture), caller)
    }

    /// The fixture changed by `edit`, loaded as root.
    pub fn edited(&self, fixture: &str, edit: impl FnOnce(&mut Value)) -> Result<Bundle, Error> {
        let mut v: Value = serde_json::from_str(&self.text(fixture)).unwrap();
        edit(&mut v);
        from_text(&self.dir, &v.to_string(), ROOT)
    }
}

impl Drop for TempBundle {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

/// Sets (or adds) the value at a JSON pointer.
pub fn put(v: &mut Value, pointer: &str, new: Value) {
    let (parent, last) = pointer.rsplit_once('/').unwrap();
    match v.pointer_mut(parent).unwrap_or_else(|| panic!("{parent}")) {
        Value::Object(o) => {
            o.insert(last.to_owned(), new);
        }
        // One past the end appends.
        Value::Array(a) => match last.parse::<usize>().unwrap() {
            i if i == a.len() => a.push(new),
            i => a[i] = new,
        },
        other => panic!("{parent} is {other}"),
    }
}

/// Removes the member or element at a JSON pointer.
pub fn remove(v: &mut Value, pointer: &str) {
    let (parent, last) = pointer.rsplit_once('/').unwrap();
    match v.pointer_mut(parent).unwrap() {
        Value::Object(o) => {
            o.remove(last);
        }
        Value::Array(a) => {
            a.remove(last.parse::<usize>().unwrap());
        }
        other => panic!("{parent} is {other}"),
    }
}

fn cap(name: &str) -> u64 {
    1 << crate::config::caps::NAMES
        .iter()
        .position(|n| *n == name)
        .unwrap()
}

fn mount<'a>(b: &'a Bundle, target: &str) -> &'a crate::config::oci::Mount {
    let fs = b.config.oci.as_ref().unwrap();
    fs.mounts
        .iter()
        .find(|m| m.target.as_str() == target)
        .unwrap_or_else(|| panic!("no mount on {target}"))
}

#[test]
fn runc_spec_maps_as_it_says() {
    let t = TempBundle::new("runc");
    let b = t.load(RUNC, ROOT).unwrap();
    let c = &b.config;
    assert_eq!(c.command, ["sh"]);
    assert!(c.terminal);
    // The environment is the bundle's, nothing added.
    assert_eq!(
        c.env,
        [
            (
                "PATH".to_owned(),
                "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin".to_owned()
            ),
            ("TERM".to_owned(), "xterm".to_owned()),
        ]
    );
    assert_eq!(c.workdir.as_str(), "/");
    assert_eq!((c.uid, c.gid, c.umask), (0, 0, 0o022));
    assert_eq!(
        c.caps,
        cap("AUDIT_WRITE") | cap("KILL") | cap("NET_BIND_SERVICE")
    );
    assert_eq!(c.rlimits.len(), 1);
    assert_eq!(
        (c.rlimits[0].resource, c.rlimits[0].soft, c.rlimits[0].hard),
        (7, 1024, 1024)
    );
    assert_eq!(c.rootfs.as_deref(), Some(t.dir.join("rootfs").as_path()));
    assert!(!c.rootfs_rw, "root.readonly");
    assert_eq!(c.hostname, "runc");
    assert_eq!(c.network, Network::None);
    assert!(c.namespaces.uts && c.namespaces.ipc && !c.namespaces.cgroup);
    assert!(c.userns.is_none());
    assert_eq!(c.seccomp, Choice::Unconfined, "no linux.seccomp: no filter");
    assert_eq!(c.cgroup.limits.pids, None, "no pids limit asked for");
    assert!(c.cgroup.require);

    let fs = c.oci.as_ref().unwrap();
    assert_eq!(fs.mounts.len(), 7);
    let dev = mount(&b, "/dev");
    assert_eq!(
        dev.kind,
        MountKind::Fs {
            fstype: "tmpfs".into(),
            data: "mode=755,size=65536k".into()
        }
    );
    assert_eq!(dev.flags, flags::NOSUID | flags::STRICTATIME);
    assert_eq!(
        mount(&b, "/dev/pts").kind,
        MountKind::Fs {
            fstype: "devpts".into(),
            data: "newinstance,ptmxmode=0666,mode=0620,gid=5".into()
        }
    );
    let cg = mount(&b, "/sys/fs/cgroup");
    assert_eq!(cg.kind, MountKind::Cgroup);
    assert_eq!(
        cg.flags,
        flags::NOSUID | flags::NOEXEC | flags::NODEV | flags::RELATIME | flags::RDONLY
    );
    assert_eq!(fs.masked.len(), 10);
    assert_eq!(fs.read_only.len(), 5);
    assert!(fs.sysctl.is_empty() && fs.devices.is_empty());
    // Writable mounts stay writable under Landlock's read-only root.
    let rw: Vec<&str> = c.landlock.paths.iter().map(|(_, p)| p.as_str()).collect();
    assert_eq!(rw, ["/dev", "/dev/shm"]);
    assert_eq!(b.hooks, Hooks::default());
    assert!(b.annotations.is_empty());
    assert_eq!(b.spec["hostname"], "runc");
}

#[test]
fn runc_rootless_spec_maps_into_a_user_namespace() {
    let t = TempBundle::new("rootless");
    let b = t.load(RUNC_ROOTLESS, ROOT).unwrap();
    let c = &b.config;
    let ns = c.userns.as_ref().unwrap();
    assert!(!ns.rootless, "made by root, run by root");
    assert_eq!(
        (
            ns.uid_map[0].inside,
            ns.uid_map[0].outside,
            ns.uid_map[0].count
        ),
        (0, 0, 1)
    );
    assert_eq!(c.network, Network::Host, "no network namespace asked for");
    let ns = crate::backend::native::namespace_flags(c);
    assert_eq!(ns & libc::CLONE_NEWNET as u64, 0);
    assert_ne!(ns & libc::CLONE_NEWIPC as u64, 0);
    let sys = mount(&b, "/sys");
    assert_eq!(
        sys.kind,
        MountKind::Bind {
            source: "/sys".into(),
            recursive: true,
            is_dir: true
        }
    );
    assert_eq!(
        sys.flags,
        flags::RDONLY | flags::NOSUID | flags::NOEXEC | flags::NODEV
    );

    // The same bundle as written by user 1000, run by user 1000.
    let mine = t
        .text(RUNC_ROOTLESS)
        .replace("\"hostID\": 0", "\"hostID\": 1000");
    let b = from_text(&t.dir, &mine, USER).unwrap();
    assert!(b.config.userns.unwrap().rootless);
    // ... but not another user's.
    let e = t.load(RUNC_ROOTLESS, USER).unwrap_err().to_string();
    assert!(
        e.contains("linux.uidMappings") && e.contains("own id (1000)"),
        "{e}"
    );
    // Unprivileged, a bundle without a user namespace cannot run.
    let e = t.load(RUNC, USER).unwrap_err().to_string();
    assert!(e.contains("no user namespace"), "{e}");
}

#[test]
fn podman_bundle_maps_as_it_says() {
    let t = TempBundle::new("podman");
    let b = t.load(PODMAN, ROOT).unwrap();
    let c = &b.config;
    assert_eq!(c.command, ["sh", "-c", "id; echo hi"]);
    assert!(!c.terminal);
    assert_eq!(c.env.len(), 5);
    assert_eq!(c.env[2], ("container".to_owned(), "podman".to_owned()));
    assert_eq!(c.umask, 18);
    assert_eq!(c.caps.count_ones(), 11);
    assert!(c.caps & cap("SYS_CHROOT") != 0 && c.caps & cap("NET_RAW") == 0);
    let nofile = c.rlimits.iter().find(|r| r.resource == 7).unwrap();
    assert_eq!((nofile.soft, nofile.hard), (1024, 1024));
    assert!(c.rootfs_rw, "podman's root is writable");
    assert_eq!(c.hostname, "50058269c9b3");
    assert_eq!(c.network, Network::None);
    assert!(!c.namespaces.cgroup);
    assert_eq!(c.cgroup.limits.pids, Some(2048));
    assert!(matches!(c.seccomp, Choice::Inline(_)));
    assert_eq!(
        b.cgroups_path.as_deref(),
        Some("/libpod_parent/libpod-0123456789ab")
    );
    assert_eq!(b.annotations.len(), 8);
    assert_eq!(b.annotations["io.container.manager"], "libpod");
    assert_eq!(b.oom_score_adj, None);

    let fs = c.oci.as_ref().unwrap();
    assert_eq!(fs.mounts.len(), 10);
    assert_eq!(
        mount(&b, "/etc/hostname").kind,
        MountKind::Bind {
            source: t.dir.join("userdata/hostname"),
            recursive: false,
            is_dir: false
        }
    );
    let shm = mount(&b, "/dev/shm");
    assert!(matches!(shm.kind, MountKind::Bind { is_dir: true, .. }));
    assert_eq!(shm.flags, flags::NOSUID | flags::NOEXEC | flags::NODEV);
    assert_eq!(
        mount(&b, "/sys").flags,
        flags::NOSUID | flags::NOEXEC | flags::NODEV | flags::RDONLY
    );
    assert_eq!(
        fs.sysctl,
        [("net/ipv4/ping_group_range".to_owned(), "0 0".to_owned())]
    );
    assert!(fs.masked.iter().any(|p| p.as_str() == "/sys/dev/block"));
    assert!(fs.read_only.iter().any(|p| p.as_str() == "/proc/asound"));
    // No cgroup namespace in the bundle: the sandbox stays in the host's.
    let ns = crate::backend::native::namespace_flags(c);
    assert_eq!(ns & libc::CLONE_NEWCGROUP as u64, 0);
    assert_ne!(ns & libc::CLONE_NEWNET as u64, 0);
    assert_ne!(ns & libc::CLONE_NEWUTS as u64, 0);
}

#[test]
fn relative_and_climbing_root_paths_resolve_when_they_exist() {
    let t = TempBundle::new("root");
    let name = t.dir.file_name().unwrap().to_str().unwrap().to_owned();
    let b = t
        .edited(RUNC, |v| {
            put(v, "/root/path", json!(format!("../{name}/rootfs")));
        })
        .unwrap();
    assert_eq!(b.config.rootfs.unwrap(), t.dir.join("rootfs"));
}

#[test]
fn fields_that_ask_for_nothing_are_accepted() {
    let t = TempBundle::new("empty");
    t.edited(PODMAN, |v| {
        put(v, "/process/apparmorProfile", json!(""));
        put(v, "/process/selinuxLabel", json!(""));
        put(v, "/process/oomScoreAdj", json!(0));
        put(v, "/process/noNewPrivileges", json!(false));
        put(v, "/domainname", json!(""));
        put(v, "/linux/mountLabel", json!(""));
        put(v, "/linux/resources/hugepageLimits", json!([]));
        put(v, "/linux/resources/unified", json!({}));
        put(v, "/linux/resources/memory", json!({"swappiness": null}));
        put(v, "/linux/rootfsPropagation", json!("rprivate"));
        put(v, "/linux/personality", json!({"domain": "LINUX"}));
        put(v, "/hooks", json!({"createContainer": []}));
    })
    .unwrap();
}

#[test]
fn resources_map_onto_the_cgroup_limits() {
    let t = TempBundle::new("resources");
    let b = t
        .edited(PODMAN, |v| {
            put(
                v,
                "/linux/resources",
                json!({
                    "memory": {"limit": 67108864, "swap": 134217728, "reservation": 33554432},
                    "cpu": {"shares": 512, "quota": 50000, "period": 100000},
                    "pids": {"limit": -1},
                    "blockIO": {"weight": 300, "throttleReadBpsDevice": [{"major": 8, "minor": 0, "rate": 1048576}]},
                    "devices": [{"allow": false, "access": "rwm"}, {"allow": true, "type": "c", "major": 1, "minor": 3, "access": "rw"}]
                }),
            );
        })
        .unwrap();
    let l = &b.config.cgroup.limits;
    assert_eq!(l.memory, Some(64 << 20));
    assert_eq!(l.swap, crate::cgroup::config::Swap::Total(128 << 20));
    assert_eq!(l.memory_reservation, Some(32 << 20));
    assert_eq!((l.cpu_shares, l.cpu_quota_us), (Some(512), Some(50_000)));
    assert_eq!((l.pids, l.pids_explicit), (None, true));
    assert_eq!(l.blkio_weight, Some(300));
    assert_eq!(
        l.throttles[0].origin,
        "linux.resources.blockIO.throttleReadBpsDevice[0]"
    );
    // A memory limit alone leaves swap as runc does: unlimited.
    let b = t
        .edited(PODMAN, |v| {
            put(v, "/linux/resources/memory", json!({"limit": 67108864}));
        })
        .unwrap();
    assert_eq!(
        b.config.cgroup.limits.swap,
        crate::cgroup::config::Swap::Unlimited
    );
}

#[test]
fn capabilities_are_what_the_workload_could_use() {
    let t = TempBundle::new("caps");
    let sets = |v: &mut Value, uid: u32| {
        put(v, "/process/user/uid", json!(uid));
        put(
            v,
            "/process/capabilities",
            json!({
                "bounding": ["CAP_KILL", "CAP_CHOWN", "CAP_NET_RAW"],
                "permitted": ["CAP_KILL", "CAP_CHOWN"],
                "effective": ["CAP_KILL"],
                "inheritable": ["CAP_CHOWN"],
                "ambient": ["CAP_CHOWN"],
            }),
        );
    };
    let root = t.edited(PODMAN, |v| sets(v, 0)).unwrap();
    assert_eq!(
        root.config.caps,
        cap("KILL") | cap("CHOWN") | cap("NET_RAW"),
        "root regains its bounding set at execve"
    );
    let user = t.edited(PODMAN, |v| sets(v, 1000)).unwrap();
    assert_eq!(
        user.config.caps,
        cap("CHOWN"),
        "others keep the ambient set"
    );
    let none = t
        .edited(PODMAN, |v| remove(v, "/process/capabilities"))
        .unwrap();
    assert_eq!(none.config.caps, 0);
}

#[test]
fn capabilities_the_launcher_lacks_are_refused() {
    let t = TempBundle::new("lacking");
    let without_chroot = Caller {
        caps: crate::config::caps::ALL & !cap("SYS_CHROOT"),
        ..ROOT
    };
    let e = t.load(PODMAN, without_chroot).unwrap_err().to_string();
    assert!(
        e.contains("process.capabilities: CAP_SYS_CHROOT: nucleus-launch does not hold it"),
        "{e}"
    );
}

#[test]
fn hooks_are_read() {
    let t = TempBundle::new("hooks");
    let b = t
        .edited(PODMAN, |v| {
            put(
                v,
                "/hooks",
                json!({
                    "prestart": [{"path": "/bin/true"}],
                    "createRuntime": [{"path": "/bin/sh", "args": ["sh", "-c", "true"], "env": ["A=b"], "timeout": 5}],
                    "poststart": [],
                    "poststop": [{"path": "/bin/true"}],
                }),
            );
        })
        .unwrap();
    let h = &b.hooks;
    assert_eq!(
        (
            h.prestart.len(),
            h.create_runtime.len(),
            h.poststart.len(),
            h.poststop.len()
        ),
        (1, 1, 0, 1)
    );
    let cr = &h.create_runtime[0];
    assert_eq!(cr.args, ["sh", "-c", "true"]);
    assert_eq!(cr.env, Some(vec![("A".to_owned(), "b".to_owned())]));
    assert_eq!(cr.timeout, Some(std::time::Duration::from_secs(5)));
    assert_eq!(cr.origin, "hooks.createRuntime[0]");
}

fn sh_hook(script: &str, timeout: Option<u64>) -> Hook {
    Hook {
        path: "/bin/sh".into(),
        args: vec!["sh".into(), "-c".into(), script.into()],
        env: Some(vec![("A".into(), "b".into())]),
        timeout: timeout.map(std::time::Duration::from_secs),
        origin: "hooks.poststop[1]".into(),
    }
}

#[test]
fn hooks_get_the_state_and_their_own_environment() {
    let state = r#"{"ociVersion":"1.2.0","id":"box","status":"stopped"}"#;
    let script = format!(r#"read -r s; test "$s" = '{state}' && test "$A" = b && test -z "$HOME""#);
    run_hook(&sh_hook(&script, Some(30)), state).unwrap();
    // A hook need not read its input, however long.
    run_hook(&sh_hook("exit 0", None), &"x".repeat(1 << 20)).unwrap();
}

#[test]
fn failing_hooks_are_named_with_their_complaint() {
    let e = run_hook(&sh_hook("echo 'no network' >&2; exit 3", None), "{}")
        .unwrap_err()
        .to_string();
    assert!(
        e.contains("hooks.poststop[1] (/bin/sh)")
            && e.contains("exit status 3")
            && e.ends_with(": no network"),
        "{e}"
    );
    let missing = Hook {
        path: "/nonexistent/hook".into(),
        ..sh_hook("", None)
    };
    let e = run_hook(&missing, "{}").unwrap_err().to_string();
    assert!(
        e.contains("/nonexistent/hook") && e.contains("cannot run it"),
        "{e}"
    );
}

#[test]
fn a_hook_past_its_timeout_is_killed_with_what_it_started() {
    // The hook leaves a child behind holding its output open: neither may hold us up.
    let e = run_hook(&sh_hook("sleep 100 & sleep 100", Some(1)), "{}")
        .unwrap_err()
        .to_string();
    assert!(
        e.contains("did not finish within 1 s and was killed"),
        "{e}"
    );
}

type Edit = Box<dyn Fn(&mut Value)>;

/// Every field nucleus cannot honour is refused, by its path and value, in one line.
#[test]
fn what_cannot_be_honoured_is_refused_by_name() {
    let t = TempBundle::new("refused");
    let cases: Vec<(Edit, &str)> = vec![
        (
            Box::new(|v| {
                put(
                    v,
                    "/linux/namespaces/1",
                    json!({"type": "network", "path": "/proc/1/ns/net"}),
                )
            }),
            "config.json: linux.namespaces[1].path (\"/proc/1/ns/net\"): joining an existing namespace is not supported",
        ),
        (
            Box::new(|v| put(v, "/linux/namespaces/1", json!({"type": "time"}))),
            "linux.namespaces[1].type (\"time\"): time namespaces are not supported",
        ),
        (
            Box::new(|v| remove(v, "/linux/namespaces/0")),
            "linux.namespaces: no pid namespace",
        ),
        (
            Box::new(|v| put(v, "/process/apparmorProfile", json!("docker-default"))),
            "process.apparmorProfile (\"docker-default\"): AppArmor profiles are not supported",
        ),
        (
            Box::new(|v| {
                put(
                    v,
                    "/process/selinuxLabel",
                    json!("system_u:system_r:container_t"),
                )
            }),
            "process.selinuxLabel",
        ),
        (
            Box::new(|v| put(v, "/process/capabilities/bounding/0", json!("CAP_FOO"))),
            "process.capabilities.bounding[0] (\"CAP_FOO\"): unknown capability",
        ),
        (
            Box::new(|v| {
                put(
                    v,
                    "/process/capabilities/effective/0",
                    json!("CAP_SYS_ADMIN"),
                )
            }),
            "process.capabilities.effective: CAP_SYS_ADMIN not in permitted",
        ),
        (
            Box::new(|v| {
                put(
                    v,
                    "/linux/devices",
                    json!([{"path": "/dev/sda", "type": "b", "major": 8, "minor": 0}]),
                )
            }),
            "linux.devices[0].type (\"b\"): block devices are not supported",
        ),
        (
            Box::new(|v| {
                put(
                    v,
                    "/linux/devices",
                    json!([{"path": "/dev/fuse", "type": "c", "major": 10, "minor": 229}]),
                )
            }),
            "linux.devices[0] (",
        ),
        (
            Box::new(|v| {
                put(
                    v,
                    "/linux/devices",
                    json!([{"path": "/dev/null", "type": "c", "major": 1, "minor": 3, "uid": 1000}]),
                )
            }),
            "linux.devices[0].uid (1000): device nodes are owned by root",
        ),
        (
            Box::new(|v| {
                put(
                    v,
                    "/linux/devices",
                    json!([{"path": "/etc/null", "type": "c", "major": 1, "minor": 3}]),
                )
            }),
            "linux.devices[0].path (\"/etc/null\"): devices are made only beneath /dev",
        ),
        (
            Box::new(|v| {
                put(
                    v,
                    "/linux/resources/devices",
                    json!([
                        {"allow": false, "access": "rwm"},
                        {"allow": true, "type": "c", "major": 10, "minor": 229, "access": "rwm"}
                    ]),
                )
            }),
            "linux.resources.devices[1] (",
        ),
        (
            Box::new(|v| {
                put(
                    v,
                    "/linux/resources/unified",
                    json!({"memory.high": "100000000"}),
                )
            }),
            "linux.resources.unified ({\"memory.high\":\"100000000\"}): cgroup v2 files by name are not supported",
        ),
        (
            Box::new(|v| put(v, "/linux/resources/memory", json!({"limit": 4096}))),
            "linux.resources.memory.limit (4096): below the minimum",
        ),
        (
            Box::new(|v| put(v, "/linux/resources/memory", json!({"kernel": 1048576}))),
            "linux.resources.memory.kernel (1048576)",
        ),
        (
            Box::new(|v| {
                put(
                    v,
                    "/linux/resources/cpu",
                    json!({"quota": 20000, "period": 50000}),
                )
            }),
            "linux.resources.cpu.period (50000): only the period of 100000",
        ),
        (
            Box::new(|v| put(v, "/linux/resources/cpu", json!({"cpus": "0-1"}))),
            "linux.resources.cpu.cpus (\"0-1\"): cpusets are not supported",
        ),
        (
            Box::new(|v| put(v, "/linux/resources/pids", json!({"limit": 1}))),
            "linux.resources.pids.limit (1): at least 2",
        ),
        (
            Box::new(|v| {
                put(
                    v,
                    "/linux/resources/hugepageLimits",
                    json!([{"pageSize": "2MB", "limit": 1}]),
                )
            }),
            "linux.resources.hugepageLimits",
        ),
        (
            Box::new(|v| put(v, "/process/cwd", json!("tmp"))),
            "process.cwd (\"tmp\"): not an absolute path",
        ),
        (
            Box::new(|v| put(v, "/process/cwd", json!("/a/../../etc"))),
            "process.cwd (\"/a/../../etc\"): '..' is not allowed",
        ),
        (
            Box::new(|v| put(v, "/process/args", json!([]))),
            "process.args: no command",
        ),
        (
            Box::new(|v| put(v, "/process/env/0", json!("NOEQUALS"))),
            "process.env[0] (\"NOEQUALS\"): expected KEY=VALUE",
        ),
        (
            Box::new(|v| put(v, "/process/user/username", json!("root"))),
            "process.user.username",
        ),
        (
            Box::new(|v| put(v, "/process/oomScoreAdj", json!(5000))),
            "process.oomScoreAdj (5000)",
        ),
        (
            Box::new(|v| put(v, "/process/rlimits/0/type", json!("RLIMIT_FOO"))),
            "process.rlimits[0].type (\"RLIMIT_FOO\"): unknown resource limit",
        ),
        (
            Box::new(|v| put(v, "/process/rlimits/1/type", json!("RLIMIT_NOFILE"))),
            "process.rlimits[1] (",
        ),
        (
            Box::new(|v| put(v, "/process/rlimits/0/soft", json!(4096))),
            "the soft limit is above the hard limit",
        ),
        (
            Box::new(|v| {
                put(
                    v,
                    "/hooks",
                    json!({"createContainer": [{"path": "/bin/true"}]}),
                )
            }),
            "hooks.createContainer ([{\"path\":\"/bin/true\"}]): hooks that run inside the container's namespaces are not supported",
        ),
        (
            Box::new(|v| {
                put(
                    v,
                    "/hooks",
                    json!({"startContainer": [{"path": "/bin/true"}]}),
                )
            }),
            "hooks.startContainer",
        ),
        (
            Box::new(|v| put(v, "/hooks", json!({"poststop": [{"path": "bin/true"}]}))),
            "hooks.poststop[0].path (\"bin/true\"): not an absolute path",
        ),
        (
            Box::new(|v| {
                put(
                    v,
                    "/hooks",
                    json!({"poststop": [{"path": "/bin/true", "timeout": 0}]}),
                )
            }),
            "hooks.poststop[0].timeout (0)",
        ),
        (
            Box::new(|v| put(v, "/foo", json!(1))),
            "config.json: foo (1): unknown field",
        ),
        (
            Box::new(|v| put(v, "/linux/bar", json!(true))),
            "linux.bar (true): unknown field",
        ),
        (
            Box::new(|v| put(v, "/process/bar", json!("x"))),
            "process.bar (\"x\"): unknown field",
        ),
        (
            Box::new(|v| put(v, "/ociVersion", json!("2.0.0"))),
            "ociVersion (\"2.0.0\")",
        ),
        (
            Box::new(|v| put(v, "/domainname", json!("example.org"))),
            "domainname (\"example.org\"): domain names are not supported",
        ),
        (
            Box::new(|v| remove(v, "/linux/namespaces/3")),
            "hostname (\"50058269c9b3\"): setting it needs a uts namespace",
        ),
        (
            Box::new(|v| {
                put(
                    v,
                    "/linux/mountLabel",
                    json!("system_u:object_r:container_file_t"),
                )
            }),
            "linux.mountLabel",
        ),
        (
            Box::new(|v| put(v, "/linux/rootfsPropagation", json!("rslave"))),
            "linux.rootfsPropagation (\"rslave\")",
        ),
        (
            Box::new(|v| put(v, "/linux/personality", json!({"domain": "LINUX32"}))),
            "linux.personality",
        ),
        (
            Box::new(|v| put(v, "/linux/sysctl", json!({"kernel.domainname": "x"}))),
            "linux.sysctl.kernel.domainname (\"x\")",
        ),
        (
            Box::new(|v| put(v, "/linux/sysctl", json!({"vm.swappiness": "1"}))),
            "linux.sysctl.vm.swappiness (\"1\"): not a sysctl of a namespace",
        ),
        (
            Box::new(|v| put(v, "/linux/sysctl", json!({"net/../../kernel/x": "1"}))),
            "not a sysctl name",
        ),
        (
            Box::new(|v| {
                remove(v, "/linux/namespaces/2"); // ipc
                put(v, "/linux/sysctl", json!({"kernel.shmmax": "1"}));
            }),
            "linux.sysctl.kernel.shmmax (\"1\"): an IPC sysctl needs an ipc namespace",
        ),
        (
            Box::new(|v| remove(v, "/linux/namespaces/1")), // network, podman sets net.*
            "linux.sysctl.net.ipv4.ping_group_range (\"0 0\"): a network sysctl needs a network namespace",
        ),
        (
            Box::new(|v| {
                put(
                    v,
                    "/linux/uidMappings",
                    json!([{"containerID": 0, "hostID": 100000, "size": 65536}]),
                )
            }),
            "linux.uidMappings: id mappings without a user namespace",
        ),
        (
            Box::new(|v| put(v, "/linux/namespaces/5", json!({"type": "user"}))),
            "linux.uidMappings: a user namespace needs both",
        ),
        (
            Box::new(|v| put(v, "/linux/seccomp/syscalls/0/action", json!("SCMP_ACT_FOO"))),
            "config.json: linux.seccomp.syscalls[0].action: unknown action",
        ),
        (
            Box::new(|v| put(v, "/linux/seccomp/listenerPath", json!("/run/notify.sock"))),
            "linux.seccomp.listenerPath",
        ),
        (
            Box::new(|v| put(v, "/mounts/1/options/2", json!("bogus"))),
            "mounts[1].options[2] (\"bogus\"): unknown or unsupported option for tmpfs",
        ),
        (
            Box::new(|v| put(v, "/mounts/1/options/2", json!("tmpcopyup"))),
            "mounts[1].options[2] (\"tmpcopyup\")",
        ),
        (
            Box::new(|v| put(v, "/mounts/5/options/1", json!("rslave"))),
            "mounts[5].options[1] (\"rslave\"): mount propagation other than private is not supported",
        ),
        (
            Box::new(|v| put(v, "/mounts/5/options/1", json!("rro"))),
            "mounts[5].options[1] (\"rro\"): recursive mount attributes are not supported",
        ),
        (
            Box::new(|v| {
                put(
                    v,
                    "/mounts/5/source",
                    json!("/nonexistent/nucleus/hostname"),
                )
            }),
            "mounts[5].source (\"/nonexistent/nucleus/hostname\"): No such file or directory",
        ),
        (
            Box::new(|v| put(v, "/mounts/5/destination", json!("/proc/meminfo"))),
            "mounts[5].destination (\"/proc/meminfo\"): only a proc file system may be mounted on /proc",
        ),
        (
            Box::new(|v| put(v, "/mounts/5/destination", json!("/"))),
            "mounts[5].destination (\"/\"): cannot mount over the sandbox root",
        ),
        (
            Box::new(|v| put(v, "/mounts/2/type", json!("overlay"))),
            "mounts[2].type (\"overlay\"): this file system type is not supported",
        ),
        (
            Box::new(|v| {
                put(
                    v,
                    "/mounts/5/uidMappings",
                    json!([{"containerID": 0, "hostID": 1, "size": 1}]),
                )
            }),
            "mounts[5].uidMappings",
        ),
        (
            Box::new(|v| remove(v, "/mounts/1")),
            "mounts: no tmpfs on /dev",
        ),
        (
            Box::new(|v| put(v, "/root/path", json!("/nonexistent/nucleus/rootfs"))),
            "root.path (\"/nonexistent/nucleus/rootfs\"): No such file or directory",
        ),
        (
            Box::new(|v| put(v, "/root/path", json!("/"))),
            "root.path (\"/\"): the host root cannot be the sandbox root",
        ),
        (
            Box::new(|v| remove(v, "/mounts/0")),
            "linux.sysctl: setting sysctls needs a proc file system on /proc",
        ),
        (
            Box::new(|v| put(v, "/annotations/x", json!(1))),
            "annotations.x (1): expected a string",
        ),
    ];
    for (edit, want) in cases {
        let e = t.edited(PODMAN, edit).unwrap_err().to_string();
        assert!(e.contains(want), "{e:?} lacks {want:?}");
        assert!(e.starts_with("config.json: "), "{e:?}");
        assert!(!e.contains('\n'), "{e:?}");
    }
}

#[test]
fn a_root_path_that_is_a_file_is_refused() {
    let t = TempBundle::new("rootfile");
    std::fs::write(t.dir.join("afile"), "").unwrap();
    let e = t
        .edited(RUNC, |v| put(v, "/root/path", json!("afile")))
        .unwrap_err()
        .to_string();
    assert!(e.contains("root.path (\"afile\"): not a directory"), "{e}");
}

#[test]
fn load_reads_the_bundle_directory() {
    let t = TempBundle::new("load");
    std::fs::write(t.dir.join("config.json"), RUNC).unwrap();
    match load(&t.dir) {
        Ok(b) => assert_eq!(b.dir, t.dir),
        // Run unprivileged, `runc spec`'s bundle (no user namespace) is refused.
        Err(e) => assert!(
            rustix::process::geteuid().as_raw() != 0 && e.to_string().contains("no user namespace"),
            "{e}"
        ),
    }
    let e = load(&t.dir.join("missing")).unwrap_err().to_string();
    assert!(e.contains("missing"), "{e}");
    std::fs::write(t.dir.join("config.json"), "{").unwrap();
    let e = load(&t.dir).unwrap_err().to_string();
    assert!(e.starts_with("config.json: not valid JSON"), "{e}");
}
