// Why hand-rolled: makedumpfile's option set mixes short clusters ("-cd31"),
// separate and attached arguments and long options; getopt_long would keep
// global state between calls, which the tests (many parses per process) cannot
// have.
#include "collector/options.h"

#include "formats/raw_memory_reader.h"

#include <charconv>

namespace vmc {
namespace {

Error invalid(std::string what) { return Error(ErrorKind::kInvalidArgument, std::move(what)); }

std::optional<long> parse_long(std::string_view s) {
  long v = 0;
  auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  if (ec != std::errc() || end != s.data() + s.size() || s.empty()) return std::nullopt;
  return v;
}

// -d takes one level 0..31 (makedumpfile also allows a comma list of levels to
// retry with; we take the last, highest-priority one and say so).
Status parse_dump_level(std::string_view text, Options& o) {
  auto comma = text.rfind(',');
  if (comma != std::string_view::npos) {
    o.notices.push_back("dump level list '" + std::string(text) + "': using the last level");
    text = text.substr(comma + 1);
  }
  auto v = parse_long(text);
  if (!v || *v < 0 || *v > 31) return invalid("Dump level(" + std::string(text) + ") is invalid.");
  o.dump_level = static_cast<int>(*v);
  return {};
}

struct LongOption {
  std::string_view name;
  bool takes_arg;
};
constexpr LongOption kLongOptions[] = {
    {"message-level", true}, {"dump-dmesg", false},     {"non-mmap", false},
    {"num-threads", true},   {"check-params", false},   {"help", false},
    {"version", false},      {"cyclic-buffer", true},   {"non-cyclic", false},
    {"work-dir", true},      {"splitblock-size", true}, {"inject-fault", true},
    {"split", false},        {"reassemble", false},     {"mem-usage", false},
    {"partial-dmesg", false}, {"eppic", true},          {"config", true},
    {"xen-syms", true},      {"xen-vmcoreinfo", true},  {"xen_phys_start", true},
    {"vtop", true},          {"diskset", true},         {"dry-run", false},
    {"show-stats", false},   {"extension", true},       {"elfcorehdr", true},
    {"mem-ranges", true},
};

Status apply_long(std::string_view name, const std::string& arg, Options& o) {
  if (name == "message-level") {
    auto v = parse_long(arg);
    if (!v || *v < 0 || *v > 31) return invalid("Message level(" + arg + ") is invalid.");
    o.message_level = static_cast<int>(*v);
  } else if (name == "dump-dmesg") {
    o.mode = Mode::kDumpDmesg;
  } else if (name == "non-mmap") {
    o.non_mmap = true;
  } else if (name == "num-threads") {
    auto v = parse_long(arg);
    // makedumpfile takes 0 as "no threads" (its default); so does vmcollect.
    if (!v || *v < 0 || *v > 1024) return invalid("Number of threads(" + arg + ") is invalid.");
    o.num_threads = static_cast<int>(*v);
    o.num_threads_given = *v != 0;
  } else if (name == "mem-usage") {
    o.mode = Mode::kMemUsage;
  } else if (name == "check-params") {
    o.check_params = true;
  } else if (name == "help") {
    o.mode = Mode::kHelp;
  } else if (name == "version") {
    o.mode = Mode::kVersion;
  } else if (name == "cyclic-buffer" || name == "non-cyclic" || name == "work-dir" ||
             name == "splitblock-size" || name == "show-stats") {
    // makedumpfile tuning knobs; vmcollect bounds its memory by itself.
    o.notices.push_back("--" + std::string(name) + " has no effect in vmcollect");
  } else if (name == "split") {
    o.split = true;
  } else if (name == "reassemble") {
    o.mode = Mode::kReassemble;
  } else if (name == "elfcorehdr") {
    auto v = parse_elfcorehdr(arg);
    if (!v) return std::move(v).error();
    o.raw.elfcorehdr = *v;
  } else if (name == "mem-ranges") {
    auto v = parse_mem_ranges(arg);
    if (!v) return std::move(v).error();
    o.raw.ranges = std::move(*v);
  } else if (name == "inject-fault") {
    auto plan = io::parse_fault_plan(arg);
    if (!plan) return std::move(plan).error();
    for (const auto& r : plan->read_eio) o.faults_in.read_eio.push_back(r);
    if (plan->short_read_at) o.faults_in.short_read_at = plan->short_read_at;
    if (plan->write_enospc_at) o.faults_out.write_enospc_at = plan->write_enospc_at;
    if (plan->write_eio_at) o.faults_out.write_eio_at = plan->write_eio_at;
  } else {
    return Error(ErrorKind::kUnsupported, "--" + std::string(name) + " is not supported by vmcollect yet");
  }
  return {};
}

// One short option; returns true when it consumed its argument.
Status apply_short(char c, const std::string& arg, Options& o) {
  using compress::CodecKind;
  switch (c) {
    case 'c': o.codec = CodecKind::zlib; return {};
    case 'l': o.codec = CodecKind::lzo; return {};
    case 'p': o.codec = CodecKind::snappy; return {};
    case 'z': o.codec = CodecKind::zstd; return {};
    case 'E': o.elf_output = true; return {};
    case 'F': o.flatten = true; return {};
    case 'R': o.mode = Mode::kRearrange; return {};
    case 'f': o.force = true; return {};
    case 'D': o.message_level = 31; return {};
    case 'h': o.mode = Mode::kHelp; return {};
    case 'v': o.mode = Mode::kVersion; return {};
    case 'd': return parse_dump_level(arg, o);
    case 'i': o.vmcoreinfo_file = arg; return {};
    case 'b': o.notices.push_back("-b has no effect in vmcollect"); return {};
    case 'x': return Error(ErrorKind::kUnsupported, "-x VMLINUX is not supported yet: vmcollect reads VMCOREINFO (use -i for a dump without it)");
    default:
      return invalid(std::string("unknown option -") + c);
  }
}

bool short_takes_arg(char c) { return c == 'd' || c == 'i' || c == 'b' || c == 'x' || c == 'g' || c == 'L'; }

Status check_combination(Options& o, const std::vector<std::string>& positional) {
  if (o.mode == Mode::kHelp || o.mode == Mode::kVersion) return {};
  if (o.elf_output && o.codec != compress::CodecKind::none) {
    return invalid("-E cannot be used with compression (-c, -l, -p, -z).");
  }
  if (o.elf_output && o.num_threads_given) return invalid("--num-threads cannot used with ELF format.");
  if (o.mode == Mode::kReassemble) {
    if (o.split || o.flatten || o.elf_output) return invalid("--reassemble cannot be used with --split, -F or -E.");
    if (positional.size() < 3) return invalid("--reassemble takes DUMPFILE1 DUMPFILE2 [DUMPFILE3 ..] DUMPFILE.");
    o.reassemble_inputs.assign(positional.begin(), positional.end() - 1);
    o.output = positional.back();
    return {};
  }
  if (o.split && o.mode == Mode::kCreate) {
    if (o.flatten || o.elf_output) return invalid("--split cannot be used with -F or -E.");
    if (positional.size() < 3) return invalid("--split takes VMCORE DUMPFILE1 DUMPFILE2 [DUMPFILE3 ..].");
    o.input = positional[0];
    o.split_outputs.assign(positional.begin() + 1, positional.end());
    return {};
  }
  if (o.mode == Mode::kMemUsage) {
    if (positional.size() != 1) return invalid("--mem-usage takes one VMCORE (an ELF dump such as /proc/kcore).");
    o.input = positional[0];
    return {};
  }
  if (o.mode == Mode::kRearrange) {
    if (o.flatten) return invalid("-F cannot be used with -R (-R reads a flattened stream).");
    if (positional.size() != 1) return invalid("-R takes one DUMPFILE and reads the flattened stream from standard input.");
    o.output = positional[0];
    return {};
  }
  if (o.flatten && o.mode != Mode::kDumpDmesg) {
    if (positional.size() != 1) return invalid("-F takes one VMCORE and writes to standard output.");
    o.input = positional[0];
    return {};
  }
  if (o.mode == Mode::kDumpDmesg && o.flatten) {
    if (positional.size() != 1) return invalid("--dump-dmesg -F takes one VMCORE and writes the log to standard output.");
    o.input = positional[0];  // log to standard output
    return {};
  }
  if (positional.size() != 2) return invalid("VMCORE and DUMPFILE are required.");
  o.input = positional[0];
  o.output = positional[1];
  return {};
}

}  // namespace

Result<Options> parse_options(const std::string& program, const std::vector<std::string>& args) {
  Options o;
  o.program = program;
  std::vector<std::string> positional;
  for (size_t i = 0; i < args.size(); ++i) {
    const std::string& a = args[i];
    if (a == "--") {
      positional.insert(positional.end(), args.begin() + static_cast<long>(i) + 1, args.end());
      break;
    }
    if (a.starts_with("--")) {
      std::string name = a.substr(2), arg;
      if (auto eq = name.find('='); eq != std::string::npos) {
        arg = name.substr(eq + 1);
        name.resize(eq);
      }
      const LongOption* opt = nullptr;
      for (const auto& lo : kLongOptions) {
        if (lo.name == name) opt = &lo;
      }
      if (!opt) return invalid("unrecognized option '--" + name + "'");
      if (opt->takes_arg && arg.empty()) {
        if (i + 1 >= args.size()) return invalid("option '--" + name + "' requires an argument");
        arg = args[++i];
      }
      VMC_TRY(apply_long(name, arg, o));
      continue;
    }
    if (a.size() > 1 && a[0] == '-') {
      for (size_t k = 1; k < a.size(); ++k) {
        char c = a[k];
        if (short_takes_arg(c)) {
          std::string arg = a.substr(k + 1);
          if (arg.empty()) {
            if (i + 1 >= args.size()) return invalid(std::string("option -") + c + " requires an argument");
            arg = args[++i];
          }
          VMC_TRY(apply_short(c, arg, o));
          break;
        }
        VMC_TRY(apply_short(c, {}, o));
      }
      continue;
    }
    positional.push_back(a);
  }
  VMC_TRY(check_combination(o, positional));
  return o;
}

std::string usage_text(const std::string& program) {
  return "LOGO: vmcollect: a kdump vmcore collector and filter, compatible with makedumpfile\n"
         "\n"
         "Usage:\n"
         "  Creating DUMPFILE:\n"
         "  # " + program + " [-c|-l|-p|-z|-E] [-d DL] [-i VMCOREINFO] VMCORE DUMPFILE\n"
         "  Creating DUMPFILE with flattened format (to standard output):\n"
         "  # " + program + " -F [-c|-l|-p|-z|-E] [-d DL] VMCORE\n"
         "  Rearranging a flattened stream from standard input into DUMPFILE:\n"
         "  # " + program + " -R DUMPFILE\n"
         "  Splitting the dump into several DUMPFILEs written in parallel:\n"
         "  # " + program + " --split [-c|-l|-p|-z] [-d DL] VMCORE DUMPFILE1 DUMPFILE2 [..]\n"
         "  Reassembling split DUMPFILEs into one:\n"
         "  # " + program + " --reassemble DUMPFILE1 DUMPFILE2 [..] DUMPFILE\n"
         "  Extracting the kernel log:\n"
         "  # " + program + " --dump-dmesg [-i VMCOREINFO] VMCORE LOGFILE\n"
         "\n"
         "Options:\n"
         "  -c, -l, -p, -z  compress pages with zlib, lzo, snappy or zstd\n"
         "  -E              write ELF instead of kdump-compressed\n"
         "  -d DL           dump level (bitmask, 0-31): 1 zero, 2 cache, 4 private cache,\n"
         "                  8 user data, 16 free pages\n"
         "  -F              write the flattened format to standard output\n"
         "  -R              rebuild DUMPFILE from a flattened stream on standard input\n"
         "  -f              overwrite an existing DUMPFILE\n"
         "  -i VMCOREINFO   VMCOREINFO from a file, for dumps without the note\n"
         "  --message-level ML  1 progress, 2 common, 4 error, 8 debug, 16 report (default 7)\n"
         "  --num-threads N compress with N threads (default: the CPUs online)\n"
         "  --non-mmap      read the input with read() instead of mmap()\n"
         "  --dump-dmesg    write the kernel log of VMCORE to LOGFILE\n"
         "  --mem-usage VMCORE  print how many pages of each kind an ELF VMCORE holds\n"
         "  --elfcorehdr ADDR  VMCORE is raw physical memory (a pmemsave image; offset ==\n"
         "                  physical address) whose ELF core header is at ADDR, written as\n"
         "                  the kernel's elfcorehdr= ([SIZE@]ADDR, K/M/G suffixes). For\n"
         "                  /dev/oldmem it defaults to elfcorehdr= of /proc/cmdline\n"
         "  --mem-ranges START-END,...  raw physical memory without a header: RAM ranges\n"
         "                  in hex, END inclusive (as /proc/iomem); VMCOREINFO from -i\n"
         "  --check-params  only check the command line\n"
         "  -v, --version   show the version\n"
         "  -h, --help      show this help\n";
}

}  // namespace vmc
