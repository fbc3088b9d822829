//! What the host sees: its mounts and its processes, for "nothing left behind" checks.

use std::time::{Duration, Instant};

/// Mount points of the test's own (the host's) mount namespace.
pub fn host_mount_points() -> Vec<String> {
    std::fs::read_to_string("/proc/self/mountinfo")
        .expect("reading the host's mountinfo")
        .lines()
        .filter_map(|l| l.split(' ').nth(4).map(str::to_owned))
        .collect()
}

pub fn host_mount_count() -> usize {
    host_mount_points().len()
}

/// None while the host's mount count equals `before`'s, else what was added and removed (other
/// software on the machine may mount too: the message shows whether it was us).
pub fn host_mounts_changed(before: &[String]) -> Option<String> {
    let now = host_mount_points();
    if now.len() == before.len() {
        return None;
    }
    let added: Vec<&String> = now.iter().filter(|m| !before.contains(m)).collect();
    let removed: Vec<&String> = before.iter().filter(|m| !now.contains(m)).collect();
    Some(format!(
        "host mounts went from {} to {}: added {added:?}, removed {removed:?}",
        before.len(),
        now.len()
    ))
}

/// Host pids whose command line contains `marker`.
pub fn processes_with(marker: &str) -> Vec<u32> {
    let Ok(dir) = std::fs::read_dir("/proc") else {
        return Vec::new();
    };
    dir.filter_map(|e| e.ok()?.file_name().to_str()?.parse::<u32>().ok())
        .filter(|pid| {
            std::fs::read(format!("/proc/{pid}/cmdline")).is_ok_and(|c| {
                String::from_utf8_lossy(&c)
                    .replace('\0', " ")
                    .contains(marker)
            })
        })
        .collect()
}

/// Polls `cond` every 10 ms until it holds (true) or `timeout` passes (false).
pub fn wait_until(timeout: Duration, mut cond: impl FnMut() -> bool) -> bool {
    let deadline = Instant::now() + timeout;
    loop {
        if cond() {
            return true;
        }
        if Instant::now() >= deadline {
            return false;
        }
        std::thread::sleep(Duration::from_millis(10));
    }
}

/// Whether process `pid` exists and is not a zombie.
pub fn alive(pid: u64) -> bool {
    std::fs::read_to_string(format!("/proc/{pid}/stat")).is_ok_and(|s| {
        !s.rsplit(')')
            .next()
            .unwrap_or("")
            .trim_start()
            .starts_with('Z')
    })
}
