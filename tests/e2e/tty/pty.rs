//! The test's own terminal: a pty whose slave becomes the launcher's stdio and controlling
//! terminal, as a terminal emulator or sshd sets it up. Every `unsafe` of the test is here.

use std::fs::File;
use std::io::{self, Read, Write};
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd};
use std::os::unix::process::CommandExt;
use std::process::{Command, Stdio};
use std::sync::{Arc, Condvar, Mutex};
use std::time::{Duration, Instant};

fn check(ret: libc::c_int) -> io::Result<libc::c_int> {
    if ret < 0 {
        Err(io::Error::last_os_error())
    } else {
        Ok(ret)
    }
}

/// The settings of a terminal that raw mode changes, comparable.
#[derive(Debug, PartialEq, Eq, Clone)]
pub struct Settings {
    pub iflag: libc::tcflag_t,
    pub oflag: libc::tcflag_t,
    pub cflag: libc::tcflag_t,
    pub lflag: libc::tcflag_t,
    pub cc: Vec<libc::cc_t>,
}

pub struct Pty {
    master: File,
    /// Kept open by the test so that the pair (and its settings) outlives the launcher.
    slave: Option<OwnedFd>,
}

impl Pty {
    pub fn open() -> io::Result<Pty> {
        let flags = libc::O_RDWR | libc::O_NOCTTY | libc::O_CLOEXEC;
        // SAFETY: posix_openpt takes no pointers and returns a new fd (or -1).
        let master = check(unsafe { libc::posix_openpt(flags) })?;
        // SAFETY: the fd was just returned to us and nothing else owns it.
        let master = unsafe { File::from_raw_fd(master) };
        // SAFETY: unlockpt takes no pointers; the fd is a pty master.
        check(unsafe { libc::unlockpt(master.as_raw_fd()) })?;
        // SAFETY: TIOCGPTPEER takes its flags by value and returns a new fd (or -1).
        let slave = check(unsafe { libc::ioctl(master.as_raw_fd(), libc::TIOCGPTPEER, flags) })?;
        // SAFETY: the fd was just returned to us and nothing else owns it.
        let slave = unsafe { OwnedFd::from_raw_fd(slave) };
        Ok(Pty {
            master,
            slave: Some(slave),
        })
    }

    /// TIOCSWINSZ on the master: the size the launcher's terminal has.
    pub fn set_size(&self, rows: u16, cols: u16) -> io::Result<()> {
        let ws = libc::winsize {
            ws_row: rows,
            ws_col: cols,
            ws_xpixel: 0,
            ws_ypixel: 0,
        };
        // SAFETY: TIOCSWINSZ reads one winsize through the pointer, which lives across it.
        check(unsafe { libc::ioctl(self.master.as_raw_fd(), libc::TIOCSWINSZ, &ws) }).map(drop)
    }

    /// The terminal's settings (a master shares its slave's).
    pub fn settings(&self) -> io::Result<Settings> {
        // SAFETY: an all-zero termios is valid; tcgetattr fills it in.
        let mut t: libc::termios = unsafe { std::mem::zeroed() };
        // SAFETY: `t` lives across the call and is written only by it.
        check(unsafe { libc::tcgetattr(self.master.as_raw_fd(), &mut t) })?;
        Ok(Settings {
            iflag: t.c_iflag,
            oflag: t.c_oflag,
            cflag: t.c_cflag,
            lflag: t.c_lflag,
            cc: t.c_cc.to_vec(),
        })
    }

    /// What the user types.
    pub fn type_bytes(&self, bytes: &[u8]) -> io::Result<()> {
        (&self.master).write_all(bytes)
    }

    /// Makes the slave `cmd`'s stdio and, in a new session, its controlling terminal.
    pub fn attach(&self, cmd: &mut Command) -> io::Result<()> {
        let slave = self.slave.as_ref().expect("attach before close_slave");
        cmd.stdin(Stdio::from(slave.try_clone()?))
            .stdout(Stdio::from(slave.try_clone()?))
            .stderr(Stdio::from(slave.try_clone()?));
        let hook = || {
            // SAFETY: setsid and ioctl(TIOCSCTTY, 0) take no pointers and are
            // async-signal-safe; fd 0 is the slave by now (stdio is set up before the hook).
            unsafe {
                if libc::setsid() < 0 || libc::ioctl(0, libc::TIOCSCTTY, 0) < 0 {
                    return Err(io::Error::last_os_error());
                }
            }
            Ok(())
        };
        // SAFETY: the hook only makes async-signal-safe calls and does not allocate.
        unsafe { cmd.pre_exec(hook) };
        Ok(())
    }

    /// Everything written to the terminal, collected by a thread until the last slave
    /// closes (call [`Pty::close_slave`] once the launcher is gone).
    pub fn output(&self) -> io::Result<Output> {
        let mut master = self.master.try_clone()?;
        let shared: Shared = Arc::new((Mutex::new((Vec::new(), false)), Condvar::new()));
        let theirs = shared.clone();
        std::thread::spawn(move || {
            let mut buf = [0u8; 4096];
            loop {
                // EIO once every slave is closed.
                let n = master.read(&mut buf).unwrap_or(0);
                let (lock, cond) = &*theirs;
                let mut state = lock.lock().unwrap();
                if n == 0 {
                    state.1 = true;
                } else {
                    state.0.extend_from_slice(&buf[..n]);
                }
                cond.notify_all();
                if n == 0 {
                    return;
                }
            }
        });
        Ok(Output { shared })
    }

    pub fn close_slave(&mut self) {
        self.slave = None;
    }
}

/// The bytes read so far, and whether the end was seen; the condvar tells of either.
type Shared = Arc<(Mutex<(Vec<u8>, bool)>, Condvar)>;

/// The terminal's output so far, as lines without their `\r\n`.
pub struct Output {
    shared: Shared,
}

impl Output {
    pub fn text(&self) -> String {
        let state = self.shared.0.lock().unwrap();
        String::from_utf8_lossy(&state.0).replace('\r', "")
    }

    /// Waits until some line satisfies `want` (or `timeout`, or the end); returns it.
    pub fn wait_line(&self, timeout: Duration, want: impl Fn(&str) -> bool) -> Option<String> {
        let deadline = Instant::now() + timeout;
        let (lock, cond) = &*self.shared;
        let mut state = lock.lock().unwrap();
        loop {
            let text = String::from_utf8_lossy(&state.0).replace('\r', "");
            if let Some(line) = text.lines().find(|l| want(l)) {
                return Some(line.to_owned());
            }
            let left = deadline.checked_duration_since(Instant::now())?;
            if state.1 {
                return None;
            }
            state = cond.wait_timeout(state, left).unwrap().0;
        }
    }

    /// Waits for the end of the output (every slave closed).
    pub fn wait_end(&self, timeout: Duration) -> bool {
        let deadline = Instant::now() + timeout;
        let (lock, cond) = &*self.shared;
        let mut state = lock.lock().unwrap();
        while !state.1 {
            let Some(left) = deadline.checked_duration_since(Instant::now()) else {
                return false;
            };
            state = cond.wait_timeout(state, left).unwrap().0;
        }
        true
    }
}
