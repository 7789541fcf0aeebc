// Fuzz target: makedumpfile --split sets (formats/kdump_reassemble.h), reassembled
// into one dump. The input holds the parts: u8 count, count x u32 lengths,
// then the parts' bytes back to back (the last one takes what is left).
#include <cstring>

#include "formats/kdump_reassemble.h"
#include "tests/fuzz/fuzz_support.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size < 1) return 0;
  size_t count = std::min<size_t>(data[0], 8);
  size_t pos = 1 + 4 * count;
  if (count == 0 || size < pos) return 0;
  std::vector<std::unique_ptr<vmc::io::InputFile>> parts;
  for (size_t i = 0; i < count; ++i) {
    uint32_t len = 0;
    std::memcpy(&len, data + 1 + 4 * i, 4);
    size_t n = i + 1 == count ? size - pos : std::min<size_t>(len, size - pos);
    std::vector<std::byte> bytes(n);
    if (n != 0) std::memcpy(bytes.data(), data + pos, n);
    pos += n;
    parts.push_back(vmc::io::memory_input("<part " + std::to_string(i) + ">", std::move(bytes)));
  }
  vmc::fuzz::SinkOutput sink;
  (void)vmc::reassemble_kdump(std::move(parts), sink);
  return 0;
}
