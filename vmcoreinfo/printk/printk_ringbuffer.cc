// Why our own walk and not a port: vmcore-dmesg trusts every lpos and id it
// reads (a bad tail_id makes it loop 2^62 times, a bad lpos reads outside its
// buffer). We print exactly what it prints for a healthy ring, and apply the
// kernel's own get_data() rules (legal lpos pair, alignment, id at the block
// head) to skip, not print, what a damaged one holds.
#include "vmcoreinfo/printk/printk_ringbuffer.h"

#include <algorithm>
#include <utility>

#include "vmcoreinfo/printk/dmesg_format.h"

namespace vmc::dmesg {
namespace {

// enum desc_state in printk_ringbuffer.h: the top two bits of state_var.
enum DescState : uint64_t { kReserved = 0, kCommitted = 1, kFinalized = 2, kReusable = 3 };

class Walker {
 public:
  Walker(const PrbLayout& layout, const PrbSnapshot& ring, DmesgStyle style, DmesgResult& out)
      : l_(layout),
        r_(ring),
        bits_(layout.word * 8),
        word_mask_(bits_ == 64 ? ~0ULL : (1ULL << bits_) - 1),
        id_mask_(word_mask_ >> 2),
        count_(1ULL << ring.count_bits),
        size_(1ULL << ring.size_bits),
        style_(style),
        out_(out),
        warn_(out.warnings) {}

  void run();

 private:
  struct Block {
    uint64_t text_off = 0;   // offset of the text in the data ring
    uint64_t text_room = 0;  // bytes the block holds after its id
  };

  void record(uint64_t id);
  bool locate(uint64_t id, uint64_t begin, uint64_t next, Block& block);
  void check_seq(uint64_t id, uint64_t seq);
  std::string where(uint64_t id) const;

  const PrbLayout& l_;
  const PrbSnapshot& r_;
  const uint64_t bits_, word_mask_, id_mask_, count_, size_;
  const DmesgStyle style_;
  DmesgResult& out_;
  WarningList warn_;
  bool have_last_ = false;
  uint64_t last_id_ = 0, last_seq_ = 0;
};

std::string Walker::where(uint64_t id) const {
  uint64_t index = id & (count_ - 1);
  return "printk ring descriptor " + std::to_string(index) + " (id " + hex(id) + ", at " +
         hex(r_.descs.vaddr() + index * l_.desc_size) + ")";
}

void Walker::run() {
  uint64_t tail = r_.tail_id & id_mask_;
  uint64_t head = r_.head_id & id_mask_;
  uint64_t distance = (head - tail) & id_mask_;
  if (distance >= count_) {
    warn_.add("printk ring: tail_id " + hex(r_.tail_id) + " and head_id " + hex(r_.head_id) + " are " +
              std::to_string(distance) + " records apart but the ring holds " + std::to_string(count_) +
              "; reading only the newest " + std::to_string(count_));
    tail = (head - (count_ - 1)) & id_mask_;
  }
  // As vmcore-dmesg: tail up to and including head.
  for (uint64_t id = tail;; id = (id + 1) & id_mask_) {
    record(id);
    if (id == head) break;
  }
  warn_.finish();
}

void Walker::record(uint64_t id) {
  const uint64_t index = id & (count_ - 1);
  const uint64_t desc = index * l_.desc_size;
  const uint64_t info = index * l_.info_size;
  if (!r_.descs.readable(desc, l_.desc_size) || !r_.infos.readable(info, l_.info_size)) {
    warn_.add(where(id) + ": descriptor or printk_info not in the dump; record skipped");
    return;
  }
  const uint64_t sv = r_.descs.uint(desc + l_.state_var + l_.counter, l_.word);
  const uint64_t state = (sv >> (bits_ - 2)) & 3;
  if ((sv & id_mask_) != id) {
    warn_.add(where(id) + ": state_var " + hex(sv) + " belongs to id " + hex(sv & id_mask_) +
              "; record skipped");
    return;
  }
  // Reusable descriptors are released records (the data ring recycles text
  // before the descriptor ring catches up): not damage, and vmcore-dmesg skips
  // them silently too. A reserved one was being written at the crash.
  if (state == kReserved) {
    warn_.add(where(id) + ": reserved (being written at the crash); record skipped");
    return;
  }
  if (state != kCommitted && state != kFinalized) return;
  const uint64_t lpos = desc + l_.text_blk_lpos;
  const uint64_t begin = r_.descs.uint(lpos + l_.lpos_begin, l_.word);
  const uint64_t next = r_.descs.uint(lpos + l_.lpos_next, l_.word);
  Block block;
  if (!locate(id, begin, next, block)) return;

  uint64_t text_len = r_.infos.u16(info + l_.text_len);
  if (block.text_room == 0) {
    text_len = 0;  // data-less; a lost text (FAILED_LPOS) prints as an empty line too
  } else if (text_len > block.text_room) {
    // vmcore-dmesg prints the block's bytes only; so do we.
    warn_.add(where(id) + ": text_len " + std::to_string(text_len) + " exceeds its " +
              std::to_string(block.text_room) + "-byte text block; truncated");
    text_len = block.text_room;
  }
  if (!r_.data.readable(block.text_off, text_len)) {
    warn_.add(where(id) + ": text at data ring offset " + hex(block.text_off) +
              " not in the dump; record skipped");
    return;
  }
  const uint64_t seq = r_.infos.u64(info + l_.seq);
  check_seq(id, seq);
  if (r_.first_seq && seq < *r_.first_seq) return;  // cleared by `dmesg -c` before the crash
  std::optional<uint32_t> caller;
  if (l_.caller_id) caller = r_.infos.u32(info + *l_.caller_id);
  append_record(out_.text, style_, r_.infos.u64(info + l_.ts_nsec), caller, r_.data.span(block.text_off, text_len));
}

// The kernel's get_data(): which bytes of the data ring a descriptor's
// text_blk_lpos names. A data-less record (begin == next, odd: FAILED_LPOS or
// an empty line) has no text; vmcore-dmesg still prints its timestamp.
// (vmcore-dmesg prints an empty line whenever begin and next are equal modulo
// the ring size; other such pairs are illegal and skipped here.)
bool Walker::locate(uint64_t id, uint64_t begin, uint64_t next, Block& block) {
  if (begin == next && (begin & 1) != 0) return true;  // data-less: empty text
  const auto wraps = [&](uint64_t lpos) { return (lpos & word_mask_) >> r_.size_bits; };
  uint64_t block_off;
  uint64_t block_size;
  if (wraps(begin) == wraps(next) && begin < next) {
    block_off = begin % size_;
    block_size = next - begin;
  } else if (wraps(begin + size_) == wraps(next)) {
    block_off = 0;  // a wrapping block keeps its data at the ring's start
    block_size = next % size_;
  } else {
    block_size = 0;
    block_off = UINT64_MAX;
  }
  if (block_off == UINT64_MAX || begin % l_.word != 0 || next % l_.word != 0 || block_size < l_.word) {
    warn_.add(where(id) + ": text block lpos begin " + hex(begin) + " next " + hex(next) +
              " is not a valid data block; record skipped");
    return false;
  }
  // Each block starts with its descriptor's id (a wrapping block at both ends).
  for (uint64_t at : {begin % size_, block_off}) {
    if (!r_.data.readable(at, l_.word)) {
      warn_.add(where(id) + ": text block at data ring offset " + hex(at) +
                " not in the dump; record skipped");
      return false;
    }
    uint64_t block_id = r_.data.uint(at, l_.word);
    if (block_id != id) {
      warn_.add(where(id) + ": text block at data ring offset " + hex(at) + " belongs to id " +
                hex(block_id) + "; record skipped");
      return false;
    }
  }
  block.text_off = block_off + l_.word;
  block.text_room = block_size - l_.word;
  return true;
}

// Sequence numbers advance by one per descriptor id; a jump between two
// printed records that skipped descriptors do not explain means stale or
// overwritten printk_info.
void Walker::check_seq(uint64_t id, uint64_t seq) {
  if (have_last_) {
    uint64_t expected = last_seq_ + ((id - last_id_) & id_mask_);
    if (seq != expected) {
      warn_.add(where(id) + ": sequence number " + std::to_string(seq) + ", expected " +
                std::to_string(expected) + " after the record before it");
    }
  }
  have_last_ = true;
  last_id_ = id;
  last_seq_ = seq;
}

// Every field lies inside its struct, so the decoder's reads stay in bounds.
bool fields_fit(const PrbLayout& l) {
  const uint64_t w = l.word;
  const uint64_t desc_ring_end =
      l.desc_ring + std::max({l.count_bits + 4, l.descs + w, l.infos + w, l.head_id + l.counter + w,
                              l.tail_id + l.counter + w});
  const uint64_t data_ring_end = l.text_data_ring + std::max(l.size_bits + 4, l.data + w);
  return l.state_var + l.counter + w <= l.desc_size &&
         l.text_blk_lpos + std::max(l.lpos_begin, l.lpos_next) + w <= l.desc_size &&
         l.seq + 8 <= l.info_size && l.ts_nsec + 8 <= l.info_size && l.text_len + 2 <= l.info_size &&
         (!l.caller_id || *l.caller_id + 4 <= l.info_size) &&
         desc_ring_end <= l.ringbuffer_size && data_ring_end <= l.ringbuffer_size;
}

}  // namespace

Result<PrbLayout> PrbLayout::from(const VmcoreInfo& info) {
  PrbLayout l;
  auto get = [&](std::optional<uint64_t> v, const char* what, uint64_t& field) -> Status {
    if (!v) return Error(ErrorKind::kUnsupported, std::string("VMCOREINFO has no ") + what);
    field = *v;
    return {};
  };
  VMC_TRY(get(info.symbol("prb"), "SYMBOL(prb)", l.prb_symbol));
  VMC_TRY(get(info.size("printk_ringbuffer"), "SIZE(printk_ringbuffer)", l.ringbuffer_size));
  VMC_TRY(
      get(info.offset("printk_ringbuffer.desc_ring"), "OFFSET(printk_ringbuffer.desc_ring)", l.desc_ring));
  VMC_TRY(get(info.offset("printk_ringbuffer.text_data_ring"), "OFFSET(printk_ringbuffer.text_data_ring)",
              l.text_data_ring));
  VMC_TRY(get(info.offset("prb_desc_ring.count_bits"), "OFFSET(prb_desc_ring.count_bits)", l.count_bits));
  VMC_TRY(get(info.offset("prb_desc_ring.descs"), "OFFSET(prb_desc_ring.descs)", l.descs));
  VMC_TRY(get(info.offset("prb_desc_ring.infos"), "OFFSET(prb_desc_ring.infos)", l.infos));
  VMC_TRY(get(info.offset("prb_desc_ring.head_id"), "OFFSET(prb_desc_ring.head_id)", l.head_id));
  VMC_TRY(get(info.offset("prb_desc_ring.tail_id"), "OFFSET(prb_desc_ring.tail_id)", l.tail_id));
  VMC_TRY(get(info.offset("prb_data_ring.size_bits"), "OFFSET(prb_data_ring.size_bits)", l.size_bits));
  VMC_TRY(get(info.offset("prb_data_ring.data"), "OFFSET(prb_data_ring.data)", l.data));
  VMC_TRY(get(info.offset("atomic_long_t.counter"), "OFFSET(atomic_long_t.counter)", l.counter));
  VMC_TRY(get(info.size("prb_desc"), "SIZE(prb_desc)", l.desc_size));
  VMC_TRY(get(info.offset("prb_desc.state_var"), "OFFSET(prb_desc.state_var)", l.state_var));
  VMC_TRY(get(info.offset("prb_desc.text_blk_lpos"), "OFFSET(prb_desc.text_blk_lpos)", l.text_blk_lpos));
  VMC_TRY(get(info.offset("prb_data_blk_lpos.begin"), "OFFSET(prb_data_blk_lpos.begin)", l.lpos_begin));
  VMC_TRY(get(info.offset("prb_data_blk_lpos.next"), "OFFSET(prb_data_blk_lpos.next)", l.lpos_next));
  VMC_TRY(get(info.size("printk_info"), "SIZE(printk_info)", l.info_size));
  VMC_TRY(get(info.offset("printk_info.seq"), "OFFSET(printk_info.seq)", l.seq));
  VMC_TRY(get(info.offset("printk_info.ts_nsec"), "OFFSET(printk_info.ts_nsec)", l.ts_nsec));
  VMC_TRY(get(info.offset("printk_info.text_len"), "OFFSET(printk_info.text_len)", l.text_len));
  l.caller_id = info.offset("printk_info.caller_id");
  l.clear_seq = info.symbol("clear_seq");
  if (info.size("latched_seq")) l.latched_seq_val = info.offset("latched_seq.val");
  l.word = info.size("atomic_long_t").value_or(8);
  if (l.word != 4 && l.word != 8) {
    return Error(ErrorKind::kUnsupported, "SIZE(atomic_long_t)=" + std::to_string(l.word));
  }
  if (!fields_fit(l)) {
    return Error(ErrorKind::kBadInput, "VMCOREINFO printk ring offsets lie outside their structs");
  }
  return l;
}

namespace {

// clear_seq, as the kernel keeps it: a plain u64 before 5.13, then a
// latched_seq whose latch sequence's low bit picks which of val[2] to read.
Result<uint64_t> read_clear_seq(const KernelAddressSpace& kernel, const PrbLayout& l) {
  auto seq = read_uint(kernel, *l.clear_seq, 8, "clear_seq");
  if (!seq.ok() || !l.latched_seq_val) return seq;
  return read_uint(kernel, *l.clear_seq + *l.latched_seq_val + (*seq & 1) * 8, 8, "clear_seq.val");
}

}  // namespace

Result<PrbSnapshot> read_prb(const KernelAddressSpace& kernel, const PrbLayout& l, const DmesgOptions& options) {
  PrbSnapshot r;
  if (options.partial && l.clear_seq) {
    auto seq = read_clear_seq(kernel, l);
    if (!seq.ok()) return std::move(seq).error();
    r.first_seq = *seq;
  }
  auto ptr = read_uint(kernel, l.prb_symbol, l.word, "prb");
  if (!ptr.ok()) return std::move(ptr).error();
  r.ringbuffer_vaddr = *ptr;
  auto rb = read_image(kernel, r.ringbuffer_vaddr, l.ringbuffer_size, "struct printk_ringbuffer");
  if (!rb.ok()) return std::move(rb).error();
  if (!rb->holes().empty()) {
    return Error(ErrorKind::kBadInput,
                 "struct printk_ringbuffer at " + hex(r.ringbuffer_vaddr) + " is only partly in the dump");
  }
  const uint64_t dr = l.desc_ring, tr = l.text_data_ring;
  r.count_bits = rb->u32(dr + l.count_bits);
  r.size_bits = rb->u32(tr + l.size_bits);
  r.head_id = rb->uint(dr + l.head_id + l.counter, l.word);
  r.tail_id = rb->uint(dr + l.tail_id + l.counter, l.word);
  if (r.count_bits > kMaxDescCountBits || r.size_bits > kMaxDataSizeBits || r.size_bits < 3) {
    return Error(ErrorKind::kBadInput, "printk ring at " + hex(r.ringbuffer_vaddr) +
                                           " has implausible count_bits " + std::to_string(r.count_bits) +
                                           " / size_bits " + std::to_string(r.size_bits));
  }
  const uint64_t count = 1ULL << r.count_bits;
  auto descs = read_image(kernel, rb->uint(dr + l.descs, l.word), count * l.desc_size, "printk descriptors");
  if (!descs.ok()) return std::move(descs).error();
  auto infos = read_image(kernel, rb->uint(dr + l.infos, l.word), count * l.info_size, "printk_info array");
  if (!infos.ok()) return std::move(infos).error();
  auto data = read_image(kernel, rb->uint(tr + l.data, l.word), 1ULL << r.size_bits, "printk text data ring");
  if (!data.ok()) return std::move(data).error();
  r.descs = std::move(descs).value();
  r.infos = std::move(infos).value();
  r.data = std::move(data).value();
  return r;
}

DmesgResult decode_prb(const PrbLayout& layout, const PrbSnapshot& ring, DmesgStyle style) {
  DmesgResult out;
  Walker(layout, ring, style, out).run();
  return out;
}

Result<DmesgResult> read_lockless_log(const KernelAddressSpace& kernel, const VmcoreInfo& info,
                                      const DmesgOptions& options) {
  auto layout = PrbLayout::from(info);
  if (!layout.ok()) return std::move(layout).error();
  auto ring = read_prb(kernel, *layout, options);
  if (!ring.ok()) return std::move(ring).error().add_context("printk ring buffer");
  return decode_prb(*layout, *ring, options.style);
}

}  // namespace vmc::dmesg
