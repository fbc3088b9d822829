//! An exact cgroup for a sandbox: OCI's `linux.cgroupsPath`, validated.
//!
//! Three forms, as runc reads them:
//! - `/a/b`: from each hierarchy's root (as this process sees it), runc's cgroupfs driver;
//! - `a/b`: below the launcher's own cgroup in each hierarchy;
//! - `slice:prefix:name` with `--systemd-cgroup` (podman's `machine.slice:libpod:ID`): runc's
//!   systemd driver would ask systemd for the scope `prefix-name.scope` in that slice. nucleus
//!   does not talk to systemd: it makes the directories systemd would have made, from the root,
//!   with the slice expanded as systemd nests slices (`a-b.slice` is
//!   `a.slice/a-b.slice`), i.e. `machine.slice/libpod-ID.scope`. An empty slice is
//!   `system.slice` (runc's default); an empty prefix gives `name.scope` (crun's reading;
//!   runc's would be `-name.scope`).
//!
//! runc cleans `..` away lexically; nucleus refuses it, and anything else that could reach
//! outside the hierarchy or name a control file.

use std::path::{Path, PathBuf};

use crate::error::Error;

/// The longest `linux.cgroupsPath` accepted, and the longest path it may expand to.
pub const MAX_RAW: usize = 1024;
pub const MAX_EXPANDED: usize = 4096;
/// NAME_MAX: the longest directory name.
const MAX_COMPONENT: usize = 255;

/// Where the path starts in each hierarchy.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Base {
    /// The hierarchy's root (as this process's mount shows it).
    Root,
    /// The launcher's own cgroup.
    Own,
}

/// A validated exact cgroup path.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CgroupPath {
    pub base: Base,
    /// The directories from the base, the sandbox's own one last (never empty).
    pub parts: Vec<String>,
    /// As given, for messages.
    pub raw: String,
}

fn bad(raw: &str, why: impl std::fmt::Display) -> Error {
    Error::usage(format!("linux.cgroupsPath {raw:?}: {why}"))
}

/// A directory name the path may hold.
fn check_component(raw: &str, c: &str) -> Result<(), Error> {
    if c == ".." {
        return Err(bad(raw, "'..' is not allowed"));
    }
    if c.len() > MAX_COMPONENT {
        return Err(bad(
            raw,
            format!("a directory name is longer than {MAX_COMPONENT} bytes"),
        ));
    }
    if c.starts_with("cgroup.") {
        return Err(bad(
            raw,
            format!("{c:?} is a cgroup control file's name, not a directory"),
        ));
    }
    if let Some(ch) = c.chars().find(|ch| ch.is_control()) {
        return Err(bad(raw, format!("contains the control character {ch:?}")));
    }
    if super::id::parse_dir_name(c).is_some() || super::id::parse_kept_dir_name(c).is_some() {
        // Those names belong to nucleus's own sandboxes (the stale sweep reads them).
        return Err(bad(
            raw,
            format!("{c:?} has the form of nucleus's own sandbox directories (ID@PID.START)"),
        ));
    }
    Ok(())
}

/// runc's `ExpandSlice`: `a-b.slice` is `a.slice/a-b.slice`; `-.slice` is the root.
pub fn expand_slice(slice: &str) -> Option<Vec<String>> {
    let name = slice.strip_suffix(".slice")?;
    if slice.contains('/') {
        return None;
    }
    if name == "-" {
        return Some(Vec::new());
    }
    let mut out = Vec::new();
    let mut prefix = String::new();
    for part in name.split('-') {
        let ok = !part.is_empty()
            && part
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '.' | ':' | '\\'));
        if !ok {
            return None;
        }
        out.push(format!("{prefix}{part}.slice"));
        prefix = format!("{prefix}{part}-");
    }
    Some(out)
}

impl CgroupPath {
    /// Reads `raw`; `systemd` (the launcher's `--systemd-cgroup`) asks for the
    /// `slice:prefix:name` form.
    pub fn parse(raw: &str, systemd: bool) -> Result<Self, Error> {
        if raw.contains('\0') {
            return Err(bad(raw, "contains a NUL byte"));
        }
        if raw.len() > MAX_RAW {
            return Err(bad(raw, format!("longer than {MAX_RAW} bytes")));
        }
        let (base, parts) = if systemd {
            (Base::Root, Self::systemd_parts(raw)?)
        } else {
            if raw.split(':').count() == 3 && !raw.contains('/') {
                return Err(bad(
                    raw,
                    "this is the systemd form slice:prefix:name, which needs --systemd-cgroup",
                ));
            }
            let parts: Vec<String> = raw
                .split('/')
                .filter(|c| !c.is_empty() && *c != ".")
                .map(str::to_owned)
                .collect();
            let base = if raw.starts_with('/') {
                Base::Root
            } else {
                Base::Own
            };
            (base, parts)
        };
        for c in &parts {
            check_component(raw, c)?;
        }
        if parts.is_empty() {
            return Err(bad(
                raw,
                "must name a cgroup below the root (or below the runtime's own cgroup)",
            ));
        }
        if parts.iter().map(|p| p.len() + 1).sum::<usize>() > MAX_EXPANDED {
            return Err(bad(
                raw,
                format!("the cgroup path would be longer than {MAX_EXPANDED} bytes"),
            ));
        }
        Ok(CgroupPath {
            base,
            parts,
            raw: raw.to_owned(),
        })
    }

    fn systemd_parts(raw: &str) -> Result<Vec<String>, Error> {
        let fields: Vec<&str> = raw.split(':').collect();
        let [slice, prefix, name] = fields[..] else {
            return Err(bad(
                raw,
                "with --systemd-cgroup, expected slice:prefix:name (machine.slice:libpod:ID)",
            ));
        };
        let slice = if slice.is_empty() {
            "system.slice"
        } else {
            slice
        };
        let mut parts = expand_slice(slice).ok_or_else(|| {
            bad(
                raw,
                format!(
                    "{slice:?} is not a slice name (NAME.slice, nested as a-b.slice, no empty \
                     part between dashes, no '/')"
                ),
            )
        })?;
        if name.is_empty() {
            return Err(bad(raw, "the name (after the second ':') is empty"));
        }
        if name.contains('/') || prefix.contains('/') {
            return Err(bad(raw, "'/' is not allowed in the prefix or the name"));
        }
        parts.push(if name.ends_with(".slice") {
            name.to_owned()
        } else if prefix.is_empty() {
            format!("{name}.scope")
        } else {
            format!("{prefix}-{name}.scope")
        });
        Ok(parts)
    }

    /// The directories from the base down to the sandbox's parent (the base first), in a
    /// hierarchy mounted at `mount` where our own cgroup is `own`.
    pub fn chain(&self, mount: &Path, own: &Path) -> Vec<PathBuf> {
        let base = match self.base {
            Base::Root => mount,
            Base::Own => own,
        };
        let mut chain = vec![base.to_path_buf()];
        for p in &self.parts[..self.parts.len() - 1] {
            let next = chain[chain.len() - 1].join(p);
            chain.push(next);
        }
        chain
    }

    /// The sandbox's own directory in that hierarchy.
    pub fn dir(&self, mount: &Path, own: &Path) -> PathBuf {
        let chain = self.chain(mount, own);
        chain[chain.len() - 1].join(&self.parts[self.parts.len() - 1])
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parts(raw: &str, systemd: bool) -> (Base, Vec<String>) {
        let p = CgroupPath::parse(raw, systemd).unwrap_or_else(|e| panic!("{raw:?}: {e}"));
        (p.base, p.parts)
    }

    fn err(raw: &str, systemd: bool) -> String {
        let e = CgroupPath::parse(raw, systemd).unwrap_err().to_string();
        assert!(e.starts_with("linux.cgroupsPath "), "{e}");
        assert!(!e.contains('\n'), "{e}");
        e
    }

    #[test]
    fn cgroupfs_forms() {
        assert_eq!(
            parts("/libpod_parent/libpod-abc", false),
            (
                Base::Root,
                vec!["libpod_parent".into(), "libpod-abc".into()]
            )
        );
        assert_eq!(
            parts("./a//b/", false),
            (Base::Own, vec!["a".into(), "b".into()])
        );
        let p = CgroupPath::parse("/x/y/z", false).unwrap();
        assert_eq!(
            p.chain(Path::new("/m"), Path::new("/m/own")),
            [Path::new("/m"), Path::new("/m/x"), Path::new("/m/x/y")]
        );
        assert_eq!(
            p.dir(Path::new("/m"), Path::new("/m/own")),
            Path::new("/m/x/y/z")
        );
        let p = CgroupPath::parse("box", false).unwrap();
        assert_eq!(
            p.chain(Path::new("/m"), Path::new("/m/own")),
            [Path::new("/m/own")]
        );
        assert_eq!(
            p.dir(Path::new("/m"), Path::new("/m/own")),
            Path::new("/m/own/box")
        );
        // '@' is fine in itself (systemd templates: user@1000.service).
        assert_eq!(parts("/user.slice/user@0.service/x", false).1.len(), 3);
    }

    #[test]
    fn systemd_form_expands_slices() {
        assert_eq!(
            parts("machine.slice:libpod:abc", true),
            (
                Base::Root,
                vec!["machine.slice".into(), "libpod-abc.scope".into()]
            )
        );
        assert_eq!(
            parts("a-b-c.slice:p:n", true).1,
            ["a.slice", "a-b.slice", "a-b-c.slice", "p-n.scope"]
        );
        assert_eq!(parts(":crio:x", true).1, ["system.slice", "crio-x.scope"]);
        assert_eq!(parts("-.slice:p:x", true).1, ["p-x.scope"]);
        assert_eq!(parts("user.slice::x", true).1, ["user.slice", "x.scope"]);
        assert_eq!(
            parts("kubepods.slice:p:kubepods-pod1.slice", true).1,
            ["kubepods.slice", "kubepods-pod1.slice"]
        );
    }

    #[test]
    fn hostile_paths_are_refused_naming_the_field() {
        for (raw, systemd, want) in [
            ("../x", false, "'..' is not allowed"),
            ("/a/../../b", false, "'..' is not allowed"),
            ("/a/..", false, "'..' is not allowed"),
            ("a\0b", false, "NUL"),
            ("/a/cgroup.procs", false, "control file"),
            ("cgroup.kill", false, "control file"),
            ("/", false, "must name a cgroup"),
            ("", false, "must name a cgroup"),
            ("./.", false, "must name a cgroup"),
            ("/a/b\nc", false, "control character"),
            ("/nucleus/web@12.34", false, "nucleus's own"),
            ("web@12.34.kept", false, "nucleus's own"),
            ("machine.slice:libpod:x", false, "needs --systemd-cgroup"),
            ("/libpod_parent/x", true, "expected slice:prefix:name"),
            ("a:b", true, "expected slice:prefix:name"),
            ("a:b:c:d", true, "expected slice:prefix:name"),
            ("machine:libpod:x", true, "not a slice name"),
            (".slice:p:x", true, "not a slice name"),
            ("a--b.slice:p:x", true, "not a slice name"),
            ("-a.slice:p:x", true, "not a slice name"),
            ("a-.slice:p:x", true, "not a slice name"),
            ("../a.slice:p:x", true, "not a slice name"),
            ("a/b.slice:p:x", true, "not a slice name"),
            ("a b.slice:p:x", true, "not a slice name"),
            (
                "machine.slice:libpod:",
                true,
                "name (after the second ':') is empty",
            ),
            ("machine.slice:lib/pod:x", true, "'/' is not allowed"),
            ("machine.slice:p:../../x", true, "'/' is not allowed"),
            ("machine.slice:p:a\0", true, "NUL"),
            ("machine.slice:p:a\nb", true, "control character"),
        ] {
            let e = err(raw, systemd);
            assert!(e.contains(want), "{raw:?}: {e:?} lacks {want:?}");
        }
        // In the systemd form the name is only part of a unit name: harmless there.
        assert_eq!(parts("machine.slice:p:..", true).1[1], "p-...scope");
        assert_eq!(
            parts("machine.slice:p:cgroup.procs", true).1[1],
            "p-cgroup.procs.scope"
        );
        let long = format!("/{}", "x".repeat(300));
        assert!(err(&long, false).contains("longer than 255"));
        let huge = format!("/{}", "a/".repeat(600));
        assert!(err(&huge, false).contains("longer than 1024"));
        // Nested slices grow quadratically: bounded after expansion too.
        let nested = format!("{}.slice:p:x", vec!["a"; 120].join("-"));
        let e = err(&nested, true);
        assert!(e.contains("would be longer than 4096"), "{e}");
    }
}
