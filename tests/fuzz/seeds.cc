// Writes the seed corpus of every fuzz target, from the dump builder
// (tests/builder): small ELF cores, kdump files of every header version and
// codec, flattened streams, split sets, VMCOREINFO of every kernel spec,
// memory images with page tables, mem_map and printk logs of all three
// layouts, and compressed pages. Generated at build/test time, so no binary
// vmcore is stored in the tree.
//   fuzz_seeds OUTDIR   -> OUTDIR/<target>/<seed>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>

#include "compress/codec.h"
#include "formats/elf_format.h"
#include "formats/kdump_format.h"
#include "tests/builder/dump_builder.h"
#include "tests/builder/kernel_layout.h"
#include "tests/builder/printk_layout.h"
#include "tests/fuzz/fuzz_support.h"

namespace fs = std::filesystem;
using namespace vmc;
using namespace vmc::testing;

namespace {

fs::path g_out;
size_t g_written = 0;

void save(const std::string& target, const std::string& name, std::span<const std::byte> bytes) {
  fs::create_directories(g_out / target);
  std::ofstream f(g_out / target / name, std::ios::binary | std::ios::trunc);
  f.write(reinterpret_cast<const char*>(bytes.data()), static_cast<std::streamsize>(bytes.size()));
  if (!f) {
    std::fprintf(stderr, "cannot write %s/%s\n", target.c_str(), name.c_str());
    std::exit(1);
  }
  ++g_written;
}

void save_text(const std::string& target, const std::string& name, const std::string& text) {
  save(target, name, std::as_bytes(std::span(text.data(), text.size())));
}

fuzz::MemoryImage image_of(const DumpBuilder& b) {
  fuzz::MemoryImage image;
  image.vmcoreinfo = b.vmcoreinfo();
  for (const auto& s : b.segments()) image.segments.push_back({s.paddr, s.vaddr, s.size});
  for (uint64_t pfn : b.stored_pfns()) image.pages[pfn] = b.page(pfn);
  return image;
}

// A small machine: two RAM ranges, text, random and zero pages, CPU notes.
DumpBuilder small_machine(bool kernel_text) {
  DumpBuilder b;
  b.add_ram(0x1000, 0x9000, 0xffff888000001000ULL);
  b.add_ram(0x100000, 0x20000, 0xffff888000100000ULL);
  if (kernel_text) b.add_kernel_text_segment(0xffffffff81000000ULL, 0x100000, 0x8000);
  for (uint64_t pfn = 1; pfn < 10; pfn += 2) b.fill_page(pfn, PageFill::kText, pfn);
  for (uint64_t pfn = 0x100; pfn < 0x120; pfn += 3) b.fill_page(pfn, PageFill::kRandom, pfn);
  b.fill_page(0x105, PageFill::kZero);
  b.set_vmcoreinfo("OSRELEASE=6.1.0-fuzz\nPAGESIZE=4096\nSYMBOL(init_top_pgt)=ffffffff81002000\n"
                   "NUMBER(phys_base)=0\nCRASHTIME=1700000000\n");
  b.set_prstatus_notes(2);
  return b;
}

void elf_seeds() {
  save("elf_core", "plain", small_machine(false).build_elf());
  save("elf_core", "kernel-text", small_machine(true).build_elf());
  auto b = small_machine(false);
  b.set_force_pn_xnum(true).set_elf_flags(1);
  save("elf_core", "pn-xnum-incomplete", b.build_elf());
}

void kdump_seeds() {
  auto b = small_machine(false);
  struct V {
    int version;
    uint32_t codec;
  };
  for (V v : {V{1, 0}, V{2, kdump::kCompressedZlib}, V{3, kdump::kCompressedLzo},
              V{5, kdump::kCompressedSnappy}, V{6, kdump::kCompressedZstd}, V{6, 0}}) {
    KdumpBuildOptions o;
    o.header_version = v.version;
    o.codec_flag = v.codec;
    if (v.version >= 5) o.eraseinfo = random_bytes(100, 7);
    auto file = build_kdump(b, o);
    save("kdump", "v" + std::to_string(v.version) + "-codec" + std::to_string(v.codec), file);
    if (v.version == 6 && v.codec != 0) {
      save("flattened", "kdump-zstd", flatten(file, 4096));
      save("flattened", "kdump-shuffled", flatten_shuffled(file, 1000, 3));
    }
  }
  KdumpBuildOptions o;
  o.diskdump_signature = true;
  o.header_version = 1;
  o.dumped = std::set<uint64_t>{1, 3, 5, 0x100, 0x103};
  save("kdump", "diskdump-subset", build_kdump(b, o));
  o = {};
  o.codec_flag = kdump::kCompressedLzo;
  o.incomplete = true;
  o.missing_tail_descriptors = 5;
  o.vmcoreinfo_separate = true;
  o.header_version = 3;
  save("kdump", "incomplete-v3", build_kdump(b, o));
  save("flattened", "elf", flatten(small_machine(true).build_elf(), 512));
}

// Issue 18's hostile inputs, so that the fuzzers start from them.
uint64_t kdump_descriptor_offset(const std::vector<std::byte>& f) {
  auto h = load<kdump::DiskDumpHeader>(f.data());
  return (1 + static_cast<uint64_t>(h.sub_hdr_size.get()) + h.bitmap_blocks) * h.block_size;
}

void hostile_kdump_seeds() {
  auto b = small_machine(false);
  KdumpBuildOptions o;
  o.codec_flag = kdump::kCompressedZlib;
  auto good = build_kdump(b, o);
  uint64_t descs = kdump_descriptor_offset(good);
  auto cut = good;
  cut.resize(descs + 3 * sizeof(kdump::PageDescriptor) + 7);
  save("kdump", "cut-in-descriptors", cut);
  cut = good;
  cut.resize(good.size() - 3000);
  save("kdump", "cut-in-page-data", cut);
  auto ones = good;
  auto h = load<kdump::DiskDumpHeader>(good.data());
  uint64_t bitmap2 = (1 + static_cast<uint64_t>(h.sub_hdr_size.get()) + h.bitmap_blocks / 2) * h.block_size;
  std::memset(ones.data() + bitmap2, 0xff, 0x120 / 8);
  save("kdump", "second-bitmap-all-ones", ones);
  auto inward = good;
  auto pd = load<kdump::PageDescriptor>(inward.data() + descs);
  pd.offset = static_cast<int64_t>(descs);
  std::memcpy(inward.data() + descs, &pd, sizeof pd);
  save("kdump", "descriptor-into-table", inward);
}

void hostile_elf_seeds() {
  auto b = small_machine(false);
  b.set_force_pn_xnum(true);
  auto f = b.build_elf();
  auto eh = load<elf::Ehdr>(f.data());
  auto sh = load<elf::Shdr>(f.data() + eh.e_shoff);
  sh.sh_info = 65537;
  std::memcpy(f.data() + eh.e_shoff, &sh, sizeof sh);
  save("elf_core", "too-many-program-headers", f);
}

MachineSpec small_kernel_machine();

// OFFSET(...) = 2^64 - 4: wrapped the bounds checks of page_decode and mem_map.
void hostile_vmcoreinfo_seeds() {
  for (const char* entry : {"page.flags", "page.mapping", "page._mapcount", "page.private", "page.compound_head",
                            "mem_section.section_mem_map"}) {
    std::string name = std::string("OFFSET(") + entry + ")";
    KernelLayoutBuilder k(debian_6_1(), small_kernel_machine());
    k.slab(0x205);
    k.omit_vmcoreinfo(name);
    k.extra_vmcoreinfo(name + "=18446744073709551612");
    k.finish();
    save("mem_map", std::string("huge-offset-") + entry, fuzz::encode_image(image_of(k.dump())));
    save_text("vmcoreinfo", std::string("huge-offset-") + entry, k.dump().vmcoreinfo());
  }
}

void split_seeds() {
  auto b = small_machine(false);
  for (int parts : {2, 3}) {
    uint64_t max_pfn = 0x120;
    std::vector<std::vector<std::byte>> files;
    for (int i = 0; i < parts; ++i) {
      KdumpBuildOptions o;
      o.codec_flag = kdump::kCompressedZlib;
      o.split = std::pair<uint64_t, uint64_t>(max_pfn * i / parts, max_pfn * (i + 1) / parts);
      files.push_back(build_kdump(b, o));
    }
    std::vector<std::byte> in{static_cast<std::byte>(parts)};
    for (const auto& f : files) {
      uint32_t n = static_cast<uint32_t>(f.size());
      for (int k = 0; k < 4; ++k) in.push_back(static_cast<std::byte>(n >> (8 * k)));
    }
    for (const auto& f : files) in.insert(in.end(), f.begin(), f.end());
    save("split", std::to_string(parts) + "-parts", in);
  }
}

MachineSpec small_kernel_machine() {
  MachineSpec m;
  m.ram = {{0x1000, 0x9f000}, {0x100000, 0x2000000}};
  m.kernel_phys = 0x1000000;
  return m;
}

void kernel_seeds() {
  for (const KernelSpec& spec : all_kernel_specs()) {
    KernelLayoutBuilder k(spec, small_kernel_machine());
    k.in_use(0x200);
    k.anon(0x201);
    k.file_cache(0x202);
    k.file_cache(0x203, true);
    k.swap_cache(0x204);
    k.slab(0x205);
    k.page_table(0x206);
    k.free_block(0x208, 3);
    k.compound(0x400, 9, KernelLayoutBuilder::Compound::kAnonThp);
    k.compound(0x600, 2, KernelLayoutBuilder::Compound::kHugetlb);
    k.compound(0x610, 2, KernelLayoutBuilder::Compound::kFileFolio);
    k.reserved(0x700);
    k.hwpoison(0x701);
    if (spec.offline) k.offline(0x702);
    k.finish();
    auto image = fuzz::encode_image(image_of(k.dump()));
    save("page_tables", spec.name, image);
    save("mem_map", spec.name, image);
    save_text("vmcoreinfo", spec.name, k.dump().vmcoreinfo());
  }
}

DumpBuilder printk_machine(const PrintkPlacement& p, const std::string& release) {
  DumpBuilder b;
  b.add_ram(0, 16 << 20, p.va_offset);
  b.set_vmcoreinfo("OSRELEASE=" + release + "\nPAGESIZE=4096\n");
  return b;
}

std::vector<PrintkRecord> some_records(int n) {
  std::vector<PrintkRecord> r;
  for (int i = 0; i < n; ++i) {
    r.push_back(PrintkRecord(uint64_t(i) * 1'000'123, "line " + std::to_string(i) + " of the log\twith\x01 bytes")
                    .with_caller(i % 2 ? 0x80000000u | i : 100u + i)
                    .with_dev(i % 3 ? "" : "pci", i % 3 ? "" : "+pci:0000:00:01.0"));
  }
  r.push_back(PrintkRecord(5, "multi\nline"));
  r.push_back(PrintkRecord(6, ""));
  return r;
}

void printk_seeds() {
  PrintkPlacement p;
  for (bool lfs : {true, false}) {
    for (int n : {4, 80}) {
      auto b = printk_machine(p, "6.1.0-fuzz");
      LocklessRingBuilder ring(4, 10, lfs);
      for (const auto& r : some_records(n)) ring.add(r);
      ring.write(b, p);
      std::string name = std::string(lfs ? "6.8" : "5.10") + "-" + std::to_string(n);
      save("printk_lockless", name, fuzz::encode_image(image_of(b)));
      save_text("vmcoreinfo", "lockless-" + name, b.vmcoreinfo());
    }
  }
  for (bool caller : {false, true}) {
    for (int n : {4, 120}) {
      auto b = printk_machine(p, "5.4.0-fuzz");
      StructuredLogBuilder log({2048, caller, caller ? "printk_log" : "log"});
      for (auto r : some_records(n)) log.add(r.with_dict(n % 2 ? "" : "SUBSYSTEM=pci"));
      log.write(b, p);
      std::string name = std::string(caller ? "caller" : "log") + "-" + std::to_string(n);
      save("printk_structured", name, fuzz::encode_image(image_of(b)));
      save_text("vmcoreinfo", "structured-" + name, b.vmcoreinfo());
    }
  }
  for (int n : {3, 200}) {
    auto b = printk_machine(p, "2.6.32-fuzz");
    LegacyLogBuilder log(2048);
    for (const auto& r : some_records(n)) log.append("<6>" + r.text + "\n");
    log.write(b, p, n > 100);
    save("printk_legacy", std::to_string(n), fuzz::encode_image(image_of(b)));
  }
}

void decompress_seeds() {
  using compress::CodecKind;
  const CodecKind kinds[] = {CodecKind::kZlib, CodecKind::kLzo, CodecKind::kSnappy, CodecKind::kZstd};
  for (uint8_t k = 0; k < 4; ++k) {
    if (!compress::codec_available(kinds[k])) continue;
    auto codec = compress::make_codec(kinds[k]);
    for (size_t page_size : {size_t{512}, size_t{4096}}) {
      for (int fill = 0; fill < 2; ++fill) {
        std::vector<std::byte> page = random_bytes(page_size, 11);
        if (fill == 0) {
          for (size_t i = 0; i < page_size; ++i) page[i] = static_cast<std::byte>("kernel text "[i % 12]);
        }
        std::vector<std::byte> out(codec->max_compressed_size(page_size));
        size_t n = codec->compress(page, out);
        if (n == 0) continue;
        std::vector<std::byte> in{static_cast<std::byte>(k | (page_size == 4096 ? 4 : 0))};
        in.insert(in.end(), out.begin(), out.begin() + static_cast<ptrdiff_t>(n));
        save("decompress", std::string(compress::codec_name(kinds[k])) + "-" +
                               std::to_string(page_size) + (fill ? "-random" : "-text"), in);
      }
    }
  }
}

}  // namespace

int main(int argc, char** argv) {
  if (argc != 2) {
    std::fprintf(stderr, "usage: %s OUTDIR\n", argv[0]);
    return 2;
  }
  g_out = argv[1];
  elf_seeds();
  kdump_seeds();
  hostile_kdump_seeds();
  hostile_elf_seeds();
  hostile_vmcoreinfo_seeds();
  split_seeds();
  kernel_seeds();
  printk_seeds();
  decompress_seeds();
  std::printf("%zu seeds written to %s\n", g_written, argv[1]);
  return 0;
}
