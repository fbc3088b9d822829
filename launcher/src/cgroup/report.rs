//! What the cgroups enforce for a sandbox, and what they do not and why: one line for the log,
//! as Landlock's report, and the refusal of `--cgroup-require`.

use std::fmt::Write as _;

/// One limit or restriction, as the report names it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Item {
    /// `--memory 256 MiB`, `the default pids limit (1024)`.
    pub what: String,
    /// Asked for on the command line (not a default).
    pub explicit: bool,
}

/// Something asked for and not enforced, and why.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Missing {
    pub item: Item,
    pub why: String,
}

pub use crate::enforcement::Level;

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Report {
    /// `v1`, `v2`, or None when no cgroup was made.
    pub version: Option<&'static str>,
    /// The sandbox's id.
    pub id: String,
    pub enforced: Vec<String>,
    pub missing: Vec<Missing>,
    /// Remarks that are neither (how devices are handled on v2).
    pub notes: Vec<String>,
    /// `--cgroup-manager none`.
    pub off: bool,
}

impl Report {
    pub fn enforce(&mut self, what: impl Into<String>) {
        self.enforced.push(what.into());
    }

    pub fn miss(&mut self, what: impl Into<String>, explicit: bool, why: impl Into<String>) {
        self.missing.push(Missing {
            item: Item {
                what: what.into(),
                explicit,
            },
            why: why.into(),
        });
    }

    /// One line: `cgroups v1, sandbox ID: memory 256 MiB, ...; not enforced: X (why), ...`.
    pub fn summary(&self) -> String {
        if self.off {
            return format!(
                "cgroups: off (--cgroup-manager none): no limits for sandbox {}",
                self.id
            );
        }
        let mut s = match self.version {
            Some(v) => format!("cgroups {v}, sandbox {}: ", self.id),
            None => format!("cgroups: none for sandbox {}: ", self.id),
        };
        if self.enforced.is_empty() {
            s.push_str("nothing enforced");
        } else {
            s.push_str(&self.enforced.join(", "));
        }
        for n in &self.notes {
            let _ = write!(s, "; {n}");
        }
        if !self.missing.is_empty() {
            let list: Vec<String> = self
                .missing
                .iter()
                .map(|m| format!("{} ({})", m.item.what, m.why))
                .collect();
            let _ = write!(s, "; not enforced: {}", list.join(", "));
        }
        s
    }

    pub fn level(&self) -> Level {
        Level::of(
            self.missing.iter().any(|m| m.item.explicit),
            !self.missing.is_empty(),
        )
    }

    pub fn log(&self) {
        self.level().log(&self.summary());
    }

    /// With `--cgroup-require`: the error naming everything not enforced, if anything.
    pub fn refusal(&self) -> Option<String> {
        if self.missing.is_empty() {
            return None;
        }
        let list: Vec<String> = self
            .missing
            .iter()
            .map(|m| format!("{} ({})", m.item.what, m.why))
            .collect();
        Some(format!(
            "--cgroup-require: not enforced on this host: {}",
            list.join(", ")
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn levels_follow_what_was_asked() {
        let mut r = Report {
            version: Some("v1"),
            id: "box".into(),
            ..Report::default()
        };
        r.enforce("memory 256 MiB");
        assert_eq!(r.level(), Level::Debug);
        assert_eq!(r.summary(), "cgroups v1, sandbox box: memory 256 MiB");
        assert_eq!(r.refusal(), None);
        r.miss("the default pids limit (1024)", false, "no pids controller");
        assert_eq!(r.level(), Level::Info);
        r.miss("--cpus 1.5", true, "no cpu controller");
        assert_eq!(r.level(), Level::Warn);
        assert_eq!(
            r.summary(),
            "cgroups v1, sandbox box: memory 256 MiB; not enforced: the default pids limit \
             (1024) (no pids controller), --cpus 1.5 (no cpu controller)"
        );
        assert!(r.refusal().unwrap().starts_with("--cgroup-require: "));
    }
}
