//! The embedded default root (no --rootfs): the host's programs, nothing else of the host.

#[path = "../harness/mod.rs"]
mod harness;

use harness::{in_default_root, nucleus, skip_unless_root};

#[test]
fn sh_echo_hi_prints_hi() {
    if skip_unless_root() {
        return;
    }
    // The README's first example.
    let out = nucleus(["run", "--", "sh", "-c", "echo hi"]);
    out.assert_ok();
    assert_eq!(out.stdout, "hi\n", "{out}");
}

#[test]
fn root_holds_only_system_dirs_and_generated_etc() {
    if skip_unless_root() {
        return;
    }
    let out = in_default_root(&[], &["ls", "/"]);
    out.assert_ok();
    let allowed = [
        "bin", "dev", "etc", "lib", "lib32", "lib64", "libx32", "probe", "proc", "root", "run",
        "sbin", "tmp", "usr",
    ];
    for name in out.value("ls").split(',') {
        assert!(
            allowed.contains(&name),
            "unexpected /{name} in the default root\n{out}"
        );
    }
    let etc = in_default_root(&[], &["ls", "/etc"]);
    assert_eq!(
        etc.value("ls"),
        "alternatives,group,hostname,hosts,ld.so.cache,nsswitch.conf,passwd",
        "{etc}"
    );
}

#[test]
fn generated_etc_names_the_hostname() {
    if skip_unless_root() {
        return;
    }
    let opts = ["--hostname", "etc-check"];
    let hostname = in_default_root(&opts, &["read", "/etc/hostname"]);
    assert_eq!(
        hostname.value("read /etc/hostname"),
        "etc-check",
        "{hostname}"
    );
    let hosts = in_default_root(&opts, &["read", "/etc/hosts"]);
    assert!(hosts.stdout.contains("127.0.1.1\tetc-check"), "{hosts}");
    let passwd = in_default_root(&[], &["read", "/etc/passwd"]);
    assert!(
        passwd.value("read /etc/passwd").starts_with("root:x:0:0:"),
        "{passwd}"
    );
}
