#ifndef TESSERA_CTIFF_SHIM_H
#define TESSERA_CTIFF_SHIM_H
#include <tiffio.h>
/* TIFFGetField / TIFFSetField are variadic: typed wrappers for the shapes of tags we use. */
static inline int tessera_tiff_get_u16(TIFF *t, uint32_t tag, uint16_t *v) { return TIFFGetField(t, tag, v); }
static inline int tessera_tiff_get_u32(TIFF *t, uint32_t tag, uint32_t *v) { return TIFFGetField(t, tag, v); }
static inline int tessera_tiff_get_u64(TIFF *t, uint32_t tag, uint64_t *v) { return TIFFGetField(t, tag, v); }
static inline int tessera_tiff_get_float(TIFF *t, uint32_t tag, float *v) { return TIFFGetField(t, tag, v); }
static inline int tessera_tiff_get_string(TIFF *t, uint32_t tag, char **v) { return TIFFGetField(t, tag, v); }
static inline int tessera_tiff_get_u16_array(TIFF *t, uint32_t tag, uint16_t *count, uint16_t **v) { return TIFFGetField(t, tag, count, v); }
static inline int tessera_tiff_get_u64_array(TIFF *t, uint32_t tag, uint16_t *count, uint64_t **v) { return TIFFGetField(t, tag, count, v); }
static inline int tessera_tiff_get_defaulted_u16(TIFF *t, uint32_t tag, uint16_t *v) { return TIFFGetFieldDefaulted(t, tag, v); }
static inline int tessera_tiff_set_u16(TIFF *t, uint32_t tag, uint16_t v) { return TIFFSetField(t, tag, (int)v); }
static inline int tessera_tiff_set_u32(TIFF *t, uint32_t tag, uint32_t v) { return TIFFSetField(t, tag, v); }
static inline int tessera_tiff_set_string(TIFF *t, uint32_t tag, const char *v) { return TIFFSetField(t, tag, v); }
static inline int tessera_tiff_get_u32_array(TIFF *t, uint32_t tag, uint32_t *count, void **v) { return TIFFGetField(t, tag, count, v); }
static inline int tessera_tiff_get_defaulted_u32(TIFF *t, uint32_t tag, uint32_t *v) { return TIFFGetFieldDefaulted(t, tag, v); }
static inline int tessera_tiff_set_int(TIFF *t, uint32_t tag, int v) { return TIFFSetField(t, tag, v); }


/* libtiff reports errors through one process-wide printf-style callback. Tessera routes
   them to tessera_capture_error (CPlatform), which keeps the last message per thread so
   a failed call can name its cause, and silences warnings (unknown private tags are
   routine in microscopy files). */
extern void tessera_capture_error(const char *module, const char *fmt, va_list ap);
static inline void tessera_tiff_route_errors(void) {
    TIFFSetErrorHandler(tessera_capture_error);
    TIFFSetWarningHandler(NULL);
}
#endif
