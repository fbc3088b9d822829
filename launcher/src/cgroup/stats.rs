//! `nucleus-launch stats ID`: a running sandbox's resource use, read from its cgroups.

use std::path::Path;

use serde_json::json;

use super::cli::StatsArgs;
use super::config::Parent;
use super::layout::{Found, Manager};
use super::units::human_bytes;
use super::{Dir, Version, cpu, io, memory, pids};
use crate::error::Error;

/// What the cgroups say; None where this host keeps no count.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Stats {
    pub id: String,
    pub version: &'static str,
    pub cgroup: String,
    pub cpu_usec: Option<u64>,
    pub memory_current: Option<u64>,
    pub memory_peak: Option<u64>,
    /// None: unlimited (or unknown).
    pub memory_limit: Option<u64>,
    pub pids_current: Option<u64>,
    pub pids_limit: Option<u64>,
    /// (read, written) bytes.
    pub io: Option<(u64, u64)>,
}

/// Reads the stats of the sandbox `id` from its directories.
pub fn read(id: &str, version: Version, dirs: &[Dir]) -> Stats {
    let with = |c: &str| dirs.iter().find(|d| d.has(c)).map(|d| d.path.as_path());
    let any = dirs.first().map(|d| d.path.as_path());
    let mut s = Stats {
        id: id.to_owned(),
        version: version.name(),
        cgroup: any.map(|p| p.display().to_string()).unwrap_or_default(),
        ..Stats::default()
    };
    let (cpu_dir, mem_dir, pids_dir, io_dir) = match version {
        Version::V1 => (with("cpuacct"), with("memory"), with("pids"), with("blkio")),
        // cpu.stat is there without the cpu controller.
        Version::V2 => (any, with("memory"), with("pids"), with("io")),
    };
    s.cpu_usec = cpu_dir.and_then(|d| cpu::usage_us(version, d));
    if let Some(d) = mem_dir {
        (s.memory_current, s.memory_peak, s.memory_limit) = memory::usage(version, d);
    }
    if let Some(d) = pids_dir {
        (s.pids_current, s.pids_limit) = pids::usage(d);
    }
    s.io = io_dir.and_then(|d| io::usage(version, d));
    s
}

fn or_dash(v: Option<String>) -> String {
    v.unwrap_or_else(|| "-".to_owned())
}

impl Stats {
    pub fn table(&self) -> String {
        let limit = |l: Option<u64>, f: &dyn Fn(u64) -> String| match l {
            Some(n) => format!("limit {}", f(n)),
            None => "no limit".to_owned(),
        };
        let memory = match self.memory_current {
            Some(c) => format!(
                "{} (peak {}, {})",
                human_bytes(c),
                or_dash(self.memory_peak.map(human_bytes)),
                limit(self.memory_limit, &human_bytes)
            ),
            None => "-".to_owned(),
        };
        let pids = match self.pids_current {
            Some(c) => format!("{c} ({})", limit(self.pids_limit, &|n| n.to_string())),
            None => "-".to_owned(),
        };
        let io = or_dash(
            self.io
                .map(|(r, w)| format!("read {}, written {}", human_bytes(r), human_bytes(w))),
        );
        let cpu = or_dash(
            self.cpu_usec
                .map(|u| format!("{}.{:03} s", u / 1_000_000, u / 1000 % 1000)),
        );
        format!(
            "id      {}\ncgroup  {} {}\ncpu     {cpu}\nmemory  {memory}\npids    {pids}\nio      {io}\n",
            self.id, self.version, self.cgroup
        )
    }

    pub fn json(&self) -> String {
        let v = json!({
            "id": self.id,
            "cgroup": { "version": self.version, "path": self.cgroup },
            "cpu": { "usage_usec": self.cpu_usec },
            "memory": {
                "current_bytes": self.memory_current,
                "peak_bytes": self.memory_peak,
                "limit_bytes": self.memory_limit,
            },
            "pids": { "current": self.pids_current, "limit": self.pids_limit },
            "io": {
                "read_bytes": self.io.map(|(r, _)| r),
                "write_bytes": self.io.map(|(_, w)| w),
            },
        });
        v.to_string()
    }
}

/// The `stats` command.
pub fn run(a: &StatsArgs) -> Result<i32, Error> {
    let manager = match a.manager.as_deref() {
        None => Manager::Auto,
        Some(m) => Manager::parse(m).ok_or_else(|| {
            Error::usage(format!(
                "--cgroup-manager {m:?}: expected auto, v1, v2 or none"
            ))
        })?,
    };
    if manager == Manager::None {
        return Err(Error::usage(
            "stats reads cgroups; --cgroup-manager none has none",
        ));
    }
    super::id::validate_as("ID", &a.id)?;
    let parent = match a.parent.as_deref() {
        None => Parent::default(),
        Some(p) => Parent::parse(p)?,
    };
    let (version, dirs) =
        super::find(&Found::probe(), manager, &parent, &a.id, Path::new("/proc"))?;
    let stats = read(&a.id, version, &dirs);
    if a.json {
        println!("{}", stats.json());
    } else {
        print!("{}", stats.table());
    }
    Ok(0)
}
