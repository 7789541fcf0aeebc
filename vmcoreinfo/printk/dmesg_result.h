// What every log decoder returns: the text as vmcore-dmesg prints it, and what
// it had to skip. Apart from dmesg.h so that the decoders need not include the
// module that chooses among them.
#pragma once

#include <string>
#include <vector>

namespace vmc {

struct DmesgResult {
  std::string text;                   // what vmcore-dmesg would print
  std::vector<std::string> warnings;  // skipped or damaged records, with where
};

}  // namespace vmc
