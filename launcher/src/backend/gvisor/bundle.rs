//! The OCI bundle runsc runs: `config.json` generated from the same [`Config`] the native
//! backend plans from, and for the embedded default root, the root directory itself.
//!
//! The translation follows the native plan step by step (see `crate::plan`): the same root
//! (read-only unless `--rootfs-rw`), `/proc`, a minimal `/dev` with a private devpts and
//! `/dev/shm`, a `/tmp` tmpfs, then volumes and tmpfs mounts in order; the same process
//! (arguments, environment, working directory, user and groups, umask, capabilities in every
//! set, no_new_privs, rlimits), hostname, namespaces, masked and read-only `/proc` paths, and
//! the seccomp policy (see `seccomp`).
//!
//! Resource limits are listed in `linux.resources` for the record, but runsc is told to leave
//! cgroups alone (`--ignore-cgroups`) and `linux.cgroupsPath` is left out: nucleus creates the
//! sandbox's cgroups itself, with the same limits, and starts runsc inside them, so runsc and
//! everything it starts are limited from their first instruction, and `stats` and the OOM
//! report work as for native sandboxes. runsc would otherwise make cgroups of its own at the
//! root of every hierarchy (`/ID`, even without a path) and move its processes there by pid,
//! which costs 6-13 ms per v1 hierarchy. The cgroups are named in the annotations instead.

use std::os::unix::ffi::OsStrExt;
use std::path::Path;

use serde_json::{Value, json};

use crate::cgroup::config::{Limits, Swap};
use crate::config::{Config, Network};
use crate::error::Error;
use crate::plan::{Entry, HostRoot};

/// The OCI runtime spec's resource names, by `RLIMIT_*` number.
const RLIMITS: [&str; 16] = [
    "RLIMIT_CPU",
    "RLIMIT_FSIZE",
    "RLIMIT_DATA",
    "RLIMIT_STACK",
    "RLIMIT_CORE",
    "RLIMIT_RSS",
    "RLIMIT_NPROC",
    "RLIMIT_NOFILE",
    "RLIMIT_MEMLOCK",
    "RLIMIT_AS",
    "RLIMIT_LOCKS",
    "RLIMIT_SIGPENDING",
    "RLIMIT_MSGQUEUE",
    "RLIMIT_NICE",
    "RLIMIT_RTPRIO",
    "RLIMIT_RTTIME",
];

/// Everything the spec is made from besides the configuration.
#[derive(Debug, Clone)]
pub struct Inputs<'a> {
    /// What the host offers for the default root (empty with `--rootfs`).
    pub host: &'a HostRoot,
    /// The root directory runsc serves as `/`.
    pub root: &'a Path,
    /// `linux.seccomp`, or None when unconfined.
    pub seccomp: Option<Value>,
    /// The launcher's own limits, which a native workload inherits: (resource, soft, hard).
    pub own_rlimits: Vec<(u32, u64, u64)>,
    /// The sandbox's cgroup directories, for the annotations.
    pub cgroups: Vec<String>,
}

fn mount(destination: &str, kind: &str, source: &str, options: &[&str]) -> Value {
    json!({"destination": destination, "type": kind, "source": source, "options": options})
}

fn bind(source: &Path, destination: &str, read_only: bool, nodev: bool) -> Value {
    let mut options = vec!["rbind", if read_only { "ro" } else { "rw" }];
    if nodev {
        options.push("nodev");
    }
    mount(destination, "bind", &source.display().to_string(), &options)
}

fn mounts(cfg: &Config, host: &HostRoot) -> Vec<Value> {
    let mut out = Vec::new();
    if cfg.rootfs.is_none() {
        for (name, entry) in &host.entries {
            if matches!(entry, Entry::Dir | Entry::File) {
                out.push(bind(
                    &Path::new("/").join(name),
                    &format!("/{name}"),
                    true,
                    true,
                ));
            }
        }
        if cfg.network == Network::Host && host.resolv_conf {
            out.push(bind(
                Path::new("/etc/resolv.conf"),
                "/etc/resolv.conf",
                true,
                true,
            ));
        }
    }
    out.extend([
        mount("/proc", "proc", "proc", &["nosuid", "nodev", "noexec"]),
        mount(
            "/dev",
            "tmpfs",
            "tmpfs",
            &["nosuid", "noexec", "mode=755", "size=65536k"],
        ),
        mount(
            "/dev/pts",
            "devpts",
            "devpts",
            &[
                "nosuid",
                "noexec",
                "newinstance",
                "ptmxmode=0666",
                "mode=0620",
            ],
        ),
        mount(
            "/dev/shm",
            "tmpfs",
            "shm",
            &["nosuid", "noexec", "nodev", "mode=1777", "size=65536k"],
        ),
        mount("/tmp", "tmpfs", "tmpfs", &["nosuid", "nodev", "mode=1777"]),
    ]);
    for v in &cfg.volumes {
        out.push(bind(&v.source, v.target.as_str(), v.read_only, false));
    }
    for t in &cfg.tmpfs {
        let mut options: Vec<String> = [
            (t.read_only, "ro", "rw"),
            (t.noexec, "noexec", "exec"),
            (t.nosuid, "nosuid", "suid"),
            (t.nodev, "nodev", "dev"),
        ]
        .iter()
        .map(|&(set, yes, no)| if set { yes } else { no }.to_owned())
        .collect();
        options.push(format!("mode={:o}", t.mode.unwrap_or(0o1777)));
        if let Some(size) = t.size {
            options.push(format!("size={size}"));
        }
        let options: Vec<&str> = options.iter().map(String::as_str).collect();
        out.push(mount(t.target.as_str(), "tmpfs", "tmpfs", &options));
    }
    out
}

fn rlimits(cfg: &Config, own: &[(u32, u64, u64)]) -> Vec<Value> {
    (0..RLIMITS.len() as u32)
        .filter_map(|r| {
            let (soft, hard) = match cfg.rlimits.iter().find(|l| l.resource == r) {
                Some(l) => (l.soft, l.hard),
                None => own
                    .iter()
                    .find(|(res, ..)| *res == r)
                    .map(|&(_, s, h)| (s, h))?,
            };
            Some(json!({"type": RLIMITS[r as usize], "soft": soft, "hard": hard}))
        })
        .collect()
}

/// The launcher's own limits, for [`Inputs::own_rlimits`].
pub fn own_rlimits() -> Vec<(u32, u64, u64)> {
    use rustix::process::Resource::*;
    [
        Cpu, Fsize, Data, Stack, Core, Rss, Nproc, Nofile, Memlock, As, Locks, Sigpending,
        Msgqueue, Nice, Rtprio, Rttime,
    ]
    .into_iter()
    .enumerate()
    .map(|(r, res)| {
        let l = rustix::process::getrlimit(res);
        (
            r as u32,
            l.current.unwrap_or(u64::MAX),
            l.maximum.unwrap_or(u64::MAX),
        )
    })
    .collect()
}

fn resources(l: &Limits) -> Value {
    let mut r = json!({});
    let mut memory = json!({});
    if let Some(m) = l.memory {
        memory["limit"] = json!(m);
        memory["swap"] = match l.swap {
            Swap::Off => json!(m),
            Swap::Total(t) => json!(t),
            Swap::Unlimited => json!(-1),
        };
    }
    if let Some(m) = l.memory_reservation {
        memory["reservation"] = json!(m);
    }
    if memory != json!({}) {
        r["memory"] = memory;
    }
    let mut cpu = json!({});
    if let Some(q) = l.cpu_quota_us {
        cpu["quota"] = json!(q);
        cpu["period"] = json!(crate::cgroup::config::CPU_PERIOD_US);
    }
    if let Some(s) = l.cpu_shares {
        cpu["shares"] = json!(s);
    }
    if cpu != json!({}) {
        r["cpu"] = cpu;
    }
    if let Some(p) = l.pids {
        r["pids"] = json!({"limit": p});
    }
    if let Some(w) = l.blkio_weight {
        r["blockIO"] = json!({"weight": w});
    }
    r
}

/// The capability names of `set`, as OCI writes them (`CAP_NET_RAW`).
fn capabilities(set: u64) -> Vec<String> {
    crate::config::caps::NAMES
        .iter()
        .enumerate()
        .filter(|(i, _)| set & (1 << i) != 0)
        .map(|(_, n)| format!("CAP_{n}"))
        .collect()
}

/// `config.json` for `cfg`.
pub fn spec(cfg: &Config, i: &Inputs<'_>) -> Value {
    let caps = capabilities(cfg.caps);
    let mut namespaces = vec![
        json!({"type": "pid"}),
        json!({"type": "ipc"}),
        json!({"type": "uts"}),
        json!({"type": "mount"}),
    ];
    if cfg.network == Network::None {
        namespaces.push(json!({"type": "network"}));
    }
    let prefix = |p: &&str| format!("/{p}");
    let mut linux = json!({
        "namespaces": namespaces,
        "resources": resources(&cfg.cgroup.limits),
        "maskedPaths": crate::plan::MASKED.iter().map(prefix).collect::<Vec<_>>(),
        "readonlyPaths": crate::plan::READ_ONLY.iter().map(prefix).collect::<Vec<_>>(),
    });
    if let Some(s) = &i.seccomp {
        linux["seccomp"] = s.clone();
    }
    let mut annotations = json!({"dev.nucleus.sandbox": cfg.cgroup.name});
    if !i.cgroups.is_empty() {
        annotations["dev.nucleus.cgroups"] = json!(i.cgroups.join(":"));
    }
    json!({
        "ociVersion": "1.0.2",
        "process": {
            "terminal": false,
            "user": {
                "uid": cfg.uid,
                "gid": cfg.gid,
                "additionalGids": cfg.groups,
                "umask": cfg.umask,
            },
            "args": cfg.command,
            "env": cfg.env.iter().map(|(k, v)| format!("{k}={v}")).collect::<Vec<_>>(),
            "cwd": cfg.workdir.as_str(),
            "capabilities": {
                "bounding": caps,
                "effective": caps,
                "inheritable": caps,
                "permitted": caps,
                "ambient": caps,
            },
            "rlimits": rlimits(cfg, &i.own_rlimits),
            "noNewPrivileges": true,
        },
        "root": {
            "path": i.root.display().to_string(),
            // The default root is always read-only; a --rootfs unless --rootfs-rw.
            "readonly": cfg.rootfs.is_none() || !cfg.rootfs_rw,
        },
        "hostname": cfg.hostname,
        "mounts": mounts(cfg, i.host),
        "linux": linux,
        "annotations": annotations,
    })
}

/// The default root's directory at `dir`: mount points for the host's system directories,
/// their symlinks on merged-/usr hosts, and the generated `/etc` files (as the native plan
/// writes them into its tmpfs).
pub fn default_root(dir: &Path, cfg: &Config, host: &HostRoot) -> Result<(), Error> {
    let io = |what: &str, p: &Path, e| Error::io(format!("{what} {}", p.display()), e);
    let mkdir = |p: &Path, mode: u32| -> Result<(), Error> {
        std::fs::create_dir_all(p).map_err(|e| io("creating", p, e))?;
        std::os::unix::fs::chown(p, Some(0), Some(0)).ok();
        std::fs::set_permissions(p, std::os::unix::fs::PermissionsExt::from_mode(mode))
            .map_err(|e| io("setting the mode of", p, e))
    };
    mkdir(dir, 0o755)?;
    mkdir(&dir.join("etc"), 0o755)?;
    for (name, entry) in &host.entries {
        let p = dir.join(name);
        match entry {
            Entry::Dir => mkdir(&p, 0o755)?,
            Entry::File => std::fs::write(&p, b"").map_err(|e| io("creating", &p, e))?,
            Entry::Link(target) => {
                std::os::unix::fs::symlink(target, &p).map_err(|e| io("creating", &p, e))?
            }
        }
    }
    for (path, contents) in crate::plan::etc_files(cfg) {
        let p = dir.join(path);
        std::fs::write(&p, contents).map_err(|e| io("writing", &p, e))?;
    }
    if cfg.network == Network::Host && host.resolv_conf {
        let p = dir.join("etc/resolv.conf");
        std::fs::write(&p, b"").map_err(|e| io("creating", &p, e))?;
    }
    for (name, mode) in [
        ("root", 0o700),
        ("run", 0o755),
        ("proc", 0o555),
        ("dev", 0o755),
        ("tmp", 0o1777),
    ] {
        mkdir(&dir.join(name), mode)?;
    }
    Ok(())
}

/// Refuses what runsc would misread: paths it takes as text must be valid UTF-8.
pub fn check_paths(cfg: &Config) -> Result<(), Error> {
    let bad = cfg
        .volumes
        .iter()
        .map(|v| v.source.as_path())
        .chain(cfg.rootfs.as_deref())
        .find(|p| std::str::from_utf8(p.as_os_str().as_bytes()).is_err());
    match bad {
        Some(p) => Err(Error::usage(format!(
            "{}: --runtime gvisor needs paths in UTF-8 (OCI's config.json is JSON text)",
            p.display()
        ))),
        None => Ok(()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cli::RunArgs;

    fn config(extra: impl FnOnce(&mut RunArgs)) -> Config {
        let mut a = RunArgs {
            network: "none".into(),
            command: vec!["/bin/sh".into(), "-c".into(), "true".into()],
            ..Default::default()
        };
        extra(&mut a);
        Config::from_args(a, |_| None).unwrap()
    }

    fn host() -> HostRoot {
        HostRoot {
            entries: vec![
                ("usr", Entry::Dir),
                ("bin", Entry::Link("usr/bin".into())),
                ("etc/ld.so.cache", Entry::File),
            ],
            resolv_conf: true,
        }
    }

    fn inputs(host: &HostRoot) -> Inputs<'_> {
        Inputs {
            host,
            root: Path::new("/run/x/bundle/rootfs"),
            seccomp: None,
            own_rlimits: vec![(7, 1024, 4096), (4, 0, u64::MAX)],
            cgroups: vec![],
        }
    }

    #[test]
    fn the_process_is_the_native_one() {
        let cfg = config(|a| {
            a.env = vec!["A=1".into()];
            a.workdir = Some("/tmp".into());
            a.user = Some("1000:100".into());
            a.cap_add = vec!["NET_RAW".into(), "CHOWN".into()];
            a.ulimits = vec!["nofile=10:20".into()];
            a.hostname = Some("box".into());
        });
        let h = host();
        let s = spec(&cfg, &inputs(&h));
        let p = &s["process"];
        assert_eq!(p["args"], json!(["/bin/sh", "-c", "true"]));
        assert_eq!(
            p["env"],
            json!([
                "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin",
                "HOSTNAME=box",
                "HOME=/",
                "A=1"
            ])
        );
        assert_eq!(p["cwd"], "/tmp");
        assert_eq!(p["user"]["uid"], 1000);
        assert_eq!(p["user"]["gid"], 100);
        assert_eq!(p["user"]["additionalGids"], json!([]));
        for set in [
            "bounding",
            "effective",
            "inheritable",
            "permitted",
            "ambient",
        ] {
            assert_eq!(
                p["capabilities"][set],
                json!(["CAP_CHOWN", "CAP_NET_RAW"]),
                "{set}"
            );
        }
        assert_eq!(p["noNewPrivileges"], true);
        // --ulimit wins over the launcher's own limit, which the rest inherit.
        assert_eq!(
            p["rlimits"],
            json!([
                {"type": "RLIMIT_CORE", "soft": 0, "hard": u64::MAX},
                {"type": "RLIMIT_NOFILE", "soft": 10, "hard": 20},
            ])
        );
        assert_eq!(s["hostname"], "box");
        assert_eq!(s["root"]["readonly"], true);
        let ns: Vec<&str> = s["linux"]["namespaces"]
            .as_array()
            .unwrap()
            .iter()
            .map(|n| n["type"].as_str().unwrap())
            .collect();
        assert_eq!(ns, ["pid", "ipc", "uts", "mount", "network"]);
        assert!(s["linux"].get("cgroupsPath").is_none());
        assert!(s["linux"].get("seccomp").is_none());
        assert_eq!(s["linux"]["resources"]["pids"]["limit"], 1024);
        assert!(
            s["linux"]["maskedPaths"]
                .as_array()
                .unwrap()
                .contains(&json!("/proc/kcore"))
        );
    }

    #[test]
    fn mounts_follow_the_native_plan() {
        let dir = std::env::temp_dir()
            .canonicalize()
            .unwrap()
            .display()
            .to_string();
        let cfg = config(|a| {
            a.volumes = vec![format!("{dir}:/data:ro")];
            a.tmpfs = vec!["/scratch:size=1m,exec".into()];
            a.network = "host".into();
            a.cgroup.memory = Some("64m".into());
        });
        let h = host();
        let s = spec(&cfg, &inputs(&h));
        let m = s["mounts"].as_array().unwrap();
        let dest: Vec<&str> = m
            .iter()
            .map(|m| m["destination"].as_str().unwrap())
            .collect();
        assert_eq!(
            dest,
            [
                "/usr",
                "/etc/ld.so.cache",
                "/etc/resolv.conf",
                "/proc",
                "/dev",
                "/dev/pts",
                "/dev/shm",
                "/tmp",
                "/data",
                "/scratch"
            ]
        );
        assert_eq!(m[0]["options"], json!(["rbind", "ro", "nodev"]));
        assert_eq!(m[8]["source"], json!(dir));
        assert_eq!(m[8]["options"], json!(["rbind", "ro"]));
        assert_eq!(
            m[9]["options"],
            json!(["rw", "exec", "nosuid", "nodev", "mode=1777", "size=1048576"])
        );
        // Host network: no network namespace.
        assert_eq!(s["linux"]["namespaces"].as_array().unwrap().len(), 4);
        let mem = &s["linux"]["resources"]["memory"];
        assert_eq!(mem["limit"], 64 << 20);
        assert_eq!(mem["swap"], 64 << 20);
    }

    #[test]
    fn a_writable_rootfs_stays_writable() {
        let dir = std::env::temp_dir().display().to_string();
        let cfg = config(|a| {
            a.rootfs = Some(dir.clone());
            a.rootfs_rw = true;
        });
        let h = HostRoot::default();
        let s = spec(&cfg, &inputs(&h));
        assert_eq!(s["root"]["readonly"], false);
        assert_eq!(s["mounts"][0]["destination"], "/proc");
    }
}
