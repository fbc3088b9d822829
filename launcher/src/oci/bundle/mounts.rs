//! `root` and `mounts`.
//!
//! Each mount is made exactly where and as the bundle says, in its order: binds of host paths
//! (`bind` alone, `rbind` with what is mounted beneath), new `proc`, `sysfs`, `tmpfs`,
//! `devpts` and `mqueue` instances with their options, and `cgroup` (see `plan::oci`). Flags
//! (`ro`, `nosuid`, `nodev`, `noexec`, the access-time modes) are applied; data options are
//! checked against what each file system takes and passed to the kernel. Every mount is
//! private (nucleus makes the whole mount namespace private first), so `private` and
//! `rprivate` are what happens anyway, and the other propagations are refused. A new file
//! system's `source` is only the name `/proc/mounts` shows; nucleus shows the type there.

use std::path::{Path, PathBuf};

use nucleus_shared::plan::flags;
use serde_json::Value;

use super::json::{Obj, fail, fail_at, no_nul, sandbox_path};
use crate::config::oci::{Mount, MountKind};
use crate::error::Error;

/// `root`: (the directory, read-only).
pub fn root(spec: &Obj<'_>, bundle: &Path) -> Result<(PathBuf, bool), Error> {
    let Some(v) = spec.get("root") else {
        return Err(fail_at(
            "root",
            "missing (nucleus needs the root file system's directory)",
        ));
    };
    let r = Obj::new(v, "root")?;
    r.only(&["path", "readonly"], &[])?;
    let raw = r.req_str("path")?;
    let rv = Value::from(raw);
    if raw.is_empty() {
        return Err(fail("root.path", &rv, "empty path"));
    }
    no_nul("root.path", &rv, raw)?;
    // Relative to the bundle, as the spec says; `..` may lead anywhere that exists, as
    // with an absolute path.
    let path = std::fs::canonicalize(bundle.join(raw))
        .map_err(|e| fail("root.path", &rv, crate::error::io_text(&e)))?;
    if !path.is_dir() {
        return Err(fail("root.path", &rv, "not a directory"));
    }
    if path == Path::new("/") {
        return Err(fail(
            "root.path",
            &rv,
            "the host root cannot be the sandbox root",
        ));
    }
    Ok((path, r.bool("readonly")?.unwrap_or(false)))
}

/// The file systems a mount may create, with the data options each takes (`key=` for
/// `key=VALUE`, else a bare word).
const FS: &[(&str, &[&str])] = &[
    ("proc", &["hidepid=", "subset=", "gid="]),
    ("sysfs", &[]),
    (
        "tmpfs",
        &["size=", "mode=", "uid=", "gid=", "nr_inodes=", "nr_blocks="],
    ),
    (
        "devpts",
        &["newinstance", "ptmxmode=", "mode=", "gid=", "uid=", "max="],
    ),
    ("mqueue", &[]),
];

/// Options that set (true) or clear (false) a flag.
const FLAG_OPTIONS: &[(&str, u32, bool)] = &[
    ("ro", flags::RDONLY, true),
    ("rw", flags::RDONLY, false),
    ("nosuid", flags::NOSUID, true),
    ("suid", flags::NOSUID, false),
    ("nodev", flags::NODEV, true),
    ("dev", flags::NODEV, false),
    ("noexec", flags::NOEXEC, true),
    ("exec", flags::NOEXEC, false),
    ("noatime", flags::NOATIME, true),
    ("atime", flags::NOATIME, false),
    ("nodiratime", flags::NODIRATIME, true),
    ("diratime", flags::NODIRATIME, false),
    ("relatime", flags::RELATIME, true),
    ("norelatime", flags::RELATIME, false),
    ("strictatime", flags::STRICTATIME, true),
    ("nostrictatime", flags::STRICTATIME, false),
];

/// Options refused with a reason (others are refused as unknown).
const REFUSED: &[(&str, &str)] = &[
    (
        "shared",
        "mount propagation other than private is not supported",
    ),
    (
        "rshared",
        "mount propagation other than private is not supported",
    ),
    (
        "slave",
        "mount propagation other than private is not supported",
    ),
    (
        "rslave",
        "mount propagation other than private is not supported",
    ),
    (
        "unbindable",
        "mount propagation other than private is not supported",
    ),
    (
        "runbindable",
        "mount propagation other than private is not supported",
    ),
    (
        "tmpcopyup",
        "copying the image's files into a tmpfs is not supported",
    ),
    ("idmap", "id-mapped mounts are not supported"),
    ("ridmap", "id-mapped mounts are not supported"),
    ("remount", "remounting is not supported"),
    ("sync", "synchronous mounts are not supported"),
    ("dirsync", "synchronous mounts are not supported"),
    ("mand", "mandatory locking is not supported"),
    ("lazytime", "lazytime is not supported"),
    ("nosymfollow", "nosymfollow is not supported"),
];

/// `mounts`, in order.
pub fn parse(spec: &Obj<'_>, bundle: &Path) -> Result<Vec<Mount>, Error> {
    let mut out = Vec::new();
    for (i, v) in spec.array("mounts")?.iter().enumerate() {
        let path = format!("mounts[{i}]");
        out.push(one(&path, v, bundle)?);
    }
    Ok(out)
}

fn one(path: &str, v: &Value, bundle: &Path) -> Result<Mount, Error> {
    let m = Obj::new(v, path)?;
    m.only(
        &["destination", "type", "source", "options"],
        &[
            ("uidMappings", "id-mapped mounts are not supported"),
            ("gidMappings", "id-mapped mounts are not supported"),
        ],
    )?;
    let dest = m.req_str("destination")?;
    let target = sandbox_path(&m.at("destination"), dest)?;
    let origin = format!("{path} ({target})");
    let fstype = m.str("type")?.unwrap_or("");
    let source = m.str("source")?;

    let mut f = 0u32;
    let mut bind = None;
    // (index, option): the file system's own options.
    let mut data: Vec<(usize, &str)> = Vec::new();
    for (j, opt) in m.strings("options")?.into_iter().enumerate() {
        let opath = format!("{path}.options[{j}]");
        let ov = Value::from(opt);
        if let Some(&(_, bit, set)) = FLAG_OPTIONS.iter().find(|(n, _, _)| *n == opt) {
            if set {
                f |= bit;
            } else {
                f &= !bit;
            }
            continue;
        }
        match opt {
            "defaults" | "async" | "private" | "rprivate" => {}
            "bind" => bind = Some(false),
            "rbind" => bind = Some(true),
            _ => {
                if let Some((_, why)) = REFUSED.iter().find(|(n, _)| *n == opt) {
                    return Err(fail(&opath, &ov, why));
                }
                if opt.starts_with('r') && FLAG_OPTIONS.iter().any(|(n, _, _)| *n == &opt[1..]) {
                    return Err(fail(
                        &opath,
                        &ov,
                        "recursive mount attributes are not supported",
                    ));
                }
                no_nul(&opath, &ov, opt)?;
                if opt.is_empty() || opt.contains(',') {
                    return Err(fail(&opath, &ov, "not a mount option"));
                }
                data.push((j, opt));
            }
        }
    }

    if target.is_root() {
        return Err(fail(
            &m.at("destination"),
            &Value::from(dest),
            "cannot mount over the sandbox root",
        ));
    }
    let is_proc = fstype == "proc" && target.as_str() == "/proc";
    if target.starts_with("/proc") && !is_proc {
        return Err(fail(
            &m.at("destination"),
            &Value::from(dest),
            "only a proc file system may be mounted on /proc, and nothing beneath it",
        ));
    }

    // The type `bind` alone is a bind of the source mount only, as runc reads it.
    let bind = match (fstype, bind) {
        ("bind", None) => Some(false),
        (_, b) => b,
    };
    let kind = match (fstype, bind) {
        ("" | "none" | "bind", Some(recursive)) => {
            if let Some((j, d)) = data.first() {
                return Err(fail(
                    &format!("{path}.options[{j}]"),
                    &Value::from(*d),
                    "a bind mount takes no file system options",
                ));
            }
            let raw =
                source.ok_or_else(|| fail_at(&m.at("source"), "missing (a bind needs one)"))?;
            bind_source(&m.at("source"), raw, bundle, recursive)?
        }
        (t, Some(_)) => {
            return Err(fail(
                &m.at("type"),
                &Value::from(t),
                "bind or rbind needs the type bind or none",
            ));
        }
        ("cgroup" | "cgroup2", None) => {
            if let Some((j, d)) = data.first() {
                return Err(fail(
                    &format!("{path}.options[{j}]"),
                    &Value::from(*d),
                    "unknown option for a cgroup mount",
                ));
            }
            MountKind::Cgroup
        }
        (t, None) => {
            let Some((_, takes)) = FS.iter().find(|(n, _)| *n == t) else {
                return Err(fail(
                    &m.at("type"),
                    &Value::from(t),
                    "this file system type is not supported (proc, sysfs, tmpfs, devpts, mqueue, cgroup and binds are)",
                ));
            };
            for &(j, d) in &data {
                let known = takes.iter().any(|k| match k.strip_suffix('=') {
                    Some(key) => d
                        .split_once('=')
                        .is_some_and(|(dk, dv)| dk == key && !dv.is_empty()),
                    None => d == *k,
                });
                if !known {
                    return Err(fail(
                        &format!("{path}.options[{j}]"),
                        &Value::from(d),
                        format!("unknown or unsupported option for {t}"),
                    ));
                }
            }
            let data: Vec<&str> = data.iter().map(|(_, d)| *d).collect();
            MountKind::Fs {
                fstype: t.to_owned(),
                data: data.join(","),
            }
        }
    };
    Ok(Mount {
        target,
        kind,
        flags: f,
        origin,
    })
}

fn bind_source(path: &str, raw: &str, bundle: &Path, recursive: bool) -> Result<MountKind, Error> {
    let v = Value::from(raw);
    if raw.is_empty() {
        return Err(fail(path, &v, "empty path"));
    }
    no_nul(path, &v, raw)?;
    // Relative sources are relative to the bundle, as runc reads them; symlinks are resolved
    // on the host, as for `-v`.
    let source = std::fs::canonicalize(bundle.join(raw))
        .map_err(|e| fail(path, &v, crate::error::io_text(&e)))?;
    let is_dir = source.is_dir();
    Ok(MountKind::Bind {
        source,
        recursive,
        is_dir,
    })
}

/// Where `mounts` put a tmpfs on `/dev`, as the device nodes need one of the sandbox's own.
pub fn check_dev(mounts: &[Mount]) -> Result<(), Error> {
    match mounts.iter().rev().find(|m| m.target.as_str() == "/dev") {
        Some(m) if matches!(&m.kind, MountKind::Fs { fstype, .. } if fstype == "tmpfs") => Ok(()),
        Some(m) => Err(fail_at(
            &m.origin,
            "/dev must be a tmpfs: nucleus makes the sandbox's device nodes in a /dev of its own",
        )),
        None => Err(fail_at(
            "mounts",
            "no tmpfs on /dev: nucleus makes the sandbox's device nodes only in a /dev of its own",
        )),
    }
}

/// Whether a proc file system is mounted on `/proc` (where sysctls are written).
pub fn has_proc(mounts: &[Mount]) -> bool {
    mounts.iter().any(|m| {
        m.target.as_str() == "/proc"
            && matches!(&m.kind, MountKind::Fs { fstype, .. } if fstype == "proc")
    })
}

/// Landlock as for `run`, with the root read-only unless the bundle makes it writable, and
/// the bundle's writable binds and tmpfs mounts writable under it.
pub fn landlock(mounts: &[Mount]) -> crate::landlock::Request {
    let mut r = crate::landlock::Request::default();
    for m in mounts {
        let writable = m.flags & flags::RDONLY == 0;
        let scratch = match &m.kind {
            MountKind::Bind { .. } => true,
            MountKind::Fs { fstype, .. } => fstype == "tmpfs",
            MountKind::Cgroup => false,
        };
        if writable && scratch && !r.paths.iter().any(|(_, p)| *p == m.target) {
            r.paths.push((crate::landlock::Kind::Rw, m.target.clone()));
        }
    }
    r
}
