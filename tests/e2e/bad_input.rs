//! Bad input: each is refused with the documented exit code and one `nucleus-launch: ` line
//! naming the problem, and leaves no mount and no process behind.

#[path = "../harness/mod.rs"]
mod harness;

use std::os::unix::fs::PermissionsExt;

use harness::{TempRoot, host_mount_points, nucleus, processes_with, skip_unless_root};

/// Runs `nucleus-launch ARGS` (which must contain `marker`) and checks the refusal.
fn assert_refused(args: &[&str], marker: &str, code: i32, mentions: &[&str]) {
    assert!(
        args.iter().any(|a| a.contains(marker)),
        "test bug: no marker in {args:?}"
    );
    let mounts_before = host_mount_points();
    let out = nucleus(args);
    assert_eq!(out.code, code, "{args:?}\n{out}");
    assert!(out.stdout.is_empty(), "{args:?}\n{out}");
    let lines: Vec<&str> = out.stderr.lines().collect();
    assert!(
        lines.len() == 1 && lines[0].starts_with("nucleus-launch: "),
        "{args:?}: expected one `nucleus-launch: ` line on stderr\n{out}"
    );
    for m in mentions {
        assert!(
            lines[0].contains(m),
            "{args:?}: the message should mention {m:?}\n{out}"
        );
    }
    if let Some(change) = harness::host_mounts_changed(&mounts_before) {
        panic!(
            "{args:?}: {change}
{out}"
        );
    }
    assert_eq!(
        processes_with(marker),
        Vec::<u32>::new(),
        "{args:?}: processes left\n{out}"
    );
}

/// A rootfs with the probe, and a command line running `/probe sleep 5 MARKER` in it: should
/// a bad option be accepted, the test sees exit 0 instead of a refusal.
struct Case {
    root: TempRoot,
    marker: String,
}

impl Case {
    fn new(tag: &str) -> Self {
        Case {
            root: TempRoot::with_probe(tag),
            marker: harness::unique(tag),
        }
    }

    fn refused(&self, opts: &[&str], mentions: &[&str]) {
        let mut args = vec!["run"];
        args.extend(opts);
        args.extend([
            "--rootfs",
            self.root.arg(),
            "--",
            "/probe",
            "sleep",
            "5",
            &self.marker,
        ]);
        assert_refused(&args, &self.marker, 125, mentions);
    }
}

#[test]
fn missing_rootfs_is_refused() {
    if skip_unless_root() {
        return;
    }
    let marker = harness::unique("no-rootfs");
    let path = format!("/nonexistent-{marker}");
    assert_refused(
        &["run", "--rootfs", &path, "--", "/probe"],
        &marker,
        125,
        &["--rootfs", &path],
    );
}

#[test]
fn rootfs_that_is_a_file_is_refused() {
    if skip_unless_root() {
        return;
    }
    let dir = TempRoot::empty("rootfs-file");
    let marker = harness::unique("rootfs-file");
    dir.write(&marker, "not a directory");
    let path = dir.join(&marker);
    let path = path.to_str().expect("UTF-8");
    assert_refused(
        &["run", "--rootfs", path, "--", "/probe"],
        &marker,
        125,
        &["not a directory"],
    );
}

#[test]
fn missing_command_exits_127() {
    if skip_unless_root() {
        return;
    }
    let case = Case::new("no-cmd");
    let cmd = format!("/{}", case.marker);
    assert_refused(
        &["run", "--rootfs", case.root.arg(), "--", &cmd],
        &case.marker,
        127,
        &[&cmd],
    );
    // Searched in PATH, on the default root.
    assert_refused(
        &["run", "--", &case.marker],
        &case.marker,
        127,
        &[&case.marker, "not found"],
    );
}

#[test]
fn non_executable_command_exits_126() {
    if skip_unless_root() {
        return;
    }
    let case = Case::new("noexec-cmd");
    let name = format!("/{}", case.marker);
    case.root.write(&name, "#!/probe\n");
    let perms = std::fs::Permissions::from_mode(0o644);
    std::fs::set_permissions(case.root.join(&name), perms).expect("chmod 644");
    assert_refused(
        &["run", "--rootfs", case.root.arg(), "--", &name],
        &case.marker,
        126,
        &[&name],
    );
    // A directory cannot be executed either.
    let dir = format!("/{}-dir", case.marker);
    case.root.mkdir(&dir);
    assert_refused(
        &["run", "--rootfs", case.root.arg(), "--", &dir],
        &case.marker,
        126,
        &[&dir],
    );
}

#[test]
fn empty_command_is_refused() {
    if skip_unless_root() {
        return;
    }
    let case = Case::new("empty-cmd");
    // An empty string as the command, and no command at all: the rootfs path is the marker.
    let root = case.root.arg();
    assert_refused(
        &["run", "--rootfs", root, "--", ""],
        root,
        125,
        &["command"],
    );
    assert_refused(&["run", "--rootfs", root, "--"], root, 125, &["CMD"]);
}

#[test]
fn parser_errors_are_one_line() {
    if skip_unless_root() {
        return;
    }
    let case = Case::new("parser");
    case.refused(&["--network", "bogus"], &["--network", "bogus"]);
    case.refused(&["--no-such-option"], &["--no-such-option"]);
}

#[test]
fn malformed_volumes_are_refused() {
    if skip_unless_root() {
        return;
    }
    let case = Case::new("bad-volume");
    let missing = format!("/nonexistent-{}:/data", case.marker);
    for (volume, mention) in [
        ("/tmp", "SRC:DST"),
        ("/tmp:/data:rx", "rx"),
        ("/tmp:data", "absolute"),
        ("/tmp:/a/../../etc", ".."),
        ("relative:/data", "absolute"),
        ("/tmp:/", "root"),
        ("/tmp:/proc/sys", "/proc"),
        (&missing, "nonexistent"),
    ] {
        case.refused(&["-v", volume], &["-v", mention]);
    }
}

#[test]
fn malformed_env_is_refused() {
    if skip_unless_root() {
        return;
    }
    Case::new("bad-env").refused(&["-e", "=x"], &["-e", "=x"]);
}

#[test]
fn malformed_users_are_refused() {
    if skip_unless_root() {
        return;
    }
    let case = Case::new("bad-user");
    for user in [
        "--user=abc",
        "--user=1:",
        "--user=-1",
        "--user=:1",
        "--user=4294967295",
    ] {
        let value = user.trim_start_matches("--user=");
        case.refused(&[user], &["--user", value]);
    }
}

#[test]
fn malformed_tmpfs_is_refused() {
    if skip_unless_root() {
        return;
    }
    let case = Case::new("bad-tmpfs");
    for (tmpfs, mention) in [
        ("/scratch:bogus", "bogus"),
        ("/scratch:size=12q", "12q"),
        ("/scratch:mode=999", "999"),
        ("scratch", "absolute"),
        ("/proc", "/proc"),
    ] {
        case.refused(&["--tmpfs", tmpfs], &["--tmpfs", mention]);
    }
}

#[test]
fn bad_hostname_is_refused() {
    if skip_unless_root() {
        return;
    }
    Case::new("bad-hostname").refused(&["--hostname", "a b"], &["--hostname"]);
}

#[test]
fn missing_workdir_is_refused() {
    if skip_unless_root() {
        return;
    }
    let case = Case::new("bad-workdir");
    let dir = format!("/{}", case.marker);
    case.refused(&["-w", &dir], &[&dir]);
    case.refused(&["-w", "relative"], &["relative"]);
}
