#include "cplatform.h"
#if defined(__GLIBC__)
#include <malloc.h>
#endif

void tessera_tune_allocator(void) {
#if defined(__GLIBC__)
    mallopt(M_MMAP_THRESHOLD, 64 << 20);
    mallopt(M_TRIM_THRESHOLD, 256 << 20);
#endif
}

#include <stdio.h>
static __thread char captured_error[512];

void tessera_capture_error(const char *module, const char *fmt, va_list ap) {
    (void)module;
    vsnprintf(captured_error, sizeof captured_error, fmt, ap);
}

const char *tessera_captured_error(void) { return captured_error; }

void tessera_clear_captured_error(void) { captured_error[0] = 0; }
