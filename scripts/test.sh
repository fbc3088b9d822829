#!/usr/bin/env bash
# The whole test suite, exactly as CI runs it. As root: the tests start real sandboxes.
# NUCLEUS_MUST_WORK=1 turns every "skipped: missing prerequisite" into a failure.
set -euo pipefail
cd "$(dirname "$0")/.."

if [ "$(id -u)" -ne 0 ]; then
    echo "scripts/test.sh: run as root (the integration tests create namespaces and mounts)" >&2
    exit 1
fi
scripts/install-deps.sh

# init is a workspace of its own (no std feature may reach it), so it is checked on its own.
cargo fmt --all --check
python3 scripts/gen-syscall-tables.py --check
cargo fmt --manifest-path init/Cargo.toml --check
cargo clippy --workspace --all-targets -- -D warnings
cargo clippy --manifest-path init/Cargo.toml -- -D warnings
# The integration tests drive the built launcher and probe binaries.
cargo build --workspace --bins
mkdir -p target
cargo test --workspace --lib --bins --tests 2>&1 | tee target/test.log
# Resource limits on pure cgroup v2 (6.1 and 7.3 under qemu): about 40 s.
scripts/test-cgroup-v2.sh
# Landlock and doctor on 5.10 (no Landlock), 6.1 (ABI 2), 6.12 (ABI 6), 7.3 (ABI 11): ~3 min.
scripts/test-kernels.sh
scripts/bench.sh --smoke

# One closing line for the whole run, summed over every test binary.
awk '/^test result:/ { p += $4; f += $6 } END { printf "tests: %d passed, %d failed\n", p, f }' target/test.log
