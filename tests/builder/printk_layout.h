// Printk log buffers in all three layouts, built the way the kernel's writer
// fills them (record placement, wrap markers, ring wrap-around, recycling of
// old records), then laid into a DumpBuilder's physical memory with matching
// VMCOREINFO lines. Tests describe records; damage is applied afterwards
// through the mutators, so a test reads as "a healthy log, then this broke".
//
// Layouts are x86_64's: pointers and longs are 8 bytes, printk_log is packed
// with 4-byte alignment (CONFIG_HAVE_EFFICIENT_UNALIGNED_ACCESS), and the
// lockless ring structs are those of Debian's 6.1 and 6.12 (prb_desc_ring with
// last_finalized_seq, 6.8+ and stable backports) or, optionally, of 5.10-6.7.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "tests/builder/dump_builder.h"

namespace vmc::testing {

// Where the log goes: structures at physical addresses, seen by the kernel
// through a direct map at pa + va_offset. The variables (log_buf, prb, ...)
// go in the page at symbols_pa; buffers and arrays from buffers_pa on. Both
// ranges must be RAM in the builder.
struct PrintkPlacement {
  uint64_t va_offset = 0xffff888000000000ULL;
  uint64_t symbols_pa = 0x100000;
  uint64_t buffers_pa = 0x200000;
  uint64_t va(uint64_t pa) const { return pa + va_offset; }
};

struct PrintkRecord {
  uint64_t ts_nsec = 0;
  std::string text;
  uint32_t caller_id = 0;  // bit 31: CPU id, else task id
  std::string dict;        // structured layout only
  uint8_t level = 6;
  uint8_t facility = 0;
  uint8_t flags = 0;      // structured: LOG_NEWLINE 2, LOG_CONT 8 (3.5-5.9)
  std::string subsystem;  // lockless dev_printk_info
  std::string device;

  PrintkRecord() = default;
  PrintkRecord(uint64_t ts, std::string t) : ts_nsec(ts), text(std::move(t)) {}
  PrintkRecord& with_caller(uint32_t id) {
    caller_id = id;
    return *this;
  }
  PrintkRecord& with_dict(std::string d) {
    dict = std::move(d);
    return *this;
  }
  PrintkRecord& with_flags(uint8_t f) {
    flags = f;
    return *this;
  }
  PrintkRecord& with_dev(std::string subsys, std::string dev) {
    subsystem = std::move(subsys);
    device = std::move(dev);
    return *this;
  }
};

// ---- Lockless ring (5.10+) ------------------------------------------------

class LocklessRingBuilder {
 public:
  enum State : uint64_t { kReserved = 0, kCommitted = 1, kFinalized = 2, kReusable = 3 };
  static constexpr uint64_t kIdMask = (1ULL << 62) - 1;
  static constexpr uint64_t kFailedLpos = 1;
  static constexpr uint64_t kEmptyLineLpos = 3;  // NO_LPOS before 6.7

  // last_finalized_seq: struct prb_desc_ring has it (48 bytes, printk_ringbuffer
  // 88) as in 6.8+ and Debian's 6.1.y; without, 40 and 80 as in 5.10-6.7.
  LocklessRingBuilder(uint32_t count_bits, uint32_t size_bits, bool last_finalized_seq = true);

  // Reserves the next id, allocates its text block (wrapping to the ring's
  // start when it would cross the end, recycling the oldest records for
  // room), writes id and text, and leaves the descriptor in `state`.
  uint64_t add(const PrintkRecord& record, State state = kFinalized);

  uint64_t head_id() const { return head_id_; }
  uint64_t tail_id() const { return tail_id_; }
  uint64_t count() const { return descs_.size(); }
  uint64_t data_size() const { return data_.size(); }
  uint64_t index(uint64_t id) const { return id & (count() - 1); }

  // ---- Damage ----
  uint64_t state_var(uint64_t id) const { return descs_[index(id)].state_var; }
  void set_state_var(uint64_t id, uint64_t value) { descs_[index(id)].state_var = value; }
  void set_state(uint64_t id, State state) { set_state_var(id, (state << 62) | (id & kIdMask)); }
  uint64_t lpos_begin(uint64_t id) const { return descs_[index(id)].begin; }
  uint64_t lpos_next(uint64_t id) const { return descs_[index(id)].next; }
  void set_lpos(uint64_t id, uint64_t begin, uint64_t next);
  void set_text_len(uint64_t id, uint16_t len) { infos_[index(id)].text_len = len; }
  void set_seq(uint64_t id, uint64_t seq) { infos_[index(id)].seq = seq; }
  uint64_t seq(uint64_t id) const { return infos_[index(id)].seq; }
  void set_head_id(uint64_t id) { head_id_ = id; }
  void set_tail_id(uint64_t id) { tail_id_ = id; }
  // `dmesg -c` cleared up to seq: a plain u64 (5.10-5.12) or, latched, a
  // struct latched_seq whose odd latch sequence selects val[1] (5.13+).
  void set_clear_seq(uint64_t seq, bool latched) {
    clear_seq_ = seq;
    latched_clear_seq_ = latched;
  }
  void poke_data(uint64_t offset, std::span<const std::byte> bytes);

  // Addresses write() uses, for tests that name them.
  struct Addresses {
    uint64_t prb;   // the `prb` pointer variable (SYMBOL(prb))
    uint64_t ring;  // struct printk_ringbuffer
    uint64_t descs, infos, data;
  };
  Addresses addresses(const PrintkPlacement& p) const;
  // Lays the ring into memory and appends its VMCOREINFO entries.
  void write(DumpBuilder& builder, const PrintkPlacement& p) const;
  std::string vmcoreinfo_lines(const Addresses& a) const;

 private:
  struct Desc {
    uint64_t state_var = 0;
    uint64_t begin = kFailedLpos, next = kFailedLpos;
  };
  struct Info {
    uint64_t seq = 0, ts_nsec = 0;
    uint16_t text_len = 0;
    uint8_t facility = 0, level = 0;
    uint32_t caller_id = 0;
    std::string subsystem, device;
  };
  bool alloc_data(uint64_t id, size_t text_len, uint64_t& begin, uint64_t& next);
  void push_data_tail(uint64_t lpos);
  void push_desc_tail();
  uint64_t wraps(uint64_t lpos) const { return lpos / data_.size(); }

  std::vector<Desc> descs_;
  std::vector<Info> infos_;
  std::vector<std::byte> data_;
  uint64_t head_id_, tail_id_;
  uint64_t head_lpos_, tail_lpos_;
  uint32_t count_bits_, size_bits_;
  uint64_t desc_ring_size_;  // sizeof(struct prb_desc_ring): 40 or 48
  uint64_t clear_seq_ = 0;
  bool latched_clear_seq_ = true;  // as Debian's 6.1 and 6.12
};

// ---- Structured log (3.5-5.9) ---------------------------------------------

class StructuredLogBuilder {
 public:
  struct Options {
    uint32_t buf_len = 4096;
    bool caller_id = false;                  // CONFIG_PRINTK_CALLER (5.1+): 20-byte header
    std::string struct_name = "printk_log";  // "log" before 3.11
  };
  explicit StructuredLogBuilder(uint32_t buf_len)
      : StructuredLogBuilder(Options{buf_len, false, "printk_log"}) {}
  explicit StructuredLogBuilder(Options options);

  // log_store(): frees the oldest records for room, writes a zero wrap marker
  // when the record and a following header would not fit before the end.
  void add(const PrintkRecord& record);

  uint32_t header_size() const { return options_.caller_id ? 20 : 16; }
  uint32_t first_idx() const { return first_idx_; }
  uint32_t next_idx() const { return next_idx_; }
  uint64_t dropped() const { return dropped_; }  // records freed for room

  // ---- Damage ----
  std::span<std::byte> buffer() { return buf_; }
  void set_len(uint32_t idx, uint16_t len);
  void set_text_len(uint32_t idx, uint16_t len);
  void set_first_idx(uint32_t idx) { first_idx_ = idx; }
  void set_next_idx(uint32_t idx) { next_idx_ = idx; }
  void set_clear_idx(uint32_t idx) { clear_idx_ = idx; }  // `dmesg -c` cleared up to here

  uint64_t log_buf_va(const PrintkPlacement& p) const { return p.va(p.buffers_pa); }
  void write(DumpBuilder& builder, const PrintkPlacement& p) const;

 private:
  bool has_space(uint32_t size) const;
  uint32_t record_after(uint32_t idx) const;

  Options options_;
  std::vector<std::byte> buf_;
  uint32_t first_idx_ = 0, next_idx_ = 0;
  std::optional<uint32_t> clear_idx_;  // first_idx_ unless set
  uint64_t first_seq_ = 0, next_seq_ = 0, dropped_ = 0;
};

// ---- Legacy character buffer (< 3.5) -------------------------------------

class LegacyLogBuilder {
 public:
  explicit LegacyLogBuilder(uint32_t buf_len) : buf_(buf_len) {}
  // emit_log_char() for each byte: the buffer is a ring, log_end counts all.
  void append(std::string_view text);
  uint32_t log_end() const { return log_end_; }
  void write(DumpBuilder& builder, const PrintkPlacement& p, bool with_logged_chars = true) const;

 private:
  std::vector<std::byte> buf_;
  uint32_t log_end_ = 0;
  uint32_t logged_chars_ = 0;
};

}  // namespace vmc::testing
