// Raw physical memory (see raw_memory_reader.h). This file only finds the
// description of the memory (an ELF core header in old memory, or the user's
// ranges) and checks it against the image; the ELF core reader does the rest,
// so raw images get the same page service, overlap handling and bounded mmap
// windows as /proc/vmcore.
#include "formats/raw_memory_reader.h"

#include <algorithm>
#include <cctype>
#include <charconv>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "base/checked_reader.h"
#include "formats/elf_core_reader.h"
#include "formats/elf_format.h"

namespace vmc {
namespace {

Error invalid(std::string what) { return Error(ErrorKind::kInvalidArgument, std::move(what)); }

// ---- numbers ---------------------------------------------------------------

// A number in C syntax (0x hex, leading-0 octal, decimal), as the kernel's
// simple_strtoull(..., 0) reads it; the rest of the text is left in s.
std::optional<uint64_t> take_c_number(std::string_view& s) {
  int base = 10;
  std::string_view digits = s;
  if (digits.size() > 1 && digits[0] == '0' && (digits[1] == 'x' || digits[1] == 'X')) {
    base = 16;
    digits.remove_prefix(2);
  } else if (digits.size() > 1 && digits[0] == '0') {
    base = 8;
  }
  uint64_t v = 0;
  auto [end, ec] = std::from_chars(digits.data(), digits.data() + digits.size(), v, base);
  if (ec != std::errc() || end == digits.data()) return std::nullopt;
  s.remove_prefix(static_cast<size_t>(end - s.data()));
  return v;
}

// memparse(): a C number and an optional binary suffix.
std::optional<uint64_t> take_memparse(std::string_view& s) {
  auto v = take_c_number(s);
  if (!v || s.empty()) return v;
  static constexpr std::string_view kSuffixes = "KMGTPE";
  auto at = kSuffixes.find(static_cast<char>(std::toupper(static_cast<unsigned char>(s[0]))));
  if (at == std::string_view::npos) return v;
  unsigned shift = 10 * static_cast<unsigned>(at + 1);
  if (*v > (~uint64_t{0} >> shift)) return std::nullopt;
  s.remove_prefix(1);
  return *v << shift;
}

std::optional<uint64_t> parse_hex(std::string_view s) {
  if (s.starts_with("0x") || s.starts_with("0X")) s.remove_prefix(2);
  uint64_t v = 0;
  auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), v, 16);
  if (ec != std::errc() || end != s.data() + s.size() || s.empty()) return std::nullopt;
  return v;
}

// ---- inputs ------------------------------------------------------------------

// /dev/oldmem reports no size (a character device): present it as unbounded,
// so that the header's ranges are taken as they are and a read past the real
// end fails where it happens.
class UnsizedInput final : public io::InputFile {
 public:
  explicit UnsizedInput(std::unique_ptr<io::InputFile> inner) : inner_(std::move(inner)) {}
  const std::string& name() const override { return inner_->name(); }
  uint64_t size() const override { return ~uint64_t{0} >> 1; }
  Status read_at(uint64_t offset, std::span<std::byte> out) override {
    return inner_->read_at(offset, out);
  }
  Result<io::ByteView> view(uint64_t offset, uint64_t length) override {
    return inner_->view(offset, length);
  }
  bool prefers_read() const override { return inner_->prefers_read(); }

 private:
  std::unique_ptr<io::InputFile> inner_;
};

Result<std::string> read_text(const std::string& path, const char* what) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return errno_error(std::string("cannot open ") + what + " " + path);
  std::ostringstream s;
  s << in.rdbuf();
  return s.str();
}

std::string show_bytes(std::span<const std::byte> bytes) {
  static const char kHex[] = "0123456789abcdef";
  std::string out;
  for (std::byte b : bytes) {
    auto c = static_cast<unsigned char>(b);
    if (!out.empty()) out += ' ';
    out += kHex[c >> 4];
    out += kHex[c & 15];
  }
  return out;
}

// ---- with an ELF core header ---------------------------------------------------

Result<uint64_t> header_address(const RawMemoryOptions& o, RawInput kind, const std::string& image) {
  if (o.elfcorehdr) return *o.elfcorehdr;
  if (!kind.oldmem) {
    return invalid(image + ": raw memory needs the address of its ELF core header "
                   "(--elfcorehdr ADDR) or its RAM ranges (--mem-ranges)");
  }
  auto cmdline = read_text(o.cmdline_path, "the kernel command line");
  if (!cmdline) {
    return std::move(cmdline).error().add_context("looking for elfcorehdr= to read " + image);
  }
  auto addr = elfcorehdr_from_cmdline(*cmdline);
  if (!addr) return std::move(addr).error().add_context(o.cmdline_path);
  if (!*addr) {
    return invalid("no elfcorehdr= in " + o.cmdline_path + ": reading " + image +
                   " needs the address of the ELF core header in old memory (is this a "
                   "kdump capture kernel?); give it with --elfcorehdr ADDR, or give "
                   "--mem-ranges and -i VMCOREINFO");
  }
  return **addr;
}

// The header must lie inside the image and start with an ELF header; what
// that header says is then the ELF core reader's to judge.
Status check_header_at(io::InputFile& in, uint64_t addr, bool sized) {
  const std::string where = "elfcorehdr=" + hex(addr);
  if (sized && !fits_within(addr, sizeof(elf::Ehdr), in.size())) {
    return Error(ErrorKind::kBadInput,
                 where + " is outside " + in.name() + ", which holds physical memory 0-" +
                     hex(in.size()) + " (" + std::to_string(in.size()) +
                     " bytes): wrong address, or an image of another machine?");
  }
  std::vector<std::byte> head(sizeof(elf::Ehdr));
  if (auto s = in.read_at(addr, head); !s) {
    return std::move(s).error().add_context("reading the ELF core header at " + where);
  }
  if (!looks_like_elf(head)) {
    return Error(ErrorKind::kBadInput,
                 "no ELF core header at " + where + " in " + in.name() +
                     ": the bytes there are " + show_bytes(std::span(head).first(16)) +
                     " (wrong address, or not the memory of the crashed kernel?)");
  }
  return {};
}

Result<std::unique_ptr<PhysicalMemory>> open_with_header(std::unique_ptr<io::InputFile> in,
                                                         uint64_t addr, bool sized) {
  VMC_TRY(check_header_at(*in, addr, sized));
  ElfCoreLayout layout;
  layout.format_name = "raw";
  layout.header_offset = addr;
  layout.loads_must_fit = sized;
  auto memory = open_elf_core_at(std::move(in), std::move(layout));
  if (!memory) {
    return std::move(memory).error().add_context("reading the ELF core header at elfcorehdr=" +
                                                 hex(addr));
  }
  if ((*memory)->ram().empty()) {
    return Error(ErrorKind::kBadInput, "the ELF core header at elfcorehdr=" + hex(addr) +
                                           " describes no memory (no PT_LOAD with pages)");
  }
  return memory;
}

// ---- without a header ----------------------------------------------------------

// The user's ranges as PT_LOADs with p_offset == p_paddr. VMCOREINFO is not
// the reader's business here: -i gives it for any input (collector/cli/run.cc
// filters with it and puts it into the output's notes).
Result<std::unique_ptr<PhysicalMemory>> open_with_ranges(std::unique_ptr<io::InputFile> in,
                                                         const RawMemoryOptions& o, bool sized) {
  std::vector<elf::Phdr> phdrs;
  for (auto [start, end] : o.ranges) {
    if (sized && !fits_within(start, end - start, in->size())) {
      return Error(ErrorKind::kBadInput, "memory range " + hex(start) + "-" + hex(end - 1) +
                                             " lies outside " + in->name() +
                                             ", which holds physical memory 0-" +
                                             hex(in->size()) + " (--mem-ranges)");
    }
    elf::Phdr ph{};
    ph.p_type = elf::kPtLoad;
    ph.p_offset = start;
    ph.p_paddr = start;
    ph.p_filesz = end - start;
    ph.p_memsz = end - start;
    phdrs.push_back(ph);
  }
  ElfCoreLayout layout;
  layout.format_name = "raw";
  layout.loads_must_fit = sized;
  layout.program_headers = std::move(phdrs);
  auto memory = open_elf_core_at(std::move(in), std::move(layout));
  if (!memory) return std::move(memory).error().add_context("--mem-ranges");
  return memory;
}

}  // namespace

bool is_oldmem_path(const std::string& path) {
  if (path == "/dev/oldmem") return true;
  std::error_code ec;
  auto canonical = std::filesystem::weakly_canonical(path, ec);
  return !ec && canonical == "/dev/oldmem";
}

Result<uint64_t> parse_elfcorehdr(std::string_view value) {
  std::string_view s = value;
  auto bad = [&] {
    return invalid("elfcorehdr value '" + std::string(value) +
                   "' is not [SIZE@]ADDRESS (numbers as the kernel reads them, e.g. "
                   "0x28f6d000 or 671092K)");
  };
  auto first = take_memparse(s);
  if (!first) return bad();
  if (!s.empty() && s[0] == '@') {
    s.remove_prefix(1);
    first = take_memparse(s);
    if (!first) return bad();
  }
  if (!s.empty()) return bad();
  return *first;
}

Result<std::optional<uint64_t>> elfcorehdr_from_cmdline(std::string_view cmdline) {
  std::optional<uint64_t> found;
  size_t pos = 0;
  while (pos < cmdline.size()) {
    while (pos < cmdline.size() && std::isspace(static_cast<unsigned char>(cmdline[pos]))) ++pos;
    size_t end = pos;
    while (end < cmdline.size() && !std::isspace(static_cast<unsigned char>(cmdline[end]))) ++end;
    std::string_view word = cmdline.substr(pos, end - pos);
    if (word.starts_with("elfcorehdr=")) {
      auto v = parse_elfcorehdr(word.substr(11));
      if (!v) return std::move(v).error();
      found = *v;
    }
    pos = end;
  }
  return found;
}

Result<std::vector<std::pair<uint64_t, uint64_t>>> parse_mem_ranges(std::string_view text) {
  std::vector<std::pair<uint64_t, uint64_t>> out;
  auto bad = [&](std::string_view item, const char* why) {
    return invalid("--mem-ranges: '" + std::string(item) + "' " + why +
                   " (want START-END[,START-END...], hex, END inclusive as /proc/iomem prints)");
  };
  for (size_t pos = 0, comma = 0; comma != std::string_view::npos; pos = comma + 1) {
    comma = text.find(',', pos);
    std::string_view item = text.substr(pos, comma == std::string_view::npos ? comma : comma - pos);
    auto dash = item.find('-');
    if (dash == std::string_view::npos) return bad(item, "has no '-'");
    auto start = parse_hex(item.substr(0, dash)), last = parse_hex(item.substr(dash + 1));
    if (!start || !last) return bad(item, "is not two hex numbers");
    if (*last < *start) return bad(item, "ends before it starts");
    if (*last == ~uint64_t{0}) return bad(item, "reaches the end of the address space");
    out.emplace_back(*start, *last + 1);
  }
  std::sort(out.begin(), out.end());
  for (size_t i = 1; i < out.size(); ++i) {
    if (out[i].first < out[i - 1].second) {
      return invalid("--mem-ranges: " + hex(out[i].first) + "-" + hex(out[i].second - 1) +
                     " overlaps " + hex(out[i - 1].first) + "-" + hex(out[i - 1].second - 1));
    }
  }
  return out;
}

Result<std::unique_ptr<PhysicalMemory>> open_raw_memory(std::unique_ptr<io::InputFile> input,
                                                        const RawMemoryOptions& options,
                                                        RawInput kind) {
  if (options.elfcorehdr && !options.ranges.empty()) {
    return invalid("give either --elfcorehdr (the image holds an ELF core header) or "
                   "--mem-ranges (it does not), not both");
  }
  // A device reports no size; a regular image's size is where memory ends.
  bool sized = !(kind.oldmem && input->size() == 0);
  if (!sized) input = std::make_unique<UnsizedInput>(std::move(input));
  if (!options.ranges.empty()) return open_with_ranges(std::move(input), options, sized);
  auto addr = header_address(options, kind, input->name());
  if (!addr) return std::move(addr).error();
  return open_with_header(std::move(input), *addr, sized);
}

}  // namespace vmc
