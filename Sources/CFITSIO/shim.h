#ifndef TESSERA_CFITSIO_SHIM_H
#define TESSERA_CFITSIO_SHIM_H
#include <fitsio.h>
/* fits_open_file & co. are alias macros; Swift sees only the ff* names. These wrappers
   keep the readable names for the calls Tessera makes. */
static inline int tessera_fits_open_readonly(fitsfile **f, const char *path, int *status) { return ffopentest(CFITSIO_SONAME, f, path, READONLY, status); }
static inline int tessera_fits_close(fitsfile *f, int *status) { return ffclos(f, status); }
#endif
