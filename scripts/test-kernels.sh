#!/usr/bin/env bash
# Integration tests under other Linux kernels, each booted under qemu by the kernel-vm tool
# (../shared/tools/kernel-vm, see its README): by default the Landlock tests on 5.10 (no
# Landlock), 6.1 (Landlock ABI 2), 6.12 (ABI 6) and 7.3 (ABI 11). The tests adapt their
# expectations to the kernel's ABI: best effort must start every sandbox, the report must name
# what is missing, --landlock-require must refuse where the kernel falls short.
#
#   scripts/test-kernels.sh [KERNEL...]          one line per kernel: "kernel 6.1: pass"
#   TESTS="landlock namespaces" scripts/test-kernels.sh 6.12     other test binaries (tests/e2e)
#
# Exits non-zero if any kernel fails; its output is kept in target/kernels/KERNEL.log. As root
# (the tests create namespaces; kernel-vm installs qemu on first use). Software emulation on this
# machine: about a minute per kernel.
set -uo pipefail
cd "$(dirname "$0")/.."

KVM=${KERNEL_VM_DIR:-../shared/tools/kernel-vm}
if [ ! -f "$KVM/run.sh" ]; then
    echo "scripts/test-kernels.sh: $KVM/run.sh not found (set KERNEL_VM_DIR)" >&2
    exit 1
fi
kernels=("$@")
[ ${#kernels[@]} -gt 0 ] || kernels=(5.10 6.1 6.12 7.3)
read -r -a tests <<<"${TESTS:-landlock}"

# kernel-vm installs qemu from bookworm-backports through an index that also holds trixie, and
# apt then wants trixie's libc; an index of bookworm alone resolves. Only on a Debian 12 host
# without qemu.
install_qemu() {
    command -v qemu-system-x86_64 >/dev/null && return 0
    grep -q 'VERSION_CODENAME=bookworm' /etc/os-release 2>/dev/null || return 0
    local d
    d=$(mktemp -d)
    mkdir -p "$d/lists/partial" "$d/parts"
    for suite in bookworm bookworm-updates bookworm-backports; do
        echo "deb [signed-by=/usr/share/keyrings/debian-archive-keyring.gpg] http://deb.debian.org/debian $suite main"
    done >"$d/sources.list"
    echo "deb [signed-by=/usr/share/keyrings/debian-archive-keyring.gpg] http://deb.debian.org/debian-security bookworm-security main" >>"$d/sources.list"
    local opts=(-o "Dir::Etc::SourceList=$d/sources.list" -o "Dir::Etc::SourceParts=$d/parts"
        -o "Dir::State::Lists=$d/lists")
    echo "scripts/test-kernels.sh: installing qemu-system-x86 from bookworm-backports" >&2
    apt-get "${opts[@]}" -q update >/dev/null 2>&1
    apt-get "${opts[@]}" install -y -q --no-install-recommends --no-remove \
        -t bookworm-backports qemu-system-x86 >"$d/install.log" 2>&1 ||
        { tail -5 "$d/install.log" >&2; rm -rf "$d"; return 1; }
    rm -rf "$d"
}
install_qemu || exit 1

cargo build --workspace --bins || exit 1
bins=()
for t in "${tests[@]}"; do
    exe=$(cargo test -p nucleus-tests --test "$t" --no-run 2>&1 |
        sed -n 's/^ *Executable .*(\(.*\))$/\1/p' | tail -1)
    if [ -z "$exe" ]; then
        echo "scripts/test-kernels.sh: no test binary for $t" >&2
        exit 1
    fi
    bins+=("$PWD/$exe")
done

# The test binaries find the launcher and the probe by their build paths: share target/ at the
# same path in the guest. One boot per kernel runs every binary.
script='rc=0; for b in "$@"; do "$b" --test-threads=2 || rc=1; done; exit $rc'
env_args=()
[ -n "${NUCLEUS_MUST_WORK:-}" ] && env_args+=(--env "NUCLEUS_MUST_WORK=$NUCLEUS_MUST_WORK")
mkdir -p target/kernels
failed=0
for k in "${kernels[@]}"; do
    log=target/kernels/$k.log
    start=$(date +%s)
    bash "$KVM/run.sh" --kernel "$k" --share "$PWD/target:$PWD/target:ro" "${env_args[@]}" \
        --timeout 900 -- sh -c "$script" sh "${bins[@]}" >"$log" 2>&1
    rc=$?
    secs=$(($(date +%s) - start))
    summary=$(grep -h '^test result:' "$log" | awk '{p += $4; f += $6} END {printf "%d passed, %d failed", p, f}')
    if [ $rc -eq 0 ]; then
        echo "kernel $k: pass ($summary, ${secs}s)"
    else
        echo "kernel $k: FAIL (exit $rc; $summary, ${secs}s; see $log)"
        failed=1
    fi
done
exit $failed
