// -R: rebuild a dump file from a flattened stream on standard input (the far
// end of `vmcollect -F ... | ssh host vmcollect -R FILE`).
#include "collector/cli/rearrange.h"

#include "formats/flattened_reader.h"

namespace vmc {

int run_rearrange(const Options& o, Messenger& m) {
  auto created = io::create_output(o.output, {o.force});
  if (!created) {
    m.error(created.error().describe() + "\n");
    return 1;
  }
  auto out = io::with_faults(std::move(*created), o.faults_out);
  auto in = stdin_stream();
  auto result = rearrange_flattened(*in, *out);
  Status finished = result ? out->finish() : Status{};
  if (!result || !finished) {
    const Error& e = result ? finished.error() : result.error();
    m.error(e.describe() + "\n");
    return 1;
  }
  m.debug("rearranged " + std::to_string(result->records) + " records, " +
          std::to_string(result->data_bytes) + " bytes\n");
  m.common("\nThe dumpfile is saved to " + o.output + ".\n");
  return 0;
}

}  // namespace vmc
