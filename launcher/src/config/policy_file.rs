//! `--policy FILE.json`: seccomp, Landlock, capabilities and rlimits in one declarative file,
//! optionally pinned by `--policy-sha256` (a pinned file must then carry its seccomp profile
//! inline). The file fills in what the command line leaves open; see [`apply`].
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
    let parsed = parse(text, path.parent().unwrap_or(Path::new("."))).map_err(|m| err(path, m))?;
    let names_a_file = parsed
        .seccomp
        .as_deref()
        .is_some_and(|s| s != "default" && s != "unconfined");
    if sha256.is_some() && names_a_file {
        return Err(err(
            path,
            "a pinned policy must carry its seccomp profile inline: the pin does not cover a file it names",
        ));
    }
    Ok(parsed)
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

/// Fills in from the file what the command line leaves open, section by section: a section
/// (seccomp, capabilities, Landlock rules) given on the command line replaces the file's, so
/// that nothing in a file can widen what the command line asked for (its `ALL` capabilities
/// re-added past a `--cap-drop ALL`, its allow-list on top of another `--seccomp` profile).
/// rlimits merge per resource, the command line's last; `require` only ever tightens.
pub fn apply(p: PolicyFile, a: &mut RunArgs) {
    if a.seccomp.is_none() {
        a.seccomp = p.seccomp;
        a.seccomp_inline = p.seccomp_inline;
        let given = std::mem::take(&mut a.seccomp_allow);
        a.seccomp_allow = p.seccomp_allow;
        a.seccomp_allow.extend(given);
    }
    if a.cap_add.is_empty() && a.cap_drop.is_empty() {
        a.cap_add = p.cap_add;
        a.cap_drop = p.cap_drop;
    }
    let given = std::mem::take(&mut a.ulimits);
    a.ulimits = p.ulimits;
    a.ulimits.extend(given);
    let cli_landlock = a.landlock.is_some()
        || [
            &a.landlock_ro,
            &a.landlock_rw,
            &a.landlock_exec,
            &a.landlock_bind,
            &a.landlock_connect,
        ]
        .iter()
        .any(|l| !l.is_empty());
    if !cli_landlock {
        a.landlock_ro = p.landlock_ro;
        a.landlock_rw = p.landlock_rw;
        a.landlock_exec = p.landlock_exec;
        a.landlock_bind = p.landlock_bind;
        a.landlock_connect = p.landlock_connect;
        if p.landlock_off {
            a.landlock = Some("off".into());
        }
    }
    a.landlock_require |= p.landlock_require;
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
            ulimits: vec!["nofile=5".into()],
            ..Default::default()
        };
        let p = PolicyFile {
            seccomp: Some("default".into()),
            seccomp_allow: vec!["bpf".into()],
            cap_add: vec!["NET_RAW".into()],
            ulimits: vec!["nofile=10".into(), "core=0".into()],
            landlock_rw: vec!["/".into()],
            landlock_require: true,
            ..Default::default()
        };
        apply(p, &mut a);
        assert_eq!(a.seccomp.as_deref(), Some("unconfined"));
        assert!(
            a.seccomp_allow.is_empty(),
            "the file's allow-list belongs to the file's profile"
        );
        assert_eq!(
            a.cap_add,
            ["CHOWN"],
            "a capabilities section on the command line replaces the file's"
        );
        assert_eq!(
            a.ulimits,
            ["nofile=10", "core=0", "nofile=5"],
            "the command line's come last and win"
        );
        assert_eq!(
            a.landlock_rw,
            ["/"],
            "no Landlock option given: the file's rules apply"
        );
        assert!(a.landlock_require);
    }

    #[test]
    fn a_file_cannot_widen_what_the_command_line_restricts() {
        let mut a = RunArgs {
            cap_drop: vec!["ALL".into()],
            landlock_connect: vec!["443".into()],
            ..Default::default()
        };
        let p = PolicyFile {
            cap_add: vec!["SYS_ADMIN".into()],
            landlock_connect: vec!["1-65535".into()],
            landlock_rw: vec!["/".into()],
            landlock_off: true,
            ..Default::default()
        };
        apply(p, &mut a);
        assert!(
            a.cap_add.is_empty(),
            "--cap-drop ALL keeps out the file's SYS_ADMIN"
        );
        assert_eq!(a.landlock_connect, ["443"]);
        assert!(a.landlock_rw.is_empty() && a.landlock.is_none());
    }

    #[test]
    fn a_pinned_policy_cannot_name_a_profile_file() {
        let dir = std::env::temp_dir().join(format!("nucleus-policy-ref-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let f = dir.join("p.json");
        std::fs::write(&f, r#"{"seccomp": "prof.json"}"#).unwrap();
        let sha: String = Sha256::digest(std::fs::read(&f).unwrap())
            .iter()
            .map(|b| format!("{b:02x}"))
            .collect();
        let e = load(&f, Some(&sha)).unwrap_err().to_string();
        assert!(e.contains("inline"), "{e}");
        assert!(load(&f, None).is_ok(), "unpinned, a file reference is fine");
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
