//! The gVisor backend (`--runtime gvisor`, issue 8).
//!
//! One set of behaviour tests runs on both backends: exit codes, deaths by signal, relayed
//! signals, environment, working directory, user, capabilities, read-only root, volumes,
//! tmpfs, hostname, limits, seccomp denials, network and exec failures. Where the table of
//! expected differences (docs/gvisor-differences.md) has a row for a check, each backend must
//! show its own column there; every row is itself run on both backends. Then: the workload
//! really runs on gVisor's kernel, runsc missing is a clear error, what gVisor cannot honour is
//! refused, `--runtime auto` follows `--trust`, and nothing is left behind.
//!
//! The gVisor half needs root and runsc (`NUCLEUS_RUNSC`, else `PATH`); without runsc it is
//! skipped with a reason, or fails under NUCLEUS_MUST_WORK=1.

#[path = "../harness/mod.rs"]
mod harness;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::time::Duration;

use harness::{
    Outcome, TempRoot, finish, launcher_command, nucleus, processes_with, rootfs_args, skip,
    skip_unless_root, spawn, wait_until,
};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Backend {
    Native,
    Gvisor,
}

impl Backend {
    fn opts(self) -> &'static [&'static str] {
        match self {
            Backend::Native => &[],
            Backend::Gvisor => &["--runtime", "gvisor"],
        }
    }
}

/// runsc as the launcher finds it: `NUCLEUS_RUNSC`, else the first `runsc` on `PATH`.
fn runsc() -> Option<PathBuf> {
    if let Some(p) = std::env::var_os("NUCLEUS_RUNSC").filter(|p| !p.is_empty()) {
        return Some(PathBuf::from(p)).filter(|p| p.is_file());
    }
    std::env::split_paths(&std::env::var_os("PATH")?)
        .map(|d| d.join("runsc"))
        .find(|p| p.is_file())
}

/// True (after saying why) when the gVisor half cannot run here.
fn skip_gvisor() -> bool {
    skip_unless_root()
        || skip(runsc().is_none().then(|| {
            "runsc (gVisor) is not installed: install it (Debian: apt install runsc) or set NUCLEUS_RUNSC".to_owned()
        }))
}

/// The backends to test here: native (with root), and gVisor when runsc is installed.
fn backends() -> Vec<Backend> {
    if skip_unless_root() {
        return Vec::new();
    }
    let mut all = vec![Backend::Native];
    if !skip_gvisor() {
        all.push(Backend::Gvisor);
    }
    all
}

/// A row of the table: what each backend shows for one check.
#[derive(Debug, Clone)]
struct Row {
    native: String,
    gvisor: String,
}

impl Row {
    fn cell(&self, b: Backend) -> &str {
        match b {
            Backend::Native => &self.native,
            Backend::Gvisor => &self.gvisor,
        }
    }
}

/// The table of docs/gvisor-differences.md, by check.
fn table() -> BTreeMap<String, Row> {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("../docs/gvisor-differences.md");
    let text = std::fs::read_to_string(&path)
        .unwrap_or_else(|e| panic!("reading {}: {e}", path.display()));
    let unquote = |c: &str| c.trim().trim_matches('`').to_owned();
    text.lines()
        .filter(|l| l.starts_with("| `"))
        .map(|l| {
            let cells: Vec<&str> = l.trim_matches('|').split(" | ").collect();
            assert!(cells.len() >= 4, "a table row needs 4 cells: {l}");
            (
                unquote(cells[0]),
                Row {
                    native: unquote(cells[1]),
                    gvisor: unquote(cells[2]),
                },
            )
        })
        .collect()
}

/// Whether `out` shows `cell`: `exit N` is the exit code, anything else a whole line of
/// stdout or text on stderr.
fn shows(out: &Outcome, cell: &str) -> bool {
    match cell.strip_prefix("exit ") {
        Some(n) => n.parse() == Ok(out.code),
        None => out.stdout.lines().any(|l| l == cell) || out.stderr.contains(cell),
    }
}

/// Runs the probe's `verb` with `opts` on backend `b`, in a fresh root holding the probe.
fn probe(b: Backend, opts: &[&str], verb: &[&str]) -> Outcome {
    let root = TempRoot::with_probe("gvisor");
    let mut all: Vec<&str> = b.opts().to_vec();
    all.extend(opts);
    nucleus(rootfs_args(&root, &all, verb))
}

/// The check `opts verb` on backend `b` must show every one of `common`, unless the table has a
/// row for it: then it must show that row's cell for `b`.
fn check(b: Backend, opts: &[&str], verb: &[&str], common: &[&str]) -> Outcome {
    let key: Vec<&str> = opts.iter().chain(verb).copied().collect();
    let key = key.join(" ");
    let out = probe(b, opts, verb);
    let wanted: Vec<String> = match table().get(&key) {
        Some(row) => vec![row.cell(b).to_owned()],
        None => common.iter().map(|s| s.to_string()).collect(),
    };
    for w in &wanted {
        assert!(shows(&out, w), "{b:?}: `{key}` should show {w:?}\n{out}");
    }
    out
}

#[test]
fn the_table_of_differences_holds() {
    let rows = table();
    assert!(rows.len() >= 10, "table not found or too short: {rows:?}");
    for b in backends() {
        for (key, row) in &rows {
            assert_ne!(row.native, row.gvisor, "`{key}` is no difference");
            // Options (each with one value) first, then the probe's verb.
            let words: Vec<&str> = key.split(' ').collect();
            let mut i = 0;
            while words.get(i).is_some_and(|w| w.starts_with("--")) {
                i += 2;
            }
            let out = probe(b, &words[..i], &words[i..]);
            assert!(
                shows(&out, row.cell(b)),
                "{b:?}: `{key}` should show {:?}\n{out}",
                row.cell(b)
            );
            let other = match b {
                Backend::Native => &row.gvisor,
                Backend::Gvisor => &row.native,
            };
            assert!(
                !shows(&out, other),
                "{b:?}: `{key}` shows the other backend's {other:?}\n{out}"
            );
        }
    }
}

#[test]
fn exit_codes_round_trip() {
    for b in backends() {
        for n in [
            "0", "1", "2", "42", "125", "126", "127", "128", "200", "255",
        ] {
            let out = check(b, &[], &["exit", n], &[&format!("exit {n}")]);
            assert!(out.stderr.is_empty(), "{b:?}: exit {n}\n{out}");
        }
    }
}

#[test]
fn death_by_signal_exits_128_plus_n() {
    for b in backends() {
        for (sig, code) in [
            ("SEGV", 139),
            ("KILL", 137),
            ("TERM", 143),
            ("ABRT", 134),
            ("USR1", 138),
        ] {
            let out = check(b, &[], &["kill-self", sig], &[&format!("exit {code}")]);
            assert!(out.stderr.is_empty(), "{b:?}: kill-self {sig}\n{out}");
        }
    }
}

#[test]
fn signals_to_the_launcher_reach_the_workload() {
    for b in backends() {
        let root = TempRoot::with_probe("gvisor-signals");
        let mut running = spawn(launcher_command(rootfs_args(&root, b.opts(), &["signals"])));
        running.expect_line("ready", Duration::from_secs(20));
        for (name, sig) in [
            ("HUP", libc::SIGHUP),
            ("INT", libc::SIGINT),
            ("USR1", libc::SIGUSR1),
            ("WINCH", libc::SIGWINCH),
            ("TERM", libc::SIGTERM),
        ] {
            harness::sys::send_signal(running.pid(), sig).expect("signalling the launcher");
            running.expect_line(&format!("got={name}"), Duration::from_secs(10));
        }
        let out = running.finish();
        assert_eq!(out.code, 0, "{b:?}\n{out}");
    }
}

#[test]
fn environment_is_clean_and_set() {
    for b in backends() {
        let out = check(b, &["-e", "FOO=bar", "--hostname", "box"], &["env"], &[]);
        let mut env: Vec<&str> = out.stdout.lines().collect();
        env.sort_unstable();
        assert_eq!(
            env,
            [
                "env:FOO=bar",
                "env:HOME=/root",
                "env:HOSTNAME=box",
                "env:PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin",
            ],
            "{b:?}\n{out}"
        );
    }
}

#[test]
fn workdir_hostname_and_user() {
    for b in backends() {
        check(b, &["-w", "/tmp"], &["cwd"], &["cwd=/tmp"]);
        check(
            b,
            &["--hostname", "box-7"],
            &["hostname"],
            &["hostname=box-7"],
        );
        check(
            b,
            &["-u", "1000:1001"],
            &["uid"],
            &["uid=1000", "euid=1000", "gid=1001", "egid=1001", "groups="],
        );
        check(b, &[], &["uid"], &["uid=0", "gid=0", "groups="]);
    }
}

#[test]
fn capabilities_are_none_unless_added() {
    for b in backends() {
        let none = "0000000000000000";
        check(
            b,
            &[],
            &["caps"],
            &[
                &format!("CapEff={none}"),
                &format!("CapPrm={none}"),
                &format!("CapBnd={none}"),
            ],
        );
        // CHOWN (bit 0) and NET_RAW (bit 13), also for an unprivileged user.
        let kept = "0000000000002001";
        check(
            b,
            &["-u", "1000", "--cap-add", "CHOWN,NET_RAW"],
            &["caps"],
            &[
                &format!("CapEff={kept}"),
                &format!("CapBnd={kept}"),
                &format!("CapInh={kept}"),
            ],
        );
    }
}

#[test]
fn the_root_is_read_only_unless_asked() {
    for b in backends() {
        check(b, &[], &["write", "/x"], &["write /x=EROFS"]);
        check(b, &[], &["write", "/tmp/x"], &["write /tmp/x=ok"]);
        let root = TempRoot::with_probe("gvisor-rw");
        let mut opts: Vec<&str> = b.opts().to_vec();
        opts.push("--rootfs-rw");
        let out = nucleus(rootfs_args(&root, &opts, &["write", "/made-inside"]));
        assert!(shows(&out, "write /made-inside=ok"), "{b:?}\n{out}");
        assert!(
            root.join("made-inside").is_file(),
            "{b:?}: the write did not reach the rootfs"
        );
    }
}

#[test]
fn volumes_and_tmpfs() {
    for b in backends() {
        let data = TempRoot::empty("gvisor-volume");
        data.write("in", "from the host");
        let rw = format!("{}:/data", data.arg());
        let ro = format!("{}:/data:ro", data.arg());
        check(
            b,
            &["-v", &rw],
            &["read", "/data/in"],
            &["read /data/in=from the host"],
        );
        check(
            b,
            &["-v", &rw],
            &["write", "/data/out"],
            &["write /data/out=ok"],
        );
        let written = std::fs::read_to_string(data.join("out")).unwrap_or_default();
        assert_eq!(written, "written by nucleus-probe\n", "{b:?}");
        std::fs::remove_file(data.join("out")).expect("removing the written file");
        check(
            b,
            &["-v", &ro],
            &["write", "/data/out"],
            &["write /data/out=EROFS"],
        );
        check(
            b,
            &["-v", &ro],
            &["read", "/data/in"],
            &["read /data/in=from the host"],
        );
        check(
            b,
            &["--tmpfs", "/scratch:size=1m"],
            &["write", "/scratch/f"],
            &["write /scratch/f=ok"],
        );
        check(
            b,
            &["--tmpfs", "/scratch:ro"],
            &["write", "/scratch/f"],
            &["write /scratch/f=EROFS"],
        );
    }
}

#[test]
fn the_default_root_is_the_hosts_system_read_only() {
    for b in backends() {
        let bind = format!("{}:/probe:ro", harness::probe().display());
        let with = |verb: &[&str]| {
            let mut args = vec!["run", "-v", &bind, "--hostname", "hh"];
            args.extend(b.opts());
            args.push("--");
            args.push("/probe");
            args.extend(verb);
            nucleus(args)
        };
        for (verb, want) in [
            (&["read", "/etc/hostname"][..], "read /etc/hostname=hh"),
            (&["write", "/usr/x"], "write /usr/x=EROFS"),
            (&["write", "/etc/x"], "write /etc/x=EROFS"),
            (&["write", "/tmp/x"], "write /tmp/x=ok"),
            (
                &["read", "/etc/passwd"],
                "read /etc/passwd=root:x:0:0:root:/root:/bin/sh",
            ),
        ] {
            let out = with(verb);
            assert!(shows(&out, want), "{b:?}: {verb:?}\n{out}");
        }
        let mut args = vec!["run"];
        args.extend(b.opts());
        args.extend(["--", "sh", "-c", "echo hello from $(cat /etc/hostname)"]);
        let out = nucleus(args);
        out.assert_ok();
        assert_eq!(out.stdout, "hello from nucleus\n", "{b:?}");
    }
}

#[test]
fn limits_hold() {
    for b in backends() {
        check(
            b,
            &["--ulimit", "nofile=100:200"],
            &["rlimit", "nofile"],
            &["rlimit nofile=100:200", "raise nofile=EPERM"],
        );
        let out = check(
            b,
            &["--memory", "64m"],
            &["hog", "200"],
            &["exit 137", "killed: out of memory (limit 64 MiB)"],
        );
        assert!(!out.stdout.contains("allocated="), "{b:?}\n{out}");
        check(
            b,
            &["--memory", "256m"],
            &["hog", "100"],
            &["exit 0", "allocated=100"],
        );
        // The limit is the sandbox's cgroup, seen from the host by `stats`.
        let root = TempRoot::with_probe("gvisor-stats");
        let name = harness::unique("st").replace("nucleus-test-", "g");
        let mut opts: Vec<&str> = b.opts().to_vec();
        opts.extend(["--name", &name, "--memory", "200m", "--pids-limit", "300"]);
        let mut running = spawn(launcher_command(rootfs_args(
            &root,
            &opts,
            &["hold", "10", "3"],
        )));
        running.expect_line("held=10", Duration::from_secs(20));
        let stats = nucleus(["stats", &name]);
        assert!(
            stats.code == 0
                && stats.stdout.contains("limit 200 MiB")
                && stats.stdout.contains("(limit 300)"),
            "{b:?}\n{stats}"
        );
        let out = running.finish();
        assert_eq!(out.code, 0, "{b:?}\n{out}");
    }
}

#[test]
fn seccomp_denials() {
    for b in backends() {
        for call in [
            "mount",
            "ptrace",
            "keyctl",
            "kexec_load",
            "init_module",
            "swapon",
            "open_by_handle_at",
            "sethostname",
        ] {
            check(
                b,
                &[],
                &["syscall", call],
                &[&format!("syscall {call}=EPERM")],
            );
        }
        check(b, &[], &["syscall", "1000"], &["syscall 1000=ENOSYS"]);
        check(b, &[], &["clone3"], &["clone3=ENOSYS"]);
        check(
            b,
            &[],
            &["socket", "17", "3", "0"],
            &["socket=EAFNOSUPPORT"],
        );
        check(b, &[], &["socket", "2", "1", "0"], &["socket=ok"]);
        check(
            b,
            &["--seccomp", "unconfined"],
            &["syscall", "1000"],
            &["syscall 1000=ENOSYS"],
        );
    }
}

#[test]
fn network_none_has_only_loopback_and_host_the_hosts() {
    for b in backends() {
        let out = check(b, &[], &["netdevs"], &["netdev=lo up=1"]);
        assert_eq!(out.stdout.lines().count(), 1, "{b:?}\n{out}");
        // The host's network: its interfaces, as the host lists them.
        let host = std::fs::read_to_string("/proc/net/dev").expect("reading /proc/net/dev");
        let out = check(b, &["--network", "host"], &["netdevs"], &["netdev=lo up=1"]);
        assert_eq!(
            out.stdout.lines().count(),
            host.lines().count() - 2,
            "{b:?}\n{out}"
        );
    }
}

#[test]
fn commands_that_cannot_run() {
    for b in backends() {
        let root = TempRoot::with_probe("gvisor-exec");
        root.write("not-exec", "#!/bin/sh\n");
        let mut opts: Vec<&str> = b.opts().to_vec();
        opts.extend(["--rootfs", root.arg(), "--"]);
        for (cmd, code, says) in [
            (
                "nope",
                127,
                "nucleus-launch: nope: command not found in the sandbox's PATH",
            ),
            (
                "/nope",
                127,
                "nucleus-launch: cannot execute /nope: No such file or directory",
            ),
            (
                "/not-exec",
                126,
                "nucleus-launch: cannot execute /not-exec: Permission denied",
            ),
        ] {
            let mut args = vec!["run"];
            args.extend(&opts);
            args.push(cmd);
            let out = nucleus(args);
            assert_eq!(out.code, code, "{b:?}: {cmd}\n{out}");
            assert_eq!(out.stderr.lines().last(), Some(says), "{b:?}: {cmd}\n{out}");
        }
    }
}

#[test]
fn the_workload_runs_on_gvisors_kernel() {
    if skip_gvisor() {
        return;
    }
    let gvisor = probe(Backend::Gvisor, &["--seccomp", "unconfined"], &["kernel"]);
    gvisor.assert_ok();
    assert!(
        gvisor.value("dmesg").contains("Starting gVisor..."),
        "{gvisor}"
    );
    assert!(
        gvisor
            .value("version")
            .ends_with("#1 SMP Sun Jan 10 15:06:54 PST 2016"),
        "{gvisor}"
    );
    let native = probe(Backend::Native, &["--seccomp", "unconfined"], &["kernel"]);
    native.assert_ok();
    let host = std::fs::read_to_string("/proc/version").expect("reading /proc/version");
    assert_eq!(native.value("version"), host.trim_end(), "{native}");
    assert!(!native.value("dmesg").contains("gVisor"), "{native}");
}

#[test]
fn runsc_missing_is_a_clear_error() {
    if skip_unless_root() {
        return;
    }
    let root = TempRoot::with_probe("gvisor-missing");
    let args = rootfs_args(&root, &["--runtime", "gvisor"], &["exit", "0"]);
    let mut cmd = launcher_command(&args);
    cmd.env("NUCLEUS_RUNSC", "/nonexistent/runsc");
    let out = finish(cmd);
    assert_eq!(out.code, 125, "{out}");
    assert_eq!(
        out.stderr,
        "nucleus-launch: gVisor: runsc not found: NUCLEUS_RUNSC=/nonexistent/runsc: No such file or directory\n",
        "{out}"
    );
    let mut cmd = launcher_command(&args);
    cmd.env_remove("NUCLEUS_RUNSC").env("PATH", "/nonexistent");
    let out = finish(cmd);
    assert_eq!(out.code, 125, "{out}");
    assert!(
        out.stderr
            .starts_with("nucleus-launch: gVisor: runsc not found on PATH (/nonexistent)"),
        "{out}"
    );
    assert_eq!(out.stderr.lines().count(), 1, "{out}");
}

#[test]
fn what_gvisor_cannot_honour_is_refused() {
    if skip_unless_root() {
        return;
    }
    let trace = std::env::temp_dir().join(harness::unique("trace"));
    let trace = trace.to_str().expect("temp paths are UTF-8");
    for (opts, starts) in [
        (
            vec!["--landlock-require"],
            "nucleus-launch: --landlock-require: not available with --runtime gvisor: gVisor's kernel has no Landlock",
        ),
        (
            vec!["--seccomp-trace", trace],
            "nucleus-launch: --seccomp-trace: not available with --runtime gvisor",
        ),
        (
            vec!["--seccomp-log-denied"],
            "nucleus-launch: --seccomp-log-denied: not available with --runtime gvisor",
        ),
        (
            vec!["--userns", "auto"],
            "nucleus-launch: --userns: not available with --runtime gvisor",
        ),
        (
            vec!["-d"],
            "nucleus-launch: -d: not available with --runtime gvisor",
        ),
        (
            vec!["-t"],
            "nucleus-launch: -t: not available with --runtime gvisor",
        ),
        (
            vec!["--gvisor-platform", "ptrace"],
            "nucleus-launch: --gvisor-platform applies to --runtime gvisor",
        ),
    ] {
        let mut all = if opts[0] == "--gvisor-platform" {
            vec![]
        } else {
            vec!["--runtime", "gvisor"]
        };
        all.extend(&opts);
        let out = probe(Backend::Native, &all, &["exit", "0"]);
        assert_eq!(out.code, 125, "{opts:?}\n{out}");
        assert!(
            out.stderr.starts_with(starts) && out.stderr.lines().count() == 1,
            "{opts:?}\n{out}"
        );
    }
    assert!(
        !Path::new(trace).exists(),
        "a refused run wrote its trace file"
    );
}

#[test]
fn auto_follows_trust() {
    if skip_gvisor() {
        return;
    }
    let on_gvisor = |out: &Outcome| out.value("version").ends_with("PST 2016");
    let out = probe(Backend::Native, &["--trust", "untrusted"], &["kernel"]);
    assert!(out.code == 0 && on_gvisor(&out), "{out}");
    let out = probe(Backend::Native, &["--runtime", "auto"], &["kernel"]);
    assert!(out.code == 0 && on_gvisor(&out), "{out}");
    let out = probe(
        Backend::Native,
        &["--runtime", "auto", "--trust", "trusted"],
        &["kernel"],
    );
    assert!(out.code == 0 && !on_gvisor(&out), "{out}");
    // Untrusted but no runsc: native, with a warning.
    let root = TempRoot::with_probe("gvisor-auto");
    let mut cmd = launcher_command(rootfs_args(&root, &["--trust", "untrusted"], &["kernel"]));
    cmd.env("NUCLEUS_RUNSC", "/nonexistent/runsc");
    let out = finish(cmd);
    assert!(out.code == 0 && !on_gvisor(&out), "{out}");
    assert!(
        out.stderr.contains("running on the native backend"),
        "{out}"
    );
}

/// The sandbox's run directories (`/run/nucleus-gvisor/NAME@...`).
fn run_dirs(name: &str) -> Vec<String> {
    std::fs::read_dir("/run/nucleus-gvisor")
        .map(|d| {
            d.filter_map(|e| e.ok()?.file_name().into_string().ok())
                .filter(|n| n.starts_with(&format!("{name}@")))
                .collect()
        })
        .unwrap_or_default()
}

/// The sandbox's cgroup directories in the v1 pids hierarchy or on v2, anywhere below the root.
fn cgroup_dirs(name: &str) -> Vec<PathBuf> {
    fn walk(dir: &Path, name: &str, depth: u32, out: &mut Vec<PathBuf>) {
        let Ok(entries) = std::fs::read_dir(dir) else {
            return;
        };
        for e in entries.flatten() {
            let p = e.path();
            if !p.is_dir() {
                continue;
            }
            if e.file_name().to_string_lossy().starts_with(name) {
                out.push(p.clone());
            }
            if depth > 0 {
                walk(&p, name, depth - 1, out);
            }
        }
    }
    let mut out = Vec::new();
    walk(Path::new("/sys/fs/cgroup"), name, 6, &mut out);
    out
}

#[test]
fn nothing_is_left_behind() {
    if skip_gvisor() {
        return;
    }
    let name = harness::unique("left").replace("nucleus-test-", "g");
    let out = probe(Backend::Gvisor, &["--name", &name], &["exit", "3"]);
    assert_eq!(out.code, 3, "{out}");
    assert_eq!(run_dirs(&name), Vec::<String>::new());
    assert_eq!(cgroup_dirs(&name), Vec::<PathBuf>::new());
    // A failed start leaves nothing either.
    let root = TempRoot::with_probe("gvisor-left");
    let out = nucleus([
        "run",
        "--runtime",
        "gvisor",
        "--name",
        &name,
        "--rootfs",
        root.arg(),
        "--",
        "/nope",
    ]);
    assert_eq!(out.code, 127, "{out}");
    assert_eq!(run_dirs(&name), Vec::<String>::new());
    assert_eq!(cgroup_dirs(&name), Vec::<PathBuf>::new());
}

#[test]
fn sigkill_of_the_launcher_takes_runsc_down_and_the_next_start_cleans_up() {
    if skip_gvisor() {
        return;
    }
    let name = harness::unique("killed").replace("nucleus-test-", "g");
    let root = TempRoot::with_probe("gvisor-killed");
    let opts = ["--runtime", "gvisor", "--name", &name];
    let mut running = spawn(launcher_command(rootfs_args(&root, &opts, &["signals"])));
    running.expect_line("ready", Duration::from_secs(20));
    let launcher = running.pid();
    let runsc: Vec<u32> = processes_with(&format!("/{name}@"));
    assert!(
        runsc.len() >= 3,
        "runsc, its gofer and sandbox should run: {runsc:?}"
    );
    running.kill();
    let gone = wait_until(Duration::from_secs(10), || {
        processes_with(&format!("/{name}@")).is_empty()
    });
    assert!(
        gone,
        "runsc processes left 10 s after SIGKILL of launcher {launcher}: {:?}",
        processes_with(&format!("/{name}@"))
    );
    assert_eq!(
        run_dirs(&name).len(),
        1,
        "the killed launcher's directory stays until the next start"
    );
    let out = probe(Backend::Gvisor, &[], &["exit", "0"]);
    out.assert_ok();
    assert_eq!(
        run_dirs(&name),
        Vec::<String>::new(),
        "the next start removes the stale directory"
    );
}

#[test]
fn an_exported_bundle_runs_under_runsc_as_under_nucleus() {
    if skip_gvisor() {
        return;
    }
    let root = TempRoot::with_probe("gvisor-export");
    let dir = TempRoot::empty("gvisor-bundle");
    let export = dir.join("b");
    let export = export.to_str().expect("temp paths are UTF-8");
    let opts = [
        "--runtime",
        "gvisor",
        "--gvisor-export",
        export,
        "--hostname",
        "exported",
    ];
    let out = nucleus(rootfs_args(&root, &opts, &["hostname"]));
    assert_eq!(out.code, 0, "{out}");
    // An existing directory is refused: someone else may own it, or swap things in it.
    let again = nucleus(rootfs_args(&root, &opts, &["hostname"]));
    assert_eq!(again.code, 125, "{again}");
    assert!(again.stderr.contains("already exists"), "{again}");
    let config: serde_json::Value = serde_json::from_str(
        &std::fs::read_to_string(dir.join("b/config.json")).expect("config.json"),
    )
    .expect("config.json is JSON");
    assert_eq!(config["hostname"], "exported");
    assert_eq!(
        config["process"]["args"],
        serde_json::json!(["/probe", "hostname"])
    );
    assert_eq!(config["root"]["path"], root.arg());
    let args: Vec<String> = std::fs::read_to_string(dir.join("b/runsc-args"))
        .expect("runsc-args")
        .lines()
        .map(str::to_owned)
        .collect();
    let mut cmd = std::process::Command::new(runsc().expect("runsc is installed"));
    cmd.args(&args)
        .stdin(std::process::Stdio::null())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped());
    let direct = finish(cmd);
    assert_eq!(direct.code, 0, "{direct}");
    assert_eq!(direct.stdout, "hostname=exported\n", "{direct}");
}

#[test]
fn a_signal_to_the_launchers_process_group_reaches_the_workload() {
    // What a terminal's hangup or ^C does: the whole foreground group gets the signal. Only
    // the launcher may take it (and relay it); runsc and its gofer must not die of it.
    for b in backends() {
        for sig in ["TERM", "HUP"] {
            let root = TempRoot::with_probe("gvisor-pgrp");
            let mut cmd = harness::launcher_command(rootfs_args(&root, b.opts(), &["signals"]));
            std::os::unix::process::CommandExt::process_group(&mut cmd, 0);
            let mut running = harness::spawn(cmd);
            running.expect_line("ready", Duration::from_secs(20));
            let number = if sig == "TERM" { 15 } else { 1 };
            harness::sys::send_signal_to_group(running.pid(), number).unwrap();
            if sig == "HUP" {
                // The probe ends on TERM only.
                std::thread::sleep(Duration::from_millis(300));
                harness::sys::send_signal(running.pid(), 15).unwrap();
            }
            let out = running.finish();
            assert!(
                out.stdout.lines().any(|l| l == format!("got={sig}")),
                "{b:?}: {sig} to the group\n{out}"
            );
            assert_eq!(out.code, 0, "{b:?}: {sig} to the group\n{out}");
        }
    }
}
