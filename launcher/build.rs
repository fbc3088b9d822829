//! Builds nucleus-init (release, panic=abort, static, no libc) and leaves it in OUT_DIR for
//! `include_bytes!`: one launcher file to ship, with init inside it.

use std::env;
use std::path::PathBuf;
use std::process::Command;

fn main() {
    let manifest = PathBuf::from(env::var_os("CARGO_MANIFEST_DIR").expect("set by cargo"));
    let workspace = manifest.parent().expect("launcher/ sits in the workspace");
    let out = PathBuf::from(env::var_os("OUT_DIR").expect("set by cargo"));
    let target = env::var("TARGET").expect("set by cargo");
    let target_dir = out.join("init-target");

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
