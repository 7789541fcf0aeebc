// The structured printk log (Linux 3.5-5.9): variable-length records in
// log_buf, each a header (struct log before 3.11, struct printk_log after:
// ts_nsec, len, text_len, dict_len, facility/flags/level, caller_id with
// CONFIG_PRINTK_CALLER from 5.1) followed by text and dict. A record whose len
// is 0 marks the end of the used buffer: the next record is at offset 0.
// Records run from log_first_idx to log_next_idx.
#pragma once

#include <cstdint>
#include <optional>
#include <string>

#include "base/error.h"
#include "vmcoreinfo/arch/address_space.h"
#include "vmcoreinfo/printk/dmesg_result.h"
#include "vmcoreinfo/printk/printk_memory.h"
#include "vmcoreinfo/table/vmcoreinfo.h"

namespace vmc::dmesg {

struct StructuredLayout {
  std::string struct_name;   // "printk_log" (3.11+) or "log" (3.5-3.10)
  uint64_t header_size = 0;  // SIZE(printk_log): text follows the header
  uint64_t ts_nsec = 0, len = 0, text_len = 0;
  std::optional<uint64_t> dict_len;  // only to check that a record adds up
  uint64_t log_buf = 0, log_buf_len = 0, log_first_idx = 0, log_next_idx = 0;  // symbols
  std::optional<uint64_t> caller_id;  // OFFSET(printk_log.caller_id), CONFIG_PRINTK_CALLER (5.1+)
  std::optional<uint64_t> clear_idx;  // SYMBOL(clear_idx): where `dmesg -c` last cleared

  static Result<StructuredLayout> from(const VmcoreInfo& info);
};

struct StructuredSnapshot {
  uint32_t first_idx = 0;
  uint32_t next_idx = 0;
  MemoryImage buf;  // log_buf_len bytes at *log_buf
};

// With options.partial, the walk starts at clear_idx instead of log_first_idx.
Result<StructuredSnapshot> read_structured(const KernelAddressSpace& kernel, const StructuredLayout& layout,
                                           const DmesgOptions& options = {});

// Walks the records as vmcore-dmesg does (including its line for the len == 0
// wrap marker), stopping with a warning where it would fail or where the chain
// of lengths leaves the buffer, loops, or runs past log_next_idx. A break
// before the wrap marker of a wrapped log costs only the records up to the
// buffer's end: the walk goes on at offset 0, where the newer records are.
// makedumpfile's style prints no line for the wrap marker.
DmesgResult decode_structured(const StructuredLayout& layout, const StructuredSnapshot& log,
                              DmesgStyle style = {});

Result<DmesgResult> read_structured_log(const KernelAddressSpace& kernel, const VmcoreInfo& info,
                                        const DmesgOptions& options);

}  // namespace vmc::dmesg
