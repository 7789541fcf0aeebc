#!/usr/bin/python3
"""The kernel log through the vmcollect binary, on a real QEMU dump.

Why a whole-binary test next to the library's: kdump scripts call the binary
(`vmcollect --dump-dmesg VMCORE FILE`, or it installed as `vmcore-dmesg`), and
the log must come out the same from every input an admin may hold. Judge:
kexec-tools' /usr/sbin/vmcore-dmesg on the raw ELF vmcore. Checked, each byte
for byte against it:

  inputs  the raw vmcore; vmcollect's -d 31, -l -d 31, -E -d 31 outputs; a
          -F -d 31 flattened stream, read as it is and rebuilt with -R;
          makedumpfile's -c -d 31 output; the capture kernel's -l/-c -d 1
          kdump outputs
  forms   --dump-dmesg VMCORE FILE, --dump-dmesg -F VMCORE (stdout), and the
          binary run as `vmcore-dmesg VMCORE` (stdout)
  capture DIR/capture/vmcore-dmesg.txt, written in the capture kernel by
          tests/vm/capture-collect.sh before the dumps

and, on the capture kernel's zlib -d 1 dump of the whole machine, that the log
costs only a few hundred pages (the "Pages read for the log" debug line; the
exact bound is RealKdumpDump in real_dump_dmesg_test.cc) and little memory.

Environment (from vmcollect_add_vm_test): VMCOLLECT_VM_DIR, VMCOLLECT_VM_KERNEL.
Usage: vm_dmesg_cli.py --vmcollect BIN [--keep]
"""
import argparse
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time

VMCORE_DMESG = "/usr/sbin/vmcore-dmesg"
MAX_LOG_PAGES = 1024        # of the 262144 pages of a 1 GiB machine
MAX_RSS_KIB = 64 * 1024     # measured: about 5.3 MiB


class Failures:
    def __init__(self):
        self.items = []

    def check(self, ok, what, detail=""):
        """Prints the check; detail (stderr, a diff) only when it failed."""
        line = what if ok or not detail else f"{what}\n  {detail}"
        print(("ok   " if ok else "FAIL ") + line, flush=True)
        if not ok:
            self.items.append(what)


def run(cmd, stdin=None, stdout=None):
    """Runs cmd; returns (exit code, stdout bytes, stderr text, peak RSS in KiB).

    stdout and stderr go through temporary files and the child is reaped with
    wait4, which gives its own peak RSS (getrusage's would be the maximum over
    every child so far).
    """
    with tempfile.TemporaryFile() as out_file, tempfile.TemporaryFile() as err_file:
        p = subprocess.Popen(cmd, stdin=stdin, stdout=stdout or out_file, stderr=err_file)
        _, status, usage = os.wait4(p.pid, 0)
        p.returncode = os.waitstatus_to_exitcode(status)
        out_file.seek(0)
        err_file.seek(0)
        return p.returncode, out_file.read(), err_file.read().decode(errors="replace"), usage.ru_maxrss


def first_difference(ours, ref):
    n = 0
    while n < min(len(ours), len(ref)) and ours[n] == ref[n]:
        n += 1
    start = ref.rfind(b"\n", 0, n) + 1
    return (f"first difference at byte {n} (ours {len(ours)} bytes, vmcore-dmesg {len(ref)})\n"
            f"  vmcore-dmesg: {ref[start:start + 160]!r}\n  ours:         {ours[start:start + 160]!r}")


class Checker:
    def __init__(self, vmcollect, tmp, ref, failures):
        self.vmcollect, self.tmp, self.ref, self.f = vmcollect, tmp, ref, failures
        # The vmcore-dmesg form: the same binary under that name.
        self.as_vmcore_dmesg = os.path.join(tmp, "vmcore-dmesg")
        os.symlink(vmcollect, self.as_vmcore_dmesg)

    def same(self, got, what):
        self.f.check(got == self.ref, what, "" if got == self.ref else first_difference(got, self.ref))

    def all_forms(self, dump, label):
        """The three ways to ask for the log, each byte-identical to the reference."""
        out = os.path.join(self.tmp, "dmesg.txt")
        if os.path.exists(out):
            os.unlink(out)
        rc, _, err, _ = run([self.vmcollect, "--dump-dmesg", dump, out])
        self.f.check(rc == 0, f"{label}: --dump-dmesg exit {rc}", err.strip()[-300:])
        if rc == 0:
            with open(out, "rb") as fh:
                self.same(fh.read(), f"{label}: --dump-dmesg VMCORE FILE")
        rc, got, err, _ = run([self.vmcollect, "--dump-dmesg", "-F", dump])
        self.f.check(rc == 0, f"{label}: --dump-dmesg -F exit {rc}", err.strip()[-300:])
        self.same(got, f"{label}: --dump-dmesg -F VMCORE (stdout)")
        rc, got, err, _ = run([self.as_vmcore_dmesg, dump])
        self.f.check(rc == 0 and err == "", f"{label}: as vmcore-dmesg: exit {rc}, nothing on stderr",
                     err.strip()[-300:])
        self.same(got, f"{label}: as vmcore-dmesg VMCORE (stdout)")

    def make(self, name, args, label):
        """Writes a dump of the raw vmcore with vmcollect ARGS, checks its log, deletes it."""
        path = os.path.join(self.tmp, name)
        t0 = time.monotonic()
        rc, _, err, _ = run([self.vmcollect, *args, path])
        self.f.check(rc == 0, f"{label}: writing it: exit {rc} ({time.monotonic() - t0:.1f} s)", err.strip()[-300:])
        if rc == 0:
            self.all_forms(path, label)
        if os.path.exists(path):
            os.unlink(path)


def check_cost(vmcollect, dump, ref, f):
    """The log from a kdump dump of the whole machine reads only the log's pages."""
    rc, out, err, rss = run([vmcollect, "--dump-dmesg", "-F", "--message-level", "31", dump])
    f.check(rc == 0 and out == ref, f"capture -c -d 1 with --message-level 31: exit {rc}, log identical: {out == ref}")
    m = re.search(r"Pages read for the log: (\d+) \((\d+) decompressed\)", err)
    f.check(m is not None, "capture -c -d 1: the debug level reports the pages read")
    if m:
        pages = int(m.group(1))
        f.check(0 < pages <= MAX_LOG_PAGES,
                f"capture -c -d 1: {pages} pages read ({m.group(2)} decompressed), at most {MAX_LOG_PAGES}")
    f.check(rss <= MAX_RSS_KIB, f"capture -c -d 1: peak RSS {rss} KiB, at most {MAX_RSS_KIB}")


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--vmcollect", required=True)
    ap.add_argument("--keep", action="store_true", help="keep the temporary directory")
    a = ap.parse_args()
    vmdir = os.environ["VMCOLLECT_VM_DIR"]
    vmcore = os.path.join(vmdir, "vmcore")
    vmcollect = os.path.realpath(a.vmcollect)
    f = Failures()
    for tool in (VMCORE_DMESG, shutil.which("makedumpfile") or "makedumpfile"):
        if not os.access(tool, os.X_OK):
            print(f"FAIL {tool} is missing (tests/setup-deps.sh installs it)")
            return 1
    rc, ref, err, _ = run([VMCORE_DMESG, vmcore])
    if rc != 0 or not ref:
        print(f"FAIL vmcore-dmesg {vmcore}: exit {rc}, {len(ref)} bytes: {err}")
        return 1
    lines = ref.count(b"\n")
    print(f"reference: vmcore-dmesg {vmcore}: {len(ref)} bytes, {lines} lines")

    tmp = tempfile.mkdtemp(prefix="vmc-dmesg-cli-", dir="/var/tmp")  # mode 0700
    t0 = time.monotonic()
    try:
        c = Checker(vmcollect, tmp, ref, f)
        c.all_forms(vmcore, "raw ELF vmcore")
        c.make("d31", ["-d", "31", vmcore], "vmcollect -d 31")
        c.make("l-d31", ["-l", "-d", "31", vmcore], "vmcollect -l -d 31")
        c.make("E-d31", ["-E", "-d", "31", vmcore], "vmcollect -E -d 31")

        flat, rebuilt = os.path.join(tmp, "F-d31"), os.path.join(tmp, "R-d31")
        with open(flat, "wb") as fh:
            rc, _, err, _ = run([vmcollect, "-F", "-d", "31", vmcore], stdout=fh)
        f.check(rc == 0, f"vmcollect -F -d 31: exit {rc}", err.strip()[-300:])
        c.all_forms(flat, "flattened -F -d 31 stream")
        with open(flat, "rb") as fh:
            rc, _, err, _ = run([vmcollect, "-R", rebuilt], stdin=fh)
        f.check(rc == 0, f"vmcollect -R: exit {rc}", err.strip()[-300:])
        os.unlink(flat)
        if rc == 0:
            c.all_forms(rebuilt, "-F -d 31 rebuilt with -R")
        os.unlink(rebuilt)

        mdf = os.path.join(tmp, "mdf-c-d31")
        rc, _, err, _ = run(["makedumpfile", "-c", "-d", "31", vmcore, mdf])
        f.check(rc == 0, f"makedumpfile -c -d 31: exit {rc}", err.strip()[-300:])
        if rc == 0:
            c.all_forms(mdf, "makedumpfile -c -d 31")
        if os.path.exists(mdf):
            os.unlink(mdf)

        cap = os.path.join(vmdir, "capture")
        saved = os.path.join(cap, "vmcore-dmesg.txt")
        if os.path.exists(saved):
            with open(saved, "rb") as fh:
                c.same(fh.read(), "capture kernel: vmcore-dmesg.txt from vmcollect --dump-dmesg /proc/vmcore")
        else:
            f.check(False, f"capture kernel: {saved} is missing (a dump made without --vmcollect, or before capture-collect.sh saved it)")
        for name in ("vmcore-vmcollect-l-d1", "vmcore-vmcollect-c-d1"):
            dump = os.path.join(cap, name)
            if os.path.exists(dump):
                c.all_forms(dump, f"capture kernel's {name}")
            else:
                f.check(False, f"capture kernel: {dump} is missing")
        zlib = os.path.join(cap, "vmcore-vmcollect-c-d1")
        if os.path.exists(zlib):
            check_cost(vmcollect, zlib, ref, f)
    finally:
        if a.keep:
            print("kept", tmp)
        else:
            shutil.rmtree(tmp, ignore_errors=True)
    print(f"{os.environ.get('VMCOLLECT_VM_KERNEL', '?')}: {len(f.items)} failures, {time.monotonic() - t0:.1f} s")
    return 1 if f.items else 0


if __name__ == "__main__":
    sys.exit(main())
