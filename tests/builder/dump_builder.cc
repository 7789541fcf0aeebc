// Synthetic ELF cores from a sparse description of physical memory. The
// layout mirrors what x86_64 /proc/vmcore looks like: one PT_NOTE first, then
// one PT_LOAD per segment in the order added, page data page-aligned.
#include "tests/builder/dump_builder.h"

#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <cstdlib>

#include "base/endian.h"
#include "formats/elf_format.h"

namespace vmc::testing {
namespace {

constexpr size_t kPrstatusSize = 336;  // sizeof(struct elf_prstatus) on x86_64

[[noreturn]] void misuse(const std::string& what) {
  std::fprintf(stderr, "DumpBuilder misuse: %s\n", what.c_str());
  std::abort();
}

uint64_t align_up(uint64_t v, uint64_t a) { return (v + a - 1) / a * a; }

void append_note(std::vector<std::byte>& out, std::string_view name, uint32_t type,
                 std::span<const std::byte> desc) {
  elf::Nhdr nh{};
  nh.n_namesz = static_cast<uint32_t>(name.size() + 1);
  nh.n_descsz = static_cast<uint32_t>(desc.size());
  nh.n_type = type;
  size_t at = out.size();
  size_t name_len = elf::note_align(name.size() + 1);
  out.resize(at + sizeof nh + name_len + elf::note_align(desc.size()));
  std::memcpy(out.data() + at, &nh, sizeof nh);
  std::memcpy(out.data() + at + sizeof nh, name.data(), name.size());
  if (!desc.empty()) std::memcpy(out.data() + at + sizeof nh + name_len, desc.data(), desc.size());
}

class XorShift {
 public:
  explicit XorShift(uint64_t seed) : s_(seed * 0x9e3779b97f4a7c15ull + 0x2545f4914f6cdd1dull) {
    if (s_ == 0) s_ = 1;
  }
  uint64_t next() {
    s_ ^= s_ >> 12;
    s_ ^= s_ << 25;
    s_ ^= s_ >> 27;
    return s_ * 0x2545f4914f6cdd1dull;
  }

 private:
  uint64_t s_;
};

std::vector<std::byte> text_bytes(size_t n, uint64_t seed) {
  static constexpr const char* kWords[] = {"kernel", "page",    "memory", "struct", "dentry",
                                           "inode",  "slab",    "the",    "of",     "vmcore",
                                           "0x",     "ffff888", "task",   "mm",     "cpu"};
  XorShift rng(seed);
  std::vector<std::byte> out;
  out.reserve(n);
  while (out.size() < n) {
    std::string w = kWords[rng.next() % std::size(kWords)];
    w += (rng.next() % 8 == 0) ? "\n" : " ";
    for (char c : w) {
      if (out.size() == n) break;
      out.push_back(static_cast<std::byte>(c));
    }
  }
  return out;
}

}  // namespace

std::vector<std::byte> random_bytes(size_t n, uint64_t seed) {
  XorShift rng(seed);
  std::vector<std::byte> out(n);
  for (size_t i = 0; i < n; i += 8) {
    uint64_t v = rng.next();
    std::memcpy(out.data() + i, &v, std::min<size_t>(8, n - i));
  }
  return out;
}

struct DumpBuilder::ElfLayout {
  uint64_t phnum = 0;
  uint64_t phoff = sizeof(elf::Ehdr);
  uint64_t shoff = 0;  // PN_XNUM only
  uint64_t notes_offset = 0;
  std::vector<std::byte> notes;
  std::vector<uint64_t> segment_offsets;
  uint64_t file_size = 0;
};

DumpBuilder::DumpBuilder(uint32_t page_size) : page_size_(page_size) {
  if (page_size == 0 || (page_size & (page_size - 1)) != 0) misuse("page size not a power of 2");
}

DumpBuilder& DumpBuilder::add_ram(uint64_t paddr, uint64_t size, uint64_t vaddr) {
  if (paddr % page_size_ || size % page_size_ || size == 0) {
    misuse("add_ram(" + hex(paddr) + ", " + hex(size) + ") not page aligned");
  }
  segments_.push_back({paddr, size, vaddr, false});
  return *this;
}

DumpBuilder& DumpBuilder::add_kernel_text_segment(uint64_t vaddr, uint64_t paddr, uint64_t size) {
  if (paddr % page_size_ || size % page_size_ || size == 0) misuse("kernel text not page aligned");
  segments_.push_back({paddr, size, vaddr, true});
  return *this;
}

bool DumpBuilder::in_ram(uint64_t paddr, uint64_t len) const {
  // Every byte must be covered by some non-text segment; segments may touch.
  uint64_t pos = paddr, end = paddr + len;
  while (pos < end) {
    bool advanced = false;
    for (const auto& s : segments_) {
      if (!s.kernel_text && pos >= s.paddr && pos < s.paddr + s.size) {
        pos = s.paddr + s.size;
        advanced = true;
      }
    }
    if (!advanced) return false;
  }
  return true;
}

DumpBuilder& DumpBuilder::write_physical(uint64_t paddr, std::span<const std::byte> bytes) {
  if (!in_ram(paddr, bytes.size())) {
    misuse("write_physical(" + hex(paddr) + ", " + std::to_string(bytes.size()) +
           " bytes) outside RAM");
  }
  size_t done = 0;
  while (done < bytes.size()) {
    uint64_t addr = paddr + done;
    uint64_t pfn = addr / page_size_, off = addr % page_size_;
    size_t n = std::min<size_t>(bytes.size() - done, page_size_ - off);
    auto& page = pages_[pfn];
    if (page.empty()) page.resize(page_size_);
    std::memcpy(page.data() + off, bytes.data() + done, n);
    done += n;
  }
  return *this;
}

DumpBuilder& DumpBuilder::fill_page(uint64_t pfn, PageFill kind, uint64_t seed) {
  std::vector<std::byte> bytes(page_size_);
  if (kind == PageFill::kRandom) bytes = random_bytes(page_size_, seed ^ (pfn << 20));
  if (kind == PageFill::kText) bytes = text_bytes(page_size_, seed ^ (pfn << 20));
  return write_physical(pfn * page_size_, bytes);
}

std::vector<std::byte> DumpBuilder::read_physical(uint64_t paddr, size_t len) const {
  std::vector<std::byte> out(len);
  size_t done = 0;
  while (done < len) {
    uint64_t addr = paddr + done;
    uint64_t pfn = addr / page_size_, off = addr % page_size_;
    size_t n = std::min<size_t>(len - done, page_size_ - off);
    if (auto it = pages_.find(pfn); it != pages_.end()) {
      std::memcpy(out.data() + done, it->second.data() + off, n);
    }
    done += n;
  }
  return out;
}

std::vector<std::byte> DumpBuilder::page(uint64_t pfn) const {
  return read_physical(pfn * page_size_, page_size_);
}

std::vector<uint64_t> DumpBuilder::stored_pfns() const {
  std::vector<uint64_t> out;
  out.reserve(pages_.size());
  for (const auto& [pfn, bytes] : pages_) out.push_back(pfn);
  return out;
}

std::vector<std::pair<uint64_t, uint64_t>> DumpBuilder::ram_pfn_ranges() const {
  std::vector<std::pair<uint64_t, uint64_t>> r;
  for (const auto& s : segments_) {
    if (!s.kernel_text) r.emplace_back(s.paddr / page_size_, (s.paddr + s.size) / page_size_);
  }
  std::sort(r.begin(), r.end());
  std::vector<std::pair<uint64_t, uint64_t>> merged;
  for (const auto& x : r) {
    if (!merged.empty() && x.first <= merged.back().second) {
      merged.back().second = std::max(merged.back().second, x.second);
    } else {
      merged.push_back(x);
    }
  }
  return merged;
}

DumpBuilder& DumpBuilder::set_vmcoreinfo(std::string text) {
  vmcoreinfo_ = std::move(text);
  return *this;
}

DumpBuilder& DumpBuilder::append_vmcoreinfo(std::string line) {
  vmcoreinfo_ += line;
  vmcoreinfo_ += '\n';
  return *this;
}

DumpBuilder& DumpBuilder::set_prstatus_notes(int nr_cpus) {
  nr_cpus_ = nr_cpus;
  return *this;
}

DumpBuilder& DumpBuilder::set_elf_flags(uint32_t e_flags) {
  e_flags_ = e_flags;
  return *this;
}

DumpBuilder& DumpBuilder::set_force_pn_xnum(bool on) {
  force_pn_xnum_ = on;
  return *this;
}

std::vector<std::byte> DumpBuilder::notes() const {
  std::vector<std::byte> out;
  std::vector<std::byte> prstatus(kPrstatusSize);
  for (int cpu = 0; cpu < nr_cpus_; ++cpu) {
    // pr_pid at offset 32: give each CPU's note a distinct pid, as a real one has.
    uint32_t pid = static_cast<uint32_t>(cpu + 1);
    std::memcpy(prstatus.data() + 32, &pid, sizeof pid);
    append_note(out, "CORE", elf::kNtPrstatus, prstatus);
  }
  if (!vmcoreinfo_.empty()) {
    append_note(out, "VMCOREINFO", 0, std::as_bytes(std::span(vmcoreinfo_)));
  }
  return out;
}

DumpBuilder::ElfLayout DumpBuilder::layout() const {
  ElfLayout l;
  l.phnum = 1 + segments_.size();
  uint64_t pos = l.phoff + l.phnum * sizeof(elf::Phdr);
  if (force_pn_xnum_) {
    l.shoff = pos;
    pos += sizeof(elf::Shdr);
  }
  l.notes = notes();
  l.notes_offset = pos;
  pos = align_up(pos + l.notes.size(), page_size_);
  for (const auto& s : segments_) {
    l.segment_offsets.push_back(pos);
    pos += s.size;
  }
  l.file_size = pos;
  return l;
}

std::vector<std::byte> DumpBuilder::elf_headers(const ElfLayout& l) const {
  std::vector<std::byte> out(l.notes_offset + l.notes.size());
  elf::Ehdr eh{};
  std::memcpy(eh.e_ident, elf::kMagic, 4);
  eh.e_ident[4] = elf::kClass64;
  eh.e_ident[5] = elf::kData2Lsb;
  eh.e_ident[6] = 1;  // EV_CURRENT
  eh.e_type = elf::kTypeCore;
  eh.e_machine = elf::kMachineX86_64;
  eh.e_version = 1;
  eh.e_phoff = l.phoff;
  eh.e_flags = e_flags_;
  eh.e_ehsize = sizeof(elf::Ehdr);
  eh.e_phentsize = sizeof(elf::Phdr);
  bool xnum = force_pn_xnum_ || l.phnum >= elf::kPnXnum;
  eh.e_phnum = xnum ? elf::kPnXnum : static_cast<uint16_t>(l.phnum);
  if (force_pn_xnum_) {
    eh.e_shoff = l.shoff;
    eh.e_shentsize = sizeof(elf::Shdr);
    eh.e_shnum = 1;
    elf::Shdr sh{};
    sh.sh_info = static_cast<uint32_t>(l.phnum);
    std::memcpy(out.data() + l.shoff, &sh, sizeof sh);
  }
  std::memcpy(out.data(), &eh, sizeof eh);

  std::vector<elf::Phdr> ph(l.phnum);
  ph[0].p_type = elf::kPtNote;
  ph[0].p_offset = l.notes_offset;
  ph[0].p_filesz = l.notes.size();
  ph[0].p_memsz = l.notes.size();
  for (size_t i = 0; i < segments_.size(); ++i) {
    const auto& s = segments_[i];
    auto& p = ph[i + 1];
    p.p_type = elf::kPtLoad;
    p.p_flags = 7;  // RWX, as the kernel writes them
    p.p_offset = l.segment_offsets[i];
    p.p_vaddr = s.vaddr;
    p.p_paddr = s.paddr;
    p.p_filesz = s.size;
    p.p_memsz = s.size;
  }
  std::memcpy(out.data() + l.phoff, ph.data(), ph.size() * sizeof(elf::Phdr));
  if (!l.notes.empty()) std::memcpy(out.data() + l.notes_offset, l.notes.data(), l.notes.size());
  return out;
}

std::vector<std::byte> DumpBuilder::build_elf() const {
  ElfLayout l = layout();
  std::vector<std::byte> out = elf_headers(l);
  out.resize(l.file_size);
  for (size_t i = 0; i < segments_.size(); ++i) {
    const auto& s = segments_[i];
    uint64_t first = s.paddr / page_size_, last = (s.paddr + s.size) / page_size_;
    for (auto it = pages_.lower_bound(first); it != pages_.end() && it->first < last; ++it) {
      uint64_t at = l.segment_offsets[i] + (it->first - first) * page_size_;
      std::memcpy(out.data() + at, it->second.data(), page_size_);
    }
  }
  return out;
}

Status DumpBuilder::write_elf(const std::string& path) const {
  ElfLayout l = layout();
  int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
  if (fd < 0) return errno_error("cannot create " + path);
  auto fail = [&](const std::string& what) {
    Error e = errno_error(what + " " + path);
    ::close(fd);
    return e;
  };
  if (::ftruncate(fd, static_cast<off_t>(l.file_size)) != 0) return fail("cannot size");
  auto put = [&](uint64_t off, std::span<const std::byte> b) {
    return ::pwrite(fd, b.data(), b.size(), static_cast<off_t>(off)) ==
           static_cast<ssize_t>(b.size());
  };
  if (!put(0, elf_headers(l))) return fail("cannot write headers of");
  for (size_t i = 0; i < segments_.size(); ++i) {
    const auto& s = segments_[i];
    uint64_t first = s.paddr / page_size_, last = (s.paddr + s.size) / page_size_;
    for (auto it = pages_.lower_bound(first); it != pages_.end() && it->first < last; ++it) {
      if (!put(l.segment_offsets[i] + (it->first - first) * page_size_, it->second)) {
        return fail("cannot write page data of");
      }
    }
  }
  if (::close(fd) != 0) return errno_error("cannot close " + path);
  return {};
}

namespace {

// The file build_elf() makes, assembled on each read: headers and notes from a
// copy, page data from a snapshot of the stored pages, zeros elsewhere. The
// machines described are GiBs of RAM with a few MiB stored; building the
// whole file cost seconds per dump (tens under ASan), reads cost what they read.
class BuiltElfInput final : public io::InputFile {
 public:
  struct Load {
    uint64_t offset, first_pfn, end_pfn;
  };
  BuiltElfInput(std::string name, uint64_t size, uint32_t page_size, std::vector<std::byte> head,
                std::vector<Load> loads, std::map<uint64_t, std::vector<std::byte>> pages)
      : name_(std::move(name)),
        size_(size),
        page_size_(page_size),
        head_(std::move(head)),
        loads_(std::move(loads)),
        pages_(std::move(pages)) {}
  const std::string& name() const override { return name_; }
  uint64_t size() const override { return size_; }
  Status read_at(uint64_t offset, std::span<std::byte> out) override {
    if (out.empty()) return {};
    if (offset > size_ || out.size() > size_ - offset) {
      return Error(ErrorKind::kBadInput, "unexpected end of file reading " + std::to_string(out.size()) +
                                             " bytes at offset " + std::to_string(offset) + " of " + name_);
    }
    const uint64_t end = offset + out.size();
    std::memset(out.data(), 0, out.size());
    auto copy = [&](uint64_t at, std::span<const std::byte> src) {  // src lies at file offset `at`
      uint64_t b = std::max(at, offset), e = std::min(at + src.size(), end);
      if (b < e) std::memcpy(out.data() + (b - offset), src.data() + (b - at), e - b);
    };
    copy(0, head_);
    for (const Load& l : loads_) {
      uint64_t l_end = l.offset + (l.end_pfn - l.first_pfn) * page_size_;
      if (l_end <= offset || l.offset >= end) continue;
      uint64_t first = l.first_pfn + (std::max(offset, l.offset) - l.offset) / page_size_;
      uint64_t last = l.first_pfn + (std::min(end, l_end) - l.offset + page_size_ - 1) / page_size_;
      for (auto it = pages_.lower_bound(first); it != pages_.end() && it->first < last; ++it) {
        copy(l.offset + (it->first - l.first_pfn) * page_size_, it->second);
      }
    }
    return {};
  }
  // As a dump file is: the engine reads page data into its own buffers.
  bool prefers_read() const override { return true; }

 private:
  std::string name_;
  uint64_t size_;
  uint32_t page_size_;
  std::vector<std::byte> head_;
  std::vector<Load> loads_;
  std::map<uint64_t, std::vector<std::byte>> pages_;
};

}  // namespace

std::unique_ptr<io::InputFile> DumpBuilder::elf_input(std::string name) const {
  ElfLayout l = layout();
  std::vector<BuiltElfInput::Load> loads;
  std::map<uint64_t, std::vector<std::byte>> pages;
  for (size_t i = 0; i < segments_.size(); ++i) {
    const auto& s = segments_[i];
    uint64_t first = s.paddr / page_size_, last = (s.paddr + s.size) / page_size_;
    loads.push_back({l.segment_offsets[i], first, last});
    pages.insert(pages_.lower_bound(first), pages_.lower_bound(last));
  }
  return std::make_unique<BuiltElfInput>(std::move(name), l.file_size, page_size_, elf_headers(l),
                                         std::move(loads), std::move(pages));
}

}  // namespace vmc::testing
