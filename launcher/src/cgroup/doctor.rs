//! What `nucleus-launch doctor` says about cgroups: which layout, which controllers, and
//! whether this user may create cgroups where sandboxes would go.

use super::layout::{Found, Layout, Manager};
use crate::doctor::Check;

/// The controllers limits need, on each layout.
const V1_WANTED: [&str; 6] = ["memory", "pids", "cpu", "blkio", "devices", "freezer"];
const V2_WANTED: [&str; 4] = ["memory", "pids", "cpu", "io"];

fn status(ok: bool, partial: bool) -> &'static str {
    match (ok, partial) {
        (true, _) => "ok",
        (false, true) => "partial",
        _ => "missing",
    }
}

/// The checks for this host.
pub fn checks() -> Vec<Check> {
    checks_for(&Found::probe(), &|p| {
        rustix::fs::access(p, rustix::fs::Access::WRITE_OK).is_ok()
    })
}

pub fn checks_for(found: &Found, writable: &dyn Fn(&std::path::Path) -> bool) -> Vec<Check> {
    let layout = found.choose(Manager::Auto);
    let (detail, have, wanted, own): (String, Vec<String>, &[&str], _) = match &layout {
        Ok(Layout::V1(hs)) => {
            let have: Vec<String> = hs.iter().flat_map(|h| h.controllers.clone()).collect();
            (
                format!("v1 ({})", have.join(" ")),
                have,
                &V1_WANTED,
                super::v1::ordered(hs).first().map(|h| h.own.clone()),
            )
        }
        Ok(Layout::V2(h)) => {
            let have: Vec<String> = super::fs::read(&h.own.join("cgroup.controllers"))
                .unwrap_or_default()
                .split_whitespace()
                .map(str::to_owned)
                .collect();
            (
                format!("v2 at {}", h.mount.display()),
                have,
                &V2_WANTED,
                Some(h.own.clone()),
            )
        }
        Err(why) => (why.clone(), Vec::new(), &V2_WANTED, None),
    };
    let missing: Vec<&str> = wanted
        .iter()
        .copied()
        .filter(|w| !have.iter().any(|h| h == w))
        .collect();
    let mut out = vec![Check {
        name: "cgroup hierarchy",
        status: status(layout.is_ok(), false),
        detail,
        meaning: "no resource limits: sandboxes run without cgroups (--cgroup-require refuses)",
    }];
    if layout.is_ok() {
        out.push(Check {
            name: "cgroup controllers",
            status: status(missing.is_empty(), missing.len() < wanted.len()),
            detail: if missing.is_empty() {
                wanted.join(" ")
            } else {
                format!("missing: {}", missing.join(" "))
            },
            meaning: "the limits of the missing controllers are not enforced (a warning, or a refusal with --cgroup-require)",
        });
        let own = own.unwrap_or_default();
        out.push(Check {
            name: "cgroup creation",
            status: status(writable(&own), false),
            detail: format!("{} writable: {}", own.display(), writable(&own)),
            meaning: "this user cannot create sandbox cgroups here (rootless without delegation): no limits; try --cgroup-parent",
        });
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cgroup::layout::Hierarchy;

    #[test]
    fn checks_name_the_layout_and_what_is_missing() {
        let h = |c: &str| Hierarchy {
            controllers: vec![c.to_owned()],
            own: format!("/sys/fs/cgroup/{c}").into(),
            mount: format!("/sys/fs/cgroup/{c}").into(),
        };
        let found = Found {
            v1: vec![h("memory"), h("pids")],
            ..Found::default()
        };
        let c = checks_for(&found, &|_| true);
        assert_eq!(c[0].detail, "v1 (memory pids)");
        assert_eq!(c[1].status, "partial");
        assert_eq!(c[1].detail, "missing: cpu blkio devices freezer");
        assert_eq!(c[2].status, "ok");
        let c = checks_for(&Found::default(), &|_| false);
        assert_eq!(c.len(), 1);
        assert_eq!(c[0].status, "missing");
        assert!(c.iter().all(|c| !c.meaning.is_empty()));
    }
}
