//! nucleus-probe: a static multi-call tool the integration tests run inside sandboxes.
//!
//! `nucleus-probe VERB [ARGS]` prints one `key=value` line per fact it checks, so tests can
//! assert on exact values. It refuses to run anywhere but inside a nucleus sandbox: several
//! verbs (`orphans`, `kill-self`, `write`) would be unwelcome on a developer's host.

mod cgroups;
mod files;
mod gvisor;
mod info;
mod landlock;
mod privs;
mod procs;
mod seccomp;
mod sys;
mod tty;

use std::process::ExitCode;

/// Exit code when the probe is started outside a sandbox (or with a bad verb).
const REFUSED: u8 = 99;

fn main() -> ExitCode {
    if let Err(why) = inside_sandbox() {
        eprintln!("nucleus-probe: refusing to run outside a nucleus sandbox: {why}");
        return ExitCode::from(REFUSED);
    }
    let args: Vec<String> = std::env::args().skip(1).collect();
    let Some((verb, rest)) = args.split_first() else {
        eprintln!("nucleus-probe: usage: nucleus-probe VERB [ARGS]");
        return ExitCode::from(REFUSED);
    };
    match run(verb, rest) {
        Ok(code) => code,
        Err(msg) => {
            eprintln!("nucleus-probe: {verb}: {msg}");
            ExitCode::from(REFUSED)
        }
    }
}

/// PID 1 must be nucleus-init and we must not be it (or, under gVisor, we are PID 1).
fn inside_sandbox() -> Result<(), String> {
    let comm = std::fs::read_to_string("/proc/1/comm")
        .map_err(|e| format!("cannot read /proc/1/comm: {e}"))?;
    let comm = comm.trim_end_matches('\n');
    // Under --runtime gvisor no nucleus-init runs: the probe is PID 1 of gVisor's kernel.
    if std::process::id() == 1 && gvisor::on_gvisor() {
        return Ok(());
    }
    if comm != "nucleus-init" {
        return Err(format!("PID 1 is {comm:?}, not \"nucleus-init\""));
    }
    if std::process::id() == 1 {
        return Err("the probe is PID 1".to_owned());
    }
    Ok(())
}

fn one<'a>(rest: &'a [String], what: &str) -> Result<&'a str, String> {
    rest.first()
        .map(String::as_str)
        .ok_or_else(|| format!("missing argument {what}"))
}

fn number<T: std::str::FromStr>(rest: &[String], what: &str) -> Result<T, String> {
    let raw = one(rest, what)?;
    raw.parse()
        .map_err(|_| format!("{what} must be a number, got {raw:?}"))
}

fn run(verb: &str, rest: &[String]) -> Result<ExitCode, String> {
    match verb {
        "pid" => info::pid(),
        "ps" => info::ps(),
        "hostname" => info::hostname(),
        "uid" => info::uid(),
        "mounts" => info::mounts(),
        "netdevs" => info::netdevs(),
        "fds" => info::fds(),
        "sigstate" => info::sigstate(),
        "caps" => info::caps(),
        "env" => info::env(),
        "cwd" => info::cwd(),
        "cgroup" => info::cgroup(),
        "kernel" => gvisor::kernel(),
        "ls" => info::ls(one(rest, "DIR")?),
        "read" => info::read(one(rest, "PATH")?),
        "write" => files::write(one(rest, "PATH")?),
        "fill" => files::fill(
            one(rest, "PATH")?,
            number(rest.get(1..).unwrap_or(&[]), "BYTES")?,
        ),
        "openw" => files::openw(one(rest, "PATH")?),
        "exe" => files::exe(),
        "exit" => procs::exit(number(rest, "N")?),
        "kill-self" => procs::kill_self(one(rest, "SIG")?),
        "signals" => procs::signals(),
        "orphans" => procs::orphans(number(rest, "N")?),
        // Further arguments are ignored: tests add a unique marker to find the process.
        "sleep" => procs::sleep(number(rest, "SECS")?),
        "syscall" => seccomp::syscall(one(rest, "NAME")?, &rest[1..]),
        "stack-allow-all" => seccomp::stack_allow_all(one(rest, "NAME")?, &rest[1..]),
        "int80" => seccomp::int80(),
        "x32" => seccomp::x32(),
        "clone3" => seccomp::clone3(),
        "clone" => seccomp::clone(one(rest, "FLAGS")?),
        "threads" => seccomp::threads(number(rest, "N")?),
        "tiocsti" => seccomp::tiocsti(),
        "socket" => seccomp::socket(rest),
        "fork-exec" => seccomp::fork_exec(one(rest, "PATH")?, &rest[1..]),
        "fork-caps" => privs::fork_caps(),
        "securebits" => privs::securebits(),
        "regain-caps" => privs::regain_caps(number(rest, "BIT")?),
        "mknod" => privs::mknod(one(rest, "PATH")?),
        "chown" => privs::chown(
            one(rest, "PATH")?,
            number(rest.get(1..).unwrap_or(&[]), "UID")?,
        ),
        "rlimit" => privs::rlimit(one(rest, "NAME")?),
        "ptrace-attach" => privs::ptrace_attach(number(rest, "PID")?),
        "trace-new" => privs::trace_new(number(rest, "SECS")?),
        "stat" => privs::stat(one(rest, "PATH")?),
        "userns-mount" => privs::userns_mount(one(rest, "DIR")?),
        "copy-self" => landlock::copy_self(one(rest, "PATH")?),
        "exec" => landlock::exec(one(rest, "PATH")?),
        "connect" => landlock::connect(one(rest, "PORT")?),
        "bind" => landlock::bind(one(rest, "PORT")?),
        "signal" => landlock::signal(one(rest, "PID")?),
        "abstract-connect" => landlock::abstract_connect(one(rest, "NAME")?),
        "abstract-self" => landlock::abstract_self(one(rest, "NAME")?),
        "forkbomb" => cgroups::forkbomb(number(rest, "MAX")?),
        "hog" => cgroups::hog(number(rest, "MIB")?),
        "hold" => cgroups::hold(
            number(rest, "MIB")?,
            number(rest.get(1..).unwrap_or(&[]), "SECS")?,
        ),
        "spin" => cgroups::spin(number(rest, "MILLIS")?),
        "mknod-open" => cgroups::mknod_open(
            one(rest, "PATH")?,
            number(rest.get(1..).unwrap_or(&[]), "MAJOR")?,
            number(rest.get(2..).unwrap_or(&[]), "MINOR")?,
        ),
        "tty" => tty::tty(rest),
        other => return Err(format!("unknown verb {other:?}")),
    }
    .map_err(|e| e.to_string())
}
