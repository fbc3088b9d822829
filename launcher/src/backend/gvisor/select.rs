//! Which backend runs a sandbox: `--runtime native|gvisor|auto`, `--trust`, and gVisor's
//! platform. Validated with the rest of the configuration, before anything starts.

use std::path::PathBuf;

use super::cli::RuntimeArgs;
use super::runsc;
use crate::error::Error;

/// gVisor's way of running the sandboxed code on the host (`runsc --platform`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Platform {
    Ptrace,
    Systrap,
    Kvm,
}

impl Platform {
    pub const ALL: [Platform; 3] = [Platform::Systrap, Platform::Ptrace, Platform::Kvm];

    pub fn name(self) -> &'static str {
        match self {
            Platform::Ptrace => "ptrace",
            Platform::Systrap => "systrap",
            Platform::Kvm => "kvm",
        }
    }

    pub fn parse(raw: &str) -> Option<Platform> {
        Platform::ALL.into_iter().find(|p| p.name() == raw)
    }
}

/// The gVisor backend's settings.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Gvisor {
    /// `--gvisor-platform`; None: the best one runsc has and the host can run.
    pub platform: Option<Platform>,
    /// `--gvisor-export DIR`: write the bundle there instead of running.
    pub export: Option<PathBuf>,
}

#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub enum Runtime {
    #[default]
    Native,
    Gvisor(Gvisor),
}

/// Validates the backend options. `auto` looks for runsc (`NUCLEUS_RUNSC`, else `PATH`, read
/// through `env`); nothing else touches the host.
/// `detached` is `run -d`, which only the native backend does.
pub fn resolve(
    a: &RuntimeArgs,
    detached: bool,
    env: impl Fn(&str) -> Option<String>,
) -> Result<Runtime, Error> {
    let platform = a.platform.as_deref().map(|p| {
        Platform::parse(p).ok_or_else(|| {
            Error::usage(format!(
                "--gvisor-platform {p:?}: expected ptrace, systrap or kvm"
            ))
        })
    });
    let platform = platform.transpose()?;
    let untrusted = match a.trust.as_deref() {
        None | Some("untrusted") => true,
        Some("trusted") => false,
        Some(other) => {
            return Err(Error::usage(format!(
                "--trust {other:?}: expected trusted or untrusted"
            )));
        }
    };
    // --trust alone asks for the choice it implies.
    let runtime = match (a.runtime.as_deref(), &a.trust) {
        (Some(r), _) => r,
        (None, Some(_)) => "auto",
        (None, None) => "native",
    };
    let gvisor = match runtime {
        "native" => false,
        "gvisor" => true,
        "auto" if !untrusted => false,
        "auto" => match runsc::find(&env) {
            Ok(_) => true,
            Err(e) => {
                tracing::warn!(
                    "--runtime auto: the workload is untrusted but gVisor is not available ({e}); running on the native backend"
                );
                false
            }
        },
        other => {
            return Err(Error::usage(format!(
                "--runtime {other:?}: expected native, gvisor or auto"
            )));
        }
    };
    if a.export.is_some() && runtime != "gvisor" {
        return Err(Error::usage("--gvisor-export needs --runtime gvisor"));
    }
    if platform.is_some() && runtime == "native" {
        return Err(Error::usage(
            "--gvisor-platform applies to --runtime gvisor (or auto), not to the native backend",
        ));
    }
    if !gvisor {
        return Ok(Runtime::Native);
    }
    if detached {
        return Err(Error::usage(
            "-d: not available with --runtime gvisor: runsc runs in the launcher's foreground",
        ));
    }
    let export = match a.export.as_deref() {
        Some("") => return Err(Error::usage("--gvisor-export: empty directory name")),
        Some(d) => Some(PathBuf::from(d)),
        None => None,
    };
    Ok(Runtime::Gvisor(Gvisor { platform, export }))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn args(runtime: Option<&str>, trust: Option<&str>) -> RuntimeArgs {
        RuntimeArgs {
            runtime: runtime.map(str::to_owned),
            trust: trust.map(str::to_owned),
            ..RuntimeArgs::default()
        }
    }

    fn with_runsc(var: &str) -> Option<String> {
        // The test binary itself stands in for an installed runsc.
        (var == "NUCLEUS_RUNSC").then(|| std::env::current_exe().unwrap().display().to_string())
    }

    fn without_runsc(var: &str) -> Option<String> {
        (var == "NUCLEUS_RUNSC").then(|| "/nonexistent/runsc".to_owned())
    }

    fn resolve_(a: &RuntimeArgs, env: fn(&str) -> Option<String>) -> Result<Runtime, Error> {
        resolve(a, false, env)
    }

    fn is_gvisor(r: Runtime) -> bool {
        matches!(r, Runtime::Gvisor(_))
    }

    #[test]
    fn native_is_the_default_and_auto_follows_trust() {
        assert_eq!(
            resolve_(&args(None, None), with_runsc).unwrap(),
            Runtime::Native
        );
        assert!(is_gvisor(
            resolve_(&args(Some("gvisor"), None), without_runsc).unwrap()
        ));
        assert!(is_gvisor(
            resolve_(&args(Some("auto"), None), with_runsc).unwrap()
        ));
        assert!(is_gvisor(
            resolve_(&args(None, Some("untrusted")), with_runsc).unwrap()
        ));
        assert!(is_gvisor(
            resolve_(&args(Some("auto"), Some("untrusted")), with_runsc).unwrap()
        ));
        assert_eq!(
            resolve_(&args(Some("auto"), Some("trusted")), with_runsc).unwrap(),
            Runtime::Native
        );
        // Untrusted, but no runsc: native (with a warning).
        assert_eq!(
            resolve_(&args(Some("auto"), Some("untrusted")), without_runsc).unwrap(),
            Runtime::Native
        );
        // An explicit choice wins over --trust.
        assert_eq!(
            resolve_(&args(Some("native"), Some("untrusted")), with_runsc).unwrap(),
            Runtime::Native
        );
    }

    #[test]
    fn gvisor_options_need_gvisor() {
        let mut a = args(None, None);
        a.platform = Some("ptrace".into());
        let e = resolve_(&a, with_runsc).unwrap_err().to_string();
        assert!(e.starts_with("--gvisor-platform"), "{e}");
        a.runtime = Some("gvisor".into());
        assert_eq!(
            resolve_(&a, with_runsc).unwrap(),
            Runtime::Gvisor(Gvisor {
                platform: Some(Platform::Ptrace),
                export: None
            })
        );
        let mut a = args(Some("auto"), None);
        a.export = Some("/tmp/x".into());
        let e = resolve_(&a, with_runsc).unwrap_err().to_string();
        assert!(e.starts_with("--gvisor-export"), "{e}");
        let e = resolve(&args(Some("gvisor"), None), true, with_runsc)
            .unwrap_err()
            .to_string();
        assert!(e.starts_with("-d: "), "{e}");
    }
}
