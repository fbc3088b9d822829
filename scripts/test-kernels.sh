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

# The tool installs qemu and downloads the kernels on first use (idempotent, fast once done).
bash "$KVM/setup.sh" "${kernels[@]}" >/dev/null || {
    echo "scripts/test-kernels.sh: kernel-vm setup failed for ${kernels[*]}" >&2
    exit 1
}

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
launch="$PWD/target/debug/nucleus-launch"
script='rc=0; "$0" doctor | grep -i landlock; for b in "$@"; do "$b" --test-threads=2 || rc=1; done; exit $rc'
env_args=()
[ -n "${NUCLEUS_MUST_WORK:-}" ] && env_args+=(--env "NUCLEUS_MUST_WORK=$NUCLEUS_MUST_WORK")
mkdir -p target/kernels
failed=0
for k in "${kernels[@]}"; do
    log=target/kernels/$k.log
    start=$(date +%s)
    bash "$KVM/run.sh" --kernel "$k" --share "$PWD/target:$PWD/target:ro" "${env_args[@]}" \
        --timeout 900 -- sh -c "$script" "$launch" "${bins[@]}" >"$log" 2>&1
    rc=$?
    # doctor must report what this kernel's Landlock can do.
    case $k in
        5.10) want='MISSING +Landlock' ;;
        6.1) want='partial +Landlock +ABI 2 ' ;;
        6.12) want='ok +Landlock +ABI 6$' ;;
        *) want='ok +Landlock +ABI [0-9]+$' ;;
    esac
    if ! grep -Eq "^$want" "$log"; then
        echo "kernel $k: doctor's Landlock line does not match /$want/" >>"$log"
        rc=1
    fi
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
