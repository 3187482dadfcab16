#include "util/allocator.hpp"

#include <malloc.h>
#include <unistd.h>

#include <cstdlib>
#include <fstream>
#include <string>

namespace recgrid {

// Freed blocks stay in the process for the next step instead of going back to the kernel: each
// step allocates the same large tensors again, and a fresh mapping costs a page fault and a zeroed
// page for every 4 KiB. glibc maps any block above M_MMAP_THRESHOLD (at most 32 MiB) on its own, so
// at 10x and 100x amazon every embedding-sized tensor was a new mapping; M_MMAP_MAX 0 puts them in
// the heap too. Measured with `recgrid bench` (LightGCN, batch 4096, alternating runs, one sitting):
// 100x 23.4 -> 10.0 s a step (peak RSS 5.2 -> 6.3 GB, perf had shown ~30 % of the step in page
// faults), 10x 0.40 / 0.31 / 0.37 -> 0.29 / 0.26 / 0.27 s, 1x 0.020 -> 0.015 s.
// Never trimming (M_TRIM_THRESHOLD -1) was tried: fewer page faults at 100x, but no faster step in an
// alternated sitting and 0.2-0.4 GB more peak RSS, so the 1 GiB threshold stays (docs/PERFORMANCE.md).
void keep_freed_memory_for_reuse() {
  mallopt(M_MMAP_THRESHOLD, 32 * 1024 * 1024);
  mallopt(M_TRIM_THRESHOLD, 1024 * 1024 * 1024);
  mallopt(M_TOP_PAD, 64 * 1024 * 1024);
  mallopt(M_MMAP_MAX, 0);
}

// Measured with `recgrid bench` (LightGCN, batch 4096, one sitting, alternated, GLIBC_TUNABLES set by
// hand): 100x 3.9 / 4.4 -> 1.8 / 2.7 s a step, 10x and 1x unchanged within the noise (0.11 s, 0.013 s).
void use_huge_pages(char** argv) {
  const char* off = std::getenv("RECGRID_HUGE_PAGES");
  if (off && std::string(off) == "0") return;
  const char* tunables = std::getenv("GLIBC_TUNABLES");
  const std::string current = tunables ? tunables : "";
  if (current.find("glibc.malloc.hugetlb") != std::string::npos) return;  // set by the user, or done
  std::string mode;
  std::getline(std::ifstream("/sys/kernel/mm/transparent_hugepage/enabled"), mode);
  if (mode.find("[madvise]") == std::string::npos) return;  // always: nothing to ask; never: nothing to get
  const std::string wanted = (current.empty() ? "" : current + ":") + "glibc.malloc.hugetlb=1";
  if (setenv("GLIBC_TUNABLES", wanted.c_str(), 1) != 0) return;
  execv("/proc/self/exe", argv);  // returns only on failure: go on with 4 KiB pages
  if (tunables) setenv("GLIBC_TUNABLES", tunables, 1);
  else unsetenv("GLIBC_TUNABLES");
}

double huge_pages_mib() {
  std::ifstream f("/proc/self/smaps_rollup");
  for (std::string key; f >> key;) {
    double kib = 0;
    if (key == "AnonHugePages:" && f >> kib) return kib / 1024.0;
    f.ignore(1 << 20, '\n');
  }
  return 0.0;
}

}  // namespace recgrid
