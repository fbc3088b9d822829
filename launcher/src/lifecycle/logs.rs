//! The log of a detached sandbox: its stdout and stderr, as written, in a file of bounded size
//! (`log`, and the previous `log.1` once it is full, as docker's json-file driver rotates).

use std::fs::File;
use std::io::{Read, Seek, Write};
use std::path::{Path, PathBuf};
use std::time::Duration;

use rustix::fd::OwnedFd;

use crate::error::Error;
use crate::state::{Root, Status};

pub const LOG_FILE: &str = "log";
/// Each of the two files holds at most this much.
pub const LOG_MAX: u64 = 8 << 20;

pub struct Writer {
    path: PathBuf,
    file: File,
    len: u64,
    max: u64,
}

impl Writer {
    pub fn open(path: &Path) -> Result<Self, Error> {
        let file = File::options()
            .create(true)
            .append(true)
            .open(path)
            .map_err(|e| Error::io(format!("opening the log {}", path.display()), e))?;
        let len = file.metadata().map_or(0, |m| m.len());
        Ok(Writer {
            path: path.to_owned(),
            file,
            len,
            max: LOG_MAX,
        })
    }

    /// Copies from `pipe` until every writer has closed it.
    pub fn drain(mut self, pipe: OwnedFd) {
        let mut pipe = File::from(pipe);
        let mut buf = vec![0u8; 64 * 1024];
        loop {
            match pipe.read(&mut buf) {
                Ok(0) => return,
                Ok(n) => self.write(&buf[..n]),
                Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
                Err(_) => return,
            }
        }
    }

    fn write(&mut self, bytes: &[u8]) {
        if self.len + bytes.len() as u64 > self.max && self.len > 0 {
            let _ = std::fs::rename(&self.path, self.path.with_extension("1"));
            if let Ok(f) = File::options().create(true).append(true).open(&self.path) {
                self.file = f;
                self.len = 0;
            }
        }
        // A full disk loses output, never the sandbox.
        if self.file.write_all(bytes).is_ok() {
            self.len += bytes.len() as u64;
        }
    }
}

/// `logs ID [-f]`.
pub fn print(root: &Root, id: &str, follow: bool) -> Result<i32, Error> {
    let record = root.load(id)?;
    let path = record.dir.join(LOG_FILE);
    if !path.exists() {
        return Err(Error::usage(format!(
            "sandbox {id:?} keeps no log (only `run -d` sandboxes do; OCI callers keep their own)"
        )));
    }
    let mut out = std::io::stdout().lock();
    let copy = |from: &Path, pos: u64, out: &mut dyn Write| -> u64 {
        let Ok(mut f) = File::open(from) else {
            return pos;
        };
        let len = f.metadata().map_or(0, |m| m.len());
        // Rotated meanwhile: start the new file from its beginning.
        let pos = if len < pos { 0 } else { pos };
        let _ = f.seek(std::io::SeekFrom::Start(pos));
        let copied = std::io::copy(&mut f, out).unwrap_or(0);
        pos + copied
    };
    copy(&path.with_extension("1"), 0, &mut out);
    let mut pos = copy(&path, 0, &mut out);
    let _ = out.flush();
    if !follow {
        return Ok(0);
    }
    loop {
        let ended = root.load(id).map_or(true, |r| {
            !matches!(
                r.status(),
                Status::Running | Status::Created | Status::Creating
            )
        });
        std::thread::sleep(Duration::from_millis(100));
        pos = copy(&path, pos, &mut out);
        let _ = out.flush();
        if ended {
            break;
        }
    }
    Ok(0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_log_is_bounded_to_two_files_holding_the_newest_output() {
        let dir = std::env::temp_dir().join(format!("nucleus-log-test-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join(LOG_FILE);
        let mut w = Writer::open(&path).unwrap();
        w.max = 100;
        for i in 0..50 {
            w.write(format!("line {i:02}\n").as_bytes());
        }
        let cur = std::fs::read_to_string(&path).unwrap();
        let old = std::fs::read_to_string(path.with_extension("1")).unwrap();
        assert!(
            cur.len() <= 100 && old.len() <= 100,
            "{} {}",
            cur.len(),
            old.len()
        );
        assert!(cur.ends_with("line 49\n"), "{cur}");
        // The two files together are the newest output, in order.
        let all = old + &cur;
        let first: usize = all[5..7].parse().unwrap();
        let want: String = (first..50).map(|i| format!("line {i:02}\n")).collect();
        assert_eq!(all, want);
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
