#!/usr/bin/python3
"""Sanity checks of a make-dump.sh result directory (stdlib only).

usage: check_dump.py [--kernel 6.1|6.12] DIR

Checks that DIR/vmcore is an ELF64 x86-64 ET_CORE file whose PT_NOTE holds
NT_PRSTATUS notes and a VMCOREINFO note with the guest's OSRELEASE, that its
PT_LOADs cover the guest's System RAM minus the crash kernel reservation
(from pre-panic/iomem) and lie inside the file, and that the pre-panic files
show the workload (AnonPages) and page cache.
"""
import argparse
import os
import re
import struct
import sys

PT_LOAD, PT_NOTE = 1, 4
failures = []


def check(cond, msg):
    print(("ok   " if cond else "FAIL ") + msg)
    if not cond:
        failures.append(msg)
    return cond


def read_kv(path, sep="="):
    out = {}
    with open(path, errors="replace") as f:
        for line in f:
            if sep in line:
                k, v = line.split(sep, 1)
                out[k.strip()] = v.strip()
    return out


def parse_notes(data):
    notes, off = [], 0
    while off + 12 <= len(data):
        namesz, descsz, ntype = struct.unpack_from("<III", data, off)
        off += 12
        name = data[off:off + namesz].rstrip(b"\0").decode(errors="replace")
        off += (namesz + 3) & ~3
        desc = data[off:off + descsz]
        off += (descsz + 3) & ~3
        if namesz == 0 and descsz == 0 and ntype == 0:
            break
        notes.append((name, ntype, desc))
    return notes


def iomem_ranges(path):
    """System RAM and Crash kernel ranges [start, end) from /proc/iomem."""
    ram, crash = [], []
    with open(path) as f:
        for line in f:
            m = re.match(r"\s*([0-9a-f]+)-([0-9a-f]+) : (.*)", line)
            if not m:
                continue
            r = (int(m.group(1), 16), int(m.group(2), 16) + 1)
            if m.group(3) == "System RAM" and not line.startswith(" "):
                ram.append(r)
            elif m.group(3) == "Crash kernel":
                crash.append(r)
    return ram, crash


def union(ranges):
    out = []
    for s, e in sorted(ranges):
        if out and s <= out[-1][1]:
            out[-1] = (out[-1][0], max(out[-1][1], e))
        else:
            out.append((s, e))
    return out


def subtract(ranges, holes):
    out = []
    for s, e in ranges:
        parts = [(s, e)]
        for hs, he in holes:
            nxt = []
            for ps, pe in parts:
                if he <= ps or hs >= pe:
                    nxt.append((ps, pe))
                    continue
                if ps < hs:
                    nxt.append((ps, hs))
                if he < pe:
                    nxt.append((he, pe))
            parts = nxt
        out += parts
    return out


def total(ranges):
    return sum(e - s for s, e in ranges)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--kernel", help="6.1 or 6.12: OSRELEASE must start with it")
    ap.add_argument("dir")
    a = ap.parse_args()
    d = a.dir
    if not check(os.path.exists(os.path.join(d, "ok")), f"{d}/ok exists"):
        return 1
    kver = open(os.path.join(d, "kernel-version")).read().strip()
    params = read_kv(os.path.join(d, "params"))
    if a.kernel:
        check(kver.startswith(a.kernel + "."), f"kernel-version {kver} is a {a.kernel} kernel")

    path = os.path.join(d, "vmcore")
    size = os.path.getsize(path)
    with open(path, "rb") as f:
        ehdr = f.read(64)
        check(ehdr[:4] == b"\x7fELF", "ELF magic")
        check(ehdr[4] == 2 and ehdr[5] == 1, "ELFCLASS64, little endian")
        e_type, e_machine = struct.unpack_from("<HH", ehdr, 16)
        e_phoff, = struct.unpack_from("<Q", ehdr, 32)
        e_phentsize, e_phnum = struct.unpack_from("<HH", ehdr, 54)
        check(e_type == 4, f"e_type ET_CORE (got {e_type})")
        check(e_machine == 62, f"e_machine EM_X86_64 (got {e_machine})")
        f.seek(e_phoff)
        ph = f.read(e_phentsize * e_phnum)
        phdrs = [struct.unpack_from("<IIQQQQQQ", ph, i * e_phentsize) for i in range(e_phnum)]
        notes = []
        for p_type, _, off, _, _, filesz, _, _ in phdrs:
            if p_type == PT_NOTE:
                f.seek(off)
                notes += parse_notes(f.read(filesz))

    check(any(p[0] == PT_NOTE for p in phdrs), "has PT_NOTE")
    prstatus = [n for n in notes if n[0] == "CORE" and n[1] == 1]
    check(len(prstatus) >= 1, f"{len(prstatus)} NT_PRSTATUS note(s)")
    vmci = [n for n in notes if n[0] == "VMCOREINFO"]
    if check(len(vmci) == 1, "one VMCOREINFO note"):
        info = dict(l.split("=", 1) for l in vmci[0][2].decode(errors="replace").split("\n") if "=" in l)
        check(info.get("OSRELEASE") == kver, f"VMCOREINFO OSRELEASE={info.get('OSRELEASE')} == {kver}")
        check("SYMBOL(swapper_pg_dir)" in info and "PAGESIZE" in info,
              "VMCOREINFO has SYMBOL(swapper_pg_dir) and PAGESIZE")

    loads = [p for p in phdrs if p[0] == PT_LOAD]
    check(len(loads) >= 2, f"{len(loads)} PT_LOADs")
    check(all(off + filesz <= size for _, _, off, _, _, filesz, _, _ in loads),
          f"every PT_LOAD lies within the file ({size} bytes)")
    covered = union([(pa, pa + memsz) for _, _, _, _, pa, _, memsz, _ in loads])
    ram, crash = iomem_ranges(os.path.join(d, "pre-panic", "iomem"))
    expect = union(subtract(union(ram), crash))
    ram_mib = total(ram) / 2**20
    mem_mib = int(params.get("mem_mib", "0"))
    check(mem_mib * 0.9 <= ram_mib <= mem_mib, f"System RAM {ram_mib:.0f} MiB for a {mem_mib} MiB guest")
    missing = total(subtract(expect, covered))
    extra = total(subtract(covered, expect))
    check(missing <= total(expect) // 100,
          f"PT_LOADs cover System RAM minus crashkernel: {total(covered) / 2**20:.1f} MiB "
          f"of {total(expect) / 2**20:.1f} MiB (missing {missing} bytes, extra {extra} bytes)")
    check(extra <= 2**20, f"PT_LOADs outside System RAM minus crashkernel: {extra} bytes")

    mi = read_kv(os.path.join(d, "pre-panic", "meminfo"), ":")
    kb = {k: int(v.split()[0]) for k, v in mi.items() if v.split() and v.split()[0].isdigit()}
    check("MemTotal" in kb, f"pre-panic meminfo: MemTotal {kb.get('MemTotal')} kB")
    wl = read_kv(os.path.join(d, "pre-panic", "workload.txt"))
    wl_kb = int(wl.get("bytes", "0")) // 1024
    check(wl_kb > 0 and kb.get("AnonPages", 0) >= wl_kb * 0.95,
          f"AnonPages {kb.get('AnonPages')} kB holds the {wl_kb} kB workload")
    check(kb.get("Cached", 0) + kb.get("Buffers", 0) >= int(params.get("pagecache_mb", "0")) * 1024,
          f"page cache: Cached {kb.get('Cached')} kB + Buffers {kb.get('Buffers')} kB")
    for name in ("vmstat", "zoneinfo", "buddyinfo", "cmdline", "uname"):
        check(os.path.getsize(os.path.join(d, "pre-panic", name)) > 0, f"pre-panic/{name}")
    cap = os.path.join(d, "capture")
    check(open(os.path.join(cap, "vmcore-size")).read().strip() == str(size), "capture/vmcore-size == file size")
    check(re.fullmatch(r"[0-9]+[KMG]?", open(os.path.join(cap, "elfcorehdr")).read().strip() or "-") is not None,
          "capture/elfcorehdr recorded")

    print(f"{len(failures)} failed" if failures else "all checks passed")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
