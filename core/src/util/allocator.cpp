#include "util/allocator.hpp"

#include <malloc.h>

namespace recgrid {

// Freed blocks stay in the process for the next step instead of going back to the kernel: each
// step allocates the same large tensors again, and a fresh mapping costs a page fault and a zeroed
// page for every 4 KiB. glibc maps any block above M_MMAP_THRESHOLD (at most 32 MiB) on its own, so
// at 10x and 100x amazon every embedding-sized tensor was a new mapping; M_MMAP_MAX 0 puts them in
// the heap too. Measured with `recgrid bench` (LightGCN, batch 4096, alternating runs, one sitting):
// 100x 23.4 -> 10.0 s a step (peak RSS 5.2 -> 6.3 GB, perf had shown ~30 % of the step in page
// faults), 10x 0.40 / 0.31 / 0.37 -> 0.29 / 0.26 / 0.27 s, 1x 0.020 -> 0.015 s.
void keep_freed_memory_for_reuse() {
  mallopt(M_MMAP_THRESHOLD, 32 * 1024 * 1024);
  mallopt(M_TRIM_THRESHOLD, 1024 * 1024 * 1024);
  mallopt(M_TOP_PAD, 64 * 1024 * 1024);
  mallopt(M_MMAP_MAX, 0);
}

}  // namespace recgrid
