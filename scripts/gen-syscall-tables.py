#!/usr/bin/env python3
"""Generates the seccomp compiler's syscall name tables from linux-raw-sys.

Reads every `pub const __NR_<name>: u32 = <n>;` from the `general.rs` of linux-raw-sys (the
version locked in the workspace's Cargo.lock, from cargo's registry source cache) for each
architecture we support, and writes `shared/src/seccomp/tables/<arch>.rs` with one
`(name, number)` entry per line, sorted by name. Nothing the kernel defines is left out; x32 and
i386 numbers live in other linux-raw-sys modules and are not read into these tables.

It also writes `shared/src/seccomp/tables/other.rs`: the names (no numbers) of every system call
of every other architecture linux-raw-sys has (`src/*/general.rs`: x86, x32, arm, riscv64,
powerpc, s390x, mips, ...) that is a name on none of the architectures above. Profiles such as
Docker's list the calls of all architectures in one list; a name found there is skipped on our
architectures instead of being an error. ARM's private calls (`__ARM_NR_set_tls`, ...) count too:
libseccomp knows them by those names and Docker's profile allows them.

Usage:
    python3 scripts/gen-syscall-tables.py           # regenerate the tables
    python3 scripts/gen-syscall-tables.py --check   # exit 1 if the checked-in tables are stale

Runs `cargo fetch --locked` first if cargo has not downloaded that linux-raw-sys yet. The output
depends only on the linux-raw-sys sources, so running it twice gives identical files.
"""

import argparse
import glob
import os
import re
import subprocess
import sys
import textwrap

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
SCRIPT = "scripts/gen-syscall-tables.py"
OUT_DIR = os.path.join(ROOT, "shared", "src", "seccomp", "tables")
CRATE = "linux-raw-sys"

# (linux-raw-sys module, output file, description for the module doc)
ARCHES = [
    ("x86_64", "x86_64.rs", "x86_64 (the 64-bit ABI; x32 and i386 numbers are not included)"),
    ("aarch64", "aarch64.rs", "aarch64"),
]

NR_PREFIX = "pub const __NR_"
NR_LINE = re.compile(r"^pub const __NR_([a-z0-9_]+): u32 = ([0-9]+);$")

OTHER_FILE = "other.rs"
# Any `__NR_` or arch-private `__<ARCH>_NR_` constant, in every architecture's general.rs.
ANY_NR_LINE = re.compile(r"^pub const __(?:[A-Z0-9]+_)?NR_([A-Za-z0-9_]+): u32 = ([0-9]+);$")
ANY_NR_PREFIX = re.compile(r"^pub const __(?:[A-Z0-9]+_)?NR_")
# Constants among those that are no system calls: syscall bases and masks. All are upper case,
# every system call name is lower case.
NOT_A_SYSCALL = re.compile(r"[A-Z]")


def die(msg):
    sys.exit(f"{SCRIPT}: error: {msg}")


def locked_version():
    """The version of linux-raw-sys from crates.io that Cargo.lock pins."""
    lock = os.path.join(ROOT, "Cargo.lock")
    try:
        with open(lock, encoding="utf-8") as f:
            text = f.read()
    except OSError as e:
        die(f"cannot read {lock}: {e}")
    versions = []
    for block in text.split("[[package]]")[1:]:
        fields = dict(re.findall(r'^(name|version|source) = "([^"]*)"$', block, re.M))
        if fields.get("name") == CRATE and fields.get("source", "").startswith("registry+"):
            versions.append(fields["version"])
    if not versions:
        die(f"{CRATE} is not in {lock}")
    if len(set(versions)) > 1:
        die(f"Cargo.lock has several versions of {CRATE} ({', '.join(sorted(set(versions)))}); "
            "decide which one the tables follow and teach this script")
    return versions[0]


def find_sources(version):
    """The registry source dir of linux-raw-sys <version>, or None if cargo has not fetched it."""
    cargo_home = os.environ.get("CARGO_HOME") or os.path.join(os.path.expanduser("~"), ".cargo")
    pattern = os.path.join(glob.escape(cargo_home), "registry", "src", "*", f"{CRATE}-{version}")
    for d in sorted(glob.glob(pattern)):
        if all(os.path.isfile(os.path.join(d, "src", m, "general.rs")) for m, _, _ in ARCHES):
            return d
    return None


def read_syscalls(path):
    """(name, number) pairs from one general.rs, sorted by name; fails on anything unexpected."""
    by_name = {}
    by_nr = {}
    with open(path, encoding="utf-8") as f:
        for lineno, line in enumerate(f, 1):
            line = line.rstrip("\n")
            if not line.startswith(NR_PREFIX):
                continue
            m = NR_LINE.match(line)
            if not m:
                die(f"{path}:{lineno}: unexpected syscall constant: {line!r}")
            name, nr = m.group(1), int(m.group(2))
            if name in by_name:
                die(f"{path}:{lineno}: __NR_{name} defined twice")
            if nr in by_nr:
                # The tables map numbers back to names, so aliases would need a decision.
                die(f"{path}:{lineno}: __NR_{name} and __NR_{by_nr[nr]} are both {nr}")
            by_name[name] = nr
            by_nr[nr] = name
    if not by_name:
        die(f"{path}: no __NR_ constants found")
    # Names are [a-z0-9_]+, so this order is Rust's `str` (byte) order.
    return sorted(by_name.items())


def read_names(path):
    """The system call names one general.rs defines (`__NR_x` and arch-private `__ARM_NR_x`)."""
    names = set()
    with open(path, encoding="utf-8") as f:
        for lineno, line in enumerate(f, 1):
            line = line.rstrip("\n")
            if not ANY_NR_PREFIX.match(line):
                continue
            m = ANY_NR_LINE.match(line)
            if not m:
                die(f"{path}:{lineno}: unexpected syscall constant: {line!r}")
            if not NOT_A_SYSCALL.search(m.group(1)):
                names.add(m.group(1))
    if not names:
        die(f"{path}: no __NR_ constants found")
    return names


def other_arch_names(src):
    """(sorted names on other architectures only, sorted module names read)."""
    modules = sorted(
        d for d in os.listdir(os.path.join(src, "src"))
        if os.path.isfile(os.path.join(src, "src", d, "general.rs"))
    )
    ours = {m for m, _, _ in ARCHES}
    if not ours <= set(modules):
        die(f"{src}: missing one of {sorted(ours)}")
    known = set()
    for m in ours:
        known |= read_names(os.path.join(src, "src", m, "general.rs"))
    other = set()
    for m in modules:
        if m not in ours:
            other |= read_names(os.path.join(src, "src", m, "general.rs"))
    # Names are [a-z0-9_]+, so this order is Rust's `str` (byte) order.
    return sorted(other - known), [m for m in modules if m not in ours]


def render_other(version, names, modules):
    ours = " or ".join(m for m, _, _ in ARCHES)
    lines = [
        f"// @generated by {SCRIPT} from {CRATE} {version} (src/*/general.rs).",
        "// Do not edit by hand: change the script or the locked linux-raw-sys version and rerun",
        f"// `python3 {SCRIPT}`.",
        "",
        f"//! Names of system calls of other architectures that are no system call on {ours}.",
    ]
    lines += textwrap.wrap(f"Read from: {', '.join(modules)}.", width=100,
                           initial_indent="//! ", subsequent_indent="//! ")
    lines += [
        "//! Sorted, without duplicates, so that lookups can binary-search.",
        "",
        "pub const OTHER_ARCH_NAMES: &[&str] = &[",
    ]
    lines += [f'    "{name}",' for name in names]
    lines += ["];", ""]
    return "\n".join(lines)


def render(module, description, version, syscalls):
    lines = [
        f"// @generated by {SCRIPT} from {CRATE} {version} (src/{module}/general.rs).",
        "// Do not edit by hand: change the script or the locked linux-raw-sys version and rerun",
        f"// `python3 {SCRIPT}`.",
        "",
        f"//! System call numbers for {description}.",
        "//! Sorted by name, so that lookups by name can binary-search.",
        "",
        "pub const SYSCALLS: &[(&str, u32)] = &[",
    ]
    lines += [f'    ("{name}", {nr}),' for name, nr in syscalls]
    lines += ["];", ""]
    return "\n".join(lines)


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--check", action="store_true",
                    help="write nothing; exit 1 if a checked-in table differs from the output")
    args = ap.parse_args()

    version = locked_version()
    src = find_sources(version)
    if src is None:
        print(f"{CRATE} {version} is not in cargo's registry cache; running cargo fetch",
              file=sys.stderr)
        if subprocess.run(["cargo", "fetch", "--locked"], cwd=ROOT).returncode != 0:
            die("cargo fetch failed")
        src = find_sources(version)
        if src is None:
            die(f"{CRATE} {version} sources still not found after cargo fetch")

    # (output file name, text, summary)
    outputs = []
    for module, filename, description in ARCHES:
        syscalls = read_syscalls(os.path.join(src, "src", module, "general.rs"))
        text = render(module, description, version, syscalls)
        outputs.append((filename, text, f"{len(syscalls)} syscalls"))
    names, modules = other_arch_names(src)
    outputs.append((OTHER_FILE, render_other(version, names, modules),
                    f"{len(names)} names from {len(modules)} other architectures"))

    stale = []
    for filename, text, summary in outputs:
        out = os.path.join(OUT_DIR, filename)
        rel = os.path.relpath(out, ROOT)
        try:
            with open(out, encoding="utf-8", newline="") as f:
                current = f.read()
        except FileNotFoundError:
            current = None
        if args.check:
            if current != text:
                stale.append(rel)
            print(f"{rel}: {summary}{'' if current == text else ' (STALE)'}")
            continue
        if current != text:
            os.makedirs(OUT_DIR, exist_ok=True)
            with open(out, "w", encoding="utf-8", newline="\n") as f:
                f.write(text)
        print(f"{rel}: {summary} from {CRATE} {version}")

    if stale:
        die(f"stale, rerun {SCRIPT}: {', '.join(stale)}")


if __name__ == "__main__":
    main()
