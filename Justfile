# Index of the project's commands; each is a plain script or cargo call, usable without just.

# Build the launcher (init is built and embedded by launcher/build.rs).
build:
    cargo build --release

# Run a command in a sandbox on the embedded default root.
run *ARGS:
    cargo run --release -q -p nucleus-launch -- run -- {{ARGS}}

# Everything CI runs (as root).
test:
    scripts/test.sh

# Resource limits on pure cgroup v2, under qemu (Linux 6.1 and 7.3 by default).
test-cgroup-v2 *KERNELS:
    scripts/test-cgroup-v2.sh {{KERNELS}}

# Startup latency, memory and size against the peers; --smoke for a quick pass.
bench *ARGS:
    scripts/bench.sh {{ARGS}}

fmt:
    cargo fmt --all
    cargo fmt --manifest-path init/Cargo.toml

lint:
    cargo clippy --workspace --all-targets -- -D warnings
    cargo clippy --manifest-path init/Cargo.toml -- -D warnings
