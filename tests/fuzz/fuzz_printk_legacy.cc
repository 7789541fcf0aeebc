// Fuzz target: one printk layout, the legacy character ring (before 3.5)
// (vmcoreinfo/printk/printk_legacy.h). The input is a memory image (fuzz_support.h) holding
// the log and its VMCOREINFO; the log is read through a direct map, so the
// bytes reach the decoder without depending on page tables.
#include "tests/fuzz/fuzz_support.h"
#include "vmcoreinfo/printk/printk_legacy.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  return vmc::fuzz::fuzz_log_decoder({data, size}, vmc::dmesg::read_legacy_log);
}
