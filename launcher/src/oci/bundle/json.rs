//! Reading `config.json` as a `serde_json::Value` with every error naming the JSON path and
//! the value: `config.json: linux.namespaces[3].path ("/proc/1/ns/net"): joining ...`.

use std::fmt::Display;

use serde_json::{Map, Value};

use crate::error::Error;

/// The longest rendering of a value in a message.
const SHOW_MAX: usize = 96;

/// A value as the message shows it: compact JSON, cut short when long.
pub fn show(v: &Value) -> String {
    let s = v.to_string();
    if s.len() <= SHOW_MAX {
        return s;
    }
    let mut end = SHOW_MAX;
    while !s.is_char_boundary(end) {
        end -= 1;
    }
    format!("{}...", &s[..end])
}

/// `config.json: PATH (VALUE): WHY`.
pub fn fail(path: &str, v: &Value, why: impl Display) -> Error {
    Error::usage(format!("config.json: {path} ({}): {why}", show(v)))
}

/// `config.json: PATH: WHY`, for what is missing or about a whole object.
pub fn fail_at(path: &str, why: impl Display) -> Error {
    Error::usage(format!("config.json: {path}: {why}"))
}

/// Whether `v` says nothing: what an unsupported field may hold (`""`, `0`, `false`, `[]`,
/// `{}`, `null`).
pub fn is_empty(v: &Value) -> bool {
    match v {
        Value::Null => true,
        Value::Bool(b) => !b,
        Value::Number(n) => n.as_f64() == Some(0.0),
        Value::String(s) => s.is_empty(),
        Value::Array(a) => a.is_empty(),
        Value::Object(o) => o.is_empty(),
    }
}

/// An object of the configuration and its path.
#[derive(Clone)]
pub struct Obj<'a> {
    map: &'a Map<String, Value>,
    path: String,
}

impl<'a> Obj<'a> {
    pub fn new(v: &'a Value, path: &str) -> Result<Self, Error> {
        match v {
            Value::Object(map) => Ok(Obj {
                map,
                path: path.to_owned(),
            }),
            other => Err(fail(path, other, "expected an object")),
        }
    }

    /// The path of `key` in this object.
    pub fn at(&self, key: &str) -> String {
        if self.path.is_empty() {
            key.to_owned()
        } else {
            format!("{}.{key}", self.path)
        }
    }

    /// The value of `key`; `null` counts as absent.
    pub fn get(&self, key: &str) -> Option<&'a Value> {
        self.map.get(key).filter(|v| !v.is_null())
    }

    /// Refuses every key but `handled`, and those of `unsupported` (key, why) unless they
    /// hold nothing.
    pub fn only(&self, handled: &[&str], unsupported: &[(&str, &str)]) -> Result<(), Error> {
        for (key, v) in self.map {
            if handled.contains(&key.as_str()) {
                continue;
            }
            match unsupported.iter().find(|(k, _)| k == key) {
                Some(_) if is_empty(v) => {}
                Some((_, why)) => return Err(fail(&self.at(key), v, why)),
                None => {
                    return Err(fail(
                        &self.at(key),
                        v,
                        "unknown field (not part of the OCI runtime spec nucleus implements)",
                    ));
                }
            }
        }
        Ok(())
    }

    pub fn str(&self, key: &str) -> Result<Option<&'a str>, Error> {
        match self.get(key) {
            None => Ok(None),
            Some(Value::String(s)) => Ok(Some(s)),
            Some(v) => Err(fail(&self.at(key), v, "expected a string")),
        }
    }

    pub fn req_str(&self, key: &str) -> Result<&'a str, Error> {
        self.str(key)?
            .ok_or_else(|| fail_at(&self.at(key), "missing (required)"))
    }

    pub fn bool(&self, key: &str) -> Result<Option<bool>, Error> {
        match self.get(key) {
            None => Ok(None),
            Some(Value::Bool(b)) => Ok(Some(*b)),
            Some(v) => Err(fail(&self.at(key), v, "expected true or false")),
        }
    }

    pub fn u64(&self, key: &str) -> Result<Option<u64>, Error> {
        self.get(key)
            .map(|v| uint(&self.at(key), v, u64::MAX))
            .transpose()
    }

    pub fn u32(&self, key: &str) -> Result<Option<u32>, Error> {
        self.get(key)
            .map(|v| uint(&self.at(key), v, u64::from(u32::MAX)).map(|n| n as u32))
            .transpose()
    }

    pub fn req_u32(&self, key: &str) -> Result<u32, Error> {
        self.u32(key)?
            .ok_or_else(|| fail_at(&self.at(key), "missing (required)"))
    }

    pub fn i64(&self, key: &str) -> Result<Option<i64>, Error> {
        match self.get(key) {
            None => Ok(None),
            Some(v) => v
                .as_i64()
                .map(Some)
                .ok_or_else(|| fail(&self.at(key), v, "expected a whole number")),
        }
    }

    /// The array of `key` (empty when absent).
    pub fn array(&self, key: &str) -> Result<&'a [Value], Error> {
        match self.get(key) {
            None => Ok(&[]),
            Some(Value::Array(a)) => Ok(a),
            Some(v) => Err(fail(&self.at(key), v, "expected an array")),
        }
    }

    /// The array of strings of `key` (empty when absent).
    pub fn strings(&self, key: &str) -> Result<Vec<&'a str>, Error> {
        let path = self.at(key);
        self.array(key)?
            .iter()
            .enumerate()
            .map(|(i, v)| match v {
                Value::String(s) => Ok(s.as_str()),
                other => Err(fail(&format!("{path}[{i}]"), other, "expected a string")),
            })
            .collect()
    }

    /// The members of this object.
    pub fn entries(&self) -> impl Iterator<Item = (&'a String, &'a Value)> + use<'a> {
        self.map.iter()
    }
}

/// A whole number from 0 to `max`.
pub fn uint(path: &str, v: &Value, max: u64) -> Result<u64, Error> {
    v.as_u64()
        .filter(|n| *n <= max)
        .ok_or_else(|| fail(path, v, format!("expected a whole number from 0 to {max}")))
}

/// `text` without NUL bytes (the kernel would cut it there).
pub fn no_nul(path: &str, v: &Value, text: &str) -> Result<(), Error> {
    if text.contains('\0') {
        Err(fail(path, v, "contains a NUL byte"))
    } else {
        Ok(())
    }
}

/// An absolute path inside the sandbox, normalised; `..` is refused (it could only be meant
/// to climb out).
pub fn sandbox_path(path: &str, raw: &str) -> Result<crate::config::SandboxPath, Error> {
    let v = Value::String(raw.to_owned());
    if !raw.starts_with('/') {
        return Err(fail(path, &v, "not an absolute path"));
    }
    if raw.split('/').any(|c| c == "..") {
        return Err(fail(path, &v, "'..' is not allowed"));
    }
    no_nul(path, &v, raw)?;
    crate::config::SandboxPath::parse(path, raw)
}
