//! Running the launcher with a deadline, so a hung sandbox fails its test instead of hanging
//! the whole run.

use std::ffi::OsStr;
use std::fmt;
use std::io::{BufRead, BufReader, Read};
use std::os::unix::process::ExitStatusExt;
use std::process::{Child, Command, ExitStatus, Stdio};
use std::sync::mpsc::{self, Receiver, RecvTimeoutError};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

/// How long any one launch may take before it is killed and its test failed.
pub const TIMEOUT: Duration = Duration::from_secs(30);

/// What a finished launch did.
pub struct Outcome {
    /// The exit code, or 128 + n if the launcher itself was killed by signal n.
    pub code: i32,
    pub stdout: String,
    pub stderr: String,
}

impl Outcome {
    /// Values of every `key=value` line of stdout.
    pub fn values(&self, key: &str) -> Vec<&str> {
        self.stdout
            .lines()
            .filter_map(|l| l.strip_prefix(key)?.strip_prefix('='))
            .collect()
    }

    /// The value of the only `key=value` line; panics (showing everything) otherwise.
    pub fn value(&self, key: &str) -> &str {
        match self.values(key).as_slice() {
            [v] => v,
            _ => panic!("expected exactly one `{key}=` line\n{self}"),
        }
    }

    /// Asserts exit code 0 and an empty stderr.
    pub fn assert_ok(&self) -> &Self {
        assert!(
            self.code == 0 && self.stderr.is_empty(),
            "expected success\n{self}"
        );
        self
    }
}

impl fmt::Display for Outcome {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "exit code: {}\n--- stdout ---\n{}--- stderr ---\n{}---",
            self.code, self.stdout, self.stderr
        )
    }
}

impl fmt::Debug for Outcome {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(self, f)
    }
}

fn code_of(status: ExitStatus) -> i32 {
    status
        .code()
        .or_else(|| status.signal().map(|s| 128 + s))
        .unwrap_or(-1)
}

/// `nucleus-launch` with stdin from /dev/null and stdout, stderr piped.
pub fn launcher_command<S: AsRef<OsStr>>(args: impl IntoIterator<Item = S>) -> Command {
    let mut cmd = Command::new(super::launcher());
    cmd.args(args)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    cmd
}

/// Runs `nucleus-launch ARGS...` to completion (or the deadline).
pub fn nucleus<S: AsRef<OsStr>>(args: impl IntoIterator<Item = S>) -> Outcome {
    finish(launcher_command(args))
}

fn collect(mut r: impl Read + Send + 'static) -> JoinHandle<String> {
    std::thread::spawn(move || {
        let mut buf = Vec::new();
        let _ = r.read_to_end(&mut buf);
        String::from_utf8_lossy(&buf).into_owned()
    })
}

/// Waits for `child` until `deadline`; kills it (SIGKILL, which takes the sandbox down with
/// it) and returns None when the deadline passes.
fn wait_until_deadline(child: &mut Child, deadline: Instant) -> Option<ExitStatus> {
    loop {
        if let Some(st) = child.try_wait().expect("waiting for the launcher") {
            return Some(st);
        }
        if Instant::now() >= deadline {
            let _ = child.kill();
            let _ = child.wait();
            return None;
        }
        std::thread::sleep(Duration::from_millis(5));
    }
}

/// Spawns `cmd` (stdout and stderr must be piped) and waits for it with the deadline.
pub fn finish(mut cmd: Command) -> Outcome {
    let mut child = cmd.spawn().expect("starting nucleus-launch");
    let out = collect(child.stdout.take().expect("stdout is piped"));
    let err = collect(child.stderr.take().expect("stderr is piped"));
    let status = wait_until_deadline(&mut child, Instant::now() + TIMEOUT);
    let outcome = Outcome {
        code: status.map_or(-1, code_of),
        stdout: out.join().expect("stdout reader"),
        stderr: err.join().expect("stderr reader"),
    };
    assert!(
        status.is_some(),
        "nucleus-launch did not finish within {TIMEOUT:?}: killed\n{outcome}"
    );
    outcome
}

/// A launcher still running, read line by line. Dropping it kills the launcher.
pub struct Running {
    child: Child,
    lines: Receiver<String>,
    seen: Vec<String>,
    stderr: Option<JoinHandle<String>>,
}

/// Spawns `cmd` (stdout and stderr must be piped) for reading its output as it comes.
pub fn spawn(mut cmd: Command) -> Running {
    let mut child = cmd.spawn().expect("starting nucleus-launch");
    let stdout = child.stdout.take().expect("stdout is piped");
    let (tx, lines) = mpsc::channel();
    std::thread::spawn(move || {
        for line in BufReader::new(stdout).lines() {
            let Ok(line) = line else { break };
            if tx.send(line).is_err() {
                break;
            }
        }
    });
    let stderr = Some(collect(child.stderr.take().expect("stderr is piped")));
    Running {
        child,
        lines,
        seen: Vec::new(),
        stderr,
    }
}

impl Running {
    /// The launcher's pid on the host.
    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    /// Waits up to `timeout` for a stdout line equal to `want`; panics showing what came.
    pub fn expect_line(&mut self, want: &str, timeout: Duration) {
        let deadline = Instant::now() + timeout;
        loop {
            let left = deadline.saturating_duration_since(Instant::now());
            match self.lines.recv_timeout(left) {
                Ok(line) => {
                    let found = line == want;
                    self.seen.push(line);
                    if found {
                        return;
                    }
                }
                Err(RecvTimeoutError::Timeout) => {
                    panic!(
                        "no line {want:?} within {timeout:?}; stdout so far: {:?}",
                        self.seen
                    )
                }
                Err(RecvTimeoutError::Disconnected) => {
                    let status = wait_until_deadline(&mut self.child, deadline);
                    panic!(
                        "stdout closed before a line {want:?}; stdout: {:?}, exit: {:?}",
                        self.seen,
                        status.map(code_of)
                    )
                }
            }
        }
    }

    /// Waits for the launcher to exit (within the deadline) and collects the rest.
    pub fn finish(mut self) -> Outcome {
        let status = wait_until_deadline(&mut self.child, Instant::now() + TIMEOUT);
        let mut stdout: Vec<String> = std::mem::take(&mut self.seen);
        // The reader thread ends at end of file, which follows the exit of every writer.
        while let Ok(line) = self.lines.recv_timeout(Duration::from_secs(5)) {
            stdout.push(line);
        }
        let outcome = Outcome {
            code: status.map_or(-1, code_of),
            stdout: stdout.iter().map(|l| format!("{l}\n")).collect(),
            stderr: self
                .stderr
                .take()
                .map(|h| h.join().expect("stderr reader"))
                .unwrap_or_default(),
        };
        assert!(
            status.is_some(),
            "nucleus-launch did not finish within {TIMEOUT:?}\n{outcome}"
        );
        outcome
    }

    /// Kills the launcher with SIGKILL and reaps it.
    pub fn kill(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Drop for Running {
    fn drop(&mut self) {
        // A test that panicked half-way must not leave a sandbox running.
        if let Ok(None) = self.child.try_wait() {
            self.kill();
        }
    }
}
