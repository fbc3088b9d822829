//! `--policy FILE.json`: seccomp, Landlock, capabilities and rlimits in one declarative file,
//! optionally pinned by `--policy-sha256`. The file fills in what the command line leaves
//! open: lists (capabilities, rlimits, rules) add to those given as options, and a value
//! given as an option wins over the file's.
//!
//! ```json
//! {
//!   "seccomp": "default" | "unconfined" | "profile.json" | { an OCI linux.seccomp object },
//!   "seccompAllow": ["io_uring_setup"],
//!   "capabilities": { "add": ["NET_BIND_SERVICE"], "drop": ["ALL"] },
//!   "rlimits": { "nofile": "1024:4096", "core": 0 },
//!   "landlock": { "ro": ["/data"], "rw": ["/out"], "exec": ["/opt/bin"],
//!                 "bind": [8080], "connect": [443], "require": true, "enabled": true }
//! }
//! ```
//! A relative profile path is taken relative to the policy file. Unknown keys are errors:
//! a misspelt key must not silently leave a sandbox looser than its author meant.

use std::path::Path;

use serde_json::{Map, Value};
use sha2::{Digest, Sha256};

use crate::cli::RunArgs;
use crate::error::Error;

/// What a policy file adds to the command line.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct PolicyFile {
    /// A profile given inline, as JSON text.
    pub seccomp_inline: Option<String>,
    pub seccomp: Option<String>,
    pub seccomp_allow: Vec<String>,
    pub cap_add: Vec<String>,
    pub cap_drop: Vec<String>,
    pub ulimits: Vec<String>,
    pub landlock_ro: Vec<String>,
    pub landlock_rw: Vec<String>,
    pub landlock_exec: Vec<String>,
    pub landlock_bind: Vec<String>,
    pub landlock_connect: Vec<String>,
    pub landlock_require: bool,
    pub landlock_off: bool,
}

fn err(path: &Path, msg: impl std::fmt::Display) -> Error {
    Error::usage(format!("--policy {}: {msg}", path.display()))
}

/// Reads, checks the pin of, and parses a policy file.
pub fn load(path: &Path, sha256: Option<&str>) -> Result<PolicyFile, Error> {
    let bytes =
        std::fs::read(path).map_err(|e| Error::io(format!("--policy {}", path.display()), e))?;
    if let Some(want) = sha256 {
        let got: String = Sha256::digest(&bytes)
            .iter()
            .map(|b| format!("{b:02x}"))
            .collect();
        if !want.eq_ignore_ascii_case(&got) {
            return Err(err(
                path,
                format!("sha256 is {got}, not the pinned {want}; refusing to start"),
            ));
        }
    }
    let text = std::str::from_utf8(&bytes).map_err(|_| err(path, "not UTF-8"))?;
    parse(text, path.parent().unwrap_or(Path::new("."))).map_err(|m| err(path, m))
}

fn strings(v: &Value, key: &str) -> Result<Vec<String>, String> {
    let items = v
        .as_array()
        .ok_or_else(|| format!("{key}: expected a list"))?;
    items
        .iter()
        .enumerate()
        .map(|(i, x)| match x {
            Value::String(s) => Ok(s.clone()),
            Value::Number(n) => Ok(n.to_string()),
            _ => Err(format!("{key}[{i}]: expected a string or number")),
        })
        .collect()
}

fn object<'a>(v: &'a Value, key: &str, allowed: &[&str]) -> Result<&'a Map<String, Value>, String> {
    let m = v
        .as_object()
        .ok_or_else(|| format!("{key}: expected an object"))?;
    match m.keys().find(|k| !allowed.contains(&k.as_str())) {
        Some(k) => Err(format!(
            "{key}.{k}: unknown key (known: {})",
            allowed.join(", ")
        )),
        None => Ok(m),
    }
}

fn flag(v: &Value, key: &str) -> Result<bool, String> {
    v.as_bool()
        .ok_or_else(|| format!("{key}: expected true or false"))
}

pub fn parse(text: &str, base: &Path) -> Result<PolicyFile, String> {
    let root: Value = serde_json::from_str(text).map_err(|e| format!("malformed JSON: {e}"))?;
    let top = object(
        &root,
        "policy",
        &[
            "seccomp",
            "seccompAllow",
            "capabilities",
            "rlimits",
            "landlock",
        ],
    )?;
    let mut p = PolicyFile::default();
    for (key, v) in top {
        match key.as_str() {
            "seccomp" => match v {
                Value::String(s) if s == "default" || s == "unconfined" => p.seccomp = Some(s.clone()),
                Value::String(s) => p.seccomp = Some(base.join(s).display().to_string()),
                Value::Object(_) => p.seccomp_inline = Some(v.to_string()),
                _ => return Err("seccomp: expected \"default\", \"unconfined\", a file name or a profile object".into()),
            },
            "seccompAllow" => p.seccomp_allow = strings(v, key)?,
            "capabilities" => {
                let m = object(v, key, &["add", "drop"])?;
                if let Some(a) = m.get("add") {
                    p.cap_add = strings(a, "capabilities.add")?;
                }
                if let Some(d) = m.get("drop") {
                    p.cap_drop = strings(d, "capabilities.drop")?;
                }
            }
            "rlimits" => {
                let m = v.as_object().ok_or("rlimits: expected an object of NAME: \"SOFT[:HARD]\"")?;
                for (name, value) in m {
                    let value = match value {
                        Value::String(s) => s.clone(),
                        Value::Number(n) => n.to_string(),
                        _ => return Err(format!("rlimits.{name}: expected \"SOFT[:HARD]\" or a number")),
                    };
                    p.ulimits.push(format!("{name}={value}"));
                }
            }
            "landlock" => {
                let m = object(v, key, &["ro", "rw", "exec", "bind", "connect", "require", "enabled"])?;
                for (k, v) in m {
                    let name = format!("landlock.{k}");
                    match k.as_str() {
                        "ro" => p.landlock_ro = strings(v, &name)?,
                        "rw" => p.landlock_rw = strings(v, &name)?,
                        "exec" => p.landlock_exec = strings(v, &name)?,
                        "bind" => p.landlock_bind = strings(v, &name)?,
                        "connect" => p.landlock_connect = strings(v, &name)?,
                        "require" => p.landlock_require = flag(v, &name)?,
                        _ => p.landlock_off = !flag(v, &name)?,
                    }
                }
            }
            _ => unreachable!("checked by object()"),
        }
    }
    Ok(p)
}

/// Adds the file's settings to the command line's.
pub fn apply(p: PolicyFile, a: &mut RunArgs) {
    fn prepend(list: &mut Vec<String>, from_file: Vec<String>) {
        let given = std::mem::take(list);
        *list = from_file;
        list.extend(given);
    }
    if a.seccomp.is_none() {
        a.seccomp = p.seccomp;
        a.seccomp_inline = p.seccomp_inline;
    }
    prepend(&mut a.seccomp_allow, p.seccomp_allow);
    prepend(&mut a.cap_add, p.cap_add);
    prepend(&mut a.cap_drop, p.cap_drop);
    // The option given last wins, so the command line's come after the file's.
    prepend(&mut a.ulimits, p.ulimits);
    prepend(&mut a.landlock_ro, p.landlock_ro);
    prepend(&mut a.landlock_rw, p.landlock_rw);
    prepend(&mut a.landlock_exec, p.landlock_exec);
    prepend(&mut a.landlock_bind, p.landlock_bind);
    prepend(&mut a.landlock_connect, p.landlock_connect);
    a.landlock_require |= p.landlock_require;
    if p.landlock_off && a.landlock.is_none() {
        a.landlock = Some("off".into());
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parsed(text: &str) -> Result<PolicyFile, String> {
        parse(text, Path::new("/etc/nucleus"))
    }

    #[test]
    fn every_section() {
        let p = parsed(
            r#"{"seccomp": "app.json", "seccompAllow": ["io_uring_setup"],
                "capabilities": {"add": ["NET_RAW"], "drop": ["ALL"]},
                "rlimits": {"nofile": "10:20", "core": 0},
                "landlock": {"ro": ["/data"], "rw": ["/out"], "exec": ["/opt"], "bind": [8080],
                             "connect": ["443"], "require": true}}"#,
        )
        .unwrap();
        assert_eq!(p.seccomp.as_deref(), Some("/etc/nucleus/app.json"));
        assert_eq!(p.cap_add, ["NET_RAW"]);
        assert_eq!(p.ulimits, ["core=0", "nofile=10:20"]);
        assert_eq!(
            (p.landlock_bind[0].as_str(), p.landlock_connect[0].as_str()),
            ("8080", "443")
        );
        assert!(p.landlock_require && !p.landlock_off);
    }

    #[test]
    fn inline_profiles_and_keywords() {
        let p = parsed(r#"{"seccomp": {"defaultAction": "SCMP_ACT_ALLOW"}}"#).unwrap();
        assert!(p.seccomp_inline.unwrap().contains("SCMP_ACT_ALLOW"));
        assert_eq!(
            parsed(r#"{"seccomp": "unconfined"}"#)
                .unwrap()
                .seccomp
                .as_deref(),
            Some("unconfined")
        );
        assert!(
            parsed(r#"{"landlock": {"enabled": false}}"#)
                .unwrap()
                .landlock_off
        );
    }

    #[test]
    fn mistakes_are_named() {
        for (text, mentions) in [
            ("{", "malformed JSON"),
            (r#"{"seccom": "default"}"#, "seccom"),
            (r#"{"capabilities": {"ad": []}}"#, "capabilities.ad"),
            (
                r#"{"capabilities": {"add": "NET_RAW"}}"#,
                "capabilities.add",
            ),
            (r#"{"landlock": {"require": "yes"}}"#, "landlock.require"),
            (r#"{"rlimits": {"nofile": []}}"#, "rlimits.nofile"),
            (r#"{"seccomp": 3}"#, "seccomp"),
            ("[]", "policy"),
        ] {
            let e = parsed(text).unwrap_err();
            assert!(e.contains(mentions), "{text}: {e}");
        }
    }

    #[test]
    fn pins_are_checked() {
        let dir = std::env::temp_dir().join(format!("nucleus-policy-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let f = dir.join("p.json");
        std::fs::write(&f, "{}").unwrap();
        // sha256("{}")
        let good = "44136fa355b3678a1146ad16f7e8649e94fb4fc21fe77e8310c060f61caaff8a";
        assert!(load(&f, Some(good)).is_ok());
        assert!(load(&f, Some(&good.to_uppercase())).is_ok());
        let e = load(&f, Some(&good.replace('4', "5")))
            .unwrap_err()
            .to_string();
        assert!(e.contains("refusing to start"), "{e}");
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn the_command_line_wins_and_adds() {
        let mut a = RunArgs {
            seccomp: Some("unconfined".into()),
            cap_add: vec!["CHOWN".into()],
            ..Default::default()
        };
        let p = PolicyFile {
            seccomp: Some("default".into()),
            cap_add: vec!["NET_RAW".into()],
            ..Default::default()
        };
        apply(p, &mut a);
        assert_eq!(a.seccomp.as_deref(), Some("unconfined"));
        assert_eq!(a.cap_add, ["NET_RAW", "CHOWN"]);
    }
}
