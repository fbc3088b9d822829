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

cargo fmt --all --check
cargo clippy --all-targets -- -D warnings
# init is built alone (its no_std build cannot share features with the std crates).
cargo clippy -p nucleus-init -- -D warnings
# The integration tests drive the built launcher and probe binaries.
cargo build --bins
cargo test
scripts/bench.sh --smoke
