//! The command line of resource limits: clap definitions for `run` and the `stats` command.
//! Values stay strings here; `config` validates them.

use clap::{Arg, ArgAction, ArgMatches, Command};

/// What `run` was given about ids and cgroups, before validation.
#[derive(Debug, Default, Clone)]
pub struct CgroupArgs {
    pub name: Option<String>,
    pub manager: Option<String>,
    pub parent: Option<String>,
    pub require: bool,
    pub memory: Option<String>,
    pub memory_reservation: Option<String>,
    pub memory_swap: Option<String>,
    pub cpus: Option<String>,
    pub cpu_shares: Option<String>,
    pub pids_limit: Option<String>,
    pub blkio_weight: Option<String>,
    pub device_read_bps: Vec<String>,
    pub device_write_bps: Vec<String>,
    pub device_read_iops: Vec<String>,
    pub device_write_iops: Vec<String>,
}

/// `--cgroup-manager` and `--cgroup-parent`, shared by `run` and `stats`.
fn placement_args() -> [Arg; 2] {
    [
        Arg::new("cgroup-manager").long("cgroup-manager").value_name("v1|v2|none")
            .value_parser(["auto", "v1", "v2", "none"])
            .help("Which cgroup hierarchy to use (default: auto, v2 on a unified host, else v1); none: no cgroups, no limits"),
        Arg::new("cgroup-parent").long("cgroup-parent").value_name("PATH")
            .help("The cgroup sandboxes are created below: /ABS from the hierarchy's root, REL below the launcher's own (default: nucleus)"),
    ]
}

/// The options `run` adds for ids and resource limits.
pub fn run_args() -> Vec<Arg> {
    let value = |id: &'static str, name: &'static str, help: &'static str| {
        Arg::new(id)
            .long(id)
            .value_name(name)
            .allow_hyphen_values(true)
            .help(help)
    };
    let device = |id: &'static str, name: &'static str, help: &'static str| {
        Arg::new(id)
            .long(id)
            .value_name(name)
            .action(ArgAction::Append)
            .help(help)
    };
    let mut args = vec![
        Arg::new("name").long("name").value_name("ID")
            .help("The sandbox's id (letters, digits, '_', '.', '-'; default: 12 random hex digits); names its cgroup, for `stats ID`"),
        value("memory", "SIZE", "Memory limit (docker's units: 256m, 1.5g; at least 6m); swap is off unless --memory-swap").short('m'),
        value("memory-reservation", "SIZE", "Soft memory limit, reclaimed first under pressure (v1 soft_limit, v2 memory.low)"),
        value("memory-swap", "SIZE", "Memory plus swap (with --memory; -1: unlimited swap; default: no swap)"),
        value("cpus", "N", "CPU bandwidth in CPUs (1.5: one and a half CPUs' time per 100 ms)"),
        value("cpu-shares", "N", "Relative CPU weight (2-262144, default 1024; v2 cpu.weight converted as crun/runc do)"),
        value("pids-limit", "N", "Most processes and threads at once (default 1024; -1 or 0: unlimited)"),
        value("blkio-weight", "N", "Relative block IO weight, 10-1000 (needs the BFQ scheduler or CFQ)"),
        device("device-read-bps", "PATH:RATE", "Limit reads from a block device, bytes per second (1mb, 10m ...)"),
        device("device-write-bps", "PATH:RATE", "Limit writes to a block device, bytes per second"),
        device("device-read-iops", "PATH:N", "Limit reads from a block device, operations per second"),
        device("device-write-iops", "PATH:N", "Limit writes to a block device, operations per second"),
        Arg::new("cgroup-require").long("cgroup-require").action(ArgAction::SetTrue)
            .help("Refuse to start unless every limit (the default pids limit and device list included) is enforced"),
    ];
    args.extend(placement_args());
    args
}

pub fn from_matches(m: &ArgMatches) -> CgroupArgs {
    let one = |id: &str| m.get_one::<String>(id).cloned();
    let many = |id: &str| {
        m.get_many::<String>(id)
            .map(|v| v.cloned().collect())
            .unwrap_or_default()
    };
    CgroupArgs {
        name: one("name"),
        manager: one("cgroup-manager"),
        parent: one("cgroup-parent"),
        require: m.get_flag("cgroup-require"),
        memory: one("memory"),
        memory_reservation: one("memory-reservation"),
        memory_swap: one("memory-swap"),
        cpus: one("cpus"),
        cpu_shares: one("cpu-shares"),
        pids_limit: one("pids-limit"),
        blkio_weight: one("blkio-weight"),
        device_read_bps: many("device-read-bps"),
        device_write_bps: many("device-write-bps"),
        device_read_iops: many("device-read-iops"),
        device_write_iops: many("device-write-iops"),
    }
}

/// `nucleus-launch stats ID [--json]`.
pub fn stats_command() -> Command {
    Command::new("stats")
        .about("Show the resource use of a running sandbox, read from its cgroups")
        .arg(
            Arg::new("id")
                .value_name("ID")
                .required(true)
                .help("The sandbox's id (run --name)"),
        )
        .arg(
            Arg::new("json")
                .long("json")
                .action(ArgAction::SetTrue)
                .help("One JSON object instead of a table"),
        )
        .args(placement_args())
}

/// What `stats` was given.
#[derive(Debug, Clone)]
pub struct StatsArgs {
    pub id: String,
    pub json: bool,
    pub manager: Option<String>,
    pub parent: Option<String>,
}

pub fn stats_from_matches(m: &ArgMatches) -> StatsArgs {
    StatsArgs {
        id: m.get_one::<String>("id").cloned().unwrap_or_default(),
        json: m.get_flag("json"),
        manager: m.get_one::<String>("cgroup-manager").cloned(),
        parent: m.get_one::<String>("cgroup-parent").cloned(),
    }
}
