// open_dump(): the list of readers, tried in turn by their probes on the first
// bytes of the file (libkdumpfile's formats[] idea): kdump-compressed, then
// flattened, then ELF. Raw memory has no magic: it is chosen by the options
// (--elfcorehdr, --mem-ranges) or the path (/dev/oldmem).
#include "formats/open_dump.h"

#include <cctype>
#include <cstring>

#include "formats/elf_core_reader.h"
#include "formats/flattened_reader.h"
#include "formats/kdump_reader.h"
#include "formats/raw_memory_reader.h"

namespace vmc {
namespace {

struct Format {
  const char* name;  // with its article: "reading X as an ELF dump"
  bool (*probe)(std::span<const std::byte> head);
  Result<std::unique_ptr<PhysicalMemory>> (*open)(std::unique_ptr<io::InputFile> input);
};

const Format kFormats[] = {
    {"a kdump-compressed", looks_like_kdump,
     [](std::unique_ptr<io::InputFile> in) { return open_kdump(std::move(in)); }},
    {"a flattened", looks_like_flattened,
     [](std::unique_ptr<io::InputFile> in) { return open_flattened(std::move(in)); }},
    {"an ELF", looks_like_elf,
     [](std::unique_ptr<io::InputFile> in) { return open_elf_core(std::move(in)); }},
};

// The first bytes as hex and, where printable, as text: enough to tell a
// gzip file or a text file from a dump at a glance.
std::string show_head(std::span<const std::byte> head) {
  static const char kHex[] = "0123456789abcdef";
  std::string hexs, text;
  for (std::byte b : head) {
    auto c = static_cast<unsigned char>(b);
    if (!hexs.empty()) hexs += ' ';
    hexs += kHex[c >> 4];
    hexs += kHex[c & 15];
    text += std::isprint(c) ? static_cast<char>(c) : '.';
  }
  return head.empty() ? "it is empty" : "it starts with " + hexs + " \"" + text + "\"";
}

}  // namespace

Status PhysicalMemory::check_copy_size(uint64_t count, std::span<const std::byte> out) const {
  if (out.size() == count * page_size()) return {};
  return Error(ErrorKind::kInvalidArgument, "copy_pages: " + std::to_string(out.size()) + " bytes for " +
                                                std::to_string(count) + " pages");
}

Status PhysicalMemory::copy_pages(uint64_t pfn, uint64_t count, std::span<std::byte> out) {
  VMC_TRY(check_copy_size(count, out));
  if (count == 0) return {};
  auto view = pages(pfn, count);
  if (!view) return std::move(view).error();
  VMC_TRY(check_copy_size(count, view->bytes()));  // a reader handing out the wrong size
  std::memcpy(out.data(), view->data(), out.size());
  return {};
}

bool looks_like_dump(std::span<const std::byte> head) {
  for (const Format& f : kFormats) {
    if (f.probe(head)) return true;
  }
  return false;
}

Result<std::unique_ptr<PhysicalMemory>> open_dump(const std::string& path,
                                                  const OpenDumpOptions& options) {
  auto opened = io::open_input(path, options.input);
  if (!opened) return std::move(opened).error();
  auto input = io::with_faults(std::move(*opened), options.faults);
  if (bool oldmem = is_oldmem_path(path); oldmem || options.raw.given()) {
    auto memory = open_raw_memory(std::move(input), options.raw, {oldmem});
    if (!memory) return std::move(memory).error().add_context("reading " + path + " as raw memory");
    return memory;
  }
  std::vector<std::byte> head(static_cast<size_t>(std::min<uint64_t>(input->size(), 16)));
  if (auto s = head.empty() ? Status() : input->read_at(0, head); !s) {
    return std::move(s).error().add_context("probing the format of " + path);
  }
  for (const auto& f : kFormats) {
    if (!f.probe(head)) continue;
    auto memory = f.open(std::move(input));
    if (!memory)
      return std::move(memory).error().add_context("reading " + path + " as " + f.name + " dump");
    return memory;
  }
  return Error(ErrorKind::kBadInput,
               path +
                   " is not a dump vmcollect can read (not ELF, kdump-compressed or "
                   "flattened): " +
                   show_head(head) +
                   "; for raw memory (a pmemsave image) give --elfcorehdr ADDR or --mem-ranges");
}

}  // namespace vmc
