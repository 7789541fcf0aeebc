#!/usr/bin/env python3
"""Hostile-input corpus (issue 18): why this exists.

Each input below is one of the ways issue 18 found to lose a crash dump or
harm the machine that takes it, rebuilt by this script from the small
synthetic dump of make_test_dump (tests/collector/cli/make_test_dump.cc), so
that no binary blob is committed. The test runs vmcollect on each, under a
timeout, an address-space limit (the capture kernel has 256 MiB; none for an
ASan build, which reserves terabytes) and a file-size limit (a run that tries
to fill the disk stops at it), and asserts:
  - no signal, no timeout, no sanitizer report on stderr;
  - exit status 1 or 2, or an output that says it is incomplete: never a
    dump "Completed" with exit 0 when pages are missing or wrong;
  - an output left behind with exit 1 is marked incomplete;
  - no output grows past FILE_SIZE_LIMIT (none of these inputs needs it).

  hostile_corpus.py --vmcollect BIN --make-test-dump BIN --work DIR
  hostile_corpus.py --make-test-dump BIN --vmcollect BIN --seeds CORPUS_DIR
      (writes the inputs that suit a parser's fuzz target into
       CORPUS_DIR/<target>/hostile-<case>, and runs nothing)

Cases that today's binary fails are in EXPECTED_FAILURES, one entry per case
naming its issue item: the test passes while they fail, and fails when one of
them passes (remove the entry with the fix), so it tightens as fixes land.
"""
import argparse
import os
import resource
import shutil
import signal
import struct
import subprocess
import sys

# The verdict helpers the damage sweep shares (standard library only).
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "real_dumps"))
from dump_checks import (is_sanitizer_build, kdump_tables, killing_signal,  # noqa: E402
                         marked_incomplete, sanitizer_report)

PAGE = 4096
PT_LOAD, PT_NOTE = 1, 4
PN_XNUM = 0xffff
TIMEOUT = 30
MEMORY_LIMIT = 256 << 20       # the capture kernel's memory
FILE_SIZE_LIMIT = 256 << 20    # no case's output needs more: beyond is a run filling the disk
# Seeds above this are left to the corpus test: libFuzzer mutates small inputs
# well and slowly through megabytes (the bitmap case is a 7 MB kdump).
MAX_SEED_SIZE = 1 << 20
HUGE_OFFSET = 18446744073709551612  # 2^64 - 4: wraps any unchecked base + offset

# Case name -> the issue 18 item whose fix makes it pass. Each fix empties its
# entries; a listed case that passes fails the test until its entry goes.
EXPECTED_FAILURES = {
}
# Cases where a complete output with exit 0 keeps the rule, if the run says
# why: an optional VMCOREINFO entry that is out of range is ignored with a
# warning naming it, and the pages it would judge are kept (never drop a page
# that is not provably excludable). Case name -> what the warning must name.
COMPLETE_WITH_WARNING = {
    f"vmcoreinfo-offset-{key}": f"OFFSET({key})={HUGE_OFFSET}"
    for key in ("page.mapping", "page._mapcount", "page.private", "page.compound_head")
}
# Expected failures that only the address-space limit shows: a sanitizer build
# runs without it (ASan reserves terabytes), so there they may pass or time
# out, and a pass does not mean fixed.
MEMORY_BOUND = {"million-pt-loads", "vmcoreinfo-file-8GiB-of-zeros"}
# Failing only where sanitizers see them (the Release build exits 1 on them).
EXPECTED_FAILURES_UNDER_SANITIZERS = {
}


# ---- building the inputs ---------------------------------------------------------

def run_tool(argv):
    subprocess.run(argv, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)


def elf_layout(data):
    """(phoff, phentsize, phdrs as [type, flags, offset, vaddr, paddr, filesz, memsz, align])."""
    phoff, = struct.unpack_from("<Q", data, 32)
    phentsize, phnum = struct.unpack_from("<HH", data, 54)
    return phoff, phentsize, [list(struct.unpack_from("<IIQQQQQQ", data, phoff + i * phentsize))
                              for i in range(phnum)]


def note(name, ntype, desc):
    def pad(b):
        return b + b"\0" * (-len(b) % 4)
    name = name.encode() + b"\0"
    return struct.pack("<III", len(name), len(desc), ntype) + pad(name) + pad(desc)


def write_elf_with_vmcoreinfo(base, text, dest):
    """A copy of base (an ELF core) whose notes are one VMCOREINFO note of
    text, appended at the end of the file so no PT_LOAD moves. cp keeps the
    synthetic dump's holes: the copy takes no more disk than it does."""
    subprocess.run(["cp", "--sparse=always", base, dest], check=True)
    with open(dest, "r+b") as f:
        head = f.read(PAGE)
        end = f.seek(0, os.SEEK_END)
        notes = note("VMCOREINFO", 0, text.encode())
        f.write(notes)
        phoff, phentsize, phdrs = elf_layout(head)
        for i, p in enumerate(phdrs):
            if p[0] == PT_NOTE:
                p[2], p[5], p[6] = end, len(notes), len(notes)
                f.seek(phoff + i * phentsize)
                f.write(struct.pack("<IIQQQQQQ", *p))


def set_vmcoreinfo_value(text, key, value):
    lines = [f"{key}={value}" if line.startswith(key + "=") else line for line in text.split("\n")]
    assert f"{key}={value}" in lines, f"{key} is not in the synthetic VMCOREINFO"
    return "\n".join(lines)


def tiny_elf(vmcoreinfo, loads):
    """An ELF core of one VMCOREINFO note and the given (paddr, file page
    count) PT_LOADs, every load's data the same page after the headers.
    More than PN_XNUM-1 headers go into section 0's sh_info, as the kernel does."""
    count = 1 + len(loads)
    phoff, shoff = 64, 64 + 56 * count
    notes = note("VMCOREINFO", 0, vmcoreinfo.encode())
    note_off = shoff + 64
    data_off = (note_off + len(notes) + PAGE - 1) // PAGE * PAGE
    out = bytearray(data_off + PAGE)
    struct.pack_into("<4sBBBB8xHHIQQQIHHHHHH", out, 0, b"\x7fELF", 2, 1, 1, 0, 4, 62, 1, 0,
                     phoff, shoff, 0, 64, 56, min(count, PN_XNUM), 64, 1, 0)
    struct.pack_into("<IIQQQQQQ", out, phoff, PT_NOTE, 0, note_off, 0, 0, len(notes), len(notes), 0)
    load = struct.Struct("<IIQQQQQQ")
    for i, (paddr, pages) in enumerate(loads, start=1):
        vaddr = (0xffff888000000000 + paddr) % (1 << 64)  # the direct map, wrapped as addresses do
        load.pack_into(out, phoff + 56 * i, PT_LOAD, 7, data_off, vaddr,
                       paddr, pages * PAGE, pages * PAGE, 0)
    struct.pack_into("<IIQQQQIIQQ", out, shoff, 0, 0, 0, 0, 0, 0, 0, count, 0, 0)
    out[note_off:note_off + len(notes)] = notes
    out[data_off:data_off + 8] = b"hostile!"
    return bytes(out)


class Corpus:
    """Writes the inputs into work/ and lists the cases (name -> vmcollect's
    arguments, {out} for the output) and the fuzz seeds among them."""

    def __init__(self, work, make_test_dump, vmcollect):
        self.work = work
        self.cases = {}
        self.seeds = []  # (fuzz target, name, bytes)
        self.elf = self.path("synthetic.elf")
        vmcoreinfo = self.path("synthetic.vmcoreinfo")
        run_tool([make_test_dump, self.elf, "--vmcoreinfo-out", vmcoreinfo])
        self.vmcoreinfo = open(vmcoreinfo).read()
        self.full_kdump = self.path("synthetic-d0.kdump")  # every page: -d 1 needs no mem_map
        run_tool([vmcollect, "-l", "-d", "0", self.elf, self.full_kdump])

    def path(self, name):
        return os.path.join(self.work, name)

    def add(self, name, data, args=("-l", "-d", "31"), seed_for=None):
        path = self.path(name)
        if data is not None:
            with open(path, "wb") as f:
                f.write(data)
        self.cases[name] = [*args, path, "{out}"]
        if seed_for and len(data) <= MAX_SEED_SIZE:
            self.seeds.append((seed_for, name, data))

    def build(self, seeds_only=False):
        self.truncated_kdumps()
        self.huge_offsets()
        self.high_loads()
        self.disagreeing_bitmap()
        if not seeds_only:  # inputs no fuzz target takes
            self.huge_vmcoreinfo_file()
            self.million_loads()
        return self.cases

    def truncated_kdumps(self):  # item 1
        data = open(self.full_kdump, "rb").read()
        t = kdump_tables(self.full_kdump)
        for name, cut in (("bitmap2", t.bitmap2 + 16),
                          ("descriptors", (t.descriptors + t.descriptors_end) // 2),
                          ("data", (t.descriptors_end + len(data)) // 2)):
            self.add(f"truncated-kdump-{name}", data[:cut], args=("-l", "-d", "1"), seed_for="kdump")

    def huge_offsets(self):  # item 2
        for key in ("page.flags", "page.mapping", "page._mapcount", "page.private",
                    "page.compound_head", "mem_section.section_mem_map"):
            text = set_vmcoreinfo_value(self.vmcoreinfo, f"OFFSET({key})", HUGE_OFFSET)
            name = f"vmcoreinfo-offset-{key}"
            write_elf_with_vmcoreinfo(self.elf, text, self.path(name))
            self.add(name, None)
            self.seeds.append(("vmcoreinfo", name, text.encode()))

    def high_loads(self):  # item 5
        for bits in (46, 52):
            self.add(f"pt-load-at-2^{bits}", tiny_elf(self.vmcoreinfo, [(1 << bits, 1)]),
                     args=("-l", "-d", "0"), seed_for="elf_core")  # -d 31 stops at the page tables

    def disagreeing_bitmap(self):  # item 7: 2nd bitmap all ones, descriptors unchanged
        data = bytearray(open(self.full_kdump, "rb").read())
        t = kdump_tables(self.full_kdump)
        data[t.bitmap2:t.descriptors] = b"\xff" * (t.descriptors - t.bitmap2)
        self.add("kdump-bitmap2-all-ones", bytes(data), args=("-l", "-d", "1"), seed_for="kdump")

    def huge_vmcoreinfo_file(self):  # item 9: -i of a file that reads zeros for 8 GiB
        zeros = self.path("zeros.vmcoreinfo")
        with open(zeros, "wb") as f:
            f.truncate(8 << 30)  # sparse: no disk used
        for name, info in (("8GiB-of-zeros", zeros), ("is-a-directory", self.work)):
            self.cases[f"vmcoreinfo-file-{name}"] = ["-l", "-d", "31", "-i", info, self.elf, "{out}"]

    def million_loads(self):  # item 10: 1M PT_LOADs, one page each, in a 56 MB file
        loads = [(i * 2 * PAGE, 1) for i in range(1 << 20)]
        self.add("million-pt-loads", tiny_elf(self.vmcoreinfo, loads))


# ---- running and judging -----------------------------------------------------------

def limits(memory):
    """Runs in the child before exec: the capture kernel's memory, a cap on
    file size (SIGXFSZ ignored, so the write fails instead of killing)."""
    def apply():
        if memory:
            resource.setrlimit(resource.RLIMIT_AS, (memory, memory))
        resource.setrlimit(resource.RLIMIT_FSIZE, (FILE_SIZE_LIMIT, FILE_SIZE_LIMIT))
        signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
    return apply


def run_case(vmcollect, argv, out, memory, warning=None):
    """Why the case breaks the rule (empty when it keeps it), and a summary.
    warning: text whose presence in stderr makes a complete exit-0 output right."""
    if os.path.exists(out):
        os.unlink(out)
    argv = [vmcollect] + [out if a == "{out}" else a for a in argv]
    try:
        proc = subprocess.run(argv, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
                              timeout=TIMEOUT, preexec_fn=limits(memory))
    except subprocess.TimeoutExpired:
        return [f"no exit within {TIMEOUT} s"], "timeout"
    rc, err = proc.returncode, proc.stderr.decode(errors="replace")
    mark = marked_incomplete(out) if os.path.exists(out) and os.path.isfile(out) else None
    reasons = [f"sanitizer report: {sanitizer_report(err)}"] if sanitizer_report(err) else []
    if "File too large" in err:
        reasons.append(f"wrote past the {FILE_SIZE_LIMIT >> 20} MiB file-size cap")
    if killing_signal(rc):
        reasons.append(f"killed by signal {killing_signal(rc)}")
    elif rc == 0 and mark is False and warning and warning in err:
        pass
    elif rc == 0 and not mark:
        reasons.append("exit 0 with an output marked complete" if mark is False else "exit 0")
    elif rc == 1 and mark is False:
        reasons.append("exit 1 leaving an output marked complete")
    elif rc not in (0, 1, 2):
        reasons.append(f"exit {rc}")
    if reasons:
        reasons.append("stderr: " + " | ".join(err.strip().splitlines()[-2:])[-400:])
    summary = f"exit {rc}" + {None: "", True: ", output marked incomplete",
                              False: ", output marked complete"}[mark]
    if os.path.exists(out) and os.path.isfile(out):
        os.truncate(out, 0)
        os.unlink(out)
    return reasons, summary


def write_seeds(seeds, corpus_dir):
    for target, name, data in seeds:
        os.makedirs(os.path.join(corpus_dir, target), exist_ok=True)
        with open(os.path.join(corpus_dir, target, "hostile-" + name), "wb") as f:
            f.write(data)


def run_corpus(vmcollect, cases, work):
    """Runs every case and prints its verdict; returns the unexpected
    failures, the expected ones and the listed cases that pass now."""
    sanitized = is_sanitizer_build(vmcollect)
    memory = 0 if sanitized else MEMORY_LIMIT
    expected_failures = dict(EXPECTED_FAILURES)
    if sanitized:
        expected_failures.update(EXPECTED_FAILURES_UNDER_SANITIZERS)
    failures, expected, fixed = [], [], []
    for name, case_argv in cases.items():
        reasons, summary = run_case(vmcollect, case_argv, os.path.join(work, "out"), memory,
                                    COMPLETE_WITH_WARNING.get(name))
        known = expected_failures.get(name)
        verdict = "ok" if not reasons else "expected failure" if known else "FAIL"
        if reasons:
            (expected if known else failures).append(f"{name}: " + "; ".join(reasons))
        elif known and sanitized and name in MEMORY_BOUND:
            verdict = "ok (no memory limit under sanitizers: not judged)"
        elif known:
            verdict = "FIXED"
            fixed.append(f"{name}: passes now; remove its EXPECTED_FAILURES entry ({known})")
        print(f"{name}: {summary}: {verdict}" + (f" ({known})" if known and reasons else ""))
    return failures, expected, fixed


def main(argv):
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--vmcollect", required=True)
    p.add_argument("--make-test-dump", required=True)
    p.add_argument("--work", help="scratch directory (the inputs are rebuilt in it)")
    p.add_argument("--seeds", help="write fuzz seeds into this corpus directory and stop")
    args = p.parse_args(argv)
    work = os.path.abspath(args.work or (args.seeds + "-hostile-inputs" if args.seeds else "hostile"))
    shutil.rmtree(work, ignore_errors=True)
    os.makedirs(work)
    corpus = Corpus(work, args.make_test_dump, args.vmcollect)
    cases = corpus.build(seeds_only=bool(args.seeds))
    if args.seeds:
        write_seeds(corpus.seeds, args.seeds)
        shutil.rmtree(work, ignore_errors=True)
        return 0
    failures, expected, fixed = run_corpus(args.vmcollect, cases, work)
    shutil.rmtree(work, ignore_errors=True)
    print(f"\n{len(cases)} cases: {len(cases) - len(failures) - len(expected)} pass, "
          f"{len(expected)} expected failures, {len(failures)} unexpected failures, "
          f"{len(fixed)} listed as expected failures that pass")
    for line in expected:
        print(f"  expected failure {line}")
    for line in failures + fixed:
        print(f"  FAIL {line}")
    return 1 if failures or fixed else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
