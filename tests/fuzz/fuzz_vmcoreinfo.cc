// Fuzz target: VMCOREINFO text (vmcoreinfo/table/vmcoreinfo.h), parsed from a note
// of a dead kernel, and the derived values every later stage trusts.
#include "tests/fuzz/fuzz_support.h"
#include "vmcoreinfo/pages/page_decode.h"
#include "vmcoreinfo/table/vmcoreinfo.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view text(reinterpret_cast<const char*>(data), size);
  auto info = vmc::VmcoreInfo::parse(text);
  if (!info.ok()) return 0;
  (void)info->kernel_version();
  (void)info->osrelease();
  (void)info->require_symbol("init_top_pgt");
  (void)info->require_offset("page.flags");
  (void)info->number("phys_base");
  std::vector<std::string> warnings;
  (void)vmc::make_page_layout(*info, 31, warnings);
  return 0;
}
