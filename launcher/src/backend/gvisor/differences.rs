//! What the gVisor backend cannot do as the native one does, said before anything starts:
//! options it cannot honour at all are refused (exit 125, one line naming the option), and
//! protections it enforces differently are reported at the enforcement report's levels. The
//! expected differences of a running sandbox are tabled in docs/gvisor-differences.md, which
//! the end-to-end tests check against.

use crate::config::Config;
use crate::enforcement::Level;
use crate::error::Error;
use crate::seccomp::watch::Mode;

/// Refuses options the gVisor backend cannot honour.
pub fn refuse(cfg: &Config) -> Result<(), Error> {
    let no = |what: &str, why: &str| {
        Err(Error::usage(format!(
            "{what}: not available with --runtime gvisor: {why}"
        )))
    };
    match &cfg.seccomp_watch {
        Some(Mode::Trace(_)) => {
            return no(
                "--seccomp-trace",
                "gVisor's kernel applies the filter itself and logs nothing to the host's audit log or /dev/kmsg",
            );
        }
        Some(Mode::LogDenied) => {
            return no(
                "--seccomp-log-denied",
                "gVisor's kernel applies the filter itself and logs nothing to the host's audit log or /dev/kmsg",
            );
        }
        None => {}
    }
    if cfg.landlock.require {
        return no(
            "--landlock-require",
            "gVisor's kernel has no Landlock (it answers ENOSYS), so none of it can be enforced",
        );
    }
    if let Some(ns) = &cfg.userns {
        return if ns.rootless {
            Err(Error::usage(
                "--runtime gvisor needs root: an unprivileged caller's sandbox needs a user namespace, which nucleus does not give runsc",
            ))
        } else {
            no(
                "--userns",
                "gVisor's kernel keeps ids of its own, and its gofer writes files on volumes as those ids",
            )
        };
    }
    if cfg.terminal {
        return no("-t", "no terminal is relayed to runsc yet");
    }
    if cfg.await_start || cfg.cgroup.detached {
        return no(
            "create/start and detached sandboxes",
            "runsc runs in the foreground of the launcher",
        );
    }
    Ok(())
}

/// The report lines for what runs, each with its level: Landlock, and the seccomp policy as
/// runsc enforces it (`seccomp_notes`, from `seccomp::for_runsc`).
pub fn report(cfg: &Config, seccomp_notes: &[String]) -> Vec<(Level, String)> {
    let mut lines = Vec::new();
    let ll = &cfg.landlock;
    if ll.enabled {
        let named = !ll.paths.is_empty() || !ll.bind.is_empty() || !ll.connect.is_empty();
        lines.push((
            Level::of(named, true),
            "Landlock: not enforced: gVisor's kernel has no Landlock (the workload sees only the sandbox's own mounts, served by gVisor)".to_owned(),
        ));
    }
    if !seccomp_notes.is_empty() {
        let named = !matches!(cfg.seccomp, crate::seccomp::Choice::Default);
        lines.push((
            Level::of(named, true),
            format!(
                "seccomp: enforced by gVisor's kernel, with differences: {}",
                seccomp_notes.join("; ")
            ),
        ));
    }
    lines
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cli::RunArgs;

    fn config(extra: impl FnOnce(&mut RunArgs)) -> Result<Config, Error> {
        let mut a = RunArgs {
            network: "none".into(),
            command: vec!["true".into()],
            ..Default::default()
        };
        extra(&mut a);
        Config::from_args(a, |_| None)
    }

    fn refusal(extra: impl FnOnce(&mut RunArgs)) -> String {
        let cfg = config(extra).unwrap();
        refuse(&cfg).unwrap_err().to_string()
    }

    #[test]
    fn what_gvisor_cannot_do_is_refused_naming_the_option() {
        assert!(refuse(&config(|_| {}).unwrap()).is_ok());
        let e = refusal(|a| a.landlock_require = true);
        assert!(
            e.starts_with("--landlock-require: not available with --runtime gvisor"),
            "{e}"
        );
        let e = refusal(|a| a.seccomp_log_denied = true);
        assert!(e.starts_with("--seccomp-log-denied: "), "{e}");
        let e = refusal(|a| a.seccomp_trace = Some("/tmp/t.ndjson".into()));
        assert!(e.starts_with("--seccomp-trace: "), "{e}");
        if rustix::process::geteuid().is_root() {
            let e = refusal(|a| a.userns = Some("auto".into()));
            assert!(e.starts_with("--userns: "), "{e}");
        }
    }

    #[test]
    fn landlock_is_reported_louder_when_named() {
        let cfg = config(|_| {}).unwrap();
        let lines = report(&cfg, &[]);
        assert_eq!(lines.len(), 1);
        assert_eq!(lines[0].0, Level::Info);
        assert!(lines[0].1.starts_with("Landlock: not enforced"));
        let cfg = config(|a| a.landlock_ro = vec!["/usr".into()]).unwrap();
        assert_eq!(report(&cfg, &[])[0].0, Level::Warn);
        let cfg = config(|a| a.landlock = Some("off".into())).unwrap();
        assert!(report(&cfg, &[]).is_empty());
        let notes = vec!["runsc answers EPERM ...".to_owned()];
        let lines = report(&cfg, &notes);
        assert_eq!(lines[0].0, Level::Info);
        assert!(
            lines[0]
                .1
                .starts_with("seccomp: enforced by gVisor's kernel")
        );
    }
}
