// The command line, as makedumpfile spells it, parsed into what the user asked
// for. Kept apart from what the dump says (facts) and from how we run.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "base/error.h"
#include "base/io.h"
#include "compress/codec.h"
#include "formats/raw_memory_reader.h"

namespace vmc {

enum class Mode { kCreate, kRearrange, kDumpDmesg, kHelp, kVersion, kReassemble, kMemUsage };

struct Options {
  std::string program = "vmcollect";  // name for messages ("makedumpfile Completed.")
  Mode mode = Mode::kCreate;
  int dump_level = 0;
  compress::CodecKind codec = compress::CodecKind::kNone;
  bool elf_output = false;     // -E
  bool flatten = false;        // -F
  bool force = false;          // -f
  bool non_mmap = false;       // --non-mmap
  bool check_params = false;   // --check-params
  bool partial_dmesg = false;
  bool dry_run = false;        // --dry-run: everything but writing DUMPFILE
  bool show_stats = false;     // --show-stats: the closing statistics whatever the message level  // --partial-dmesg: with --dump-dmesg, the log after the last `dmesg -c`
  int message_level = 7;
  int num_threads = 0;         // 0: not given, every CPU online (resolve_thread_count)
  bool num_threads_given = false;
  std::string vmcoreinfo_file; // -i
  RawMemoryOptions raw;        // --elfcorehdr, --mem-ranges: raw memory input (vmcollect only)
  std::string input;           // VMCORE
  std::string output;          // DUMPFILE / LOGFILE (empty with -F: stdout)
  bool split = false;          // --split: output unused, split_outputs holds DUMPFILE1..N
  std::vector<std::string> split_outputs;
  std::vector<std::string> reassemble_inputs;  // --reassemble DUMPFILE1..N (output: DUMPFILE)
  io::FaultPlan faults_in, faults_out;  // --inject-fault (tests only)
  std::vector<std::string> notices;     // accepted-but-ignored options, said at debug level
};

// Parses argv (argv[0] already consumed into program). Errors name the option.
Result<Options> parse_options(const std::string& program, const std::vector<std::string>& args);

std::string usage_text(const std::string& program);
// Whether args ask for a flattened dump on standard output (-F alone or in a
// cluster such as -lF), judged even when they do not parse: then not a byte
// of text may go there.
bool asks_for_flattened_stdout(const std::vector<std::string>& args);

}  // namespace vmc
