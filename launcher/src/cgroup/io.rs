//! Block IO: v1's blkio controller, v2's io controller. Weights need a proportional
//! scheduler (BFQ: `blkio.bfq.weight` / `io.bfq.weight`; CFQ, gone since Linux 5.0:
//! `blkio.weight`; v2's `io.weight` needs the io.cost model); throttles need
//! CONFIG_BLK_DEV_THROTTLING (`blkio.throttle.*` / `io.max`).

use std::path::Path;

use super::config::{Limits, ThrottleKind};
use super::report::Report;
use super::{Version, set_all};
use crate::error::Error;

/// v2's `io.weight` (1-10000) for a docker blkio weight (10-1000), as runc converts it.
pub fn blkio_to_io_weight(w: u64) -> u64 {
    1 + (w.clamp(10, 1000) - 10) * 9999 / 990
}

/// The (file, value) writes for `l` in order; what the kernel lacks goes to the report.
pub fn writes(
    v: Version,
    l: &Limits,
    has: &dyn Fn(&str) -> bool,
    report: &mut Report,
) -> Vec<(&'static str, String)> {
    let mut w = Vec::new();
    if let Some(weight) = l.blkio_weight {
        let what = format!("--blkio-weight {weight}");
        let choice = match v {
            Version::V1 => [
                ("blkio.weight", weight.to_string()),
                ("blkio.bfq.weight", weight.to_string()),
            ],
            Version::V2 => [
                ("io.bfq.weight", weight.to_string()),
                (
                    "io.weight",
                    format!("default {}", blkio_to_io_weight(weight)),
                ),
            ],
        };
        match choice.into_iter().find(|(f, _)| has(f)) {
            Some(fv) => {
                w.push(fv);
                report.enforce(what);
            }
            None => report.miss(
                what,
                true,
                "no proportional IO scheduler here (BFQ) offers a weight",
            ),
        }
    }
    for t in &l.throttles {
        let (file, value) = match v {
            Version::V1 => (
                match t.kind {
                    ThrottleKind::ReadBps => "blkio.throttle.read_bps_device",
                    ThrottleKind::WriteBps => "blkio.throttle.write_bps_device",
                    ThrottleKind::ReadIops => "blkio.throttle.read_iops_device",
                    ThrottleKind::WriteIops => "blkio.throttle.write_iops_device",
                },
                format!("{}:{} {}", t.major, t.minor, t.rate),
            ),
            Version::V2 => (
                "io.max",
                format!(
                    "{}:{} {}={}",
                    t.major,
                    t.minor,
                    match t.kind {
                        ThrottleKind::ReadBps => "rbps",
                        ThrottleKind::WriteBps => "wbps",
                        ThrottleKind::ReadIops => "riops",
                        ThrottleKind::WriteIops => "wiops",
                    },
                    t.rate
                ),
            ),
        };
        if has(file) {
            w.push((file, value));
            report.enforce(t.origin.clone());
        } else {
            report.miss(
                t.origin.clone(),
                true,
                format!("no {file}: the kernel has no IO throttling"),
            );
        }
    }
    w
}

pub fn apply(
    v: Version,
    dir: &Path,
    parent: &Path,
    l: &Limits,
    report: &mut Report,
) -> Result<(), Error> {
    let has = |f: &str| parent.join(f).exists();
    set_all(dir, writes(v, l, &has, report))
}

/// Whether `l` asks for anything of this controller.
pub fn wanted(l: &Limits) -> bool {
    l.blkio_weight.is_some() || !l.throttles.is_empty()
}

/// (read, written) bytes over all devices; None where the kernel keeps no count.
pub fn usage(v: Version, dir: &Path) -> Option<(u64, u64)> {
    let (mut read, mut written) = (0, 0);
    match v {
        Version::V2 => {
            let text = super::fs::read(&dir.join("io.stat"))?;
            for field in text.split_whitespace() {
                if let Some(n) = field.strip_prefix("rbytes=") {
                    read += n.parse::<u64>().unwrap_or(0);
                } else if let Some(n) = field.strip_prefix("wbytes=") {
                    written += n.parse::<u64>().unwrap_or(0);
                }
            }
        }
        Version::V1 => {
            let text = super::fs::read(&dir.join("blkio.throttle.io_service_bytes_recursive"))?;
            for line in text.lines() {
                let f: Vec<&str> = line.split_whitespace().collect();
                match f.as_slice() {
                    [_, "Read", n] => read += n.parse::<u64>().unwrap_or(0),
                    [_, "Write", n] => written += n.parse::<u64>().unwrap_or(0),
                    _ => {}
                }
            }
        }
    }
    Some((read, written))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cgroup::config::Throttle;

    fn limits() -> Limits {
        Limits {
            blkio_weight: Some(500),
            throttles: vec![
                Throttle {
                    kind: ThrottleKind::ReadBps,
                    major: 8,
                    minor: 0,
                    rate: 1 << 20,
                    origin: "--device-read-bps /dev/sda:1m".into(),
                },
                Throttle {
                    kind: ThrottleKind::WriteIops,
                    major: 8,
                    minor: 16,
                    rate: 100,
                    origin: "--device-write-iops /dev/sdb:100".into(),
                },
            ],
            ..Limits::default()
        }
    }

    #[test]
    fn v1_files() {
        let mut r = Report::default();
        let w = writes(Version::V1, &limits(), &|f| f != "blkio.weight", &mut r);
        assert_eq!(
            w,
            [
                ("blkio.bfq.weight", "500".to_owned()),
                ("blkio.throttle.read_bps_device", "8:0 1048576".to_owned()),
                ("blkio.throttle.write_iops_device", "8:16 100".to_owned()),
            ]
        );
        assert!(r.missing.is_empty());
    }

    #[test]
    fn v2_files_and_weight_conversion() {
        assert_eq!(blkio_to_io_weight(10), 1);
        assert_eq!(blkio_to_io_weight(1000), 10_000);
        assert_eq!(blkio_to_io_weight(500), 4950);
        let mut r = Report::default();
        let w = writes(Version::V2, &limits(), &|f| f != "io.bfq.weight", &mut r);
        assert_eq!(
            w,
            [
                ("io.weight", "default 4950".to_owned()),
                ("io.max", "8:0 rbps=1048576".to_owned()),
                ("io.max", "8:16 wiops=100".to_owned()),
            ]
        );
    }

    #[test]
    fn no_scheduler_and_no_throttling_are_reported() {
        let mut r = Report::default();
        let w = writes(Version::V2, &limits(), &|_| false, &mut r);
        assert!(w.is_empty());
        assert_eq!(r.missing.len(), 3);
        assert!(r.missing.iter().all(|m| m.item.explicit));
    }

    #[test]
    fn byte_counts() {
        let dir = std::env::temp_dir().join(format!("nucleus-io-test-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        assert_eq!(usage(Version::V2, &dir), None);
        std::fs::write(
            dir.join("io.stat"),
            "8:0 rbytes=4096 wbytes=8192 rios=1 wios=2 dbytes=0 dios=0\n\
             8:16 rbytes=1 wbytes=2 rios=1 wios=1 dbytes=0 dios=0\n",
        )
        .unwrap();
        assert_eq!(usage(Version::V2, &dir), Some((4097, 8194)));
        std::fs::write(
            dir.join("blkio.throttle.io_service_bytes_recursive"),
            "8:0 Read 100\n8:0 Write 200\n8:0 Sync 0\n8:0 Async 300\n8:0 Total 300\nTotal 300\n",
        )
        .unwrap();
        assert_eq!(usage(Version::V1, &dir), Some((100, 200)));
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
