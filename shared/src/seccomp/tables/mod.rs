//! System call names and numbers for each [`Arch`].
//!
//! `x86_64.rs` and `aarch64.rs` are generated from the linux-raw-sys version in Cargo.lock by
//! `scripts/gen-syscall-tables.py`; rerun it after bumping linux-raw-sys. Each table lists every
//! `__NR_*` the kernel defines for that architecture, sorted by name. `other.rs`, from the same
//! script, names the system calls of every other architecture linux-raw-sys knows (i386, x32, arm,
//! riscv, powerpc, s390x, mips, ...) that are no system call on x86_64 or aarch64: profiles written
//! for many architectures at once list those, and they are skipped rather than refused.

use super::arch::Arch;

mod aarch64;
mod other;
mod x86_64;

/// Every architecture with a table.
const ARCHES: [Arch; 2] = [Arch::X86_64, Arch::Aarch64];

/// Every `(name, number)` known for `arch`, sorted by name.
pub const fn all(arch: Arch) -> &'static [(&'static str, u32)] {
    match arch {
        Arch::X86_64 => x86_64::SYSCALLS,
        Arch::Aarch64 => aarch64::SYSCALLS,
    }
}

/// The number of the system call `name` (without the `__NR_` prefix) on `arch`.
pub fn number(arch: Arch, name: &str) -> Option<u32> {
    let table = all(arch);
    table
        .binary_search_by(|&(n, _)| n.cmp(name))
        .ok()
        .map(|i| table[i].1)
}

/// Whether `name` is a system call on some Linux architecture without a table here (i386's
/// `chown32`, arm's `set_tls`, ...) and on none with one: `false` for `open`, which only x86_64
/// has, and for names that are no system call anywhere.
pub fn known_elsewhere(name: &str) -> bool {
    other::OTHER_ARCH_NAMES.binary_search(&name).is_ok()
}

/// Whether `name` is a system call on any Linux architecture linux-raw-sys knows.
pub fn known_anywhere(name: &str) -> bool {
    ARCHES.iter().any(|&a| number(a, name).is_some()) || known_elsewhere(name)
}

/// The name of system call `nr` on `arch`.
pub fn name(arch: Arch, nr: u32) -> Option<&'static str> {
    all(arch).iter().find(|&&(_, n)| n == nr).map(|&(n, _)| n)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn known_numbers() {
        for (arch, name_, nr) in [
            (Arch::X86_64, "read", 0),
            (Arch::X86_64, "write", 1),
            (Arch::X86_64, "open", 2),
            (Arch::X86_64, "openat", 257),
            (Arch::X86_64, "io_uring_setup", 425),
            (Arch::X86_64, "clone3", 435),
            (Arch::Aarch64, "read", 63),
            (Arch::Aarch64, "write", 64),
            (Arch::Aarch64, "openat", 56),
            (Arch::Aarch64, "io_uring_setup", 425),
            (Arch::Aarch64, "clone3", 435),
        ] {
            assert_eq!(number(arch, name_), Some(nr), "{arch:?} {name_}");
            assert_eq!(name(arch, nr), Some(name_), "{arch:?} {nr}");
        }
    }

    #[test]
    fn unknown_lookups() {
        for arch in ARCHES {
            assert_eq!(number(arch, ""), None);
            assert_eq!(number(arch, "no_such_syscall"), None);
            assert_eq!(number(arch, "__NR_read"), None);
            assert_eq!(number(arch, "READ"), None);
            assert_eq!(name(arch, u32::MAX), None);
        }
    }

    #[test]
    fn open_only_where_the_kernel_has_it() {
        assert_eq!(number(Arch::X86_64, "open"), Some(2));
        assert_eq!(number(Arch::Aarch64, "open"), None);
        assert!(number(Arch::Aarch64, "openat").is_some());
    }

    #[test]
    fn every_entry_round_trips() {
        for arch in ARCHES {
            for &(n, nr) in all(arch) {
                assert_eq!(number(arch, n), Some(nr), "{arch:?} {n}");
                assert_eq!(name(arch, nr), Some(n), "{arch:?} {nr}");
            }
        }
    }

    #[test]
    fn sorted_by_name_without_duplicates() {
        for arch in ARCHES {
            let table = all(arch);
            assert!(table.len() > 300, "{arch:?}: only {} syscalls", table.len());
            // Strictly increasing names: sorted for binary search, and no name twice.
            for pair in table.windows(2) {
                assert!(
                    pair[0].0 < pair[1].0,
                    "{arch:?}: {:?} then {:?}",
                    pair[0],
                    pair[1]
                );
            }
            for (i, &(a, nr)) in table.iter().enumerate() {
                assert!(!a.is_empty(), "{arch:?}: empty name");
                if let Some(&(b, _)) = table[i + 1..].iter().find(|&&(_, n)| n == nr) {
                    panic!("{arch:?}: {a} and {b} are both {nr}");
                }
            }
        }
    }

    #[test]
    fn no_x32_numbers() {
        use crate::seccomp::arch::X32_SYSCALL_BIT;
        for &(n, nr) in all(Arch::X86_64) {
            assert_eq!(nr & X32_SYSCALL_BIT, 0, "{n}");
        }
    }

    #[test]
    fn names_of_other_architectures() {
        // i386, arm (including its private __ARM_NR_ calls), s390, powerpc.
        for n in [
            "chown32",
            "_llseek",
            "_newselect",
            "arm_fadvise64_64",
            "set_tls",
            "breakpoint",
            "s390_runtime_instr",
            "sync_file_range2",
        ] {
            assert!(known_elsewhere(n), "{n}");
            assert!(known_anywhere(n), "{n}");
        }
        // On x86_64 only: not elsewhere, but known.
        assert!(!known_elsewhere("open"));
        assert!(known_anywhere("open"));
        assert!(!known_elsewhere("read"));
        for n in [
            "definitely_not_a_syscall",
            "",
            "READ",
            "__NR_read",
            "Linux",
            "SYSCALL_BASE",
        ] {
            assert!(!known_elsewhere(n), "{n}");
            assert!(!known_anywhere(n), "{n}");
        }
    }

    #[test]
    fn other_names_sorted_and_disjoint_from_the_tables() {
        let names = other::OTHER_ARCH_NAMES;
        assert!(names.len() > 50, "only {} names", names.len());
        for pair in names.windows(2) {
            assert!(pair[0] < pair[1], "{:?} then {:?}", pair[0], pair[1]);
        }
        for &n in names {
            assert!(!n.is_empty());
            for arch in ARCHES {
                assert_eq!(number(arch, n), None, "{n} is on {arch:?}");
            }
        }
    }
}
