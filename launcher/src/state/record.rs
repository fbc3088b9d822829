//! `state.json`: the OCI state of one sandbox plus what nucleus needs later, under `nucleus`.

use std::path::Path;

use serde_json::{Map, Value, json};

use super::process::Init;

/// How the sandbox was started, which decides who cleans up after it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// `run -d`: a monitor process waits for it, keeps its exit status and its logs, and
    /// removes its cgroups when it ends.
    Detached,
    /// OCI `create`: init is left to the caller (conmon, containerd's shim), which reaps it;
    /// `delete` removes the cgroups.
    Oci,
}

impl Kind {
    fn name(self) -> &'static str {
        match self {
            Kind::Detached => "detached",
            Kind::Oci => "oci",
        }
    }
}

/// The OCI status, read off the processes (see [`Record::status`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Status {
    /// Being set up by a command that still runs.
    Creating,
    /// Set up and waiting for `start`.
    Created,
    Running,
    Stopped,
}

impl Status {
    pub fn name(self) -> &'static str {
        match self {
            Status::Creating => "creating",
            Status::Created => "created",
            Status::Running => "running",
            Status::Stopped => "stopped",
        }
    }
}

/// The file that holds a created sandbox back until `start` (see init's `AwaitStart`).
pub const START_FIFO: &str = "start.fifo";
const FILE: &str = "state.json";

#[derive(Debug, Clone)]
pub struct Record {
    pub id: String,
    pub kind: Kind,
    /// The command that is setting the sandbox up (until `init` is known).
    pub creator: Init,
    /// The sandbox's init, once started.
    pub init: Option<Init>,
    /// The OCI bundle (empty for `run -d`).
    pub bundle: String,
    pub rootfs: String,
    pub annotations: Map<String, Value>,
    /// Nanoseconds since the epoch.
    pub created: u128,
    /// What `ps` shows.
    pub command: Vec<String>,
    /// How to build the workload's configuration again (for `exec`): `{"args": [...]}` with
    /// the `run` arguments, or `{"bundle": "config.json"}` for a copy of the OCI config.
    pub launch: Value,
    /// The cgroups (`crate::cgroup` record), if any.
    pub cgroup: Option<Value>,
    /// Set by the monitor of a detached sandbox when it ended.
    pub exit_code: Option<i32>,
    /// Remove everything once it ends (`run -d --rm`).
    pub auto_remove: bool,
    /// The directory this record was read from or is written to.
    pub dir: std::path::PathBuf,
}

pub enum ReadError {
    Missing,
    Bad(String),
}

impl Record {
    pub fn new(id: &str, kind: Kind, dir: &Path) -> Self {
        Record {
            id: id.to_owned(),
            kind,
            creator: Init::current(),
            init: None,
            bundle: String::new(),
            rootfs: String::new(),
            annotations: Map::new(),
            created: std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .map_or(0, |d| d.as_nanos()),
            command: Vec::new(),
            launch: Value::Null,
            cgroup: None,
            exit_code: None,
            auto_remove: false,
            dir: dir.to_owned(),
        }
    }

    /// What the processes say now.
    pub fn status(&self) -> Status {
        match &self.init {
            Some(init) if init.alive() => {
                if self.dir.join(START_FIFO).exists() {
                    Status::Created
                } else {
                    Status::Running
                }
            }
            Some(_) => Status::Stopped,
            None if self.creator.alive() => Status::Creating,
            None => Status::Stopped,
        }
    }

    /// The OCI state document (`state ID`), as runc prints it.
    pub fn oci_state(&self) -> Value {
        let status = self.status();
        let pid = match (status, &self.init) {
            (Status::Created | Status::Running, Some(i)) => i.pid,
            _ => 0,
        };
        json!({
            "ociVersion": super::OCI_VERSION,
            "id": self.id,
            "status": status.name(),
            "pid": pid,
            "bundle": self.bundle,
            "rootfs": self.rootfs,
            "created": rfc3339(self.created),
            "annotations": self.annotations,
        })
    }

    pub fn save(&self) -> Result<(), crate::error::Error> {
        let mut doc = self.oci_state();
        doc["nucleus"] = json!({
            "kind": self.kind.name(),
            "creator": self.creator.to_json(),
            "init": self.init.map(Init::to_json),
            "created": self.created.to_string(),
            "command": self.command,
            "launch": self.launch,
            "cgroup": self.cgroup,
            "exitCode": self.exit_code,
            "autoRemove": self.auto_remove,
        });
        let text = serde_json::to_vec_pretty(&doc).expect("a JSON value always encodes");
        super::write_atomic(&self.dir.join(FILE), &text)
    }

    pub fn read(dir: &Path) -> Result<Self, ReadError> {
        let text = match std::fs::read(dir.join(FILE)) {
            Ok(t) => t,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Err(ReadError::Missing),
            Err(e) => return Err(ReadError::Bad(crate::error::io_text(&e))),
        };
        let doc: Value =
            serde_json::from_slice(&text).map_err(|e| ReadError::Bad(e.to_string()))?;
        Self::from_json(&doc, dir).ok_or_else(|| ReadError::Bad("a field is missing".into()))
    }

    fn from_json(doc: &Value, dir: &Path) -> Option<Self> {
        let n = doc.get("nucleus")?;
        let str_of = |v: &Value| v.as_str().map(str::to_owned);
        Some(Record {
            id: str_of(doc.get("id")?)?,
            kind: match n.get("kind")?.as_str()? {
                "detached" => Kind::Detached,
                "oci" => Kind::Oci,
                _ => return None,
            },
            creator: Init::from_json(n.get("creator")?)?,
            init: match n.get("init")? {
                Value::Null => None,
                v => Some(Init::from_json(v)?),
            },
            bundle: str_of(doc.get("bundle")?)?,
            rootfs: doc.get("rootfs").and_then(str_of).unwrap_or_default(),
            annotations: doc
                .get("annotations")
                .and_then(Value::as_object)
                .cloned()
                .unwrap_or_default(),
            created: n.get("created")?.as_str()?.parse().ok()?,
            command: n
                .get("command")?
                .as_array()?
                .iter()
                .map(str_of)
                .collect::<Option<_>>()?,
            launch: n.get("launch")?.clone(),
            cgroup: n.get("cgroup").filter(|v| !v.is_null()).cloned(),
            exit_code: n.get("exitCode").and_then(Value::as_i64).map(|c| c as i32),
            auto_remove: n
                .get("autoRemove")
                .and_then(Value::as_bool)
                .unwrap_or(false),
            dir: dir.to_owned(),
        })
    }
}

/// `2026-11-29T03:56:06.123456789Z` from nanoseconds since the epoch (UTC, proleptic
/// Gregorian: the civil-from-days algorithm).
pub fn rfc3339(nanos: u128) -> String {
    let secs = (nanos / 1_000_000_000) as i64;
    let frac = (nanos % 1_000_000_000) as u32;
    let (days, rem) = (secs.div_euclid(86_400), secs.rem_euclid(86_400));
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    format!(
        "{year:04}-{month:02}-{day:02}T{:02}:{:02}:{:02}.{frac:09}Z",
        rem / 3600,
        rem / 60 % 60,
        rem % 60
    )
}
