#!/usr/bin/python3
"""drgn, with the kernel's -dbg vmlinux, reads vmcollect's dumps of a real crash
as it reads the raw /proc/vmcore: a second symbol-aware judge beside crash, and
the only one on 6.12, which Debian 12's crash cannot open.

drgn opens kdump files through libkdumpfile and ELF files itself, and follows
kernel data structures through our pages with the kernel's own type
information. For the raw vmcore and each of our dumps it gathers:

  * the uname in init_uts_ns, and the architecture libkdumpfile takes from the
    kdump header (drgn cannot open a dump whose header utsname it ignores);
  * every task (pid, comm), walking the task list;
  * every printk record, through the lockless ring buffer's descriptors;
  * the crashed thread and its stack trace (or the error drgn gives unwinding
    it: Debian 12's drgn knows no 6.12 ORC entries, on the raw vmcore too);

and every dump must give exactly the raw vmcore's facts. Our dumps: `-l -d 31`,
`-z -d 31` (kdump), `-E -d 31` (ELF), and those vmcollect wrote inside the
capture kernel (capture/vmcore-vmcollect-*). On the raw vmcore the facts must
also make sense: pid 1 exists, the log holds the sysrq crash trigger.

Usage: vm_drgn.py --vmcollect BIN [--dir DIR] [--kernel K] [--vmlinux FILE]
DIR and K default to $VMCOLLECT_VM_DIR and $VMCOLLECT_VM_KERNEL; the vmlinux is
fetched with tests/vm/fetch-debug-vmlinux.sh. Exit 0 when every dump matches,
1 otherwise, 77 (skipped) when drgn cannot read even the raw vmcore.
"""
import argparse
import glob
import os
import shutil
import subprocess
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))


def facts(core, vmlinux):
    """What drgn reads from one dump, or raises what drgn said."""
    import drgn
    from drgn.helpers.linux.pid import for_each_task
    from drgn.helpers.linux.printk import get_printk_records

    prog = drgn.Program()
    prog.set_core_dump(core)
    prog.load_debug_info([vmlinux], default=False, main=False)
    uts = prog["init_uts_ns"].name
    f = {
        "uname": tuple(getattr(uts, m).string_().decode()
                       for m in ("sysname", "release", "version", "machine")),
        "tasks": sorted((int(t.pid), t.comm.string_().decode()) for t in for_each_task(prog)),
        "printk": [(r.timestamp, r.text) for r in get_printk_records(prog)],
    }
    thread = prog.crashed_thread()
    f["crashed"] = thread.tid
    try:
        f["stack"] = [frame.name for frame in thread.stack_trace()]
    except Exception as e:  # the same failure is expected on every dump
        f["stack"] = "unwinding failed: %s" % e
    return f


def sanity(f):
    problems = []
    if not any(pid == 1 for pid, _ in f["tasks"]):
        problems.append("no pid 1 in the task list")
    if not any(b"Trigger a crash" in text for _, text in f["printk"]):
        problems.append("no 'Trigger a crash' in the log")
    return problems


def differences(raw, ours):
    out = []
    for key in raw:
        if raw[key] == ours[key]:
            continue
        if isinstance(raw[key], list) and isinstance(ours[key], list):
            only_raw = [x for x in raw[key] if x not in ours[key]][:3]
            only_ours = [x for x in ours[key] if x not in raw[key]][:3]
            out.append("%s: %d vs %d entries; raw only %r, ours only %r"
                       % (key, len(raw[key]), len(ours[key]), only_raw, only_ours))
        else:
            out.append("%s: raw %r, ours %r" % (key, raw[key], ours[key]))
    return out


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--vmcollect", required=True)
    ap.add_argument("--dir", default=os.environ.get("VMCOLLECT_VM_DIR"))
    ap.add_argument("--kernel", default=os.environ.get("VMCOLLECT_VM_KERNEL"))
    ap.add_argument("--vmlinux")
    a = ap.parse_args()
    if not a.dir or not os.path.isfile(os.path.join(a.dir, "vmcore")):
        sys.exit("vm_drgn: need --dir DIR holding a vmcore")
    try:
        import drgn  # noqa: F401
    except ImportError:
        sys.exit("vm_drgn: drgn is missing (tests/setup-deps.sh installs python3-drgn)")
    vmlinux = a.vmlinux
    if not vmlinux:
        vmlinux = subprocess.run(["bash", os.path.join(HERE, "..", "vm", "fetch-debug-vmlinux.sh"), a.kernel],
                                 check=True, stdout=subprocess.PIPE, text=True).stdout.strip()
    raw_core = os.path.join(a.dir, "vmcore")
    try:
        raw = facts(raw_core, vmlinux)
    except Exception as e:
        print("SKIP: drgn cannot read the raw vmcore of %s: %s" % (a.kernel, e))
        return 77
    print("raw vmcore: %s, %d tasks, %d log records, crashed thread %d, stack: %s"
          % (raw["uname"][1], len(raw["tasks"]), len(raw["printk"]), raw["crashed"],
             raw["stack"] if isinstance(raw["stack"], str) else " < ".join(raw["stack"][:6])))
    failed = 0
    for p in sanity(raw):
        print("  FAIL raw vmcore: " + p)
        failed = 1

    tmp = tempfile.mkdtemp(prefix="vmcollect-drgn-", dir="/var/tmp")
    try:
        dumps = []
        for name, opts in (("l-d31", ["-l", "-d", "31"]), ("z-d31", ["-z", "-d", "31"]),
                           ("E-d31", ["-E", "-d", "31"])):
            path = os.path.join(tmp, name)
            r = subprocess.run([a.vmcollect] + opts + [raw_core, path],
                               stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
            if r.returncode != 0:
                print("  FAIL vmcollect %s: exit %d: %s" % (" ".join(opts), r.returncode, r.stdout[-400:]))
                failed = 1
                continue
            dumps.append(("vmcollect " + " ".join(opts), path))
        dumps += [("capture kernel's " + os.path.basename(p), p)
                  for p in sorted(glob.glob(os.path.join(a.dir, "capture", "vmcore-vmcollect-*")))]
        for label, path in dumps:
            try:
                ours = facts(path, vmlinux)
            except Exception as e:
                print("  FAIL %s: drgn cannot open it: %s" % (label, e))
                failed = 1
                continue
            diff = differences(raw, ours)
            for d in diff:
                print("  FAIL %s: %s" % (label, d))
            if diff:
                failed = 1
            else:
                print("  ok   %s: the same uname, %d tasks, %d log records and crashed-thread stack"
                      % (label, len(ours["tasks"]), len(ours["printk"])))
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    return failed


if __name__ == "__main__":
    sys.exit(main())
