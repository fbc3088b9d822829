//! podman as a client: `podman --runtime nucleus-launch` on an image imported offline from a
//! rootfs the test builds (static busybox and the probe). podman and conmon drive the OCI
//! command line (create, start, state, kill, delete, exec --process) as they drive runc.

#[path = "../harness/mod.rs"]
mod harness;

use std::path::Path;
use std::process::{Command, Output};
use std::sync::OnceLock;

use harness::{TempRoot, launcher, skip, skip_unless_root, unique};

/// What the machine's rlimits need (it grants no CAP_SYS_RESOURCE, so podman's defaults
/// cannot be raised), and no network: the same options runc needs here.
const RUN_OPTS: [&str; 5] = [
    "--network",
    "none",
    "--ulimit",
    "nofile=1024:1024",
    "--ulimit=nproc=1000:1000",
];

fn podman(args: &[&str]) -> Output {
    Command::new("timeout")
        .arg("120")
        .arg("podman")
        .arg("--runtime")
        .arg(launcher())
        .args(args)
        .output()
        .expect("running podman")
}

fn text(o: &Output) -> String {
    format!(
        "exit {:?}\n--- stdout ---\n{}--- stderr ---\n{}",
        o.status.code(),
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    )
}

/// The image, imported once per test binary; None (after a skip) without podman or busybox.
fn image() -> Option<&'static str> {
    static IMAGE: OnceLock<Option<String>> = OnceLock::new();
    IMAGE
        .get_or_init(|| {
            let busybox = ["/bin/busybox", "/usr/bin/busybox"]
                .into_iter()
                .find(|p| Path::new(p).exists());
            let podman_ok = Command::new("podman")
                .arg("--version")
                .output()
                .is_ok_and(|o| o.status.success());
            if skip((!podman_ok).then(|| "podman is not installed".to_owned()))
                || skip(
                    busybox
                        .is_none()
                        .then(|| "busybox-static is not installed".to_owned()),
                )
            {
                return None;
            }
            let root = TempRoot::with_probe("podman-rootfs");
            for d in ["bin", "etc", "proc", "sys", "dev", "tmp", "data"] {
                root.mkdir(d);
            }
            std::fs::copy(busybox.unwrap(), root.join("bin/busybox")).unwrap();
            for applet in ["sh", "cat", "echo", "sleep", "ls", "id"] {
                root.symlink("busybox", &format!("bin/{applet}"));
            }
            root.write("etc/passwd", "root:x:0:0:root:/root:/bin/sh\n");
            root.write("etc/group", "root:x:0:\n");
            let tar = std::env::temp_dir()
                .join(unique("podman-image"))
                .with_extension("tar");
            let made = Command::new("tar")
                .args(["-C", root.arg(), "-cf", tar.to_str().unwrap(), "."])
                .status()
                .unwrap();
            assert!(made.success());
            // One fixed name: each run replaces the last run's image, so none piles up.
            let name = "localhost/nucleus-test-probe:latest".to_owned();
            let _ = Command::new("podman")
                .args(["rmi", "--force", &name])
                .output();
            let import = Command::new("podman")
                .args(["import", tar.to_str().unwrap(), &name])
                .output()
                .unwrap();
            let _ = std::fs::remove_file(&tar);
            assert!(
                import.status.success(),
                "podman import failed\n{}",
                text(&import)
            );
            Some(name)
        })
        .as_deref()
}

/// `podman run` with the options this machine needs.
fn run(args: &[&str]) -> Output {
    let mut all = vec!["run"];
    all.extend_from_slice(&RUN_OPTS);
    all.extend_from_slice(args);
    podman(&all)
}

#[test]
fn podman_run_passes_exit_codes_env_and_volumes() {
    if skip_unless_root() {
        return;
    }
    let Some(image) = image() else { return };
    let ok = run(&["--rm", image, "/probe", "exit", "0"]);
    assert_eq!(ok.status.code(), Some(0), "{}", text(&ok));
    let three = run(&["--rm", image, "/probe", "exit", "3"]);
    assert_eq!(three.status.code(), Some(3), "{}", text(&three));
    let missing = run(&["--rm", image, "/no/such/command"]);
    assert_eq!(missing.status.code(), Some(127), "{}", text(&missing));
    let env = run(&["--rm", "-e", "FOO=bar", image, "/probe", "env"]);
    assert!(
        String::from_utf8_lossy(&env.stdout).contains("env:FOO=bar"),
        "{}",
        text(&env)
    );
    let dir = TempRoot::empty("podman-volume");
    let volume = format!("{}:/data", dir.arg());
    let wrote = run(&[
        "--rm",
        "-v",
        &volume,
        image,
        "/bin/sh",
        "-c",
        "echo hello > /data/f",
    ]);
    assert_eq!(wrote.status.code(), Some(0), "{}", text(&wrote));
    assert_eq!(std::fs::read_to_string(dir.join("f")).unwrap(), "hello\n");
    // It really is nucleus: init is PID 1, the workload its child.
    let ps = run(&["--rm", image, "/probe", "pid"]);
    assert!(
        String::from_utf8_lossy(&ps.stdout).contains("ppid=1"),
        "{}",
        text(&ps)
    );
    let comm = run(&["--rm", image, "/bin/cat", "/proc/1/comm"]);
    assert_eq!(
        String::from_utf8_lossy(&comm.stdout).trim(),
        "nucleus-init",
        "{}",
        text(&comm)
    );
}

#[test]
fn podman_memory_limit_reaches_the_cgroup() {
    if skip_unless_root() {
        return;
    }
    let Some(image) = image() else { return };
    let name = unique("podman-mem");
    let started = run(&[
        "-d", "--name", &name, "--memory", "64m", image, "/probe", "sleep", "60",
    ]);
    assert_eq!(started.status.code(), Some(0), "{}", text(&started));
    let id = String::from_utf8_lossy(&podman(&["inspect", "--format", "{{.Id}}", &name]).stdout)
        .trim()
        .to_owned();
    let state: serde_json::Value = serde_json::from_str(
        &std::fs::read_to_string(format!("/run/nucleus/{id}/state.json"))
            .unwrap_or_else(|e| panic!("{e}: {id}")),
    )
    .unwrap();
    let dirs: Vec<String> = state["nucleus"]["cgroup"]["dirs"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| d["path"].as_str().or(d.as_str()).unwrap().to_owned())
        .collect();
    let limit = dirs
        .iter()
        .find_map(|d| {
            std::fs::read_to_string(format!("{d}/memory.limit_in_bytes"))
                .or_else(|_| std::fs::read_to_string(format!("{d}/memory.max")))
                .ok()
        })
        .unwrap_or_else(|| panic!("no memory limit file in {dirs:?}"));
    assert_eq!(limit.trim(), (64u64 << 20).to_string());
    let rm = podman(&["rm", "-f", &name]);
    assert!(rm.status.success(), "{}", text(&rm));
    assert!(
        dirs.iter().all(|d| !Path::new(d).exists()),
        "cgroups left: {dirs:?}"
    );
}

#[test]
fn podman_exec_stop_and_rm() {
    if skip_unless_root() {
        return;
    }
    let Some(image) = image() else { return };
    let name = unique("podman-life");
    let started = run(&["-d", "--name", &name, image, "/probe", "sleep", "120"]);
    assert_eq!(started.status.code(), Some(0), "{}", text(&started));
    let exec = podman(&["exec", &name, "/probe", "exit", "4"]);
    assert_eq!(exec.status.code(), Some(4), "{}", text(&exec));
    let ps = podman(&["exec", &name, "/probe", "ps"]);
    let out = String::from_utf8_lossy(&ps.stdout).into_owned();
    assert!(
        out.contains("pids=1,2") || out.contains("pids=1,2,"),
        "{}",
        text(&ps)
    );
    let caps = podman(&["exec", &name, "/probe", "caps"]);
    // podman's default capabilities, not more (CHOWN .. SETFCAP: 0x800405fb).
    assert!(
        String::from_utf8_lossy(&caps.stdout).contains("CapBnd=00000000800405fb"),
        "{}",
        text(&caps)
    );
    let stop = podman(&["stop", "-t", "2", &name]);
    assert!(stop.status.success(), "{}", text(&stop));
    let status = podman(&["inspect", "--format", "{{.State.Status}}", &name]);
    assert_eq!(
        String::from_utf8_lossy(&status.stdout).trim(),
        "exited",
        "{}",
        text(&status)
    );
    let rm = podman(&["rm", &name]);
    assert!(rm.status.success(), "{}", text(&rm));
    let gone = podman(&["inspect", &name]);
    assert!(!gone.status.success());
}

#[test]
fn podman_refuses_what_nucleus_cannot_honour_with_a_clear_error() {
    if skip_unless_root() {
        return;
    }
    let Some(image) = image() else { return };
    // A block device: podman passes it in linux.devices; nucleus does not create those.
    let out = run(&[
        "--rm",
        "--device",
        "/dev/loop0",
        image,
        "/probe",
        "exit",
        "0",
    ]);
    assert_ne!(out.status.code(), Some(0), "{}", text(&out));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("linux.devices[0]") && err.contains("block devices"),
        "{}",
        text(&out)
    );
    // And the failed create left nothing for podman to trip over.
    assert!(!err.contains("no sandbox named"), "{}", text(&out));
}

#[test]
fn podman_run_t_gets_the_pty_through_the_console_socket() {
    if skip_unless_root() {
        return;
    }
    let Some(image) = image() else { return };
    // conmon passes --console-socket to `create` and relays the master nucleus sends there.
    let out = run(&["--rm", "-t", image, "/probe", "tty"]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    let stdout = String::from_utf8_lossy(&out.stdout).replace('\r', "");
    for want in ["stdin_tty=1", "stdout_tty=1", "ctty=1", "devpts=own"] {
        assert!(stdout.lines().any(|l| l == want), "{want}\n{}", text(&out));
    }
}
