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
cargo test --workspace
scripts/bench.sh --smoke
