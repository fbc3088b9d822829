//! Builds nucleus-init (release, panic=abort, static, no libc) and leaves it in OUT_DIR for
//! `include_bytes!`: one launcher file to ship, with init inside it.

use std::env;

// The default seccomp policies, compiled here so that a launch does not compile them again.
#[path = "src/seccomp/default_profile.rs"]
#[allow(dead_code)]
mod default_profile;
#[path = "src/seccomp/init_policy.rs"]
mod init_policy;
use std::path::PathBuf;
use std::process::Command;

/// Writes the compiled default and init programs for the target's architecture (empty files
/// for an architecture without seccomp support here: the launcher then compiles at run time).
fn precompile_seccomp(out: &std::path::Path) {
    use nucleus_shared::seccomp::arch::Arch;
    use nucleus_shared::seccomp::compile::{compile, to_bytes};
    let arch = match env::var("CARGO_CFG_TARGET_ARCH").as_deref() {
        Ok("x86_64") => Some(Arch::X86_64),
        Ok("aarch64") => Some(Arch::Aarch64),
        _ => None,
    };
    let program = |p| to_bytes(&compile(&p).expect("the built-in seccomp policies compile"));
    let (default, init) = match arch {
        Some(a) => (
            program(default_profile::policy(a, &[])),
            program(init_policy::init_policy(a)),
        ),
        None => (Vec::new(), Vec::new()),
    };
    std::fs::write(out.join("seccomp-default.bpf"), default).expect("writing the default program");
    std::fs::write(out.join("seccomp-init.bpf"), init).expect("writing init's program");
}

fn main() {
    let manifest = PathBuf::from(env::var_os("CARGO_MANIFEST_DIR").expect("set by cargo"));
    let workspace = manifest.parent().expect("launcher/ sits in the workspace");
    let out = PathBuf::from(env::var_os("OUT_DIR").expect("set by cargo"));
    let target = env::var("TARGET").expect("set by cargo");
    let target_dir = out.join("init-target");
    precompile_seccomp(&out);
    for path in [
        "launcher/src/seccomp/default_profile.rs",
        "launcher/src/seccomp/init_policy.rs",
    ] {
        println!("cargo:rerun-if-changed={}", workspace.join(path).display());
    }

    for path in [
        "init/src",
        "init/Cargo.toml",
        "init/Cargo.lock",
        "init/build.rs",
        "shared/src",
        "shared/Cargo.toml",
    ] {
        println!("cargo:rerun-if-changed={}", workspace.join(path).display());
    }

    // init is a workspace of its own (see the root Cargo.toml), with its own lock file and
    // profiles (panic=abort, LTO, stripped).
    let cargo = env::var_os("CARGO").unwrap_or_else(|| "cargo".into());
    let mut cmd = Command::new(cargo);
    cmd.args([
        "build",
        "--quiet",
        "--release",
        "--locked",
        "--target",
        &target,
    ])
    .arg("--manifest-path")
    .arg(workspace.join("init/Cargo.toml"))
    .arg("--target-dir")
    .arg(&target_dir)
    // A no-PIE static binary: there is no dynamic loader to apply relocations.
    .env(
        "CARGO_ENCODED_RUSTFLAGS",
        "-Crelocation-model=static\x1f-Ctarget-feature=+crt-static",
    );
    // Whatever wraps the outer build (clippy, sccache) is not for this one.
    for var in [
        "RUSTFLAGS",
        "RUSTC_WRAPPER",
        "RUSTC_WORKSPACE_WRAPPER",
        "CARGO_TARGET_DIR",
        "CARGO_BUILD_TARGET",
    ] {
        cmd.env_remove(var);
    }
    let status = cmd.status().expect("running cargo to build nucleus-init");
    assert!(status.success(), "building nucleus-init failed: {status}");

    let built = target_dir
        .join(&target)
        .join("release")
        .join("nucleus-init");
    std::fs::copy(&built, out.join("nucleus-init")).expect("copying nucleus-init into OUT_DIR");
}
