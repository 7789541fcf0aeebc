// Fuzz target: flattened streams (formats/flattened_reader.h), which arrive
// over a pipe from another machine. Both uses: -R replay into a file (here a
// sink that only counts, since a record may claim any offset) and reading the
// dump inside a flattened file through its record index.
#include <cstring>

#include "formats/flattened_reader.h"
#include "tests/fuzz/fuzz_support.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::vector<std::byte> bytes(size);
  if (size != 0) std::memcpy(bytes.data(), data, size);
  {
    auto input = vmc::io::memory_input("<fuzz stream>", bytes);
    auto stream = vmc::input_stream(*input);
    vmc::fuzz::SinkOutput sink;
    (void)vmc::rearrange_flattened(*stream, sink);
  }
  auto memory = vmc::open_flattened(vmc::io::memory_input("<fuzz>", std::move(bytes)));
  if (!memory.ok()) return 0;
  vmc::fuzz::exercise_memory(**memory, 64);
  return 0;
}
