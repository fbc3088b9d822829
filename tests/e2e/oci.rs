//! The OCI runtime command line on a bundle made by `runc spec`: create, start, state, kill,
//! delete, exec --process, features, and the transitions that must be refused.

#[path = "../harness/mod.rs"]
mod harness;

use std::path::{Path, PathBuf};
use std::time::Duration;

use harness::{Outcome, TempRoot, alive, nucleus, skip, skip_unless_root, unique, wait_until};
use serde_json::{Value, json};

struct Oci {
    root: PathBuf,
    bundle: TempRoot,
}

impl Oci {
    /// A bundle from `runc spec` with a rootfs holding the probe, running `args`.
    fn new(tag: &str, args: &[&str]) -> Option<Self> {
        let runc = ["/usr/sbin/runc", "/usr/bin/runc"]
            .into_iter()
            .find(|p| Path::new(p).exists());
        if skip(
            runc.is_none()
                .then(|| "runc (for `runc spec`) is not installed".to_owned()),
        ) {
            return None;
        }
        let bundle = TempRoot::empty(tag);
        let spec = std::process::Command::new(runc.unwrap())
            .args(["spec", "--bundle", bundle.arg()])
            .status()
            .expect("running runc spec");
        assert!(spec.success());
        let rootfs = TempRoot::with_probe(&format!("{tag}-rootfs"));
        std::fs::rename(rootfs.path(), bundle.join("rootfs")).unwrap();
        std::mem::forget(rootfs);
        for d in ["proc", "dev", "sys", "tmp"] {
            bundle.mkdir(&format!("rootfs/{d}"));
        }
        let oci = Oci {
            root: std::env::temp_dir().join(unique(&format!("{tag}-state"))),
            bundle,
        };
        oci.edit(|c| {
            c["process"]["terminal"] = json!(false);
            c["process"]["args"] = json!(args);
        });
        Some(oci)
    }

    fn edit(&self, f: impl FnOnce(&mut Value)) {
        let path = self.bundle.join("config.json");
        let mut c: Value = serde_json::from_str(&std::fs::read_to_string(&path).unwrap()).unwrap();
        f(&mut c);
        std::fs::write(&path, serde_json::to_string_pretty(&c).unwrap()).unwrap();
    }

    fn cmd(&self, args: &[&str]) -> Outcome {
        let mut all = vec!["--root", self.root.to_str().unwrap()];
        all.extend_from_slice(args);
        nucleus(all)
    }

    /// `create`, its stdio in files: init inherits them (as it does conmon's pipes), so a
    /// pipe read to its end would wait for the sandbox to end.
    fn create(&self, id: &str) -> Outcome {
        self.create_with(&[], id)
    }

    /// `create` with global options (`--systemd-cgroup`) before it.
    fn create_with(&self, global: &[&str], id: &str) -> Outcome {
        let pid_file = self.bundle.join(&format!("{id}.pid"));
        let (out, err) = (
            self.bundle.join(&format!("{id}.out")),
            self.bundle.join(&format!("{id}.err")),
        );
        let status = std::process::Command::new(harness::launcher())
            .args(["--root", self.root.to_str().unwrap()])
            .args(global)
            .args(["create", "--bundle", self.bundle.arg()])
            .args(["--pid-file", pid_file.to_str().unwrap(), id])
            .stdin(std::process::Stdio::null())
            .stdout(std::fs::File::create(&out).unwrap())
            .stderr(std::fs::File::create(&err).unwrap())
            .status()
            .unwrap();
        Outcome {
            code: status.code().unwrap_or(-1),
            stdout: std::fs::read_to_string(&out).unwrap_or_default(),
            stderr: std::fs::read_to_string(&err).unwrap_or_default(),
        }
    }

    fn state(&self, id: &str) -> Value {
        let out = self.cmd(&["state", id]);
        assert_eq!(out.code, 0, "{out}");
        serde_json::from_str(&out.stdout).unwrap()
    }
}

impl Drop for Oci {
    fn drop(&mut self) {
        if let Ok(entries) = std::fs::read_dir(&self.root) {
            for e in entries.flatten() {
                let _ = self.cmd(&["delete", "--force", e.file_name().to_str().unwrap()]);
            }
        }
        let _ = std::fs::remove_dir_all(&self.root);
    }
}

fn children(pid: u64) -> String {
    std::fs::read_to_string(format!("/proc/{pid}/task/{pid}/children")).unwrap_or_default()
}

#[test]
fn create_start_state_kill_delete_on_a_runc_spec_bundle() {
    if skip_unless_root() {
        return;
    }
    let Some(oci) = Oci::new("oci-life", &["/probe", "sleep", "60"]) else {
        return;
    };
    let out = oci.create("c1");
    assert_eq!(out.code, 0, "{out}");
    let pid: u64 = std::fs::read_to_string(oci.bundle.join("c1.pid"))
        .unwrap()
        .trim()
        .parse()
        .unwrap();
    let state = oci.state("c1");
    assert_eq!(state["status"], "created", "{state}");
    assert_eq!(state["pid"].as_u64(), Some(pid));
    assert_eq!(state["id"], "c1");
    assert_eq!(
        state["bundle"].as_str(),
        Some(
            std::fs::canonicalize(oci.bundle.path())
                .unwrap()
                .to_str()
                .unwrap()
        )
    );
    assert!(state["ociVersion"].as_str().unwrap().starts_with("1."));
    // Created: set up, but the workload has not started.
    assert!(alive(pid));
    assert_eq!(
        children(pid).trim(),
        "",
        "the workload started before `start`"
    );
    // Created cannot be exec'd into or deleted without being ended; start runs the workload.
    assert_eq!(oci.cmd(&["start", "c1"]).code, 0);
    assert_eq!(oci.state("c1")["status"], "running");
    assert!(wait_until(Duration::from_secs(5), || !children(pid)
        .trim()
        .is_empty()));
    let twice = oci.cmd(&["start", "c1"]);
    assert_eq!(twice.code, 125, "{twice}");
    assert!(twice.stderr.contains("is running"), "{twice}");
    let del = oci.cmd(&["delete", "c1"]);
    assert_eq!(del.code, 125, "{del}");
    assert!(del.stderr.contains("--force"), "{del}");
    // kill goes to init, which forwards it to the workload.
    assert_eq!(oci.cmd(&["kill", "c1", "TERM"]).code, 0);
    assert!(wait_until(
        Duration::from_secs(5),
        || oci.state("c1")["status"] == "stopped"
    ));
    assert_eq!(oci.state("c1")["pid"], 0);
    let kill_stopped = oci.cmd(&["kill", "c1", "KILL"]);
    assert_eq!(kill_stopped.code, 125, "{kill_stopped}");
    let record: Value = serde_json::from_str(
        &std::fs::read_to_string(oci.root.join("c1").join("state.json")).unwrap(),
    )
    .unwrap();
    let cgroups: Vec<String> = record["nucleus"]["cgroup"]["dirs"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| d["path"].as_str().unwrap().to_owned())
        .collect();
    assert!(!cgroups.is_empty() && cgroups.iter().all(|d| Path::new(d).is_dir()));
    assert_eq!(oci.cmd(&["delete", "c1"]).code, 0);
    assert!(
        cgroups.iter().all(|d| !Path::new(d).exists()),
        "delete left cgroups: {cgroups:?}"
    );
    let gone = oci.cmd(&["state", "c1"]);
    assert_eq!(gone.code, 125, "{gone}");
    assert!(!oci.root.join("c1").exists());
}

#[test]
fn a_created_sandbox_ends_on_kill_and_on_delete() {
    if skip_unless_root() {
        return;
    }
    let Some(oci) = Oci::new("oci-created", &["/probe", "sleep", "60"]) else {
        return;
    };
    assert_eq!(oci.create("k").code, 0);
    let pid = oci.state("k")["pid"].as_u64().unwrap();
    assert_eq!(oci.cmd(&["kill", "k", "TERM"]).code, 0);
    assert!(
        wait_until(Duration::from_secs(5), || !alive(pid)),
        "a created sandbox ignored TERM"
    );
    assert_eq!(oci.cmd(&["delete", "k"]).code, 0);
    // delete of a created sandbox ends it without --force, as runc does.
    assert_eq!(oci.create("d").code, 0);
    let pid = oci.state("d")["pid"].as_u64().unwrap();
    assert_eq!(oci.cmd(&["delete", "d"]).code, 0);
    assert!(wait_until(Duration::from_secs(5), || !alive(pid)));
    assert!(!oci.root.join("d").exists());
}

#[test]
fn the_workload_runs_as_config_json_says() {
    if skip_unless_root() {
        return;
    }
    let Some(oci) = Oci::new("oci-proc", &["/probe", "env"]) else {
        return;
    };
    oci.edit(|c| {
        c["process"]["env"] = json!(["ONLY=this", "PATH=/bin"]);
        c["hostname"] = json!("from-config");
    });
    // The workload's stdio is the one `create` was given (conmon passes its pipes there).
    assert_eq!(oci.create("p").code, 0);
    let out_path = oci.bundle.join("p.out");
    assert_eq!(oci.cmd(&["start", "p"]).code, 0);
    assert!(wait_until(
        Duration::from_secs(5),
        || oci.state("p")["status"] == "stopped"
    ));
    let env: Vec<String> = std::fs::read_to_string(&out_path)
        .unwrap()
        .lines()
        .filter_map(|l| l.strip_prefix("env:").map(str::to_owned))
        .collect();
    // Exactly config.json's environment: OCI callers give all of it.
    assert_eq!(env, ["ONLY=this", "PATH=/bin"]);
    assert_eq!(oci.cmd(&["delete", "p"]).code, 0);

    let Some(oci) = Oci::new("oci-exec", &["/probe", "sleep", "60"]) else {
        return;
    };
    oci.edit(|c| c["hostname"] = json!("from-config"));
    assert_eq!(oci.create("e").code, 0);
    assert_eq!(oci.cmd(&["start", "e"]).code, 0);
    let process = oci.bundle.join("process.json");
    std::fs::write(
        &process,
        json!({
            "args": ["/probe", "hostname"],
            "env": ["PATH=/bin"],
            "cwd": "/",
            "user": {"uid": 0, "gid": 0},
            "terminal": false,
        })
        .to_string(),
    )
    .unwrap();
    let exec = oci.cmd(&["exec", "--process", process.to_str().unwrap(), "e"]);
    assert_eq!(exec.value("hostname"), "from-config", "{exec}");
    let caps = oci.cmd(&["exec", "e", "--", "/probe", "caps"]);
    // runc spec keeps AUDIT_WRITE, KILL and NET_BIND_SERVICE (bits 29, 5, 10).
    assert_eq!(caps.value("CapEff"), "0000000020000420", "{caps}");
    // --detach writes the pid file and returns at once.
    let pid_file = oci.bundle.join("exec.pid");
    let out = oci.cmd(&[
        "exec",
        "--detach",
        "--pid-file",
        pid_file.to_str().unwrap(),
        "e",
        "--",
        "/probe",
        "sleep",
        "1",
    ]);
    assert_eq!(out.code, 0, "{out}");
    assert!(
        std::fs::read_to_string(&pid_file)
            .unwrap()
            .trim()
            .parse::<u32>()
            .is_ok()
    );
}

#[test]
fn features_describe_the_runtime() {
    let out = nucleus(["features"]);
    assert_eq!(out.code, 0, "{out}");
    let f: Value = serde_json::from_str(&out.stdout).unwrap();
    assert!(f["ociVersionMax"].as_str().unwrap().starts_with("1."));
    assert!(
        f["linux"]["namespaces"]
            .as_array()
            .unwrap()
            .contains(&json!("pid"))
    );
    assert_eq!(f["linux"]["seccomp"]["enabled"], true);
}

#[test]
fn a_bundle_with_what_we_cannot_honour_is_refused_and_leaves_nothing() {
    if skip_unless_root() {
        return;
    }
    let Some(oci) = Oci::new("oci-bad", &["/probe", "sleep", "60"]) else {
        return;
    };
    oci.edit(|c| c["linux"]["namespaces"][0]["path"] = json!("/proc/1/ns/pid"));
    let out = oci.create("bad");
    assert_eq!(out.code, 125, "{out}");
    assert!(out.stderr.contains("linux.namespaces[0].path"), "{out}");
    assert!(!oci.root.join("bad").exists(), "state left behind");
    for (id, why) in [("../x", "sandbox id"), ("a/b", "sandbox id")] {
        let out = oci.cmd(&["create", "--bundle", oci.bundle.arg(), id]);
        assert_eq!(out.code, 125, "{out}");
        assert!(out.stderr.contains(why), "{out}");
    }
    let missing = oci.cmd(&["create", "--bundle", "/nonexistent-bundle", "x"]);
    assert!(missing.stderr.contains("/nonexistent-bundle"), "{missing}");
    assert_eq!(missing.code, 125, "{missing}");
}

#[test]
fn hooks_run_on_the_host_with_the_state_and_errors_reach_the_log_file() {
    if skip_unless_root() {
        return;
    }
    let Some(oci) = Oci::new("oci-hooks", &["/probe", "sleep", "60"]) else {
        return;
    };
    let seen = oci.bundle.join("hooks-seen");
    let hook = |name: &str| {
        json!({
            "path": "/bin/sh",
            "args": ["sh", "-c", format!("printf '{name} ' >> {0}; cat >> {0}; echo >> {0}", seen.display())],
            "timeout": 10,
        })
    };
    oci.edit(|c| {
        c["hooks"] = json!({
            "createRuntime": [hook("createRuntime")],
            "poststart": [hook("poststart")],
            "poststop": [hook("poststop")],
        })
    });
    assert_eq!(oci.create("h").code, 0);
    assert_eq!(oci.cmd(&["start", "h"]).code, 0);
    assert_eq!(oci.cmd(&["delete", "--force", "h"]).code, 0);
    let lines: Vec<String> = std::fs::read_to_string(&seen)
        .unwrap()
        .lines()
        .map(str::to_owned)
        .collect();
    let names: Vec<&str> = lines.iter().map(|l| l.split(' ').next().unwrap()).collect();
    assert_eq!(
        names,
        ["createRuntime", "poststart", "poststop"],
        "{lines:?}"
    );
    // Each got the OCI state on stdin.
    for l in &lines {
        let state: Value = serde_json::from_str(l.split_once(' ').unwrap().1).unwrap();
        assert_eq!(state["id"], "h", "{l}");
    }
    let created: Value = serde_json::from_str(lines[0].split_once(' ').unwrap().1).unwrap();
    assert_eq!(created["status"], "created");
    assert!(created["pid"].as_u64().unwrap() > 0);

    // A failing hook fails the create, names itself, and leaves nothing.
    oci.edit(|c| c["hooks"] = json!({"createRuntime": [{"path": "/bin/false"}]}));
    let failed = oci.create("f");
    assert_eq!(failed.code, 125, "{failed}");
    assert!(failed.stderr.contains("/bin/false"), "{failed}");
    assert!(!oci.root.join("f").exists());

    // --log FILE --log-format json: errors also go there, one JSON object per line.
    let log = oci.bundle.join("runtime.log");
    let out = oci.cmd(&[
        "--log",
        log.to_str().unwrap(),
        "--log-format",
        "json",
        "state",
        "nosuch",
    ]);
    assert_eq!(out.code, 125);
    let line: Value = serde_json::from_str(
        std::fs::read_to_string(&log)
            .unwrap()
            .lines()
            .last()
            .unwrap(),
    )
    .unwrap();
    assert_eq!(line["level"], "error");
    assert!(
        line["msg"]
            .as_str()
            .unwrap()
            .contains("no sandbox named \"nosuch\""),
        "{line}"
    );
}

#[test]
fn cgroups_path_in_systemd_form_is_made_directly_and_removed_at_delete() {
    if skip_unless_root() {
        return;
    }
    let Some(oci) = Oci::new("oci-systemd", &["/probe", "sleep", "60"]) else {
        return;
    };
    let unit = unique("unit").replace('-', "_");
    oci.edit(|c| c["linux"]["cgroupsPath"] = json!(format!("nucleus_test.slice:nt:{unit}")));
    // Without --systemd-cgroup the form is refused, naming the field.
    let plain = oci.create("sd0");
    assert_eq!(plain.code, 125, "{plain}");
    assert!(plain.stderr.contains("linux.cgroupsPath"), "{plain}");
    let out = oci.create_with(&["--systemd-cgroup"], "sd");
    assert_eq!(out.code, 0, "{out}");
    let state = oci.state("sd");
    assert_eq!(state["status"], "created", "{state}");
    let record: Value = serde_json::from_str(
        &std::fs::read_to_string(oci.root.join("sd").join("state.json")).unwrap(),
    )
    .unwrap();
    let dirs: Vec<String> = record["nucleus"]["cgroup"]["dirs"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| d["path"].as_str().unwrap().to_owned())
        .collect();
    let want = format!("nucleus_test.slice/nt-{unit}.scope");
    assert!(
        !dirs.is_empty() && dirs.iter().all(|d| d.ends_with(&want)),
        "{dirs:?}"
    );
    assert!(dirs.iter().all(|d| Path::new(d).is_dir()));
    assert_eq!(oci.cmd(&["delete", "sd"]).code, 0);
    assert!(dirs.iter().all(|d| !Path::new(d).exists()), "{dirs:?}");
    // The slice nucleus made for it goes too.
    assert!(
        dirs.iter()
            .all(|d| !Path::new(d).parent().unwrap().exists()),
        "{dirs:?}"
    );
}

#[test]
fn a_workload_that_cannot_start_after_start_exits_127_and_says_why() {
    if skip_unless_root() {
        return;
    }
    let Some(oci) = Oci::new("oci-missing", &["/no/such/command"]) else {
        return;
    };
    assert_eq!(oci.create("m").code, 0);
    let pid = oci.state("m")["pid"].as_u64().unwrap();
    assert_eq!(oci.cmd(&["start", "m"]).code, 0);
    assert!(wait_until(Duration::from_secs(5), || !alive(pid)));
    // The caller of `create` (conmon) reaps init: here the test's process... init is
    // reparented to the host's init, so read the code from what init printed instead.
    let err = std::fs::read_to_string(oci.bundle.join("m.err")).unwrap();
    assert_eq!(err, "nucleus-init: /no/such/command: command not found\n");
    assert_eq!(oci.cmd(&["delete", "m"]).code, 0);
}

/// A console socket as conmon serves it: takes the one pty master sent, prints its size and
/// name, then everything the workload writes to it until it ends.
const CONSOLE_RECEIVER: &str = r#"
import fcntl, os, socket, struct, sys, termios
s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
s.bind(sys.argv[1]); s.listen(1); print("listening", flush=True)
c, _ = s.accept()
msg, fds, _, _ = socket.recv_fds(c, 1024, 1)
m = fds[0]
rows, cols = struct.unpack("HHHH", fcntl.ioctl(m, termios.TIOCGWINSZ, bytes(8)))[:2]
print(f"received={msg.decode()} master_size={rows}x{cols}", flush=True)
out = b""
while True:
    try:
        d = os.read(m, 4096)
    except OSError:
        break
    if not d:
        break
    out += d
sys.stdout.write(out.decode(errors="replace").replace("\r", ""))
"#;

#[test]
fn the_pty_goes_to_the_console_socket_with_the_configs_size() {
    if skip_unless_root() {
        return;
    }
    let python = Path::new("/usr/bin/python3").exists();
    if skip((!python).then(|| "python3 (the console socket's receiver) is missing".to_owned())) {
        return;
    }
    let Some(oci) = Oci::new("oci-console", &["/probe", "tty"]) else {
        return;
    };
    oci.edit(|c| {
        c["process"]["terminal"] = json!(true);
        c["process"]["consoleSize"] = json!({"height": 33, "width": 111});
    });
    // Without a console socket, a terminal has nowhere to go.
    let refused = oci.create("nosock");
    assert_eq!(refused.code, 125, "{refused}");
    assert!(refused.stderr.contains("--console-socket"), "{refused}");

    let sock = oci.bundle.join("console.sock");
    let mut receiver = harness::spawn({
        let mut cmd = std::process::Command::new("timeout");
        cmd.args([
            "30",
            "python3",
            "-c",
            CONSOLE_RECEIVER,
            sock.to_str().unwrap(),
        ])
        .stdin(std::process::Stdio::null())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped());
        cmd
    });
    receiver.expect_line("listening", Duration::from_secs(10));
    let created = {
        let (o, e) = (oci.bundle.join("t2.out"), oci.bundle.join("t2.err"));
        let status = std::process::Command::new(harness::launcher())
            .args([
                "--root",
                oci.root.to_str().unwrap(),
                "create",
                "--bundle",
                oci.bundle.arg(),
            ])
            .args(["--console-socket", sock.to_str().unwrap(), "t2"])
            .stdin(std::process::Stdio::null())
            .stdout(std::fs::File::create(&o).unwrap())
            .stderr(std::fs::File::create(&e).unwrap())
            .status()
            .unwrap();
        (
            status.code(),
            std::fs::read_to_string(&e).unwrap_or_default(),
        )
    };
    assert_eq!(created.0, Some(0), "{}", created.1);
    assert_eq!(oci.cmd(&["start", "t2"]).code, 0);
    let got = receiver.finish();
    assert!(
        got.stdout
            .contains("received=/dev/pts/0 master_size=33x111"),
        "{got}"
    );
    for want in [
        "stdin_tty=1",
        "stdout_tty=1",
        "ctty=1",
        "devpts=own",
        "size=33x111",
    ] {
        assert!(got.stdout.lines().any(|l| l == want), "{want}\n{got}");
    }
}
