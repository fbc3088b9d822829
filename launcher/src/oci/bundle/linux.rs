//! `linux`: namespaces, id maps, devices, sysctls, masked and read-only paths, seccomp.

use serde_json::Value;

use super::json::{Obj, fail, fail_at, no_nul, sandbox_path};
use crate::config::oci::{Device, Namespaces};
use crate::config::{Network, SandboxPath};
use crate::error::Error;
use crate::userns::{IdMap, UserNs};

/// What `linux` says, apart from `resources`.
#[derive(Debug, Clone)]
pub struct Linux {
    pub network: Network,
    pub namespaces: Namespaces,
    pub userns: Option<UserNs>,
    pub devices: Vec<Device>,
    pub sysctl: Vec<(String, String)>,
    pub read_only: Vec<SandboxPath>,
    pub masked: Vec<SandboxPath>,
    pub seccomp: crate::seccomp::Choice,
    pub cgroups_path: Option<String>,
}

/// Facts about the caller that decide what a bundle may ask for.
#[derive(Debug, Clone, Copy)]
pub struct Caller {
    pub euid: u32,
    pub egid: u32,
    /// The capabilities the launcher holds (its bounding set), all a sandbox can have.
    pub caps: u64,
}

const UNSUPPORTED: &[(&str, &str)] = &[
    ("mountLabel", "SELinux mount labels are not supported"),
    ("intelRdt", "Intel RDT is not supported"),
    ("timeOffsets", "time namespaces are not supported"),
    ("memoryPolicy", "memory policies are not supported"),
    (
        "netDevices",
        "moving network devices into the sandbox is not supported",
    ),
];

pub fn parse(v: Option<&Value>, caller: Caller) -> Result<Linux, Error> {
    let empty = Value::Object(serde_json::Map::new());
    let l = Obj::new(v.unwrap_or(&empty), "linux")?;
    l.only(
        &[
            "namespaces",
            "uidMappings",
            "gidMappings",
            "devices",
            "sysctl",
            "maskedPaths",
            "readonlyPaths",
            "seccomp",
            "resources",
            "cgroupsPath",
            "rootfsPropagation",
            "personality",
        ],
        UNSUPPORTED,
    )?;
    match l.str("rootfsPropagation")? {
        None | Some("" | "private" | "rprivate") => {}
        Some(p) => {
            return Err(fail(
                "linux.rootfsPropagation",
                &Value::from(p),
                "only private propagation is supported (nucleus makes every mount private)",
            ));
        }
    }
    personality(&l)?;
    let (network, namespaces, user) = namespaces(&l)?;
    let userns = id_maps(&l, user, caller)?;
    let cgroups_path = match l.str("cgroupsPath")? {
        None | Some("") => None,
        Some(p) => {
            no_nul("linux.cgroupsPath", &Value::from(p), p)?;
            Some(p.to_owned())
        }
    };
    Ok(Linux {
        network,
        namespaces,
        devices: devices(&l, userns.is_some())?,
        userns,
        sysctl: sysctl(&l, network, namespaces)?,
        read_only: paths(&l, "readonlyPaths")?,
        masked: paths(&l, "maskedPaths")?,
        seccomp: seccomp(&l)?,
        cgroups_path,
    })
}

/// Only the plain Linux personality (what every process has) is accepted.
fn personality(l: &Obj<'_>) -> Result<(), Error> {
    let Some(v) = l.get("personality") else {
        return Ok(());
    };
    let p = Obj::new(v, "linux.personality")?;
    p.only(&["domain", "flags"], &[])?;
    let plain = p.str("domain")? == Some("LINUX") && p.array("flags")?.is_empty();
    if plain {
        Ok(())
    } else {
        Err(fail(
            "linux.personality",
            v,
            "only the LINUX domain without flags is supported",
        ))
    }
}

/// (network, uts/ipc/cgroup, user namespace asked for).
fn namespaces(l: &Obj<'_>) -> Result<(Network, Namespaces, bool), Error> {
    let mut seen: Vec<&str> = Vec::new();
    for (i, v) in l.array("namespaces")?.iter().enumerate() {
        let path = format!("linux.namespaces[{i}]");
        let n = Obj::new(v, &path)?;
        n.only(&["type", "path"], &[])?;
        let kind = n.req_str("type")?;
        if let Some(p) = n.str("path")?.filter(|p| !p.is_empty()) {
            return Err(fail(
                &n.at("path"),
                &Value::from(p),
                "joining an existing namespace is not supported",
            ));
        }
        match kind {
            "pid" | "mount" | "network" | "ipc" | "uts" | "cgroup" | "user" => {}
            "time" => {
                return Err(fail(
                    &n.at("type"),
                    &Value::from(kind),
                    "time namespaces are not supported",
                ));
            }
            other => {
                return Err(fail(
                    &n.at("type"),
                    &Value::from(other),
                    "unknown namespace type",
                ));
            }
        }
        if seen.contains(&kind) {
            return Err(fail(&n.at("type"), &Value::from(kind), "given twice"));
        }
        seen.push(kind);
    }
    for needed in ["pid", "mount"] {
        if !seen.contains(&needed) {
            return Err(fail_at(
                "linux.namespaces",
                format!(
                    "no {needed} namespace: nucleus always runs a sandbox in a {needed} namespace of its own"
                ),
            ));
        }
    }
    let has = |k: &str| seen.contains(&k);
    let network = if has("network") {
        Network::None
    } else {
        Network::Host
    };
    Ok((
        network,
        Namespaces {
            uts: has("uts"),
            ipc: has("ipc"),
            cgroup: has("cgroup"),
        },
        has("user"),
    ))
}

fn id_map(l: &Obj<'_>, key: &str) -> Result<Vec<IdMap>, Error> {
    let path = l.at(key);
    let mut out: Vec<IdMap> = Vec::new();
    for (i, v) in l.array(key)?.iter().enumerate() {
        let at = format!("{path}[{i}]");
        let m = Obj::new(v, &at)?;
        m.only(&["containerID", "hostID", "size"], &[])?;
        let map = IdMap {
            inside: m.req_u32("containerID")?,
            outside: m.req_u32("hostID")?,
            count: m.req_u32("size")?,
        };
        let end = |start: u32| start.checked_add(map.count);
        if map.count == 0 || end(map.inside).is_none() || end(map.outside).is_none() {
            return Err(fail(&at, v, "the range is empty or overflows"));
        }
        let overlaps = |a: u32, an: u32, b: u32, bn: u32| a < b + bn && b < a + an;
        if let Some(o) = out.iter().find(|o| {
            overlaps(o.inside, o.count, map.inside, map.count)
                || overlaps(o.outside, o.count, map.outside, map.count)
        }) {
            return Err(fail(&at, v, format!("overlaps the range {o}")));
        }
        out.push(map);
    }
    if out.len() > 340 {
        return Err(fail_at(&path, "the kernel takes at most 340 ranges"));
    }
    Ok(out)
}

fn id_maps(l: &Obj<'_>, user: bool, caller: Caller) -> Result<Option<UserNs>, Error> {
    let uid_map = id_map(l, "uidMappings")?;
    let gid_map = id_map(l, "gidMappings")?;
    if !user {
        if !uid_map.is_empty() || !gid_map.is_empty() {
            return Err(fail_at(
                "linux.uidMappings",
                "id mappings without a user namespace in linux.namespaces",
            ));
        }
        if caller.euid != 0 {
            return Err(fail_at(
                "linux.namespaces",
                "no user namespace: run by an unprivileged user, nucleus needs one (as runc does for a rootless bundle)",
            ));
        }
        return Ok(None);
    }
    for (key, map) in [("uidMappings", &uid_map), ("gidMappings", &gid_map)] {
        if map.is_empty() {
            return Err(fail_at(
                &l.at(key),
                "a user namespace needs both uidMappings and gidMappings",
            ));
        }
    }
    let rootless = caller.euid != 0;
    if rootless {
        // Without privilege the kernel takes one range of one id: the caller's own.
        for (key, map, own) in [
            ("uidMappings", &uid_map, caller.euid),
            ("gidMappings", &gid_map, caller.egid),
        ] {
            if map.len() != 1 || map[0].outside != own || map[0].count != 1 {
                return Err(fail_at(
                    &l.at(key),
                    format!(
                        "run by an unprivileged user, nucleus can map only the caller's own id ({own}) to one id inside"
                    ),
                ));
            }
        }
    }
    Ok(Some(UserNs {
        uid_map,
        gid_map,
        rootless,
    }))
}

/// The sysctls of namespaces the sandbox has of its own, as runc allows them.
fn sysctl(l: &Obj<'_>, network: Network, ns: Namespaces) -> Result<Vec<(String, String)>, Error> {
    const IPC: &[&str] = &[
        "kernel.msgmax",
        "kernel.msgmnb",
        "kernel.msgmni",
        "kernel.sem",
        "kernel.shmall",
        "kernel.shmmax",
        "kernel.shmmni",
        "kernel.shm_rmid_forced",
    ];
    let Some(v) = l.get("sysctl") else {
        return Ok(Vec::new());
    };
    let o = Obj::new(v, "linux.sysctl")?;
    let mut out = Vec::new();
    for (key, value) in o.entries() {
        let path = format!("linux.sysctl.{key}");
        let Value::String(text) = value else {
            return Err(fail(&path, value, "expected a string"));
        };
        no_nul(&path, value, text)?;
        if text.len() > 4096 {
            return Err(fail(&path, value, "longer than a page"));
        }
        // `net.ipv4.ip_forward` or `net/ipv4/conf/eth0.1/forwarding` (where a dot belongs to
        // a name).
        let sep = if key.contains('/') { '/' } else { '.' };
        let parts: Vec<&str> = key.split(sep).collect();
        let bad = parts
            .iter()
            .any(|p| p.is_empty() || *p == "." || *p == ".." || p.contains('\0'));
        if bad || (sep == '/' && parts.iter().any(|p| p.contains('/'))) {
            return Err(fail(&path, value, "not a sysctl name"));
        }
        let dotted = parts.join(".");
        let why = if IPC.contains(&dotted.as_str()) || dotted.starts_with("fs.mqueue.") {
            (!ns.ipc).then_some("an IPC sysctl needs an ipc namespace of the sandbox's own")
        } else if dotted.starts_with("net.") {
            (network != Network::None)
                .then_some("a network sysctl needs a network namespace of the sandbox's own")
        } else if dotted == "kernel.hostname" || dotted == "kernel.domainname" {
            Some("set the host name with the hostname field; domain names are not supported")
        } else {
            Some("not a sysctl of a namespace the sandbox has of its own")
        };
        if let Some(why) = why {
            return Err(fail(&path, value, why));
        }
        out.push((parts.join("/"), text.clone()));
    }
    Ok(out)
}

fn paths(l: &Obj<'_>, key: &str) -> Result<Vec<SandboxPath>, Error> {
    let mut out = Vec::new();
    for (i, raw) in l.strings(key)?.into_iter().enumerate() {
        let path = format!("{}[{i}]", l.at(key));
        let p = sandbox_path(&path, raw)?;
        if p.is_root() {
            return Err(fail(&path, &Value::from(raw), "cannot be the sandbox root"));
        }
        if !out.contains(&p) {
            out.push(p);
        }
    }
    Ok(out)
}

/// `linux.devices`: character devices under `/dev`, owned by root (the device cgroup must
/// let the sandbox use them, see `resources`).
fn devices(l: &Obj<'_>, in_userns: bool) -> Result<Vec<Device>, Error> {
    const S_IFMT: u32 = 0o170_000;
    const S_IFCHR: u32 = 0o020_000;
    let mut out: Vec<Device> = Vec::new();
    for (i, v) in l.array("devices")?.iter().enumerate() {
        let at = format!("linux.devices[{i}]");
        let d = Obj::new(v, &at)?;
        d.only(
            &["path", "type", "major", "minor", "fileMode", "uid", "gid"],
            &[],
        )?;
        let raw = d.req_str("path")?;
        let path = sandbox_path(&d.at("path"), raw)?;
        if !path.starts_with("/dev") || path.as_str() == "/dev" {
            return Err(fail(
                &d.at("path"),
                &Value::from(raw),
                "devices are made only beneath /dev",
            ));
        }
        match d.req_str("type")? {
            "c" | "u" => {}
            "b" => {
                return Err(fail(
                    &d.at("type"),
                    &Value::from("b"),
                    "block devices are not supported",
                ));
            }
            t => {
                return Err(fail(
                    &d.at("type"),
                    &Value::from(t),
                    "only character devices (c) are supported",
                ));
            }
        }
        let number = |k: &str, max: u32| -> Result<u32, Error> {
            let n = d
                .i64(k)?
                .ok_or_else(|| fail_at(&d.at(k), "missing (required)"))?;
            u32::try_from(n)
                .ok()
                .filter(|n| *n <= max)
                .ok_or_else(|| fail(&d.at(k), &Value::from(n), "not a device number"))
        };
        let (major, minor) = (number("major", 0xfff)?, number("minor", 0xf_ffff)?);
        let mode = match d.u32("fileMode")? {
            None => 0o666,
            Some(m) if m & S_IFMT == 0 || m & S_IFMT == S_IFCHR => m & 0o7777,
            Some(m) => {
                return Err(fail(
                    &d.at("fileMode"),
                    &Value::from(m),
                    "the file type bits say this is not a character device",
                ));
            }
        };
        for key in ["uid", "gid"] {
            if let Some(id) = d.u32(key)?.filter(|id| *id != 0) {
                return Err(fail(
                    &d.at(key),
                    &Value::from(id),
                    "device nodes are owned by root; other owners are not supported",
                ));
            }
        }
        if !super::resources::cgroup_allows(major, Some(minor)) {
            return Err(fail(
                &at,
                v,
                "the sandbox's device cgroup lets it use only the minimal /dev (null, zero, full, random, urandom, tty, ptmx and its terminals); other devices are not supported",
            ));
        }
        if in_userns {
            host_node(&d.at("path"), raw, major, minor)?;
        }
        if out.iter().any(|o| o.path == path) {
            return Err(fail(&d.at("path"), &Value::from(raw), "given twice"));
        }
        out.push(Device {
            path,
            major,
            minor,
            mode,
        });
    }
    Ok(out)
}

/// In a user namespace nodes cannot be made: the host's node of the same path is bound,
/// and it has to be the device asked for.
fn host_node(at: &str, raw: &str, major: u32, minor: u32) -> Result<(), Error> {
    let same = rustix::fs::stat(raw).is_ok_and(|st| {
        rustix::fs::FileType::from_raw_mode(st.st_mode) == rustix::fs::FileType::CharacterDevice
            && rustix::fs::major(st.st_rdev) == major
            && rustix::fs::minor(st.st_rdev) == minor
    });
    if same {
        Ok(())
    } else {
        Err(fail(
            at,
            &Value::from(raw),
            format!(
                "in a user namespace the host's node is bound, and the host has no character device {major}:{minor} there"
            ),
        ))
    }
}

/// `linux.seccomp`, checked now so that a mistake names its field; absent means no filter
/// (as with runc: the bundle's author chose none).
fn seccomp(l: &Obj<'_>) -> Result<crate::seccomp::Choice, Error> {
    let Some(v) = l.get("seccomp") else {
        return Ok(crate::seccomp::Choice::Unconfined);
    };
    let text = v.to_string();
    let ctx = crate::seccomp::Context {
        arch: crate::seccomp::native_arch()?,
        caps: Vec::new(),
        kernel: crate::seccomp::kernel_version(),
    };
    crate::seccomp::oci::parse(&text, &ctx)
        .map_err(|e| Error::usage(format!("config.json: linux.seccomp.{e}")))?;
    Ok(crate::seccomp::Choice::Inline(text))
}
