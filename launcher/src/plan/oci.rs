//! An OCI bundle's file system, laid out as runc does: its mounts in the bundle's order, then
//! the device nodes and links runc makes in a tmpfs `/dev`, then the sysctls (while
//! `/proc/sys` is still writable), the read-only paths and the masked paths (masks last, so
//! that a read-only bind of a parent never covers them).
//!
//! Every mount target is resolved beneath the root without following any symlink
//! (`NOFOLLOW`), as for `run`'s own mounts: an image cannot redirect a mount of its bundle.

use nucleus_shared::plan::{Op, flags};

use super::{Ops, cstring, dev};
use crate::config::Config;
use crate::config::oci::{Filesystem, Mount, MountKind, SandboxCgroups};
use crate::error::Error;

pub fn layout(ops: &mut Ops, cfg: &Config, fs: &Filesystem) -> Result<(), Error> {
    // A read-only /dev is made so only once its nodes and links are in it (runc does the
    // same in its final step).
    let mut later = Vec::new();
    for m in &fs.mounts {
        mount(ops, m, fs.cgroups.as_ref(), &mut later)?;
    }
    devices(ops, fs, cfg.userns.is_some())?;
    for (key, value) in &fs.sysctl {
        let k = cstring(key, key)?;
        ops.push(
            Op::Sysctl {
                key: &k,
                value: value.as_bytes(),
            },
            format!(
                "setting the sysctl {} to {value:?} (linux.sysctl)",
                key.replace('/', ".")
            ),
        );
    }
    for p in &fs.read_only {
        let t = cstring(p.as_str(), p.relative())?;
        ops.push(
            Op::ReadOnly { target: &t },
            format!("making {p} read-only (linux.readonlyPaths)"),
        );
    }
    for p in &fs.masked {
        let t = cstring(p.as_str(), p.relative())?;
        ops.push(
            Op::Mask { target: &t },
            format!("masking {p} (linux.maskedPaths)"),
        );
    }
    for (target, f) in later {
        remount(ops, &target, f)?;
    }
    Ok(())
}

fn remount(ops: &mut Ops, target: &str, f: u32) -> Result<(), Error> {
    let t = cstring(target, target)?;
    ops.push(
        Op::Remount {
            target: &t,
            flags: f,
        },
        format!("making the mount on /{target} read-only"),
    );
    Ok(())
}

fn mount(
    ops: &mut Ops,
    m: &Mount,
    cgroups: Option<&SandboxCgroups>,
    later: &mut Vec<(String, u32)>,
) -> Result<(), Error> {
    let target = m.target.relative();
    let f = m.flags | flags::NOFOLLOW;
    match &m.kind {
        MountKind::Fs { fstype, data } if m.target.as_str() == "/dev" && f & flags::RDONLY != 0 => {
            ops.mount(fstype, target, f & !flags::RDONLY, data)?;
            later.push((target.to_owned(), f));
            Ok(())
        }
        MountKind::Fs { fstype, data } => ops.mount(fstype, target, f, data),
        MountKind::Bind {
            source,
            recursive,
            is_dir,
        } => {
            let shallow = if *recursive { 0 } else { flags::SHALLOW };
            ops.bind(source, target, f | shallow, *is_dir)
        }
        MountKind::Cgroup => cgroup(ops, m, cgroups),
    }
}

/// A `cgroup` mount shows the sandbox's own cgroups, as runc's does without a cgroup
/// namespace: on v2 its directory; on v1 a tmpfs holding its directory of each hierarchy
/// (named after the hierarchy's controllers, with a link per controller when several share
/// one). They are binds of the directories nucleus made, not new cgroup file systems, so the
/// sandbox never sees the host's tree above them, whatever its cgroup namespace.
fn cgroup(ops: &mut Ops, m: &Mount, cgroups: Option<&SandboxCgroups>) -> Result<(), Error> {
    let target = m.target.relative();
    let f = m.flags | flags::NOFOLLOW;
    let Some(cgroups) = cgroups else {
        return Err(Error::usage(format!(
            "config.json: {}: a cgroup mount shows the sandbox's own cgroups, and it has none (cgroups are off or could not be made on this host)",
            m.origin
        )));
    };
    match cgroups {
        SandboxCgroups::V2(dir) => ops.bind(dir, target, f | flags::SHALLOW, true),
        SandboxCgroups::V1(dirs) => {
            ops.mount("tmpfs", target, f & !flags::RDONLY, "mode=755")?;
            for (controllers, dir) in dirs {
                let name = controllers.join(",");
                if name.is_empty() || name.contains('/') {
                    return Err(Error::runtime(format!(
                        "the cgroup {} has no usable controller names ({name:?})",
                        dir.display()
                    )));
                }
                ops.bind(dir, &format!("{target}/{name}"), f | flags::SHALLOW, true)?;
                if controllers.len() > 1 {
                    for c in controllers {
                        let (link, to) = (format!("{target}/{c}"), cstring(&name, &name)?);
                        let l = cstring(&link, &link)?;
                        ops.push(
                            Op::Symlink {
                                target: &to,
                                path: &l,
                            },
                            format!("creating the symlink /{link}"),
                        );
                    }
                }
            }
            if f & flags::RDONLY != 0 {
                remount(ops, target, f)?;
            }
            Ok(())
        }
    }
}

/// The nodes runc puts in every `/dev` (`null`, `zero`, `full`, `random`, `urandom`, `tty`,
/// unless `linux.devices` gives one of these paths itself), those of `linux.devices`, and
/// the links (`ptmx`, `fd`, `stdin` ...). The bundle loader made sure `/dev` is a tmpfs.
fn devices(ops: &mut Ops, fs: &Filesystem, in_userns: bool) -> Result<(), Error> {
    for &(name, major, minor) in dev::DEVICES {
        let path = format!("dev/{name}");
        if fs.devices.iter().any(|d| d.path.relative() == path) {
            continue;
        }
        dev::node(ops, &path, major, minor, 0o666, in_userns)?;
    }
    for d in &fs.devices {
        dev::node(ops, d.path.relative(), d.major, d.minor, d.mode, in_userns)?;
    }
    dev::links(ops)
}
