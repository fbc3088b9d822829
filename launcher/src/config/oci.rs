//! What an OCI bundle's `config.json` decides about the sandbox's file system, validated by
//! `oci::bundle`: it replaces nucleus's own `/proc`, `/dev`, `/tmp`, masks and read-only paths
//! (`run` keeps those), and the plan compiler lays it out in the bundle's order.

use std::path::PathBuf;

use super::SandboxPath;

/// The whole file system layout of an OCI sandbox beyond its root.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Filesystem {
    /// `mounts`, in the bundle's order.
    pub mounts: Vec<Mount>,
    /// `linux.devices`: character devices created in the sandbox's `/dev` besides the
    /// default ones (`null`, `zero`, `full`, `random`, `urandom`, `tty`).
    pub devices: Vec<Device>,
    /// `linux.sysctl`, as (key with `/` separators, value), in key order.
    pub sysctl: Vec<(String, String)>,
    /// `linux.readonlyPaths`.
    pub read_only: Vec<SandboxPath>,
    /// `linux.maskedPaths`.
    pub masked: Vec<SandboxPath>,
    /// The sandbox's own cgroups, which a `cgroup` mount shows. Not in the bundle: whoever
    /// starts the sandbox fills it in once the cgroups exist and before the plan is compiled
    /// (a `cgroup` mount without it fails the compile, it is never left out).
    pub cgroups: Option<SandboxCgroups>,
}

/// The sandbox's cgroup directories on the host.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SandboxCgroups {
    /// The unified hierarchy: one directory.
    V2(PathBuf),
    /// One directory per v1 hierarchy, with the hierarchy's controllers (`cpu`, `cpuacct`).
    V1(Vec<(Vec<String>, PathBuf)>),
}

impl SandboxCgroups {
    /// The directories of a sandbox's cgroups, once made (None if it has none).
    pub fn of(sandbox: &crate::cgroup::Sandbox) -> Option<Self> {
        let dirs = sandbox.dirs();
        match sandbox.version() {
            crate::cgroup::Version::V2 => dirs.first().map(|d| SandboxCgroups::V2(d.path.clone())),
            crate::cgroup::Version::V1 if dirs.is_empty() => None,
            crate::cgroup::Version::V1 => Some(SandboxCgroups::V1(
                dirs.iter()
                    .map(|d| (d.controllers.clone(), d.path.clone()))
                    .collect(),
            )),
        }
    }
}

/// One entry of `mounts`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Mount {
    pub target: SandboxPath,
    pub kind: MountKind,
    /// `nucleus_shared::plan::flags` bits from the options (`ro`, `nosuid`, `strictatime` ...).
    pub flags: u32,
    /// `mounts[3] (/dev/shm)`, for messages.
    pub origin: String,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum MountKind {
    /// A new instance of a file system (`proc`, `sysfs`, `tmpfs`, `devpts`, `mqueue`) with
    /// its data options (`mode=755,size=65536k`).
    Fs { fstype: String, data: String },
    /// A host path; `recursive` for `rbind` (the mounts beneath it come along).
    Bind {
        source: PathBuf,
        recursive: bool,
        is_dir: bool,
    },
    /// `cgroup`: the sandbox's own cgroups, read from the host when the plan is made.
    Cgroup,
}

/// One entry of `linux.devices` (a character device, owned by root).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Device {
    pub path: SandboxPath,
    pub major: u32,
    pub minor: u32,
    /// Permission bits.
    pub mode: u32,
}

/// The namespaces a sandbox gets of its own, beyond pid, mount and (per [`super::Network`])
/// network, which are decided elsewhere. `run` creates all of them; an OCI bundle may leave
/// some out, and the sandbox then shares the launcher's.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Namespaces {
    pub uts: bool,
    pub ipc: bool,
    pub cgroup: bool,
}

impl Default for Namespaces {
    fn default() -> Self {
        Namespaces {
            uts: true,
            ipc: true,
            cgroup: true,
        }
    }
}
