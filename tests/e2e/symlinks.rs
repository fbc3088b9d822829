//! A rootfs is untrusted: symlinks in it that point outside it must never make a mount target,
//! a created directory or file, land on the host. Each attempt fails with 125 and leaves the
//! host untouched.

#[path = "../harness/mod.rs"]
mod harness;

use std::path::{Path, PathBuf};

use harness::{TempRoot, host_mount_points, nucleus, processes_with, skip_unless_root};

/// Runs the probe in `root` with `opts`; expects a 125 refusal naming the escape, no new host
/// mount, no process left, and none of `host_paths` created.
fn assert_escape_refused(root: &TempRoot, opts: &[&str], marker: &str, host_paths: &[&Path]) {
    let mounts_before = host_mount_points();
    let out = nucleus(harness::rootfs_args(root, opts, &["sleep", "5", marker]));
    assert_eq!(out.code, 125, "{opts:?}\n{out}");
    let lines: Vec<&str> = out.stderr.lines().collect();
    assert!(
        lines.len() == 1 && lines[0].starts_with("nucleus-launch: "),
        "{opts:?}: expected one `nucleus-launch: ` line\n{out}"
    );
    assert!(
        lines[0].contains("leaves the sandbox root"),
        "{opts:?}\n{out}"
    );
    for p in host_paths {
        assert!(
            !p.exists(),
            "{opts:?}: {} was created on the host\n{out}",
            p.display()
        );
    }
    if let Some(change) = harness::host_mounts_changed(&mounts_before) {
        panic!(
            "{opts:?}: {change}
{out}"
        );
    }
    assert_eq!(processes_with(marker), Vec::<u32>::new(), "{opts:?}\n{out}");
}

/// Where a mount point `name` below an escaping `mnt` link would land on the host: the host's
/// root, or the directory holding the rootfs.
fn escapes(root: &TempRoot, name: &str) -> Vec<PathBuf> {
    let parent = root.path().parent().expect("the rootfs has a parent");
    vec![Path::new("/").join(name), parent.join(name)]
}

#[test]
fn volume_through_an_absolute_symlink_is_refused() {
    if skip_unless_root() {
        return;
    }
    let root = TempRoot::with_probe("link-abs");
    root.symlink("/", "mnt");
    let source = TempRoot::empty("link-abs-src");
    let marker = harness::unique("link-abs");
    let volume = format!("{}:/mnt/{marker}", source.arg());
    let created = escapes(&root, &marker);
    let paths: Vec<&Path> = created.iter().map(|p| p.as_path()).collect();
    assert_escape_refused(&root, &["-v", &volume], &marker, &paths);
}

#[test]
fn volume_through_a_relative_symlink_is_refused() {
    if skip_unless_root() {
        return;
    }
    let root = TempRoot::with_probe("link-rel");
    root.symlink("../../..", "mnt");
    let source = TempRoot::empty("link-rel-src");
    let marker = harness::unique("link-rel");
    let volume = format!("{}:/mnt/{marker}", source.arg());
    let created = escapes(&root, &marker);
    let paths: Vec<&Path> = created.iter().map(|p| p.as_path()).collect();
    assert_escape_refused(&root, &["-v", &volume], &marker, &paths);
}

#[test]
fn file_volume_through_a_symlink_is_refused() {
    if skip_unless_root() {
        return;
    }
    let root = TempRoot::with_probe("link-file");
    root.symlink("/", "mnt");
    let source = TempRoot::empty("link-file-src");
    source.write("file", "x");
    let marker = harness::unique("link-file");
    let volume = format!("{}:/mnt/{marker}", source.join("file").display());
    let host = Path::new("/").join(&marker);
    assert_escape_refused(&root, &["-v", &volume], &marker, &[&host]);
}

#[test]
fn dangling_symlink_as_file_target_is_refused() {
    if skip_unless_root() {
        return;
    }
    // Binding a file over `cfg -> /etc/MARKER` must not create /etc/MARKER on the host.
    let root = TempRoot::with_probe("link-dangling");
    let marker = harness::unique("link-dangling");
    let host = Path::new("/etc").join(&marker);
    root.symlink(host.to_str().expect("UTF-8"), "cfg");
    let source = TempRoot::empty("link-dangling-src");
    source.write("file", "x");
    let volume = format!("{}:/cfg", source.join("file").display());
    assert_escape_refused(&root, &["-v", &volume], &marker, &[&host]);
}

#[test]
fn tmpfs_through_a_symlink_is_refused() {
    if skip_unless_root() {
        return;
    }
    let root = TempRoot::with_probe("link-tmpfs");
    root.symlink("/", "mnt");
    let marker = harness::unique("link-tmpfs");
    let tmpfs = format!("/mnt/{marker}");
    let host = Path::new("/").join(&marker);
    assert_escape_refused(&root, &["--tmpfs", &tmpfs], &marker, &[&host]);
}

#[test]
fn tmp_symlinked_to_host_etc_is_refused() {
    if skip_unless_root() {
        return;
    }
    // init mounts its own /tmp; with `tmp -> /etc` that must not become the host's /etc.
    let root = TempRoot::with_probe("link-tmp");
    root.symlink("/etc", "tmp");
    let marker = harness::unique("link-tmp");
    assert_escape_refused(&root, &[], &marker, &[]);
    assert!(
        Path::new("/etc/passwd").exists(),
        "the host's /etc lost its files"
    );
    assert!(
        !host_mount_points().iter().any(|m| m == "/etc"),
        "a mount appeared on /etc"
    );
}

#[test]
fn proc_symlinked_out_of_the_root_is_refused() {
    if skip_unless_root() {
        return;
    }
    let root = TempRoot::with_probe("link-proc");
    let marker = harness::unique("link-proc");
    let host = Path::new("/").join(&marker);
    root.symlink(host.to_str().expect("UTF-8"), "proc");
    assert_escape_refused(&root, &[], &marker, &[&host]);
}

/// `data -> .` inside the image: a volume, tmpfs or Landlock rule for /data would land on the
/// root itself (stacked over it, leaving the real root writable, or widening the rule to all of
/// it); `data -> proc` would put a volume over /proc. All are refused, and nothing is written.
#[test]
fn symlinks_inside_the_root_cannot_retarget_mounts_or_rules() {
    if skip_unless_root() {
        return;
    }
    let host = TempRoot::empty("symlink-retarget-host");
    let volume = format!("{}:/data", host.arg());
    for (link, opts) in [
        (".", vec!["--tmpfs", "/data"]),
        (".", vec!["-v", volume.as_str()]),
        ("proc", vec!["-v", volume.as_str()]),
        (".", vec!["--landlock-rw", "/data"]),
    ] {
        let root = TempRoot::with_probe("symlink-retarget");
        root.symlink(link, "data");
        let out = nucleus(harness::rootfs_args(&root, &opts, &["write", "/written"]));
        assert_eq!(out.code, 125, "data -> {link}, {opts:?}\n{out}");
        assert!(out.stderr.contains("symlink"), "{out}");
        assert!(
            !root.join("written").exists(),
            "the workload wrote into the image"
        );
    }
}
