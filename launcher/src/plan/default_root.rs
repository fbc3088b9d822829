//! The embedded default root: a fresh tmpfs that borrows the host's programs and libraries
//! read-only, with a minimal `/etc` of its own. Nothing else of the host is visible.

use std::path::{Path, PathBuf};

use nucleus_shared::plan::{Op, flags};

use super::{Ops, cstring, path_cstring};
use crate::config::{Config, Network};
use crate::error::Error;

/// Top-level host directories the default root shares (read-only, no devices).
const SYSTEM_DIRS: &[&str] = &["usr", "bin", "sbin", "lib", "lib32", "lib64", "libx32"];
/// Host files and directories under /etc that programs need to run at all: the loader's
/// cache and Debian's alternatives (`awk`, `editor` ... are symlinks through it).
const HOST_ETC: &[&str] = &["etc/ld.so.cache", "etc/alternatives"];

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Entry {
    Dir,
    File,
    /// A symlink, recreated with the same target (merged-/usr hosts: `/bin -> usr/bin`).
    Link(PathBuf),
}

/// What the host offers for the default root, read once per launch.
#[derive(Debug, Clone, Default)]
pub struct HostRoot {
    pub entries: Vec<(&'static str, Entry)>,
    pub resolv_conf: bool,
}

impl HostRoot {
    pub fn probe(root: &Path) -> Self {
        let entries = SYSTEM_DIRS
            .iter()
            .chain(HOST_ETC)
            .filter_map(|&name| {
                let meta = std::fs::symlink_metadata(root.join(name)).ok()?;
                let entry = if meta.file_type().is_symlink() {
                    Entry::Link(std::fs::read_link(root.join(name)).ok()?)
                } else if meta.is_dir() {
                    Entry::Dir
                } else if meta.is_file() {
                    Entry::File
                } else {
                    return None;
                };
                Some((name, entry))
            })
            .collect();
        HostRoot {
            entries,
            resolv_conf: root.join("etc/resolv.conf").exists(),
        }
    }
}

pub fn etc_files(cfg: &Config) -> Vec<(&'static str, String)> {
    let h = &cfg.hostname;
    vec![
        ("etc/passwd", "root:x:0:0:root:/root:/bin/sh\nnobody:x:65534:65534:nobody:/nonexistent:/usr/sbin/nologin\n".into()),
        ("etc/group", "root:x:0:\ntty:x:5:\nnogroup:x:65534:\n".into()),
        ("etc/hostname", format!("{h}\n")),
        ("etc/hosts", format!("127.0.0.1\tlocalhost\n::1\tlocalhost ip6-localhost ip6-loopback\n127.0.1.1\t{h}\n")),
        ("etc/nsswitch.conf", "passwd: files\ngroup: files\nhosts: files dns\n".into()),
    ]
}

pub fn populate(ops: &mut Ops, cfg: &Config, host: &HostRoot) -> Result<(), Error> {
    for (name, entry) in &host.entries {
        let source = Path::new("/").join(name);
        match entry {
            Entry::Link(target) => {
                let (t, p) = (path_cstring(target)?, cstring(name, name)?);
                ops.push(
                    Op::Symlink {
                        target: &t,
                        path: &p,
                    },
                    format!("creating the symlink /{name}"),
                );
            }
            Entry::Dir | Entry::File => {
                ops.bind(
                    &source,
                    name,
                    flags::RDONLY | flags::NODEV | flags::NOFOLLOW,
                    *entry == Entry::Dir,
                )?;
            }
        }
    }
    for (path, contents) in etc_files(cfg) {
        let p = cstring(path, path)?;
        ops.push(
            Op::WriteFile {
                path: &p,
                mode: 0o644,
                contents: contents.as_bytes(),
            },
            format!("writing /{path}"),
        );
    }
    if cfg.network == Network::Host && host.resolv_conf {
        ops.bind(
            Path::new("/etc/resolv.conf"),
            "etc/resolv.conf",
            flags::RDONLY | flags::NODEV | flags::NOFOLLOW,
            false,
        )?;
    }
    for (dir, mode) in [("root", 0o700), ("run", 0o755)] {
        let p = cstring(dir, dir)?;
        ops.push(Op::Mkdir { path: &p, mode }, format!("creating /{dir}"));
    }
    Ok(())
}
