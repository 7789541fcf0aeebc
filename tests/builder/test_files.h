// Files the tests read back whole: outputs, logs, captured streams.
#pragma once

#include <fstream>
#include <sstream>
#include <string>

namespace vmc::testing {

// The whole file, or "" when it cannot be opened.
inline std::string read_whole_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream s;
  s << in.rdbuf();
  return s.str();
}

}  // namespace vmc::testing
