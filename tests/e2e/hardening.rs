//! Privilege hardening, tried from inside real sandboxes: capabilities (none by default, exactly
//! those asked for, in every set, also in children), locked securebits, setuid and file
//! capability binaries under no_new_privs, the operations capabilities guard (raw sockets,
//! mknod, chown), the masked and read-only `/proc` paths behind a verified `/dev/null`, init
//! out of the workload's reach, and `--ulimit`. Where a test expects a refusal it also shows
//! the probe succeeding once the matching capability is kept (or on the host), so that it
//! cannot pass by not testing.
//!
//! The probe never writes a kernel file: `openw` only opens and closes, the device nodes it
//! creates are never opened, a ptrace seize ends with the probe, and everything else acts on
//! the probe itself or on the sandbox's own `/tmp`.

#[path = "../harness/mod.rs"]
mod harness;

use std::os::unix::fs::{MetadataExt, PermissionsExt};
use std::path::Path;
use std::process::Command;
use std::sync::OnceLock;

use harness::{Outcome, TempRoot, in_default_root, in_rootfs, nucleus, skip, skip_unless_root};

/// Capability names by number (linux/capability.h), as `--cap-add` takes them.
const CAP_NAMES: [&str; 41] = [
    "CHOWN",
    "DAC_OVERRIDE",
    "DAC_READ_SEARCH",
    "FOWNER",
    "FSETID",
    "KILL",
    "SETGID",
    "SETUID",
    "SETPCAP",
    "LINUX_IMMUTABLE",
    "NET_BIND_SERVICE",
    "NET_BROADCAST",
    "NET_ADMIN",
    "NET_RAW",
    "IPC_LOCK",
    "IPC_OWNER",
    "SYS_MODULE",
    "SYS_RAWIO",
    "SYS_CHROOT",
    "SYS_PTRACE",
    "SYS_PACCT",
    "SYS_ADMIN",
    "SYS_BOOT",
    "SYS_NICE",
    "SYS_RESOURCE",
    "SYS_TIME",
    "SYS_TTY_CONFIG",
    "MKNOD",
    "LEASE",
    "AUDIT_WRITE",
    "AUDIT_CONTROL",
    "SETFCAP",
    "MAC_OVERRIDE",
    "MAC_ADMIN",
    "SYSLOG",
    "WAKE_ALARM",
    "BLOCK_SUSPEND",
    "AUDIT_READ",
    "PERFMON",
    "BPF",
    "CHECKPOINT_RESTORE",
];

/// Every capability set /proc/PID/status shows.
const CAP_SETS: [&str; 5] = ["CapInh", "CapPrm", "CapEff", "CapBnd", "CapAmb"];

/// SECBIT_NOROOT, _NOROOT_LOCKED, _NO_SETUID_FIXUP, _NO_SETUID_FIXUP_LOCKED and
/// _KEEP_CAPS_LOCKED; SECBIT_KEEP_CAPS (0x10) off.
const LOCKED_SECUREBITS: &str = "0x2f";

/// The OCI default masked paths under /proc, and its read-only ones.
const MASKED: [&str; 9] = [
    "/proc/acpi",
    "/proc/asound",
    "/proc/kcore",
    "/proc/keys",
    "/proc/latency_stats",
    "/proc/timer_list",
    "/proc/timer_stats",
    "/proc/sched_debug",
    "/proc/scsi",
];
const READ_ONLY: [&str; 5] = [
    "/proc/bus",
    "/proc/fs",
    "/proc/irq",
    "/proc/sys",
    "/proc/sysrq-trigger",
];

fn cap(name: &str) -> u64 {
    let i = CAP_NAMES
        .iter()
        .position(|n| *n == name)
        .unwrap_or_else(|| panic!("test bug: no capability {name}"));
    1 << i
}

/// A set as /proc/PID/status prints it.
fn hex(set: u64) -> String {
    format!("{set:016x}")
}

/// The value of a `Key:` line of the test process's own (the host's) /proc/self/status.
fn host_status(key: &str) -> String {
    std::fs::read_to_string("/proc/self/status")
        .expect("reading the test's own status")
        .lines()
        .find_map(|l| l.strip_prefix(key)?.strip_prefix(':'))
        .map(|v| v.trim().to_owned())
        .unwrap_or_else(|| panic!("no {key}: in the test's own status"))
}

/// The capabilities a launcher started by this (root) test process can hand on: root's execve
/// gives it the bounding set.
fn launcher_caps() -> u64 {
    u64::from_str_radix(&host_status("CapBnd"), 16).expect("CapBnd is hex")
}

/// Asserts every capability set on `prefix`-ed lines (`CapEff=...`, `child CapEff=...`) is
/// `want`, in each of the processes that printed them (`count` of them).
fn assert_caps(out: &Outcome, prefix: &str, count: usize, want: u64) {
    for set in CAP_SETS {
        let values = out.values(&format!("{prefix}{set}"));
        assert_eq!(values.len(), count, "{prefix}{set}: {count} lines\n{out}");
        for v in values {
            assert_eq!(v, hex(want), "{prefix}{set}\n{out}");
        }
    }
}

/// `--landlock off` when the launcher has Landlock (on by default), else nothing: the checks
/// that show what the workload could do without the feature under test must not be stopped by
/// Landlock instead.
fn landlock_off() -> &'static [&'static str] {
    static OFF: OnceLock<bool> = OnceLock::new();
    let has = *OFF.get_or_init(|| {
        let out = nucleus(["run", "--help"]);
        out.stdout.contains("--landlock ")
    });
    if has { &["--landlock", "off"] } else { &[] }
}

/// `opts` followed by `extra`.
fn with<'a>(opts: &[&'a str], extra: &[&'a str]) -> Vec<&'a str> {
    let mut v = opts.to_vec();
    v.extend(extra);
    v
}

fn ok(out: Outcome) -> Outcome {
    out.assert_ok();
    out
}

/// `fork-caps` (the probe and a forked child) and `fork-exec /probe caps` (an executed child,
/// by fork+execv and by std's spawn) with `opts`: all must show `want` in every set.
fn assert_caps_everywhere(root: &TempRoot, opts: &[&str], want: u64) {
    let out = ok(in_rootfs(root, opts, &["fork-caps"]));
    assert_caps(&out, "", 1, want);
    assert_caps(&out, "child ", 1, want);
    assert_eq!(out.value("child_status"), "0", "{out}");
    assert_eq!(out.value("NoNewPrivs"), "1", "{out}");
    assert_eq!(out.value("child NoNewPrivs"), "1", "{out}");
    let out = ok(in_rootfs(root, opts, &["fork-exec", "/probe", "caps"]));
    assert_eq!(out.value("fork-exec"), "0", "{out}");
    assert_eq!(out.value("spawn"), "0", "{out}");
    assert_caps(&out, "", 2, want);
}

#[test]
fn no_capability_by_default_in_the_workload_nor_its_children() {
    if skip_unless_root() {
        return;
    }
    // The host has them, so a sandbox that kept them would show them.
    assert_ne!(
        launcher_caps(),
        0,
        "the test needs a root with capabilities"
    );
    let root = TempRoot::with_probe("caps-none");
    assert_caps_everywhere(&root, &[], 0);
    assert_caps_everywhere(&root, &["--user", "1000"], 0);
    // The embedded default root and `--cap-drop ALL` alike.
    let out = ok(in_default_root(&[], &["fork-caps"]));
    assert_caps(&out, "", 1, 0);
    assert_caps(&out, "child ", 1, 0);
    assert_caps_everywhere(&root, &["--cap-drop", "ALL"], 0);
}

#[test]
fn cap_add_keeps_exactly_those_in_every_set() {
    if skip_unless_root() {
        return;
    }
    let root = TempRoot::with_probe("caps-add");
    let want = cap("NET_RAW") | cap("CHOWN");
    assert_caps_everywhere(&root, &["--cap-add", "NET_RAW,CHOWN"], want);
    // Every spelling, repeated options, and `--cap-drop ALL` with adds ("only these").
    assert_caps_everywhere(
        &root,
        &["--cap-add", "cap_net_raw", "--cap-add", "Chown"],
        want,
    );
    assert_caps_everywhere(
        &root,
        &["--cap-drop", "ALL", "--cap-add", "CAP_NET_RAW,CAP_CHOWN"],
        want,
    );
}

#[test]
fn cap_add_for_a_non_root_user_survives_exec() {
    if skip_unless_root() {
        return;
    }
    let root = TempRoot::with_probe("caps-user");
    let opts = ["--user", "1000", "--cap-add", "NET_RAW"];
    let out = ok(in_rootfs(&root, &opts, &["uid"]));
    for key in ["uid", "euid", "suid", "fsuid"] {
        assert_eq!(out.value(key), "1000", "{key}\n{out}");
    }
    // The ambient set carries it across execve for a non-root user.
    assert_caps_everywhere(&root, &opts, cap("NET_RAW"));
    let out = ok(in_rootfs(&root, &opts, &["socket", "2", "3", "1"]));
    assert_eq!(out.value("socket"), "ok", "{out}");
}

/// `--cap-drop` values for the capabilities the launcher lacks, plus `also`: ALL can only
/// mean what the launcher itself holds (some hosts lack e.g. CAP_SYS_RESOURCE).
fn drops_with_lacking(also: &[&str]) -> String {
    let held = launcher_caps();
    let mut drops: Vec<&str> = also.to_vec();
    drops.extend(CAP_NAMES.iter().filter(|n| held & cap(n) == 0));
    drops.join(",")
}

#[test]
fn cap_add_all_with_one_dropped_keeps_all_others() {
    if skip_unless_root() {
        return;
    }
    let root = TempRoot::with_probe("caps-all");
    let all: u64 = (1 << CAP_NAMES.len()) - 1;
    let want = all & launcher_caps() & !cap("SYS_ADMIN");
    let drop = drops_with_lacking(&["SYS_ADMIN"]);
    assert_caps_everywhere(&root, &["--cap-add", "ALL", "--cap-drop", &drop], want);
    // With seccomp out of the way the kernel decides: sethostname checks CAP_SYS_ADMIN before
    // its arguments (EINVAL: too long a name, so that nothing is set when it is held).
    let with_admin = drops_with_lacking(&[]);
    for (drop, want) in [(&drop, "EPERM"), (&with_admin, "EINVAL")] {
        let mut opts = vec!["--cap-add", "ALL", "--seccomp", "unconfined"];
        if !drop.is_empty() {
            opts.extend(["--cap-drop", drop.as_str()]);
        }
        let out = ok(in_rootfs(&root, &opts, &["syscall", "sethostname"]));
        assert_eq!(out.value("syscall sethostname"), want, "{opts:?}\n{out}");
    }
}

#[test]
fn a_capability_the_launcher_lacks_is_refused_before_the_workload_runs() {
    if skip_unless_root() {
        return;
    }
    let held = launcher_caps();
    let Some(missing) = CAP_NAMES.iter().find(|n| held & cap(n) == 0) else {
        eprintln!("NOTE: the launcher holds every capability; nothing to check");
        return;
    };
    let root = TempRoot::with_probe("caps-lacking");
    let out = in_rootfs(&root, &["--cap-add", missing], &["caps"]);
    assert_eq!(out.code, 125, "{out}");
    assert!(out.stdout.is_empty(), "the workload ran\n{out}");
    let lines: Vec<&str> = out.stderr.lines().collect();
    assert!(
        lines.len() == 1 && lines[0].starts_with("nucleus-launch: "),
        "expected one `nucleus-launch: ` line\n{out}"
    );
    assert!(lines[0].contains(missing), "{out}");
}

#[test]
fn capabilities_decide_raw_sockets_mknod_and_chown() {
    if skip_unless_root() {
        return;
    }
    let root = TempRoot::with_probe("caps-ops");
    // socket(AF_INET, SOCK_RAW, IPPROTO_ICMP); the default seccomp profile allows it.
    let raw = ["socket", "2", "3", "1"];
    let mknod = ["mknod", "/tmp/node"];
    let chown = ["chown", "/tmp/file", "4242"];
    for user in [&[][..], &["--user", "1000"]] {
        let out = ok(in_rootfs(&root, user, &raw));
        assert_eq!(out.value("socket"), "EPERM", "{user:?}\n{out}");
        let out = ok(in_rootfs(&root, user, &mknod));
        assert_eq!(out.value("mknod /tmp/node"), "EPERM", "{user:?}\n{out}");
        let out = ok(in_rootfs(&root, user, &chown));
        assert_eq!(out.value("chown /tmp/file"), "EPERM", "{user:?}\n{out}");
        assert_ne!(out.value("owner /tmp/file"), "4242", "{user:?}\n{out}");

        // Each works with its own capability, and only with that one.
        let adding = |name: &'static str| with(user, &["--cap-add", name]);
        let out = ok(in_rootfs(&root, &adding("NET_RAW"), &raw));
        assert_eq!(out.value("socket"), "ok", "{user:?}\n{out}");
        let out = ok(in_rootfs(&root, &adding("NET_RAW"), &mknod));
        assert_eq!(out.value("mknod /tmp/node"), "EPERM", "{user:?}\n{out}");
        let out = ok(in_rootfs(&root, &adding("MKNOD"), &mknod));
        assert_eq!(out.value("mknod /tmp/node"), "ok", "{user:?}\n{out}");
        let out = ok(in_rootfs(&root, &adding("MKNOD"), &chown));
        assert_eq!(out.value("chown /tmp/file"), "EPERM", "{user:?}\n{out}");
        let out = ok(in_rootfs(&root, &adding("CHOWN"), &chown));
        assert_eq!(out.value("chown /tmp/file"), "ok", "{user:?}\n{out}");
        assert_eq!(out.value("owner /tmp/file"), "4242", "{user:?}\n{out}");
        let out = ok(in_rootfs(&root, &adding("CHOWN"), &raw));
        assert_eq!(out.value("socket"), "EPERM", "{user:?}\n{out}");
    }
}

#[test]
fn securebits_are_locked_and_capabilities_cannot_be_regained() {
    if skip_unless_root() {
        return;
    }
    let root = TempRoot::with_probe("securebits");
    // CAP_SETPCAP would allow changing unlocked securebits: the locks still hold.
    for opts in [&[][..], &["--user", "1000"], &["--cap-add", "SETPCAP"]] {
        let out = ok(in_rootfs(&root, opts, &["securebits"]));
        assert_eq!(
            out.value("securebits"),
            LOCKED_SECUREBITS,
            "{opts:?}\n{out}"
        );
        assert_eq!(out.value("unlock"), "EPERM", "{opts:?}\n{out}");
        assert_eq!(out.value("keepcaps"), "EPERM", "{opts:?}\n{out}");
        assert_eq!(
            out.value("securebits_after"),
            LOCKED_SECUREBITS,
            "{opts:?}\n{out}"
        );
    }
    // CAP_SYS_ADMIN (21) back by capset or into the ambient set: refused, nothing changes.
    let admin = cap("SYS_ADMIN").trailing_zeros().to_string();
    for (opts, kept) in [
        (&[][..], 0),
        (&["--user", "1000"][..], 0),
        (
            &["--cap-add", "NET_RAW,SETPCAP"][..],
            cap("NET_RAW") | cap("SETPCAP"),
        ),
    ] {
        let out = ok(in_rootfs(&root, opts, &["regain-caps", &admin]));
        assert_eq!(out.value("capset"), "EPERM", "{opts:?}\n{out}");
        assert_eq!(out.value("ambient"), "EPERM", "{opts:?}\n{out}");
        assert_caps(&out, "after ", 1, kept);
    }
    // The verb does report success for a capability that is held.
    let raw = cap("NET_RAW").trailing_zeros().to_string();
    let out = ok(in_rootfs(
        &root,
        &["--cap-add", "NET_RAW"],
        &["regain-caps", &raw],
    ));
    assert_eq!(out.value("capset"), "ok", "{out}");
    assert_eq!(out.value("ambient"), "ok", "{out}");
}

/// Copies the probe to `dest` in a separate process (see `harness::rootfs`: no write fd to an
/// executable may live in this multi-threaded process).
fn copy_probe(dest: &Path) {
    let status = Command::new("cp")
        .arg(harness::probe())
        .arg(dest)
        .status()
        .expect("running cp");
    assert!(status.success(), "cp: {status}");
}

/// `run OPTS --rootfs ROOT -- BINARY VERB...`: a copy of the probe other than /probe.
fn run_binary(root: &TempRoot, opts: &[&str], binary: &str, verb: &[&str]) -> Outcome {
    let mut args = vec!["run".to_owned()];
    args.extend(opts.iter().map(|s| s.to_string()));
    args.extend([
        "--rootfs".into(),
        root.arg().into(),
        "--".into(),
        binary.into(),
    ]);
    args.extend(verb.iter().map(|s| s.to_string()));
    nucleus(args)
}

#[test]
fn setuid_root_binary_gains_nothing() {
    if skip_unless_root() {
        return;
    }
    let root = TempRoot::with_probe("setuid");
    // A copy, not a link: the mode must not change the probe every other test runs.
    let suid = root.join("suid-probe");
    copy_probe(&suid);
    std::fs::set_permissions(&suid, std::fs::Permissions::from_mode(0o4755)).expect("chmod 4755");
    let meta = std::fs::metadata(&suid).expect("stat the setuid probe");
    assert_eq!((meta.uid(), meta.mode() & 0o7777), (0, 0o4755));
    // The root is mounted without nosuid: only no_new_privs stands in the way.
    let out = ok(in_rootfs(&root, &[], &["mounts"]));
    let root_mount = out
        .values("mount")
        .into_iter()
        .find(|m| m.starts_with("/ "))
        .unwrap_or_else(|| panic!("no / mount\n{out}"));
    assert!(!root_mount.contains("nosuid"), "{out}");

    let user = ["--user", "1000"];
    let out = ok(run_binary(&root, &user, "/suid-probe", &["uid"]));
    for key in ["uid", "euid", "suid", "fsuid"] {
        assert_eq!(out.value(key), "1000", "{key}\n{out}");
    }
    let out = ok(run_binary(&root, &user, "/suid-probe", &["caps"]));
    for set in CAP_SETS {
        assert_eq!(out.value(set), hex(0), "{set}\n{out}");
    }
    assert_eq!(out.value("NoNewPrivs"), "1", "{out}");
    // Executed by a child of the workload too.
    let out = ok(in_rootfs(
        &root,
        &user,
        &["fork-exec", "/suid-probe", "uid"],
    ));
    assert_eq!(out.value("fork-exec"), "0", "{out}");
    for euid in out.values("euid") {
        assert_eq!(euid, "1000", "{out}");
    }
}

/// A copy of the probe at `rel` in `root` with file capabilities `caps` (setcap syntax).
fn with_file_caps(setcap: &str, root: &TempRoot, rel: &str, caps: &str) {
    copy_probe(&root.join(rel));
    let status = Command::new(setcap)
        .arg(caps)
        .arg(root.join(rel))
        .status()
        .expect("running setcap");
    assert!(status.success(), "setcap {caps}: {status}");
}

#[test]
fn file_capabilities_grant_nothing() {
    if skip_unless_root() {
        return;
    }
    let setcap = ["/usr/sbin/setcap", "/sbin/setcap", "/usr/bin/setcap"]
        .into_iter()
        .find(|p| Path::new(p).is_file());
    let Some(setcap) = setcap else {
        skip(Some("setcap (libcap2-bin) is not installed".to_owned()));
        return;
    };
    let root = TempRoot::with_probe("filecaps");
    // Permitted and inheritable only: it runs, with nothing.
    with_file_caps(setcap, &root, "fcap-probe", "cap_net_raw,cap_sys_admin+ip");
    // Effective too: the kernel refuses to start a binary that would lack them.
    with_file_caps(setcap, &root, "fcap-eff", "cap_net_raw,cap_sys_admin+eip");
    for user in [&[][..], &["--user", "1000"]] {
        let out = ok(run_binary(&root, user, "/fcap-probe", &["caps"]));
        for set in CAP_SETS {
            assert_eq!(out.value(set), hex(0), "{user:?} {set}\n{out}");
        }
        let out = ok(run_binary(
            &root,
            user,
            "/fcap-probe",
            &["socket", "2", "3", "1"],
        ));
        assert_eq!(out.value("socket"), "EPERM", "{user:?}\n{out}");

        let out = run_binary(&root, user, "/fcap-eff", &["caps"]);
        assert_eq!(out.code, 126, "{user:?}\n{out}");
        assert!(out.stdout.is_empty(), "{user:?}\n{out}");
        let out = ok(in_rootfs(&root, user, &["fork-exec", "/fcap-eff", "caps"]));
        assert_eq!(out.value("fork-exec"), "127", "{user:?}\n{out}");
        assert_eq!(out.value("spawn"), "EPERM", "{user:?}\n{out}");
        assert!(out.values("CapEff").is_empty(), "{user:?}\n{out}");
    }
    // The same binary does run once the capabilities it wants are kept.
    let opts = ["--cap-add", "NET_RAW,SYS_ADMIN"];
    let out = ok(run_binary(
        &root,
        &opts,
        "/fcap-eff",
        &["socket", "2", "3", "1"],
    ));
    assert_eq!(out.value("socket"), "ok", "{out}");
}

/// Whether `path` exists on the host's /proc (the same kernel as the sandbox's).
fn on_host(path: &str) -> bool {
    std::fs::symlink_metadata(path).is_ok()
}

#[test]
fn masked_proc_paths_are_empty_or_absent() {
    if skip_unless_root() {
        return;
    }
    // Unmasked, these files are not empty: the host shows it.
    let host_timers = std::fs::read_to_string("/proc/timer_list").expect("reading timer_list");
    assert!(
        !host_timers.trim().is_empty(),
        "the host's timer_list is empty"
    );
    let root = TempRoot::with_probe("masks");
    let mounts = ok(in_rootfs(&root, &[], &["mounts"]));
    let mount_of = |path: &str| {
        mounts
            .values("mount")
            .into_iter()
            .find(|m| m.split(' ').next() == Some(path))
            .map(str::to_owned)
    };
    let mut checked = 0;
    for path in MASKED {
        let stat = ok(in_rootfs(&root, &[], &["stat", path]));
        let kind = stat.value(&format!("stat {path}"));
        if !on_host(path) {
            // Kernels differ in what /proc holds; what the kernel lacks stays absent.
            assert_eq!(kind, "ENOENT", "{path}\n{stat}");
            continue;
        }
        checked += 1;
        let mount = mount_of(path).unwrap_or_else(|| panic!("{path} is no mount\n{mounts}"));
        if Path::new(path).is_dir() {
            // An empty, read-only tmpfs.
            assert_eq!(kind, "dir", "{path}\n{stat}");
            assert_eq!(stat.value(&format!("fs {path}")), "tmpfs", "{path}\n{stat}");
            assert!(mount.contains(" tmpfs ro,"), "{path}: {mount}");
            let out = ok(in_rootfs(&root, &[], &["ls", path]));
            assert_eq!(out.value("ls"), "", "{path}\n{out}");
        } else {
            // The null device, which reads empty.
            assert_eq!(kind, "chr 1:3", "{path}\n{stat}");
            let out = ok(in_rootfs(&root, &[], &["read", path]));
            assert_eq!(out.value(&format!("read {path}")), "", "{path}\n{out}");
        }
    }
    assert!(
        checked >= 2,
        "fewer masked paths than expected on this kernel"
    );
    for path in ["/proc/keys", "/proc/timer_list"] {
        let out = ok(in_rootfs(&root, &[], &["read", path]));
        assert_eq!(out.value(&format!("read {path}")), "", "{out}");
    }
    // The embedded default root is masked the same way.
    let out = ok(in_default_root(&[], &["stat", "/proc/timer_list"]));
    assert_eq!(out.value("stat /proc/timer_list"), "chr 1:3", "{out}");
    let out = ok(in_default_root(&[], &["read", "/proc/timer_list"]));
    assert_eq!(out.value("read /proc/timer_list"), "", "{out}");
}

/// The first file under `dir` (depth first, sorted) its owner may write.
fn owner_writable_file(dir: &Path) -> Option<String> {
    let mut entries: Vec<_> = std::fs::read_dir(dir).ok()?.flatten().collect();
    entries.sort_by_key(|e| e.file_name());
    for e in entries {
        let Ok(meta) = e.path().symlink_metadata() else {
            continue;
        };
        if meta.is_file() && meta.mode() & 0o200 != 0 {
            return e.path().to_str().map(str::to_owned);
        }
        if meta.is_dir()
            && let Some(found) = owner_writable_file(&e.path())
        {
            return Some(found);
        }
    }
    None
}

#[test]
fn proc_knobs_cannot_be_opened_for_writing() {
    if skip_unless_root() {
        return;
    }
    let root = TempRoot::with_probe("proc-ro");
    // Root-owned and writable by their owner: only the read-only mount refuses root (EROFS,
    // not EACCES). Host-wide, all but hostname: a write would change the host.
    let mut paths: Vec<String> = [
        "/proc/sys/kernel/core_pattern",
        "/proc/sys/vm/drop_caches",
        "/proc/sys/kernel/hostname",
        "/proc/irq/default_smp_affinity",
        "/proc/sysrq-trigger",
    ]
    .into_iter()
    .filter(|p| on_host(p))
    .map(str::to_owned)
    .collect();
    paths.extend(owner_writable_file(Path::new("/proc/bus")));
    paths.extend(owner_writable_file(Path::new("/proc/fs")));
    // With Landlock (where the launcher has it) and without: the mounts refuse.
    for ll in [&[][..], landlock_off()] {
        for path in &paths {
            let verb = ["openw", path.as_str()];
            let key = format!("openw {path}");
            let out = ok(in_rootfs(&root, ll, &verb));
            assert_eq!(out.value(&key), "EROFS", "{ll:?}\n{out}");
            let out = ok(in_rootfs(&root, &with(ll, &["--user", "1000"]), &verb));
            assert_ne!(out.value(&key), "ok", "{ll:?}\n{out}");
            // Capabilities do not help against a read-only mount.
            let opts = with(ll, &["--cap-add", "DAC_OVERRIDE,SYS_ADMIN"]);
            let out = ok(in_rootfs(&root, &opts, &verb));
            assert_eq!(out.value(&key), "EROFS", "{opts:?}\n{out}");
        }
    }
    // The verb does open a /proc file for writing where nothing forbids it.
    let out = ok(in_rootfs(
        &root,
        landlock_off(),
        &["openw", "/proc/self/comm"],
    ));
    assert_eq!(out.value("openw /proc/self/comm"), "ok", "{out}");
    // Each read-only path present is a read-only mount of proc.
    let out = ok(in_rootfs(&root, &[], &["mounts"]));
    for path in READ_ONLY.iter().filter(|p| on_host(p)) {
        let mount = out
            .values("mount")
            .into_iter()
            .find(|m| m.split(' ').next() == Some(*path))
            .unwrap_or_else(|| panic!("{path} is no mount\n{out}"));
        assert!(mount.starts_with(&format!("{path} proc ro,")), "{mount}");
    }
    let out = ok(in_default_root(
        &[],
        &["openw", "/proc/sys/kernel/core_pattern"],
    ));
    assert_eq!(
        out.value("openw /proc/sys/kernel/core_pattern"),
        "EROFS",
        "{out}"
    );
}

#[test]
fn a_fresh_procfs_cannot_unmask_proc() {
    if skip_unless_root() {
        return;
    }
    let root = TempRoot::with_probe("proc-fresh");
    // The default profile denies unshare outright.
    let out = ok(in_rootfs(&root, &[], &["userns-mount", "/tmp"]));
    assert_eq!(out.value("userns-mount proc"), "unshare:EPERM", "{out}");
    // Without it, a user namespace gives the workload every capability over new mount and pid
    // namespaces: a tmpfs mounts, but the kernel refuses a procfs that would show more than
    // the masked /proc (mount_too_revealing), which it allows over an unmasked one. Landlock,
    // where the launcher has it, refuses every mount: it is off here to test the masks.
    for user in [&[][..], &["--user", "1000"]] {
        let opts = with(&with(landlock_off(), &["--seccomp", "unconfined"]), user);
        let out = ok(in_rootfs(&root, &opts, &["userns-mount", "/tmp"]));
        let tmpfs = out.value("userns-mount tmpfs");
        let unavailable = tmpfs.starts_with("unshare:");
        if skip(unavailable.then(|| format!("no user namespaces here ({tmpfs})"))) {
            return;
        }
        assert_eq!(tmpfs, "ok", "{opts:?}\n{out}");
        assert_eq!(out.value("userns-mount proc"), "EPERM", "{opts:?}\n{out}");
        // With Landlock, if any, too.
        let opts = with(&["--seccomp", "unconfined"], user);
        let out = ok(in_rootfs(&root, &opts, &["userns-mount", "/tmp"]));
        assert_eq!(out.value("userns-mount proc"), "EPERM", "{opts:?}\n{out}");
    }
}

#[test]
fn a_dev_null_planted_in_the_rootfs_is_never_used_for_masks() {
    if skip_unless_root() {
        return;
    }
    let victims = TempRoot::empty("null-victim");
    victims.write("victim", "host file: must stay as it is\n");
    let victim = victims.join("victim");
    let before = std::fs::metadata(&victim).expect("stat the victim");
    let victims_name = victims
        .path()
        .file_name()
        .and_then(|n| n.to_str())
        .expect("a UTF-8 temp name")
        .to_owned();
    let absolute = victim.to_str().expect("a UTF-8 temp path").to_owned();
    // The rootfs sits next to the victim's directory in the temp dir.
    let relative = format!("../../{victims_name}/victim");
    let cases = [
        "absolute symlink",
        "relative symlink",
        "regular file",
        "missing",
        "no /dev",
    ];
    for case in cases {
        let root = TempRoot::with_probe("null-planted");
        match case {
            "absolute symlink" => {
                root.mkdir("dev").symlink(&absolute, "dev/null");
            }
            "relative symlink" => {
                root.mkdir("dev").symlink(&relative, "dev/null");
            }
            "regular file" => {
                root.mkdir("dev").write("dev/null", "planted\n");
            }
            "missing" => {
                root.mkdir("dev");
            }
            _ => {}
        }
        for path in ["/proc/keys", "/proc/timer_list", "/dev/null"] {
            let out = ok(in_rootfs(&root, &[], &["stat", path]));
            assert_eq!(
                out.value(&format!("stat {path}")),
                "chr 1:3",
                "{case}\n{out}"
            );
        }
        for path in ["/proc/keys", "/proc/timer_list"] {
            let out = ok(in_rootfs(&root, &[], &["read", path]));
            assert_eq!(out.value(&format!("read {path}")), "", "{case}\n{out}");
        }
        if case == "regular file" {
            let planted = std::fs::read_to_string(root.join("dev/null")).expect("reading");
            assert_eq!(planted, "planted\n", "{case}");
        }
        let after = std::fs::metadata(&victim).expect("stat the victim");
        assert_eq!(
            std::fs::read_to_string(&victim).expect("reading the victim"),
            "host file: must stay as it is\n",
            "{case}"
        );
        assert_eq!(
            (after.mtime(), after.mtime_nsec(), after.ino()),
            (before.mtime(), before.mtime_nsec(), before.ino()),
            "{case}: the victim was touched"
        );
    }
}

/// The value of a `Key:` line in the output of the probe's `read /proc/PID/status`.
fn status_field<'a>(out: &'a Outcome, key: &str) -> &'a str {
    out.stdout
        .lines()
        .map(|l| l.rsplit_once('=').map_or(l, |(_, v)| v)) // the first line: `read PATH=Name:`
        .find_map(|l| l.strip_prefix(key)?.strip_prefix(':'))
        .map(str::trim)
        .unwrap_or_else(|| panic!("no {key}: in the status\n{out}"))
}

#[test]
fn init_is_out_of_the_workloads_reach() {
    if skip_unless_root() {
        return;
    }
    let root = TempRoot::with_probe("init-reach");
    let out = ok(in_rootfs(&root, &[], &["read", "/proc/1/status"]));
    assert_eq!(status_field(&out, "Name"), "nucleus-init", "{out}");
    assert_eq!(status_field(&out, "Seccomp"), "2", "{out}");
    assert_eq!(status_field(&out, "NoNewPrivs"), "1", "{out}");
    // With seccomp or without, as root or not, with Landlock or without: without
    // CAP_SYS_PTRACE nothing of init can be read, written or traced.
    for ll in [&[][..], landlock_off()] {
        for opts in [
            &[][..],
            &["--seccomp", "unconfined"],
            &["--user", "1000", "--seccomp", "unconfined"],
        ] {
            let opts = with(ll, opts);
            let out = ok(in_rootfs(&root, &opts, &["openw", "/proc/1/mem"]));
            assert_eq!(out.value("openw /proc/1/mem"), "EACCES", "{opts:?}\n{out}");
            let out = ok(in_rootfs(&root, &opts, &["exe"]));
            assert_eq!(out.value("exe"), "EACCES", "{opts:?}\n{out}");
            let out = ok(in_rootfs(&root, &opts, &["read", "/proc/1/environ"]));
            let environ = out.value("read /proc/1/environ");
            assert_eq!(environ, "EACCES", "{opts:?}\n{out}");
            let out = ok(in_rootfs(&root, &opts, &["ptrace-attach", "1"]));
            assert_eq!(out.value("ptrace 1"), "EPERM", "{opts:?}\n{out}");
        }
        // Every other capability the launcher holds does not make up for CAP_SYS_PTRACE.
        let drop = drops_with_lacking(&["SYS_PTRACE"]);
        let all_but = ["--cap-add", "ALL", "--cap-drop", &drop];
        let opts = with(&with(ll, &all_but), &["--seccomp", "unconfined"]);
        let out = ok(in_rootfs(&root, &opts, &["openw", "/proc/1/mem"]));
        assert_eq!(out.value("openw /proc/1/mem"), "EACCES", "{opts:?}\n{out}");
        let out = ok(in_rootfs(&root, &opts, &["ptrace-attach", "1"]));
        assert_eq!(out.value("ptrace 1"), "EPERM", "{opts:?}\n{out}");
    }
    // What the checks would see if the workload could reach init: CAP_SYS_PTRACE (asked for
    // explicitly) opens init's memory, and without seccomp seizes it (released at exit).
    let opts = with(
        landlock_off(),
        &["--cap-add", "SYS_PTRACE", "--seccomp", "unconfined"],
    );
    let out = ok(in_rootfs(&root, &opts, &["openw", "/proc/1/mem"]));
    assert_eq!(out.value("openw /proc/1/mem"), "ok", "{out}");
    let out = ok(in_rootfs(&root, &opts, &["ptrace-attach", "1"]));
    assert_eq!(out.value("ptrace 1"), "ok", "{out}");
}

/// (soft, hard) of a `Max ...` line of the test process's own /proc/self/limits, as text.
fn host_limit(title: &str) -> (String, String) {
    let limits = std::fs::read_to_string("/proc/self/limits").expect("reading limits");
    let line = limits
        .lines()
        .find(|l| l.starts_with(title))
        .unwrap_or_else(|| panic!("no {title:?} in /proc/self/limits"));
    let mut fields = line[title.len()..].split_whitespace();
    let soft = fields.next().expect("a soft limit").to_owned();
    let hard = fields.next().expect("a hard limit").to_owned();
    (soft, hard)
}

#[test]
fn ulimit_sets_soft_and_hard_limits() {
    if skip_unless_root() {
        return;
    }
    let root = TempRoot::with_probe("ulimit");
    // Without --ulimit the sandbox has the launcher's limits, which differ from those asked.
    let (soft, hard) = host_limit("Max open files");
    assert_ne!((soft.as_str(), hard.as_str()), ("100", "200"));
    let out = ok(in_rootfs(&root, &[], &["rlimit", "nofile"]));
    assert_eq!(
        out.value("rlimit nofile"),
        format!("{soft}:{hard}"),
        "{out}"
    );

    let opts = ["--ulimit", "nofile=100:200", "--ulimit", "core=0"];
    let out = ok(in_rootfs(&root, &opts, &["rlimit", "nofile"]));
    assert_eq!(out.value("rlimit nofile"), "100:200", "{out}");
    // No CAP_SYS_RESOURCE inside: the hard limit cannot be raised back.
    assert_eq!(out.value("raise nofile"), "EPERM", "{out}");
    let out = ok(in_rootfs(&root, &opts, &["rlimit", "core"]));
    assert_eq!(out.value("rlimit core"), "0:0", "{out}");
    assert_eq!(out.value("raise core"), "EPERM", "{out}");
    // As the kernel shows it, and in a child.
    let out = ok(in_rootfs(&root, &opts, &["read", "/proc/self/limits"]));
    let files = out
        .stdout
        .lines()
        .find(|l| l.contains("Max open files"))
        .unwrap_or_else(|| panic!("no open files limit\n{out}"));
    let fields: Vec<&str> = files.split_whitespace().collect();
    assert_eq!(fields[3..5], ["100", "200"], "{out}");
    let out = ok(in_rootfs(
        &root,
        &opts,
        &["fork-exec", "/probe", "rlimit", "nofile"],
    ));
    assert_eq!(out.values("rlimit nofile"), ["100:200", "100:200"], "{out}");
    // The soft limit alone sets both; the last --ulimit of a resource wins.
    let opts = ["--ulimit", "nofile=100:200", "--ulimit", "nofile=64"];
    let out = ok(in_rootfs(&root, &opts, &["rlimit", "nofile"]));
    assert_eq!(out.value("rlimit nofile"), "64:64", "{out}");
    // A small limit still leaves init enough descriptors to start the workload.
    let out = ok(in_rootfs(
        &root,
        &["--ulimit", "nofile=16"],
        &["rlimit", "nofile"],
    ));
    assert_eq!(out.value("rlimit nofile"), "16:16", "{out}");
    // For another user too.
    let opts = ["--user", "1000", "--ulimit", "nofile=100:200"];
    let out = ok(in_rootfs(&root, &opts, &["rlimit", "nofile"]));
    assert_eq!(out.value("rlimit nofile"), "100:200", "{out}");
}

/// Asserts exit 125, nothing on stdout, and exactly one `nucleus-launch: ` line on stderr
/// mentioning each of `mentions`.
fn assert_refused(out: &Outcome, what: &str, mentions: &[&str]) {
    assert_eq!(out.code, 125, "{what}\n{out}");
    assert!(out.stdout.is_empty(), "{what}: the workload ran\n{out}");
    let lines: Vec<&str> = out.stderr.lines().collect();
    assert!(
        lines.len() == 1 && lines[0].starts_with("nucleus-launch: "),
        "{what}: expected one `nucleus-launch: ` line\n{out}"
    );
    for m in mentions {
        assert!(lines[0].contains(m), "{what}: should mention {m:?}\n{out}");
    }
}

#[test]
fn ulimit_above_the_launchers_hard_limit_needs_cap_sys_resource() {
    if skip_unless_root() {
        return;
    }
    let root = TempRoot::with_probe("ulimit-raise");
    let (_, hard) = host_limit("Max open files");
    let Ok(hard) = hard.parse::<u64>() else {
        eprintln!("NOTE: the open files limit is {hard}; nothing above it to ask for");
        return;
    };
    let above = format!("nofile={}:{}", hard, hard + 1);
    let out = in_rootfs(&root, &["--ulimit", &above], &["rlimit", "nofile"]);
    if launcher_caps() & cap("SYS_RESOURCE") != 0 {
        // The launcher may raise it, so the sandbox gets it.
        out.assert_ok();
        assert_eq!(out.value("rlimit nofile"), format!("{hard}:{}", hard + 1));
    } else {
        assert_refused(&out, &above, &["nofile", "CAP_SYS_RESOURCE"]);
        let out = in_rootfs(&root, &["--ulimit", "nofile=unlimited"], &["caps"]);
        assert_refused(&out, "nofile=unlimited", &["nofile", "CAP_SYS_RESOURCE"]);
    }
    // Up to the launcher's own hard limit is fine.
    let at = format!("nofile={hard}");
    let out = ok(in_rootfs(&root, &["--ulimit", &at], &["rlimit", "nofile"]));
    assert_eq!(
        out.value("rlimit nofile"),
        format!("{hard}:{hard}"),
        "{out}"
    );
}

#[test]
fn bad_ulimits_and_capabilities_are_refused_with_one_line() {
    if skip_unless_root() {
        return;
    }
    let root = TempRoot::with_probe("bad-privs");
    let cases: &[(&[&str], &[&str])] = &[
        (&["--ulimit", "nofile=2:1"], &["nofile=2:1", "soft"]),
        (&["--ulimit", "bogus=1"], &["bogus", "unknown"]),
        (&["--ulimit", "nofile=x"], &["nofile=x", "\"x\""]),
        (&["--ulimit", "nofile=-5"], &["nofile=-5"]),
        (&["--ulimit", "nofile"], &["nofile", "NAME=SOFT"]),
        (&["--cap-add", "BOGUS"], &["--cap-add", "BOGUS"]),
        (&["--cap-add", "NET_RAW,BOGUS"], &["--cap-add", "BOGUS"]),
        (&["--cap-drop", "BOGUS"], &["--cap-drop", "BOGUS"]),
        (
            &["--cap-add", "NET_RAW", "--cap-drop", "NET_RAW"],
            &["NET_RAW", "both"],
        ),
    ];
    for (opts, mentions) in cases {
        let out = in_rootfs(&root, opts, &["caps"]);
        assert_refused(&out, &format!("{opts:?}"), mentions);
    }
}

#[test]
fn the_same_holds_in_a_user_namespace() {
    if skip_unless_root() {
        return;
    }
    // The sandbox's root, an unprivileged host id, cannot create mount points in this
    // root-owned directory: they exist beforehand.
    let root = TempRoot::with_probe("userns-hardening");
    for dir in ["proc", "dev", "tmp"] {
        root.mkdir(dir);
    }
    let userns = ["--userns", "auto"];
    assert_caps_everywhere(&root, &userns, 0);
    let out = ok(in_rootfs(&root, &userns, &["securebits"]));
    assert_eq!(out.value("securebits"), LOCKED_SECUREBITS, "{out}");
    assert_eq!(out.value("unlock"), "EPERM", "{out}");
    for path in ["/proc/keys", "/proc/timer_list"] {
        let out = ok(in_rootfs(&root, &userns, &["stat", path]));
        assert_eq!(out.value(&format!("stat {path}")), "chr 1:3", "{out}");
        let out = ok(in_rootfs(&root, &userns, &["read", path]));
        assert_eq!(out.value(&format!("read {path}")), "", "{out}");
    }
    let out = ok(in_rootfs(&root, &userns, &["mounts"]));
    for path in READ_ONLY.iter().filter(|p| on_host(p)) {
        let prefix = format!("{path} proc ro,");
        assert!(
            out.values("mount").iter().any(|m| m.starts_with(&prefix)),
            "{path} is no read-only mount\n{out}"
        );
    }
    let out = ok(in_rootfs(&root, &userns, &["socket", "2", "3", "1"]));
    assert_eq!(out.value("socket"), "EPERM", "{out}");
    // Capabilities asked for are exactly those, as without a user namespace.
    let opts = with(&userns, &["--cap-add", "NET_RAW"]);
    assert_caps_everywhere(&root, &opts, cap("NET_RAW"));
    let out = ok(in_rootfs(&root, &opts, &["socket", "2", "3", "1"]));
    assert_eq!(out.value("socket"), "ok", "{out}");
}

#[test]
fn a_tiny_nofile_limit_still_starts_under_landlock() {
    if skip_unless_root() {
        return;
    }
    // Landlock's ruleset needs fds while the sandbox is set up; the limit applies after.
    let root = TempRoot::with_probe("ulimit-tiny");
    let out = in_rootfs(&root, &["--ulimit", "nofile=4"], &["rlimit", "nofile"]);
    assert_eq!((out.code, out.value("rlimit nofile")), (0, "4:4"), "{out}");
}
