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
    pub command: Vec<String>,
}

pub enum Invocation {
    Run(RunArgs),
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
        .subcommand(run_command())
        .after_help("Exit status: the command's own; 128+N if signal N killed it; 125 if nucleus itself \
             failed or was used wrongly; 126 if the command cannot be executed; 127 if it was not found.")
}

fn strings(m: &ArgMatches, id: &str) -> Vec<String> {
    m.get_many::<String>(id)
        .map(|v| v.cloned().collect())
        .unwrap_or_default()
}

pub fn invocation(m: &ArgMatches) -> Invocation {
    match m.subcommand() {
        Some(("run", m)) => Invocation::Run(RunArgs {
            rootfs: m.get_one::<String>("rootfs").cloned(),
            rootfs_rw: m.get_flag("rootfs-rw"),
            hostname: m.get_one::<String>("hostname").cloned(),
            env: strings(m, "env"),
            workdir: m.get_one::<String>("workdir").cloned(),
            user: m.get_one::<String>("user").cloned(),
            volumes: strings(m, "volume"),
            tmpfs: strings(m, "tmpfs"),
            network: m.get_one::<String>("network").cloned().unwrap_or_default(),
            command: strings(m, "command"),
        }),
        _ => unreachable!("clap requires a known subcommand"),
    }
}
