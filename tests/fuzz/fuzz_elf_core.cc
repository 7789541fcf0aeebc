// Fuzz target: ELF core headers and notes (formats/elf_core_reader.h), the
// parser every /proc/vmcore goes through. The input is a whole ELF core; what
// opens is read the way the engine reads it. The raw bytes also go to the
// note parser directly, so note fuzzing does not need a valid ELF around it.
#include <cstring>

#include "formats/elf_core_reader.h"
#include "formats/elf_notes.h"
#include "tests/fuzz/fuzz_support.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::vector<std::byte> bytes(size);
  if (size != 0) std::memcpy(bytes.data(), data, size);
  (void)vmc::parse_elf_notes(bytes, "<fuzz notes>", 0);
  auto memory = vmc::open_elf_core(vmc::io::memory_input("<fuzz>", std::move(bytes)));
  if (!memory.ok()) return 0;
  (void)(*memory)->metadata().vmcoreinfo.size();
  vmc::fuzz::exercise_memory(**memory, 64);
  return 0;
}
