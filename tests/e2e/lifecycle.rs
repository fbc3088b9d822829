//! Detached sandboxes and the docker-style lifecycle: `run -d`, `ps`, `state`, `logs`, `exec`,
//! `kill`, `stop`, `rm`, against real sandboxes, with a private state root per test.

#[path = "../harness/mod.rs"]
mod harness;

use std::path::{Path, PathBuf};
use std::time::Duration;

use harness::{Outcome, alive, nucleus, probe, skip_unless_root, unique, wait_until};

/// A state root of its own, removed (with any sandbox left in it) at the end.
struct Root {
    dir: PathBuf,
}

impl Root {
    fn new(tag: &str) -> Self {
        Root {
            dir: std::env::temp_dir().join(unique(tag)),
        }
    }

    fn cmd(&self, args: &[&str]) -> Outcome {
        let mut all = vec!["--root", self.dir.to_str().unwrap()];
        all.extend_from_slice(args);
        nucleus(all)
    }

    /// `run -d --name NAME` of the probe on the default root.
    fn detach(&self, name: &str, opts: &[&str], verb: &[&str]) -> Outcome {
        let bind = format!("{}:/probe:ro", probe().display());
        let mut args = vec!["run", "-d", "--name", name, "-v", &bind];
        args.extend_from_slice(opts);
        args.push("--");
        args.push("/probe");
        args.extend_from_slice(verb);
        self.cmd(&args)
    }

    /// `run -d --name NAME -- COMMAND...` on the default root.
    fn run_d(&self, name: &str, command: &[&str]) -> Outcome {
        let mut args = vec!["run", "-d", "--name", name, "--"];
        args.extend_from_slice(command);
        self.cmd(&args)
    }

    /// `run -d --name NAME -- sh -c 'sleep 3600; true' MARKER`, not waited for, returned once
    /// its record exists: a start still in progress. MARKER names its processes.
    fn starting(&self, name: &str, marker: &str) -> std::process::Child {
        let root = self.dir.to_str().unwrap();
        let sh = ["/bin/sh", "-c", "sleep 3600; true", marker];
        let mut args = vec!["--root", root, "run", "-d", "--name", name, "--"];
        args.extend_from_slice(&sh);
        let child = harness::launcher_command(args).spawn().unwrap();
        if !wait_until(Duration::from_secs(10), || {
            self.dir.join(name).join("state.json").exists()
        }) {
            let out = child.wait_with_output().unwrap();
            panic!(
                "no record within 10 s: {:?}\n{}{}",
                out.status,
                String::from_utf8_lossy(&out.stdout),
                String::from_utf8_lossy(&out.stderr)
            );
        }
        child
    }

    /// Whether the monitor records exit code `code` for `name` within 10 s.
    fn exit_recorded(&self, name: &str, code: i64) -> bool {
        wait_until(Duration::from_secs(10), || {
            self.record(name)["nucleus"]["exitCode"] == code
        })
    }

    fn state(&self, name: &str) -> serde_json::Value {
        let out = self.cmd(&["state", name]);
        assert_eq!(out.code, 0, "{out}");
        serde_json::from_str(&out.stdout).unwrap_or_else(|e| panic!("{e}\n{out}"))
    }

    fn status(&self, name: &str) -> String {
        self.state(name)["status"].as_str().unwrap().to_owned()
    }

    fn record(&self, name: &str) -> serde_json::Value {
        let text = std::fs::read_to_string(self.dir.join(name).join("state.json")).unwrap();
        serde_json::from_str(&text).unwrap()
    }

    fn cgroup_dirs(&self, name: &str) -> Vec<PathBuf> {
        self.record(name)["nucleus"]["cgroup"]["dirs"]
            .as_array()
            .map(|a| {
                a.iter()
                    .map(|d| PathBuf::from(d["path"].as_str().or(d.as_str()).unwrap()))
                    .collect()
            })
            .unwrap_or_default()
    }
}

impl Drop for Root {
    fn drop(&mut self) {
        if let Ok(entries) = std::fs::read_dir(&self.dir) {
            for e in entries.flatten() {
                let name = e.file_name().into_string().unwrap();
                let _ = self.cmd(&["rm", "--force", &name]);
            }
        }
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

#[test]
fn a_detached_sandbox_outlives_its_launcher_and_rm_leaves_nothing() {
    if skip_unless_root() {
        return;
    }
    let root = Root::new("detach");
    let out = root.detach("box", &[], &["sleep", "60"]);
    assert_eq!((out.code, out.stdout.trim()), (0, "box"), "{out}");
    let state = root.state("box");
    assert_eq!(state["status"], "running", "{state}");
    assert_eq!(state["id"], "box");
    let pid = state["pid"].as_u64().unwrap();
    assert!(alive(pid), "init {pid} is not running");
    let cgroups = root.cgroup_dirs("box");
    assert!(
        !cgroups.is_empty() && cgroups.iter().all(|d| d.is_dir()),
        "{cgroups:?}"
    );

    let ps = root.cmd(&["ps"]);
    assert!(
        ps.stdout
            .lines()
            .any(|l| l.starts_with("box") && l.contains("running")),
        "{ps}"
    );
    let json: serde_json::Value =
        serde_json::from_str(&root.cmd(&["ps", "--format", "json"]).stdout).unwrap();
    assert_eq!(json[0]["id"], "box");

    // The name is taken while the sandbox exists.
    let again = root.detach("box", &[], &["sleep", "1"]);
    assert_eq!(again.code, 125, "{again}");
    assert!(again.stderr.contains("already exists"), "{again}");

    // Running: rm refuses without --force, and changes nothing.
    let rm = root.cmd(&["rm", "box"]);
    assert_eq!(rm.code, 125, "{rm}");
    assert!(
        rm.stderr.contains("running") && rm.stderr.contains("--force"),
        "{rm}"
    );
    assert!(alive(pid));

    let rm = root.cmd(&["rm", "--force", "box"]);
    assert_eq!(rm.code, 0, "{rm}");
    assert!(
        wait_until(Duration::from_secs(5), || !alive(pid)),
        "init {pid} survived rm --force"
    );
    assert!(!root.dir.join("box").exists(), "state left behind");
    assert!(
        wait_until(Duration::from_secs(5), || cgroups
            .iter()
            .all(|d| !d.exists())),
        "cgroups left behind: {cgroups:?}"
    );
    let gone = root.cmd(&["state", "box"]);
    assert_eq!(gone.code, 125, "{gone}");
    assert!(gone.stderr.contains("no sandbox named \"box\""), "{gone}");
}

#[test]
fn logs_keep_the_output_and_ps_the_exit_code() {
    if skip_unless_root() {
        return;
    }
    let root = Root::new("logs");
    let out = root.run_d(
        "talk",
        &[
            "/bin/sh",
            "-c",
            "echo to-stdout; echo to-stderr >&2; exit 3",
        ],
    );
    assert_eq!(out.code, 0, "{out}");
    assert!(
        wait_until(Duration::from_secs(10), || root.status("talk") == "stopped"),
        "never stopped"
    );
    // The monitor records the code once it has collected everything.
    assert!(root.exit_recorded("talk", 3));
    let logs = root.cmd(&["logs", "talk"]);
    assert_eq!(logs.code, 0, "{logs}");
    assert!(
        logs.stdout.contains("to-stdout\n") && logs.stdout.contains("to-stderr\n"),
        "{logs}"
    );
    let ps = root.cmd(&["ps"]);
    assert!(ps.stdout.contains("exited (3)"), "{ps}");
    let cgroups = root.cgroup_dirs("talk");
    assert!(
        cgroups.iter().all(|d| !d.exists()),
        "the monitor left cgroups: {cgroups:?}"
    );
    // Stopped: rm needs no --force.
    assert_eq!(root.cmd(&["rm", "talk"]).code, 0);
    assert!(!root.dir.join("talk").exists());
}

#[test]
fn logs_follow_until_the_sandbox_ends() {
    if skip_unless_root() {
        return;
    }
    let root = Root::new("follow");
    let out = root.run_d("f", &["/bin/sh", "-c", "echo one; sleep 1; echo two"]);
    assert_eq!(out.code, 0, "{out}");
    let logs = root.cmd(&["logs", "-f", "f"]);
    assert_eq!(
        (logs.code, logs.stdout.as_str()),
        (0, "one\ntwo\n"),
        "{logs}"
    );
}

#[test]
fn exec_joins_the_sandbox_and_is_confined_like_its_workload() {
    if skip_unless_root() {
        return;
    }
    let root = Root::new("exec");
    assert_eq!(
        root.detach("ex", &["--hostname", "inside"], &["sleep", "60"])
            .code,
        0
    );
    let exec = |verb: &[&str]| {
        let mut args = vec!["exec", "ex", "--", "/probe"];
        args.extend_from_slice(verb);
        root.cmd(&args)
    };
    // The same pid namespace: the workload is pid 2 (init is 1) and visible.
    let ps = exec(&["ps"]);
    assert_eq!(ps.code, 0, "{ps}");
    let pids: Vec<&str> = ps.value("pids").split(',').collect();
    assert!(pids.contains(&"1") && pids.contains(&"2"), "{ps}");
    let pid = exec(&["pid"]);
    assert!(pid.value("pid").parse::<u32>().unwrap() > 2, "{pid}");
    assert_eq!(exec(&["hostname"]).value("hostname"), "inside");
    // Confined: no capabilities, no_new_privs, the seccomp filter (mount is EPERM).
    let caps = exec(&["caps"]);
    assert_eq!(caps.value("CapEff"), "0000000000000000", "{caps}");
    assert_eq!(caps.value("CapBnd"), "0000000000000000", "{caps}");
    assert_eq!(caps.value("NoNewPrivs"), "1", "{caps}");
    assert_eq!(caps.value("Seccomp"), "2", "{caps}");
    assert_eq!(exec(&["syscall", "mount"]).value("syscall mount"), "EPERM");
    // Landlock: /dev is a writable tmpfs, so only Landlock refuses a new file there, and a
    // program written to /tmp cannot be executed.
    assert_eq!(
        exec(&["write", "/dev/created"]).value("write /dev/created"),
        "EACCES"
    );
    assert_eq!(
        exec(&["copy-self", "/tmp/p"]).value("copy-self /tmp/p"),
        "ok"
    );
    assert_eq!(exec(&["exec", "/tmp/p"]).value("exec /tmp/p"), "EACCES");
    // But an exec may signal the workload (`kill -HUP 1`-style reloads), which Landlock's
    // signal scope would refuse between two domains; the pid namespace keeps it inside.
    assert_eq!(exec(&["signal", "2"]).value("signal 2"), "ok");
    // In the sandbox's cgroups.
    let cg = exec(&["cgroup"]);
    let workload = root.cmd(&["exec", "ex", "--", "/bin/cat", "/proc/2/cgroup"]);
    assert_eq!(workload.code, 0, "{workload}");
    for line in cg.values("cgroup") {
        assert!(
            workload.stdout.contains(line),
            "exec in {line}, workload in\n{workload}"
        );
    }
    // The exit code comes back; -e, -w and -u apply.
    assert_eq!(exec(&["exit", "7"]).code, 7);
    let env = root.cmd(&[
        "exec",
        "-e",
        "FOO=bar",
        "-w",
        "/tmp",
        "-u",
        "1000:1000",
        "ex",
        "--",
        "/probe",
        "env",
    ]);
    assert!(env.stdout.contains("env:FOO=bar"), "{env}");
    let who = root.cmd(&[
        "exec",
        "-u",
        "1000:1000",
        "-w",
        "/tmp",
        "ex",
        "--",
        "/probe",
        "uid",
    ]);
    assert_eq!(who.value("uid"), "1000", "{who}");
    let cwd = root.cmd(&["exec", "-w", "/tmp", "ex", "--", "/probe", "cwd"]);
    assert_eq!(cwd.value("cwd"), "/tmp", "{cwd}");
    // A command that does not exist: 127, as with run.
    assert_eq!(root.cmd(&["exec", "ex", "--", "/nope"]).code, 127);
}

#[test]
fn lifecycle_commands_refuse_what_cannot_be_done() {
    if skip_unless_root() {
        return;
    }
    let root = Root::new("errors");
    // (An id that looks like an option is refused by the command line parser already.)
    assert_eq!(root.cmd(&["state", "-x"]).code, 125);
    for id in [
        "../etc",
        "a/b",
        "..",
        ".hidden",
        "a\u{1}b",
        &"x".repeat(129),
    ] {
        for cmd in [
            &["state", id][..],
            &["rm", "-f", id],
            &["kill", id],
            &["exec", id, "--", "true"],
            &["logs", id],
        ] {
            let out = root.cmd(cmd);
            assert_eq!(out.code, 125, "{cmd:?}\n{out}");
            assert!(out.stderr.contains("sandbox id"), "{cmd:?}\n{out}");
        }
    }
    for cmd in [
        &["state", "nobody"][..],
        &["kill", "nobody"],
        &["exec", "nobody", "--", "true"],
        &["rm", "nobody"],
        &["start", "nobody"],
    ] {
        let out = root.cmd(cmd);
        assert_eq!(out.code, 125, "{cmd:?}\n{out}");
        assert!(
            out.stderr.contains("no sandbox named \"nobody\""),
            "{cmd:?}\n{out}"
        );
    }
    assert_eq!(root.detach("busy", &[], &["sleep", "60"]).code, 0);
    let start = root.cmd(&["start", "busy"]);
    assert_eq!(start.code, 125, "{start}");
    assert!(
        start
            .stderr
            .contains("only a created sandbox can be started"),
        "{start}"
    );
    let bad_signal = root.cmd(&["kill", "busy", "SIGNOPE"]);
    assert_eq!(bad_signal.code, 125, "{bad_signal}");
    let no_cmd = root.cmd(&["exec", "busy"]);
    assert_eq!(no_cmd.code, 125, "{no_cmd}");
    // A bad run -d leaves no state behind.
    let bad = root.cmd(&[
        "run", "-d", "--name", "bad", "--memory", "lots", "--", "true",
    ]);
    assert_eq!(bad.code, 125, "{bad}");
    assert!(!root.dir.join("bad").exists());
    let missing = root.run_d("missing", &["/no/such/cmd"]);
    // Started, then the workload could not be executed: the sandbox stopped with 127.
    if missing.code == 0 {
        assert!(wait_until(Duration::from_secs(5), || root
            .status("missing")
            == "stopped"));
    } else {
        assert_eq!(missing.code, 127, "{missing}");
    }
}

#[test]
fn kill_and_stop_reach_the_workload() {
    if skip_unless_root() {
        return;
    }
    let root = Root::new("stop");
    // TERM ends a shell that does not trap it: 128 + 15.
    assert_eq!(root.run_d("t", &["/bin/sleep", "60"]).code, 0);
    assert_eq!(root.cmd(&["stop", "-t", "10", "t"]).code, 0);
    assert_eq!(root.status("t"), "stopped");
    assert!(root.exit_recorded("t", 143));
    // A workload that ignores TERM is killed after the timeout: 128 + 9.
    assert_eq!(
        root.run_d(
            "stubborn",
            &[
                "/bin/sh",
                "-c",
                "trap '' TERM; echo trapped; while :; do sleep 1; done"
            ]
        )
        .code,
        0
    );
    // Not before the trap is set, or TERM ends it after all.
    assert!(wait_until(Duration::from_secs(10), || {
        root.cmd(&["logs", "stubborn"]).stdout.contains("trapped")
    }));
    assert_eq!(root.cmd(&["stop", "-t", "1", "stubborn"]).code, 0);
    assert_eq!(root.status("stubborn"), "stopped");
    assert!(
        root.exit_recorded("stubborn", 137),
        "{}",
        root.record("stubborn")
    );
    // kill with a signal name.
    assert_eq!(root.run_d("k", &["/bin/sleep", "60"]).code, 0);
    assert_eq!(root.cmd(&["kill", "k", "SIGUSR1"]).code, 0);
    assert!(wait_until(Duration::from_secs(5), || root.status("k") == "stopped"));
    assert!(root.exit_recorded("k", 138));
    // Stopping a stopped sandbox succeeds, as with docker.
    assert_eq!(root.cmd(&["stop", "k"]).code, 0);
}

#[test]
fn a_killed_monitor_takes_its_sandbox_along_and_rm_still_cleans_up() {
    if skip_unless_root() {
        return;
    }
    let root = Root::new("monitor");
    assert_eq!(root.detach("m", &[], &["sleep", "60"]).code, 0);
    let record = root.record("m");
    let monitor = record["nucleus"]["creator"]["pid"].as_u64().unwrap();
    let init = record["nucleus"]["init"]["pid"].as_u64().unwrap();
    let cgroups = root.cgroup_dirs("m");
    assert!(alive(monitor) && alive(init));
    // SIGKILL: the monitor cannot clean up; init goes with it (parent-death signal).
    harness::sys::send_signal(monitor as u32, 9).unwrap();
    assert!(
        wait_until(Duration::from_secs(5), || !alive(init)),
        "init outlived its monitor"
    );
    assert_eq!(root.status("m"), "stopped");
    assert_eq!(root.cmd(&["rm", "m"]).code, 0);
    assert!(
        wait_until(Duration::from_secs(5), || cgroups
            .iter()
            .all(|d| !d.exists())),
        "cgroups left behind: {cgroups:?}"
    );
    assert!(!Path::new(&root.dir.join("m")).exists());
}

#[test]
fn exec_t_gets_a_terminal_of_the_sandbox_and_without_t_none() {
    if skip_unless_root() {
        return;
    }
    let root = Root::new("exec-tty");
    assert_eq!(root.detach("tt", &[], &["sleep", "60"]).code, 0);
    let with = root.cmd(&["exec", "-t", "tt", "--", "/probe", "tty"]);
    assert_eq!(with.code, 0, "{with}");
    for (key, want) in [
        ("stdin_tty", "1"),
        ("stdout_tty", "1"),
        ("ctty", "1"),
        ("devpts", "own"),
    ] {
        assert_eq!(with.value(key), want, "{key}\n{with}");
    }
    let without = root.cmd(&["exec", "tt", "--", "/probe", "tty"]);
    assert_eq!(without.code, 0, "{without}");
    assert_eq!(without.value("stdout_tty"), "0", "{without}");
    assert_eq!(without.value("ctty"), "0", "{without}");
}

#[test]
fn a_workload_that_may_ptrace_finds_no_privileged_exec_process_to_take_over() {
    if skip_unless_root() {
        return;
    }
    let root = Root::new("exec-ptrace");
    // The weakest sandbox that still confines: SYS_PTRACE kept, ptrace allowed, no Landlock
    // (whose ptrace rule would stop the attach on its own).
    let opts = [
        "--cap-add",
        "SYS_PTRACE",
        "--seccomp-allow",
        "ptrace",
        "--landlock",
        "off",
    ];
    assert_eq!(root.detach("pt", &opts, &["trace-new", "15"]).code, 0);
    assert!(wait_until(Duration::from_secs(5), || {
        root.cmd(&["logs", "pt"]).stdout.contains("tracing")
    }));
    for _ in 0..40 {
        assert_eq!(root.cmd(&["exec", "pt", "--", "/probe", "pid"]).code, 0);
    }
    let _ = root.cmd(&["stop", "-t", "1", "pt"]);
    let logs = root.cmd(&["logs", "pt"]).stdout;
    // What the exec'd process may hold before it drops to the workload's set: the workload's
    // SYS_PTRACE plus what its setup needs (DAC_OVERRIDE, KILL, SETGID, SETUID, SETPCAP,
    // SYS_RESOURCE). Never SYS_ADMIN, SYS_MODULE, DAC_READ_SEARCH, ...
    let allowed: u64 = 1 << 19 | 1 << 1 | 1 << 5 | 1 << 6 | 1 << 7 | 1 << 8 | 1 << 24;
    for line in logs.lines().filter(|l| l.starts_with("traced ")) {
        let cap = u64::from_str_radix(line.rsplit(' ').next().unwrap(), 16).unwrap();
        assert_eq!(
            cap & !allowed,
            0,
            "an exec'd process was traced holding {cap:x}\n{logs}"
        );
    }
}

#[test]
fn rm_force_during_a_detached_start_leaves_nothing_running() {
    if skip_unless_root() {
        return;
    }
    let root = Root::new("rm-race");
    for round in 0..5 {
        let marker = unique(&format!("race{round}"));
        let name = format!("r{round}");
        let mut starting = root.starting(&name, &marker);
        let rm = root.cmd(&["rm", "--force", &name]);
        assert_eq!(rm.code, 0, "{rm}");
        let _ = starting.wait();
        assert!(
            wait_until(Duration::from_secs(10), || harness::processes_with(&marker)
                .is_empty()),
            "round {round}: the sandbox outlived rm --force"
        );
        assert!(
            !root.dir.join(&name).exists(),
            "round {round}: state left behind"
        );
    }
}

#[test]
fn signals_to_the_monitor_are_relayed_to_the_sandbox() {
    if skip_unless_root() {
        return;
    }
    let root = Root::new("monitor-sig");
    for _ in 0..5 {
        assert_eq!(root.run_d("s", &["/bin/sleep", "60"]).code, 0);
        let monitor = root.record("s")["nucleus"]["creator"]["pid"]
            .as_i64()
            .unwrap();
        harness::sys::send_signal(monitor as u32, 15).unwrap();
        assert!(wait_until(Duration::from_secs(5), || root.status("s") == "stopped"));
        // The monitor lived on to record the workload's end by that signal.
        assert!(root.exit_recorded("s", 143), "{}", root.record("s"));
        assert_eq!(root.cmd(&["rm", "s"]).code, 0);
    }
}

#[test]
fn exec_keeps_the_workloads_profile_when_the_file_changes_or_goes() {
    if skip_unless_root() {
        return;
    }
    let docker = Path::new("/usr/share/containers/seccomp.json");
    if harness::skip(
        (!docker.exists()).then(|| "containers-common's seccomp.json is missing".to_owned()),
    ) {
        return;
    }
    let root = Root::new("exec-profile");
    let dir = harness::TempRoot::empty("exec-profile-file");
    let profile = dir.join("profile.json");
    std::fs::copy(docker, &profile).unwrap();
    let arg = format!("--seccomp={}", profile.display());
    assert_eq!(root.detach("p", &[&arg], &["sleep", "60"]).code, 0);
    // What the profile says for calls it treats differently from nucleus's own default.
    let calls = ["keyctl", "mount", "unshare", "setns"];
    let decide = || -> Vec<String> {
        calls
            .iter()
            .map(|c| {
                let out = root.cmd(&["exec", "p", "--", "/probe", "syscall", c]);
                assert_eq!(out.code, 0, "{out}");
                out.value(&format!("syscall {c}")).to_owned()
            })
            .collect()
    };
    let before = decide();
    // Emptied, then removed: the exec still gets the profile the workload got.
    std::fs::write(&profile, "{}").unwrap();
    assert_eq!(decide(), before);
    std::fs::remove_file(&profile).unwrap();
    assert_eq!(decide(), before);
    let out = root.cmd(&["exec", "p", "--", "/probe", "caps"]);
    assert_eq!(out.code, 0, "{out}");
    assert_eq!(out.value("Seccomp"), "2", "{out}");
}

#[test]
fn stop_during_a_detached_start_stops_it() {
    if skip_unless_root() {
        return;
    }
    let root = Root::new("stop-race");
    let marker = unique("stop-race");
    let mut starting = root.starting("stopping", &marker);
    let stop = root.cmd(&["stop", "-t", "1", "stopping"]);
    assert_eq!(stop.code, 0, "{stop}");
    let _ = starting.wait();
    assert!(
        wait_until(Duration::from_secs(10), || harness::processes_with(&marker)
            .is_empty()),
        "the sandbox outlived stop"
    );
    assert_eq!(root.status("stopping"), "stopped");
}
