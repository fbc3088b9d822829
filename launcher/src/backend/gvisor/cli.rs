//! The command line of backend selection: `--runtime`, `--gvisor-platform`, `--trust` and
//! `--gvisor-export`. Values stay strings here; `select` validates them.

use clap::{Arg, ArgMatches};

/// What `run` was given about the backend, before validation.
#[derive(Debug, Default, Clone)]
pub struct RuntimeArgs {
    pub runtime: Option<String>,
    pub platform: Option<String>,
    pub trust: Option<String>,
    pub export: Option<String>,
}

/// The options `run` adds for choosing and tuning the backend.
pub fn run_args() -> Vec<Arg> {
    vec![
        Arg::new("runtime").long("runtime").value_name("native|gvisor|auto")
            .value_parser(["native", "gvisor", "auto"])
            .help("The backend: native (default), gvisor (runsc: the workload runs on gVisor's application kernel), auto (gvisor for --trust untrusted when runsc is installed)"),
        Arg::new("gvisor-platform").long("gvisor-platform").value_name("ptrace|systrap|kvm")
            .value_parser(["ptrace", "systrap", "kvm"])
            .help("gVisor's platform (default: systrap when runsc has it, else ptrace; kvm only when asked for)"),
        Arg::new("trust").long("trust").value_name("trusted|untrusted")
            .value_parser(["trusted", "untrusted"])
            .help("How far the workload is trusted, for --runtime auto (default with auto: untrusted); alone it implies --runtime auto"),
        Arg::new("gvisor-export").long("gvisor-export").value_name("DIR")
            .help("With --runtime gvisor: write the OCI bundle and runsc's arguments into DIR (new or empty) and exit instead of running"),
    ]
}

pub fn from_matches(m: &ArgMatches) -> RuntimeArgs {
    let one = |id: &str| m.get_one::<String>(id).cloned();
    RuntimeArgs {
        runtime: one("runtime"),
        platform: one("gvisor-platform"),
        trust: one("trust"),
        export: one("gvisor-export"),
    }
}
