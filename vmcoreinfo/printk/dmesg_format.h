// The exact text kexec-tools' vmcore-dmesg (2.0.25, Debian 12) prints for one
// record of the structured or lockless log, kept in one place so the three
// layouts cannot drift apart. Verified against /usr/sbin/vmcore-dmesg on
// synthetic and real cores:
//  - "[%5llu.%06llu] " from ts_nsec: seconds, then microseconds truncated;
//  - every byte that is neither isprint() nor isspace() in the C locale
//    (0x00-0x08, 0x0e-0x1f, 0x7f-0xff) as "\xNN" (lowercase hex); tab,
//    newline, \v, \f and \r go out raw, so a newline inside a record starts an
//    unindented line with no timestamp (makedumpfile indents; vmcore-dmesg does
//    not);
//  - one '\n' ending the record; no caller id, level, facility, dev_printk info
//    or continuation merging: each record is one timestamped line.
// The legacy character buffer (< 3.5) is printed raw, with no formatting.
//
// makedumpfile's form (1.7.5 and later; read from its printk.c and
// dump_log_entry(), never copied): the same timestamp, then "[%8s] " of the
// caller ("T<pid>", or "C<cpu>" when bit 31 is set) where VMCOREINFO gives
// OFFSET(printk_info.caller_id) or OFFSET(printk_log.caller_id); a newline
// inside a record continues on a line indented by the width of that prefix;
// tab, \v, \f and \r raw; every other byte outside 0x20-0x7e as "\x%02x" of
// a signed char, so bytes from 0x80 print as "\xffffff80" (x86_64's char is
// signed; makedumpfile built where char is unsigned prints "\x80").
// Debian's 1.7.2 prints the same without the caller column.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <string>

#include "vmcoreinfo/printk/dmesg_result.h"

namespace vmc::dmesg {

// "[%5llu.%06llu] " of a timestamp in nanoseconds.
void append_timestamp(std::string& out, uint64_t ts_nsec);

// True for the bytes vmcore-dmesg prints as they are.
constexpr bool printed_raw(unsigned char c) { return (c >= 0x20 && c <= 0x7e) || (c >= '\t' && c <= '\r'); }

// The text of a record with non-printable bytes escaped as "\xNN".
void append_escaped(std::string& out, std::span<const std::byte> text);

// One whole record in the style asked: the prefix, the text, '\n'. caller_id
// is the record's, when the kernel keeps one.
void append_record(std::string& out, DmesgStyle style, uint64_t ts_nsec, std::optional<uint32_t> caller_id,
                   std::span<const std::byte> text);

}  // namespace vmc::dmesg
