#!/usr/bin/env bash
# Startup latency, memory and binary size of nucleus against its peers (crun, runc, bubblewrap,
# gVisor), all starting /bin/true from the same busybox rootfs. See issue 3.
#
#   scripts/bench.sh           full run: 10 warm-ups + 200 runs per row (BENCH_RUNS overrides)
#   scripts/bench.sh --smoke   CI run: 1 warm-up + 3 runs per row; fails only if nucleus fails
#
# Needs root (the OCI runtimes run rootful) and a Rust toolchain; installs the rest from Debian.
# Everything it writes goes under target/bench/: startup.json (hyperfine), results.json,
# results.md, startup.svg, plus the rootfs and the two OCI bundles.
#
# Layout: this file prepares (packages, build, rootfs, bundles, and the bundle nucleus's gVisor
# backend runs, exported with --gvisor-export); scripts/bench/measure.sh
# measures inside a private mount namespace; scripts/bench/report.py turns the raw files into
# the table, JSON, markdown and SVG; scripts/bench/bundle.py writes the OCI config.json.
set -euo pipefail

REPO=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
BENCH_DIR=$REPO/scripts/bench
OUT=$REPO/target/bench

# Debian packages this needs. Peers are allowed to be missing (their rows then say why); the
# tools the benchmark itself runs on are not.
REQUIRED_PKGS=(hyperfine busybox-static golang-github-containers-common time python3)
PEER_PKGS=(crun runc bubblewrap runsc)

log() { printf '\033[1m==> %s\033[0m\n' "$*" >&2; }
warn() { printf 'warning: %s\n' "$*" >&2; }
die() { printf 'error: %s\n' "$*" >&2; exit 1; }

usage() {
    sed -n '2,11p' "${BASH_SOURCE[0]}" | sed 's/^# \{0,1\}//'
}

parse_args() {
    MODE=full
    for arg in "$@"; do
        case $arg in
            --smoke) MODE=smoke ;;
            -h | --help) usage; exit 0 ;;
            *) usage >&2; die "unknown argument: $arg" ;;
        esac
    done
    if [[ $MODE == smoke ]]; then
        RUNS=3 WARMUP=1 RSS_REPS=1 TP_REPS=1
    else
        RUNS=${BENCH_RUNS:-200} WARMUP=10 RSS_REPS=20 TP_REPS=5
        ((RUNS >= 100)) || die "BENCH_RUNS must be at least 100 in full mode"
    fi
}

preflight() {
    ((EUID == 0)) || die "run as root: crun/runc/runsc run rootful and unshare needs CAP_SYS_ADMIN"
    # Commands are passed to hyperfine -N and xargs as space-separated words: no quoting.
    [[ $REPO != *[[:space:]]* ]] || die "the checkout path must not contain spaces: $REPO"
    command -v cargo >/dev/null || die "cargo not found: install a Rust toolchain (rustup.rs)"
}

pkg_installed() {
    dpkg-query -W -f='${Status}' "$1" 2>/dev/null | grep -q 'install ok installed'
}

install_packages() {
    local missing=() p
    for p in "${REQUIRED_PKGS[@]}" "${PEER_PKGS[@]}"; do
        pkg_installed "$p" || missing+=("$p")
    done
    ((${#missing[@]} == 0)) && return
    log "installing ${missing[*]}"
    apt-get update
    if ! DEBIAN_FRONTEND=noninteractive apt-get install -y "${missing[@]}"; then
        # One unavailable peer (e.g. runsc on an architecture Debian does not build it for)
        # must not keep the others out: retry one by one, and only the required ones are fatal.
        for p in "${missing[@]}"; do
            DEBIAN_FRONTEND=noninteractive apt-get install -y "$p" && continue
            if [[ " ${REQUIRED_PKGS[*]} " == *" $p "* ]]; then die "cannot install $p"; fi
            warn "cannot install $p; its rows will be reported as failed"
        done
    fi
}

build_nucleus() {
    log "cargo build --release -p nucleus-launch"
    # Not `--workspace`: init is a no_std crate kept out of default-members on purpose (built and
    # embedded by the launcher's build script); built in the workspace's feature set it fails
    # with a duplicate `panic_impl`.
    (cd "$REPO" && cargo build --release --locked -p nucleus-launch)
    LAUNCH=$REPO/target/release/nucleus-launch
    # The embedded init, as the build script left it (newest, in case of stale build dirs).
    INIT=$(find "$REPO"/target/release/build -path '*/nucleus-launch-*/out/nucleus-init' \
        -printf '%T@ %p\n' 2>/dev/null | sort -n | tail -n1 | cut -d' ' -f2-)
    [[ -x $LAUNCH ]] || die "no $LAUNCH after the build"
    [[ -n $INIT ]] || warn "embedded nucleus-init not found under target/release/build"
}

# First file of an installed package whose path ends in $2. awk reads dpkg's whole output (no
# early exit), so the pipeline cannot die of SIGPIPE under pipefail.
pkg_file() {
    dpkg -L "$1" 2>/dev/null | awk -v suffix="$2" \
        'substr($0, length($0) - length(suffix) + 1) == suffix && !found { print; found = 1 }'
}

busybox_path() {
    # busybox-static's binary (/bin/busybox); a dynamic busybox would not run in the rootfs.
    local bb
    bb=$(pkg_file busybox-static /busybox)
    [[ -n $bb ]] || bb=$(command -v busybox) || die "no busybox: install busybox-static"
    printf '%s' "$bb"
}

# A minimal rootfs: static busybox and one symlink per applet, so /bin/true and /bin/sh exist.
build_rootfs() {
    local bb=$1 root=$OUT/rootfs applet
    log "rootfs in $root"
    rm -rf "$root"
    mkdir -p "$root"/{bin,dev,proc,sys,tmp,etc}
    cp "$bb" "$root/bin/busybox"
    for applet in $("$bb" --list); do
        # `--list` names busybox itself; linking it would replace the binary by a self-loop.
        [[ $applet == busybox ]] || ln -s busybox "$root/bin/$applet"
    done
    echo 'root:x:0:0:root:/:/bin/sh' >"$root/etc/passwd"
    echo 'root:x:0:' >"$root/etc/group"
    ROOTFS=$root
}

spec_template() {
    local dir=$1
    # Either runtime's `spec` writes the same OCI default (no seccomp section in either).
    if command -v runc >/dev/null; then
        (cd "$dir" && runc spec)
    elif command -v crun >/dev/null; then
        (cd "$dir" && crun spec)
    else
        return 1
    fi
}

build_bundles() {
    local tmp profile
    BUNDLE=$OUT/bundle BUNDLE_SC=$OUT/bundle-seccomp
    rm -rf "$BUNDLE" "$BUNDLE_SC"
    tmp=$(mktemp -d)
    if ! spec_template "$tmp"; then
        warn "neither runc nor crun is installed: no OCI bundle"
        rm -rf "$tmp"
        return
    fi
    log "OCI bundles $BUNDLE and $BUNDLE_SC"
    python3 "$BENCH_DIR/bundle.py" "$tmp/config.json" "$ROOTFS" "$BUNDLE"
    profile=$(pkg_file golang-github-containers-common /seccomp.json)
    if [[ -n $profile ]]; then
        python3 "$BENCH_DIR/bundle.py" "$tmp/config.json" "$ROOTFS" "$BUNDLE_SC" --seccomp "$profile"
    else
        warn "no seccomp.json from golang-github-containers-common: seccomp rows will fail"
    fi
    rm -rf "$tmp"
}

# The OCI bundle `run --runtime gvisor` hands runsc for /bin/true in the rootfs, and runsc's
# arguments for it (one per line), so that runsc can be timed on exactly that bundle.
export_gvisor_bundle() {
    GVISOR_ARGS=
    command -v runsc >/dev/null || return 0
    local dir=$OUT/gvisor-bundle
    rm -rf "$dir"
    log "gVisor bundle in $dir"
    if "$LAUNCH" run --runtime gvisor --cgroup-manager none --gvisor-export "$dir" \
        --rootfs "$ROOTFS" -- /bin/true >/dev/null; then
        GVISOR_ARGS=$(tr '\n' ' ' <"$dir/runsc-args")
    else
        warn "nucleus-launch --gvisor-export failed: no runsc row on nucleus's bundle"
    fi
}

# crun refuses a hybrid cgroup layout, so measure.sh masks the cgroup2 mount, and that needs a
# mount namespace of its own: the host's mounts are never touched. All rows share it, so every
# runtime sees the same cgroup view.
run_measurements() {
    log "measuring ($MODE: $RUNS runs, $WARMUP warm-ups per row)"
    OUTER_MNTNS=$(readlink /proc/self/ns/mnt) \
        OUT=$OUT MODE=$MODE RUNS=$RUNS WARMUP=$WARMUP RSS_REPS=$RSS_REPS TP_REPS=$TP_REPS \
        LAUNCH=$LAUNCH INIT=$INIT ROOTFS=$ROOTFS BUNDLE=$BUNDLE BUNDLE_SC=$BUNDLE_SC \
        GVISOR_ARGS=$GVISOR_ARGS \
        unshare --mount --propagation private -- bash "$BENCH_DIR/measure.sh"
}

main() {
    parse_args "$@"
    preflight
    install_packages
    build_nucleus
    mkdir -p "$OUT"
    local bb
    bb=$(busybox_path)
    build_rootfs "$bb"
    build_bundles
    export_gvisor_bundle
    run_measurements
    # report.py exits non-zero when an existing nucleus row failed: that fails CI.
    python3 "$BENCH_DIR/report.py" "$OUT"
}

main "$@"
