#ifndef TESSERA_CZSTD_SHIM_H
#define TESSERA_CZSTD_SHIM_H
#include <zstd.h>
/* ZSTD_CONTENTSIZE_* are macros over unsigned-long-long casts Swift cannot import. */
static inline unsigned long long tessera_zstd_contentsize_unknown(void) { return ZSTD_CONTENTSIZE_UNKNOWN; }
static inline unsigned long long tessera_zstd_contentsize_error(void) { return ZSTD_CONTENTSIZE_ERROR; }
#endif
