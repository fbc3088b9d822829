//! Parsers for option values with docker's syntax. Each error names the option and the value.

use std::path::PathBuf;

use super::paths::{SandboxPath, existing_host_path};
use crate::error::Error;

/// `-v SRC:DST[:ro|rw]`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Volume {
    pub source: PathBuf,
    pub target: SandboxPath,
    pub read_only: bool,
    pub is_dir: bool,
}

/// `--tmpfs DST[:OPTS]`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Tmpfs {
    pub target: SandboxPath,
    pub size: Option<u64>,
    pub mode: Option<u32>,
    pub read_only: bool,
    pub noexec: bool,
    pub nosuid: bool,
    pub nodev: bool,
}

/// Paths the sandbox's own setup owns; a volume or tmpfs there would undo it (CVE-2019-16884).
const RESERVED: &[&str] = &["/proc"];

fn target(option: &str, raw: &str, whole: &str) -> Result<SandboxPath, Error> {
    let t = SandboxPath::parse(option, raw)?;
    if t.is_root() {
        return Err(Error::usage(format!(
            "{option} {whole}: cannot mount over the sandbox root"
        )));
    }
    if let Some(r) = RESERVED.iter().find(|r| t.starts_with(r)) {
        return Err(Error::usage(format!(
            "{option} {whole}: {r} is set up by nucleus and cannot be a mount target"
        )));
    }
    Ok(t)
}

pub fn volume(raw: &str) -> Result<Volume, Error> {
    let parts: Vec<&str> = raw.split(':').collect();
    let (src, dst, mode) = match parts.as_slice() {
        [s, d] => (*s, *d, "rw"),
        [s, d, m] => (*s, *d, *m),
        _ => return Err(Error::usage(format!("-v {raw}: expected SRC:DST[:ro|rw]"))),
    };
    let read_only = match mode {
        "ro" => true,
        "rw" => false,
        other => {
            return Err(Error::usage(format!(
                "-v {raw}: unknown mode {other:?} (expected ro or rw)"
            )));
        }
    };
    let target = target("-v", dst, raw)?;
    let source = existing_host_path("-v", src)?;
    let is_dir = source.is_dir();
    Ok(Volume {
        source,
        target,
        read_only,
        is_dir,
    })
}

pub fn tmpfs(raw: &str) -> Result<Tmpfs, Error> {
    let (dst, opts) = raw.split_once(':').unwrap_or((raw, ""));
    let mut t = Tmpfs {
        target: target("--tmpfs", dst, raw)?,
        size: None,
        mode: None,
        read_only: false,
        noexec: true,
        nosuid: true,
        nodev: true,
    };
    for opt in opts.split(',').filter(|o| !o.is_empty()) {
        match opt.split_once('=') {
            Some(("size", v)) => {
                t.size = Some(
                    size(v)
                        .ok_or_else(|| Error::usage(format!("--tmpfs {raw}: bad size {v:?}")))?,
                )
            }
            Some(("mode", v)) => {
                t.mode = Some(
                    u32::from_str_radix(v, 8)
                        .ok()
                        .filter(|m| *m <= 0o7777)
                        .ok_or_else(|| {
                            Error::usage(format!(
                                "--tmpfs {raw}: bad mode {v:?} (octal, up to 7777)"
                            ))
                        })?,
                )
            }
            None if matches!(opt, "ro" | "rw") => t.read_only = opt == "ro",
            None if matches!(opt, "exec" | "noexec") => t.noexec = opt == "noexec",
            None if matches!(opt, "suid" | "nosuid") => t.nosuid = opt == "nosuid",
            None if matches!(opt, "dev" | "nodev") => t.nodev = opt == "nodev",
            _ => {
                return Err(Error::usage(format!(
                    "--tmpfs {raw}: unknown option {opt:?}"
                )));
            }
        }
    }
    Ok(t)
}

/// `N`, `Nk`, `Nm`, `Ng` (binary units, as docker); at least one page.
pub fn size(v: &str) -> Option<u64> {
    let (num, mult) = match v.char_indices().last()? {
        (i, 'k' | 'K') => (&v[..i], 1u64 << 10),
        (i, 'm' | 'M') => (&v[..i], 1 << 20),
        (i, 'g' | 'G') => (&v[..i], 1 << 30),
        (i, 'b' | 'B') => (&v[..i], 1),
        _ => (v, 1),
    };
    if num.is_empty() || !num.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    num.parse::<u64>()
        .ok()?
        .checked_mul(mult)
        .filter(|s| *s >= 4096)
}

/// `UID[:GID]`, numeric. The group defaults to the user's number (docker would use 0, root's
/// group, which is rarely what anyone means when asking for an unprivileged user).
pub fn user(raw: &str) -> Result<(u32, u32), Error> {
    let bad = || {
        Error::usage(format!(
            "--user {raw}: expected numeric UID[:GID] below 4294967295"
        ))
    };
    let id = |s: &str| -> Result<u32, Error> {
        if s.is_empty() || !s.bytes().all(|b| b.is_ascii_digit()) {
            return Err(bad());
        }
        s.parse::<u32>()
            .ok()
            .filter(|v| *v != u32::MAX)
            .ok_or_else(bad)
    };
    match raw.split_once(':') {
        Some((u, g)) => Ok((id(u)?, id(g)?)),
        None => {
            let u = id(raw)?;
            Ok((u, u))
        }
    }
}

/// `KEY=VAL`, or `KEY` to copy the caller's value (skipped when the caller has none, as docker).
pub fn env(
    raw: &str,
    host_env: &impl Fn(&str) -> Option<String>,
) -> Result<Option<(String, String)>, Error> {
    let (k, v) = match raw.split_once('=') {
        Some((k, v)) => (k, Some(v.to_owned())),
        None => (raw, None),
    };
    if k.is_empty() {
        return Err(Error::usage(format!("-e {raw:?}: empty variable name")));
    }
    if raw.contains('\0') {
        return Err(Error::usage(format!("-e {raw:?}: contains a NUL byte")));
    }
    Ok(v.or_else(|| host_env(k)).map(|v| (k.to_owned(), v)))
}

/// A hostname the kernel accepts: 1..=64 bytes of letters, digits, '-' and '.'.
pub fn hostname(raw: &str) -> Result<String, Error> {
    let ok = !raw.is_empty()
        && raw.len() <= 64
        && raw
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'.');
    if ok {
        Ok(raw.to_owned())
    } else {
        Err(Error::usage(format!(
            "--hostname {raw:?}: use 1-64 letters, digits, '-' or '.'"
        )))
    }
}

pub fn no_nul(what: &str, items: &[String]) -> Result<(), Error> {
    match items.iter().position(|s| s.contains('\0')) {
        Some(i) => Err(Error::usage(format!(
            "{what}: argument {i} contains a NUL byte"
        ))),
        None => Ok(()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn volumes() {
        let v = volume("/tmp:/data:ro").unwrap();
        assert!(v.read_only && v.is_dir);
        assert_eq!(v.target.as_str(), "/data");
        assert!(volume("/tmp").is_err());
        assert!(volume("/tmp:/data:rx").is_err());
        assert!(volume("tmp:/data").is_err());
        assert!(volume("/tmp:data").is_err());
        assert!(volume("/tmp:/a/../../etc").is_err());
        assert!(volume("/tmp:/").is_err());
        assert!(volume("/tmp:/proc/sys").is_err());
        assert!(volume("/nonexistent-nucleus:/x").is_err());
        assert!(volume("/tmp:/x:ro:extra").is_err());
    }

    #[test]
    fn tmpfs_options() {
        let t = tmpfs("/run:size=64m,mode=1777,exec").unwrap();
        assert_eq!(t.size, Some(64 << 20));
        assert_eq!(t.mode, Some(0o1777));
        assert!(!t.noexec && t.nosuid && t.nodev);
        assert!(tmpfs("/run:size=").is_err());
        assert!(tmpfs("/run:size=12q").is_err());
        assert!(tmpfs("/run:mode=999").is_err());
        assert!(tmpfs("/run:bogus").is_err());
        assert!(tmpfs("run").is_err());
    }

    #[test]
    fn sizes() {
        assert_eq!(size("4k"), Some(4096));
        assert_eq!(size("1k"), None, "below a page");
        assert_eq!(size("2g"), Some(2 << 30));
        assert_eq!(size("100"), None, "below a page");
        assert_eq!(size("-1m"), None);
        assert_eq!(size("99999999999999999999g"), None);
    }

    #[test]
    fn users() {
        assert_eq!(user("1000").unwrap(), (1000, 1000));
        assert_eq!(user("1000:100").unwrap(), (1000, 100));
        for bad in [
            "",
            "x",
            "1000:",
            ":1",
            "-1",
            "1:2:3",
            "4294967295",
            "99999999999",
        ] {
            assert!(user(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn env_entries() {
        let host = |k: &str| (k == "HOSTVAR").then(|| "v".to_owned());
        assert_eq!(
            env("A=b=c", &host).unwrap(),
            Some(("A".into(), "b=c".into()))
        );
        assert_eq!(
            env("HOSTVAR", &host).unwrap(),
            Some(("HOSTVAR".into(), "v".into()))
        );
        assert_eq!(env("UNSET", &host).unwrap(), None);
        assert!(env("=x", &host).is_err());
    }

    #[test]
    fn hostnames() {
        assert!(hostname("box-1.local").is_ok());
        assert!(hostname("").is_err());
        assert!(hostname("a b").is_err());
        assert!(hostname(&"a".repeat(65)).is_err());
    }
}
