//! The pids controller: at most N processes and threads (`pids.max`, same name on v1 and v2).

use std::path::Path;

use super::config::Limits;
use super::report::Report;
use super::set_all;
use crate::error::Error;

/// The write for `l` (always one: unlimited sandboxes get `max`, which is also the default,
/// so that `stats` shows the truth) and what it enforces.
pub fn writes(l: &Limits, report: &mut Report) -> Vec<(&'static str, String)> {
    match l.pids {
        Some(n) => {
            report.enforce(format!("pids {n}"));
            vec![("pids.max", n.to_string())]
        }
        None => vec![("pids.max", "max".to_owned())],
    }
}

pub fn apply(dir: &Path, l: &Limits, report: &mut Report) -> Result<(), Error> {
    set_all(dir, writes(l, report))
}

/// What the report calls the pids limit (explicit or the default).
pub fn item(l: &Limits) -> Option<(String, bool)> {
    let n = l.pids?;
    Some(if l.pids_explicit {
        (format!("--pids-limit {n}"), true)
    } else {
        (format!("the default pids limit ({n})"), false)
    })
}

/// (current, limit); a None limit is unlimited.
pub fn usage(dir: &Path) -> (Option<u64>, Option<u64>) {
    (
        super::fs::read_number(&dir.join("pids.current")).flatten(),
        super::fs::read_number(&dir.join("pids.max")).flatten(),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn default_explicit_and_unlimited() {
        let mut r = Report::default();
        assert_eq!(
            writes(&Limits::default(), &mut r),
            [("pids.max", "1024".to_owned())]
        );
        assert_eq!(r.enforced, ["pids 1024"]);
        assert_eq!(
            item(&Limits::default()),
            Some(("the default pids limit (1024)".to_owned(), false))
        );
        let l = Limits {
            pids: None,
            pids_explicit: true,
            ..Limits::default()
        };
        assert_eq!(writes(&l, &mut r), [("pids.max", "max".to_owned())]);
        assert_eq!(item(&l), None);
        let l = Limits {
            pids: Some(50),
            pids_explicit: true,
            ..Limits::default()
        };
        assert_eq!(item(&l), Some(("--pids-limit 50".to_owned(), true)));
    }
}
