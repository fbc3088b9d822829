//! Verbs that try to write. `write` and `fill` are for the sandbox's own files only; kernel
//! files are only ever opened (`openw`, `exe`), never written.

use std::fs::OpenOptions;
use std::io::{self, Write};
use std::process::ExitCode;

/// What `write` puts in the files it creates, so tests can recognise them on the host.
pub const CONTENTS: &[u8] = b"written by nucleus-probe\n";

/// `ok` or the errno's symbolic name (`EROFS`), which is what tests assert on.
pub fn errno_name(e: &io::Error) -> String {
    let Some(n) = e.raw_os_error() else {
        return format!("error:{e}");
    };
    let name = match n {
        libc::EPERM => "EPERM",
        libc::ENOENT => "ENOENT",
        libc::EIO => "EIO",
        libc::EBADF => "EBADF",
        libc::EACCES => "EACCES",
        libc::EEXIST => "EEXIST",
        libc::EXDEV => "EXDEV",
        libc::ENOTDIR => "ENOTDIR",
        libc::EISDIR => "EISDIR",
        libc::EINVAL => "EINVAL",
        libc::ETXTBSY => "ETXTBSY",
        libc::EFBIG => "EFBIG",
        libc::ENOSPC => "ENOSPC",
        libc::EROFS => "EROFS",
        libc::ELOOP => "ELOOP",
        libc::EDQUOT => "EDQUOT",
        libc::ESRCH => "ESRCH",
        libc::ENOEXEC => "ENOEXEC",
        libc::ECHILD => "ECHILD",
        libc::EAGAIN => "EAGAIN",
        libc::ENOMEM => "ENOMEM",
        libc::EFAULT => "EFAULT",
        libc::EBUSY => "EBUSY",
        libc::ENODEV => "ENODEV",
        libc::ENXIO => "ENXIO",
        libc::E2BIG => "E2BIG",
        libc::ENOTTY => "ENOTTY",
        libc::ENOSYS => "ENOSYS",
        libc::ENOTSOCK => "ENOTSOCK",
        libc::EPROTONOSUPPORT => "EPROTONOSUPPORT",
        libc::ESOCKTNOSUPPORT => "ESOCKTNOSUPPORT",
        libc::EOPNOTSUPP => "EOPNOTSUPP",
        libc::EAFNOSUPPORT => "EAFNOSUPPORT",
        libc::EPROTOTYPE => "EPROTOTYPE",
        libc::ENOKEY => "ENOKEY",
        _ => return format!("errno{n}"),
    };
    name.to_owned()
}

fn outcome(r: io::Result<()>) -> String {
    match r {
        Ok(()) => "ok".to_owned(),
        Err(e) => errno_name(&e),
    }
}

/// Creates (or truncates) `path` and writes `CONTENTS`.
pub fn write(path: &str) -> io::Result<ExitCode> {
    let r = OpenOptions::new()
        .write(true)
        .create(true)
        .truncate(true)
        .open(path)
        .and_then(|mut f| f.write_all(CONTENTS));
    println!("write {path}={}", outcome(r));
    Ok(ExitCode::SUCCESS)
}

/// Writes `bytes` bytes to a new file `path`: `ok`, or `ENOSPC` when a tmpfs is too small.
pub fn fill(path: &str, bytes: usize) -> io::Result<ExitCode> {
    let chunk = vec![0x5a_u8; 64 * 1024];
    let r = OpenOptions::new()
        .write(true)
        .create(true)
        .truncate(true)
        .open(path)
        .and_then(|mut f| {
            let mut left = bytes;
            while left > 0 {
                let n = left.min(chunk.len());
                f.write_all(&chunk[..n])?;
                left -= n;
            }
            f.sync_all()
        });
    println!("fill {path}={}", outcome(r));
    Ok(ExitCode::SUCCESS)
}

/// Only opens `path` with O_WRONLY (no create, no truncate) and closes it again: safe on
/// /proc/sys and /proc/sysrq-trigger, where only a write would act.
pub fn openw(path: &str) -> io::Result<ExitCode> {
    let r = OpenOptions::new().write(true).open(path).map(drop);
    println!("openw {path}={}", outcome(r));
    Ok(ExitCode::SUCCESS)
}

/// Whether init's executable can be opened for writing (runc's CVE-2019-5736).
pub fn exe() -> io::Result<ExitCode> {
    let r = OpenOptions::new().write(true).open("/proc/1/exe").map(drop);
    println!("exe={}", outcome(r));
    Ok(ExitCode::SUCCESS)
}
