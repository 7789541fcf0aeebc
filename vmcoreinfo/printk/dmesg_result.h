// What every log decoder is asked for and returns: the text in the style
// asked, and what it had to skip. Apart from dmesg.h so that the decoders need
// not include the module that chooses among them.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace vmc {

// Whose text --dump-dmesg prints.
enum class DmesgStyle : uint8_t {
  kVmcoreDmesg,   // kexec-tools' vmcore-dmesg: one timestamped line per record
  kMakedumpfile,  // makedumpfile 1.7.5+: the caller column where the kernel keeps one, continuations indented
};

struct DmesgOptions {
  DmesgStyle style = DmesgStyle::kVmcoreDmesg;
  // --partial-dmesg: only the records after the last `dmesg -c` (clear_seq of
  // the lockless ring, clear_idx of the structured log; the legacy buffer has
  // no such mark and is printed whole, as makedumpfile does).
  bool partial = false;
};

struct DmesgResult {
  std::string text;                   // what vmcore-dmesg would print
  std::vector<std::string> warnings;  // skipped or damaged records, with where
};

}  // namespace vmc
