//! Paths: host paths that must exist, and paths inside the sandbox that must stay inside it.

use std::fmt;
use std::path::{Path, PathBuf};

use crate::error::Error;

/// An absolute path inside the sandbox, normalised: no `.` or `..` components, no empty ones.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SandboxPath(String);

impl SandboxPath {
    pub fn root() -> Self {
        SandboxPath("/".to_owned())
    }

    /// Accepts `/a/b` (and `/a//b/`, `/a/./b`); refuses relative paths and `..`, which could
    /// only be meant to climb out.
    pub fn parse(option: &str, raw: &str) -> Result<Self, Error> {
        if !raw.starts_with('/') {
            return Err(Error::usage(format!(
                "{option}: {raw:?} is not an absolute path"
            )));
        }
        if raw.contains('\0') {
            return Err(Error::usage(format!(
                "{option}: {raw:?} contains a NUL byte"
            )));
        }
        let mut parts = Vec::new();
        for c in raw.split('/') {
            match c {
                "" | "." => {}
                ".." => return Err(Error::usage(format!("{option}: {raw:?} contains '..'"))),
                c => parts.push(c),
            }
        }
        Ok(SandboxPath(format!("/{}", parts.join("/"))))
    }

    pub fn is_root(&self) -> bool {
        self.0 == "/"
    }

    /// `a/b` for `/a/b`: the form plan operations carry, resolved beneath the root by init.
    pub fn relative(&self) -> &str {
        &self.0[1..]
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// True when `self` is `other` or lies below it.
    pub fn starts_with(&self, other: &str) -> bool {
        self.0 == other
            || self
                .0
                .strip_prefix(other)
                .is_some_and(|rest| rest.starts_with('/'))
    }
}

impl fmt::Display for SandboxPath {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// An existing host path, made absolute with symlinks resolved (what docker does for `-v`).
pub fn existing_host_path(option: &str, raw: &str) -> Result<PathBuf, Error> {
    if raw.is_empty() {
        return Err(Error::usage(format!("{option}: empty host path")));
    }
    if !raw.starts_with('/') {
        return Err(Error::usage(format!(
            "{option}: host path {raw:?} is not absolute"
        )));
    }
    std::fs::canonicalize(raw).map_err(|e| {
        Error::usage(format!(
            "{option}: host path {raw}: {}",
            crate::error::io_text(&e)
        ))
    })
}

/// The `--rootfs` directory.
pub fn rootfs(raw: &str) -> Result<PathBuf, Error> {
    if raw.is_empty() {
        return Err(Error::usage("--rootfs: empty path"));
    }
    let abs = std::path::absolute(Path::new(raw))
        .map_err(|e| Error::usage(format!("--rootfs {raw}: {}", crate::error::io_text(&e))))?;
    let path = std::fs::canonicalize(&abs)
        .map_err(|e| Error::usage(format!("--rootfs {raw}: {}", crate::error::io_text(&e))))?;
    if !path.is_dir() {
        return Err(Error::usage(format!("--rootfs {raw}: not a directory")));
    }
    if path == Path::new("/") {
        return Err(Error::usage(
            "--rootfs /: the host root cannot be the sandbox root",
        ));
    }
    Ok(path)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sandbox_paths_are_normalised_or_refused() {
        assert_eq!(
            SandboxPath::parse("-w", "/a//b/./c/").unwrap().as_str(),
            "/a/b/c"
        );
        assert_eq!(SandboxPath::parse("-w", "/").unwrap().relative(), "");
        assert!(SandboxPath::parse("-w", "a/b").is_err());
        assert!(SandboxPath::parse("-w", "/a/../b").is_err());
        assert!(SandboxPath::parse("-w", "/..").is_err());
        assert!(SandboxPath::parse("-w", "").is_err());
    }

    #[test]
    fn starts_with_respects_components() {
        let p = SandboxPath::parse("-v", "/proc/sys").unwrap();
        assert!(p.starts_with("/proc"));
        assert!(
            !SandboxPath::parse("-v", "/procfoo")
                .unwrap()
                .starts_with("/proc")
        );
    }
}
