//! Where the cgroup hierarchies are mounted and where this process sits in them, read from
//! `/proc/self/mountinfo` and `/proc/self/cgroup` (pure parsing, tested on fixture text).

use std::path::{Path, PathBuf};

/// The v1 controllers nucleus places sandboxes in. cpuset is left out (a new cpuset cgroup
/// starts with no CPUs); others (net_cls, perf_event, ...) limit nothing we offer.
pub const V1_CONTROLLERS: [&str; 7] = [
    "memory", "pids", "cpu", "cpuacct", "blkio", "devices", "freezer",
];

/// One mounted hierarchy and this process's cgroup in it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Hierarchy {
    /// v1: the controllers bound to it (`cpu`, `cpuacct` when co-mounted); v2: empty.
    pub controllers: Vec<String>,
    /// The directory of this process's own cgroup (mount point + our path below its root).
    pub own: PathBuf,
    /// The mount point: the root of the hierarchy as far as this mount shows it.
    pub mount: PathBuf,
}

impl Hierarchy {
    pub fn has(&self, controller: &str) -> bool {
        self.controllers.iter().any(|c| c == controller)
    }
}

/// The cgroup layouts nucleus can drive.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Layout {
    /// One hierarchy per group of controllers.
    V1(Vec<Hierarchy>),
    /// The unified hierarchy.
    V2(Hierarchy),
}

/// Everything found: the v1 hierarchies we use and the cgroup2 mount, if any.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Found {
    pub v1: Vec<Hierarchy>,
    pub v2: Option<Hierarchy>,
    /// Whether the cgroup2 mount is the only one, at the usual place (a pure v2 host).
    pub v2_is_primary: bool,
}

/// Which layout to use.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Manager {
    /// v2 if `/sys/fs/cgroup` is cgroup2, else v1 if its controllers are mounted, else v2 on
    /// any cgroup2 mount.
    Auto,
    V1,
    V2,
    /// No cgroups at all.
    None,
}

impl Manager {
    pub fn parse(raw: &str) -> Option<Self> {
        match raw {
            "auto" => Some(Manager::Auto),
            "v1" => Some(Manager::V1),
            "v2" => Some(Manager::V2),
            "none" => Some(Manager::None),
            _ => None,
        }
    }
}

/// The standard mount point of cgroup file systems.
pub const SYS_FS_CGROUP: &str = "/sys/fs/cgroup";

impl Found {
    /// Reads this process's view.
    pub fn probe() -> Self {
        let read = |p: &str| super::fs::read_small(Path::new(p)).unwrap_or_default();
        let (mountinfo, cgroup) = (read("/proc/self/mountinfo"), read("/proc/self/cgroup"));
        parse(&mountinfo, &cgroup)
    }

    /// The layout `manager` asks for, or why there is none.
    pub fn choose(&self, manager: Manager) -> Result<Layout, String> {
        let v1 = || {
            if self.v1.is_empty() {
                Err("no cgroup v1 controller is mounted".to_owned())
            } else {
                Ok(Layout::V1(self.v1.clone()))
            }
        };
        let v2 = || {
            self.v2
                .clone()
                .map(Layout::V2)
                .ok_or_else(|| "no cgroup2 file system is mounted".to_owned())
        };
        match manager {
            Manager::None => Err("--cgroup-manager none".to_owned()),
            Manager::V1 => v1(),
            Manager::V2 => v2(),
            Manager::Auto if self.v2_is_primary => v2(),
            Manager::Auto if !self.v1.is_empty() => v1(),
            Manager::Auto => v2().map_err(|_| "no cgroup file system is mounted".to_owned()),
        }
    }
}

/// One line of mountinfo: (root, mount point, file system type, super options).
fn mount_fields(line: &str) -> Option<(&str, &str, &str, &str)> {
    let (pre, post) = line.split_once(" - ")?;
    let pre: Vec<&str> = pre.split(' ').collect();
    let mut post = post.split(' ');
    let fstype = post.next()?;
    let _source = post.next()?;
    let opts = post.next().unwrap_or("");
    Some((pre.get(3)?, pre.get(4)?, fstype, opts))
}

/// mountinfo escapes space, tab, newline and backslash as `\NNN` (octal).
fn unescape(s: &str) -> String {
    let b = s.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        if b[i] == b'\\'
            && i + 3 < b.len()
            && b[i + 1..i + 4].iter().all(|c| (b'0'..=b'7').contains(c))
        {
            out.push((b[i + 1] - b'0') * 64 + (b[i + 2] - b'0') * 8 + (b[i + 3] - b'0'));
            i += 4;
        } else {
            out.push(b[i]);
            i += 1;
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// Our directory in a mount whose root (in the hierarchy) is `root`, for our cgroup `path`;
/// None when the mount does not show our cgroup (a bind of some other subtree).
fn own_dir(mount: &Path, root: &str, path: &str) -> Option<PathBuf> {
    let rest = if root == "/" {
        path
    } else {
        let r = path.strip_prefix(root)?;
        if !(r.is_empty() || r.starts_with('/')) {
            return None;
        }
        r
    };
    let rest = rest.trim_start_matches('/');
    if rest.split('/').any(|c| c == "..") {
        // Outside our cgroup namespace's root: not reachable through this mount.
        return None;
    }
    Some(if rest.is_empty() {
        mount.to_path_buf()
    } else {
        mount.join(rest)
    })
}

/// The hierarchies of `mountinfo` (this process's mounts) that hold our cgroups of `cgroup`
/// (`/proc/self/cgroup`).
pub fn parse(mountinfo: &str, cgroup: &str) -> Found {
    // (hierarchy controllers, our path) from /proc/self/cgroup: "ID:CONTROLLERS:PATH".
    let mut v1_paths: Vec<(Vec<String>, String)> = Vec::new();
    let mut v2_path = None;
    for line in cgroup.lines() {
        let mut f = line.splitn(3, ':');
        let (Some(_id), Some(ctrls), Some(path)) = (f.next(), f.next(), f.next()) else {
            continue;
        };
        if ctrls.is_empty() {
            v2_path = Some(path.to_owned());
        } else {
            v1_paths.push((
                ctrls.split(',').map(str::to_owned).collect(),
                path.to_owned(),
            ));
        }
    }
    let mut found = Found::default();
    for line in mountinfo.lines() {
        let Some((root, point, fstype, opts)) = mount_fields(line) else {
            continue;
        };
        let (root, point) = (unescape(root), PathBuf::from(unescape(point)));
        match fstype {
            "cgroup2" => {
                let Some(path) = &v2_path else { continue };
                if found.v2.is_some() {
                    continue;
                }
                if let Some(own) = own_dir(&point, &root, path) {
                    found.v2_is_primary = point == Path::new(SYS_FS_CGROUP);
                    found.v2 = Some(Hierarchy {
                        controllers: Vec::new(),
                        own,
                        mount: point,
                    });
                }
            }
            "cgroup" => {
                let mounted: Vec<&str> = opts.split(',').collect();
                let Some((ctrls, path)) = v1_paths
                    .iter()
                    .find(|(ctrls, _)| ctrls.iter().all(|c| mounted.contains(&c.as_str())))
                else {
                    continue;
                };
                if !ctrls.iter().any(|c| V1_CONTROLLERS.contains(&c.as_str())) {
                    continue;
                }
                if found.v1.iter().any(|h| h.controllers == *ctrls) {
                    continue;
                }
                if let Some(own) = own_dir(&point, &root, path) {
                    found.v1.push(Hierarchy {
                        controllers: ctrls.clone(),
                        own,
                        mount: point,
                    });
                }
            }
            _ => {}
        }
    }
    found
}

#[cfg(test)]
mod tests {
    use super::*;

    /// This project's VM: hybrid, cpu and cpuacct apart, our memory cgroup nested.
    const HYBRID_MOUNTINFO: &str = "\
31 23 0:28 / /sys/fs/cgroup rw,relatime - tmpfs tmpfs rw,mode=755
32 31 0:29 / /sys/fs/cgroup/cpu rw,relatime - cgroup cgroup rw,cpu
33 31 0:30 / /sys/fs/cgroup/cpuacct rw,relatime - cgroup cgroup rw,cpuacct
34 31 0:31 / /sys/fs/cgroup/cpuset rw,relatime - cgroup cgroup rw,cpuset
35 31 0:32 / /sys/fs/cgroup/memory rw,relatime - cgroup cgroup rw,memory
36 31 0:33 / /sys/fs/cgroup/devices rw,relatime - cgroup cgroup rw,devices
37 31 0:34 / /sys/fs/cgroup/freezer rw,relatime - cgroup cgroup rw,freezer
38 31 0:35 / /sys/fs/cgroup/blkio rw,relatime - cgroup cgroup rw,blkio
39 31 0:36 / /sys/fs/cgroup/pids rw,relatime - cgroup cgroup rw,pids
40 31 0:37 / /sys/fs/cgroup/systemd rw,relatime - cgroup cgroup rw,name=systemd
41 31 0:38 / /sys/fs/cgroup/unified rw,relatime - cgroup2 cgroup2 rw
";
    const HYBRID_CGROUP: &str = "\
9:name=systemd:/
8:pids:/
7:blkio:/
6:freezer:/
5:devices:/
4:memory:/process_api/4d8a
3:cpuset:/
2:cpuacct:/
1:cpu:/
0::/
";

    #[test]
    fn hybrid_host_uses_v1_by_default() {
        let found = parse(HYBRID_MOUNTINFO, HYBRID_CGROUP);
        let names: Vec<String> = found.v1.iter().map(|h| h.controllers.join(",")).collect();
        assert_eq!(
            names,
            [
                "cpu", "cpuacct", "memory", "devices", "freezer", "blkio", "pids"
            ]
        );
        let memory = found.v1.iter().find(|h| h.has("memory")).unwrap();
        assert_eq!(
            memory.own,
            Path::new("/sys/fs/cgroup/memory/process_api/4d8a")
        );
        assert!(!found.v2_is_primary);
        assert_eq!(
            found.v2.as_ref().unwrap().own,
            Path::new("/sys/fs/cgroup/unified")
        );
        assert!(matches!(found.choose(Manager::Auto), Ok(Layout::V1(_))));
        assert!(matches!(found.choose(Manager::V2), Ok(Layout::V2(_))));
        assert!(found.choose(Manager::None).is_err());
    }

    #[test]
    fn pure_v2_host() {
        let mountinfo = "25 20 0:23 / /sys/fs/cgroup rw,nosuid - cgroup2 cgroup2 rw,nsdelegate\n";
        let found = parse(mountinfo, "0::/user.slice/session-1.scope\n");
        assert!(found.v1.is_empty());
        assert!(found.v2_is_primary);
        let Ok(Layout::V2(h)) = found.choose(Manager::Auto) else {
            panic!("{found:?}");
        };
        assert_eq!(
            h.own,
            Path::new("/sys/fs/cgroup/user.slice/session-1.scope")
        );
        assert_eq!(
            found.choose(Manager::V1).unwrap_err(),
            "no cgroup v1 controller is mounted"
        );
    }

    #[test]
    fn co_mounted_and_bind_mounted_hierarchies() {
        // cpu,cpuacct together; memory shown through a bind of our own subtree (a container
        // without a cgroup namespace); a mount with an escaped space in its path.
        let mountinfo = "\
40 31 0:29 / /sys/fs/cgroup/cpu,cpuacct rw - cgroup cgroup rw,cpu,cpuacct
41 31 0:32 /docker/abc /sys/fs/cgroup/memory rw - cgroup cgroup rw,memory
42 31 0:36 /other /sys/fs/cgroup/pids rw - cgroup cgroup rw,pids
43 31 0:37 / /mnt/my\\040cg rw - cgroup cgroup rw,freezer
";
        let cgroup = "\
4:cpu,cpuacct:/docker/abc
3:memory:/docker/abc/sub
2:pids:/docker/abc
1:freezer:/x
";
        let found = parse(mountinfo, cgroup);
        let got: Vec<(String, PathBuf)> = found
            .v1
            .iter()
            .map(|h| (h.controllers.join(","), h.own.clone()))
            .collect();
        assert_eq!(
            got,
            [
                (
                    "cpu,cpuacct".to_owned(),
                    PathBuf::from("/sys/fs/cgroup/cpu,cpuacct/docker/abc")
                ),
                (
                    "memory".to_owned(),
                    PathBuf::from("/sys/fs/cgroup/memory/sub")
                ),
                ("freezer".to_owned(), PathBuf::from("/mnt/my cg/x")),
            ]
        );
        assert!(found.v2.is_none());
        assert_eq!(
            found.choose(Manager::V2).unwrap_err(),
            "no cgroup2 file system is mounted"
        );
    }

    #[test]
    fn nothing_mounted() {
        let found = parse("", "");
        assert_eq!(
            found.choose(Manager::Auto).unwrap_err(),
            "no cgroup file system is mounted"
        );
    }

    #[test]
    fn cgroups_outside_our_namespace_root_are_not_reachable() {
        let found = parse(
            "25 20 0:23 / /sys/fs/cgroup rw - cgroup2 cgroup2 rw\n",
            "0::/../../elsewhere\n",
        );
        assert!(found.v2.is_none());
    }
}
