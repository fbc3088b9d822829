//! Read-only verbs: what the sandbox looks like from inside. All of them only read files.

use std::fs;
use std::io;
use std::process::ExitCode;

type Verb = io::Result<ExitCode>;

fn done() -> Verb {
    Ok(ExitCode::SUCCESS)
}

/// Values of `Key:` lines of /proc/self/status.
fn status_field(key: &str) -> io::Result<String> {
    let status = fs::read_to_string("/proc/self/status")?;
    status
        .lines()
        .find_map(|l| l.strip_prefix(key)?.strip_prefix(':'))
        .map(|v| v.trim().to_owned())
        .ok_or_else(|| io::Error::other(format!("no {key} in /proc/self/status")))
}

pub fn pid() -> Verb {
    println!("pid={}", std::process::id());
    println!("ppid={}", std::os::unix::process::parent_id());
    done()
}

/// Numeric entries of /proc, sorted.
pub fn pids() -> io::Result<Vec<u32>> {
    let mut pids: Vec<u32> = fs::read_dir("/proc")?
        .filter_map(|e| e.ok()?.file_name().to_str()?.parse().ok())
        .collect();
    pids.sort_unstable();
    Ok(pids)
}

pub fn ps() -> Verb {
    let list: Vec<String> = pids()?.iter().map(u32::to_string).collect();
    println!("pids={}", list.join(","));
    done()
}

pub fn hostname() -> Verb {
    // Reading is namespaced (UTS); the probe never writes under /proc.
    let name = fs::read_to_string("/proc/sys/kernel/hostname")?;
    println!("hostname={}", name.trim_end());
    done()
}

pub fn uid() -> Verb {
    // Uid:/Gid: hold real, effective, saved and filesystem ids.
    for (key, names) in [
        ("Uid", ["uid", "euid", "suid", "fsuid"]),
        ("Gid", ["gid", "egid", "sgid", "fsgid"]),
    ] {
        for (name, value) in names.iter().zip(status_field(key)?.split_whitespace()) {
            println!("{name}={value}");
        }
    }
    let groups: Vec<String> = status_field("Groups")?
        .split_whitespace()
        .map(str::to_owned)
        .collect();
    println!("groups={}", groups.join(","));
    done()
}

/// One `mount=POINT FSTYPE OPTIONS SUPER_OPTIONS` line per line of mountinfo, then the count.
pub fn mounts() -> Verb {
    let info = fs::read_to_string("/proc/self/mountinfo")?;
    let mut count = 0;
    for line in info.lines() {
        let fields: Vec<&str> = line.split(' ').collect();
        // Fields: id parent major:minor root point options [optional...] - fstype source super.
        let Some(sep) = fields.iter().position(|f| *f == "-") else {
            continue;
        };
        let (point, opts) = (fields[4], fields[5]);
        let fstype = fields.get(sep + 1).unwrap_or(&"?");
        let sup = fields.get(sep + 3).unwrap_or(&"?");
        println!("mount={point} {fstype} {opts} {sup}");
        count += 1;
    }
    println!("mount_count={count}");
    done()
}

/// Interfaces of /proc/net/dev, each with whether it is up.
pub fn netdevs() -> Verb {
    let dev = fs::read_to_string("/proc/net/dev")?;
    // Two header lines, then `  name: counters...`.
    for line in dev.lines().skip(2) {
        let Some((name, _)) = line.split_once(':') else {
            continue;
        };
        let name = name.trim();
        let up = match crate::sys::interface_is_up(name) {
            Ok(true) => "1",
            Ok(false) => "0",
            Err(_) => "?",
        };
        println!("netdev={name} up={up}");
    }
    done()
}

/// Open fds, without the one `read_dir` used to list them.
pub fn fds() -> Verb {
    let listed: Vec<String> = fs::read_dir("/proc/self/fd")?
        .filter_map(|e| e.ok()?.file_name().into_string().ok())
        .collect();
    // The listing's own fd is closed once read_dir is done, so its link no longer resolves.
    let mut open: Vec<u32> = listed
        .iter()
        .filter(|n| fs::read_link(format!("/proc/self/fd/{n}")).is_ok())
        .filter_map(|n| n.parse().ok())
        .collect();
    open.sort_unstable();
    for fd in &open {
        let target = fs::read_link(format!("/proc/self/fd/{fd}"))
            .map(|p| p.display().to_string())
            .unwrap_or_default();
        println!("fd={fd} {target}");
    }
    let list: Vec<String> = open.iter().map(u32::to_string).collect();
    println!("fds={}", list.join(","));
    done()
}

/// The signal state the probe was started with, formatted as /proc/PID/status does. Reading
/// /proc/self/status now would show std's own SIGPIPE and SIGSEGV settings instead.
pub fn sigstate() -> Verb {
    let (blocked, ignored, caught) = crate::sys::start_signal_state();
    println!("SigBlk={blocked:016x}");
    println!("SigIgn={ignored:016x}");
    println!("SigCgt={caught:016x}");
    done()
}

/// Capabilities and the no_new_privs and seccomp state, as /proc/self/status shows them.
pub fn caps() -> Verb {
    for key in [
        "CapInh",
        "CapEff",
        "CapPrm",
        "CapBnd",
        "CapAmb",
        "NoNewPrivs",
        "Seccomp",
    ] {
        println!("{key}={}", status_field(key)?);
    }
    done()
}

pub fn env() -> Verb {
    for (k, v) in std::env::vars_os() {
        println!("env:{}={}", k.to_string_lossy(), v.to_string_lossy());
    }
    done()
}

pub fn cwd() -> Verb {
    println!("cwd={}", std::env::current_dir()?.display());
    done()
}

pub fn cgroup() -> Verb {
    for line in fs::read_to_string("/proc/self/cgroup")?.lines() {
        println!("cgroup={line}");
    }
    done()
}

pub fn ls(dir: &str) -> Verb {
    let mut names: Vec<String> = fs::read_dir(dir)?
        .filter_map(|e| e.ok()?.file_name().into_string().ok())
        .collect();
    names.sort();
    println!("ls={}", names.join(","));
    done()
}

pub fn read(path: &str) -> Verb {
    match fs::read_to_string(path) {
        Ok(s) => println!("read {path}={}", s.trim_end()),
        Err(e) => println!("read {path}={}", crate::files::errno_name(&e)),
    }
    done()
}
