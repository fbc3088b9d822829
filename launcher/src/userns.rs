//! User namespaces: explicit id maps, `--userns auto` (the sandbox's root is an unprivileged
//! host uid range), and rootless use (an unprivileged caller maps only itself, to root
//! inside).
//!
//! The launcher writes the maps from outside, after the clone and before it hands init its
//! plan: init blocks reading the plan, so it cannot act before its ids mean something.

use std::fmt;

use crate::error::Error;

/// One line of `uid_map` / `gid_map`: `inside` .. `inside + count` inside is `outside` ..
/// outside.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct IdMap {
    pub inside: u32,
    pub outside: u32,
    pub count: u32,
}

impl fmt::Display for IdMap {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} {} {}", self.inside, self.outside, self.count)
    }
}

/// The maps of a sandbox in its own user namespace.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UserNs {
    pub uid_map: Vec<IdMap>,
    pub gid_map: Vec<IdMap>,
    /// Started by an unprivileged user: supplementary groups must be denied before the gid
    /// map is written, and only the caller's own ids can be mapped.
    pub rootless: bool,
}

/// Where `--userns auto` puts a sandbox's ids on the host: above every ordinary account and
/// the usual /etc/subuid ranges, one 65536-id slot per sandbox, chosen at random.
const AUTO_BASE: u32 = 0x4000_0000;
const AUTO_SIZE: u32 = 65536;
const AUTO_SLOTS: u32 = 16384;

/// `INSIDE:OUTSIDE:COUNT`.
pub fn parse_map(option: &str, raw: &str) -> Result<IdMap, Error> {
    let bad = || {
        Error::usage(format!(
            "{option} {raw}: expected INSIDE:OUTSIDE:COUNT (numbers)"
        ))
    };
    let parts: Vec<u32> = raw
        .split(':')
        .map(|p| p.parse::<u32>().map_err(|_| bad()))
        .collect::<Result<_, _>>()?;
    let [inside, outside, count] = parts[..] else {
        return Err(bad());
    };
    if count == 0 || inside.checked_add(count).is_none() || outside.checked_add(count).is_none() {
        return Err(Error::usage(format!(
            "{option} {raw}: the range is empty or overflows"
        )));
    }
    Ok(IdMap {
        inside,
        outside,
        count,
    })
}

fn check_overlaps(option: &str, maps: &[IdMap]) -> Result<(), Error> {
    for (i, a) in maps.iter().enumerate() {
        for b in &maps[i + 1..] {
            let overlap = |x: u32, y: u32| {
                x < y + b.count.min(u32::MAX - y) && y < x + a.count.min(u32::MAX - x)
            };
            if overlap(a.inside, b.inside) || overlap(a.outside, b.outside) {
                return Err(Error::usage(format!(
                    "{option}: the ranges {a} and {b} overlap"
                )));
            }
        }
    }
    Ok(())
}

/// Decides the user namespace from `--userns`, `--uid-map`, `--gid-map` and who we are.
pub fn resolve(
    mode: Option<&str>,
    uid_maps: &[String],
    gid_maps: &[String],
    euid: u32,
    egid: u32,
) -> Result<Option<UserNs>, Error> {
    let uid_map = uid_maps
        .iter()
        .map(|m| parse_map("--uid-map", m))
        .collect::<Result<Vec<_>, _>>()?;
    let gid_map = gid_maps
        .iter()
        .map(|m| parse_map("--gid-map", m))
        .collect::<Result<Vec<_>, _>>()?;
    check_overlaps("--uid-map", &uid_map)?;
    check_overlaps("--gid-map", &gid_map)?;
    let explicit = !uid_map.is_empty() || !gid_map.is_empty();
    if euid != 0 {
        if explicit || mode.is_some_and(|m| m != "auto" && m != "rootless") {
            return Err(Error::usage(
                "--uid-map/--gid-map need root: an unprivileged caller can map only itself (which it gets by default)",
            ));
        }
        let me = |id| {
            vec![IdMap {
                inside: 0,
                outside: id,
                count: 1,
            }]
        };
        return Ok(Some(UserNs {
            uid_map: me(euid),
            gid_map: me(egid),
            rootless: true,
        }));
    }
    match mode {
        None | Some("host") if !explicit => Ok(None),
        None | Some("host") => Err(Error::usage("--uid-map/--gid-map need --userns map")),
        Some("map") if uid_map.is_empty() || gid_map.is_empty() => Err(Error::usage(
            "--userns map needs both --uid-map and --gid-map",
        )),
        Some("map") => Ok(Some(UserNs {
            uid_map,
            gid_map,
            rootless: false,
        })),
        Some("auto") if explicit => Err(Error::usage(
            "--userns auto chooses the maps itself; drop --uid-map/--gid-map",
        )),
        Some("auto") => {
            let slot = random_u32() % AUTO_SLOTS;
            let range = vec![IdMap {
                inside: 0,
                outside: AUTO_BASE + slot * AUTO_SIZE,
                count: AUTO_SIZE,
            }];
            Ok(Some(UserNs {
                uid_map: range.clone(),
                gid_map: range,
                rootless: false,
            }))
        }
        Some(other) => Err(Error::usage(format!(
            "--userns {other:?}: expected host, auto or map"
        ))),
    }
}

fn random_u32() -> u32 {
    let mut b = [0u8; 4];
    // getrandom does not fail for 4 bytes once the pool is initialised; a fixed slot would
    // only mean sandboxes share ids, as without --userns auto.
    let _ = rustix::rand::getrandom(&mut b, rustix::rand::GetRandomFlags::empty());
    u32::from_ne_bytes(b)
}

/// Writes the maps of process `pid` (a child in a new user namespace).
pub fn write_maps(pid: u32, ns: &UserNs) -> Result<(), Error> {
    let write = |file: &str, text: String| {
        let path = format!("/proc/{pid}/{file}");
        std::fs::write(&path, text).map_err(|e| Error::io(format!("writing {path}"), e))
    };
    let lines = |maps: &[IdMap]| maps.iter().map(|m| format!("{m}\n")).collect::<String>();
    write("uid_map", lines(&ns.uid_map))?;
    if ns.rootless {
        // Without CAP_SETGID outside, the kernel wants setgroups denied before a gid map.
        write("setgroups", "deny".into())?;
    }
    write("gid_map", lines(&ns.gid_map))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn s(v: &[&str]) -> Vec<String> {
        v.iter().map(|x| x.to_string()).collect()
    }

    #[test]
    fn maps_parse_and_are_checked() {
        assert_eq!(
            parse_map("--uid-map", "0:1000:1").unwrap(),
            IdMap {
                inside: 0,
                outside: 1000,
                count: 1
            }
        );
        for bad in [
            "",
            "0:1",
            "0:1:2:3",
            "a:1:1",
            "0:1:0",
            "0:4294967295:2",
            "-1:0:1",
        ] {
            assert!(parse_map("--uid-map", bad).is_err(), "{bad}");
        }
        let overlapping = s(&["0:100000:1000", "500:200000:10"]);
        assert!(resolve(Some("map"), &overlapping, &s(&["0:1:1"]), 0, 0).is_err());
    }

    #[test]
    fn root_chooses_the_mode() {
        assert_eq!(resolve(None, &[], &[], 0, 0).unwrap(), None);
        let m = resolve(
            Some("map"),
            &s(&["0:100000:65536"]),
            &s(&["0:100000:65536"]),
            0,
            0,
        )
        .unwrap()
        .unwrap();
        assert!(!m.rootless && m.uid_map[0].outside == 100000);
        assert!(
            resolve(Some("map"), &s(&["0:1:1"]), &[], 0, 0).is_err(),
            "both maps needed"
        );
        assert!(
            resolve(None, &s(&["0:1:1"]), &s(&["0:1:1"]), 0, 0).is_err(),
            "maps without --userns map"
        );
        let auto = resolve(Some("auto"), &[], &[], 0, 0).unwrap().unwrap();
        assert_eq!(auto.uid_map[0].inside, 0);
        assert!(auto.uid_map[0].outside >= AUTO_BASE && auto.uid_map[0].count == AUTO_SIZE);
        assert!(resolve(Some("bogus"), &[], &[], 0, 0).is_err());
    }

    #[test]
    fn unprivileged_callers_map_only_themselves() {
        let r = resolve(None, &[], &[], 1000, 100).unwrap().unwrap();
        assert!(r.rootless);
        assert_eq!(
            r.uid_map,
            vec![IdMap {
                inside: 0,
                outside: 1000,
                count: 1
            }]
        );
        assert_eq!(
            r.gid_map,
            vec![IdMap {
                inside: 0,
                outside: 100,
                count: 1
            }]
        );
        assert!(resolve(Some("map"), &s(&["0:1000:1"]), &s(&["0:100:1"]), 1000, 100).is_err());
    }
}
