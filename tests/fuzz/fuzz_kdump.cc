// Fuzz target: kdump-compressed headers, bitmaps and page descriptors
// (formats/kdump_reader.h): makedumpfile's, QEMU's and our files, any header
// version, split parts, incomplete dumps. What opens is read like the engine
// does, which decompresses pages through the descriptors.
#include <cstring>

#include "formats/kdump_reader.h"
#include "tests/fuzz/fuzz_support.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::vector<std::byte> bytes(size);
  if (size != 0) std::memcpy(bytes.data(), data, size);
  auto memory = vmc::open_kdump(vmc::io::memory_input("<fuzz>", std::move(bytes)));
  if (!memory.ok()) return 0;
  vmc::fuzz::exercise_memory(**memory, 64);
  return 0;
}
