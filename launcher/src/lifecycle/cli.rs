//! The lifecycle commands on the command line: docker's (`run -d`, `ps`, `exec`, `stop`, `rm`,
//! `logs`) and the OCI runtime's, as runc spells them (`create`, `start`, `state`, `kill`,
//! `delete`, `exec --process`, `features`), sharing one implementation.

use clap::{Arg, ArgAction, ArgMatches, Command};

use crate::cli::strings;

/// `--root`, `--log`, `--log-format` and `--systemd-cgroup`: global, as in runc.
pub fn global_args() -> [Arg; 4] {
    [
        Arg::new("root").long("root").value_name("DIR").global(true)
            .help("Where the state of detached and created sandboxes is kept (default: /run/nucleus)"),
        Arg::new("log").long("log").value_name("FILE").global(true)
            .help("Also write errors to FILE (OCI runtimes' --log; conmon and containerd read it)"),
        Arg::new("log-format").long("log-format").value_name("FORMAT").global(true)
            .value_parser(["text", "json"]).help("The format of --log: text (default) or json"),
        Arg::new("systemd-cgroup").long("systemd-cgroup").action(ArgAction::SetTrue).global(true)
            .help("Read linux.cgroupsPath in systemd's slice:prefix:name form (the cgroups are made directly, without systemd)"),
    ]
}

/// What `run` adds for detached sandboxes.
pub fn run_args() -> [Arg; 2] {
    [
        Arg::new("detach")
            .short('d')
            .long("detach")
            .action(ArgAction::SetTrue)
            .help("Run in the background: print the id and exit; see ps, logs, exec, stop, rm"),
        Arg::new("rm")
            .long("rm")
            .action(ArgAction::SetTrue)
            .requires("detach")
            .help("With -d: remove the sandbox's state and logs once it ends"),
    ]
}

fn id_arg() -> Arg {
    Arg::new("id")
        .value_name("ID")
        .required(true)
        .help("The sandbox's id")
}

pub fn commands() -> Vec<Command> {
    let delete = |name: &'static str| {
        Command::new(name)
            .about(
                "Remove a sandbox: its state, logs and cgroups (a running one only with --force)",
            )
            .arg(
                Arg::new("force")
                    .short('f')
                    .long("force")
                    .action(ArgAction::SetTrue)
                    .help("Kill it first if it still runs"),
            )
            .arg(id_arg())
    };
    vec![
        Command::new("create")
            .about("OCI: set up a sandbox from a bundle and leave it waiting for `start`")
            .arg(Arg::new("bundle").short('b').long("bundle").value_name("DIR").default_value(".")
                .help("The bundle: a directory with config.json"))
            .arg(Arg::new("pid-file").long("pid-file").value_name("FILE")
                .help("Write the sandbox's init pid to FILE"))
            .arg(Arg::new("console-socket").long("console-socket").value_name("SOCKET")
                .help("For process.terminal: send the pty master to this unix socket"))
            .arg(Arg::new("no-new-keyring").long("no-new-keyring").action(ArgAction::SetTrue)
                .help("Accepted for runc compatibility: nucleus never makes a session keyring"))
            .arg(id_arg()),
        Command::new("start").about("OCI: start the workload of a created sandbox").arg(id_arg()),
        Command::new("state").about("Print a sandbox's OCI state as JSON").arg(id_arg()),
        Command::new("kill")
            .about("Send a signal (default TERM) to a sandbox's init, which forwards it to the workload")
            .arg(Arg::new("all").short('a').long("all").action(ArgAction::SetTrue)
                .help("Signal every process of the sandbox (through its cgroup)"))
            .arg(id_arg())
            .arg(Arg::new("signal").value_name("SIGNAL").default_value("TERM")
                .help("A name (TERM, SIGKILL, RTMIN+1) or number")),
        delete("delete"),
        delete("rm"),
        Command::new("stop")
            .about("Stop a sandbox: its stop signal (TERM), then KILL after the timeout")
            .arg(Arg::new("time").short('t').long("time").value_name("SECONDS").default_value("10")
                .value_parser(clap::value_parser!(u32)).help("Seconds to wait before KILL"))
            .arg(id_arg()),
        Command::new("ps")
            .visible_alias("list")
            .about("List the sandboxes kept in the state directory")
            .arg(Arg::new("format").short('f').long("format").value_name("FORMAT")
                .value_parser(["table", "json"]).default_value("table"))
            .arg(Arg::new("quiet").short('q').long("quiet").action(ArgAction::SetTrue)
                .help("Only the ids")),
        Command::new("logs")
            .about("Print what a detached sandbox wrote to stdout and stderr")
            .arg(Arg::new("follow").short('f').long("follow").action(ArgAction::SetTrue)
                .help("Keep printing until the sandbox ends"))
            .arg(id_arg()),
        Command::new("exec")
            .about("Run a command in a running sandbox: its namespaces, cgroups and confinement")
            .arg(Arg::new("process").short('p').long("process").value_name("FILE")
                .help("OCI: the process as a JSON file (process.json) instead of CMD"))
            .arg(Arg::new("env").short('e').long("env").value_name("KEY=VALUE").action(ArgAction::Append))
            .arg(Arg::new("workdir").short('w').long("workdir").alias("cwd").value_name("DIR"))
            .arg(Arg::new("user").short('u').long("user").value_name("UID[:GID]"))
            .arg(Arg::new("tty").short('t').long("tty").action(ArgAction::SetTrue)
                .help("Give the command a pty"))
            .arg(Arg::new("interactive").short('i').long("interactive").action(ArgAction::SetTrue)
                .help("Keep stdin attached"))
            .arg(Arg::new("detach").short('d').long("detach").action(ArgAction::SetTrue)
                .help("Do not wait for the command (OCI: its caller reaps it)"))
            .arg(Arg::new("pid-file").long("pid-file").value_name("FILE"))
            .arg(Arg::new("console-socket").long("console-socket").value_name("SOCKET"))
            .arg(id_arg())
            .arg(Arg::new("command").value_name("CMD").num_args(1..).trailing_var_arg(true)
                .help("The command and its arguments, after --")),
        Command::new("features").about("OCI: print what this runtime supports, as JSON"),
        Command::new("monitor").hide(true).arg(id_arg()),
    ]
}

fn string(m: &ArgMatches, id: &str) -> Option<String> {
    m.get_one::<String>(id).cloned()
}

/// The global options every lifecycle command reads.
#[derive(Debug, Clone, Default)]
pub struct Global {
    pub root: Option<String>,
    pub systemd_cgroup: bool,
    /// `--log FILE` and whether `--log-format json`.
    pub log: Option<(String, bool)>,
}

impl Global {
    pub fn from(m: &ArgMatches) -> Self {
        Global {
            root: string(m, "root"),
            systemd_cgroup: m.get_flag("systemd-cgroup"),
            log: string(m, "log").map(|f| (f, string(m, "log-format").as_deref() == Some("json"))),
        }
    }
}

impl Global {
    /// Appends an error to `--log` (as runc does: conmon and containerd show the last error
    /// line of the file when a runtime command fails).
    pub fn log_error(&self, message: &str) {
        use std::io::Write;
        let Some((path, json)) = &self.log else {
            return;
        };
        let nanos = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.as_nanos());
        let time = crate::state::rfc3339(nanos);
        let line = if *json {
            serde_json::json!({ "level": "error", "msg": message, "time": time }).to_string()
        } else {
            format!("time={time:?} level=error msg={message:?}")
        };
        if let Ok(mut f) = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(path)
        {
            let _ = writeln!(f, "{line}");
        }
    }
}

/// `exec`'s options, before validation.
#[derive(Debug, Clone, Default)]
pub struct ExecArgs {
    pub id: String,
    pub process: Option<String>,
    pub env: Vec<String>,
    pub workdir: Option<String>,
    pub user: Option<String>,
    pub tty: bool,
    pub interactive: bool,
    pub detach: bool,
    pub pid_file: Option<String>,
    pub console_socket: Option<String>,
    pub command: Vec<String>,
}

#[derive(Debug)]
pub enum Lifecycle {
    Create {
        id: String,
        bundle: String,
        pid_file: Option<String>,
        console_socket: Option<String>,
    },
    Start(String),
    State(String),
    Kill {
        id: String,
        signal: String,
        all: bool,
    },
    Delete {
        id: String,
        force: bool,
    },
    Stop {
        id: String,
        seconds: u32,
    },
    List {
        json: bool,
        quiet: bool,
    },
    Logs {
        id: String,
        follow: bool,
    },
    Exec(Box<ExecArgs>),
    Features,
    Monitor(String),
}

/// The lifecycle command in `name`/`m`, if it is one.
pub fn parse(name: &str, m: &ArgMatches) -> Option<Lifecycle> {
    let id = || string(m, "id").unwrap_or_default();
    Some(match name {
        "create" => Lifecycle::Create {
            id: id(),
            bundle: string(m, "bundle").unwrap_or_else(|| ".".into()),
            pid_file: string(m, "pid-file"),
            console_socket: string(m, "console-socket"),
        },
        "start" => Lifecycle::Start(id()),
        "state" => Lifecycle::State(id()),
        "kill" => Lifecycle::Kill {
            id: id(),
            signal: string(m, "signal").unwrap_or_else(|| "TERM".into()),
            all: m.get_flag("all"),
        },
        "delete" | "rm" => Lifecycle::Delete {
            id: id(),
            force: m.get_flag("force"),
        },
        "stop" => Lifecycle::Stop {
            id: id(),
            seconds: m.get_one::<u32>("time").copied().unwrap_or(10),
        },
        "ps" => Lifecycle::List {
            json: string(m, "format").as_deref() == Some("json"),
            quiet: m.get_flag("quiet"),
        },
        "logs" => Lifecycle::Logs {
            id: id(),
            follow: m.get_flag("follow"),
        },
        "exec" => Lifecycle::Exec(Box::new(ExecArgs {
            id: id(),
            process: string(m, "process"),
            env: strings(m, "env"),
            workdir: string(m, "workdir"),
            user: string(m, "user"),
            tty: m.get_flag("tty"),
            interactive: m.get_flag("interactive"),
            detach: m.get_flag("detach"),
            pid_file: string(m, "pid-file"),
            console_socket: string(m, "console-socket"),
            command: strings(m, "command"),
        })),
        "features" => Lifecycle::Features,
        "monitor" => Lifecycle::Monitor(id()),
        _ => return None,
    })
}
