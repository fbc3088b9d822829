//! `--ulimit NAME=SOFT[:HARD]`, with docker's names.

use nucleus_shared::plan::Rlimit;

use crate::error::Error;

/// (docker name, RLIMIT_* number).
const RESOURCES: [(&str, u32); 16] = [
    ("cpu", 0),
    ("fsize", 1),
    ("data", 2),
    ("stack", 3),
    ("core", 4),
    ("rss", 5),
    ("nproc", 6),
    ("nofile", 7),
    ("memlock", 8),
    ("as", 9),
    ("locks", 10),
    ("sigpending", 11),
    ("msgqueue", 12),
    ("nice", 13),
    ("rtprio", 14),
    ("rttime", 15),
];

fn value(raw: &str, whole: &str) -> Result<u64, Error> {
    match raw {
        "unlimited" | "-1" => Ok(u64::MAX),
        v if !v.is_empty() && v.bytes().all(|b| b.is_ascii_digit()) => v
            .parse()
            .map_err(|_| Error::usage(format!("--ulimit {whole}: {v} is too large"))),
        v => Err(Error::usage(format!(
            "--ulimit {whole}: {v:?} is not a number or \"unlimited\""
        ))),
    }
}

/// One `--ulimit`; the hard limit defaults to the soft one, as in docker.
pub fn parse(raw: &str) -> Result<Rlimit, Error> {
    let (name, values) = raw
        .split_once('=')
        .ok_or_else(|| Error::usage(format!("--ulimit {raw}: expected NAME=SOFT[:HARD]")))?;
    let resource = RESOURCES
        .iter()
        .find(|(n, _)| *n == name)
        .map(|(_, r)| *r)
        .ok_or_else(|| {
            let known: Vec<&str> = RESOURCES.iter().map(|(n, _)| *n).collect();
            Error::usage(format!(
                "--ulimit {raw}: unknown limit {name:?} (known: {})",
                known.join(", ")
            ))
        })?;
    let (soft, hard) = match values.split_once(':') {
        Some((s, h)) => (value(s, raw)?, value(h, raw)?),
        None => {
            let v = value(values, raw)?;
            (v, v)
        }
    };
    if soft > hard {
        return Err(Error::usage(format!(
            "--ulimit {raw}: the soft limit is above the hard limit"
        )));
    }
    Ok(Rlimit {
        resource,
        soft,
        hard,
    })
}

/// The launcher's own hard limits bound what the sandbox may ask for without
/// CAP_SYS_RESOURCE; say so before starting rather than fail inside.
pub fn check_against_own(
    limits: &[Rlimit],
    can_raise: bool,
    own_hard: impl Fn(u32) -> Option<u64>,
) -> Result<(), Error> {
    for l in limits {
        if let Some(own) = own_hard(l.resource)
            && l.hard > own
            && !can_raise
        {
            let name = RESOURCES
                .iter()
                .find(|(_, r)| *r == l.resource)
                .map_or("?", |(n, _)| n);
            return Err(Error::usage(format!(
                "--ulimit {name}: hard limit {} is above the current one ({}); raising it needs CAP_SYS_RESOURCE",
                show(l.hard),
                show(own)
            )));
        }
    }
    Ok(())
}

fn show(v: u64) -> String {
    if v == u64::MAX {
        "unlimited".into()
    } else {
        v.to_string()
    }
}

/// This process's hard limit for `resource`, if it is one we know.
pub fn own_hard(resource: u32) -> Option<u64> {
    use rustix::process::Resource::*;
    let r = match resource {
        0 => Cpu,
        1 => Fsize,
        2 => Data,
        3 => Stack,
        4 => Core,
        5 => Rss,
        6 => Nproc,
        7 => Nofile,
        8 => Memlock,
        9 => As,
        10 => Locks,
        11 => Sigpending,
        12 => Msgqueue,
        13 => Nice,
        14 => Rtprio,
        15 => Rttime,
        _ => return None,
    };
    Some(rustix::process::getrlimit(r).maximum.unwrap_or(u64::MAX))
}

/// Whether this process may raise hard limits.
pub fn can_raise() -> bool {
    rustix::thread::capabilities(None).is_ok_and(|c| {
        c.effective
            .contains(rustix::thread::CapabilitySet::SYS_RESOURCE)
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn docker_syntax() {
        assert_eq!(
            parse("nofile=1024:4096").unwrap(),
            Rlimit {
                resource: 7,
                soft: 1024,
                hard: 4096
            }
        );
        assert_eq!(
            parse("core=0").unwrap(),
            Rlimit {
                resource: 4,
                soft: 0,
                hard: 0
            }
        );
        assert_eq!(parse("stack=8388608:unlimited").unwrap().hard, u64::MAX);
    }

    #[test]
    fn bad_values_are_refused() {
        for bad in [
            "nofile",
            "nofile=",
            "nofiles=1",
            "nofile=2:1",
            "nofile=-5",
            "nofile=1k",
            "nofile=99999999999999999999999",
        ] {
            assert!(parse(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn above_own_hard_limit_needs_the_capability() {
        let l = [parse("nofile=10:5000").unwrap()];
        assert!(check_against_own(&l, false, |_| Some(4096)).is_err());
        assert!(check_against_own(&l, true, |_| Some(4096)).is_ok());
        assert!(check_against_own(&l, false, |_| Some(u64::MAX)).is_ok());
    }
}
