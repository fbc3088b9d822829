//! Landlock from inside real sandboxes: writes and executions outside the allowed paths, TCP
//! ports, signals and abstract unix sockets leaving the sandbox. Every denial is checked
//! against `--landlock off`, which must let the same attempt through, so that a test cannot
//! pass because something else (a read-only mount, a missing file) refused it.
//!
//! Expectations follow the running kernel's Landlock ABI (0 = none), so that these tests also
//! run under older kernels (`scripts/test-kernels.sh`): there, best effort must still start
//! every sandbox, the report must say what is missing, and `--landlock-require` must refuse.

#[path = "../harness/mod.rs"]
mod harness;

use std::os::linux::net::SocketAddrExt;
use std::os::unix::net::{SocketAddr, UnixListener};

use harness::{Outcome, TempRoot, in_default_root, in_rootfs, nucleus, probe, skip_unless_root};

const OFF: &[&str] = &["--landlock", "off"];

fn abi() -> u32 {
    harness::sys::landlock_abi()
}

/// What an attempt Landlock forbids gives on this kernel: `denied` where the kernel has the
/// feature (from ABI `since`), what `--landlock off` gives otherwise.
fn expect(since: u32, denied: &'static str, allowed: &'static str) -> &'static str {
    if abi() >= since { denied } else { allowed }
}

/// `sh -c SCRIPT` on the default root with the probe at /probe and launcher options `opts`.
fn shell(opts: &[&str], script: &str) -> Outcome {
    let mut args = vec![
        "run".to_owned(),
        "-v".into(),
        format!("{}:/probe:ro", probe().display()),
    ];
    args.extend(opts.iter().map(|s| s.to_string()));
    args.extend(["--".into(), "sh".into(), "-c".into(), script.to_owned()]);
    nucleus(args)
}

/// Success, with an empty stderr where the kernel has Landlock; without it, options that name
/// Landlock rules get one warning line (best effort still starts the sandbox).
fn assert_ok_with_rules(out: &Outcome) {
    if abi() == 0 {
        assert_eq!(out.code, 0, "{out}");
        assert!(
            out.stderr.contains("WARN") && out.stderr.contains("no Landlock"),
            "{out}"
        );
        assert_eq!(out.stderr.lines().count(), 1, "{out}");
    } else {
        out.assert_ok();
    }
}

/// The `Landlock: ...` line of a run with `--log-level debug`.
fn report_line(out: &Outcome) -> &str {
    out.stderr
        .lines()
        .find_map(|l| l.find("Landlock: ").map(|i| &l[i..]))
        .unwrap_or_else(|| panic!("no Landlock report\n{out}"))
}

#[test]
fn writes_outside_writable_paths_fail_with_eacces() {
    if skip_unless_root() {
        return;
    }
    // /dev is a writable tmpfs (init's own), so only Landlock stands in the way.
    let root = TempRoot::with_probe("ll-write");
    let data = TempRoot::empty("ll-write-data");
    let volume = format!("{}:/data", data.arg());
    let out = in_rootfs(&root, &[], &["write", "/dev/created"]);
    out.assert_ok();
    assert_eq!(
        out.value("write /dev/created"),
        expect(1, "EACCES", "ok"),
        "{out}"
    );
    let out = in_rootfs(&root, OFF, &["write", "/dev/created"]);
    assert_eq!(out.value("write /dev/created"), "ok", "{out}");
    // A user rule adds to the defaults.
    let out = in_rootfs(
        &root,
        &["--landlock-rw", "/dev"],
        &["write", "/dev/created"],
    );
    assert_ok_with_rules(&out);
    assert_eq!(out.value("write /dev/created"), "ok", "{out}");

    // What the defaults leave writable.
    for path in ["/tmp/created", "/dev/shm/created", "/data/created"] {
        let out = in_rootfs(&root, &["-v", &volume], &["write", path]);
        out.assert_ok();
        assert_eq!(out.value(&format!("write {path}")), "ok", "{out}");
    }
    assert!(data.join("created").exists());
    let out = in_rootfs(&root, &[], &["openw", "/dev/null"]);
    assert_eq!(out.value("openw /dev/null"), "ok", "{out}");

    // The same on the default root.
    let out = in_default_root(&[], &["write", "/dev/created"]);
    out.assert_ok();
    assert_eq!(
        out.value("write /dev/created"),
        expect(1, "EACCES", "ok"),
        "{out}"
    );
    // A working directory is writable.
    let out = in_default_root(
        &["-v", &volume, "-w", "/data"],
        &["write", "/data/in-workdir"],
    );
    assert_eq!(out.value("write /data/in-workdir"), "ok", "{out}");
}

#[test]
fn programs_written_to_tmp_cannot_be_executed() {
    if skip_unless_root() {
        return;
    }
    let script = "/probe copy-self /tmp/p && /probe exec /tmp/p";
    let out = shell(&[], script);
    out.assert_ok();
    assert_eq!(out.value("copy-self /tmp/p"), "ok", "{out}");
    assert_eq!(out.value("exec /tmp/p"), expect(1, "EACCES", "ok"), "{out}");
    let out = shell(OFF, script);
    out.assert_ok();
    assert_eq!(out.value("exec /tmp/p"), "ok", "{out}");
    let out = shell(&["--landlock-exec", "/tmp"], script);
    assert_ok_with_rules(&out);
    assert_eq!(out.value("exec /tmp/p"), "ok", "{out}");
    // A shell and the host's programs still run: the system directories are executable.
    let out = shell(&[], "ls / >/dev/null && echo ran");
    out.assert_ok();
    assert_eq!(out.stdout, "ran\n");
}

#[test]
fn only_the_given_ports_can_be_bound_and_connected() {
    if skip_unless_root() {
        return;
    }
    let root = TempRoot::with_probe("ll-net");
    let rules = ["--landlock-connect", "40001", "--landlock-bind", "40003"];
    // Nothing listens in the sandbox's own network namespace: an allowed connect is refused
    // by the peer (ECONNREFUSED), a denied one by Landlock (EACCES).
    let cases = [
        (&["connect", "40001"], "ECONNREFUSED", "ECONNREFUSED"),
        (&["connect", "40002"], "EACCES", "ECONNREFUSED"),
        (&["bind", "40003"], "ok", "ok"),
        (&["bind", "40004"], "EACCES", "ok"),
    ];
    for (verb, denied, allowed) in cases {
        let key = verb.join(" ");
        let out = in_rootfs(&root, &rules, verb);
        assert_eq!(out.code, 0, "{out}");
        assert_eq!(out.value(&key), expect(4, denied, allowed), "{out}");
        let out = in_rootfs(&root, &[], verb);
        out.assert_ok();
        assert_eq!(out.value(&key), allowed, "without port rules\n{out}");
    }
    // Asked for by name and not enforced: one warning line.
    let out = in_rootfs(&root, &rules, &["connect", "40002"]);
    if abi() == 0 {
        assert_ok_with_rules(&out);
    } else if abi() < 4 {
        assert!(out.stderr.contains("WARN"), "{out}");
        assert!(out.stderr.contains("TCP port rules (ABI 4)"), "{out}");
    } else {
        assert!(out.stderr.is_empty(), "{out}");
    }
}

#[test]
fn signals_to_init_leave_the_sandbox_domain() {
    if skip_unless_root() {
        return;
    }
    // init is not under the workload's Landlock domain: with scoping, the workload may not
    // signal it (signal 0 only checks permission).
    let root = TempRoot::with_probe("ll-signal");
    let out = in_rootfs(&root, &[], &["signal", "1"]);
    out.assert_ok();
    assert_eq!(out.value("signal 1"), expect(6, "EPERM", "ok"), "{out}");
    let out = in_rootfs(&root, OFF, &["signal", "1"]);
    assert_eq!(out.value("signal 1"), "ok", "{out}");
    let out = in_rootfs(&root, &[], &["signal", "self"]);
    assert_eq!(out.value("signal self"), "ok", "{out}");
}

#[test]
fn abstract_unix_sockets_outside_the_sandbox_are_out_of_reach() {
    if skip_unless_root() {
        return;
    }
    // Abstract sockets belong to a network namespace: with --network host the sandbox shares
    // the host's, and only scoping keeps it from the host's daemons.
    let name = harness::unique("ll-abstract");
    let addr = SocketAddr::from_abstract_name(name.as_bytes()).unwrap();
    let _listener = UnixListener::bind_addr(&addr).expect("listening on the host");
    let root = TempRoot::with_probe("ll-abstract");
    let host = ["--network", "host"];
    let out = in_rootfs(&root, &host, &["abstract-connect", &name]);
    out.assert_ok();
    assert_eq!(
        out.value(&format!("abstract-connect {name}")),
        expect(6, "EPERM", "ok"),
        "{out}"
    );
    let off = ["--network", "host", "--landlock", "off"];
    let out = in_rootfs(&root, &off, &["abstract-connect", &name]);
    assert_eq!(
        out.value(&format!("abstract-connect {name}")),
        "ok",
        "{out}"
    );
    // Within the sandbox they work.
    let inner = harness::unique("ll-inner");
    let out = in_rootfs(&root, &[], &["abstract-self", &inner]);
    assert_eq!(out.value(&format!("abstract-self {inner}")), "ok", "{out}");
}

#[test]
fn the_report_matches_the_kernel() {
    if skip_unless_root() {
        return;
    }
    let root = TempRoot::with_probe("ll-report");
    let abi = abi();
    let out = in_rootfs(&root, &["--log-level", "debug"], &["pid"]);
    assert_eq!(out.code, 0, "{out}");
    let line = report_line(&out);
    match abi {
        0 => assert!(line.starts_with("Landlock: not enforced: "), "{line}"),
        1..=9 => {
            assert!(
                line.starts_with(&format!("Landlock: partially enforced (ABI {abi}): ")),
                "{line}"
            );
            // The first feature this kernel lacks is named with its ABI.
            let next = [2, 3, 5, 6, 9].into_iter().find(|n| *n > abi).unwrap();
            assert!(line.contains(&format!("(ABI {next})")), "{line}");
        }
        _ => assert!(line.starts_with("Landlock: fully enforced (ABI "), "{line}"),
    }
    assert_eq!(
        line.contains("scoped to the sandbox"),
        abi >= 6,
        "scoping from ABI 6: {line}"
    );
    // Less than everything is said at info level, everything at debug level.
    let out = in_rootfs(&root, &["--log-level", "info"], &["pid"]);
    assert_eq!(out.stderr.contains("Landlock: "), abi < 10, "{out}");
    // Nothing on stderr at the default level when no Landlock option was given.
    let out = in_rootfs(&root, &[], &["pid"]);
    out.assert_ok();
    let out = in_rootfs(
        &root,
        &["--landlock", "off", "--log-level", "info"],
        &["pid"],
    );
    assert!(
        !out.stderr.contains("Landlock: "),
        "off is said at debug level only\n{out}"
    );
}

#[test]
fn require_fails_closed_where_the_kernel_falls_short() {
    if skip_unless_root() {
        return;
    }
    let root = TempRoot::with_probe("ll-require");
    let out = in_rootfs(&root, &["--landlock-require"], &["write", "/dev/created"]);
    if abi() >= 6 {
        out.assert_ok();
        assert_eq!(out.value("write /dev/created"), "EACCES", "{out}");
    } else {
        assert_eq!(out.code, 125, "{out}");
        assert!(out.stdout.is_empty(), "the workload must not run\n{out}");
        assert!(
            out.stderr
                .starts_with("nucleus-launch: --landlock-require: "),
            "{out}"
        );
        assert!(out.stderr.contains("ABI 6"), "{out}");
    }
    let out = in_rootfs(
        &root,
        &["--landlock", "off", "--landlock-require"],
        &["pid"],
    );
    assert_eq!(out.code, 125, "{out}");
}

#[test]
fn a_rule_for_a_missing_path_names_the_option() {
    if skip_unless_root() {
        return;
    }
    let root = TempRoot::with_probe("ll-missing");
    let out = in_rootfs(&root, &["--landlock-ro", "/nonexistent"], &["pid"]);
    if abi() == 0 {
        // Nothing is applied, so nothing is opened: best effort starts, with a warning.
        assert_eq!(out.code, 0, "{out}");
        assert!(out.stderr.contains("WARN"), "{out}");
    } else {
        assert_eq!(out.code, 125, "{out}");
        assert_eq!(
            out.stderr,
            "nucleus-launch: --landlock-ro /nonexistent: No such file or directory in the sandbox\n",
            "{out}"
        );
    }
    // Bad values are refused before anything starts.
    let out = in_rootfs(&root, &["--landlock-connect", "0"], &["pid"]);
    assert_eq!(out.code, 125, "{out}");
    assert!(out.stderr.contains("port 0"), "{out}");
    let out = in_rootfs(&root, &["--landlock-exec", "relative"], &["pid"]);
    assert_eq!(out.code, 125, "{out}");
    assert!(out.stderr.contains("not an absolute path"), "{out}");
}

#[test]
fn rule_paths_beyond_the_users_reach_do_not_stop_the_sandbox() {
    if skip_unless_root() {
        return;
    }
    // The rules are built before the workload's user is taken on: a volume inside a directory
    // that user cannot enter still gets its rule, and the sandbox starts.
    let root = TempRoot::with_probe("ll-private");
    root.mkdir("private");
    std::fs::set_permissions(
        root.join("private"),
        std::os::unix::fs::PermissionsExt::from_mode(0o700),
    )
    .unwrap();
    let data = TempRoot::empty("ll-private-data");
    let volume = format!("{}:/private/data", data.arg());
    let out = in_rootfs(&root, &["-u", "1000", "-v", &volume], &["uid"]);
    out.assert_ok();
    let out = in_rootfs(
        &root,
        &["-u", "1000", "--landlock-ro", "/private"],
        &["uid"],
    );
    assert_ok_with_rules(&out);
}
