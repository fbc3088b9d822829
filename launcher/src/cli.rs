//! The command line: clap definitions only. Values stay strings here; `config` validates them.

use clap::{Arg, ArgAction, ArgMatches, Command, value_parser};

/// What `run` was given, before validation.
#[derive(Debug, Default)]
pub struct RunArgs {
    pub rootfs: Option<String>,
    pub rootfs_rw: bool,
    pub hostname: Option<String>,
    pub env: Vec<String>,
    pub workdir: Option<String>,
    pub user: Option<String>,
    pub volumes: Vec<String>,
    pub tmpfs: Vec<String>,
    pub network: String,
    /// `None`: the policy file's, else `default`.
    pub seccomp: Option<String>,
    /// A profile from the policy file, as JSON text.
    pub seccomp_inline: Option<String>,
    pub seccomp_allow: Vec<String>,
    pub seccomp_trace: Option<String>,
    pub seccomp_log_denied: bool,
    pub cap_add: Vec<String>,
    pub cap_drop: Vec<String>,
    pub ulimits: Vec<String>,
    pub userns: Option<String>,
    pub uid_maps: Vec<String>,
    pub gid_maps: Vec<String>,
    /// `--landlock on|off` (None: on).
    pub landlock: Option<String>,
    pub landlock_require: bool,
    pub landlock_ro: Vec<String>,
    pub landlock_rw: Vec<String>,
    pub landlock_exec: Vec<String>,
    pub landlock_bind: Vec<String>,
    pub landlock_connect: Vec<String>,
    /// `--name` and the resource limits (`crate::cgroup::cli`).
    pub cgroup: crate::cgroup::cli::CgroupArgs,
    /// `--runtime` and gVisor's options (`crate::backend::gvisor::cli`).
    pub runtime: crate::backend::gvisor::cli::RuntimeArgs,
    pub policy: Option<String>,
    pub policy_sha256: Option<String>,
    /// `-t`: a pty inside the sandbox.
    pub tty: bool,
    /// `-i`: the launcher's stdin reaches the workload's terminal.
    pub interactive: bool,
    /// `-d`: detached, under a monitor (`crate::lifecycle`).
    pub detach: bool,
    /// `--rm` with `-d`.
    pub auto_remove: bool,
    pub command: Vec<String>,
}

pub enum Invocation {
    Run(Box<RunArgs>),
    SeccompExplain {
        profile: String,
        call: Option<String>,
        allow: Vec<String>,
    },
    SeccompGenerate {
        traces: Vec<String>,
        output: String,
    },
    Doctor {
        json: bool,
    },
    Stats(crate::cgroup::cli::StatsArgs),
    Lifecycle(crate::lifecycle::cli::Lifecycle),
}

fn seccomp_command() -> Command {
    Command::new("seccomp")
        .about("Inspect seccomp profiles")
        .subcommand_required(true)
        .subcommand(
            Command::new("explain")
                .about("Show the compiled program of a profile, or what it decides for one system call")
                .arg(Arg::new("profile").value_name("PROFILE").default_value("default")
                    .help("default, or an OCI/Docker profile file"))
                .arg(Arg::new("call").value_name("SYSCALL[:ARG0,ARG1,...]")
                    .help("A system call (with argument values) to decide instead of listing the program"))
                .arg(Arg::new("allow").long("seccomp-allow").value_name("NAME,...").action(ArgAction::Append)
                    .value_delimiter(',').help("Also allow these system calls, as with run")),
        )
        .subcommand(
            Command::new("generate")
                .about("Write a minimal OCI seccomp profile allowing what the traces (from run --seccomp-trace) used")
                .arg(Arg::new("traces").value_name("TRACE").required(true).num_args(1..))
                .arg(Arg::new("output").short('o').long("output").value_name("PROFILE.json").required(true)),
        )
}

fn run_command() -> Command {
    Command::new("run")
        .about("Run a command in a new sandbox and exit with its status")
        .arg(Arg::new("rootfs").long("rootfs").value_name("DIR")
            .help("Root filesystem to pivot into (default: an embedded root with the host's /usr, /bin, /sbin and /lib* read-only)"))
        .arg(Arg::new("rootfs-rw").long("rootfs-rw").action(ArgAction::SetTrue)
            .help("Leave the --rootfs root writable (it is read-only by default)"))
        .arg(Arg::new("hostname").long("hostname").value_name("NAME").help("Hostname inside the sandbox (default: nucleus)"))
        .arg(Arg::new("env").short('e').long("env").value_name("KEY=VAL").action(ArgAction::Append)
            .help("Set an environment variable; KEY alone copies it from the caller's environment"))
        .arg(Arg::new("workdir").short('w').long("workdir").value_name("DIR").help("Working directory inside the sandbox (default: /)"))
        .arg(Arg::new("user").short('u').long("user").value_name("UID[:GID]")
            .help("Numeric user and group to run as (GID defaults to UID)"))
        .arg(Arg::new("volume").short('v').long("volume").value_name("SRC:DST[:ro|rw]").action(ArgAction::Append)
            .help("Bind-mount a host path into the sandbox (read-write unless :ro)"))
        .arg(Arg::new("tmpfs").long("tmpfs").value_name("DST[:OPTS]").action(ArgAction::Append)
            .help("Mount a tmpfs; OPTS: size=N[kmg], mode=OCTAL, ro, exec, suid, dev (default noexec,nosuid,nodev)"))
        .arg(Arg::new("network").long("network").value_name("MODE").default_value("none")
            .value_parser(["none", "host"])
            .help("none: a private network namespace with only loopback; host: the host's network"))
        .arg(Arg::new("policy").long("policy").value_name("FILE.json")
            .help("Seccomp, Landlock, capabilities and rlimits from one file; options given here add to it or override it"))
        .arg(Arg::new("policy-sha256").long("policy-sha256").value_name("HEX").requires("policy")
            .help("Refuse to start unless the policy file has this SHA-256"))
        .arg(Arg::new("seccomp").long("seccomp").value_name("PROFILE")
            .help("default: nucleus's deny-by-default filter; unconfined: none; or an OCI/Docker profile (JSON file)"))
        .arg(Arg::new("seccomp-allow").long("seccomp-allow").value_name("NAME,...").action(ArgAction::Append)
            .value_delimiter(',').help("Also allow these system calls (e.g. io_uring_setup,io_uring_enter)"))
        .arg(Arg::new("seccomp-trace").long("seccomp-trace").value_name("FILE").conflicts_with("seccomp-log-denied")
            .help("Allow every system call but record which ones the sandbox makes, into FILE (NDJSON), for `seccomp generate`"))
        .arg(Arg::new("seccomp-log-denied").long("seccomp-log-denied").action(ArgAction::SetTrue)
            .help("Print each system call the profile denies as one JSON line on stderr, while the sandbox runs"))
        .arg(Arg::new("cap-add").long("cap-add").value_name("CAP").action(ArgAction::Append).value_delimiter(',')
            .help("Keep this capability (docker's names: NET_RAW, SYS_ADMIN, ..., or ALL); none is kept by default"))
        .arg(Arg::new("cap-drop").long("cap-drop").value_name("CAP").action(ArgAction::Append).value_delimiter(',')
            .help("Drop this capability (or ALL) from those added"))
        .arg(Arg::new("userns").long("userns").value_name("MODE").value_parser(["host", "auto", "map"])
            .help("A user namespace: auto (root inside is an unprivileged host range), map (--uid-map/--gid-map); implied for unprivileged callers"))
        .arg(Arg::new("uid-map").long("uid-map").value_name("INSIDE:OUTSIDE:COUNT").action(ArgAction::Append)
            .help("A uid range of the user namespace (with --userns map)"))
        .arg(Arg::new("gid-map").long("gid-map").value_name("INSIDE:OUTSIDE:COUNT").action(ArgAction::Append)
            .help("A gid range of the user namespace (with --userns map)"))
        .arg(Arg::new("landlock").long("landlock").value_name("MODE").value_parser(["on", "off"])
            .help("on (default): Landlock limits the workload to the root, /tmp, the volumes and the paths given below; off: no Landlock"))
        .arg(Arg::new("landlock-require").long("landlock-require").action(ArgAction::SetTrue)
            .help("Refuse to start unless the kernel enforces all of Landlock (ABI 6, Linux 6.12, or later) instead of what it can"))
        .arg(Arg::new("landlock-ro").long("landlock-ro").value_name("PATH").action(ArgAction::Append)
            .help("Also allow reading beneath PATH (inside the sandbox)"))
        .arg(Arg::new("landlock-rw").long("landlock-rw").value_name("PATH").action(ArgAction::Append)
            .help("Also allow everything beneath PATH: read, write, create, remove, execute"))
        .arg(Arg::new("landlock-exec").long("landlock-exec").value_name("PATH").action(ArgAction::Append)
            .help("Also allow reading and executing beneath PATH"))
        .arg(Arg::new("landlock-bind").long("landlock-bind").value_name("PORT").action(ArgAction::Append).value_delimiter(',')
            .help("Allow binding this TCP port; with any --landlock-bind/--landlock-connect, other ports are denied"))
        .arg(Arg::new("landlock-connect").long("landlock-connect").value_name("PORT").action(ArgAction::Append).value_delimiter(',')
            .help("Allow connecting to this TCP port; with any --landlock-bind/--landlock-connect, other ports are denied"))
        .arg(Arg::new("ulimit").long("ulimit").value_name("NAME=SOFT[:HARD]").action(ArgAction::Append)
            .help("A resource limit (nofile, nproc, core, stack, ...; \"unlimited\" allowed)"))
        .args(crate::cgroup::cli::run_args())
        .args(crate::backend::gvisor::cli::run_args())
        .args(crate::lifecycle::cli::run_args())
        .arg(Arg::new("tty").short('t').long("tty").action(ArgAction::SetTrue)
            .help("Give the command a new terminal inside the sandbox, relayed to this one (raw while attached with -i)"))
        .arg(Arg::new("interactive").short('i').long("interactive").action(ArgAction::SetTrue)
            .help("With -t, relay stdin to the sandbox's terminal (without -t stdin always passes through)"))
        .arg(Arg::new("command").value_name("CMD").required(true).num_args(1..).trailing_var_arg(true)
            .value_parser(value_parser!(String)).help("The command and its arguments, after --"))
}

pub fn command() -> Command {
    Command::new("nucleus-launch")
        .version(env!("CARGO_PKG_VERSION"))
        .about("Start a process in a confined Linux sandbox")
        .subcommand_required(true)
        .arg_required_else_help(true)
        .arg(Arg::new("log-level").long("log-level").value_name("LEVEL").global(true)
            .value_parser(["error", "warn", "info", "debug", "trace"])
            .help("Diagnostics on stderr (default: warn; also NUCLEUS_LOG)"))
        .args(crate::lifecycle::cli::global_args())
        .subcommand(run_command())
        .subcommands(crate::lifecycle::cli::commands())
        .subcommand(seccomp_command())
        .subcommand(crate::cgroup::cli::stats_command())
        .subcommand(
            Command::new("doctor")
                .about("What this host supports, and what each missing piece means for a sandbox")
                .arg(Arg::new("json").long("json").action(ArgAction::SetTrue).help("Print JSON")),
        )
        .after_help("Exit status: the command's own; 128+N if signal N killed it; 125 if nucleus itself \
             failed or was used wrongly; 126 if the command cannot be executed; 127 if it was not found.")
}

/// Every value given for `id` (none: empty).
pub fn strings(m: &ArgMatches, id: &str) -> Vec<String> {
    m.get_many::<String>(id)
        .map(|v| v.cloned().collect())
        .unwrap_or_default()
}

pub fn invocation(m: &ArgMatches) -> Invocation {
    match m.subcommand() {
        Some(("run", m)) => Invocation::Run(Box::new(RunArgs {
            rootfs: m.get_one::<String>("rootfs").cloned(),
            rootfs_rw: m.get_flag("rootfs-rw"),
            hostname: m.get_one::<String>("hostname").cloned(),
            env: strings(m, "env"),
            workdir: m.get_one::<String>("workdir").cloned(),
            user: m.get_one::<String>("user").cloned(),
            volumes: strings(m, "volume"),
            tmpfs: strings(m, "tmpfs"),
            network: m.get_one::<String>("network").cloned().unwrap_or_default(),
            seccomp: m.get_one::<String>("seccomp").cloned(),
            seccomp_inline: None,
            policy: m.get_one::<String>("policy").cloned(),
            policy_sha256: m.get_one::<String>("policy-sha256").cloned(),
            seccomp_allow: strings(m, "seccomp-allow"),
            seccomp_trace: m.get_one::<String>("seccomp-trace").cloned(),
            seccomp_log_denied: m.get_flag("seccomp-log-denied"),
            cap_add: strings(m, "cap-add"),
            cap_drop: strings(m, "cap-drop"),
            ulimits: strings(m, "ulimit"),
            userns: m.get_one::<String>("userns").cloned(),
            uid_maps: strings(m, "uid-map"),
            gid_maps: strings(m, "gid-map"),
            landlock: m.get_one::<String>("landlock").cloned(),
            landlock_require: m.get_flag("landlock-require"),
            landlock_ro: strings(m, "landlock-ro"),
            landlock_rw: strings(m, "landlock-rw"),
            landlock_exec: strings(m, "landlock-exec"),
            landlock_bind: strings(m, "landlock-bind"),
            landlock_connect: strings(m, "landlock-connect"),
            cgroup: crate::cgroup::cli::from_matches(m),
            runtime: crate::backend::gvisor::cli::from_matches(m),
            tty: m.get_flag("tty"),
            interactive: m.get_flag("interactive"),
            detach: m.get_flag("detach"),
            auto_remove: m.get_flag("rm"),
            command: strings(m, "command"),
        })),
        Some(("seccomp", m)) => match m.subcommand() {
            Some(("explain", m)) => Invocation::SeccompExplain {
                profile: m.get_one::<String>("profile").cloned().unwrap_or_default(),
                call: m.get_one::<String>("call").cloned(),
                allow: strings(m, "allow"),
            },
            Some(("generate", m)) => Invocation::SeccompGenerate {
                traces: strings(m, "traces"),
                output: m.get_one::<String>("output").cloned().unwrap_or_default(),
            },
            _ => unreachable!("clap requires a known seccomp subcommand"),
        },
        Some(("doctor", m)) => Invocation::Doctor {
            json: m.get_flag("json"),
        },
        Some(("stats", m)) => Invocation::Stats(crate::cgroup::cli::stats_from_matches(m)),
        Some((name, m)) if let Some(l) = crate::lifecycle::cli::parse(name, m) => {
            Invocation::Lifecycle(l)
        }
        _ => unreachable!("clap requires a known subcommand"),
    }
}
