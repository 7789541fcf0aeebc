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
  Status written = out->write_at(0, bytes);
  if (written) written = out->finish();
  if (!written) {
    out->abandon();  // a log cut short is not left to pass for the whole log
    return std::move(written).error().add_context("writing the kernel log to " + out->name());
  }
  return {};
}

}  // namespace vmc
