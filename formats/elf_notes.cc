#include "formats/elf_notes.h"

#include <algorithm>

#include "base/checked_reader.h"
#include "formats/elf_format.h"

namespace vmc {
namespace {

std::string_view without_trailing_nuls(std::span<const std::byte> bytes) {
  std::string_view s(reinterpret_cast<const char*>(bytes.data()), bytes.size());
  while (!s.empty() && s.back() == '\0') s.remove_suffix(1);
  return s;
}

bool all_zero(std::span<const std::byte> bytes) {
  return std::all_of(bytes.begin(), bytes.end(), [](std::byte x) { return x == std::byte{0}; });
}

void append_note(std::vector<std::byte>& out, std::string_view name, std::string_view desc) {
  elf::Nhdr nh{};
  nh.n_namesz = static_cast<uint32_t>(name.size() + 1);
  nh.n_descsz = static_cast<uint32_t>(desc.size());
  nh.n_type = 0;
  auto put = [&](const void* p, size_t n, size_t padded) {
    const auto* b = static_cast<const std::byte*>(p);
    out.insert(out.end(), b, b + n);
    out.resize(out.size() + (padded - n));
  };
  put(&nh, sizeof nh, sizeof nh);
  std::string name0(name);
  put(name0.c_str(), name0.size() + 1, elf::note_align(name0.size() + 1));
  put(desc.data(), desc.size(), elf::note_align(desc.size()));
}

}  // namespace

Result<uint64_t> walk_elf_notes(std::span<const std::byte> notes, const std::string& file,
                                uint64_t file_offset, const std::function<bool(const ElfNote&)>& visit) {
  CheckedBytes b(file, file_offset, notes);
  uint64_t pos = 0, used = 0;
  while (pos < b.size()) {
    if (b.size() - pos < sizeof(elf::Nhdr)) {
      if (all_zero(notes.subspan(static_cast<size_t>(pos)))) break;
      return b.error(pos, std::to_string(b.size() - pos) + " stray bytes after the last note");
    }
    auto nh = b.get<elf::Nhdr>(pos, "note header");
    if (!nh) return std::move(nh).error();
    if (nh->n_namesz == 0 && nh->n_descsz == 0 && nh->n_type == 0) break;  // padding
    uint64_t name_pos = pos + sizeof(elf::Nhdr);
    uint64_t desc_pos = name_pos + elf::note_align(nh->n_namesz);
    auto sizes_bad = [&](const char* field, uint64_t value, uint64_t at) {
      return b.error(pos, std::string("note ") + field + " " + std::to_string(value) +
                              " (data at offset " + hex(b.file_offset(at)) +
                              ") runs past the end of the notes, which end at offset " +
                              hex(b.file_offset(b.size())));
    };
    auto name = b.span(name_pos, nh->n_namesz, "note name");
    if (!name) return sizes_bad("n_namesz", nh->n_namesz, name_pos);
    auto desc = b.span(desc_pos, nh->n_descsz, "note descriptor");
    if (!desc) return sizes_bad("n_descsz", nh->n_descsz, desc_pos);
    pos = std::min<uint64_t>(b.size(), desc_pos + elf::note_align(nh->n_descsz));
    used = pos;
    if (!visit(ElfNote{without_trailing_nuls(*name), nh->n_type, desc_pos, *desc})) break;
  }
  return used;
}

Result<ElfNotes> parse_elf_notes(std::span<const std::byte> notes, const std::string& file,
                                 uint64_t file_offset) {
  ElfNotes out;
  auto used = walk_elf_notes(notes, file, file_offset, [&](const ElfNote& note) {
    if (note.name == "CORE" && note.type == elf::kNtPrstatus) ++out.nr_prstatus;
    if (note.name == "VMCOREINFO" && out.vmcoreinfo.empty()) out.vmcoreinfo = without_trailing_nuls(note.desc);
    return true;
  });
  if (!used) return std::move(used).error();
  out.used_bytes = *used;
  return out;
}

std::optional<ElfNote> find_vmcoreinfo_note(std::span<const std::byte> notes) {
  std::optional<ElfNote> found;
  (void)walk_elf_notes(notes, "notes", 0, [&](const ElfNote& note) {
    if (note.name == "VMCOREINFO") found = note;
    return !found;
  });
  return found;
}

std::vector<std::byte> notes_with_vmcoreinfo(std::span<const std::byte> notes, const std::string& vmcoreinfo) {
  std::vector<std::byte> out(notes.begin(), notes.end());
  if (vmcoreinfo.empty()) return out;
  auto parsed = parse_elf_notes(notes, "notes", 0);
  // Notes that do not parse are carried as they are: the reader kept only
  // what parsed, so this is the -i text meeting notes of our own making.
  uint64_t used = parsed ? parsed->used_bytes : notes.size();
  if (parsed && !parsed->vmcoreinfo.empty()) return out;
  if (!parsed && find_vmcoreinfo_note(notes)) return out;
  out.resize(static_cast<size_t>(used));  // padding after the last note would hide the new one
  append_note(out, "VMCOREINFO", vmcoreinfo);
  return out;
}

}  // namespace vmc
