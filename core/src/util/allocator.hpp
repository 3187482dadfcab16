// Memory allocator settings for training.
#pragma once

namespace recgrid {

// glibc returns every freed block above its mmap threshold to the kernel, so each new activation
// tensor of a few MB is fresh memory whose first touch page-faults: a [4096 x 2048] score block then
// costs ~40 ms instead of ~3 ms. Raising the mmap threshold to its maximum (32 MiB on 64-bit) and the
// trim threshold keeps freed blocks in the heap for reuse. Call once, before training.
void keep_freed_memory_for_reuse();

}  // namespace recgrid
