//! `features`: what this runtime implements, in the runtime-spec's features document.

use serde_json::json;

use crate::error::Error;

pub fn print() -> Result<i32, Error> {
    let caps: Vec<String> = crate::config::caps::NAMES
        .iter()
        .map(|n| format!("CAP_{n}"))
        .collect();
    let doc = json!({
        "ociVersionMin": "1.0.0",
        "ociVersionMax": crate::state::OCI_VERSION,
        "hooks": ["prestart", "createRuntime", "poststart", "poststop"],
        "mountOptions": [
            "ro", "rw", "nosuid", "suid", "nodev", "dev", "noexec", "exec", "bind", "rbind",
            "private", "rprivate"
        ],
        "linux": {
            "namespaces": ["pid", "mount", "network", "ipc", "uts", "cgroup", "user"],
            "capabilities": caps,
            "cgroup": { "v1": true, "v2": true, "systemd": false, "systemdUser": false, "rdma": false },
            "seccomp": {
                "enabled": true,
                "actions": [
                    "SCMP_ACT_ALLOW", "SCMP_ACT_ERRNO", "SCMP_ACT_KILL", "SCMP_ACT_KILL_PROCESS",
                    "SCMP_ACT_KILL_THREAD", "SCMP_ACT_LOG", "SCMP_ACT_TRAP"
                ],
                "operators": [
                    "SCMP_CMP_EQ", "SCMP_CMP_NE", "SCMP_CMP_LT", "SCMP_CMP_LE", "SCMP_CMP_GT",
                    "SCMP_CMP_GE", "SCMP_CMP_MASKED_EQ"
                ],
                "archs": ["SCMP_ARCH_X86_64", "SCMP_ARCH_X86", "SCMP_ARCH_X32", "SCMP_ARCH_AARCH64", "SCMP_ARCH_ARM"],
            },
            "apparmor": { "enabled": false },
            "selinux": { "enabled": false },
            "intelRdt": { "enabled": false },
            "mountExtensions": { "idmap": { "enabled": false } },
        },
        "annotations": {
            "org.opencontainers.runtime-spec.features.version": crate::state::OCI_VERSION,
            "io.nucleus.version": env!("CARGO_PKG_VERSION"),
        },
    });
    println!(
        "{}",
        serde_json::to_string_pretty(&doc).expect("a JSON value always encodes")
    );
    Ok(0)
}
