//! gVisor from inside: recognising its kernel (for the probe's safety check, since under
//! `--runtime gvisor` no nucleus-init runs and the probe is PID 1) and the `kernel` verb,
//! which shows what kernel the workload sees.

use std::io;
use std::process::ExitCode;

/// The fixed `uname -v` of gVisor's kernel (pkg/sentry/kernel's version), which ends its
/// `/proc/version`.
const GVISOR_UTS_VERSION: &str = "#1 SMP Sun Jan 10 15:06:54 PST 2016";

/// `/proc/version`: `Linux version RELEASE ... VERSION` (readable in every sandbox).
fn proc_version() -> String {
    std::fs::read_to_string("/proc/version")
        .unwrap_or_default()
        .trim_end()
        .to_owned()
}

/// Whether this process runs on gVisor's kernel: uname(2) says so (a bind-mounted
/// `/proc/version` cannot make a host look like gVisor).
pub fn on_gvisor() -> bool {
    crate::sys::uname_version() == GVISOR_UTS_VERSION
}

/// `kernel`: prints `version=` (/proc/version) and `dmesg=FIRST LINE` (or the errno of reading
/// the kernel log, which seccomp or the lack of CAP_SYSLOG may refuse).
pub fn kernel() -> io::Result<ExitCode> {
    println!("version={}", proc_version());
    match crate::sys::read_kernel_log() {
        Ok(log) => println!("dmesg={}", log.lines().next().unwrap_or("")),
        Err(e) => println!("dmesg={}", crate::files::errno_name(&e)),
    }
    Ok(ExitCode::SUCCESS)
}
