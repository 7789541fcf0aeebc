// make-tib-dump: writes the synthetic terabyte dump of tests/builder/tib_dump.h,
// for bench/tib.sh and by hand:
//   make-tib-dump [--gib N] [--kernel-mib N] OUT.vmcore
// Prints what the filter should find at -d 31.
#include <cstdio>
#include <cstdlib>
#include <string>

#include "tests/builder/tib_dump.h"

int main(int argc, char** argv) {
  vmc::testing::TibSpec spec;
  std::string out;
  for (int i = 1; i < argc; ++i) {
    std::string a = argv[i];
    if (a == "--gib" && i + 1 < argc) {
      spec.ram_bytes = std::strtoull(argv[++i], nullptr, 10) << 30;
    } else if (a == "--kernel-mib" && i + 1 < argc) {
      spec.kernel_data_bytes = std::strtoull(argv[++i], nullptr, 10) << 20;
    } else if (out.empty() && !a.starts_with("-")) {
      out = a;
    } else {
      std::fprintf(stderr, "usage: make-tib-dump [--gib N] [--kernel-mib N] OUT.vmcore\n");
      return 2;
    }
  }
  if (out.empty()) {
    std::fprintf(stderr, "usage: make-tib-dump [--gib N] [--kernel-mib N] OUT.vmcore\n");
    return 2;
  }
  auto counts = vmc::testing::write_tib_dump(spec, out);
  if (!counts) {
    std::fprintf(stderr, "make-tib-dump: %s\n", counts.error().describe().c_str());
    return 1;
  }
  std::printf("ram_pages %llu\nfree_pages %llu\nuser_pages %llu\ncache_pages %llu\nstored_pages %llu\n"
              "kept_data_pages %llu\n",
              static_cast<unsigned long long>(counts->ram_pages), static_cast<unsigned long long>(counts->free_pages),
              static_cast<unsigned long long>(counts->user_pages), static_cast<unsigned long long>(counts->cache_pages),
              static_cast<unsigned long long>(counts->stored_pages),
              static_cast<unsigned long long>(counts->kept_data_pages));
  return 0;
}
