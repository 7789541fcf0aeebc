// Why emulate the kernel's writer instead of placing records by hand: the
// shapes that break readers (a text block wrapped to the ring's start, ids
// wrapping past the 62-bit mask, recycled descriptors at the tail, the len == 0
// wrap marker) then appear exactly where a real kernel would put them.
#include "tests/builder/printk_layout.h"

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <cstring>

namespace vmc::testing {
namespace {

[[noreturn]] void misuse(const std::string& what) {
  std::fprintf(stderr, "printk builder misuse: %s\n", what.c_str());
  std::abort();
}

template <typename T>
void put(std::span<std::byte> buf, size_t off, T value) {
  if (off + sizeof(T) > buf.size()) misuse("write past the end of a buffer");
  std::memcpy(buf.data() + off, &value, sizeof(T));  // x86_64: little-endian host layout
}

void put_string(std::span<std::byte> buf, size_t off, std::string_view s, size_t room) {
  if (off + room > buf.size()) misuse("write past the end of a buffer");
  std::memcpy(buf.data() + off, s.data(), std::min(s.size(), room - 1));
}

std::string line(const char* key, uint64_t value, bool hex_value = false) {
  char buf[128];
  std::snprintf(buf, sizeof buf, hex_value ? "%s=%llx\n" : "%s=%llu\n", key,
                static_cast<unsigned long long>(value));
  return buf;
}

uint64_t align(uint64_t v, uint64_t a) { return (v + a - 1) / a * a; }

}  // namespace

// ---- Lockless ring ------------------------------------------------------

LocklessRingBuilder::LocklessRingBuilder(uint32_t count_bits, uint32_t size_bits, bool last_finalized_seq)
    : descs_(1ULL << count_bits),
      infos_(1ULL << count_bits),
      data_(1ULL << size_bits),
      count_bits_(count_bits),
      size_bits_(size_bits),
      desc_ring_size_(last_finalized_seq ? 48 : 40) {
  // _DEFINE_PRINTKRB: DESC0_ID is the initial head and tail, reusable with no
  // data; info[0].seq starts at -count so the first record gets seq 0.
  const uint64_t count = descs_.size();
  head_id_ = tail_id_ = (0 - (count + 1)) & kIdMask;
  descs_[index(head_id_)].state_var = (uint64_t{kReusable} << 62) | head_id_;
  infos_[0].seq = 0 - count;
  infos_[count - 1].seq = 0;
  head_lpos_ = tail_lpos_ = 0 - data_.size();  // BLK0_LPOS
}

void LocklessRingBuilder::set_lpos(uint64_t id, uint64_t begin, uint64_t next) {
  descs_[index(id)].begin = begin;
  descs_[index(id)].next = next;
}

void LocklessRingBuilder::poke_data(uint64_t offset, std::span<const std::byte> bytes) {
  if (offset + bytes.size() > data_.size()) misuse("poke_data past the ring");
  std::memcpy(data_.data() + offset, bytes.data(), bytes.size());
}

// data_push_tail(): invalidates (makes reusable) every record whose text
// block lies before lpos, oldest first.
void LocklessRingBuilder::push_data_tail(uint64_t lpos) {
  while (static_cast<int64_t>(tail_lpos_ - lpos) < 0) {
    uint64_t id = 0;
    std::memcpy(&id, data_.data() + tail_lpos_ % data_.size(), sizeof id);
    Desc& d = descs_[index(id)];
    if ((d.state_var & kIdMask) != id || d.begin != tail_lpos_) misuse("data tail lost its descriptor");
    d.state_var = (uint64_t{kReusable} << 62) | id;
    tail_lpos_ = d.next;
  }
}

// desc_push_tail(): the oldest descriptor's data goes first, then the
// descriptor itself is recycled.
void LocklessRingBuilder::push_desc_tail() {
  const Desc& d = descs_[index(tail_id_)];
  if (d.begin != d.next && (d.begin & 1) == 0) push_data_tail(d.next);
  descs_[index(tail_id_)].state_var = (uint64_t{kReusable} << 62) | tail_id_;
  tail_id_ = (tail_id_ + 1) & kIdMask;
}

// data_alloc() / get_next_lpos(): a block that would cross the ring's end is
// placed at its start, and its id is written at both places.
bool LocklessRingBuilder::alloc_data(uint64_t id, size_t text_len, uint64_t& begin, uint64_t& next) {
  const uint64_t size = align(sizeof(uint64_t) + text_len, sizeof(uint64_t));
  if (size > data_.size() / 2) misuse("record text larger than half the data ring");
  begin = head_lpos_;
  next = begin + size;
  if (wraps(begin) != wraps(next)) next = next - next % data_.size() + size;
  push_data_tail(next - data_.size());
  put(std::span(data_), begin % data_.size(), id);
  if (wraps(begin) != wraps(next)) put(std::span(data_), 0, id);
  head_lpos_ = next;
  return true;
}

uint64_t LocklessRingBuilder::add(const PrintkRecord& r, State state) {
  const uint64_t id = (head_id_ + 1) & kIdMask;
  if (((id - count()) & kIdMask) == tail_id_) push_desc_tail();
  // prb_reserve() finalizes the previous record once a new one is reserved.
  Desc& prev = descs_[index(head_id_)];
  if ((prev.state_var & kIdMask) == head_id_ && (prev.state_var >> 62) == kCommitted) {
    prev.state_var = (uint64_t{kFinalized} << 62) | head_id_;
  }
  Info& info = infos_[index(id)];
  const uint64_t old_seq = info.seq;
  info = Info{};
  info.seq = (old_seq == 0 && index(id) != 0) ? index(id) : old_seq + count();

  Desc& d = descs_[index(id)];
  if (r.text.empty()) {
    d.begin = d.next = kEmptyLineLpos;
  } else {
    alloc_data(id, r.text.size(), d.begin, d.next);
    uint64_t at = (wraps(d.begin) != wraps(d.next) ? 0 : d.begin % data_.size()) + sizeof(uint64_t);
    std::memcpy(data_.data() + at, r.text.data(), r.text.size());
  }
  d.state_var = (uint64_t{state} << 62) | id;
  info.ts_nsec = r.ts_nsec;
  info.text_len = static_cast<uint16_t>(r.text.size());
  info.facility = r.facility;
  info.level = r.level;
  info.caller_id = r.caller_id;
  info.subsystem = r.subsystem;
  info.device = r.device;
  head_id_ = id;
  return id;
}

// x86_64 struct layouts (pahole): printk_ringbuffer is prb_desc_ring, then
// prb_data_ring (32 bytes), then atomic_long_t fail; prb_desc 24, printk_info 88.
namespace {
constexpr uint64_t kDescSize = 24, kInfoSize = 88, kDataRingSize = 32;
constexpr uint64_t kDescRing = 0;
}  // namespace

LocklessRingBuilder::Addresses LocklessRingBuilder::addresses(const PrintkPlacement& p) const {
  Addresses a;
  a.prb = p.va(p.symbols_pa);
  a.ring = p.va(p.buffers_pa);
  a.descs = a.ring + 128;
  a.infos = align(a.descs + count() * kDescSize, 64);
  a.data = align(a.infos + count() * kInfoSize, 4096);
  return a;
}

std::string LocklessRingBuilder::vmcoreinfo_lines(const Addresses& a) const {
  std::string s;
  s += line("SYMBOL(prb)", a.prb, true);
  s += line("SYMBOL(printk_rb_static)", a.ring, true);
  s += line("SYMBOL(clear_seq)", a.prb + 0x40, true);
  s += line("SIZE(printk_ringbuffer)", desc_ring_size_ + kDataRingSize + 8);
  s += "OFFSET(printk_ringbuffer.desc_ring)=0\n";
  s += line("OFFSET(printk_ringbuffer.text_data_ring)", desc_ring_size_);
  s += line("OFFSET(printk_ringbuffer.fail)", desc_ring_size_ + kDataRingSize);
  s += line("SIZE(prb_desc_ring)", desc_ring_size_);
  s += "OFFSET(prb_desc_ring.count_bits)=0\nOFFSET(prb_desc_ring.descs)=8\n"
       "OFFSET(prb_desc_ring.infos)=16\nOFFSET(prb_desc_ring.head_id)=24\nOFFSET(prb_desc_ring.tail_id)=32\n"
       "SIZE(prb_desc)=24\nOFFSET(prb_desc.state_var)=0\nOFFSET(prb_desc.text_blk_lpos)=8\n"
       "SIZE(prb_data_blk_lpos)=16\nOFFSET(prb_data_blk_lpos.begin)=0\nOFFSET(prb_data_blk_lpos.next)=8\n"
       "SIZE(printk_info)=88\nOFFSET(printk_info.seq)=0\nOFFSET(printk_info.ts_nsec)=8\n"
       "OFFSET(printk_info.text_len)=16\nOFFSET(printk_info.caller_id)=20\nOFFSET(printk_info.dev_info)=24\n"
       "SIZE(dev_printk_info)=64\nOFFSET(dev_printk_info.subsystem)=0\nLENGTH(printk_info_subsystem)=16\n"
       "OFFSET(dev_printk_info.device)=16\nLENGTH(printk_info_device)=48\n"
       "SIZE(prb_data_ring)=32\nOFFSET(prb_data_ring.size_bits)=0\nOFFSET(prb_data_ring.data)=8\n"
       "OFFSET(prb_data_ring.head_lpos)=16\nOFFSET(prb_data_ring.tail_lpos)=24\n"
       "SIZE(atomic_long_t)=8\nOFFSET(atomic_long_t.counter)=0\n";
  if (latched_clear_seq_) s += "SIZE(latched_seq)=24\nOFFSET(latched_seq.val)=8\n";
  return s;
}

void LocklessRingBuilder::write(DumpBuilder& b, const PrintkPlacement& p) const {
  const Addresses a = addresses(p);
  const auto pa = [&](uint64_t va) { return va - p.va_offset; };
  b.write_value(pa(a.prb), a.ring);
  if (latched_clear_seq_) {
    b.write_value<uint64_t>(pa(a.prb + 0x40), 5);  // the latch: odd, readers take val[1]
    b.write_value<uint64_t>(pa(a.prb + 0x48), clear_seq_ + 1000);  // val[0], stale
    b.write_value<uint64_t>(pa(a.prb + 0x50), clear_seq_);
  } else {
    b.write_value<uint64_t>(pa(a.prb + 0x40), clear_seq_);
  }

  const uint64_t text_ring = desc_ring_size_;  // prb_data_ring follows prb_desc_ring
  std::vector<std::byte> ring(desc_ring_size_ + kDataRingSize + 8);
  put<uint32_t>(ring, kDescRing + 0, count_bits_);
  put<uint64_t>(ring, kDescRing + 8, a.descs);
  put<uint64_t>(ring, kDescRing + 16, a.infos);
  put<uint64_t>(ring, kDescRing + 24, head_id_);
  put<uint64_t>(ring, kDescRing + 32, tail_id_);
  put<uint32_t>(ring, text_ring + 0, size_bits_);
  put<uint64_t>(ring, text_ring + 8, a.data);
  put<uint64_t>(ring, text_ring + 16, head_lpos_);
  put<uint64_t>(ring, text_ring + 24, tail_lpos_);
  b.write_physical(pa(a.ring), ring);

  std::vector<std::byte> descs(count() * kDescSize), infos(count() * kInfoSize);
  for (uint64_t i = 0; i < count(); ++i) {
    put<uint64_t>(descs, i * kDescSize + 0, descs_[i].state_var);
    put<uint64_t>(descs, i * kDescSize + 8, descs_[i].begin);
    put<uint64_t>(descs, i * kDescSize + 16, descs_[i].next);
    const Info& in = infos_[i];
    const uint64_t o = i * kInfoSize;
    put<uint64_t>(infos, o + 0, in.seq);
    put<uint64_t>(infos, o + 8, in.ts_nsec);
    put<uint16_t>(infos, o + 16, in.text_len);
    put<uint8_t>(infos, o + 18, in.facility);
    put<uint8_t>(infos, o + 19, static_cast<uint8_t>(in.level << 5));
    put<uint32_t>(infos, o + 20, in.caller_id);
    put_string(infos, o + 24, in.subsystem, 16);
    put_string(infos, o + 40, in.device, 48);
  }
  b.write_physical(pa(a.descs), descs);
  b.write_physical(pa(a.infos), infos);
  b.write_physical(pa(a.data), data_);
  b.set_vmcoreinfo(b.vmcoreinfo() + vmcoreinfo_lines(a));
}

// ---- Structured log -----------------------------------------------------

namespace {
// struct printk_log, packed, __aligned(4) on x86_64.
constexpr uint32_t kTs = 0, kLen = 8, kTextLen = 10, kDictLen = 12, kFacility = 14, kFlagsLevel = 15,
                   kCallerId = 16, kLogAlign = 4;
}  // namespace

StructuredLogBuilder::StructuredLogBuilder(Options options)
    : options_(std::move(options)), buf_(options_.buf_len) {}

void StructuredLogBuilder::set_len(uint32_t idx, uint16_t len) { put(std::span(buf_), idx + kLen, len); }
void StructuredLogBuilder::set_text_len(uint32_t idx, uint16_t len) {
  put(std::span(buf_), idx + kTextLen, len);
}

uint32_t StructuredLogBuilder::record_after(uint32_t idx) const {
  uint16_t len = 0;
  std::memcpy(&len, buf_.data() + idx + kLen, sizeof len);
  if (len == 0) {  // log_next(): a wrap marker sends us to the record at 0
    std::memcpy(&len, buf_.data() + kLen, sizeof len);
    return len;
  }
  return idx + len;
}

// logbuf_has_space(): room for the record and a wrap marker after it.
bool StructuredLogBuilder::has_space(uint32_t size) const {
  const bool empty = first_seq_ == next_seq_;
  const uint32_t len = options_.buf_len;
  uint32_t free_bytes =
      (next_idx_ > first_idx_ || empty) ? std::max(len - next_idx_, first_idx_) : first_idx_ - next_idx_;
  return free_bytes >= size + header_size();
}

void StructuredLogBuilder::add(const PrintkRecord& r) {
  const uint32_t hdr = header_size();
  uint32_t size = static_cast<uint32_t>(hdr + r.text.size() + r.dict.size());
  size = static_cast<uint32_t>(align(size, kLogAlign));
  if (size + hdr > options_.buf_len / 2) misuse("record larger than half of log_buf");
  while (first_seq_ < next_seq_ && !has_space(size)) {  // log_make_free_space()
    first_idx_ = record_after(first_idx_);
    ++first_seq_;
    ++dropped_;
  }
  if (next_idx_ + size + hdr > options_.buf_len) {
    std::memset(buf_.data() + next_idx_, 0, hdr);
    next_idx_ = 0;
  }
  std::span<std::byte> b(buf_);
  std::memset(buf_.data() + next_idx_, 0, size);
  put<uint64_t>(b, next_idx_ + kTs, r.ts_nsec);
  put<uint16_t>(b, next_idx_ + kLen, static_cast<uint16_t>(size));
  put<uint16_t>(b, next_idx_ + kTextLen, static_cast<uint16_t>(r.text.size()));
  put<uint16_t>(b, next_idx_ + kDictLen, static_cast<uint16_t>(r.dict.size()));
  put<uint8_t>(b, next_idx_ + kFacility, r.facility);
  put<uint8_t>(b, next_idx_ + kFlagsLevel, static_cast<uint8_t>((r.level << 5) | (r.flags & 0x1f)));
  if (options_.caller_id) put<uint32_t>(b, next_idx_ + kCallerId, r.caller_id);
  std::memcpy(buf_.data() + next_idx_ + hdr, r.text.data(), r.text.size());
  std::memcpy(buf_.data() + next_idx_ + hdr + r.text.size(), r.dict.data(), r.dict.size());
  next_idx_ += size;
  ++next_seq_;
}

void StructuredLogBuilder::write(DumpBuilder& b, const PrintkPlacement& p) const {
  const uint64_t sym = p.symbols_pa;
  b.write_value<uint64_t>(sym + 0, log_buf_va(p));
  b.write_value<uint32_t>(sym + 8, options_.buf_len);
  b.write_value<uint32_t>(sym + 16, first_idx_);
  b.write_value<uint32_t>(sym + 24, next_idx_);
  b.write_value<uint32_t>(sym + 32, clear_idx_.value_or(first_idx_));
  b.write_physical(p.buffers_pa, buf_);
  const std::string& n = options_.struct_name;
  std::string s;
  s += line("SYMBOL(log_buf)", p.va(sym + 0), true);
  s += line("SYMBOL(log_buf_len)", p.va(sym + 8), true);
  s += line("SYMBOL(log_first_idx)", p.va(sym + 16), true);
  s += line("SYMBOL(clear_idx)", p.va(sym + 32), true);
  s += line("SYMBOL(log_next_idx)", p.va(sym + 24), true);
  s += line(("SIZE(" + n + ")").c_str(), header_size());
  s += line(("OFFSET(" + n + ".ts_nsec)").c_str(), kTs);
  s += line(("OFFSET(" + n + ".len)").c_str(), kLen);
  s += line(("OFFSET(" + n + ".text_len)").c_str(), kTextLen);
  s += line(("OFFSET(" + n + ".dict_len)").c_str(), kDictLen);
  if (options_.caller_id) s += line(("OFFSET(" + n + ".caller_id)").c_str(), kCallerId);
  b.set_vmcoreinfo(b.vmcoreinfo() + s);
}

// ---- Legacy buffer ------------------------------------------------------

void LegacyLogBuilder::append(std::string_view text) {
  for (char c : text) {
    buf_[log_end_ % buf_.size()] = static_cast<std::byte>(c);
    ++log_end_;
    if (logged_chars_ < buf_.size()) ++logged_chars_;
  }
}

void LegacyLogBuilder::write(DumpBuilder& b, const PrintkPlacement& p, bool with_logged_chars) const {
  const uint64_t sym = p.symbols_pa;
  b.write_value<uint64_t>(sym + 0, p.va(p.buffers_pa));
  b.write_value<uint32_t>(sym + 8, log_end_);
  b.write_value<int32_t>(sym + 16, static_cast<int32_t>(buf_.size()));
  b.write_value<uint32_t>(sym + 24, logged_chars_);
  b.write_physical(p.buffers_pa, buf_);
  std::string s;
  s += line("SYMBOL(log_buf)", p.va(sym + 0), true);
  s += line("SYMBOL(log_end)", p.va(sym + 8), true);
  s += line("SYMBOL(log_buf_len)", p.va(sym + 16), true);
  if (with_logged_chars) s += line("SYMBOL(logged_chars)", p.va(sym + 24), true);
  b.set_vmcoreinfo(b.vmcoreinfo() + s);
}

}  // namespace vmc::testing
