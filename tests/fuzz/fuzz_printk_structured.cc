// Fuzz target: one printk layout, the structured log (3.5-5.9): variable-length records and wrap markers
// (vmcoreinfo/printk_structured.h). The input is a memory image (fuzz_support.h) holding
// the log and its VMCOREINFO; the log is read through a direct map, so the
// bytes reach the decoder without depending on page tables.
#include "tests/fuzz/fuzz_support.h"
#include "vmcoreinfo/printk_structured.h"
#include "vmcoreinfo/vmcoreinfo.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  auto memory = vmc::fuzz::decode_image({data, size});
  if (!memory) return 0;
  auto info = vmc::VmcoreInfo::parse(memory->metadata().vmcoreinfo);
  if (!info.ok()) return 0;
  auto kernel = vmc::fuzz::direct_map_space(*memory);
  auto log = vmc::dmesg::read_structured_log(*kernel, *info);
  if (log.ok()) (void)log->text.size();
  return 0;
}
