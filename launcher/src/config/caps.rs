//! Capabilities by docker's names: `--cap-add` / `--cap-drop`. Nothing is kept by default.

use crate::error::Error;

/// Capability names by number (linux/capability.h), without the `CAP_` prefix.
pub const NAMES: [&str; 41] = [
    "CHOWN",
    "DAC_OVERRIDE",
    "DAC_READ_SEARCH",
    "FOWNER",
    "FSETID",
    "KILL",
    "SETGID",
    "SETUID",
    "SETPCAP",
    "LINUX_IMMUTABLE",
    "NET_BIND_SERVICE",
    "NET_BROADCAST",
    "NET_ADMIN",
    "NET_RAW",
    "IPC_LOCK",
    "IPC_OWNER",
    "SYS_MODULE",
    "SYS_RAWIO",
    "SYS_CHROOT",
    "SYS_PTRACE",
    "SYS_PACCT",
    "SYS_ADMIN",
    "SYS_BOOT",
    "SYS_NICE",
    "SYS_RESOURCE",
    "SYS_TIME",
    "SYS_TTY_CONFIG",
    "MKNOD",
    "LEASE",
    "AUDIT_WRITE",
    "AUDIT_CONTROL",
    "SETFCAP",
    "MAC_OVERRIDE",
    "MAC_ADMIN",
    "SYSLOG",
    "WAKE_ALARM",
    "BLOCK_SUSPEND",
    "AUDIT_READ",
    "PERFMON",
    "BPF",
    "CHECKPOINT_RESTORE",
];

/// Every capability this build knows.
pub const ALL: u64 = (1 << NAMES.len()) - 1;

/// The bit of one name (`NET_RAW`, `cap_net_raw`, `CAP_NET_RAW`), or `ALL`.
fn parse(option: &str, raw: &str) -> Result<u64, Error> {
    let upper = raw.trim().to_ascii_uppercase();
    let name = upper.strip_prefix("CAP_").unwrap_or(&upper);
    if name == "ALL" {
        return Ok(ALL);
    }
    NAMES
        .iter()
        .position(|n| *n == name)
        .map(|i| 1 << i)
        .ok_or_else(|| Error::usage(format!("{option}: unknown capability {raw:?} (names as in docker: NET_RAW, SYS_ADMIN, ..., or ALL)")))
}

/// The set kept: what `--cap-add` names, minus what `--cap-drop` names. A capability both
/// added and dropped by name is refused as contradictory; `--cap-drop ALL` with adds keeps
/// just the adds (docker's way of spelling "only these").
pub fn resolve(add: &[String], drop: &[String]) -> Result<u64, Error> {
    let mut added = 0u64;
    for a in add {
        added |= parse("--cap-add", a)?;
    }
    let mut dropped = 0u64;
    let mut drop_all = false;
    for d in drop {
        let bits = parse("--cap-drop", d)?;
        if bits == ALL {
            drop_all = true;
        } else {
            dropped |= bits;
        }
    }
    let both = added & dropped;
    if both != 0 && added != ALL {
        let names: Vec<&str> = (0..NAMES.len())
            .filter(|i| both & (1 << i) != 0)
            .map(|i| NAMES[i])
            .collect();
        return Err(Error::usage(format!(
            "capability {} is both added and dropped",
            names.join(", ")
        )));
    }
    let _ = drop_all; // dropping everything is the default already
    Ok(added & !dropped)
}

/// `CAP_A, CAP_B` for messages and reports.
pub fn names(set: u64) -> String {
    let v: Vec<String> = (0..NAMES.len())
        .filter(|i| set & (1 << i) != 0)
        .map(|i| format!("CAP_{}", NAMES[i]))
        .collect();
    if v.is_empty() {
        "none".into()
    } else {
        v.join(", ")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn s(v: &[&str]) -> Vec<String> {
        v.iter().map(|x| x.to_string()).collect()
    }

    #[test]
    fn nothing_is_kept_by_default() {
        assert_eq!(resolve(&[], &[]).unwrap(), 0);
        assert_eq!(resolve(&[], &s(&["ALL"])).unwrap(), 0);
    }

    #[test]
    fn names_in_every_spelling() {
        let raw = 1 << 13;
        for n in ["NET_RAW", "net_raw", "CAP_NET_RAW", "cap_net_raw"] {
            assert_eq!(resolve(&s(&[n]), &[]).unwrap(), raw, "{n}");
        }
        assert_eq!(resolve(&s(&["ALL"]), &[]).unwrap(), ALL);
        assert_eq!(
            resolve(&s(&["ALL"]), &s(&["SYS_ADMIN"])).unwrap(),
            ALL & !(1 << 21)
        );
        assert_eq!(
            resolve(&s(&["CHOWN", "MKNOD"]), &s(&["ALL"])).unwrap(),
            1 | (1 << 27)
        );
    }

    #[test]
    fn bad_combinations_are_explained() {
        let e = resolve(&s(&["NET_RAW"]), &s(&["NET_RAW"]))
            .unwrap_err()
            .to_string();
        assert!(e.contains("NET_RAW") && e.contains("both"), "{e}");
        assert!(
            resolve(&s(&["NET_RAWR"]), &[])
                .unwrap_err()
                .to_string()
                .contains("unknown capability")
        );
        assert!(resolve(&[], &s(&[""])).is_err());
    }

    #[test]
    fn names_are_listed() {
        assert_eq!(names(0), "none");
        assert_eq!(names(1 | (1 << 40)), "CAP_CHOWN, CAP_CHECKPOINT_RESTORE");
    }
}
