"""What a vmcollect run left, judged without libkdumpfile (standard library
only, so the unit tests can use it too): the incomplete mark of an output as
makedumpfile sets it, a death by signal, a sanitizer report; and where a
kdump file's tables are, to damage them. Shared by damage_sweep.py and
tests/fuzz/hostile_corpus.py."""
import collections
import struct

KDUMP_STATUS_OFFSET = 424    # DiskDumpHeader.status (formats/kdump_format.h)
KDUMP_INCOMPLETE = 0x8       # DUMP_DH_COMPRESSED_INCOMPLETE
ELF_FLAGS_OFFSET = 48        # Ehdr.e_flags (formats/elf_format.h)
ELF_INCOMPLETE = 0x1         # kDumpElfIncomplete
SANITIZER_MARKS = ("ERROR: AddressSanitizer", "ERROR: LeakSanitizer", "runtime error:",
                   "WARNING: ThreadSanitizer", "ERROR: UndefinedBehaviorSanitizer")


def marked_incomplete(path):
    """True or False as the output's header says, None when it is no dump."""
    with open(path, "rb") as f:
        head = f.read(KDUMP_STATUS_OFFSET + 4)
    if head[:8] in (b"KDUMP   ", b"DISKDUMP") and len(head) >= KDUMP_STATUS_OFFSET + 4:
        return bool(struct.unpack_from("<I", head, KDUMP_STATUS_OFFSET)[0] & KDUMP_INCOMPLETE)
    if head[:4] == b"\x7fELF" and len(head) >= ELF_FLAGS_OFFSET + 4:
        return bool(struct.unpack_from("<I", head, ELF_FLAGS_OFFSET)[0] & ELF_INCOMPLETE)
    return None


def killing_signal(rc):
    """The signal a process died of (subprocess's negative status, or a
    shell's 128 + n), or None."""
    if rc is not None and rc < 0:
        return -rc
    if rc is not None and rc >= 128:
        return rc - 128
    return None


def sanitizer_report(stderr):
    """The first line of a sanitizer report in stderr, or None."""
    for line in stderr.splitlines():
        if any(mark in line for mark in SANITIZER_MARKS):
            return line.strip()
    return None


def is_sanitizer_build(binary):
    """ASan reserves terabytes of address space (no RLIMIT_AS for it), and
    sanitizers see failures the Release build does not show."""
    with open(binary, "rb") as f:
        return b"__asan_init" in f.read()


KdumpTables = collections.namedtuple(
    "KdumpTables", "block sub_header bitmap1 bitmap2 descriptors descriptors_end first_data")


def kdump_tables(path):
    """File offsets of a kdump file's tables (formats/kdump_format.h): the
    sub header, both bitmaps, the page descriptors (one per 2nd-bitmap bit)
    and the first page's data; sub_header is its raw 104 bytes."""
    with open(path, "rb") as f:
        head = f.read(KDUMP_STATUS_OFFSET + 16)
        block, sub_blocks, bitmap_blocks = struct.unpack_from("<iiI", head, KDUMP_STATUS_OFFSET + 4)
        f.seek(block)
        sub_header = f.read(104)
        bitmap1 = (1 + sub_blocks) * block
        bitmap2 = bitmap1 + bitmap_blocks * block // 2
        descriptors = bitmap1 + bitmap_blocks * block
        f.seek(bitmap2)
        dumped = sum(bin(b).count("1") for b in f.read(descriptors - bitmap2))
        f.seek(descriptors)
        first_data, = struct.unpack("<q", f.read(8))
    return KdumpTables(block, sub_header, bitmap1, bitmap2, descriptors,
                       descriptors + 24 * dumped, first_data)
