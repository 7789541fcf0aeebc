#include "collector/cli/run.h"

#include <sys/stat.h>

#include <cstdio>
#include <fstream>
#include <sstream>

#include "base/physical_memory.h"
#include "collector/cli/dump_modes.h"
#include "collector/cli/log_output.h"
#include "collector/cli/mem_usage.h"
#include "collector/cli/rearrange.h"
#include "collector/cli/report.h"
#include "collector/engine/engine.h"
#include "collector/engine/parallel.h"
#include "formats/dump_writer.h"
#include "formats/elf_notes.h"
#include "formats/open_dump.h"
#include "vmcoreinfo/arch/address_space.h"
#include "vmcoreinfo/kernel/utsname.h"
#include "vmcoreinfo/pages/page_filter.h"
#include "vmcoreinfo/printk/dmesg.h"
#include "vmcoreinfo/table/vmcoreinfo.h"

namespace vmc {
namespace {

constexpr int kMemMapLevels = kDumpLevelCache | kDumpLevelCachePrivate | kDumpLevelUser | kDumpLevelFree;

// VMCOREINFO is a few KiB; a -i file much bigger is not one (/dev/zero would
// be read until memory runs out).
constexpr uint64_t kMaxVmcoreinfoFileBytes = uint64_t{1} << 20;

// The -i file: a regular file of at most kMaxVmcoreinfoFileBytes (a
// directory, a device or a FIFO is refused by name, before any read).
Result<std::string> read_text_file(const std::string& path) {
  struct stat st {};
  if (::stat(path.c_str(), &st) != 0) return errno_error("cannot open VMCOREINFO file " + path);
  if (!S_ISREG(st.st_mode)) {  // checked before opening: opening a FIFO would wait for a writer
    return Error(ErrorKind::kInvalidArgument,
                 "the VMCOREINFO file " + path + " is not a regular file (it is " + io::file_kind(st.st_mode) + ")");
  }
  std::ifstream in(path, std::ios::binary);
  if (!in) return errno_error("cannot open VMCOREINFO file " + path);
  std::string text(static_cast<size_t>(kMaxVmcoreinfoFileBytes) + 1, '\0');
  in.read(text.data(), static_cast<std::streamsize>(text.size()));
  if (in.bad()) return errno_error("cannot read VMCOREINFO file " + path);
  text.resize(static_cast<size_t>(in.gcount()));
  if (text.size() > kMaxVmcoreinfoFileBytes) {
    return Error(ErrorKind::kBadInput, "the VMCOREINFO file " + path + " is larger than " +
                                           std::to_string(kMaxVmcoreinfoFileBytes) +
                                           " bytes; VMCOREINFO is a few KiB (wrong file?)");
  }
  return text;
}

struct Facts {
  std::unique_ptr<PhysicalMemory> memory;
  std::optional<VmcoreInfo> info;
  std::string vmcoreinfo_text;  // the note's, or -i's when given
};

// Opens the dump and settles which VMCOREINFO describes it (-i wins, but must
// be from the same kernel release as the note, when the dump has one).
Result<Facts> open_facts(const Options& o, Messenger& m, int& exit_code) {
  OpenDumpOptions open{{!o.non_mmap}, o.faults_in, o.raw};
  auto memory = open_dump(o.input, open);
  if (!memory) return std::move(memory).error();
  Facts facts{std::move(*memory), std::nullopt, {}};
  std::string text = facts.memory->metadata().vmcoreinfo;
  if (!o.vmcoreinfo_file.empty()) {
    auto file_text = read_text_file(o.vmcoreinfo_file);
    if (!file_text) return std::move(file_text).error();
    auto from_file = VmcoreInfo::parse(*file_text);
    if (!from_file) return std::move(from_file).error().add_context(o.vmcoreinfo_file);
    if (!text.empty()) {
      auto from_dump = VmcoreInfo::parse(text);
      if (from_dump && from_dump->osrelease() != from_file->osrelease()) {
        exit_code = kExitMismatch;
        return Error(ErrorKind::kMismatch, "The kernel version of " + o.vmcoreinfo_file + " (" +
                                               from_file->osrelease() + ") does not match the dump (" +
                                               from_dump->osrelease() + ")");
      }
    }
    text = *file_text;
  }
  if (!text.empty()) {
    auto info = VmcoreInfo::parse(text);
    if (!info) return std::move(info).error().add_context(o.input);
    facts.info = std::move(*info);
    facts.vmcoreinfo_text = text;
    m.debug(vmcoreinfo_debug_text(text));
    m.common(kernel_support_notice(facts.info->kernel_version(), o.program));
  }
  return facts;
}

// An ELF dump carries no uname but the release; the dead kernel's own
// init_uts_ns has it all, as makedumpfile copies it. (A kdump input's header
// had it already.)
void add_uname_from_memory(DumpHeaderInfo& h, const Facts& f, const Messenger& m) {
  auto kernel = make_address_space(*f.memory, *f.info);
  auto uts = kernel ? read_kernel_utsname(**kernel, *f.info) : Result<KernelUtsname>(std::move(kernel).error());
  if (!uts) {
    m.error("Warning: the header's uname has the release only (readers such as drgn may not open the dump): " +
            uts.error().describe() + "\n");
    return;
  }
  h.sysname = uts->sysname;
  h.nodename = uts->nodename;
  h.version = uts->version;
  if (!uts->machine.empty()) h.machine = uts->machine;
  h.domainname = uts->domainname;
}

DumpHeaderInfo header_for(const Options& o, const Facts& f, const Messenger& m) {
  const DumpMetadata& md = f.memory->metadata();
  DumpHeaderInfo h;
  h.page_size = md.page_size;
  h.max_pfn = f.memory->max_pfn();
  h.dump_level = o.dump_level;
  h.codec = o.codec;
  h.notes = notes_with_vmcoreinfo(md.notes, f.vmcoreinfo_text);  // -i's text travels with the dump
  h.vmcoreinfo = f.vmcoreinfo_text;
  h.segments = md.segments;
  h.kernel_text = md.kernel_text;
  h.eraseinfo = md.eraseinfo;
  h.nr_cpus = md.nr_cpus;
  h.release = md.utsname_release;
  h.nodename = md.utsname_nodename;
  h.version = md.utsname_version;
  if (!md.utsname_machine.empty()) h.machine = md.utsname_machine;
  if (md.phys_base) h.phys_base = *md.phys_base;
  if (f.info) {
    if (h.release.empty()) h.release = f.info->osrelease();
    if (h.version.empty()) add_uname_from_memory(h, f, m);
    if (auto pb = f.info->number("phys_base")) h.phys_base = static_cast<uint64_t>(*pb);
  }
  // The crash time, as makedumpfile records it: the same dump gives the same file.
  if (md.timestamp_sec) h.timestamp_sec = *md.timestamp_sec;
  if (f.info && f.info->crash_time()) h.timestamp_sec = *f.info->crash_time();
  return h;
}

Result<std::unique_ptr<PageFilter>> filter_for(const Options& o, Facts& f, Messenger& m) {
  if ((o.dump_level & kMemMapLevels) == 0) return std::unique_ptr<PageFilter>();
  if (!f.info) {
    return Error(ErrorKind::kUnsupported,
                 "dump level " + std::to_string(o.dump_level) +
                     " needs VMCOREINFO to find mem_map, and " + o.input +
                     " has none (give it with -i VMCOREINFO)");
  }
  auto filter = make_page_filter(*f.memory, *f.info, o.dump_level);
  if (!filter) return std::move(filter).error();
  for (const auto& w : (*filter)->warnings()) m.error("Warning: " + w + "\n");
  return filter;
}

int fail(const Messenger& m, const Error& e, int code = kExitFailed) {
  m.error(e.describe() + "\n");
  return code;
}

// The stated bound on a kdump file's metadata: its two bitmaps hold two bits
// for every pfn below max_pfn, whatever lies between, so a PT_LOAD at 2^46 in
// a 12 KB file would ask for 4 GiB of bitmaps (and fallocate them). They may
// take at most the bytes of the pages that exist plus kBitmapAllowance (the
// bitmaps of 1 TiB of 4 KiB pages): a real machine's holes stay far below it.
constexpr uint64_t kBitmapAllowance = uint64_t{64} << 20;

Status check_metadata_bound(const PhysicalMemory& memory) {
  uint64_t ram_pages = 0;
  for (const auto& r : memory.ram()) ram_pages += r.count();
  const uint64_t bitmap_bytes = memory.max_pfn() / 4 + 2;  // 2 bits a pfn, rounded up
  const uint64_t page_size = memory.page_size();
  const uint64_t ram_bytes = ram_pages > UINT64_MAX / page_size ? UINT64_MAX : ram_pages * page_size;
  if (bitmap_bytes <= kBitmapAllowance || bitmap_bytes - kBitmapAllowance <= ram_bytes) return {};
  return Error(ErrorKind::kUnsupported,
               "the dump's memory reaches pfn " + hex(memory.max_pfn()) + ", whose bitmaps would take " +
                   std::to_string(bitmap_bytes) + " bytes for " + std::to_string(ram_pages) +
                   " pages of memory (more than the memory itself plus " +
                   std::to_string(kBitmapAllowance >> 20) +
                   " MiB): refusing to write them (is a PT_LOAD's physical address wrong? -E writes no bitmaps)");
}

// The files a mode reads and the files it writes, as the command line names
// them; -R reads standard input.
std::vector<std::string> inputs_of(const Options& o) {
  std::vector<std::string> inputs = o.reassemble_inputs;
  if (!o.input.empty()) inputs.push_back(o.input);
  if (!o.vmcoreinfo_file.empty()) inputs.push_back(o.vmcoreinfo_file);
  if (o.mode == Mode::kRearrange) inputs.push_back("/dev/stdin");
  return inputs;
}

std::vector<std::string> outputs_of(const Options& o) {
  if (o.mode == Mode::kCreate && o.split) return o.split_outputs;
  if (o.mode == Mode::kCreate && o.flatten) return {};
  if (o.mode == Mode::kMemUsage || o.output.empty() || o.output == "-") return {};
  return {o.output};
}

int run_create(const Options& asked, const std::atomic<int>* cancel, Messenger& m) {
  Options o = asked;  // the dump level may rise to the input's (re-filtering)
  if (o.codec != compress::CodecKind::kNone && !compress::codec_available(o.codec)) {
    return fail(m, Error(ErrorKind::kUnsupported, std::string(compress::codec_name(o.codec)) +
                                                      " compression is not built into this vmcollect"));
  }
  int exit_code = kExitFailed;
  auto facts = open_facts(o, m, exit_code);
  if (!facts) return fail(m, facts.error(), exit_code);
  o.dump_level = refilter_dump_level(o.dump_level, facts->memory->metadata(), o.input, m);
  auto filter = filter_for(o, *facts, m);
  if (!filter) return fail(m, filter.error());

  if (!o.elf_output) {
    if (auto bounded = check_metadata_bound(*facts->memory); !bounded) {
      return fail(m, std::move(bounded).error().add_context(o.input));
    }
  }
  if (o.split) return run_split(o, *facts->memory, filter->get(), header_for(o, *facts, m), cancel, m);
  std::unique_ptr<io::OutputFile> file;
  if (o.flatten) {
    file = io::with_faults(io::stdout_output(), o.faults_out);
  } else if (o.dry_run) {
    file = io::discarding_output(o.output);
  } else {
    auto created = io::create_output(o.output, {o.force});
    if (!created) return fail(m, created.error());
    file = io::with_faults(std::move(*created), o.faults_out);
  }
  std::unique_ptr<io::OutputFile> flat = o.flatten ? make_flattened_output(*file) : nullptr;
  io::OutputFile& out = flat ? *flat : *file;
  DumpHeaderInfo header = header_for(o, *facts, m);
  WriterFactory factory = [&](const DumpPlan& plan) -> Result<std::unique_ptr<DumpWriter>> {
    header.max_dumped_pages = plan.pages;
    header.max_runs = plan.runs;
    return o.elf_output ? make_elf_writer(out, header) : make_kdump_writer(out, header);
  };
  CollectOptions co;
  co.dump_level = o.dump_level;
  co.codec = o.codec;
  co.threads = resolve_thread_count(o.num_threads);
  co.cancel = cancel;
  co.progress = [&](uint64_t done, uint64_t total) { m.progress("Copying data", done, total); };
  auto report = collect(*facts->memory, filter->get(), factory, co);
  m.end_progress();
  if (!report) {
    file->abandon();  // nothing useful was written: leave no empty or headless file behind
    return fail(m, report.error().add_context("writing " + out.name()));
  }
  say_run_warnings(*report, filter->get(), m);
  m.report(format_report(*report, o.elf_output));
  if (report->incomplete) {
    say_missing_pages(*report, m);
    m.error("The dumpfile " + out.name() + " is incomplete: it holds the pages written before the failure and is marked incomplete.\n");
    return kExitFailed;
  }
  if (o.dry_run && !o.flatten) {
    // makedumpfile says "saved to" here too; nothing was, so we say what would have been.
    m.common("\n--dry-run: nothing was written; " + o.output + " would take " + std::to_string(out.bytes_written()) +
             " bytes.\n");
    return kExitCompleted;
  }
  m.common("\nThe dumpfile is saved to " + (o.flatten ? std::string("standard output") : o.output) + ".\n");
  return kExitCompleted;
}

int run_dmesg(const Options& o, Messenger& m) {
  int exit_code = kExitFailed;
  auto facts = open_facts(o, m, exit_code);
  if (!facts) return fail(m, facts.error(), exit_code);
  if (!facts->info) return fail(m, Error(ErrorKind::kBadInput, o.input + " has no VMCOREINFO; the log cannot be located (give it with -i)"));
  auto kernel = make_address_space(*facts->memory, *facts->info);
  if (!kernel) return fail(m, kernel.error().add_context(o.input));
  DmesgOptions dmesg_options;
  // makedumpfile's own text under its name; vmcore-dmesg's under ours and that one's.
  dmesg_options.style = o.program == "makedumpfile" ? DmesgStyle::kMakedumpfile : DmesgStyle::kVmcoreDmesg;
  dmesg_options.partial = o.partial_dmesg;
  auto log = extract_dmesg(**kernel, *facts->info, dmesg_options);
  if (!log) return fail(m, log.error().add_context(o.input));
  for (const auto& w : log->warnings) m.error("Warning: " + w + "\n");
  if (ReadCounters cost = facts->memory->read_counters(); cost.pages_read != 0) {  // kdump input
    m.debug("Pages read for the log: " + std::to_string(cost.pages_read) + " (" +
            std::to_string(cost.pages_decompressed) + " decompressed)\n");
  }
  if (auto s = write_dmesg(*log, o.output, o.force); !s) return fail(m, s.error());
  if (!o.output.empty()) m.common("\nThe dmesg log is saved to " + o.output + ".\n");
  return kExitCompleted;
}

// --mem-usage: the -d 31 pass over the whole dump with nothing written, then
// makedumpfile's table of page counts per kind.
int run_mem_usage(const Options& asked, Messenger& m) {
  Options o = asked;
  o.dump_level = kDumpLevelMax;
  int exit_code = kExitFailed;
  auto facts = open_facts(o, m, exit_code);
  if (!facts) return fail(m, facts.error(), exit_code);
  auto filter = filter_for(o, *facts, m);
  if (!filter) return fail(m, filter.error());
  CollectOptions co;
  co.dump_level = o.dump_level;
  co.threads = resolve_thread_count(o.num_threads);
  auto report = collect(*facts->memory, filter->get(),
                        [](const DumpPlan&) -> Result<std::unique_ptr<DumpWriter>> { return make_discarding_writer(); },
                        co);
  if (!report) return fail(m, report.error().add_context("reading " + o.input));
  say_run_warnings(*report, filter->get(), m);
  say_missing_pages(*report, m);
  m.common(format_mem_usage(*report, facts->memory->page_size()));
  return kExitCompleted;
}

}  // namespace

int run(const Options& o, const std::atomic<int>* cancel) {
  // With the dump on stdout, text must not mix into it.
  bool stdout_is_data = o.flatten || (o.mode == Mode::kDumpDmesg && o.output.empty());
  Messenger m(o.message_level, stdout_is_data);
  for (const auto& n : o.notices) m.debug(n + "\n");
  if (auto distinct = io::refuse_shared_files(inputs_of(o), outputs_of(o)); !distinct) {
    fail(m, distinct.error());
    m.common("\n" + o.program + " Failed.\n");
    return kExitFailed;
  }
  int code = kExitFailed;
  switch (o.mode) {
    case Mode::kHelp:
      std::fputs(usage_text(o.program).c_str(), stdout);
      return kExitCompleted;
    case Mode::kVersion:
      std::printf("%s: vmcollect version 0.1.0 (makedumpfile compatible)\n", o.program.c_str());
      return kExitCompleted;
    case Mode::kCreate:
      code = run_create(o, cancel, m);
      break;
    case Mode::kDumpDmesg:
      code = run_dmesg(o, m);
      break;
    case Mode::kReassemble:
      code = run_reassemble(o, m);
      break;
    case Mode::kRearrange:
      code = run_rearrange(o, cancel, m);
      break;
    case Mode::kMemUsage:
      code = run_mem_usage(o, m);
      break;
  }
  m.common("\n");
  m.common(o.program + (code == kExitCompleted ? " Completed.\n" : " Failed.\n"));
  return code;
}

}  // namespace vmc
