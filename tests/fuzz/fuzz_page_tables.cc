// Fuzz target: x86_64 kernel page tables (vmcoreinfo/arch/address_space.h) read
// from a dead machine's memory. The input is a memory image (fuzz_support.h):
// VMCOREINFO, RAM segments and stored pages (page tables among them). The
// addresses translated are the VMCOREINFO symbols the collector follows, the
// usual region bases, and sixteen words taken from the input's tail.
#include <cstring>

#include "tests/fuzz/fuzz_support.h"
#include "vmcoreinfo/table/vmcoreinfo.h"

namespace {

void follow(const vmc::KernelAddressSpace& kernel, uint64_t vaddr) {
  auto t = kernel.translate(vaddr);
  if (!t.ok()) return;
  std::byte buf[64];
  (void)kernel.read_virtual(vaddr, buf);
  (void)kernel.read_virtual(vaddr + 4096 - 8, std::span(buf, 16));
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  auto memory = vmc::fuzz::decode_image({data, size});
  if (!memory) return 0;
  auto info = vmc::VmcoreInfo::parse(memory->metadata().vmcoreinfo);
  if (!info.ok()) return 0;
  auto kernel = vmc::make_x86_64_address_space(*memory, *info);
  if (!kernel.ok()) return 0;
  for (const char* name : {"init_top_pgt", "swapper_pg_dir", "mem_section", "prb", "log_buf",
                           "_stext", "vmemmap_base", "page_offset_base"}) {
    if (auto a = info->symbol(name)) follow(**kernel, *a);
  }
  for (uint64_t base : {0xffff888000000000ULL, 0xffffea0000000000ULL, 0xffffc90000000000ULL,
                        0xffffffff80000000ULL, 0xff11000000000000ULL, 0xffd4000000000000ULL}) {
    follow(**kernel, base);
    follow(**kernel, base + 0x1234000);
  }
  for (size_t i = 0; i < 16 && size >= 8 * (i + 1); ++i) {
    uint64_t v = 0;
    std::memcpy(&v, data + size - 8 * (i + 1), 8);
    follow(**kernel, v);
  }
  return 0;
}
