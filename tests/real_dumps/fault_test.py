#!/usr/bin/python3
"""Faults injected into a real dump run (issue 9): why this exists.

A collector runs once, on a dying machine: a bad page, a full disk or a kill
must leave a dump that readers open, that says it is incomplete, and that
holds every page written before the fault. Each case runs vmcollect on the
real 6.1 /proc/vmcore ($VMCOLLECT_VM_DIR/vmcore) with the hidden
--inject-fault option (base/io.h) or a signal, then judges the output with
libkdumpfile (tests/real_dumps/kdump_judge.py) and a direct look at the kdump
header and page descriptors (formats/kdump_format.h).

  fault_test.py VMCOLLECT CASE WORKDIR
  CASE: read-eio short-read write-enospc write-eio sigterm sigint

Exit 0 when every check holds, 1 naming the first that does not. Run with
Debian's /usr/bin/python3 (python3-libkdumpfile).
"""
import os
import re
import signal
import struct
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import kdump_judge  # noqa: E402  (open_dump, dumped_bits, pfns_of)

PAGE = 4096
INCOMPLETE = 0x8            # DUMP_DH_COMPRESSED_INCOMPLETE, kdump_format.h kIncomplete
STATUS_OFFSET = 424         # DiskDumpHeader.status
WRITE_FAULT_AT = 24 << 20   # output offset where the disk "fills" (inside page data)
FAULTED_PAGES = 16


class Failure(Exception):
    pass


def check(cond, what):
    if not cond:
        raise Failure(what)


# ---- the raw vmcore (ELF64): where a pfn lives in the file ------------------

def elf_loads(path):
    with open(path, "rb") as f:
        eh = f.read(64)
        check(eh[:4] == b"\x7fELF", f"{path} is not an ELF file")
        phoff, = struct.unpack_from("<Q", eh, 32)
        phentsize, phnum = struct.unpack_from("<HH", eh, 54)
        f.seek(phoff)
        ph = f.read(phentsize * phnum)
    loads = []
    for i in range(phnum):
        p_type, _, p_offset, p_vaddr, p_paddr, p_filesz = struct.unpack_from(
            "<IIQQQQ", ph, i * phentsize)
        if p_type == 1:
            loads.append((p_offset, p_vaddr, p_paddr, p_filesz))
    return loads


def file_ranges_of(loads, pfn, count):
    """Every file range holding [pfn, pfn + count): a page may sit in two
    PT_LOADs (kernel text and direct map); fault both copies."""
    begin, end = pfn * PAGE, (pfn + count) * PAGE
    out = []
    for off, _, paddr, size in loads:
        b, e = max(begin, paddr), min(end, paddr + size)
        if b < e:
            out.append((off + b - paddr, off + e - paddr))
    check(out, f"pfn {pfn:#x} is in no PT_LOAD of the vmcore")
    return out


def kernel_text_pfn(loads):
    """A pfn inside the kernel image: reserved, so kept at -d 31, and read
    only when its data is copied (not by the filter or the page-table walk)."""
    text = [l for l in loads if l[1] >= 0xffffffff80000000]
    check(text, "no kernel-text PT_LOAD in the vmcore")
    return text[0][2] // PAGE + 0x40


# ---- our output: header, bitmaps and page descriptors -----------------------

def kdump_layout(path):
    with open(path, "rb") as f:
        head = f.read(PAGE + 104)
    check(head[:8] == b"KDUMP   ", f"{path}: no KDUMP signature")
    status, block, sub_blocks, bitmap_blocks = struct.unpack_from("<IiiI", head, STATUS_OFFSET)
    max_pfn, = struct.unpack_from("<Q", head, block + 96)
    return {"status": status, "block": block, "max_pfn": max_pfn,
            "bitmap2": (1 + sub_blocks) * block + bitmap_blocks * block // 2,
            "descs": (1 + sub_blocks + bitmap_blocks) * block}


def descriptors(path, layout, npages):
    """Descriptors (offset, size, flags) of the first npages dumped pfns."""
    with open(path, "rb") as f:
        f.seek(layout["descs"])
        raw = f.read(24 * npages)
    return [struct.unpack_from("<qII", raw, 24 * i) for i in range(len(raw) // 24)]


# ---- running vmcollect --------------------------------------------------------

def run_vmcollect(binary, args, out, log):
    with open(log, "wb") as lf:
        rc = subprocess.run([binary, *args, out], stdout=lf, stderr=subprocess.STDOUT).returncode
    return rc, open(log, encoding="utf-8", errors="replace").read()


def run_and_signal(binary, args, out, log, sig):
    """Starts a slow dump, signals it once the output holds some page data."""
    with open(log, "wb") as lf:
        proc = subprocess.Popen([binary, *args, out], stdout=lf, stderr=subprocess.STDOUT)
        deadline = time.monotonic() + 300
        while time.monotonic() < deadline and proc.poll() is None:
            if os.path.exists(out) and os.stat(out).st_blocks * 512 > 24 << 20:
                break
            time.sleep(0.05)
        check(proc.poll() is None, "vmcollect ended before it could be signalled "
                                   "(the test needs a dump slow enough to interrupt)")
        proc.send_signal(sig)
        try:
            rc = proc.wait(timeout=120)
        except subprocess.TimeoutExpired:
            proc.kill()
            raise Failure(f"vmcollect did not stop within 120 s of signal {int(sig)}")
    return rc, open(log, encoding="utf-8", errors="replace").read()


# ---- judging ------------------------------------------------------------------

def judge_pages(out, raw_path, pfns=None, required=()):
    """Every page libkdumpfile reads from out (of `pfns`, default: the whole
    page map) equals the raw vmcore; the pfns in `required` must be readable.
    Returns (readable, unreadable, page map bits)."""
    ours, raw = kdump_judge.open_dump(out), kdump_judge.open_dump(raw_path)
    bits, _ = kdump_judge.dumped_bits(ours)
    readable, unreadable = [], []
    for pfn in (kdump_judge.pfns_of(bits) if pfns is None else pfns):
        try:
            a = ours.read(kdump_judge.PHYS, pfn * PAGE, PAGE)
        except Exception:
            unreadable.append(pfn)
            continue
        check(a == raw.read(kdump_judge.PHYS, pfn * PAGE, PAGE),
              f"{out}: pfn {pfn:#x} differs from the raw vmcore")
        readable.append(pfn)
    missing = sorted(set(required) - set(readable))
    if missing:
        raise Failure(f"{out}: {len(missing)} pages written before the fault are not readable "
                      f"(first pfn {missing[0]:#x})")
    return readable, unreadable, bits


def check_common(rc, log, out, layout, fault_words):
    check(rc == 1, f"exit status {rc}, expected 1")
    check(layout["status"] & INCOMPLETE, "kdump header status lacks DUMP_DH_COMPRESSED_INCOMPLETE")
    for w in fault_words:
        check(re.search(w, log), f"the messages do not name {w!r}:\n{log[-3000:]}")
    check("incomplete" in log, "the messages do not say the dump is incomplete")


def case_read(binary, vmcore, work, short):
    loads = elf_loads(vmcore)
    pfn = kernel_text_pfn(loads)
    ranges = file_ranges_of(loads, pfn, FAULTED_PAGES)
    if short:
        # A read crossing this offset comes back short: one page lost. The
        # reader takes a page from the direct-map PT_LOAD (the last copy);
        # the kernel-text copy gets EIO so no other path can supply it.
        direct = ranges[-1][0]
        spec = ",".join([f"short-read={direct + PAGE // 2}"] +
                        [f"read-eio={b}-{b + PAGE}" for b, _ in ranges[:-1]])
        lost = [pfn]
        fault = "short read"
    else:
        spec = ",".join(f"read-eio={b}-{e}" for b, e in ranges)
        lost = list(range(pfn, pfn + FAULTED_PAGES))
        fault = "Input/output error"
    out = os.path.join(work, "out")
    rc, log = run_vmcollect(binary, ["-l", "-d", "31", "--message-level", "31",
                                     "--inject-fault", spec, vmcore], out, out + ".log")
    layout = kdump_layout(out)
    first = f"pfn {lost[0]:#x}" + (f"-{lost[-1]:#x}" if len(lost) > 1 else "")
    check_common(rc, log, out, layout, [re.escape(vmcore), r"offset 0x[0-9a-f]+", fault,
                                        "injected fault", re.escape(first)])
    readable, unreadable, bits = judge_pages(out, vmcore)
    for p in lost:
        check(not (bits >> p) & 1, f"unreadable pfn {p:#x} is in the page map")
    if unreadable:
        raise Failure(f"{len(unreadable)} pages in the page map cannot be read (first {unreadable[0]:#x})")
    after = [p for p in readable if p > lost[-1]]
    check(len(after) > 1000, f"the dump did not go on after the bad pages ({len(after)} pages after)")
    print(f"ok: pfns {lost[0]:#x}..{lost[-1]:#x} left out and named, "
          f"{len(readable)} pages equal the raw vmcore ({len(after)} after the fault)")


def case_write(binary, vmcore, work, errname):
    out = os.path.join(work, "out")
    rc, log = run_vmcollect(binary, ["-l", "-d", "1", "--message-level", "31",
                                     "--inject-fault", f"write-{errname}={WRITE_FAULT_AT}",
                                     vmcore], out, out + ".log")
    check(os.path.getsize(out) <= WRITE_FAULT_AT, "bytes landed beyond the injected fault")
    words = {"enospc": "No space left on device", "eio": "Input/output error"}
    layout = kdump_layout(out)
    check_common(rc, log, out, layout, [re.escape(out), re.escape(words[errname]),
                                        rf"offset {WRITE_FAULT_AT:#x}", r"pfn 0x[0-9a-f]+"])
    written = judge_written(out, vmcore, layout, fault_at=WRITE_FAULT_AT)
    print(f"ok: write-{errname} at {WRITE_FAULT_AT:#x}: {written} pages written before it "
          f"all read back equal to the raw vmcore")


def judge_written(out, vmcore, layout, fault_at):
    """Pages whose descriptor landed must read back equal to the raw vmcore,
    and they must reach to within one chunk of where the output stopped."""
    ours = kdump_judge.open_dump(out)
    bits, _ = kdump_judge.dumped_bits(ours)
    pfns = list(kdump_judge.pfns_of(bits))
    descs = descriptors(out, layout, len(pfns))
    written = [p for p, d in zip(pfns, descs) if d[0] != 0]
    check(len(written) > 1000, f"only {len(written)} page descriptors were written")
    check(written == pfns[:len(written)], "pages are missing between written ones (written "
                                          "pages must be every page before the fault)")
    data_end = max(d[0] + d[1] for d in descs if d[0] != 0)
    check(data_end <= fault_at, f"a descriptor points at {data_end:#x}, past the fault")
    chunk_bytes = 256 * PAGE  # CollectOptions::chunk_pages pages, stored raw at worst
    check(fault_at - data_end <= chunk_bytes + PAGE,
          f"data ends at {data_end:#x}, more than a chunk before the output stopped "
          f"({fault_at:#x}): written pages were lost")
    # The rest of the page map (descriptors never written): a sample of it
    # must not read back as anything but the raw page (libkdumpfile refuses it).
    unwritten = [p for p, d in zip(pfns, descs + [(0, 0, 0)] * len(pfns)) if d[0] == 0]
    sample = unwritten[:: max(1, len(unwritten) // 500)]
    judge_pages(out, vmcore, pfns=written + sample, required=written)
    return len(written)


def case_signal(binary, vmcore, work, sig):
    out = os.path.join(work, "out")
    rc, log = run_and_signal(binary, ["-c", "-d", "0", "--num-threads", "1", "--message-level",
                                      "31", vmcore], out, out + ".log", sig)
    layout = kdump_layout(out)
    check_common(rc, log, out, layout, [re.escape(out), rf"signal {int(sig)}",
                                        r"pfn 0x[0-9a-f]+"])
    size = os.path.getsize(out)
    written = judge_written(out, vmcore, layout, fault_at=size)
    print(f"ok: signal {int(sig)}: {written} pages written before it read back equal "
          f"to the raw vmcore ({size} bytes)")


def main(argv):
    if len(argv) != 4:
        sys.exit(__doc__)
    binary, case, work = argv[1:]
    vm_dir = os.environ.get("VMCOLLECT_VM_DIR") or sys.exit("VMCOLLECT_VM_DIR is not set")
    vmcore = os.path.join(vm_dir, "vmcore")
    work = os.path.join(work, case)
    os.makedirs(work, exist_ok=True)
    for name in ("out", "out.log"):
        if os.path.exists(os.path.join(work, name)):
            kdump_judge.discard(os.path.join(work, name))
    cases = {
        "read-eio": lambda: case_read(binary, vmcore, work, short=False),
        "short-read": lambda: case_read(binary, vmcore, work, short=True),
        "write-enospc": lambda: case_write(binary, vmcore, work, "enospc"),
        "write-eio": lambda: case_write(binary, vmcore, work, "eio"),
        "sigterm": lambda: case_signal(binary, vmcore, work, signal.SIGTERM),
        "sigint": lambda: case_signal(binary, vmcore, work, signal.SIGINT),
    }
    if case not in cases:
        sys.exit(__doc__)
    try:
        cases[case]()
    except Failure as f:
        log = os.path.join(work, "out.log")
        if os.path.exists(log):
            sys.stderr.write("--- vmcollect output (tail) ---\n" + open(log, errors="replace").read()[-2000:])
        sys.exit(f"FAIL {case}: {f}")
    # Keep the disk tidy: outputs are hundreds of MB at most, but several cases run.
    kdump_judge.discard(os.path.join(work, "out"))


if __name__ == "__main__":
    main(sys.argv)
