//! Reading and writing cgroup files, and making and removing cgroup directories.

use std::io::{self, Write};
use std::path::Path;
use std::time::{Duration, Instant};

/// Writes `value` to the cgroup file `path` in one `write` (cgroup files take one value per
/// write). The file is created if missing, which only happens in fixture trees: callers
/// write only files the kernel offers (see each controller's `offer`).
pub fn write(path: &Path, value: &str) -> io::Result<()> {
    let mut f = std::fs::OpenOptions::new()
        .write(true)
        .create(true)
        .truncate(true)
        .open(path)?;
    f.write_all(value.as_bytes())
}

/// A small kernel file (procfs and cgroupfs give no size, so std's reader starts with 32
/// bytes and grows: a read call per doubling) in 4 KiB reads.
pub fn read_small(path: &Path) -> io::Result<String> {
    use std::io::Read;
    let mut buf = Vec::with_capacity(4096);
    std::fs::File::open(path)?.read_to_end(&mut buf)?;
    String::from_utf8(buf).map_err(|_| io::Error::from_raw_os_error(libc::EILSEQ))
}

/// The file's content without its trailing newline; None if it cannot be read.
pub fn read(path: &Path) -> Option<String> {
    let mut s = read_small(path).ok()?;
    while s.ends_with('\n') {
        s.pop();
    }
    Some(s)
}

/// A number file (`pids.current`, `memory.current`); `max` and v1's "unlimited" values
/// (at or above 2^62) read as None.
pub fn read_number(path: &Path) -> Option<Option<u64>> {
    let s = read(path)?;
    if s == "max" {
        return Some(None);
    }
    let n: u64 = s.trim().parse().ok()?;
    Some((n < 1 << 62).then_some(n))
}

/// The value of `key` in a flat-keyed file (`key value` lines: `memory.events`, `cpu.stat`,
/// `memory.oom_control`).
pub fn keyed(text: &str, key: &str) -> Option<u64> {
    text.lines().find_map(|l| {
        let (k, v) = l.split_once(' ')?;
        (k == key).then(|| v.trim().parse().ok()).flatten()
    })
}

/// Whether the cgroup `dir` holds no process (`cgroup.procs` empty or unreadable).
pub fn no_procs(dir: &Path) -> bool {
    read(&dir.join("cgroup.procs")).is_none_or(|s| s.trim().is_empty())
}

/// The pids in `dir`'s `cgroup.procs`.
pub fn procs(dir: &Path) -> Vec<u32> {
    read(&dir.join("cgroup.procs"))
        .unwrap_or_default()
        .lines()
        .filter_map(|l| l.trim().parse().ok())
        .collect()
}

/// `mkdir -p` of a parent directory, each level with mode 0755; only the levels that were
/// missing are created.
pub fn make_parents(dir: &Path) -> io::Result<()> {
    match std::fs::create_dir(dir) {
        Ok(()) => Ok(()),
        Err(e) if e.kind() == io::ErrorKind::AlreadyExists => Ok(()),
        Err(e) if e.kind() == io::ErrorKind::NotFound => {
            let up = dir.parent().ok_or(e)?;
            make_parents(up)?;
            match std::fs::create_dir(dir) {
                Err(e) if e.kind() != io::ErrorKind::AlreadyExists => Err(e),
                _ => Ok(()),
            }
        }
        Err(e) => Err(e),
    }
}

/// Removes the (empty) cgroup `dir`, retrying while it still has tasks (EBUSY: processes that
/// were killed but are not fully gone) for up to `patience`. A missing `dir` is success.
pub fn remove(dir: &Path, patience: Duration) -> io::Result<()> {
    let deadline = Instant::now() + patience;
    let mut pause = Duration::from_micros(200);
    loop {
        match std::fs::remove_dir(dir) {
            Ok(()) => return Ok(()),
            Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(()),
            Err(e) if e.raw_os_error() == Some(libc::EBUSY) && Instant::now() < deadline => {
                std::thread::sleep(pause);
                pause = (pause * 2).min(Duration::from_millis(20));
            }
            Err(e) => return Err(e),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn flat_keyed_files() {
        let events = "low 0\nhigh 0\nmax 12\noom 3\noom_kill 2\noom_group_kill 0\n";
        assert_eq!(keyed(events, "oom_kill"), Some(2));
        assert_eq!(keyed(events, "oom"), Some(3));
        assert_eq!(keyed(events, "missing"), None);
        let v1 = "oom_kill_disable 0\nunder_oom 0\noom_kill 1\n";
        assert_eq!(keyed(v1, "oom_kill"), Some(1));
    }

    #[test]
    fn numbers_and_unlimited_values() {
        let dir = std::env::temp_dir().join(format!("nucleus-fs-test-{}", std::process::id()));
        make_parents(&dir.join("a/b")).unwrap();
        for (text, want) in [
            ("max\n", Some(None)),
            ("1024\n", Some(Some(1024))),
            ("9223372036854771712\n", Some(None)),
            ("junk\n", None),
        ] {
            write(&dir.join("n"), text).unwrap();
            assert_eq!(read_number(&dir.join("n")), want, "{text:?}");
        }
        assert!(no_procs(&dir.join("a")));
        write(&dir.join("a/cgroup.procs"), "12\n34\n").unwrap();
        assert_eq!(procs(&dir.join("a")), [12, 34]);
        assert!(!no_procs(&dir.join("a")));
        remove(&dir.join("a/b"), Duration::ZERO).unwrap();
        remove(&dir.join("a/b"), Duration::ZERO).unwrap();
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
