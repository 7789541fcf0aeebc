#!/usr/bin/python3
"""vmcollect end to end on one real kernel dump (tests/vm), judged by others.

Why a separate script: every check here is decided by a reader we did not
write (libkdumpfile, Debian's makedumpfile, kexec-tools' vmcore-dmesg), on the
raw /proc/vmcore of a real crash, for every output vmcollect makes:

  * each codec (none, -c, -l, -p, -z) at -d 0 and -d 1: libkdumpfile reads
    every dumped page equal to the raw vmcore; the dumped pfn set equals
    makedumpfile's at the same level (one makedumpfile run per level), and at
    -l every attribute libkdumpfile takes from the headers and notes (uname,
    architecture, CPU registers, VMCOREINFO) equals makedumpfile's;
    makedumpfile --dump-dmesg reads the output and prints the raw vmcore's log
    (Debian's makedumpfile 1.7.2 has no snappy/zstd: for -p/-z it must say so);
  * -F | -R (vmcollect and makedumpfile -R) rebuilds the very same file;
  * -E: libkdumpfile pages, makedumpfile --dump-dmesg, vmcore-dmesg, the pfn
    set of makedumpfile -E, and -E -F | -R;
  * the dumps vmcollect wrote inside the capture kernel (capture/);
  * a disk that really fills up mid-dump (a 48 MiB tmpfs in a private mount
    namespace; injected ENOSPC only where mounting is not allowed): exit 1, a
    message naming ENOSPC and the file, the header marked incomplete,
    libkdumpfile opens it and every page it can read equals the raw vmcore;
  * every output file is mode 0600 and, unless cut short, not marked incomplete.

Usage: vm_e2e.py --vmcollect BIN [--dir DIR] [--keep]
DIR defaults to $VMCOLLECT_VM_DIR. Outputs go to a private mktemp directory
under /var/tmp and are deleted as soon as they are judged. Exit 0 when every
check holds, 1 otherwise (each failure is printed; the run goes on).
"""
import argparse
import hashlib
import os
import re
import shlex
import shutil
import stat
import struct
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import kdump_judge  # noqa: E402  (libkdumpfile helpers)

PHYS = kdump_judge.PHYS
KDUMP_SIGNATURES = (b"KDUMP   ", b"DISKDUMP")
STATUS_OFFSET = 424        # disk_dump_header.status
STATUS_INCOMPLETE = 0x8
CODEC_STATUS = {"": 0, "-c": 0x1, "-l": 0x2, "-p": 0x4, "-z": 0x20}
CODEC_NAME = {"": "none", "-c": "zlib", "-l": "lzo", "-p": "snappy", "-z": "zstd"}
# What Debian's makedumpfile 1.7.2 was built with (makedumpfile -v).
MAKEDUMPFILE_CODECS = ("", "-c", "-l")
VMCORE_DMESG = shutil.which("vmcore-dmesg") or "/usr/sbin/vmcore-dmesg"


class Judge:
    def __init__(self, args):
        self.vmcollect = args.vmcollect
        self.dir = args.dir
        self.raw_path = os.path.join(args.dir, "vmcore")
        self.tmp = tempfile.mkdtemp(prefix="vmcollect-e2e-", dir="/var/tmp")
        self.failures = []
        self.passes = 0
        self.raw = kdump_judge.open_dump(self.raw_path)
        self.page_size = kdump_judge.page_size(self.raw)
        self.raw_digests = {}
        self.timings = []
        self.makedumpfile_header = {}  # level -> header_attributes of its -l dump

    # ---- bookkeeping ----------------------------------------------------
    def check(self, ok, what):
        if ok:
            self.passes += 1
            print(f"  ok   {what}", flush=True)
        else:
            self.failures.append(what)
            print(f"  FAIL {what}", flush=True)
        return ok

    def path(self, name):
        return os.path.join(self.tmp, name)

    def run(self, cmd, label, stdin=None, stdout=None):
        start = time.monotonic()
        p = subprocess.run(cmd, stdin=stdin, stdout=stdout if stdout else subprocess.PIPE,
                           stderr=subprocess.PIPE)
        seconds = time.monotonic() - start
        self.timings.append((label, seconds))
        out = p.stdout.decode(errors="replace") if p.stdout is not None else ""
        err = p.stderr.decode(errors="replace")
        return p.returncode, out, err, seconds

    def expect_ok(self, cmd, label, **kw):
        rc, out, err, seconds = self.run(cmd, label, **kw)
        ok = self.check(rc == 0, f"{label}: exit {rc} in {seconds:.1f} s")
        if not ok:
            print((out + err)[-2000:], flush=True)
        return ok

    # ---- judges ---------------------------------------------------------
    def raw_digest(self, pfn):
        d = self.raw_digests.get(pfn)
        if d is None:
            d = hashlib.blake2b(self.raw.read(PHYS, pfn * self.page_size, self.page_size),
                                digest_size=16).digest()
            self.raw_digests[pfn] = d
        return d

    def pages_equal_raw(self, path, label, allow_unreadable=False):
        """libkdumpfile: every page in the page map reads equal to the raw
        vmcore. With allow_unreadable (a dump cut short), pages that cannot be
        read are counted, not failed. Returns (bits, checked, unreadable)."""
        start = time.monotonic()
        try:
            import kdumpfile
            ours = kdumpfile.kdumpfile(path)
        except Exception as e:  # libkdumpfile's own exception types
            self.check(False, f"{label}: libkdumpfile opens it ({type(e).__name__}: {e})")
            return None, 0, 0
        bits, _ = kdump_judge.dumped_bits(ours)
        checked = unreadable = 0
        bad = []
        for pfn in kdump_judge.pfns_of(bits):
            try:
                page = ours.read(PHYS, pfn * self.page_size, self.page_size)
            except Exception as e:
                unreadable += 1
                if not allow_unreadable and len(bad) < 4:
                    bad.append(f"pfn {pfn:#x} unreadable: {e}")
                continue
            if hashlib.blake2b(page, digest_size=16).digest() != self.raw_digest(pfn):
                if len(bad) < 4:
                    bad.append(f"pfn {pfn:#x} differs from the raw vmcore")
            else:
                checked += 1
        seconds = time.monotonic() - start
        self.timings.append((f"libkdumpfile pages {label}", seconds))
        ok = not bad and (allow_unreadable or unreadable == 0) and checked > 0
        self.check(ok, f"{label}: libkdumpfile reads {checked} pages equal to the raw vmcore"
                   + (f", {unreadable} unreadable" if unreadable else "")
                   + (f" ({'; '.join(bad)})" if bad else "") + f" [{seconds:.1f} s]")
        return bits, checked, unreadable

    def same_set(self, bits, ref_bits, label, ref_label):
        only_ours, only_ref = bits & ~ref_bits, ref_bits & ~bits
        detail = ""
        if only_ours or only_ref:
            detail = (f" (only ours: {kdump_judge.describe(only_ours)};"
                      f" only {ref_label}: {kdump_judge.describe(only_ref)})")
        return self.check(not detail, f"{label}: {bin(bits).count('1')} dumped pfns, "
                          f"the same set as {ref_label}{detail}")

    def mode_0600(self, path, label):
        mode = stat.S_IMODE(os.stat(path).st_mode)
        return self.check(mode == 0o600, f"{label}: mode {mode:04o} (want 0600)")

    def kdump_status(self, path):
        with open(path, "rb") as f:
            head = f.read(STATUS_OFFSET + 4)
        if head[:8] not in KDUMP_SIGNATURES:
            return None
        return struct.unpack_from("<I", head, STATUS_OFFSET)[0]

    def header_complete(self, path, label, codec=None):
        status = self.kdump_status(path)
        ok = status is not None and not status & STATUS_INCOMPLETE
        what = f"{label}: kdump header status {status:#x}" if status is not None else \
            f"{label}: kdump signature"
        if codec is not None and status is not None:
            ok = ok and (status & 0x27) == CODEC_STATUS[codec]
            what += f" = {CODEC_NAME[codec]}, complete"
        return self.check(ok, what)

    def makedumpfile_dmesg(self, path, label):
        out = self.path("dmesg-" + re.sub(r"[^\w.-]", "_", label) + ".txt")
        rc, o, e, seconds = self.run(["makedumpfile", "--dump-dmesg", path, out],
                                     f"makedumpfile --dump-dmesg {label}")
        text = None
        if rc == 0 and os.path.exists(out):
            with open(out, "rb") as f:
                text = f.read()
        if os.path.exists(out):
            kdump_judge.discard(out)
        return rc, text, (o + e)

    def dmesg_matches(self, path, label):
        rc, text, msg = self.makedumpfile_dmesg(path, label)
        ok = rc == 0 and text == self.ref_dmesg
        detail = "" if ok else f" (exit {rc}; {msg.strip()[-300:]})"
        if rc == 0 and text != self.ref_dmesg:
            detail = f" (text differs: {len(text or b'')} vs {len(self.ref_dmesg)} bytes)"
        return self.check(ok, f"{label}: makedumpfile --dump-dmesg reads it, log equal to the raw"
                          f" vmcore's ({len(self.ref_dmesg)} bytes){detail}")

    def dmesg_refused(self, path, label, codec):
        # Debian's makedumpfile lacks snappy/zstd: it must fail, not print junk.
        rc, text, msg = self.makedumpfile_dmesg(path, label)
        if rc == 0 and text == self.ref_dmesg:
            return self.check(True, f"{label}: makedumpfile --dump-dmesg reads it (log equal)")
        print(f"  note {label}: Debian's makedumpfile 1.7.2 has no {CODEC_NAME[codec]}: "
              f"--dump-dmesg exits {rc} ({msg.strip().splitlines()[-1] if msg.strip() else ''});"
              " not a judge for this codec", flush=True)
        return self.check(rc != 0, f"{label}: makedumpfile without {CODEC_NAME[codec]} refuses it"
                          " rather than printing a wrong log")

    # ---- scenarios ------------------------------------------------------
    def reference_dmesg(self):
        print("== kernel log of the raw vmcore", flush=True)
        rc, text, msg = self.makedumpfile_dmesg(self.raw_path, "raw vmcore")
        if not self.check(rc == 0 and text, f"makedumpfile --dump-dmesg reads the raw vmcore"
                          f" ({len(text or b'')} bytes)"):
            print(msg[-1000:])
            sys.exit(1)
        self.ref_dmesg = text
        ours = self.path("vmcollect-dmesg.txt")
        if self.expect_ok([self.vmcollect, "--dump-dmesg", self.raw_path, ours],
                          "vmcollect --dump-dmesg raw vmcore"):
            with open(ours, "rb") as f:
                self.check(f.read() == text, "vmcollect --dump-dmesg equals makedumpfile's log")
            kdump_judge.discard(ours)

    def makedumpfile_bits(self, level, elf=False):
        out = self.path(f"makedumpfile-{'E' if elf else 'l'}-d{level}")
        cmd = ["makedumpfile", "-E" if elf else "-l", "-d", str(level), self.raw_path, out]
        if not self.expect_ok(cmd, f"makedumpfile {'-E' if elf else '-l'} -d {level}"):
            return None
        dump = kdump_judge.open_dump(out)
        bits, _ = kdump_judge.dumped_bits(dump)
        if not elf:
            self.makedumpfile_header[level] = kdump_judge.header_attributes(dump)
        kdump_judge.discard(out)
        return bits

    def same_header(self, path, level, label):
        """libkdumpfile derives the same attributes from our headers and notes
        as from makedumpfile's at the same level: uname, architecture, CPU
        registers, VMCOREINFO. (A header uname without a version once left
        libkdumpfile with no architecture and no CPU notes.)"""
        ref = self.makedumpfile_header.get(level)
        if ref is None:
            return
        ours = kdump_judge.header_attributes(kdump_judge.open_dump(path))
        differ = sorted(k for k in set(ours) | set(ref) if ours.get(k) != ref.get(k))
        self.check(not differ, f"{label}: libkdumpfile's {len(ours)} header attributes equal makedumpfile's"
                               + (f"; differ: {', '.join(differ[:12])}" if differ else ""))

    def codecs_at_level(self, level):
        print(f"== every codec at -d {level}", flush=True)
        ref_bits = self.makedumpfile_bits(level)
        for codec in ("", "-c", "-l", "-p", "-z"):
            name = f"vmcollect {codec or '(none)'} -d {level}"
            out = self.path(f"out{codec}-d{level}")
            cmd = [self.vmcollect] + ([codec] if codec else []) + ["-d", str(level), self.raw_path, out]
            if not self.expect_ok(cmd, name):
                continue
            print(f"       size {os.path.getsize(out):,} B", flush=True)
            self.mode_0600(out, name)
            self.header_complete(out, name, codec)
            bits, _, _ = self.pages_equal_raw(out, name)
            if bits is not None and ref_bits is not None:
                self.same_set(bits, ref_bits, name, f"makedumpfile -d {level}")
            if codec == "-l":
                self.same_header(out, level, name)
            if codec in MAKEDUMPFILE_CODECS:
                self.dmesg_matches(out, name)
            else:
                self.dmesg_refused(out, name, codec)
            if codec == "-l" and level == 1:
                self.flattened_round_trip(out, ["-l", "-d", "1"], "-l -d 1")
            kdump_judge.discard(out)
        return ref_bits

    def flattened_round_trip(self, direct, options, label):
        """-F | -R gives the same file as writing it directly (our writer is
        deterministic); makedumpfile -R of our stream too. The stream goes
        through a pipe, as it does over ssh: a stored copy would add a third
        dump-sized file to the disk at once."""
        for tool in (self.vmcollect, "makedumpfile"):
            name = os.path.basename(tool)
            rebuilt = self.path("rebuilt")
            producer = " ".join(shlex.quote(a) for a in [self.vmcollect, "-F"] + options + [self.raw_path])
            consumer = " ".join(shlex.quote(a) for a in [tool, "-R", rebuilt])
            if self.expect_ok(["bash", "-o", "pipefail", "-c", f"{producer} | {consumer}"],
                              f"vmcollect -F {label} | {name} -R"):
                same = subprocess.run(["cmp", "-s", direct, rebuilt]).returncode == 0
                self.check(same, f"{name} -R: identical to the direct {label} output")
                if name == "vmcollect":
                    self.mode_0600(rebuilt, "vmcollect -R output")
                if not same:
                    self.pages_equal_raw(rebuilt, f"{name} -R {label}")
            if os.path.exists(rebuilt):
                kdump_judge.discard(rebuilt)

    def elf_output(self):
        print("== -E (ELF output)", flush=True)
        out = self.path("out.elf")
        if not self.expect_ok([self.vmcollect, "-E", "-d", "1", self.raw_path, out],
                              "vmcollect -E -d 1"):
            return
        print(f"       size {os.path.getsize(out):,} B", flush=True)
        self.mode_0600(out, "vmcollect -E -d 1")
        bits, _, _ = self.pages_equal_raw(out, "vmcollect -E -d 1")
        ref = self.makedumpfile_bits(1, elf=True)
        if bits is not None and ref is not None:
            self.same_set(bits, ref, "vmcollect -E -d 1", "makedumpfile -E -d 1")
        self.dmesg_matches(out, "vmcollect -E -d 1")
        ref_vd = self.run([VMCORE_DMESG, self.raw_path], "vmcore-dmesg raw")
        our_vd = self.run([VMCORE_DMESG, out], "vmcore-dmesg -E output")
        self.check(our_vd[0] == 0 and ref_vd[0] == 0 and our_vd[1] == ref_vd[1] and our_vd[1],
                   f"vmcore-dmesg reads the -E output, log equal to the raw vmcore's"
                   f" (exit {our_vd[0]}/{ref_vd[0]}, {len(our_vd[1])}/{len(ref_vd[1])} chars)")
        self.flattened_round_trip(out, ["-E", "-d", "1"], "-E -d 1")
        kdump_judge.discard(out)

    def capture_dumps(self, ref_bits_d1):
        print("== dumps vmcollect wrote inside the capture kernel", flush=True)
        capture = os.path.join(self.dir, "capture")
        dumps = sorted(n for n in os.listdir(capture) if n.startswith("vmcore-vmcollect-"))
        self.check(dumps, f"capture/ holds vmcollect dumps ({', '.join(dumps)})")
        for name in dumps:
            path = os.path.join(capture, name)
            label = f"capture/{name}"
            m = re.fullmatch(r"vmcore-vmcollect-(\w+)-d(\d+)", name)
            rc_file = os.path.join(capture, f"vmcollect-{m.group(1)}-d{m.group(2)}.rc") if m else ""
            rc = open(rc_file).read().strip() if os.path.exists(rc_file) else "missing"
            self.check(rc == "0", f"{label}: exit code in the capture kernel {rc}")
            self.mode_0600(path, label)
            codec = f"-{m.group(1)}" if m and m.group(1) in "clpz" else None
            self.header_complete(path, label, codec)
            bits, _, _ = self.pages_equal_raw(path, label)
            if bits is not None and m and m.group(2) == "1" and ref_bits_d1 is not None:
                self.same_set(bits, ref_bits_d1, label, "makedumpfile -d 1 on the raw vmcore")
            if codec in MAKEDUMPFILE_CODECS:
                self.dmesg_matches(path, label)

    def cut_short(self, path, label, rc, err, named):
        """A dump a full disk cut short (path; the message must name `named`):
        exit 1, a clear message, marked incomplete, opened by libkdumpfile,
        written pages right."""
        print(f"       message: {' | '.join(err.strip().splitlines()[-3:])}", flush=True)
        self.check(rc == 1, f"{label}: exit {rc} (want 1)")
        self.check("No space left on device" in err and f"{named} at offset 0x" in err,
                   f"{label}: the message names ENOSPC, the file and the offset")
        self.check("incomplete" in err, f"{label}: the message says the dump is incomplete")
        self.mode_0600(path, label)
        status = self.kdump_status(path)
        self.check(status is not None and status & STATUS_INCOMPLETE,
                   f"{label}: header marked incomplete (status {status})")
        bits, checked, unreadable = self.pages_equal_raw(path, label, allow_unreadable=True)
        total = bin(bits).count("1") if bits is not None else 0
        self.check(bits is not None and 0 < checked < total,
                   f"{label}: {checked} of {total} pages readable, {unreadable} lost past the cut")
        rc, text, msg = self.makedumpfile_dmesg(path, label)
        print(f"       makedumpfile --dump-dmesg on it: exit {rc}"
              f"{', log equal' if text == self.ref_dmesg else ''}", flush=True)

    def full_disk(self):
        """A real full disk: a 48 MiB tmpfs in a private mount namespace (the
        injected ENOSPC is fault_test.py's job). Falls back on the injected
        fault where mounting is not allowed, and says so."""
        print("== a disk that fills up mid-dump", flush=True)
        mnt, kept = self.path("tmpfs"), self.path("full-disk.partial")
        os.mkdir(mnt)
        script = (f"mount -t tmpfs -o size=48m vmc-e2e '{mnt}' || exit 99; "
                  f"'{self.vmcollect}' -l -d 1 '{self.raw_path}' '{mnt}/vmcore'; rc=$?; "
                  f"cp -p '{mnt}/vmcore' '{kept}'; exit $rc")
        rc, _, err, _ = self.run(["unshare", "-m", "sh", "-c", script],
                                 "vmcollect -l -d 1 onto a 48 MiB tmpfs")
        if rc != 99 and os.path.exists(kept):
            self.cut_short(kept, "real full disk (48 MiB tmpfs)", rc, err, f"{mnt}/vmcore")
            kdump_judge.discard(kept)
        else:
            print(f"  note mounting a tmpfs is not allowed here ({err.strip()[-200:]}):"
                  " checking an injected ENOSPC instead", flush=True)
            limit = 48 << 20
            rc, _, err, _ = self.run([self.vmcollect, "-l", "-d", "1",
                                      f"--inject-fault=write-enospc={limit}", self.raw_path, kept],
                                     "vmcollect -l -d 1, ENOSPC injected at 48 MiB")
            self.cut_short(kept, "injected ENOSPC at 48 MiB", rc, err, kept)
            kdump_judge.discard(kept)
        os.rmdir(mnt)

    def run_all(self):
        start = time.monotonic()
        self.reference_dmesg()
        self.codecs_at_level(0)
        ref_d1 = self.codecs_at_level(1)
        self.elf_output()
        self.capture_dumps(ref_d1)
        self.full_disk()
        total = time.monotonic() - start
        print("== timings (s)")
        for label, seconds in self.timings:
            print(f"  {seconds:7.1f}  {label}")
        print(f"== {self.passes} checks passed, {len(self.failures)} failed, {total:.0f} s in all")
        for f in self.failures:
            print(f"  FAILED: {f}")
        return 0 if not self.failures else 1


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--vmcollect", required=True)
    ap.add_argument("--dir", default=os.environ.get("VMCOLLECT_VM_DIR"))
    ap.add_argument("--keep", action="store_true", help="keep the temporary directory")
    args = ap.parse_args()
    if not args.dir or not os.path.exists(os.path.join(args.dir, "vmcore")):
        sys.exit(f"no vmcore in {args.dir!r} (set VMCOLLECT_VM_DIR or --dir)")
    for tool in ("makedumpfile", VMCORE_DMESG):
        if not shutil.which(tool):
            sys.exit(f"{tool} is missing (tests/setup-deps.sh installs it)")
    judge = Judge(args)
    try:
        code = judge.run_all()
    finally:
        if not args.keep:
            shutil.rmtree(judge.tmp, ignore_errors=True)
    sys.exit(code)


if __name__ == "__main__":
    main()
