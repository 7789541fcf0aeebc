// Fuzz target: mem_map decode (vmcoreinfo/pages/mem_map.h, page_decode.h,
// page_filter.h): mem_section, the section maps and every struct page of a
// memory image (fuzz_support.h), filtered at dump level 31 in slices the way
// the engine runs it.
#include "base/bitmap.h"
#include "tests/fuzz/fuzz_support.h"
#include "vmcoreinfo/pages/page_filter.h"
#include "vmcoreinfo/table/vmcoreinfo.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  auto memory = vmc::fuzz::decode_image({data, size});
  if (!memory) return 0;
  auto info = vmc::VmcoreInfo::parse(memory->metadata().vmcoreinfo);
  if (!info.ok()) return 0;
  auto filter = vmc::make_page_filter(*memory, *info, 31);
  if (!filter.ok() || !*filter) return 0;
  uint64_t end = std::min<uint64_t>(memory->max_pfn(), uint64_t{1} << 17);
  constexpr uint64_t kSlice = uint64_t{1} << 15;
  for (uint64_t s = 0; s < end; s += kSlice) {
    uint64_t e = std::min(end, s + kSlice);
    std::vector<uint64_t> keep(vmc::words_for(e - s), 0);
    memory->available(s, e, keep);
    vmc::FilterStats stats;
    (*filter)->filter(s, e, keep, stats);
  }
  return 0;
}
