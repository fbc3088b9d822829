//! `--policy FILE.json` with `--policy-sha256`: one declarative file for seccomp, Landlock,
//! capabilities and rlimits, pinned by hash.

#[path = "../harness/mod.rs"]
mod harness;

use harness::{TempRoot, in_rootfs, skip_unless_root};

const POLICY: &str = r#"{
  "seccomp": {"defaultAction": "SCMP_ACT_ALLOW",
              "syscalls": [{"names": ["unshare"], "action": "SCMP_ACT_ERRNO", "errnoRet": 13}]},
  "capabilities": {"add": ["NET_RAW"]},
  "rlimits": {"nofile": "64:128"}
}"#;

fn sha256_of(path: &std::path::Path) -> String {
    let out = std::process::Command::new("sha256sum")
        .arg(path)
        .output()
        .expect("sha256sum");
    String::from_utf8_lossy(&out.stdout)
        .split_whitespace()
        .next()
        .unwrap_or_default()
        .to_owned()
}

#[test]
fn a_pinned_policy_applies_every_section() {
    if skip_unless_root() {
        return;
    }
    let dir = TempRoot::empty("policy");
    dir.write("p.json", POLICY);
    let file = dir.join("p.json");
    let (file_arg, sha) = (file.to_str().unwrap().to_owned(), sha256_of(&file));
    let root = TempRoot::with_probe("policy-root");
    let opts = ["--policy", &file_arg, "--policy-sha256", &sha];
    let caps = in_rootfs(&root, &opts, &["caps"]);
    assert_eq!(
        caps.value("CapEff"),
        "0000000000002000",
        "NET_RAW only\n{caps}"
    );
    let limit = in_rootfs(&root, &opts, &["rlimit", "nofile"]);
    assert_eq!(limit.value("rlimit nofile"), "64:128", "{limit}");
    let call = in_rootfs(&root, &opts, &["syscall", "unshare"]);
    assert_eq!(
        call.value("syscall unshare"),
        "EACCES",
        "the inline profile's errno 13\n{call}"
    );
    // A section given on the command line replaces the file's (capabilities, seccomp).
    let more = in_rootfs(
        &root,
        &[
            &opts[..],
            &["--cap-add", "CHOWN", "--seccomp", "unconfined"],
        ]
        .concat(),
        &["caps"],
    );
    assert_eq!(
        (more.value("CapEff"), more.value("Seccomp")),
        ("0000000000000001", "0"),
        "{more}"
    );
}

#[test]
fn a_wrong_pin_or_a_bad_file_refuses_to_start() {
    if skip_unless_root() {
        return;
    }
    let dir = TempRoot::empty("policy-bad");
    dir.write("p.json", POLICY);
    dir.write("typo.json", r#"{"capabilites": {"add": ["NET_RAW"]}}"#);
    dir.write("broken.json", "{");
    let root = TempRoot::with_probe("policy-bad-root");
    let (p, typo, broken) = (
        dir.join("p.json"),
        dir.join("typo.json"),
        dir.join("broken.json"),
    );
    let wrong = "0".repeat(64);
    let cases: [(Vec<&str>, &str); 4] = [
        (
            vec!["--policy", p.to_str().unwrap(), "--policy-sha256", &wrong],
            "refusing to start",
        ),
        (vec!["--policy", typo.to_str().unwrap()], "capabilites"),
        (vec!["--policy", broken.to_str().unwrap()], "malformed JSON"),
        (
            vec!["--policy", "/nonexistent/policy.json"],
            "/nonexistent/policy.json",
        ),
    ];
    for (opts, mentions) in cases {
        let out = in_rootfs(&root, &opts, &["pid"]);
        assert_eq!(out.code, 125, "{opts:?}\n{out}");
        assert!(out.stdout.is_empty(), "the workload ran\n{out}");
        assert!(
            out.stderr.lines().count() == 1 && out.stderr.contains(mentions),
            "{out}"
        );
    }
}
