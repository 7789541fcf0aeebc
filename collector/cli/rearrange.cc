// -R: rebuild a dump file from a flattened stream on standard input (the far
// end of `vmcollect -F ... | ssh host vmcollect -R FILE`).
#include "collector/cli/rearrange.h"

#include "formats/flattened_reader.h"

namespace vmc {

int run_rearrange(const Options& o, const std::atomic<int>* cancel, Messenger& m) {
  auto created = io::create_output(o.output, {.overwrite = o.force, .allow_device = true});
  if (!created) {
    m.error(created.error().describe() + "\n");
    return 1;
  }
  auto out = io::with_faults(std::move(*created), o.faults_out);
  auto in = stdin_stream(cancel);
  auto result = rearrange_flattened(*in, *out);
  if (!result) {
    m.error(result.error().describe() + "\n");
    if (out->bytes_written() == 0) {
      out->abandon();  // nothing arrived: no empty file left to pass for a dump
    } else {
      m.error("The dumpfile " + o.output + " is incomplete: it holds the records replayed before the failure and is marked incomplete.\n");
    }
    return 1;
  }
  m.debug("rearranged " + std::to_string(result->records) + " records, " +
          std::to_string(result->data_bytes) + " bytes\n");
  m.common("\nThe dumpfile is saved to " + o.output + ".\n");
  return 0;
}

}  // namespace vmc
