#ifndef TESSERA_CPLATFORM_H
#define TESSERA_CPLATFORM_H
/* Process-level knobs that Swift's Glibc module does not expose (malloc.h). */

/* Raises glibc's mmap and trim thresholds so per-chunk buffers are reused instead of
   being returned to the kernel and re-faulted as zeroed pages on every chunk.
   A no-op where the C library is not glibc. */
void tessera_tune_allocator(void);
#endif
