#include "collector/cli/log_output.h"

#include <memory>
#include <span>

#include "base/io.h"

namespace vmc {

Status write_dmesg(const DmesgResult& result, const std::string& path, bool overwrite) {
  std::unique_ptr<io::OutputFile> out;
  if (path.empty() || path == "-") {
    out = io::stdout_output();
  } else {
    auto created = io::create_output(path, io::CreateOutputOptions{.overwrite = overwrite});
    if (!created.ok()) return std::move(created).error();
    out = std::move(created).value();
  }
  auto bytes = std::as_bytes(std::span(result.text.data(), result.text.size()));
  VMC_TRY_CTX(out->write_at(0, bytes), "writing the kernel log to " + out->name());
  VMC_TRY_CTX(out->finish(), "writing the kernel log to " + out->name());
  return {};
}

}  // namespace vmc
