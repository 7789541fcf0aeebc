#!/usr/bin/python3
"""Independent checks of dump files through libkdumpfile (Debian's
python3-libkdumpfile, so run it with /usr/bin/python3).

  kdump_judge.py pages DUMP RAW       every page DUMP holds equals RAW's page
  kdump_judge.py same-set A B         A and B hold exactly the same pfns
  kdump_judge.py count DUMP           number of pages DUMP holds
  kdump_judge.py subset A B           every pfn of A is in B
  kdump_judge.py diff A B             report (always exit 0): "count-a N",
                                      "count-b M", then one "only-a PFN" /
                                      "only-b PFN" line (hex) per difference

Exit status 0 when the check holds, 1 with a reason on stderr when not.
"""
import os
import sys

import kdumpfile

PHYS = kdumpfile.KDUMP_MACHPHYSADDR


def open_dump(path):
    try:
        return kdumpfile.kdumpfile(path)
    except Exception as e:  # libkdumpfile raises its own exception types
        sys.exit(f"libkdumpfile cannot open {path}: {type(e).__name__}: {e}")


def discard(path):
    """Deletes a dump that was judged, and frees its blocks now. The binding's
    kdumpfile object never closes its file, not even once collected, so an
    unlinked dump keeps its disk space until the process exits: one vm_e2e
    run held 5-8 GiB that way, and filled CI's disk. Truncating first frees
    the blocks whatever still holds the file open."""
    try:
        os.truncate(path, 0)
    except OSError:
        pass
    os.unlink(path)


def header_attributes(dump):
    """Every attribute libkdumpfile derives from a dump's headers and notes
    (uname, architecture, VMCOREINFO, CPU notes, ...), as comparable values:
    blobs by their bytes. Left out: the file descriptors and the page maps
    (pages are judged on their own)."""
    out = {}

    def walk(directory, prefix):
        for key in list(directory.keys()):
            name = prefix + key
            if name.startswith("file.set.") or name.endswith("pagemap"):
                continue
            try:
                value = directory[key]
            except Exception as e:  # an attribute without a value
                out[name] = f"unset ({type(e).__name__})"
                continue
            if hasattr(value, "keys"):
                walk(value, name + ".")
            elif type(value).__name__ == "blob":
                out[name] = bytes(value)
            else:
                out[name] = value

    walk(dump.attr, "")
    return out


def page_size(dump):
    try:
        return int(dump.attr["arch.page_size"])
    except KeyError:
        return 4096


def dumped_bits(dump):
    """The pfns a dump holds, as one big integer bitmap (bit n = pfn n)."""
    max_pfn = int(dump.attr["max_pfn"])
    raw = dump.attr["file.pagemap"].get_bits(0, max_pfn - 1)
    return int.from_bytes(bytes(raw), "little") & ((1 << max_pfn) - 1), max_pfn


def pfns_of(bits):
    pfn = 0
    while bits:
        low = bits & -bits
        pfn = low.bit_length() - 1
        yield pfn
        bits ^= low


def describe(bits, limit=8):
    pfns = []
    for pfn in pfns_of(bits):
        pfns.append(hex(pfn))
        if len(pfns) == limit:
            pfns.append("...")
            break
    return f"{bin(bits).count('1')} pfns ({', '.join(pfns)})"


def cmd_pages(ours_path, raw_path):
    ours, raw = open_dump(ours_path), open_dump(raw_path)
    size = page_size(ours)
    bits, _ = dumped_bits(ours)
    checked = 0
    for pfn in pfns_of(bits):
        try:
            a = ours.read(PHYS, pfn * size, size)
        except Exception as e:
            sys.exit(f"{ours_path}: pfn {pfn:#x} is in the page map but cannot be read: {e}")
        b = raw.read(PHYS, pfn * size, size)
        if a != b:
            sys.exit(f"{ours_path}: pfn {pfn:#x} differs from {raw_path}")
        checked += 1
    print(f"{checked} pages of {ours_path} equal {raw_path}")


def cmd_same_set(a_path, b_path):
    a, a_max = dumped_bits(open_dump(a_path))
    b, b_max = dumped_bits(open_dump(b_path))
    only_a, only_b = a & ~b, b & ~a
    if only_a or only_b:
        sys.exit(f"page sets differ: only in {a_path}: {describe(only_a)}; "
                 f"only in {b_path}: {describe(only_b)}")
    print(f"{bin(a).count('1')} pfns, identical sets (max_pfn {a_max} / {b_max})")


def cmd_subset(a_path, b_path):
    a, _ = dumped_bits(open_dump(a_path))
    b, _ = dumped_bits(open_dump(b_path))
    extra = a & ~b
    if extra:
        sys.exit(f"{a_path} holds pages {b_path} lacks: {describe(extra)}")
    print(f"{bin(a).count('1')} pfns of {a_path} are all in {b_path}")


def set_pfns(bits):
    """The pfns of a bitmap integer, in order; linear in its size."""
    raw = bits.to_bytes((bits.bit_length() + 7) // 8, "little")
    for i, byte in enumerate(raw):
        while byte:
            low = byte & -byte
            yield i * 8 + low.bit_length() - 1
            byte ^= low


def cmd_diff(a_path, b_path):
    a, _ = dumped_bits(open_dump(a_path))
    b, _ = dumped_bits(open_dump(b_path))
    lines = [f"count-a {bin(a).count('1')}", f"count-b {bin(b).count('1')}"]
    lines += [f"only-a {pfn:#x}" for pfn in set_pfns(a & ~b)]
    lines += [f"only-b {pfn:#x}" for pfn in set_pfns(b & ~a)]
    print("\n".join(lines))


def cmd_count(path):
    bits, _ = dumped_bits(open_dump(path))
    print(bin(bits).count("1"))


def main(argv):
    commands = {"pages": (cmd_pages, 2), "same-set": (cmd_same_set, 2),
                "subset": (cmd_subset, 2), "count": (cmd_count, 1),
                "diff": (cmd_diff, 2)}
    if len(argv) < 2 or argv[1] not in commands or len(argv) - 2 != commands[argv[1]][1]:
        sys.exit(__doc__)
    fn, _ = commands[argv[1]]
    fn(*argv[2:])


if __name__ == "__main__":
    main(sys.argv)
