#!/usr/bin/env bash
# The measuring half of scripts/bench.sh, run by it inside `unshare --mount` (a private mount
# namespace); not meant to be run by hand. Inputs come from the environment (see below); the
# raw results go to $OUT as small TSV files plus hyperfine's startup.json, for report.py.
set -euo pipefail

: "${OUT:?}" "${MODE:?}" "${RUNS:?}" "${WARMUP:?}" "${RSS_REPS:?}" "${TP_REPS:?}"
: "${LAUNCH:?}" "${ROOTFS:?}" "${OUTER_MNTNS:?}"
INIT=${INIT:-} BUNDLE=${BUNDLE:-} BUNDLE_SC=${BUNDLE_SC:-} GVISOR_ARGS=${GVISOR_ARGS:-}

# Seconds a row's first start may take: runsc on a platform that does not work here hangs
# rather than failing. Shorter in smoke mode, which has to stay well under two minutes.
PROBE_TIMEOUT=60
[[ $MODE == smoke ]] && PROBE_TIMEOUT=20
IDLE_SLEEP=5         # seconds the idle sandbox would live; it is killed once measured
TP_SIZES=(10 100)    # concurrent sandboxes for the throughput figures

log() { printf '\033[1m==> %s\033[0m\n' "$*" >&2; }

# --- the rows ---------------------------------------------------------------------------------
# id|name|command. Commands are plain words split on spaces (hyperfine -N and xargs do no
# shell parsing). OCI rows use a fixed container id: `run` deletes the container on exit.
ROWS=(
    "host-true|host /bin/true|$ROOTFS/bin/true"
    "floor|unshare+chroot (floor)|unshare --fork --pid --mount --uts --ipc --net chroot $ROOTFS /bin/true"
    "bwrap|bwrap|bwrap --unshare-all --ro-bind $ROOTFS / --proc /proc --dev /dev /bin/true"
    "crun|crun|crun run --bundle $BUNDLE nb-crun"
    "crun-seccomp|crun + seccomp default|crun run --bundle $BUNDLE_SC nb-crun-sc"
    "runc|runc|runc run --bundle $BUNDLE nb-runc"
    "runc-seccomp|runc + seccomp default|runc run --bundle $BUNDLE_SC nb-runc-sc"
    "runsc|runsc (ptrace)|runsc --rootless=false --network=none --platform=ptrace run --bundle $BUNDLE nb-runsc"
    # runsc alone on the bundle nucleus's gVisor backend writes (bench.sh exports it).
    "runsc-nucleus-bundle|runsc run, nucleus's gVisor bundle|runsc ${GVISOR_ARGS:---nucleus-bundle-not-exported}"
)
# nucleus isolation levels, cumulative. A level not built yet has '-' as its command and is
# printed as "not yet"; when it lands, replace the '-' by its command line.
NUCLEUS_ROWS=(
    "nucleus-ns|nucleus: namespaces only|$LAUNCH run --seccomp unconfined --landlock off --cgroup-manager none --rootfs $ROOTFS -- /bin/true"
    "nucleus-cgroup|nucleus: + cgroup limits|$LAUNCH run --seccomp unconfined --landlock off --memory 256m --pids-limit 1024 --cpus 1 --rootfs $ROOTFS -- /bin/true"
    "nucleus-seccomp|nucleus: + seccomp default|$LAUNCH run --landlock off --memory 256m --pids-limit 1024 --cpus 1 --rootfs $ROOTFS -- /bin/true"
    "nucleus-landlock|nucleus: + Landlock|$LAUNCH run --memory 256m --pids-limit 1024 --cpus 1 --rootfs $ROOTFS -- /bin/true"
    "nucleus-full|nucleus: full default|$LAUNCH run --rootfs $ROOTFS -- /bin/true"
    # The same start as the row above on gVisor: first exactly what `runsc-nucleus-bundle`
    # runs (no cgroups), then with the default cgroups.
    "nucleus-gvisor-bare|nucleus --runtime gvisor, no cgroups|$LAUNCH run --runtime gvisor --cgroup-manager none --rootfs $ROOTFS -- /bin/true"
    "nucleus-gvisor|nucleus --runtime gvisor|$LAUNCH run --runtime gvisor --rootfs $ROOTFS -- /bin/true"
)
ALL_ROWS=("${ROWS[@]}" "${NUCLEUS_ROWS[@]}")

row_field() { # row field-number
    local IFS='|' f
    read -ra f <<<"$1"
    printf '%s' "${f[$2]}"
}

# --- environment ------------------------------------------------------------------------------

# crun 1.8 refuses hybrid cgroups (v1 controllers + a cgroup2 mount at /sys/fs/cgroup/unified
# holding any controller): "cgroups in hybrid mode not supported". A tmpfs over the cgroup2
# mount, in this namespace only, leaves plain v1, which every runtime handles. A tmpfs rather
# than umount: crun would otherwise create cgroup files on /sys/fs/cgroup's own tmpfs and leave
# them behind.
mask_hybrid_cgroup2() {
    [[ $(readlink /proc/self/ns/mnt) != "$OUTER_MNTNS" ]] ||
        { echo "measure.sh: not in a private mount namespace; refusing to mount" >&2; exit 1; }
    if [[ $(stat -f -c %T /sys/fs/cgroup) != cgroup2fs &&
        $(stat -f -c %T /sys/fs/cgroup/unified 2>/dev/null) == cgroup2fs ]]; then
        # No size limit: crun still writes <id>/cgroup.procs there, one per live container.
        mount -t tmpfs -o mode=0755 nucleus-bench /sys/fs/cgroup/unified
        CGROUP_NOTE="hybrid v1+v2: cgroup2 at /sys/fs/cgroup/unified masked by a tmpfs in a private mount namespace"
    else
        CGROUP_NOTE="$(stat -f -c %T /sys/fs/cgroup) at /sys/fs/cgroup, left as is"
    fi
}

# Leftover containers from an interrupted run would make `run` fail with "already exists".
# Only our own ids (nb-*) are touched.
cleanup_oci() {
    local rt id
    for rt in crun runc; do
        command -v "$rt" >/dev/null || continue
        for id in $("$rt" list -q 2>/dev/null | grep '^nb-' || true); do
            "$rt" delete -f "$id" >/dev/null 2>&1 || true
        done
    done
    if command -v runsc >/dev/null; then
        for id in $(runsc --rootless=false list -quiet 2>/dev/null | grep '^nb-' || true); do
            runsc --rootless=false delete -force "$id" >/dev/null 2>&1 || true
        done
    fi
    # A start that failed half-way can leave its (empty) cgroups: crun makes them at each
    # hierarchy's root, runc below its caller's cgroup. rmdir only removes empty cgroups.
    find /sys/fs/cgroup -mindepth 2 -maxdepth 5 -depth -type d -name 'nb-*' \
        -exec rmdir {} + 2>/dev/null || true
}

# --- probing ----------------------------------------------------------------------------------

# Runs a row once. Prints nothing and succeeds if it works; else prints the reason.
probe() {
    local cmd=$1 argv rc err
    read -ra argv <<<"$cmd"
    if ! command -v "${argv[0]}" >/dev/null; then
        echo "${argv[0]} not installed"
        return 1
    fi
    if [[ $cmd == *"--bundle "* && ! -f $(bundle_of "$cmd")/config.json ]]; then
        echo "no OCI bundle (see the build step)"
        return 1
    fi
    err=$(mktemp)
    rc=0
    timeout "$PROBE_TIMEOUT" "${argv[@]}" >/dev/null 2>"$err" </dev/null || rc=$?
    if ((rc != 0)); then
        if ((rc == 124)); then
            echo "timed out after ${PROBE_TIMEOUT}s"
        else
            echo "exit $rc: $(grep -v '^[[:space:]]*$' "$err" | tail -n1 | cut -c1-200)"
        fi
        rm -f "$err"
        return 1
    fi
    rm -f "$err"
}

bundle_of() {
    local argv i
    read -ra argv <<<"$1"
    for ((i = 0; i < ${#argv[@]} - 1; i++)); do
        [[ ${argv[i]} == --bundle ]] && { printf '%s' "${argv[i + 1]}"; return; }
    done
}

# Writes rows.tsv (id, name, status ok|failed|notyet, command or reason) and fills OK_ROWS.
probe_rows() {
    local row id name cmd reason
    OK_ROWS=()
    : >"$OUT/rows.tsv"
    for row in "${ALL_ROWS[@]}"; do
        id=$(row_field "$row" 0) name=$(row_field "$row" 1) cmd=$(row_field "$row" 2)
        if [[ $cmd == - ]]; then
            printf '%s\t%s\tnotyet\t\n' "$id" "$name" >>"$OUT/rows.tsv"
        elif reason=$(probe "$cmd"); then
            printf '%s\t%s\tok\t%s\n' "$id" "$name" "$cmd" >>"$OUT/rows.tsv"
            OK_ROWS+=("$row")
        else
            printf '%-28s failed: %s\n' "$name" "$reason" >&2
            printf '%s\t%s\tfailed\t%s\n' "$id" "$name" "$reason" >>"$OUT/rows.tsv"
        fi
        cleanup_oci_row "$cmd"
    done
}

row_status() { # id -> ok|failed|notyet, from rows.tsv
    awk -F'\t' -v id="$1" '$1 == id { print $3 }' "$OUT/rows.tsv"
}

# After a timeout the runtime may have left its container behind.
cleanup_oci_row() {
    local argv
    read -ra argv <<<"$1"
    case ${argv[0]} in
        crun | runc) "${argv[0]}" delete -f "${argv[-1]}" >/dev/null 2>&1 || true ;;
        runsc) runsc --rootless=false delete -force "${argv[-1]}" >/dev/null 2>&1 || true ;;
    esac
}

# --- measuring --------------------------------------------------------------------------------

# One hyperfine run for all working rows, so they are measured back to back under the same
# conditions. --ignore-failure keeps one flaky run of a peer from discarding the whole table;
# report.py counts non-zero exit codes per row and fails on any in a nucleus row.
run_hyperfine() {
    local args=() row
    for row in "${OK_ROWS[@]}"; do
        args+=(-n "$(row_field "$row" 1)" "$(row_field "$row" 2)")
    done
    rm -f "$OUT/startup.json"
    ((${#args[@]})) || return 0
    log "hyperfine: ${#OK_ROWS[@]} rows"
    hyperfine -N --ignore-failure --warmup "$WARMUP" --runs "$RUNS" \
        --export-json "$OUT/startup.json" "${args[@]}"
}

# Peak RSS via GNU time: wait4's ru_maxrss, i.e. the largest single process among the command
# and the descendants it waited for (runc init, runsc's sandbox, nucleus-launch itself), in KiB.
measure_rss() {
    local row id argv i out=$OUT/rss.tsv tmp values
    log "peak RSS, $RSS_REPS run(s) per row"
    tmp=$(mktemp)
    : >"$out"
    for row in "${OK_ROWS[@]}"; do
        id=$(row_field "$row" 0)
        read -ra argv <<<"$(row_field "$row" 2)"
        values=()
        for ((i = 0; i < RSS_REPS; i++)); do
            if /usr/bin/time -f %M -o "$tmp" "${argv[@]}" >/dev/null 2>&1 </dev/null; then
                values+=("$(tail -n1 "$tmp")")
            fi
        done
        printf '%s\t%s\n' "$id" "$(IFS=,; echo "${values[*]}")" >>"$out"
    done
    rm -f "$tmp"
}

# Binaries whose size and linkage report.py records (it reads the ELF headers itself).
record_binaries() {
    local out=$OUT/binaries.tsv name path
    : >"$out"
    printf 'nucleus-launch\t%s\n' "$LAUNCH" >>"$out"
    printf 'nucleus-init\t%s\n' "$INIT" >>"$out"
    for name in crun runc runsc bwrap; do
        path=$(command -v "$name" || true)
        printf '%s\t%s\n' "$name" "${path:+$(readlink -f "$path")}" >>"$out"
    done
}

# All processes below $1 (children of children...), one pid per line.
descendants() {
    local pid
    # shellcheck disable=SC2013 # the children files are space-separated pid lists
    for pid in $(cat /proc/"$1"/task/*/children 2>/dev/null); do
        echo "$pid"
        descendants "$pid"
    done
}

status_kib() { # pid field
    awk -v f="$2:" '$1 == f { print $2 }' /proc/"$1"/status 2>/dev/null
}

# RSS of nucleus's init (pid 1 of the sandbox) while its command sleeps. init is found as the
# launcher's descendant named nucleus-init (its comm; its exe is /memfd:nucleus-init).
measure_idle_init() {
    local out=$OUT/idle.tsv launcher pid init_pid="" i
    : >"$out"
    log "idle init RSS"
    "$LAUNCH" run --rootfs "$ROOTFS" -- /bin/sleep "$IDLE_SLEEP" </dev/null &
    launcher=$!
    # Wait until init has started the command (init has a child), up to ~3 s.
    for ((i = 0; i < 300; i++)); do
        for pid in $(descendants "$launcher"); do
            [[ $(cat /proc/"$pid"/comm 2>/dev/null) == nucleus-init ]] && init_pid=$pid
        done
        [[ -n $init_pid && -n $(cat /proc/"$init_pid"/task/*/children 2>/dev/null) ]] && break
        sleep 0.01
    done
    if [[ -n $init_pid ]]; then
        sleep 0.2 # let the command settle; init itself is idle in wait by now
        {
            printf 'init_vmrss_kib\t%s\n' "$(status_kib "$init_pid" VmRSS)"
            printf 'init_vmhwm_kib\t%s\n' "$(status_kib "$init_pid" VmHWM)"
            printf 'launcher_idle_vmrss_kib\t%s\n' "$(status_kib "$launcher" VmRSS)"
        } >>"$out"
    else
        echo "idle init RSS: no nucleus-init process found below the launcher" >&2
        printf 'error\tno nucleus-init process found below the launcher\n' >>"$out"
    fi
    kill "$launcher" 2>/dev/null || true
    # If init outlives its launcher (no parent-death signal), stop the sandbox ourselves.
    sleep 0.2
    if [[ -n $init_pid && $(cat /proc/"$init_pid"/comm 2>/dev/null) == nucleus-init ]]; then
        echo "idle init RSS: init outlived its launcher; killing it" >&2
        kill -KILL "$init_pid" 2>/dev/null || true
    fi
    wait "$launcher" 2>/dev/null || true
}

# What the gVisor backend adds to runsc on the same bundle, measured in alternation (see
# gvisor_overhead.py): gvisor.tsv, one `runsc_ms nucleus_ms` line per pair.
measure_gvisor_overhead() {
    rm -f "$OUT/gvisor.tsv"
    [[ $(row_status runsc-nucleus-bundle) == ok && $(row_status nucleus-gvisor-bare) == ok ]] || return 0
    local pairs=$RUNS direct wrapped
    direct=$(awk -F'\t' '$1 == "runsc-nucleus-bundle" { print $4 }' "$OUT/rows.tsv")
    wrapped=$(awk -F'\t' '$1 == "nucleus-gvisor-bare" { print $4 }' "$OUT/rows.tsv")
    log "gVisor wrapping: $pairs alternating pairs"
    # shellcheck disable=SC2086 # the row commands are space-separated words
    python3 "$(dirname "${BASH_SOURCE[0]}")/gvisor_overhead.py" "$OUT/gvisor.tsv" "$pairs" \
        :: $direct :: $wrapped ||
        echo "gVisor wrapping: measurement failed" >&2
}

# Throughput: N sandboxes started at once (xargs -P N), wall time until all have exited.
measure_throughput() {
    local out=$OUT/throughput.tsv key cmd n rep argv t0 t1 rc
    : >"$out"
    declare -A tp_cmd=(
        [nucleus]="$LAUNCH run --rootfs $ROOTFS -- /bin/true"
        [crun]="crun run --bundle $BUNDLE nb-tp-{}"
        [bwrap]="bwrap --unshare-all --ro-bind $ROOTFS / --proc /proc --dev /dev /bin/true"
    )
    declare -A tp_row=([nucleus]=nucleus-ns [crun]=crun [bwrap]=bwrap)
    for key in nucleus crun bwrap; do
        # Skip a runtime whose row failed its probe; rows.tsv says why.
        [[ $(row_status "${tp_row[$key]}") == ok ]] || continue
        read -ra argv <<<"${tp_cmd[$key]}"
        for n in "${TP_SIZES[@]}"; do
            log "throughput: $n x $key, $TP_REPS time(s)"
            for ((rep = 0; rep < TP_REPS; rep++)); do
                rc=0
                t0=$(date +%s%N)
                # (xargs gives each command /dev/null as stdin itself.)
                seq "$n" | xargs -P "$n" -I{} "${argv[@]}" >/dev/null 2>&1 || rc=$?
                t1=$(date +%s%N)
                printf '%s\t%s\t%s\t%s\n' "$key" "$n" "$((t1 - t0))" "$rc" >>"$out"
                # crun deletes each container on exit; only a failed start leaves one behind.
                ((rc == 0)) || cleanup_oci
            done
        done
    done
}

first_line() { "$@" 2>&1 | head -n1 || true; }

record_meta() {
    local out=$OUT/meta.tsv
    {
        printf 'mode\t%s\nruns\t%s\nwarmup\t%s\nrss_reps\t%s\nthroughput_reps\t%s\n' \
            "$MODE" "$RUNS" "$WARMUP" "$RSS_REPS" "$TP_REPS"
        printf 'date\t%s\nkernel\t%s\nnproc\t%s\ncgroups\t%s\n' \
            "$(date -u +%Y-%m-%dT%H:%M:%SZ)" "$(uname -r)" "$(nproc)" "$CGROUP_NOTE"
        printf 'cpu\t%s\n' "$(awk -F': ' '/^model name/ { print $2; exit }' /proc/cpuinfo)"
        printf 'version:hyperfine\t%s\n' "$(first_line hyperfine --version)"
        printf 'version:nucleus-launch\t%s\n' "$(first_line "$LAUNCH" --version)"
        printf 'version:crun\t%s\n' "$(first_line crun --version)"
        printf 'version:runc\t%s\n' "$(first_line runc --version)"
        printf 'version:runsc\t%s\n' "$(first_line runsc --version)"
        printf 'version:bwrap\t%s\n' "$(first_line bwrap --version)"
        printf 'version:busybox\t%s\n' "$(first_line "$ROOTFS/bin/busybox")"
        printf 'rootfs\t%s\n' "$ROOTFS"
    } >"$out"
}

main() {
    mask_hybrid_cgroup2
    trap cleanup_oci EXIT
    cleanup_oci
    record_meta
    probe_rows
    run_hyperfine
    measure_rss
    record_binaries
    if [[ $(row_status nucleus-ns) == ok ]]; then
        measure_idle_init
    else
        printf 'error\tnucleus-launch run failed\n' >"$OUT/idle.tsv"
    fi
    measure_gvisor_overhead
    measure_throughput
}

main
