// vmcollect under kexec-tools' vmcore-dmesg name. Scripts test that tool's
// exit statuses, so its failures before reading the log keep its words and
// numbers: 1 usage, 2 cannot open, 3 a short read of the ELF identification,
// 4 no dump signature. Past those checks it prints the log on standard output
// as --dump-dmesg -F does, and reads kdump-compressed and flattened dumps
// too (a superset of the tool).
#pragma once

#include <optional>
#include <string>
#include <vector>

namespace vmc {

// The exit status, when the command line or the file fails those checks (the
// message is already on stderr); nullopt to go on.
std::optional<int> vmcore_dmesg_precheck(const std::string& argv0, const std::vector<std::string>& args);

}  // namespace vmc
