#!/usr/bin/env bash
# Resource limits on pure cgroup v2, for real: boots each kernel under qemu with the kernel-vm
# tool (../shared/tools/kernel-vm, beside this checkout; see its README), cgroup2 mounted with
# every controller, and runs the release launcher and the probe there. One line per check and
# kernel ("PASS 6.1 memory-oom"); exits non-zero if any check fails.
#
#   scripts/test-cgroup-v2.sh [KERNEL...]      default: 6.1 7.3
#
# As root (kernel-vm needs it on first use). The kernels are fetched by kernel-vm's setup.sh
# (scripts/install-deps.sh calls it); each boot takes about 5 s here (software emulation).
set -uo pipefail
cd "$(dirname "$0")/.."

KVM=${KERNEL_VM_DIR:-$(dirname "$PWD")/shared/tools/kernel-vm}
if [ ! -f "$KVM/run.sh" ]; then
    # As the Rust tests' skip: a missing prerequisite fails only under NUCLEUS_MUST_WORK=1.
    echo "SKIP: scripts/test-cgroup-v2.sh: $KVM/run.sh not found (set KERNEL_VM_DIR)" >&2
    [ "${NUCLEUS_MUST_WORK:-}" = 1 ] && exit 1
    exit 0
fi
kernels=("$@")
[ ${#kernels[@]} -gt 0 ] || kernels=(6.1 7.3)

cargo build --release -q -p nucleus-launch -p nucleus-tests --bins || exit 1
# The launcher's unit tests too (static, as every binary of ours): the cgroup lifecycle tests
# run in the guest on the real unified hierarchy.
unit=$(cargo test -q -p nucleus-launch --no-run --message-format=json 2>/dev/null |
    sed -n 's/.*"executable":"\([^"]*nucleus_launch-[^"]*\)".*/\1/p' | tail -1)
[ -x "$unit" ] || { echo "FAIL build: no unit test binary of nucleus-launch" >&2; exit 1; }
stage=target/cgroup-v2
rm -rf "$stage"
mkdir -p "$stage"
cp target/release/nucleus-launch target/release/nucleus-probe "$stage/"
cp "$unit" "$stage/nucleus-unit"

# The checks, run by busybox sh as root in the guest's root cgroup. Each prints one line.
cat >"$stage/guest.sh" <<'GUEST'
#!/bin/sh
K=$1
L=/shared/nucleus-launch
CG=/sys/fs/cgroup
R=/tmp/root
mkdir -p $R && cp /shared/nucleus-probe $R/probe
failed=0
pass() { echo "PASS $K $1"; }
fail() { echo "FAIL $K $1: $2"; failed=1; }
run() { $L run --rootfs $R "$@" 2>/tmp/err; }
val() { sed -n "s/^$1=//p" /tmp/out; }
# Seconds to wait for a condition, in 0.1 s steps.
wait_for() { n=0; while [ $n -lt $(($1 * 10)) ]; do eval "$2" && return 0; sleep 0.1; n=$((n + 1)); done; return 1; }

grep -qw memory $CG/cgroup.controllers && grep -qw pids $CG/cgroup.controllers ||
    fail setup "memory and pids are not in $CG/cgroup.controllers: $(cat $CG/cgroup.controllers)"

# Memory: the hog is OOM-killed and reported; under the limit it lives.
run --memory 32m -- /probe hog 256 >/tmp/out; rc=$?
if [ $rc = 137 ] && grep -q '^nucleus-launch: killed: out of memory (limit 32 MiB)$' /tmp/err; then
    pass memory-oom
else
    fail memory-oom "exit $rc, stderr: $(cat /tmp/err)"
fi
run --memory 256m -- /probe hog 64 >/tmp/out; rc=$?
[ $rc = 0 ] && [ "$(val allocated)" = 64 ] && pass memory-under-limit ||
    fail memory-under-limit "exit $rc, $(cat /tmp/out /tmp/err)"

# pids: a bounded fork bomb stops at the limit.
run --pids-limit 50 -- /probe forkbomb 500 >/tmp/out; rc=$?
f=$(val forked)
[ $rc = 0 ] && [ "${f:-0}" -ge 40 ] && [ "${f:-99}" -le 48 ] && [ "$(val error)" = EAGAIN ] &&
    pass pids || fail pids "exit $rc, $(cat /tmp/out /tmp/err)"

# cpu: about half a CPU under --cpus 0.5 (wide margin; a sanity check).
run --cpus 0.5 -- /probe spin 1500 >/tmp/out; rc=$?
cpu=$(val cpu_ms); wall=$(val wall_ms)
[ $rc = 0 ] && [ $((cpu * 10)) -ge $((wall * 2)) ] && [ $((cpu * 10)) -le $((wall * 8)) ] &&
    pass "cpu (${cpu} ms of CPU in ${wall} ms)" || fail cpu "exit $rc, $(cat /tmp/out /tmp/err)"

# CLONE_INTO_CGROUP: init is born in the sandbox's cgroup, which is its cgroup namespace's root;
# stats reads it.
$L run --log-level debug --name born --memory 64m --rootfs $R -- /probe hold 8 30 >/tmp/out 2>/tmp/err &
lp=$!
if wait_for 20 'grep -q "^held=8" /tmp/out'; then
    d=$(ls -d $CG/nucleus/born@* 2>/dev/null)
    n=$(wc -l <"$d/cgroup.procs" 2>/dev/null || echo 0)
    grep -q 'cgroup="born in its own (CLONE_INTO_CGROUP)"' /tmp/err && [ "$n" -ge 2 ] &&
        pass clone-into-cgroup || fail clone-into-cgroup "$n processes in $d; $(grep cloned /tmp/err)"
    $L stats born --json >/tmp/stats 2>&1
    grep -q '"version":"v2"' /tmp/stats && grep -q '"limit_bytes":67108864' /tmp/stats &&
        pass stats || fail stats "$(cat /tmp/stats)"
    # cgroup.kill: a process that joined the cgroup from outside (not in the sandbox's pid
    # namespace) dies with the sandbox.
    sleep 100 &
    stray=$!
    echo $stray >"$d/cgroup.procs"
    kill -TERM $lp
    wait $lp; rc=$?
    wait_for 5 '! kill -0 $stray 2>/dev/null' && [ $rc = 143 ] && pass cgroup-kill ||
        fail cgroup-kill "launcher exit $rc, stray $stray still alive: $(kill -0 $stray 2>&1 && echo yes)"
    [ ! -e "$d" ] && pass cleanup-after-exit || fail cleanup-after-exit "$d is still there"
else
    fail clone-into-cgroup "the sandbox did not start: $(cat /tmp/out /tmp/err)"
    kill -KILL $lp 2>/dev/null
fi
run -- /probe cgroup >/tmp/out
[ "$(val cgroup)" = "0::/" ] && pass cgroup-namespace-root || fail cgroup-namespace-root "$(cat /tmp/out)"

# A killed launcher's cgroup is removed by the next start.
$L run --name stale --rootfs $R -- /probe sleep 1000 >/dev/null 2>&1 &
lp=$!
wait_for 20 '[ -n "$(cat $CG/nucleus/stale@*/cgroup.procs 2>/dev/null)" ]'
kill -KILL $lp; wait $lp 2>/dev/null
wait_for 5 '[ -z "$(cat $CG/nucleus/stale@*/cgroup.procs 2>/dev/null)" ]'
left=$(ls -d $CG/nucleus/stale@* 2>/dev/null)
run -- /probe pid >/dev/null
[ -n "$left" ] && [ ! -e "$left" ] && pass cleanup-after-sigkill ||
    fail cleanup-after-sigkill "left: '$left', now: $(ls $CG/nucleus)"

# A failed start leaves nothing; --cgroup-require holds on v2 (devices are a note, not a gap).
run --name failed --workdir /nonexistent -- /probe pid >/dev/null; rc=$?
[ $rc = 125 ] && ! ls -d $CG/nucleus/failed@* >/dev/null 2>&1 && pass cleanup-after-failed-start ||
    fail cleanup-after-failed-start "exit $rc, $(ls $CG/nucleus)"
run --cgroup-require --memory 64m --cpus 1 --pids-limit 100 -- /probe pid >/tmp/out; rc=$?
[ $rc = 0 ] && pass cgroup-require || fail cgroup-require "exit $rc, $(cat /tmp/err)"

# Sandboxes that outlive the launcher (run -d, OCI create), through the cgroup module itself:
# an exact path (linux.cgroupsPath) made with its missing levels and controllers enabled down
# to it, kept past the launcher's handle, signalled through its JSON record (frozen meanwhile,
# a paused one left paused) and removed with the levels made for it, its process killed.
/shared/nucleus-unit --test-threads 1 --nocapture cgroup::lifecycle_tests::real_v2 >/tmp/unit 2>&1; rc=$?
[ $rc = 0 ] && grep -q '^test result: ok. 1 passed' /tmp/unit && ! grep -q SKIP /tmp/unit &&
    pass kept-exact-path ||
    fail kept-exact-path "exit $rc: $(grep -E -A2 'panicked|SKIP|error' /tmp/unit | tr '\n' ' ')"

left=$(ls -d $CG/nucleus/*@* $CG/nucleus-unit-* 2>/dev/null)
[ -z "$left" ] && pass nothing-left || fail nothing-left "$left"
exit $failed
GUEST

failed=0
for k in "${kernels[@]}"; do
    start=$(date +%s)
    out=$(bash "$KVM/run.sh" --kernel "$k" --share "$PWD/$stage:/shared:ro" --timeout 300 \
        -- sh /shared/guest.sh "$k" 2>&1)
    rc=$?
    printf '%s\n' "$out" | grep -E '^(PASS|FAIL) '
    if [ $rc -ne 0 ]; then
        failed=1
        printf '%s\n' "$out" | grep -q '^FAIL ' ||
            { echo "FAIL $k vm: exit $rc"; printf '%s\n' "$out" | tail -20; }
    fi
    echo "kernel $k: $( [ $rc -eq 0 ] && echo pass || echo FAIL ) ($(($(date +%s) - start)) s)"
done
exit $failed
