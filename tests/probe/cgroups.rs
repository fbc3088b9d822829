//! Verbs that press against resource limits, always bounded so that a limit that failed to
//! apply cannot hurt the host: `forkbomb` stops at its own maximum, `hog` at its size, `spin`
//! after its time.

use std::io::{self, Write};
use std::process::ExitCode;
use std::time::{Duration, Instant};

use crate::files::errno_name;
use crate::sys;

type Verb = io::Result<ExitCode>;

/// Most children `forkbomb` makes, whatever the limit.
const MAX_CHILDREN: u32 = 500;

/// Forks sleeping children until fork fails or `max` (at most 500) live at once; prints
/// `forked=N` and `error=ERRNO` (or `error=none`), then kills and reaps them all.
pub fn forkbomb(max: u32) -> Verb {
    let max = max.min(MAX_CHILDREN);
    let mut children = Vec::new();
    let mut error = "none".to_owned();
    while children.len() < max as usize {
        match sys::fork_sleeper(Duration::from_secs(30)) {
            Ok(pid) => children.push(pid),
            Err(e) => {
                error = errno_name(&e);
                break;
            }
        }
    }
    println!("forked={}", children.len());
    println!("error={error}");
    io::stdout().flush()?;
    sys::kill_and_reap(&children);
    Ok(ExitCode::SUCCESS)
}

/// Allocates and touches `mib` MiB, one MiB at a time; prints `allocated=MIB` if it lives.
pub fn hog(mib: u64) -> Verb {
    let mut held: Vec<Vec<u8>> = Vec::new();
    for _ in 0..mib {
        // Non-zero, so every page is written (and charged).
        held.push(vec![0x5a; 1 << 20]);
    }
    println!("allocated={}", held.len());
    Ok(ExitCode::SUCCESS)
}

/// Prints `ready`, waits 300 ms, allocates and touches `mib` MiB, prints `held=MIB`, then
/// sleeps `secs` holding it (for `stats` before and after).
pub fn hold(mib: u64, secs: u64) -> Verb {
    println!("ready");
    io::stdout().flush()?;
    std::thread::sleep(Duration::from_millis(300));
    let held: Vec<Vec<u8>> = (0..mib).map(|_| vec![0x5a; 1 << 20]).collect();
    println!("held={}", held.len());
    io::stdout().flush()?;
    std::thread::sleep(Duration::from_secs(secs));
    drop(held);
    Ok(ExitCode::SUCCESS)
}

/// The probe's CPU time so far in nanoseconds, from /proc/self/schedstat (else
/// /proc/self/stat's utime + stime, in 10 ms ticks).
fn cpu_ns() -> io::Result<u64> {
    if let Ok(s) = std::fs::read_to_string("/proc/self/schedstat")
        && let Some(ns) = s.split_whitespace().next().and_then(|n| n.parse().ok())
    {
        return Ok(ns);
    }
    let stat = std::fs::read_to_string("/proc/self/stat")?;
    let after = &stat[stat.rfind(')').map_or(0, |i| i + 1)..];
    let f: Vec<u64> = after
        .split_whitespace()
        .skip(11)
        .take(2)
        .filter_map(|v| v.parse().ok())
        .collect();
    Ok(f.iter().sum::<u64>() * 10_000_000)
}

/// Spins on one CPU for `millis` of wall time; prints `cpu_ms=` and `wall_ms=`.
pub fn spin(millis: u64) -> Verb {
    let start = Instant::now();
    let cpu0 = cpu_ns()?;
    let mut x: u64 = 1;
    while start.elapsed() < Duration::from_millis(millis) {
        for _ in 0..10_000 {
            x = x.wrapping_mul(6_364_136_223_846_793_005).wrapping_add(1);
        }
        std::hint::black_box(x);
    }
    let cpu = cpu_ns()? - cpu0;
    println!("cpu_ms={}", cpu / 1_000_000);
    println!("wall_ms={}", start.elapsed().as_millis());
    Ok(ExitCode::SUCCESS)
}

/// Makes the character device MAJOR:MINOR at `path` (needs CAP_MKNOD), then opens it for
/// reading (and closes it at once); prints `mknod=` and `open=` (`ok` or the errno).
pub fn mknod_open(path: &str, major: u32, minor: u32) -> Verb {
    let made = sys::mknod_char(path, major, minor);
    println!(
        "mknod={}",
        made.as_ref().map_or_else(errno_name, |_| "ok".to_owned())
    );
    if made.is_ok() {
        let opened = std::fs::File::open(path);
        println!(
            "open={}",
            opened.as_ref().map_or_else(errno_name, |_| "ok".to_owned())
        );
    }
    Ok(ExitCode::SUCCESS)
}
