#ifndef TESSERA_CHDF4_SHIM_H
#define TESSERA_CHDF4_SHIM_H
/* libhdf4-alt-dev installs its headers in /usr/include/hdf; they include one another with
   quotes, so this one include needs no extra search path. HDF4 and HDF5 export no common
   symbol, so both live in one process. */
#include <hdf/mfhdf.h>
#endif
