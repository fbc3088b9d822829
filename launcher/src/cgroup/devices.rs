//! Device access. v1: the devices controller denies everything but the nodes of the minimal
//! `/dev`. v2 has no devices files (it takes a BPF_CGROUP_DEVICE program, which nucleus does
//! not load): there the sandbox relies on having no CAP_MKNOD (unless added) and a fresh
//! `/dev` holding only harmless nodes, and the report says so.

use std::path::Path;

use super::set_all;
use crate::error::Error;

/// Character devices usable in the sandbox (`type major:minor access`): null, zero, full,
/// random, urandom, tty, ptmx (5:2) and the private devpts's terminals (136:*).
pub const ALLOWED: [&str; 8] = [
    "c 1:3 rwm",
    "c 1:5 rwm",
    "c 1:7 rwm",
    "c 1:8 rwm",
    "c 1:9 rwm",
    "c 5:0 rwm",
    "c 5:2 rwm",
    "c 136:* rwm",
];

/// What the report says about devices on v2.
pub const V2_NOTE: &str = "devices not restricted by the cgroup (v2 needs a BPF device program, \
     which nucleus does not load; the sandbox has no CAP_MKNOD unless added and a fresh /dev \
     with only harmless nodes)";

/// The writes: deny all, then allow the list (each is one rule per write).
pub fn writes() -> Vec<(&'static str, String)> {
    let mut w = vec![("devices.deny", "a".to_owned())];
    w.extend(ALLOWED.iter().map(|a| ("devices.allow", (*a).to_owned())));
    w
}

pub fn apply(dir: &Path) -> Result<(), Error> {
    set_all(dir, writes())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn deny_all_then_the_minimal_dev() {
        let w = writes();
        assert_eq!(w[0], ("devices.deny", "a".to_owned()));
        assert_eq!(w.len(), 9);
        assert!(w[1..].iter().all(|(f, _)| *f == "devices.allow"));
        // Every node of the minimal /dev is allowed.
        for (_, major, minor) in [("null", 1, 3), ("tty", 5, 0), ("ptmx", 5, 2)] {
            let rule = format!("c {major}:{minor} rwm");
            assert!(ALLOWED.contains(&rule.as_str()), "{rule}");
        }
    }
}
