#!/usr/bin/env python3
"""What nucleus's gVisor backend adds to runsc: interleaved starts of the same sandbox.

    gvisor_overhead.py OUT_FILE PAIRS :: DIRECT_CMD... :: WRAPPED_CMD...

DIRECT_CMD is `runsc ... run --bundle B ID` on the bundle that `nucleus-launch run --runtime
gvisor --gvisor-export` wrote; WRAPPED_CMD is the same `nucleus-launch run --runtime gvisor`.
A start of runsc takes about 0.2 s and varies by tens of milliseconds on a shared VM, so the two
are measured in alternation (A B, B A, A B, ...: neither always goes first), and the figure
is the median of the per-pair differences, which drift between pairs does not move.

Writes OUT_FILE as TSV: one `direct_ms wrapped_ms` line per pair, every exit code checked.
"""

import subprocess
import sys
import time


def once(cmd):
    t0 = time.perf_counter_ns()
    rc = subprocess.run(cmd, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                        stderr=subprocess.DEVNULL).returncode
    ms = (time.perf_counter_ns() - t0) / 1e6
    if rc != 0:
        sys.exit(f"gvisor_overhead: {' '.join(cmd)} exited {rc}")
    return ms


def main():
    out, pairs = sys.argv[1], int(sys.argv[2])
    rest = sys.argv[3:]
    # `::` separates the commands: the launcher's own command line holds `--`.
    if rest[:1] != ["::"] or "::" not in rest[1:]:
        sys.exit(__doc__)
    split = rest.index("::", 1)
    direct, wrapped = rest[1:split], rest[split + 1:]
    # One warm-up of each (page cache, runsc's first start).
    once(direct)
    once(wrapped)
    with open(out, "w") as f:
        for i in range(pairs):
            if i % 2:
                w, d = once(wrapped), once(direct)
            else:
                d, w = once(direct), once(wrapped)
            f.write(f"{d:.3f}\t{w:.3f}\n")


if __name__ == "__main__":
    main()
