//! System call names and numbers for each [`Arch`].
//!
//! `x86_64.rs` and `aarch64.rs` are generated from the linux-raw-sys version in Cargo.lock by
//! `scripts/gen-syscall-tables.py`; rerun it after bumping linux-raw-sys. Each table lists every
//! `__NR_*` the kernel defines for that architecture, sorted by name.

use super::arch::Arch;

mod aarch64;
mod x86_64;

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

/// The name of system call `nr` on `arch`.
pub fn name(arch: Arch, nr: u32) -> Option<&'static str> {
    all(arch).iter().find(|&&(_, n)| n == nr).map(|&(n, _)| n)
}

#[cfg(test)]
mod tests {
    use super::*;

    const ARCHES: [Arch; 2] = [Arch::X86_64, Arch::Aarch64];

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
}
