//! Reading and writing cgroup files, and making and removing cgroup directories.

use std::io::{self, Write};
use std::path::{Path, PathBuf};
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

/// `mkdir -p` that says what it made: the levels of `dir` that were missing and were created
/// here, top-down (a level another process creates meanwhile is not counted).
pub fn make_dirs(dir: &Path) -> io::Result<Vec<PathBuf>> {
    let mut missing: Vec<&Path> = Vec::new();
    let mut at = dir;
    while !at.is_dir() {
        missing.push(at);
        at = match at.parent() {
            Some(up) => up,
            None => break,
        };
    }
    let mut made = Vec::new();
    for d in missing.into_iter().rev() {
        match std::fs::create_dir(d) {
            Ok(()) => made.push(d.to_path_buf()),
            Err(e) if e.kind() == io::ErrorKind::AlreadyExists && d.is_dir() => {}
            Err(e) => return Err(e),
        }
    }
    Ok(made)
}

/// The cgroups below `dir` (not `dir` itself), each before its own children.
pub fn descendants(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    let mut todo = vec![dir.to_path_buf()];
    while let Some(d) = todo.pop() {
        let Ok(entries) = std::fs::read_dir(&d) else {
            continue;
        };
        for e in entries.flatten() {
            // cgroup file systems hold no symlinks; a fixture's would not be followed either.
            if e.file_type().is_ok_and(|t| t.is_dir()) {
                out.push(e.path());
                todo.push(e.path());
            }
        }
    }
    out
}

/// The pids in `dir` and every cgroup below it (a sandbox may make cgroups of its own).
pub fn procs_tree(dir: &Path) -> Vec<u32> {
    let mut pids = procs(dir);
    for d in descendants(dir) {
        pids.extend(procs(&d));
    }
    pids.sort_unstable();
    pids.dedup();
    pids
}

/// Removes `dir` and the cgroups below it, deepest first (see [`remove`]).
pub fn remove_tree(dir: &Path, patience: Duration) -> io::Result<()> {
    let mut below = descendants(dir);
    // Deeper paths are longer than their ancestors: longest first removes children first.
    below.sort_by_key(|p| std::cmp::Reverse(p.as_os_str().len()));
    for d in below {
        remove(&d, patience)?;
    }
    remove(dir, patience)
}

/// Whether `path` is on a cgroup file system (v1 or v2).
pub fn on_cgroupfs(path: &Path) -> bool {
    const CGROUP_SUPER_MAGIC: u64 = 0x0027_e0eb;
    const CGROUP2_SUPER_MAGIC: u64 = 0x6367_7270;
    rustix::fs::statfs(path)
        .is_ok_and(|s| matches!(s.f_type as u64, CGROUP_SUPER_MAGIC | CGROUP2_SUPER_MAGIC))
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
        assert!(procs(&dir.join("a")).is_empty());
        write(&dir.join("a/cgroup.procs"), "12\n34\n").unwrap();
        write(&dir.join("a/b/cgroup.procs"), "56\n12\n").unwrap();
        assert_eq!(procs(&dir.join("a")), [12, 34]);
        assert_eq!(procs_tree(&dir.join("a")), [12, 34, 56]);
        assert_eq!(descendants(&dir.join("a")), [dir.join("a/b")]);
        std::fs::remove_file(dir.join("a/b/cgroup.procs")).unwrap();
        remove(&dir.join("a/b"), Duration::ZERO).unwrap();
        remove(&dir.join("a/b"), Duration::ZERO).unwrap();
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn make_dirs_says_what_it_made() {
        let dir = std::env::temp_dir().join(format!("nucleus-fs-dirs-{}", std::process::id()));
        std::fs::create_dir_all(dir.join("there")).unwrap();
        let made = make_dirs(&dir.join("there/a/b")).unwrap();
        assert_eq!(made, [dir.join("there/a"), dir.join("there/a/b")]);
        assert_eq!(
            make_dirs(&dir.join("there/a/b")).unwrap(),
            Vec::<PathBuf>::new()
        );
        std::fs::write(dir.join("file"), "").unwrap();
        assert!(make_dirs(&dir.join("file/x")).is_err());
        assert!(make_dirs(&dir.join("file")).is_err());
        std::fs::create_dir_all(dir.join("there/a/b/c/d")).unwrap();
        remove_tree(&dir.join("there/a"), Duration::ZERO).unwrap();
        assert!(!dir.join("there/a").exists());
        assert!(!on_cgroupfs(&dir));
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
