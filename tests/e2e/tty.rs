//! Terminals: `run -t` gives the workload a pty of the sandbox's own devpts as its controlling
//! terminal and stdio; `-i` relays stdin to it with the launcher's terminal in raw mode,
//! restored afterwards; window size and Ctrl-C arrive inside. The launcher runs on a pty this
//! test creates (the way a terminal emulator or sshd starts a shell).

#[path = "../harness/mod.rs"]
mod harness;
#[path = "tty/pty.rs"]
mod pty;

use std::io::Write;
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use harness::{Outcome, TempRoot, finish, in_rootfs, launcher_command, rootfs_args};
use harness::{skip_unless_root, wait_until};
use pty::{Output, Pty, Settings};

/// How long a line, or the launcher's exit, may take before the test fails.
const LINE: Duration = Duration::from_secs(15);
const DEADLINE: Duration = Duration::from_secs(30);

/// The launcher with `args`, on a new pty (its stdio and controlling terminal) of `rows` x
/// `cols`; also the pty's settings from before the launcher started.
fn on_terminal(args: Vec<String>, rows: u16, cols: u16) -> (Pty, Output, Child, Settings) {
    let pty = Pty::open().expect("opening the test's pty");
    pty.set_size(rows, cols).expect("sizing the test's pty");
    let before = pty.settings().expect("reading the settings");
    let mut cmd = Command::new(harness::launcher());
    cmd.args(args);
    pty.attach(&mut cmd).expect("attaching the pty");
    let output = pty.output().expect("reading the pty");
    let child = cmd.spawn().expect("starting nucleus-launch");
    (pty, output, child, before)
}

/// Waits (within the harness's deadline) for the launcher; its exit code, or None if it
/// had to be killed.
fn exit_code(child: &mut Child) -> Option<i32> {
    let mut code = None;
    let done = wait_until(DEADLINE, || {
        code = child.try_wait().expect("waiting for the launcher");
        code.is_some()
    });
    if !done {
        let _ = child.kill();
        let _ = child.wait();
        return None;
    }
    code.and_then(|st| st.code())
}

/// The value of `key=` in the terminal's output (the first such line).
fn value(out: &Output, key: &str) -> String {
    let prefix = format!("{key}=");
    out.wait_line(LINE, |l| l.starts_with(&prefix))
        .unwrap_or_else(|| panic!("no {prefix} line; output:\n{}", out.text()))[prefix.len()..]
        .to_owned()
}

fn expect_line(out: &Output, line: &str) {
    assert!(
        out.wait_line(LINE, |l| l == line).is_some(),
        "no line {line:?}; output:\n{}",
        out.text()
    );
}

#[test]
fn run_it_gives_a_private_controlling_terminal_and_restores_the_host_one() {
    if skip_unless_root() {
        return;
    }
    let root = TempRoot::with_probe("tty-it");
    let (mut pty, out, mut child, before) =
        on_terminal(rootfs_args(&root, &["-t", "-i"], &["tty", "wait"]), 33, 111);
    expect_line(&out, "ready");
    // Inside: stdio is one terminal, the controlling one, of the sandbox's own devpts
    // (which shows nothing of the host's terminals), in the foreground.
    for (key, want) in [
        ("stdin_tty", "1"),
        ("stdout_tty", "1"),
        ("stderr_tty", "1"),
        ("same", "1"),
        ("name", "/dev/pts/0"),
        ("ctty", "1"),
        ("session_leader", "1"),
        ("foreground", "1"),
        ("devpts", "own"),
        ("pts", "0,ptmx"),
        ("foreign_ttys", "0"),
        ("dev_tty", "own"),
        ("owner", "0:0"),
    ] {
        assert_eq!(value(&out, key), want, "{key}; output:\n{}", out.text());
    }
    // The host terminal is raw while attached: no echo, no line editing, no signal keys.
    let during = pty.settings().expect("reading the settings");
    assert_eq!(
        during.lflag & (libc::ICANON | libc::ECHO | libc::ISIG),
        0,
        "the launcher's terminal is not raw: {during:?}"
    );
    // The window size arrives (at start, or with the SIGWINCH that follows it)...
    assert!(
        out.wait_line(LINE, |l| l == "size=33x111").is_some(),
        "{}",
        out.text()
    );
    // ...and follows a resize.
    pty.set_size(44, 122).expect("resizing");
    harness::sys::send_signal(child.id(), libc::SIGWINCH).expect("signalling the launcher");
    expect_line(&out, "size=44x122");
    // Ctrl-C typed on the host terminal goes through the raw host terminal to the
    // sandbox's line discipline, which signals the workload: the kernel sends it, not a
    // process (the launcher's relay of a signal it received would be `int=user`).
    pty.type_bytes(b"\x03").expect("typing Ctrl-C");
    // The sandbox's terminal echoes the key (`^C`) just before the probe's line.
    let int = out.wait_line(LINE, |l| l.contains("int="));
    assert!(
        int.as_deref().is_some_and(|l| l.ends_with("int=kernel")),
        "{}",
        out.text()
    );
    let code = exit_code(&mut child);
    pty.close_slave();
    assert!(
        out.wait_end(LINE),
        "the terminal stayed open:\n{}",
        out.text()
    );
    assert_eq!(code, Some(42), "{}", out.text());
    assert_eq!(
        pty.settings().expect("reading the settings"),
        before,
        "the host terminal was not restored"
    );
}

/// `sig` to the launcher while the host terminal is raw: relayed to the workload, which dies
/// of it, and the terminal is restored on the way out.
fn signal_ends_an_attached_session(sig: i32) {
    if skip_unless_root() {
        return;
    }
    let root = TempRoot::with_probe("tty-signal");
    let (mut pty, out, mut child, before) =
        on_terminal(rootfs_args(&root, &["-t", "-i"], &["tty", "wait"]), 24, 80);
    expect_line(&out, "ready");
    assert_ne!(pty.settings().unwrap(), before, "not raw while attached");
    harness::sys::send_signal(child.id(), sig).expect("signalling the launcher");
    let code = exit_code(&mut child);
    pty.close_slave();
    assert!(out.wait_end(LINE), "{}", out.text());
    assert_eq!(code, Some(128 + sig), "{}", out.text());
    assert_eq!(
        pty.settings().unwrap(),
        before,
        "the host terminal was not restored"
    );
}

#[test]
fn sigterm_to_the_launcher_restores_the_terminal() {
    signal_ends_an_attached_session(libc::SIGTERM);
}

#[test]
fn sighup_to_the_launcher_restores_the_terminal() {
    signal_ends_an_attached_session(libc::SIGHUP);
}

#[test]
fn a_failing_command_under_a_terminal_still_restores_it() {
    if skip_unless_root() {
        return;
    }
    let root = TempRoot::with_probe("tty-missing");
    let args = ["run", "-t", "-i", "--rootfs", root.arg(), "--", "/missing"];
    let args = args.map(str::to_owned).to_vec();
    let (mut pty, out, mut child, before) = on_terminal(args, 24, 80);
    let code = exit_code(&mut child);
    pty.close_slave();
    assert!(out.wait_end(LINE), "{}", out.text());
    assert_eq!(code, Some(127), "{}", out.text());
    assert!(out.text().contains("/missing"), "{}", out.text());
    assert_eq!(
        pty.settings().unwrap(),
        before,
        "the host terminal was not restored"
    );
}

#[test]
fn without_t_the_launchers_terminal_is_not_the_workloads_controlling_terminal() {
    if skip_unless_root() {
        return;
    }
    let root = TempRoot::with_probe("tty-none-on-tty");
    let (mut pty, out, mut child, before) = on_terminal(rootfs_args(&root, &[], &["tty"]), 24, 80);
    let code = exit_code(&mut child);
    pty.close_slave();
    assert!(out.wait_end(LINE), "{}", out.text());
    assert_eq!(code, Some(0), "{}", out.text());
    // A session of its own: /dev/tty inside does not lead to the host's terminal (nor
    // could TIOCSTI type into it: that needs the terminal to be one's controlling one).
    assert_eq!(value(&out, "ctty"), "0", "{}", out.text());
    assert_eq!(value(&out, "session_leader"), "1", "{}", out.text());
    assert_eq!(value(&out, "dev_tty"), "ENXIO", "{}", out.text());
    assert_eq!(pty.settings().unwrap(), before);
}

#[test]
fn t_works_without_a_host_terminal() {
    if skip_unless_root() {
        return;
    }
    let root = TempRoot::with_probe("tty-piped");
    let out = in_rootfs(&root, &["-t"], &["tty"]);
    out.assert_ok();
    for (key, want) in [
        ("stdin_tty", "1"),
        ("stdout_tty", "1"),
        ("ctty", "1"),
        ("devpts", "own"),
        ("pts", "0,ptmx"),
        ("dev_tty", "own"),
        ("foreign_ttys", "0"),
        // No host terminal, no size to copy.
        ("size", "0x0"),
    ] {
        assert_eq!(out.value(key), want, "{key}\n{out}");
    }
}

#[test]
fn without_t_stdio_is_not_a_terminal_inside() {
    if skip_unless_root() {
        return;
    }
    let root = TempRoot::with_probe("tty-none");
    let out = in_rootfs(&root, &[], &["tty"]);
    out.assert_ok();
    for (key, want) in [
        ("stdin_tty", "0"),
        ("stdout_tty", "0"),
        ("stderr_tty", "0"),
        ("ctty", "0"),
        ("dev_tty", "ENXIO"),
        ("foreign_ttys", "0"),
    ] {
        assert_eq!(out.value(key), want, "{key}\n{out}");
    }
}

/// Runs the launcher with `stdin` as its piped input.
fn with_stdin(args: Vec<String>, stdin: &[u8]) -> Outcome {
    let mut cmd = launcher_command(args);
    cmd.stdin(Stdio::piped());
    let mut child = cmd.spawn().expect("starting nucleus-launch");
    child
        .stdin
        .take()
        .expect("stdin is piped")
        .write_all(stdin)
        .expect("writing stdin");
    // The input is closed here: the end of stdin.
    let output = child.wait_with_output().expect("waiting for the launcher");
    Outcome {
        code: output.status.code().unwrap_or(-1),
        stdout: String::from_utf8_lossy(&output.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&output.stderr).into_owned(),
    }
}

#[test]
fn ti_relays_piped_stdin_and_its_end() {
    if skip_unless_root() {
        return;
    }
    let root = TempRoot::with_probe("tty-stdin");
    // The line, then the end of stdin as the terminal's end-of-file character.
    let out = with_stdin(
        rootfs_args(&root, &["-t", "-i"], &["tty", "read"]),
        b"hello\n",
    );
    assert_eq!(out.code, 0, "{out}");
    assert_eq!(out.value("stdin_tty"), "1", "{out}");
    assert_eq!(out.value("read"), "6", "{out}");
}

#[test]
fn i_without_t_keeps_stdin_passing_straight_through() {
    if skip_unless_root() {
        return;
    }
    let root = TempRoot::with_probe("tty-i");
    let out = with_stdin(rootfs_args(&root, &["-i"], &["tty", "read"]), b"abc");
    assert_eq!(out.code, 0, "{out}");
    assert_eq!(out.value("stdin_tty"), "0", "{out}");
    assert_eq!(out.value("read"), "3", "{out}");
}

#[test]
fn all_output_arrives_when_the_workload_exits_at_once() {
    if skip_unless_root() {
        return;
    }
    const BYTES: usize = 1 << 20;
    let root = TempRoot::with_probe("tty-flood");
    let out = in_rootfs(&root, &["-t"], &["tty", "flood", &BYTES.to_string()]);
    out.assert_ok();
    let lines: Vec<&str> = out
        .stdout
        .lines()
        .skip_while(|l| !l.starts_with("size="))
        .skip(1)
        .collect();
    assert_eq!(
        lines.last().copied(),
        Some("end"),
        "the output was cut short"
    );
    let numbered = &lines[..lines.len() - 1];
    assert_eq!(numbered.len(), BYTES / 16);
    for (i, line) in numbered.iter().enumerate() {
        assert_eq!(line.parse::<usize>().ok(), Some(i), "line {i} is {line:?}");
    }
}

#[test]
fn the_terminal_belongs_to_the_workloads_user() {
    if skip_unless_root() {
        return;
    }
    let root = TempRoot::with_probe("tty-user");
    let out = in_rootfs(&root, &["-t", "-u", "1000:1000"], &["tty"]);
    out.assert_ok();
    // runc's choice: the user is the workload's, the group stays devpts's.
    assert_eq!(out.value("owner"), "1000:0", "{out}");
    assert_eq!(out.value("ctty"), "1", "{out}");
    assert_eq!(out.value("dev_tty"), "own", "{out}");
}

#[test]
fn t_works_in_a_user_namespace() {
    if skip_unless_root() {
        return;
    }
    let root = TempRoot::with_probe("tty-userns");
    for dir in ["proc", "dev", "tmp"] {
        root.mkdir(dir);
    }
    let out = in_rootfs(&root, &["-t", "--userns", "auto"], &["tty"]);
    out.assert_ok();
    for (key, want) in [
        ("stdin_tty", "1"),
        ("ctty", "1"),
        ("devpts", "own"),
        ("pts", "0,ptmx"),
        ("owner", "0:0"),
    ] {
        assert_eq!(out.value(key), want, "{key}\n{out}");
    }
}

#[test]
fn a_sandbox_without_a_working_ptmx_fails_cleanly() {
    if skip_unless_root() {
        return;
    }
    let root = TempRoot::with_probe("tty-no-ptmx");
    // No devpts at all under /dev/pts: /dev/ptmx leads nowhere.
    let out = in_rootfs(&root, &["-t", "--tmpfs", "/dev/pts"], &["tty"]);
    assert_eq!(out.code, 125, "{out}");
    assert!(
        out.stderr
            .contains("giving the workload a terminal failed: No such file or directory"),
        "{out}"
    );
    // Something that is not a pty master where ptmx should be: init refuses it (the
    // TIOCGPTPEER that opens the slave proves the master).
    let out = in_rootfs(&root, &["-t", "-v", "/dev/null:/dev/pts/ptmx"], &["tty"]);
    assert_eq!(out.code, 125, "{out}");
    assert!(
        out.stderr
            .contains("giving the workload a terminal failed: Inappropriate ioctl for device"),
        "{out}"
    );
    assert!(!out.stdout.contains("stdin_tty"), "the workload ran: {out}");
}

#[test]
fn a_bad_flag_value_is_a_usage_error() {
    if skip_unless_root() {
        return;
    }
    // -t takes no value: a value after it is the command, which then must exist.
    let out = finish(launcher_command(["run", "--tty=yes", "--", "true"]));
    assert_eq!(out.code, 125, "{out}");
    assert!(out.stderr.contains("--tty"), "{out}");
}
