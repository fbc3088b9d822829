//! Verbs that try what Landlock restricts: executing a copied program, TCP bind and connect on
//! loopback, signals to processes outside the sandbox's domain, abstract unix sockets. Each
//! prints `VERB ARG=ok` or the errno's name.

use std::io;
use std::net::{Ipv4Addr, SocketAddrV4, TcpListener, TcpStream};
use std::os::linux::net::SocketAddrExt;
use std::os::unix::fs::PermissionsExt;
use std::os::unix::net::{SocketAddr, UnixListener, UnixStream};
use std::process::{Command, ExitCode, Stdio};

use crate::files::errno_name;
use crate::sys;

type Verb = io::Result<ExitCode>;

/// The errno's name, with the socket errors `files::errno_name` does not know.
fn name(e: &io::Error) -> String {
    match e.raw_os_error() {
        Some(libc::ECONNREFUSED) => "ECONNREFUSED".to_owned(),
        Some(libc::EADDRINUSE) => "EADDRINUSE".to_owned(),
        Some(libc::EADDRNOTAVAIL) => "EADDRNOTAVAIL".to_owned(),
        _ => errno_name(e),
    }
}

fn outcome<T>(r: &io::Result<T>) -> String {
    match r {
        Ok(_) => "ok".to_owned(),
        Err(e) => name(e),
    }
}

fn port(raw: &str) -> io::Result<u16> {
    raw.parse()
        .map_err(|_| io::Error::new(io::ErrorKind::InvalidInput, format!("not a port: {raw:?}")))
}

fn loopback(port: u16) -> SocketAddrV4 {
    SocketAddrV4::new(Ipv4Addr::LOCALHOST, port)
}

/// `copy-self PATH`: copies the probe to PATH (mode 0755), for `exec`.
pub fn copy_self(path: &str) -> Verb {
    let r = std::fs::copy("/proc/self/exe", path)
        .and_then(|_| std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o755)));
    println!("copy-self {path}={}", outcome(&r));
    Ok(ExitCode::SUCCESS)
}

/// `exec PATH`: runs `PATH exit 0` and prints `exec PATH=ok`, or the errno of the failed
/// `execve` (EACCES when Landlock denies executing it).
pub fn exec(path: &str) -> Verb {
    let r = Command::new(path)
        .args(["exit", "0"])
        .stdin(Stdio::null())
        .status();
    println!("exec {path}={}", outcome(&r));
    Ok(ExitCode::SUCCESS)
}

/// `connect PORT`: a TCP connection to 127.0.0.1:PORT. With nothing listening: ECONNREFUSED
/// if allowed, EACCES if Landlock denies the port.
pub fn connect(raw: &str) -> Verb {
    let r = TcpStream::connect(loopback(port(raw)?));
    println!("connect {raw}={}", outcome(&r));
    Ok(ExitCode::SUCCESS)
}

/// `bind PORT`: binds (and listens on) 127.0.0.1:PORT.
pub fn bind(raw: &str) -> Verb {
    let r = TcpListener::bind(loopback(port(raw)?));
    println!("bind {raw}={}", outcome(&r));
    Ok(ExitCode::SUCCESS)
}

/// `signal PID`: `kill(PID, 0)`, which checks permission and sends nothing; `self` is the
/// probe itself.
pub fn signal(raw: &str) -> Verb {
    let pid = if raw == "self" {
        std::process::id() as i32
    } else {
        raw.parse().map_err(|_| {
            io::Error::new(io::ErrorKind::InvalidInput, format!("not a pid: {raw:?}"))
        })?
    };
    println!("signal {raw}={}", outcome(&sys::probe_signal(pid)));
    Ok(ExitCode::SUCCESS)
}

/// `abstract-connect NAME`: connects to the abstract unix socket `@NAME`.
pub fn abstract_connect(name: &str) -> Verb {
    let r =
        SocketAddr::from_abstract_name(name.as_bytes()).and_then(|a| UnixStream::connect_addr(&a));
    println!("abstract-connect {name}={}", outcome(&r));
    Ok(ExitCode::SUCCESS)
}

/// `abstract-self NAME`: listens on `@NAME` and connects to it: within one domain.
pub fn abstract_self(name: &str) -> Verb {
    let r = SocketAddr::from_abstract_name(name.as_bytes()).and_then(|a| {
        let listener = UnixListener::bind_addr(&a)?;
        let client = UnixStream::connect_addr(&a)?;
        drop(listener);
        Ok(client)
    });
    println!("abstract-self {name}={}", outcome(&r));
    Ok(ExitCode::SUCCESS)
}
