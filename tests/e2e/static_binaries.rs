//! Every binary of ours is static (no program interpreter): init and the probe run in roots
//! without a libc, and init must stay small since the launcher carries it.

#[path = "../harness/mod.rs"]
mod harness;

use std::path::{Path, PathBuf};

/// init's size budget.
const INIT_MAX_BYTES: u64 = 64 * 1024;

const PT_INTERP: u32 = 3;

fn u16_at(b: &[u8], off: usize) -> u16 {
    u16::from_le_bytes(b[off..off + 2].try_into().expect("2 bytes"))
}

fn u32_at(b: &[u8], off: usize) -> u32 {
    u32::from_le_bytes(b[off..off + 4].try_into().expect("4 bytes"))
}

fn u64_at(b: &[u8], off: usize) -> u64 {
    u64::from_le_bytes(b[off..off + 8].try_into().expect("8 bytes"))
}

/// The `p_type` of every program header of a little-endian ELF64 file.
fn program_header_types(path: &Path) -> Vec<u32> {
    let b = std::fs::read(path).unwrap_or_else(|e| panic!("reading {}: {e}", path.display()));
    assert!(
        b.len() >= 64 && &b[..4] == b"\x7fELF",
        "{} is not ELF",
        path.display()
    );
    assert_eq!(b[4], 2, "{} is not ELF64", path.display());
    assert_eq!(b[5], 1, "{} is not little-endian", path.display());
    // e_phoff at 0x20, e_phentsize at 0x36, e_phnum at 0x38; p_type is a phdr's first field.
    let phoff = usize::try_from(u64_at(&b, 0x20)).expect("phoff fits");
    let (entsize, count) = (usize::from(u16_at(&b, 0x36)), usize::from(u16_at(&b, 0x38)));
    assert!(
        entsize >= 4 && phoff + entsize * count <= b.len(),
        "bad program headers"
    );
    (0..count)
        .map(|i| u32_at(&b, phoff + i * entsize))
        .collect()
}

fn assert_static(path: &Path) {
    let types = program_header_types(path);
    assert!(!types.is_empty(), "{}: no program headers", path.display());
    assert!(
        !types.contains(&PT_INTERP),
        "{} has a PT_INTERP header: it is dynamically linked",
        path.display()
    );
}

/// The newest `nucleus-init` the launcher's build script left in target/debug/build.
fn embedded_init() -> PathBuf {
    let debug = harness::launcher()
        .parent()
        .expect("target/debug")
        .to_path_buf();
    let build = debug.join("build");
    std::fs::read_dir(&build)
        .unwrap_or_else(|e| panic!("reading {}: {e}", build.display()))
        .filter_map(|e| {
            let dir = e.ok()?;
            if !dir.file_name().to_str()?.starts_with("nucleus-launch-") {
                return None;
            }
            let init = dir.path().join("out/nucleus-init");
            let modified = init.metadata().ok()?.modified().ok()?;
            Some((modified, init))
        })
        .max()
        .map(|(_, p)| p)
        .unwrap_or_else(|| {
            panic!(
                "no nucleus-launch-*/out/nucleus-init under {}",
                build.display()
            )
        })
}

#[test]
fn init_is_static_and_small() {
    let init = embedded_init();
    assert_static(&init);
    let size = init.metadata().expect("init's size").len();
    assert!(
        size <= INIT_MAX_BYTES,
        "{}: {size} bytes, over {INIT_MAX_BYTES}",
        init.display()
    );
}

#[test]
fn probe_is_static() {
    assert_static(&harness::probe());
}

#[test]
fn launcher_is_static() {
    assert_static(&harness::launcher());
}
