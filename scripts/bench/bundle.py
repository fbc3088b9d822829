#!/usr/bin/env python3
"""Turn a `runc spec` / `crun spec` template into the benchmark's OCI bundle config.

    bundle.py TEMPLATE ROOTFS OUT_DIR [--seccomp PROFILE]

Writes OUT_DIR/config.json: process `/bin/true`, no terminal, read-only root at ROOTFS
(absolute, so the bundle works from any cwd). With --seccomp, PROFILE is the Docker/Podman
default profile as shipped by golang-github-containers-common (/usr/share/containers/seccomp.json)
and is converted into `linux.seccomp`.

The containers-common profile is a superset of the OCI format: it carries `archMap`, per-rule
`includes`/`excludes` conditions (architecture, capabilities, minimum kernel), `comment` and
symbolic `errno` names that runc/crun do not know. Podman and Docker resolve those conditions
for the container they start; we do the same, once, for this bundle:

  * architecture: the host's (x86_64 -> Go name "amd64", the name the profile uses). A rule with
    `includes.arches` is kept only if that list names the host arch; `excludes.arches` drops it
    if it does. `linux.seccomp.architectures` = the archMap entry for the host arch plus its
    subArchitectures (x86_64: X86_64, X86, X32), as Docker does.
  * capabilities: the bundle's own bounding set (the `runc spec` default: CAP_AUDIT_WRITE,
    CAP_KILL, CAP_NET_BIND_SERVICE), i.e. what this container really gets. A rule with
    `includes.caps` is kept only if all of them are in the set; `excludes.caps` drops it if any
    is. So e.g. `chroot` falls to EPERM (no CAP_SYS_CHROOT) and the unrestricted `socket` rule
    applies (CAP_AUDIT_WRITE is present).
  * minKernel: kept if the running kernel is at least that version.
  * dropped fields: archMap, defaultErrno, comment, includes, excludes, errno (the names);
    kept: defaultAction, defaultErrnoRet, names, action, args (only when non-empty), errnoRet.
"""

import argparse
import json
import os
import platform
import sys

# Go architecture names (used in the profile's includes/excludes) and libseccomp names.
GO_ARCH = {"x86_64": "amd64", "aarch64": "arm64", "ppc64le": "ppc64le", "s390x": "s390x",
           "riscv64": "riscv64", "i686": "386", "armv7l": "arm"}
SCMP_ARCH = {"x86_64": "SCMP_ARCH_X86_64", "aarch64": "SCMP_ARCH_AARCH64",
             "ppc64le": "SCMP_ARCH_PPC64LE", "s390x": "SCMP_ARCH_S390X",
             "riscv64": "SCMP_ARCH_RISCV64", "i686": "SCMP_ARCH_X86", "armv7l": "SCMP_ARCH_ARM"}

SYSCALL_FIELDS = ("names", "action", "errnoRet", "args")


def kernel_at_least(wanted):
    def parse(v):
        return tuple(int(x) for x in v.split("-")[0].split(".")[:2])
    return parse(platform.release()) >= parse(wanted)


def rule_applies(rule, arch, caps):
    inc = rule.get("includes") or {}
    exc = rule.get("excludes") or {}
    if inc.get("arches") and arch not in inc["arches"]:
        return False
    if inc.get("caps") and not all(c in caps for c in inc["caps"]):
        return False
    if inc.get("minKernel") and not kernel_at_least(inc["minKernel"]):
        return False
    if exc.get("arches") and arch in exc["arches"]:
        return False
    if exc.get("caps") and any(c in caps for c in exc["caps"]):
        return False
    if exc.get("minKernel") and kernel_at_least(exc["minKernel"]):
        return False
    return True


def convert_seccomp(profile, caps):
    machine = platform.machine()
    arch = GO_ARCH.get(machine, machine)
    native = SCMP_ARCH.get(machine)
    architectures = []
    for entry in profile.get("archMap") or []:
        if entry["architecture"] == native:
            architectures = [native] + list(entry.get("subArchitectures") or [])
    syscalls = []
    for rule in profile["syscalls"]:
        if not rule_applies(rule, arch, caps):
            continue
        out = {k: rule[k] for k in SYSCALL_FIELDS if rule.get(k) not in (None, [], "")}
        syscalls.append(out)
    seccomp = {"defaultAction": profile["defaultAction"]}
    if "defaultErrnoRet" in profile:
        seccomp["defaultErrnoRet"] = profile["defaultErrnoRet"]
    if architectures:
        seccomp["architectures"] = architectures
    seccomp["syscalls"] = syscalls
    return seccomp


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("template")
    ap.add_argument("rootfs")
    ap.add_argument("out_dir")
    ap.add_argument("--seccomp", metavar="PROFILE")
    a = ap.parse_args()

    with open(a.template) as f:
        spec = json.load(f)
    spec["root"] = {"path": os.path.abspath(a.rootfs), "readonly": True}
    spec["hostname"] = "nucleus-bench"
    proc = spec["process"]
    proc["args"] = ["/bin/true"]
    proc["terminal"] = False
    proc["env"] = ["PATH=/bin"]

    if a.seccomp:
        with open(a.seccomp) as f:
            profile = json.load(f)
        caps = set(proc.get("capabilities", {}).get("bounding", []))
        seccomp = convert_seccomp(profile, caps)
        spec.setdefault("linux", {})["seccomp"] = seccomp
        names = sum(len(r["names"]) for r in seccomp["syscalls"])
        print(f"seccomp: {len(seccomp['syscalls'])} rules, {names} syscall names, "
              f"default {seccomp['defaultAction']}, arches {seccomp.get('architectures')}",
              file=sys.stderr)

    os.makedirs(a.out_dir, exist_ok=True)
    with open(os.path.join(a.out_dir, "config.json"), "w") as f:
        json.dump(spec, f, indent=2)
        f.write("\n")


if __name__ == "__main__":
    main()
