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
///
/// `available` is what the launcher's bounding set holds, all a sandbox can inherit: `ALL`
/// means all of those, and naming one outside them is refused before anything starts.
pub fn resolve(add: &[String], drop: &[String], available: u64) -> Result<u64, Error> {
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
    let kept = added & !dropped;
    let asked = if added == ALL { kept & available } else { kept };
    let lacking = asked & !available;
    if lacking != 0 {
        return Err(Error::usage(format!(
            "--cap-add {}: nucleus-launch does not hold it itself, so no sandbox can",
            names(lacking)
        )));
    }
    Ok(asked)
}

/// The launcher's own bounding set (what its sandboxes can inherit).
pub fn available() -> u64 {
    let Ok(status) = std::fs::read_to_string("/proc/self/status") else {
        return ALL;
    };
    status
        .lines()
        .find_map(|l| l.strip_prefix("CapBnd:"))
        .and_then(|v| u64::from_str_radix(v.trim(), 16).ok())
        .map_or(ALL, |b| b & ALL)
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
        assert_eq!(resolve(&[], &[], ALL).unwrap(), 0);
        assert_eq!(resolve(&[], &s(&["ALL"]), ALL).unwrap(), 0);
    }

    #[test]
    fn names_in_every_spelling() {
        let raw = 1 << 13;
        for n in ["NET_RAW", "net_raw", "CAP_NET_RAW", "cap_net_raw"] {
            assert_eq!(resolve(&s(&[n]), &[], ALL).unwrap(), raw, "{n}");
        }
        assert_eq!(resolve(&s(&["ALL"]), &[], ALL).unwrap(), ALL);
        assert_eq!(
            resolve(&s(&["ALL"]), &s(&["SYS_ADMIN"]), ALL).unwrap(),
            ALL & !(1 << 21)
        );
        assert_eq!(
            resolve(&s(&["CHOWN", "MKNOD"]), &s(&["ALL"]), ALL).unwrap(),
            1 | (1 << 27)
        );
    }

    #[test]
    fn bad_combinations_are_explained() {
        let e = resolve(&s(&["NET_RAW"]), &s(&["NET_RAW"]), ALL)
            .unwrap_err()
            .to_string();
        assert!(e.contains("NET_RAW") && e.contains("both"), "{e}");
        assert!(
            resolve(&s(&["NET_RAWR"]), &[], ALL)
                .unwrap_err()
                .to_string()
                .contains("unknown capability")
        );
        assert!(resolve(&[], &s(&[""]), ALL).is_err());
    }

    #[test]
    fn only_what_the_launcher_holds() {
        let without_resource = ALL & !(1 << 24);
        assert_eq!(
            resolve(&s(&["ALL"]), &[], without_resource).unwrap(),
            without_resource
        );
        let e = resolve(&s(&["SYS_RESOURCE"]), &[], without_resource)
            .unwrap_err()
            .to_string();
        assert!(
            e.contains("CAP_SYS_RESOURCE") && e.contains("does not hold"),
            "{e}"
        );
    }

    #[test]
    fn names_are_listed() {
        assert_eq!(names(0), "none");
        assert_eq!(names(1 | (1 << 40)), "CAP_CHOWN, CAP_CHECKPOINT_RESTORE");
    }
}
