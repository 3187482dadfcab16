// Memory allocator settings for training.
#pragma once

namespace recgrid {

// glibc returns every freed block above its mmap threshold to the kernel, so each new activation
// tensor of a few MB is fresh memory whose first touch page-faults: a [4096 x 2048] score block then
// costs ~40 ms instead of ~3 ms. Raising the mmap threshold to its maximum (32 MiB on 64-bit) and the
// trim threshold keeps freed blocks in the heap for reuse. Call once, before training.
void keep_freed_memory_for_reuse();

// Transparent huge pages for the heap. At 100x amazon every embedding-sized tensor is ~0.5 GB and the
// sparse product gathers rows from it at random: on 4 KiB pages nearly every gather also misses the
// TLB. glibc puts its heap on huge pages with the tunable glibc.malloc.hugetlb=1, which it reads from
// the environment once, at start; so, when the kernel gives huge pages only on request
// (transparent_hugepage/enabled = madvise, Debian's default), the process executes itself again once
// with the tunable added to GLIBC_TUNABLES. Returns only when no re-execution is needed or it failed.
// RECGRID_HUGE_PAGES=0 turns it off; a GLIBC_TUNABLES that already names glibc.malloc.hugetlb is kept.
void use_huge_pages(char** argv);

// The process's memory on transparent huge pages now (AnonHugePages of /proc/self/smaps_rollup), MiB.
double huge_pages_mib();

}  // namespace recgrid
