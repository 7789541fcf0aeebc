// Re-filtering, --split and --reassemble (see offline.h).
#include "collector/cli/dump_modes.h"

#include <algorithm>
#include <cstring>
#include <optional>
#include <thread>

#include "collector/cli/report.h"
#include "collector/engine/engine.h"
#include "collector/engine/parallel.h"
#include "formats/kdump_reassemble.h"

namespace vmc {
namespace {

// The part of a combined report that each split file counts for its own pfns.
void merge_split_report(CollectReport& total, const CollectReport& part) {
  total.dumped_pages += part.dumped_pages;
  total.data_bytes += part.data_bytes;
  for (ExcludeReason r : {ExcludeReason::kZero, ExcludeReason::kUnreadable}) total.excluded[r] += part.excluded[r];
  total.unreadable.insert(total.unreadable.end(), part.unreadable.begin(), part.unreadable.end());
  total.incomplete = total.incomplete || part.incomplete;
  if (!total.error && part.error) total.error = part.error;
}

struct SplitFile {
  std::string path;
  std::unique_ptr<io::OutputFile> out;
  std::optional<Result<CollectReport>> result;
};

void write_split_file(SplitFile& f, PhysicalMemory& memory, const PageFilter* filter, DumpHeaderInfo header,
                      CollectOptions co) {
  header.split = true;
  header.split_start = co.write_start;
  header.split_end = co.write_end;
  WriterFactory factory = [&](const DumpPlan& plan) -> Result<std::unique_ptr<DumpWriter>> {
    header.max_dumped_pages = plan.pages;
    header.max_runs = plan.runs;
    return make_kdump_writer(*f.out, header);
  };
  f.result = collect(memory, filter, factory, co);
}

// Removes the parts this run created (before any page was written to them).
void abandon_all(std::vector<SplitFile>& files) {
  for (auto& f : files) {
    if (f.out) f.out->abandon();
  }
}

}  // namespace

int refilter_dump_level(int requested, const DumpMetadata& input, const std::string& input_name,
                        const Messenger& m) {
  if (!input.dump_level || (requested | *input.dump_level) == requested) return requested;
  int level = requested | (*input.dump_level & kDumpLevelMax);
  m.common("dump_level is changed to " + std::to_string(level) + ", because " + input_name +
           " was created by dump_level(" + std::to_string(*input.dump_level) +
           "): the pages it left out cannot be restored.\n");
  return level;
}

int run_split(const Options& o, PhysicalMemory& memory, const PageFilter* filter, const DumpHeaderInfo& header,
              const std::atomic<int>* cancel, Messenger& m) {
  const int parts = static_cast<int>(o.split_outputs.size());
  std::vector<SplitFile> files(static_cast<size_t>(parts));
  for (int k = 0; k < parts; ++k) {
    files[static_cast<size_t>(k)].path = o.split_outputs[static_cast<size_t>(k)];
    auto created = io::create_output(o.split_outputs[static_cast<size_t>(k)], {o.force});
    if (!created) {
      m.error(created.error().describe() + "\n");
      abandon_all(files);  // the parts created so far are empty
      return 1;
    }
    files[static_cast<size_t>(k)].out = io::with_faults(std::move(*created), o.faults_out);
  }
  CollectOptions co;
  co.dump_level = o.dump_level;
  co.codec = o.codec;
  co.cancel = cancel;
  const int threads = resolve_thread_count(o.num_threads);
  co.threads = threads;
  std::vector<uint64_t> bounds = split_boundaries(memory, filter, co, parts);
  co.threads = std::max(1, threads / parts);
  std::vector<std::thread> workers;
  for (int k = 0; k < parts; ++k) {
    CollectOptions mine = co;
    mine.write_start = bounds[static_cast<size_t>(k)];
    mine.write_end = bounds[static_cast<size_t>(k) + 1];
    m.debug(files[static_cast<size_t>(k)].path + ": pfns " + hex(mine.write_start) + "-" + hex(mine.write_end) + "\n");
    workers.emplace_back(write_split_file, std::ref(files[static_cast<size_t>(k)]), std::ref(memory), filter,
                         header, mine);
  }
  for (auto& w : workers) w.join();

  bool failed = false;
  for (auto& f : files) {
    if (f.result->ok()) continue;
    m.error(f.result->error().describe() + " (writing " + f.path + ")\n");
    f.out->abandon();  // nothing useful in it; the other parts keep what they hold
    failed = true;
  }
  if (failed) return 1;
  std::optional<CollectReport> total;
  for (auto& f : files) {
    const CollectReport& r = **f.result;
    if (!total) {
      total = r;
      total->dumped_pages = total->data_bytes = 0;
      total->excluded[ExcludeReason::kZero] = total->excluded[ExcludeReason::kUnreadable] = 0;
      total->unreadable.clear();
      total->incomplete = false;
      total->error.reset();
    }
    merge_split_report(*total, r);
  }
  say_run_warnings(*total, filter, m);
  m.report(format_report(*total, false));
  std::string names;
  for (const auto& f : files) names += (names.empty() ? "" : ", ") + f.path;
  if (total->incomplete) {
    say_missing_pages(*total, m);
    m.error("The split dumpfiles " + names + " are incomplete: they are marked so in their headers.\n");
    return 1;
  }
  m.common("\nThe split dumpfiles are saved to " + names + ".\n");
  return 0;
}

int run_reassemble(const Options& o, Messenger& m) {
  std::vector<std::unique_ptr<io::InputFile>> inputs;
  for (const auto& path : o.reassemble_inputs) {
    auto in = io::open_input(path, {!o.non_mmap});
    if (!in) {
      m.error(in.error().describe() + "\n");
      return 1;
    }
    inputs.push_back(std::move(*in));
  }
  auto created = io::create_output(o.output, {o.force});
  if (!created) {
    m.error(created.error().describe() + "\n");
    return 1;
  }
  auto out = io::with_faults(std::move(*created), o.faults_out);
  auto result = reassemble_kdump(std::move(inputs), *out);
  if (!result) {
    m.error(result.error().add_context("reassembling " + o.output).describe() + "\n");
    out->abandon();  // a half-written dump must not pass for a whole one
    return 1;
  }
  m.debug("reassembled " + std::to_string(result->files) + " files: " + std::to_string(result->pages) +
          " pages, " + std::to_string(result->data_bytes) + " bytes of page data\n");
  m.common("\nThe dumpfile is saved to " + o.output + ".\n");
  return 0;
}

}  // namespace vmc
