//! Learning a profile from a real run: `--seccomp-trace`, `seccomp generate`, then running
//! under what was generated; and `--seccomp-log-denied`.

#[path = "../harness/mod.rs"]
mod harness;

use harness::{TempRoot, in_rootfs, nucleus, skip_unless_root};

/// The names recorded in an NDJSON trace, and its closing `lost` count.
fn traced(path: &std::path::Path) -> (Vec<String>, u64) {
    let text = std::fs::read_to_string(path).expect("trace written");
    let mut names = Vec::new();
    let mut lost = None;
    for line in text.lines() {
        let v: serde_json::Value = serde_json::from_str(line).expect("each line is JSON");
        if let Some(n) = v.get("lost") {
            lost = n.as_u64();
        } else if let Some(name) = v.get("name").and_then(|n| n.as_str()) {
            assert!(v["count"].as_u64().unwrap_or(0) >= 1, "{line}");
            names.push(name.to_owned());
        }
    }
    (names, lost.expect("a closing {\"lost\":N} line"))
}

#[test]
fn trace_generate_then_run_under_the_generated_profile() {
    if skip_unless_root() {
        return;
    }
    let dir = TempRoot::empty("sc-trace");
    let (trace, profile) = (dir.join("trace.ndjson"), dir.join("profile.json"));
    // `ls` runs as a child of the shell: its calls (getdents64) must be in the trace too.
    let script = "ls / >/dev/null; echo traced";
    let out = nucleus([
        "run",
        "--seccomp-trace",
        trace.to_str().unwrap(),
        "--",
        "sh",
        "-c",
        script,
    ]);
    assert_eq!((out.code, out.stdout.as_str()), (0, "traced\n"), "{out}");
    let (names, lost) = traced(&trace);
    assert_eq!(lost, 0, "the audit multicast reader lost records\n{out}");
    for needed in ["execve", "write", "getdents64", "exit_group"] {
        assert!(
            names.iter().any(|n| n == needed),
            "{needed} missing from {names:?}"
        );
    }
    assert!(
        !names.iter().any(|n| n == "mkdir"),
        "the workload never calls mkdir"
    );

    let generated = nucleus([
        "seccomp",
        "generate",
        trace.to_str().unwrap(),
        "-o",
        profile.to_str().unwrap(),
    ]);
    generated.assert_ok();

    // The same workload runs under what was learned ...
    let again = nucleus([
        "run",
        "--seccomp",
        profile.to_str().unwrap(),
        "--",
        "sh",
        "-c",
        script,
    ]);
    assert_eq!(
        (again.code, again.stdout.as_str()),
        (0, "traced\n"),
        "{again}"
    );
    // ... and a call it never made is denied.
    let more = nucleus([
        "run",
        "--seccomp",
        profile.to_str().unwrap(),
        "--",
        "sh",
        "-c",
        "mkdir /tmp/d && echo made",
    ]);
    assert_ne!(more.code, 0, "{more}");
    assert!(more.stderr.contains("Operation not permitted"), "{more}");
}

#[test]
fn records_of_other_processes_are_not_attributed() {
    if skip_unless_root() {
        return;
    }
    // Two traced sandboxes at once: each trace holds only its own workload's calls.
    let dir = TempRoot::empty("sc-trace-two");
    let root = TempRoot::with_probe("sc-trace-two-root");
    let (a, b) = (dir.join("a.ndjson"), dir.join("b.ndjson"));
    let busy = std::thread::spawn({
        let (root_arg, b) = (root.arg().to_owned(), b.clone());
        move || {
            nucleus([
                "run",
                "--seccomp-trace",
                b.to_str().unwrap(),
                "--rootfs",
                &root_arg,
                "--",
                "/probe",
                "syscall",
                "unshare",
            ])
        }
    });
    let out = in_rootfs(&root, &["--seccomp-trace", a.to_str().unwrap()], &["pid"]);
    assert_eq!(out.code, 0, "{out}");
    let other = busy.join().expect("second sandbox");
    assert_eq!(other.code, 0, "{other}");
    let (names_a, _) = traced(&a);
    let (names_b, _) = traced(&b);
    assert!(names_b.iter().any(|n| n == "unshare"), "{names_b:?}");
    assert!(
        !names_a.iter().any(|n| n == "unshare"),
        "the other sandbox's unshare leaked in: {names_a:?}"
    );
}

#[test]
fn denied_calls_are_streamed_as_json_lines() {
    if skip_unless_root() {
        return;
    }
    let root = TempRoot::with_probe("sc-log-denied");
    let out = in_rootfs(&root, &["--seccomp-log-denied"], &["syscall", "unshare"]);
    assert_eq!(
        (out.code, out.value("syscall unshare")),
        (0, "EPERM"),
        "{out}"
    );
    let line = out
        .stderr
        .lines()
        .find(|l| l.contains("\"unshare\""))
        .unwrap_or_else(|| panic!("no denial line for unshare\n{out}"));
    let v: serde_json::Value = serde_json::from_str(line).expect("JSON");
    assert_eq!(
        (v["name"].as_str(), v["action"].as_str()),
        (Some("unshare"), Some("ERRNO")),
        "{line}"
    );
    assert!(v["pid"].as_u64().is_some_and(|p| p > 1), "{line}");
}

#[test]
fn bad_traces_are_refused() {
    if skip_unless_root() {
        return;
    }
    let dir = TempRoot::empty("sc-bad-trace");
    dir.write(
        "bad.ndjson",
        "{\"arch\":\"x86_64\",\"syscall\":0,\"name\":\"read\",\"count\":1}\n",
    );
    let out = nucleus([
        "seccomp",
        "generate",
        dir.join("bad.ndjson").to_str().unwrap(),
        "-o",
        "/dev/null",
    ]);
    assert_eq!(out.code, 125, "{out}");
    assert_eq!(out.stderr.lines().count(), 1, "{out}");
    let missing = nucleus([
        "seccomp",
        "generate",
        "/nonexistent/trace",
        "-o",
        "/dev/null",
    ]);
    assert_eq!(missing.code, 125, "{missing}");
}
