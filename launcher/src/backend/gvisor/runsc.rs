//! Finding runsc, what it offers (version, platforms), and its command lines.
//!
//! Asking runsc for its version and platforms costs two starts of a 20 MiB Go program (about
//! 25 ms each), far more than nucleus adds to a sandbox's start. The answers are kept in a
//! small cache file beside the sandboxes' run directories, keyed by the binary's identity
//! (device, inode, size, modification time), so an upgraded runsc is asked again.

use std::ffi::OsString;
use std::os::unix::fs::MetadataExt;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use serde_json::{Value, json};

use super::select::Platform;
use crate::config::Network;
use crate::error::Error;

/// The variable naming runsc's path, before `PATH` is searched.
pub const ENV: &str = "NUCLEUS_RUNSC";

/// runsc's path: `NUCLEUS_RUNSC`, else the first `runsc` on `PATH` (both read through `env`).
pub fn find(env: &impl Fn(&str) -> Option<String>) -> Result<PathBuf, Error> {
    if let Some(p) = env(ENV).filter(|p| !p.is_empty()) {
        let path = PathBuf::from(&p);
        return match std::fs::metadata(&path) {
            Ok(m) if m.is_file() && m.mode() & 0o111 != 0 => Ok(path),
            Ok(_) => Err(Error::runtime(format!(
                "gVisor: {ENV}={p} is not an executable file"
            ))),
            Err(e) => Err(Error::io(format!("gVisor: runsc not found: {ENV}={p}"), e)),
        };
    }
    let path = env("PATH").unwrap_or_default();
    std::env::split_paths(&path)
        .map(|d| d.join("runsc"))
        .find(|f| {
            std::fs::metadata(f).is_ok_and(|m| m.is_file() && m.mode() & 0o111 != 0)
        })
        .ok_or_else(|| {
            Error::runtime(format!(
                "gVisor: runsc not found on PATH ({path}); install gVisor (Debian: apt install runsc) or set {ENV}"
            ))
        })
}

/// What an installed runsc offers.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Info {
    pub path: PathBuf,
    /// `0.0~20221219.0` (from `runsc --version`).
    pub version: String,
    pub platforms: Vec<Platform>,
}

impl Info {
    pub fn has(&self, p: Platform) -> bool {
        self.platforms.contains(&p)
    }

    /// The runsc at `path`: from the cache in `cache_dir` when it is the same binary, else by
    /// asking it (and remembering the answer when `cache_dir` is given).
    pub fn load(path: &Path, cache_dir: Option<&Path>) -> Result<Info, Error> {
        let meta = std::fs::metadata(path)
            .map_err(|e| Error::io(format!("gVisor: {}", path.display()), e))?;
        let key = identity(path, &meta);
        let cache = cache_dir.map(|d| d.join("runsc-info.json"));
        if let Some(info) = cache.as_deref().and_then(|c| cached(c, &key, path)) {
            return Ok(info);
        }
        let info = ask(path)?;
        if let Some(c) = &cache {
            let entry = json!({
                "key": key,
                "version": info.version,
                "platforms": info.platforms.iter().map(|p| p.name()).collect::<Vec<_>>(),
            });
            // Best effort: without the cache, the next start asks again.
            let tmp = c.with_extension(format!("tmp{}", std::process::id()));
            if std::fs::write(&tmp, entry.to_string()).is_ok() {
                let _ = std::fs::rename(&tmp, c);
            }
        }
        Ok(info)
    }
}

fn identity(path: &Path, m: &std::fs::Metadata) -> Value {
    json!({
        "path": path.display().to_string(),
        "dev": m.dev(),
        "ino": m.ino(),
        "size": m.size(),
        "mtime": [m.mtime(), m.mtime_nsec()],
    })
}

fn cached(file: &Path, key: &Value, path: &Path) -> Option<Info> {
    let v: Value = serde_json::from_str(&std::fs::read_to_string(file).ok()?).ok()?;
    if v.get("key")? != key {
        return None;
    }
    Some(Info {
        path: path.to_owned(),
        version: v.get("version")?.as_str()?.to_owned(),
        platforms: v
            .get("platforms")?
            .as_array()?
            .iter()
            .filter_map(|p| Platform::parse(p.as_str()?))
            .collect(),
    })
}

fn output(path: &Path, args: &[&str]) -> Result<String, Error> {
    let out = Command::new(path)
        .args(args)
        .stdin(Stdio::null())
        .stderr(Stdio::null())
        .output()
        .map_err(|e| Error::io(format!("gVisor: running {}", path.display()), e))?;
    if !out.status.success() {
        return Err(Error::runtime(format!(
            "gVisor: {} {} failed ({})",
            path.display(),
            args.join(" "),
            out.status
        )));
    }
    Ok(String::from_utf8_lossy(&out.stdout).into_owned())
}

fn ask(path: &Path) -> Result<Info, Error> {
    let version = parse_version(&output(path, &["--version"])?).unwrap_or_else(|| "?".into());
    let platforms = parse_platforms(&output(path, &["help", "platforms"])?);
    Ok(Info {
        path: path.to_owned(),
        version,
        platforms,
    })
}

/// `runsc version 0.0~20221219.0` (first line) -> `0.0~20221219.0`.
pub fn parse_version(text: &str) -> Option<String> {
    let first = text.lines().next()?;
    Some(first.strip_prefix("runsc version ")?.trim().to_owned())
}

/// One platform name per line (`runsc help platforms`); unknown names are skipped.
pub fn parse_platforms(text: &str) -> Vec<Platform> {
    text.lines()
        .filter_map(|l| Platform::parse(l.trim()))
        .collect()
}

/// Whether this host lets the ptrace platform work: Yama's scope 3 forbids ptrace outright.
fn ptrace_allowed() -> bool {
    std::fs::read_to_string("/proc/sys/kernel/yama/ptrace_scope").map_or(true, |s| s.trim() != "3")
}

/// Why `p` cannot run here as far as can be told without starting it; None if it can.
pub fn unusable(info: &Info, p: Platform) -> Option<String> {
    if !info.has(p) {
        let have: Vec<&str> = info.platforms.iter().map(|p| p.name()).collect();
        return Some(format!(
            "this runsc ({}) has no {} platform (it has: {})",
            info.version,
            p.name(),
            have.join(", ")
        ));
    }
    match p {
        Platform::Ptrace if !ptrace_allowed() => {
            Some("ptrace is disabled on this host (kernel.yama.ptrace_scope = 3)".into())
        }
        Platform::Kvm if !Path::new("/dev/kvm").exists() => {
            Some("/dev/kvm is missing (no KVM on this host)".into())
        }
        _ => None,
    }
}

/// The platform to use: `asked`, or the best one runsc has that this host can run. KVM is
/// never picked by itself: whether it works cannot be told without starting a sandbox, and
/// under nested virtualisation a start can hang instead of failing.
pub fn platform(info: &Info, asked: Option<Platform>) -> Result<Platform, Error> {
    if let Some(p) = asked {
        return match unusable(info, p) {
            None => Ok(p),
            Some(why) => Err(Error::usage(format!(
                "--gvisor-platform {}: {why}",
                p.name()
            ))),
        };
    }
    [Platform::Systrap, Platform::Ptrace]
        .into_iter()
        .find(|&p| unusable(info, p).is_none())
        .ok_or_else(|| {
            Error::runtime(format!(
                "gVisor: no platform of this runsc ({}) is usable here: {}; --gvisor-platform kvm may work if the host has KVM",
                info.version,
                unusable(info, Platform::Ptrace).unwrap_or_default()
            ))
        })
}

/// runsc's global flags for one sandbox.
#[derive(Debug, Clone)]
pub struct Flags<'a> {
    /// runsc's state directory (`--root`), private to this sandbox.
    pub state: &'a Path,
    pub platform: Platform,
    pub network: Network,
    /// Whether config.json has a seccomp profile for runsc to load.
    pub seccomp: bool,
    /// Where runsc writes its errors, as JSON lines.
    pub log: &'a Path,
    /// The workload keeps CAP_NET_RAW (runsc removes it otherwise).
    pub net_raw: bool,
}

impl Flags<'_> {
    pub fn args(&self) -> Vec<OsString> {
        let mut root = OsString::from("--root=");
        root.push(self.state);
        let mut log = OsString::from("--log=");
        log.push(self.log);
        let mut args = vec![
            root,
            format!("--platform={}", self.platform.name()).into(),
            // none: gVisor's own network stack with only loopback; host: the host's network.
            match self.network {
                Network::None => "--network=none".into(),
                Network::Host => "--network=host".into(),
            },
            log,
            "--log-format=json".into(),
            // nucleus has made the sandbox's cgroups and starts runsc in them. Left to itself
            // runsc would make `/ID` at the root of every hierarchy, outside nucleus's parent,
            // and move its processes there by pid (6-13 ms per v1 hierarchy).
            "--ignore-cgroups".into(),
        ];
        if self.seccomp {
            // Without it runsc ignores config.json's linux.seccomp.
            args.push("--oci-seccomp".into());
        }
        if self.net_raw {
            args.push("--net-raw".into());
        }
        args
    }
}

/// `runsc FLAGS run --bundle BUNDLE ID`, as arguments after the program.
pub fn run_args(flags: &Flags<'_>, bundle: &Path, id: &str) -> Vec<OsString> {
    let mut args = flags.args();
    args.push("run".into());
    args.push("--bundle".into());
    args.push(bundle.into());
    args.push(id.into());
    args
}

/// `runsc FLAGS kill ID SIG`: relays `sig` to the workload (the container's first process).
pub fn kill(runsc: &Path, flags: &Flags<'_>, id: &str, sig: i32) -> Result<(), String> {
    let out = Command::new(runsc)
        .args(flags.args())
        .args(["kill", id, &sig.to_string()])
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .output()
        .map_err(|e| e.to_string())?;
    if out.status.success() {
        Ok(())
    } else {
        Err(String::from_utf8_lossy(&out.stderr).trim().to_owned())
    }
}

/// The last error runsc logged. Its `--log` file is a stream of JSON objects, not always one
/// per line (several processes write it, some without a newline), so it is read as a stream;
/// reading stops at the first thing that is not JSON.
pub fn last_error(log: &Path) -> Option<String> {
    let text = std::fs::read_to_string(log).ok()?;
    serde_json::Deserializer::from_str(&text)
        .into_iter::<Value>()
        .map_while(Result::ok)
        .filter(|v| v.get("level").and_then(Value::as_str) == Some("error"))
        .filter_map(|v| Some(v.get("msg")?.as_str()?.to_owned()))
        .last()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn info(platforms: &[Platform]) -> Info {
        Info {
            path: "/usr/bin/runsc".into(),
            version: "0.0~20221219.0".into(),
            platforms: platforms.to_vec(),
        }
    }

    #[test]
    fn parses_what_runsc_prints() {
        assert_eq!(
            parse_version("runsc version 0.0~20221219.0\nspec: 1.0.2-dev\n").as_deref(),
            Some("0.0~20221219.0")
        );
        assert_eq!(parse_version("something else"), None);
        assert_eq!(
            parse_platforms("ptrace\nkvm\n"),
            vec![Platform::Ptrace, Platform::Kvm]
        );
        assert_eq!(
            parse_platforms("systrap\nptrace\nkvm\nfuture\n"),
            vec![Platform::Systrap, Platform::Ptrace, Platform::Kvm]
        );
    }

    #[test]
    fn the_default_platform_is_never_kvm() {
        let old = info(&[Platform::Ptrace, Platform::Kvm]);
        let new = info(&[Platform::Systrap, Platform::Ptrace, Platform::Kvm]);
        if ptrace_allowed() {
            assert_eq!(platform(&old, None).unwrap(), Platform::Ptrace);
        }
        assert_eq!(platform(&new, None).unwrap(), Platform::Systrap);
        assert!(platform(&info(&[Platform::Kvm]), None).is_err());
        let e = platform(&old, Some(Platform::Systrap))
            .unwrap_err()
            .to_string();
        assert!(
            e.starts_with(
                "--gvisor-platform systrap: this runsc (0.0~20221219.0) has no systrap platform"
            ),
            "{e}"
        );
    }

    #[test]
    fn flags_name_everything_runsc_needs() {
        let f = Flags {
            state: Path::new("/run/x/state"),
            platform: Platform::Ptrace,
            network: Network::None,
            seccomp: true,
            log: Path::new("/run/x/runsc.log"),
            net_raw: false,
        };
        let args: Vec<String> = run_args(&f, Path::new("/run/x/bundle"), "box")
            .into_iter()
            .map(|a| a.into_string().unwrap())
            .collect();
        assert_eq!(
            args,
            [
                "--root=/run/x/state",
                "--platform=ptrace",
                "--network=none",
                "--log=/run/x/runsc.log",
                "--log-format=json",
                "--ignore-cgroups",
                "--oci-seccomp",
                "run",
                "--bundle",
                "/run/x/bundle",
                "box"
            ]
        );
    }

    #[test]
    fn the_last_logged_error_is_found() {
        let dir = std::env::temp_dir().join(format!("nucleus-runsc-log-{}", std::process::id()));
        std::fs::write(
            &dir,
            // Entries of several processes, not all ended by a newline.
            "{\"msg\":\"first\",\"level\":\"error\"}{\"msg\":\"note\",\"level\":\"warning\"}\n{\"msg\":\"failed to load /x: no such file or directory\",\"level\":\"error\",\"time\":\"t\"}",
        )
        .unwrap();
        assert_eq!(
            last_error(&dir).as_deref(),
            Some("failed to load /x: no such file or directory")
        );
        std::fs::remove_file(&dir).unwrap();
        assert_eq!(last_error(&dir), None);
    }
}
