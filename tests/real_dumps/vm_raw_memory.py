#!/usr/bin/python3
"""vmcollect on raw physical memory (/dev/oldmem's shape) of a real crash.

Why: the tests/vm fixture saves the whole guest RAM with QEMU's pmemsave once
the capture kernel is up (DIR/pmem.raw, offset == physical address: what
/dev/oldmem would read) and records the capture kernel's elfcorehdr= address
(DIR/capture/elfcorehdr). vmcollect must then collect from the raw image as it
does from the same crash's /proc/vmcore (DIR/vmcore). Judged by others:

  * the header itself, in Python: an ELF64 ET_CORE at elfcorehdr in the image,
    and every byte of every vmcore PT_LOAD equals the image at the p_offset of
    the header's PT_LOAD with the same p_paddr. On x86_64, kexec-tools points
    the first 640 KiB at purgatory's backup copy (p_offset != p_paddr), because
    the capture kernel reuses a few of those pages: the image at p_paddr
    differs from the vmcore there (tests/vm/README.md's "4 pages below
    640 KiB"), the image at p_offset does not. Nothing is excluded from the
    comparisons through the header: a reader that read low memory at p_paddr
    would fail them;
  * -d 1 and -d 31 (kdump, lzo) and -E -d 31 from the raw image against the
    same from the vmcore: libkdumpfile finds the same pfn set, and every page
    of the raw-image dump equals the vmcore dump's (kdump_judge.py same-set and
    pages); -d 31 also against the raw vmcore itself;
  * --dump-dmesg from the raw image equals kexec-tools' vmcore-dmesg on the vmcore;
  * without the header (--mem-ranges and -i, both taken from the vmcore): the
    same -d 31 pfn set, the same pages except exactly the low pages the
    capture kernel reused (found above; nothing tells a header-less reader
    where their backup is), and the same dmesg;
  * a wrong elfcorehdr (no header there, beyond the image) and no option at
    all fail with exit 1 and a message saying what is wrong.

Usage: vm_raw_memory.py --vmcollect BIN [--dir DIR] [--keep]
DIR defaults to $VMCOLLECT_VM_DIR. Exit 0 when every check holds, 1 otherwise.
"""
import argparse
import os
import shutil
import struct
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
JUDGE = os.path.join(HERE, "kdump_judge.py")
VMCORE_DMESG = shutil.which("vmcore-dmesg") or "/usr/sbin/vmcore-dmesg"
PAGE = 4096


class Check:
    def __init__(self, args):
        self.vmcollect = args.vmcollect
        self.dir = args.dir
        self.vmcore = os.path.join(args.dir, "vmcore")
        self.image = os.path.join(args.dir, "pmem.raw")
        self.tmp = tempfile.mkdtemp(prefix="vmcollect-raw-", dir="/var/tmp")
        self.failures = []
        self.timings = []

    def fail(self, what):
        print(f"FAIL: {what}", flush=True)
        self.failures.append(what)

    def run(self, argv, what, expect_rc=0):
        t = time.monotonic()
        p = subprocess.run(argv, capture_output=True, text=True)
        self.timings.append((what, time.monotonic() - t))
        if p.returncode != expect_rc:
            self.fail(f"{what}: exit {p.returncode}, not {expect_rc}\n  {' '.join(argv)}\n"
                      f"{p.stdout[-2000:]}{p.stderr[-2000:]}")
        return p

    def out(self, name):
        return os.path.join(self.tmp, name)


# ---- the header, read independently ------------------------------------------

def parse_elfcorehdr(text):
    """[SIZE@]ADDR with K/M/G suffixes, as the kernel's memparse()."""
    text = text.strip().split("@")[-1]
    shift = {"K": 10, "M": 20, "G": 30}.get(text[-1:].upper(), 0)
    return int(text[:-1] if shift else text, 0) << shift


def program_headers(f, base):
    f.seek(base)
    eh = f.read(64)
    if eh[:4] != b"\x7fELF":
        return None, f"no ELF magic at {base:#x}: {eh[:16].hex(' ')}"
    e_type, e_machine = struct.unpack_from("<HH", eh, 16)
    e_phoff, = struct.unpack_from("<Q", eh, 32)
    e_phnum, = struct.unpack_from("<H", eh, 56)
    if eh[4] != 2 or e_type != 4 or e_machine != 62:
        return None, f"not an x86_64 ELF64 core header at {base:#x}"
    f.seek(base + e_phoff)
    out = []
    for _ in range(e_phnum):
        p_type, _, off, vaddr, paddr, filesz, memsz, _ = struct.unpack("<IIQQQQQQ", f.read(56))
        out.append(dict(type=p_type, offset=off, vaddr=vaddr, paddr=paddr, filesz=filesz))
    return out, None


def differing_pages(fa, a_off, fb, b_off, size, step=8 << 20):
    """Offsets (from the start) of the pages that differ over size bytes."""
    out = []
    for pos in range(0, size, step):
        n = min(step, size - pos)
        fa.seek(a_off + pos)
        fb.seek(b_off + pos)
        a, b = fa.read(n), fb.read(n)
        if a != b:
            out += [pos + pg for pg in range(0, n, PAGE) if a[pg:pg + PAGE] != b[pg:pg + PAGE]]
    return out


def check_header(c, addr):
    """Checks the image against the vmcore through the header; returns the
    pfns whose bytes at their physical address differ from the vmcore (the
    pages the capture kernel reused, whose truth is in the backup copy)."""
    reused = set()
    with open(c.image, "rb") as img, open(c.vmcore, "rb") as core:
        hdr, err = program_headers(img, addr)
        if err:
            c.fail(f"elfcorehdr={addr:#x} in {c.image}: {err}")
            return reused
        vmcore_loads, err = program_headers(core, 0)
        if err:
            c.fail(f"{c.vmcore}: {err}")
            return reused
        by_paddr = {p["paddr"]: p for p in hdr if p["type"] == 1}
        moved = 0
        for v in (p for p in vmcore_loads if p["type"] == 1):
            h = by_paddr.get(v["paddr"])
            if h is None:
                c.fail(f"vmcore PT_LOAD at paddr {v['paddr']:#x} is not in the elfcorehdr")
                continue
            bad = differing_pages(core, v["offset"], img, h["offset"], v["filesz"])
            if bad:
                c.fail(f"vmcore PT_LOAD paddr {v['paddr']:#x}: {len(bad)} pages differ from the "
                       f"image at p_offset {h['offset']:#x} (first at +{bad[0]:#x})")
            if h["offset"] != h["paddr"]:
                moved += 1
                at_paddr = differing_pages(core, v["offset"], img, h["paddr"], v["filesz"])
                reused |= {(h["paddr"] + off) // PAGE for off in at_paddr}
                print(f"PT_LOAD paddr {h['paddr']:#x}-{h['paddr'] + h['filesz']:#x} is read from "
                      f"p_offset {h['offset']:#x} (backup copy); at p_paddr {len(at_paddr)} pages "
                      f"differ from the vmcore ({', '.join(hex(p) for p in sorted(reused))}), "
                      f"at p_offset none")
        print(f"elfcorehdr={addr:#x}: {len(hdr)} program headers; every vmcore PT_LOAD byte "
              f"equals the image at p_offset ({moved} PT_LOAD(s) with p_offset != p_paddr)")
    return reused


# ---- vmcollect on both inputs -------------------------------------------------

def judge(c, what, *argv):
    p = c.run(["/usr/bin/python3", JUDGE, *argv], f"judge {what}")
    if p.returncode == 0:
        print(f"ok: {what}: {p.stdout.strip()}")


def compare_dumps(c, addr_text):
    raw_opt = ["--elfcorehdr", addr_text]
    for name, flags in (("d1", ["-l", "-d", "1"]), ("d31", ["-l", "-d", "31"]),
                        ("elf-d31", ["-E", "-d", "31"])):
        from_raw, from_core = c.out(f"raw-{name}"), c.out(f"vmcore-{name}")
        c.run([c.vmcollect, *flags, *raw_opt, c.image, from_raw], f"vmcollect {name} raw image")
        c.run([c.vmcollect, *flags, c.vmcore, from_core], f"vmcollect {name} vmcore")
        if not (os.path.exists(from_raw) and os.path.exists(from_core)):
            continue
        judge(c, f"{name}: same pfn set", "same-set", from_raw, from_core)
        judge(c, f"{name}: pages equal", "pages", from_raw, from_core)
        if name == "d31":
            judge(c, f"{name}: pages equal the raw vmcore", "pages", from_raw, c.vmcore)
        same = open(from_raw, "rb").read() == open(from_core, "rb").read()
        print(f"info: {name}: the two files are {'byte-identical' if same else 'not byte-identical'}")
        os.unlink(from_raw)
        if name != "d31":
            os.unlink(from_core)  # vmcore-d31 serves the header-less check too


def vmcore_ranges_and_vmcoreinfo(c):
    """What a user without a header would give: RAM ranges (as /proc/iomem
    prints them) and the VMCOREINFO text, taken here from the vmcore."""
    with open(c.vmcore, "rb") as core:
        loads, _ = program_headers(core, 0)
        ranges = [f"{p['paddr']:x}-{p['paddr'] + p['filesz'] - 1:x}" for p in loads
                  if p["type"] == 1 and p["vaddr"] < 0xffffffff80000000]
        vmcoreinfo = b""
        for note in (p for p in loads if p["type"] == 4):
            core.seek(note["offset"])
            data, pos = core.read(note["filesz"]), 0
            while pos + 12 <= len(data):
                namesz, descsz, _ = struct.unpack_from("<III", data, pos)
                if namesz == 0:
                    break
                desc = pos + 12 + ((namesz + 3) & ~3)
                if data[pos + 12:pos + 12 + namesz].rstrip(b"\0") == b"VMCOREINFO":
                    vmcoreinfo = data[desc:desc + descsz].rstrip(b"\0")
                pos = desc + ((descsz + 3) & ~3)
    return ",".join(ranges), vmcoreinfo


def check_without_header(c, reused):
    """--mem-ranges and -i: the same pfn set as from the vmcore at -d 31, and
    the same pages except those the capture kernel reused: without the header
    nothing says where their backup is, so the image's own (reused) bytes are
    all there is. Exactly those pfns may differ, and no other."""
    ranges, text = vmcore_ranges_and_vmcoreinfo(c)
    info = c.out("vmcoreinfo.txt")
    with open(info, "wb") as f:
        f.write(text)
    ours, ref = c.out("nohdr-d31"), c.out("vmcore-d31")
    c.run([c.vmcollect, "-l", "-d", "31", "--mem-ranges", ranges, "-i", info, c.image, ours],
          "vmcollect d31 raw image without header")
    if not (os.path.exists(ours) and os.path.exists(ref)):
        return
    judge(c, "no header, d31: same pfn set", "same-set", ours, ref)
    sys.path.insert(0, os.path.dirname(JUDGE))
    import kdump_judge  # libkdumpfile (Debian's /usr/bin/python3)
    a, b = kdump_judge.open_dump(ours), kdump_judge.open_dump(ref)
    bits, _ = kdump_judge.dumped_bits(a)
    differ = {pfn for pfn in kdump_judge.pfns_of(bits)
              if a.read(kdump_judge.PHYS, pfn * PAGE, PAGE) != b.read(kdump_judge.PHYS, pfn * PAGE, PAGE)}
    if differ - reused:
        c.fail(f"no header, d31: pfns {sorted(hex(p) for p in differ - reused)} differ from the "
               f"vmcore dump and are not pages the capture kernel reused")
    else:
        print(f"ok: no header, d31: {bin(bits).count('1')} pages equal the vmcore dump's but "
              f"{len(differ)} of the {len(reused)} reused low pages "
              f"({', '.join(hex(p) for p in sorted(differ))})")
    dmesg = c.out("nohdr.dmesg")
    c.run([c.vmcollect, "--dump-dmesg", "--mem-ranges", ranges, "-i", info, c.image, dmesg],
          "vmcollect --dump-dmesg raw image without header")
    ref_log = subprocess.run([VMCORE_DMESG, c.vmcore], capture_output=True, text=True).stdout
    if os.path.exists(dmesg) and open(dmesg, errors="replace").read() != ref_log:
        c.fail("no header: --dump-dmesg differs from vmcore-dmesg")
    elif os.path.exists(dmesg):
        print("ok: no header: --dump-dmesg equals vmcore-dmesg")


def compare_dmesg(c, addr_text):
    ours = c.out("raw.dmesg")
    c.run([c.vmcollect, "--dump-dmesg", "--elfcorehdr", addr_text, c.image, ours],
          "vmcollect --dump-dmesg raw image")
    ref = c.run([VMCORE_DMESG, c.vmcore], "vmcore-dmesg vmcore")
    if not os.path.exists(ours) or ref.returncode != 0:
        return
    text = open(ours, encoding="utf-8", errors="replace").read()
    if text != ref.stdout:
        c.fail(f"--dump-dmesg from the raw image differs from vmcore-dmesg "
               f"({len(text)} vs {len(ref.stdout)} chars)")
    elif "Kernel panic" not in text and "sysrq" not in text.lower():
        c.fail("--dump-dmesg from the raw image does not show the crash")
    else:
        print(f"ok: --dump-dmesg from the raw image equals vmcore-dmesg ({text.count(chr(10))} lines)")


def check_errors(c, addr):
    size = os.path.getsize(c.image)
    cases = [
        (["--elfcorehdr", hex(addr + PAGE)], "no ELF core header at elfcorehdr="),
        (["--elfcorehdr", hex(size + PAGE)], "is outside"),
        ([], "--elfcorehdr ADDR"),
    ]
    for opts, needle in cases:
        dest = c.out("bad")
        p = c.run([c.vmcollect, "-l", "-d", "31", *opts, c.image, dest],
                  f"vmcollect {' '.join(opts) or 'without options'} (must fail)", expect_rc=1)
        if p.returncode == 1 and needle not in p.stderr + p.stdout:
            c.fail(f"{' '.join(opts) or 'no option'}: message lacks '{needle}': {p.stderr.strip()}")
        elif p.returncode == 1:
            print(f"ok: {' '.join(opts) or 'no option'}: {p.stderr.strip().splitlines()[0]}")
        if os.path.exists(dest):
            os.unlink(dest)


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--vmcollect", required=True)
    ap.add_argument("--dir", default=os.environ.get("VMCOLLECT_VM_DIR"))
    ap.add_argument("--keep", action="store_true")
    args = ap.parse_args()
    if not args.dir:
        sys.exit("--dir or VMCOLLECT_VM_DIR is required")
    c = Check(args)
    start = time.monotonic()
    try:
        hdr_file = os.path.join(args.dir, "capture", "elfcorehdr")
        for need in (c.image, c.vmcore, hdr_file):
            if not os.path.exists(need):
                c.fail(f"{need} is missing (the fixture must run make-dump.sh --pmemsave DIR/pmem.raw)")
        if not c.failures:
            addr_text = open(hdr_file).read().strip()
            addr = parse_elfcorehdr(addr_text)
            reused = check_header(c, addr)
            compare_dumps(c, addr_text)
            check_without_header(c, reused)
            compare_dmesg(c, addr_text)
            check_errors(c, addr)
    finally:
        if not args.keep:
            shutil.rmtree(c.tmp, ignore_errors=True)
    for what, secs in c.timings:
        print(f"time: {secs:6.1f} s  {what}")
    print(f"total {time.monotonic() - start:.1f} s; {len(c.failures)} failure(s)")
    return 1 if c.failures else 0


if __name__ == "__main__":
    sys.exit(main())
