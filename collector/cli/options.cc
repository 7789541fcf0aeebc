// Why hand-rolled: makedumpfile's option set mixes short clusters ("-cd31"),
// separate and attached arguments and long options; getopt_long would keep
// global state between calls, which the tests (many parses per process) cannot
// have.
#include "collector/cli/options.h"

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

// Every option in one row: how it is spelled, whether it takes an argument,
// what it does, and its line in --help. Parsing and usage_text() both read
// this table. A row without a handler is recognized and refused (not built
// yet); a row without help text is not listed.
struct OptionSpec {
  char short_name;             // '\0': long only
  std::string_view long_name;  // "": short only
  bool takes_arg;
  Status (*apply)(const OptionSpec& spec, const std::string& arg, Options& o);
  std::string_view synopsis;   // --help's left column
  std::string_view help;       // continuation lines follow '\n'
  bool vmcollect_only = false; // not makedumpfile's: yields to it in abbreviations
};

std::string spelled(const OptionSpec& spec) {
  return spec.long_name.empty() ? std::string("-") + spec.short_name : "--" + std::string(spec.long_name);
}

template <compress::CodecKind kind>
Status set_codec(const OptionSpec&, const std::string&, Options& o) {
  o.codec = kind;
  return {};
}

template <Mode mode>
Status set_mode(const OptionSpec&, const std::string&, Options& o) {
  o.mode = mode;
  return {};
}

template <bool Options::*flag>
Status set_flag(const OptionSpec&, const std::string&, Options& o) {
  o.*flag = true;
  return {};
}

// makedumpfile tuning knobs; vmcollect bounds its memory by itself.
Status no_effect(const OptionSpec& spec, const std::string&, Options& o) {
  o.notices.push_back(spelled(spec) + " has no effect in vmcollect");
  return {};
}

Status set_debug(const OptionSpec&, const std::string&, Options& o) {
  o.message_level = 31;
  return {};
}

Status set_dump_level(const OptionSpec&, const std::string& arg, Options& o) { return parse_dump_level(arg, o); }

Status set_vmcoreinfo_file(const OptionSpec&, const std::string& arg, Options& o) {
  o.vmcoreinfo_file = arg;
  return {};
}

Status refuse_vmlinux(const OptionSpec&, const std::string&, Options&) {
  return Error(ErrorKind::kUnsupported, "-x VMLINUX is not supported yet: vmcollect reads VMCOREINFO (use -i for a dump without it)");
}

Status set_message_level(const OptionSpec&, const std::string& arg, Options& o) {
  auto v = parse_long(arg);
  if (!v || *v < 0 || *v > 31) return invalid("Message level(" + arg + ") is invalid.");
  o.message_level = static_cast<int>(*v);
  return {};
}

Status set_num_threads(const OptionSpec&, const std::string& arg, Options& o) {
  auto v = parse_long(arg);
  // 0 is makedumpfile's default (no helper threads). vmcollect compresses on
  // every CPU online unless told otherwise, and takes 0 as "not told".
  if (!v || *v < 0 || *v > 1024) return invalid("Number of threads(" + arg + ") is invalid.");
  o.num_threads = static_cast<int>(*v);
  o.num_threads_given = *v != 0;
  return {};
}

Status set_elfcorehdr(const OptionSpec&, const std::string& arg, Options& o) {
  auto v = parse_elfcorehdr(arg);
  if (!v) return std::move(v).error();
  o.raw.elfcorehdr = *v;
  return {};
}

Status set_mem_ranges(const OptionSpec&, const std::string& arg, Options& o) {
  auto v = parse_mem_ranges(arg);
  if (!v) return std::move(v).error();
  o.raw.ranges = std::move(*v);
  return {};
}

Status add_fault_plan(const OptionSpec&, const std::string& arg, Options& o) {
  auto plan = io::parse_fault_plan(arg);
  if (!plan) return std::move(plan).error();
  for (const auto& r : plan->read_eio) o.faults_in.read_eio.push_back(r);
  if (plan->short_read_at) o.faults_in.short_read_at = plan->short_read_at;
  if (plan->write_enospc_at) o.faults_out.write_enospc_at = plan->write_enospc_at;
  if (plan->write_eio_at) o.faults_out.write_eio_at = plan->write_eio_at;
  return {};
}

using compress::CodecKind;
constexpr OptionSpec kOptions[] = {
    {'c', "", false, set_codec<CodecKind::kZlib>, "-c, -l, -p, -z", "compress pages with zlib, lzo, snappy or zstd"},
    {'l', "", false, set_codec<CodecKind::kLzo>, "", ""},
    {'p', "", false, set_codec<CodecKind::kSnappy>, "", ""},
    {'z', "", false, set_codec<CodecKind::kZstd>, "", ""},
    {'E', "", false, set_flag<&Options::elf_output>, "-E", "write ELF instead of kdump-compressed"},
    {'d', "", true, set_dump_level, "-d DL",
     "dump level (bitmask, 0-31): 1 zero, 2 cache, 4 private cache,\n8 user data, 16 free pages"},
    {'F', "", false, set_flag<&Options::flatten>, "-F", "write the flattened format to standard output"},
    {'R', "", false, set_mode<Mode::kRearrange>, "-R", "rebuild DUMPFILE from a flattened stream on standard input"},
    {'f', "", false, set_flag<&Options::force>, "-f", "overwrite an existing DUMPFILE"},
    {'i', "", true, set_vmcoreinfo_file, "-i VMCOREINFO", "VMCOREINFO from a file, for dumps without the note"},
    {'\0', "message-level", true, set_message_level, "--message-level ML",
     "1 progress, 2 common, 4 error, 8 debug, 16 report (default 7)"},
    {'\0', "num-threads", true, set_num_threads, "--num-threads N", "compress with N threads (default: the CPUs online)"},
    {'\0', "non-mmap", false, set_flag<&Options::non_mmap>, "--non-mmap", "read the input with read() instead of mmap()"},
    {'\0', "dump-dmesg", false, set_mode<Mode::kDumpDmesg>, "--dump-dmesg", "write the kernel log of VMCORE to LOGFILE"},
    {'\0', "partial-dmesg", false, set_flag<&Options::partial_dmesg>, "--partial-dmesg",
     "with --dump-dmesg, only the log after the last `dmesg -c`"},
    {'\0', "mem-usage", false, set_mode<Mode::kMemUsage>, "--mem-usage VMCORE",
     "print how many pages of each kind an ELF VMCORE holds"},
    {'\0', "elfcorehdr", true, set_elfcorehdr, "--elfcorehdr ADDR",
     "VMCORE is raw physical memory (a pmemsave image; offset ==\nphysical address) whose ELF core header is at ADDR, "
     "written as\nthe kernel's elfcorehdr= ([SIZE@]ADDR, K/M/G suffixes). For\n/dev/oldmem it defaults to "
     "elfcorehdr= of /proc/cmdline", true},
    {'\0', "mem-ranges", true, set_mem_ranges, "--mem-ranges START-END,...",
     "raw physical memory without a header: RAM ranges\nin hex, END inclusive (as /proc/iomem); VMCOREINFO from -i", true},
    {'\0', "dry-run", false, set_flag<&Options::dry_run>, "--dry-run",
     "do all the work of a dump but write no DUMPFILE"},
    {'\0', "show-stats", false, set_flag<&Options::show_stats>, "--show-stats",
     "print the statistics at the end (as --message-level 16 adds)"},
    {'\0', "check-params", false, set_flag<&Options::check_params>, "--check-params", "only check the command line"},
    {'v', "version", false, set_mode<Mode::kVersion>, "-v, --version", "show the version"},
    {'h', "help", false, set_mode<Mode::kHelp>, "-h, --help", "show this help"},
    // Not listed in --help.
    {'\0', "split", false, set_flag<&Options::split>, "", ""},
    {'\0', "reassemble", false, set_mode<Mode::kReassemble>, "", ""},
    {'D', "", false, set_debug, "", ""},
    {'b', "", true, no_effect, "", ""},
    {'\0', "cyclic-buffer", true, no_effect, "", ""},
    {'\0', "non-cyclic", false, no_effect, "", ""},
    {'\0', "work-dir", true, no_effect, "", ""},
    {'\0', "splitblock-size", true, no_effect, "", ""},
    {'\0', "inject-fault", true, add_fault_plan, "", "", true},  // tests only
    {'x', "", true, refuse_vmlinux, "", ""},
    // makedumpfile's, not built yet: refused by name.
    {'g', "", true, nullptr, "", ""},
    {'L', "", true, nullptr, "", ""},
    {'\0', "eppic", true, nullptr, "", ""},
    {'\0', "config", true, nullptr, "", ""},
    {'\0', "xen-syms", true, nullptr, "", ""},
    {'\0', "xen-vmcoreinfo", true, nullptr, "", ""},
    {'\0', "xen_phys_start", true, nullptr, "", ""},
    {'\0', "vtop", true, nullptr, "", ""},
    {'\0', "diskset", true, nullptr, "", ""},
    {'\0', "extension", true, nullptr, "", ""},
};

const OptionSpec* find_short(char c) {
  for (const auto& spec : kOptions) {
    if (spec.short_name == c) return &spec;
  }
  return nullptr;
}

// getopt_long's rule, which makedumpfile's users rely on ("--num-thr=2"):
// the exact name, else the one option the name abbreviates. vmcollect's own
// options yield to makedumpfile's, so that an abbreviation makedumpfile
// takes keeps its meaning here.
Result<const OptionSpec*> find_long(std::string_view name) {
  std::vector<const OptionSpec*> abbreviated;
  for (const auto& spec : kOptions) {
    if (spec.long_name.empty() || name.empty()) continue;
    if (spec.long_name == name) return &spec;
    if (spec.long_name.starts_with(name)) abbreviated.push_back(&spec);
  }
  if (abbreviated.size() > 1) {
    std::erase_if(abbreviated, [](const OptionSpec* spec) { return spec->vmcollect_only; });
    if (abbreviated.empty()) return invalid("option '--" + std::string(name) + "' is ambiguous");
  }
  if (abbreviated.empty()) return invalid("unrecognized option '--" + std::string(name) + "'");
  if (abbreviated.size() == 1) return abbreviated.front();
  std::string possibilities;
  for (const OptionSpec* spec : abbreviated) possibilities += " '" + spelled(*spec) + "'";
  return invalid("option '--" + std::string(name) + "' is ambiguous; possibilities:" + possibilities);
}

Status apply_long(const OptionSpec& spec, const std::string& arg, Options& o) {
  if (!spec.apply) {
    return Error(ErrorKind::kUnsupported, spelled(spec) + " is not supported by vmcollect yet");
  }
  return spec.apply(spec, arg, o);
}

Status apply_short(const OptionSpec* spec, char c, const std::string& arg, Options& o) {
  if (!spec || !spec->apply) return invalid(std::string("unknown option -") + c);
  return spec->apply(*spec, arg, o);
}

Status check_combination(Options& o, const std::vector<std::string>& positional) {
  if (o.mode == Mode::kHelp || o.mode == Mode::kVersion) return {};
  if (o.partial_dmesg && o.mode != Mode::kDumpDmesg) return invalid("--partial-dmesg goes with --dump-dmesg.");
  if (o.dry_run && o.mode == Mode::kReassemble) return invalid("--dry-run cannot be used with --reassemble.");
  if (o.dry_run && o.mode == Mode::kDumpDmesg) return invalid("--dry-run cannot be used with --dump-dmesg.");
  if (o.dry_run && o.split) return invalid("--dry-run cannot be used with --split (vmcollect).");
  if (o.show_stats) o.message_level |= 16;  // after every option, as makedumpfile applies it
  if (o.elf_output && o.codec != compress::CodecKind::kNone) {
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
      auto eq = name.find('=');
      if (eq != std::string::npos) {
        arg = name.substr(eq + 1);
        name.resize(eq);
      }
      auto found = find_long(name);
      if (!found) return std::move(found).error();
      const OptionSpec* opt = *found;
      if (!opt->takes_arg && eq != std::string::npos) {
        return invalid("option '" + spelled(*opt) + "' doesn't allow an argument");
      }
      if (opt->takes_arg && arg.empty()) {
        if (i + 1 >= args.size()) return invalid("option '" + spelled(*opt) + "' requires an argument");
        arg = args[++i];
      }
      VMC_TRY(apply_long(*opt, arg, o));
      continue;
    }
    if (a.size() > 1 && a[0] == '-') {
      for (size_t k = 1; k < a.size(); ++k) {
        char c = a[k];
        const OptionSpec* spec = find_short(c);
        if (spec && spec->takes_arg) {
          std::string arg = a.substr(k + 1);
          if (arg.empty()) {
            if (i + 1 >= args.size()) return invalid(std::string("option -") + c + " requires an argument");
            arg = args[++i];
          }
          VMC_TRY(apply_short(spec, c, arg, o));
          break;
        }
        VMC_TRY(apply_short(spec, c, {}, o));
      }
      continue;
    }
    positional.push_back(a);
  }
  VMC_TRY(check_combination(o, positional));
  return o;
}

bool asks_for_flattened_stdout(const std::vector<std::string>& args) {
  for (const auto& a : args) {
    if (a == "--") break;
    if (a.size() < 2 || a[0] != '-' || a[1] == '-') continue;
    for (char c : std::string_view(a).substr(1)) {
      if (c == 'F') return true;
      const OptionSpec* spec = find_short(c);
      if (spec && spec->takes_arg) break;  // the rest of the cluster is its argument
    }
  }
  return false;
}

namespace {

// --help's Options section, from the table: the synopsis in a 16-column field
// (2 spaces after a longer one), continuation lines under the text.
std::string options_help() {
  constexpr size_t kColumn = 16;
  std::string out;
  for (const auto& spec : kOptions) {
    if (spec.help.empty()) continue;
    std::string left(spec.synopsis);
    left.append(left.size() < kColumn ? kColumn - left.size() : 2, ' ');
    out += "  " + left;
    for (char ch : spec.help) out += ch == '\n' ? "\n" + std::string(2 + kColumn, ' ') : std::string(1, ch);
    out += "\n";
  }
  return out;
}

}  // namespace

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
         "Options:\n" +
         options_help();
}

}  // namespace vmc
