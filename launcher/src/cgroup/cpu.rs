//! The cpu controller (bandwidth and weight) and CPU time (v1: cpuacct; v2: `cpu.stat`,
//! present whether or not the controller is enabled).

use std::path::Path;

use super::config::{CPU_PERIOD_US, Limits};
use super::report::Report;
use super::units::cpus_text;
use super::{Version, set_all};
use crate::error::Error;

/// cgroup v2's `cpu.weight` for v1 `cpu.shares`, as crun (and runc since 1.3) convert it:
/// the quadratic curve in log2 that maps the ends of the ranges onto each other (2 -> 1,
/// 262144 -> 10000) and docker's default 1024 onto v2's default 100.
pub fn shares_to_weight(shares: u64) -> u64 {
    if shares <= 2 {
        return 1;
    }
    if shares >= 262_144 {
        return 10_000;
    }
    let l = (shares as f64).log2();
    let exponent = (l * l + 125.0 * l) / 612.0 - 7.0 / 34.0;
    let w = 10f64.powf(exponent);
    // Exact powers of ten (1024 -> 100) must not become 101 through rounding noise.
    let w = if (w - w.round()).abs() < 1e-9 {
        w.round()
    } else {
        w.ceil()
    };
    (w as u64).clamp(1, 10_000)
}

/// The (file, value) writes for `l`, in order.
pub fn writes(v: Version, l: &Limits, report: &mut Report) -> Vec<(&'static str, String)> {
    let mut w = Vec::new();
    if let (Some(quota), Some(nano)) = (l.cpu_quota_us, l.nano_cpus) {
        match v {
            Version::V1 => {
                w.push(("cpu.cfs_period_us", CPU_PERIOD_US.to_string()));
                w.push(("cpu.cfs_quota_us", quota.to_string()));
            }
            Version::V2 => w.push(("cpu.max", format!("{quota} {CPU_PERIOD_US}"))),
        }
        report.enforce(format!("cpus {}", cpus_text(nano)));
    }
    if let Some(shares) = l.cpu_shares {
        match v {
            Version::V1 => w.push(("cpu.shares", shares.to_string())),
            Version::V2 => w.push(("cpu.weight", shares_to_weight(shares).to_string())),
        }
        report.enforce(format!("cpu shares {shares}"));
    }
    w
}

pub fn apply(v: Version, dir: &Path, l: &Limits, report: &mut Report) -> Result<(), Error> {
    set_all(dir, writes(v, l, report))
}

/// CPU time used, in microseconds: v1 reads `cpuacct.usage` (ns) in the cpuacct hierarchy's
/// `dir`, v2 `usage_usec` of `cpu.stat`.
pub fn usage_us(v: Version, dir: &Path) -> Option<u64> {
    match v {
        Version::V1 => super::fs::read_number(&dir.join("cpuacct.usage"))
            .flatten()
            .map(|ns| ns / 1000),
        Version::V2 => {
            super::fs::read(&dir.join("cpu.stat")).and_then(|t| super::fs::keyed(&t, "usage_usec"))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn weights_match_crun() {
        for (shares, weight) in [
            (2, 1),
            (1, 1),
            (1024, 100),
            (262_144, 10_000),
            (300_000, 10_000),
            (512, 59),
            (2048, 174),
            (100, 17),
        ] {
            assert_eq!(shares_to_weight(shares), weight, "{shares}");
        }
        // Monotonic over the whole range.
        let mut last = 0;
        for s in (2..=262_144).step_by(97) {
            let w = shares_to_weight(s);
            assert!(w >= last, "{s}");
            last = w;
        }
    }

    #[test]
    fn bandwidth_and_shares_files() {
        let l = Limits {
            cpu_quota_us: Some(150_000),
            nano_cpus: Some(1_500_000_000),
            cpu_shares: Some(1024),
            ..Limits::default()
        };
        let mut r = Report::default();
        assert_eq!(
            writes(Version::V1, &l, &mut r),
            [
                ("cpu.cfs_period_us", "100000".to_owned()),
                ("cpu.cfs_quota_us", "150000".to_owned()),
                ("cpu.shares", "1024".to_owned()),
            ]
        );
        assert_eq!(r.enforced, ["cpus 1.5", "cpu shares 1024"]);
        assert_eq!(
            writes(Version::V2, &l, &mut Report::default()),
            [
                ("cpu.max", "150000 100000".to_owned()),
                ("cpu.weight", "100".to_owned()),
            ]
        );
        assert!(writes(Version::V2, &Limits::default(), &mut r).is_empty());
    }

    #[test]
    fn usage_from_each_layout() {
        let dir = std::env::temp_dir().join(format!("nucleus-cpu-test-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        std::fs::write(dir.join("cpuacct.usage"), "2500000\n").unwrap();
        std::fs::write(
            dir.join("cpu.stat"),
            "usage_usec 1234\nuser_usec 1000\nsystem_usec 234\n",
        )
        .unwrap();
        assert_eq!(usage_us(Version::V1, &dir), Some(2500));
        assert_eq!(usage_us(Version::V2, &dir), Some(1234));
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
