//! The sandbox's filesystem: a read-only root, a writable /tmp, volumes, tmpfs mounts and a
//! minimal /dev. Every write goes to a temp directory of the test, never to the host's files.

#[path = "../harness/mod.rs"]
mod harness;

use harness::{TempRoot, in_default_root, in_rootfs, skip_unless_root};

/// What the probe's `write` verb puts into the files it creates.
const PROBE_CONTENTS: &str = "written by nucleus-probe\n";

#[test]
fn rootfs_is_read_only_and_tmp_is_writable() {
    if skip_unless_root() {
        return;
    }
    let root = TempRoot::with_probe("ro-root");
    let out = in_rootfs(&root, &[], &["write", "/created"]);
    out.assert_ok();
    assert_eq!(out.value("write /created"), "EROFS", "{out}");
    assert!(!root.join("created").exists());

    let tmp = in_rootfs(&root, &[], &["write", "/tmp/created"]);
    assert_eq!(tmp.value("write /tmp/created"), "ok", "{tmp}");
    // /tmp is the sandbox's own tmpfs, not the rootfs directory's tmp/.
    assert!(!root.join("tmp/created").exists());
}

#[test]
fn default_root_is_read_only_and_tmp_is_writable() {
    if skip_unless_root() {
        return;
    }
    for path in ["/created", "/etc/created", "/root/created"] {
        let out = in_default_root(&[], &["write", path]);
        out.assert_ok();
        assert_eq!(out.value(&format!("write {path}")), "EROFS", "{out}");
    }
    let tmp = in_default_root(&[], &["write", "/tmp/created"]);
    assert_eq!(tmp.value("write /tmp/created"), "ok", "{tmp}");
}

#[test]
fn rootfs_rw_makes_the_root_writable() {
    if skip_unless_root() {
        return;
    }
    let root = TempRoot::with_probe("rw-root");
    let out = in_rootfs(&root, &["--rootfs-rw"], &["write", "/created"]);
    out.assert_ok();
    assert_eq!(out.value("write /created"), "ok", "{out}");
    let on_host = std::fs::read_to_string(root.join("created")).expect("the file on the host");
    assert_eq!(on_host, PROBE_CONTENTS);
}

#[test]
fn read_only_volume_is_readable_but_not_writable() {
    if skip_unless_root() {
        return;
    }
    let root = TempRoot::with_probe("vol-ro");
    let data = TempRoot::empty("vol-ro-data");
    data.write("in.txt", "from the host");
    let volume = format!("{}:/data:ro", data.arg());
    let read = in_rootfs(&root, &["-v", &volume], &["read", "/data/in.txt"]);
    assert_eq!(read.value("read /data/in.txt"), "from the host", "{read}");
    let write = in_rootfs(&root, &["-v", &volume], &["write", "/data/created"]);
    write.assert_ok();
    assert_eq!(write.value("write /data/created"), "EROFS", "{write}");
    assert!(!data.join("created").exists());
    // The host's directory itself stays writable.
    std::fs::write(data.join("after"), "x").expect("the host dir is still writable");
}

#[test]
fn read_write_volume_writes_through_to_the_host() {
    if skip_unless_root() {
        return;
    }
    let root = TempRoot::with_probe("vol-rw");
    let data = TempRoot::empty("vol-rw-data");
    for (mode, name) in [("", "default"), (":rw", "explicit")] {
        let volume = format!("{}:/data{mode}", data.arg());
        let path = format!("/data/{name}");
        let out = in_rootfs(&root, &["-v", &volume], &["write", &path]);
        out.assert_ok();
        assert_eq!(out.value(&format!("write {path}")), "ok", "{out}");
        let on_host = std::fs::read_to_string(data.join(name)).expect("the file on the host");
        assert_eq!(on_host, PROBE_CONTENTS);
    }
}

#[test]
fn file_volume_binds_one_file() {
    if skip_unless_root() {
        return;
    }
    let root = TempRoot::with_probe("vol-file");
    let data = TempRoot::empty("vol-file-data");
    data.write("config", "one file");
    let volume = format!("{}:/etc/config:ro", data.join("config").display());
    let out = in_rootfs(&root, &["-v", &volume], &["read", "/etc/config"]);
    assert_eq!(out.value("read /etc/config"), "one file", "{out}");
}

#[test]
fn tmpfs_option_mounts_a_sized_noexec_tmpfs() {
    if skip_unless_root() {
        return;
    }
    let root = TempRoot::with_probe("tmpfs");
    let opt = ["--tmpfs", "/scratch:size=1m,mode=700"];
    let mounts = in_rootfs(&root, &opt, &["mounts"]);
    let scratch = mounts
        .values("mount")
        .into_iter()
        .find(|m| m.starts_with("/scratch "))
        .unwrap_or_else(|| panic!("no /scratch mount\n{mounts}"))
        .to_owned();
    let fields: Vec<&str> = scratch.split(' ').collect();
    assert_eq!(fields[1], "tmpfs", "{scratch}");
    for flag in ["rw", "nosuid", "nodev", "noexec"] {
        assert!(
            fields[2].split(',').any(|f| f == flag),
            "{flag} missing: {scratch}"
        );
    }
    assert!(fields[3].contains("size=1024k"), "{scratch}");
    assert!(fields[3].contains("mode=700"), "{scratch}");

    let small = in_rootfs(&root, &opt, &["fill", "/scratch/a", "524288"]);
    assert_eq!(small.value("fill /scratch/a"), "ok", "{small}");
    let big = in_rootfs(&root, &opt, &["fill", "/scratch/a", "2097152"]);
    assert_eq!(big.value("fill /scratch/a"), "ENOSPC", "{big}");
}

#[test]
fn read_only_tmpfs_is_not_writable() {
    if skip_unless_root() {
        return;
    }
    let root = TempRoot::with_probe("tmpfs-ro");
    let out = in_rootfs(&root, &["--tmpfs", "/scratch:ro"], &["write", "/scratch/x"]);
    out.assert_ok();
    assert_eq!(out.value("write /scratch/x"), "EROFS", "{out}");
}

#[test]
fn dev_holds_only_the_minimal_devices() {
    if skip_unless_root() {
        return;
    }
    let root = TempRoot::with_probe("dev");
    let out = in_rootfs(&root, &[], &["ls", "/dev"]);
    out.assert_ok();
    assert_eq!(
        out.value("ls"),
        "fd,full,null,ptmx,pts,random,shm,stderr,stdin,stdout,tty,urandom,zero",
        "{out}"
    );
}
