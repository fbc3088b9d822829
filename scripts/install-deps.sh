#!/usr/bin/env bash
# Installs the Debian packages the tests and the benchmark need, only when one is missing.
set -euo pipefail

packages=(
    busybox-static                    # a tiny static rootfs for tests and benchmarks
    hyperfine time                    # benchmark timing, peak RSS
    crun runc bubblewrap runsc        # the peers we are measured against
    golang-github-containers-common   # Docker/Podman's default seccomp profile
    podman                            # an OCI client of nucleus (tests/e2e/podman.rs)
    python3                           # the benchmark report
    libcap2-bin                       # setcap, for the file-capabilities test
)

missing=()
for p in "${packages[@]}"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
    echo "installing: ${missing[*]}"
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}" >/dev/null
fi

# Kernels for scripts/test-cgroup-v2.sh (pure cgroup v2 under qemu), fetched by the kernel-vm
# tool beside this checkout: about a minute the first time, 0.1 s once done.
kvm="$(dirname "$(cd "$(dirname "$0")/.." && pwd)")/shared/tools/kernel-vm"
if [ -f "$kvm/setup.sh" ]; then
    bash "$kvm/setup.sh" 6.1 7.3 >/dev/null
fi
