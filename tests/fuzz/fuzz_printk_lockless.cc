// Fuzz target: one printk layout, the lockless ring buffer (5.10+): descriptor ring, info array, data ring
// (vmcoreinfo/printk/printk_ringbuffer.h). The input is a memory image (fuzz_support.h) holding
// the log and its VMCOREINFO; the log is read through a direct map, so the
// bytes reach the decoder without depending on page tables.
#include "tests/fuzz/fuzz_support.h"
#include "vmcoreinfo/printk/printk_ringbuffer.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  return vmc::fuzz::fuzz_log_decoder({data, size}, vmc::dmesg::read_lockless_log);
}
