// Why: the CLI tests (tests/collector/cli/*.sh) run the vmcollect binary the way kdump
// scripts do, and most conventions (exit codes, closing lines, refusals, -F/-R,
// disk full) need a dump file on disk but no real kernel. This tool writes a
// small synthetic /proc/vmcore-like ELF core with the shared KernelLayoutBuilder
// (mem_map, page tables, VMCOREINFO), with pages the -d 31 filter can drop.
//
//   make_test_dump OUT [--kernel debian_6_1|linux_7_1|...] [--osrelease REL]
//                      [--vmcoreinfo-out FILE] [--crashtime SECONDS]
#include <cstdio>
#include <fstream>
#include <string>
#include <string_view>

#include "tests/builder/kernel_layout.h"

namespace {

using vmc::testing::KernelLayoutBuilder;
using vmc::testing::KernelSpec;
using vmc::testing::PageFill;

struct Args {
  std::string out, kernel = "debian_6_1", osrelease, vmcoreinfo_out;
  std::string crashtime = "1795999254";
};

bool parse(int argc, char** argv, Args& a) {
  for (int i = 1; i < argc; ++i) {
    std::string_view s = argv[i];
    auto value = [&](std::string& dst) {
      if (i + 1 >= argc) return false;
      dst = argv[++i];
      return true;
    };
    bool ok = true;
    if (s == "--kernel") ok = value(a.kernel);
    else if (s == "--osrelease") ok = value(a.osrelease);
    else if (s == "--vmcoreinfo-out") ok = value(a.vmcoreinfo_out);
    else if (s == "--crashtime") ok = value(a.crashtime);
    else if (!s.starts_with("-") && a.out.empty()) a.out = std::string(s);
    else ok = false;
    if (!ok) return false;
  }
  return !a.out.empty();
}

const KernelSpec* find_spec(const std::vector<KernelSpec>& specs, const std::string& name) {
  for (const auto& k : specs) {
    if (k.name == name) return &k;
  }
  return nullptr;
}

// Some of every kind -d 31 knows, plus enough kept data that compressing it
// shows in the output size: kernel pages (kept), anon (user), page cache,
// free blocks, zero pages.
void populate(KernelLayoutBuilder& b) {
  auto& d = b.dump();
  for (uint64_t pfn = 0x8000; pfn < 0x8400; ++pfn) {  // kernel data: kept
    b.in_use(pfn);
    d.fill_page(pfn, pfn % 2 ? PageFill::kText : PageFill::kRandom, pfn);
  }
  for (uint64_t pfn = 0x9000; pfn < 0x9200; ++pfn) {  // user data
    b.anon(pfn);
    d.fill_page(pfn, PageFill::kRandom, pfn);
  }
  for (uint64_t pfn = 0xa000; pfn < 0xa200; ++pfn) {  // page cache
    b.file_cache(pfn);
    d.fill_page(pfn, PageFill::kText, pfn);
  }
  for (uint64_t pfn = 0xb000; pfn < 0xc000; pfn += 512) b.free_block(pfn, 9);
  for (uint64_t pfn = 0xc000; pfn < 0xc100; ++pfn) {  // in use but zero
    b.in_use(pfn);
    d.fill_page(pfn, PageFill::kZero);
  }
}

}  // namespace

int main(int argc, char** argv) {
  Args a;
  if (!parse(argc, argv, a)) {
    std::fprintf(stderr, "usage: make_test_dump OUT [--kernel NAME] [--osrelease REL] "
                         "[--vmcoreinfo-out FILE] [--crashtime S]\n");
    return 2;
  }
  auto specs = vmc::testing::all_kernel_specs();
  const KernelSpec* found = find_spec(specs, a.kernel);
  if (!found) {
    std::fprintf(stderr, "make_test_dump: no kernel spec %s\n", a.kernel.c_str());
    return 2;
  }
  KernelSpec spec = *found;
  if (!a.osrelease.empty()) spec.osrelease = a.osrelease;
  vmc::testing::MachineSpec machine;
  machine.ram = {{0x1000, 0x9f000}, {0x100000, 0x10000000}};  // 256 MiB
  KernelLayoutBuilder b(spec, machine);
  populate(b);
  if (!a.crashtime.empty()) b.extra_vmcoreinfo("CRASHTIME=" + a.crashtime);
  auto& dump = b.finish();
  dump.set_prstatus_notes(1);
  if (auto s = dump.write_elf(a.out); !s) {
    std::fprintf(stderr, "make_test_dump: %s\n", s.error().describe().c_str());
    return 1;
  }
  if (!a.vmcoreinfo_out.empty()) {
    std::ofstream(a.vmcoreinfo_out, std::ios::binary) << dump.vmcoreinfo();
  }
  return 0;
}
