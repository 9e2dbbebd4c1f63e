#ifndef TESSERA_CPLATFORM_H
#define TESSERA_CPLATFORM_H
/* Process-level knobs that Swift's Glibc module does not expose (malloc.h). */

/* Raises glibc's mmap and trim thresholds so per-chunk buffers are reused instead of
   being returned to the kernel and re-faulted as zeroed pages on every chunk.
   A no-op where the C library is not glibc. */
void tessera_tune_allocator(void);

#include <stdarg.h>
/* C libraries that report errors through a process-wide printf-style callback (libtiff)
   get this one: it keeps the last message per thread, so the failing call can name its
   cause in one line instead of the library printing to stderr. */
void tessera_capture_error(const char *module, const char *fmt, va_list ap);
const char *tessera_captured_error(void);
void tessera_clear_captured_error(void);

/* Opens `path` (relative, '/'-separated) read-only under the directory `rootfd`, the way
   a server must: the path and every symlink it meets must stay beneath the root.
   Uses openat2(RESOLVE_BENEATH) where the kernel has it; elsewhere walks the path one
   component at a time with O_NOFOLLOW, so a symlink anywhere fails with ELOOP.
   Opens with O_NONBLOCK, so a FIFO (or device) cannot block the caller; the caller
   checks the type with fstat before reading.
   Returns a descriptor or -1 with errno set (ENOENT, ENOTDIR, EXDEV/ELOOP for escapes). */
int tessera_open_beneath(int rootfd, const char *path);

#include "split_rgb.h"
#endif
