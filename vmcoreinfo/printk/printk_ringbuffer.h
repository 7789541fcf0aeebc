// The lockless printk ring buffer (Linux 5.10+, kernel/printk/printk_ringbuffer.c):
// a descriptor ring (state + text block lpos per record), a parallel
// printk_info array (seq, ts_nsec, text_len, caller_id, dev_info) and a text
// data ring of blocks that each begin with their descriptor's id. Every
// offset and size comes from VMCOREINFO; the word size (ids, lpos, state_var,
// pointers) from SIZE(atomic_long_t), 8 when absent.
//
// Reading is split in two so the decoder is a pure function of bytes:
// read_prb() copies the ring out of the dump, decode_prb() walks it.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "base/error.h"
#include "vmcoreinfo/arch/address_space.h"
#include "vmcoreinfo/printk/dmesg_result.h"
#include "vmcoreinfo/printk/printk_memory.h"
#include "vmcoreinfo/table/vmcoreinfo.h"

namespace vmc::dmesg {

struct PrbLayout {
  uint64_t word = 8;        // sizeof(long) in the dumped kernel
  uint64_t prb_symbol = 0;  // SYMBOL(prb): the address of the `prb` pointer
  uint64_t ringbuffer_size = 0, desc_ring = 0, text_data_ring = 0;
  uint64_t count_bits = 0, descs = 0, infos = 0, head_id = 0, tail_id = 0;  // in prb_desc_ring
  uint64_t size_bits = 0, data = 0;                                         // in prb_data_ring
  uint64_t counter = 0;                                                     // atomic_long_t.counter
  uint64_t desc_size = 0, state_var = 0, text_blk_lpos = 0, lpos_begin = 0, lpos_next = 0;
  uint64_t info_size = 0, seq = 0, ts_nsec = 0, text_len = 0;
  std::optional<uint64_t> caller_id;  // OFFSET(printk_info.caller_id)
  std::optional<uint64_t> clear_seq;  // SYMBOL(clear_seq): where `dmesg -c` last cleared
  std::optional<uint64_t> latched_seq_val;  // OFFSET(latched_seq.val): clear_seq is latched (5.13+)

  // Fails naming the first missing entry.
  static Result<PrbLayout> from(const VmcoreInfo& info);
};

// The ring as copied out of the dump.
struct PrbSnapshot {
  uint64_t ringbuffer_vaddr = 0;
  uint32_t count_bits = 0;
  uint32_t size_bits = 0;
  uint64_t head_id = 0;
  uint64_t tail_id = 0;
  MemoryImage descs;  // count * desc_size bytes
  MemoryImage infos;  // count * info_size bytes
  MemoryImage data;   // 1 << size_bits bytes
  std::optional<uint64_t> first_seq;  // --partial-dmesg: print records from this sequence number on
};

// Largest rings we accept; beyond these the values are taken as corrupt.
inline constexpr uint32_t kMaxDescCountBits = 26;
inline constexpr uint32_t kMaxDataSizeBits = 31;

// With options.partial, also the sequence number `dmesg -c` last cleared to.
Result<PrbSnapshot> read_prb(const KernelAddressSpace& kernel, const PrbLayout& layout,
                             const DmesgOptions& options = {});

// Walks tail_id..head_id and prints every committed or finalized record (from
// ring.first_seq on, when set) as vmcore-dmesg or makedumpfile does. Damaged
// descriptors and blocks are skipped with a warning.
DmesgResult decode_prb(const PrbLayout& layout, const PrbSnapshot& ring, DmesgStyle style = {});

Result<DmesgResult> read_lockless_log(const KernelAddressSpace& kernel, const VmcoreInfo& info,
                                      const DmesgOptions& options);

}  // namespace vmc::dmesg
