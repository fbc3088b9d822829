//! The minimal `/dev`: a small tmpfs with the harmless character devices, a private devpts
//! instance, `/dev/shm`, and the usual symlinks. Nothing of the host's `/dev` is shared.

use nucleus_shared::plan::{Op, flags};

use super::{Ops, cstring};
use crate::error::Error;

/// (name, major, minor), all mode 0666 as in every container runtime.
pub const DEVICES: &[(&str, u32, u32)] = &[
    ("null", 1, 3),
    ("zero", 1, 5),
    ("full", 1, 7),
    ("random", 1, 8),
    ("urandom", 1, 9),
    ("tty", 5, 0),
];

const LINKS: &[(&str, &str)] = &[
    ("dev/ptmx", "pts/ptmx"),
    ("dev/fd", "/proc/self/fd"),
    ("dev/stdin", "/proc/self/fd/0"),
    ("dev/stdout", "/proc/self/fd/1"),
    ("dev/stderr", "/proc/self/fd/2"),
];

/// In a user namespace device nodes cannot be created, so the host's are bound instead (a
/// bind of a device grants nothing more than the node would).
pub fn populate(ops: &mut Ops, in_userns: bool) -> Result<(), Error> {
    ops.mount(
        "tmpfs",
        "dev",
        flags::NOSUID | flags::NOEXEC | flags::NOFOLLOW,
        "mode=0755,size=65536k",
    )?;
    for &(name, major, minor) in DEVICES {
        node(ops, &format!("dev/{name}"), major, minor, 0o666, in_userns)?;
    }
    ops.mount(
        "devpts",
        "dev/pts",
        flags::NOSUID | flags::NOEXEC | flags::NOFOLLOW,
        "newinstance,ptmxmode=0666,mode=0620",
    )?;
    ops.mount(
        "tmpfs",
        "dev/shm",
        flags::NOSUID | flags::NODEV | flags::NOEXEC | flags::NOFOLLOW,
        "mode=1777",
    )?;
    links(ops)
}

/// The character device `path` (relative to the root); in a user namespace, where device
/// nodes cannot be created, a bind of the host's node of the same path.
pub fn node(
    ops: &mut Ops,
    path: &str,
    major: u32,
    minor: u32,
    mode: u32,
    in_userns: bool,
) -> Result<(), Error> {
    if in_userns {
        return ops.bind(std::path::Path::new(&format!("/{path}")), path, 0, false);
    }
    let p = cstring(path, path)?;
    ops.push(
        Op::CharDev {
            path: &p,
            mode,
            major,
            minor,
        },
        format!("creating /{path}"),
    );
    Ok(())
}

/// `/dev/ptmx` into the private devpts, and the `/dev/fd` family.
pub fn links(ops: &mut Ops) -> Result<(), Error> {
    for &(path, target) in LINKS {
        let (p, t) = (cstring(path, path)?, cstring(target, target)?);
        ops.push(
            Op::Symlink {
                target: &t,
                path: &p,
            },
            format!("creating the symlink /{path}"),
        );
    }
    Ok(())
}
