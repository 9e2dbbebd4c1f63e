#ifndef TESSERA_CTURBOJPEG_SHIM_H
#define TESSERA_CTURBOJPEG_SHIM_H
/* libjpeg-turbo 2.1's TurboJPEG API (tjInitDecompress, tjDecompressHeader3, tjDecompress2);
   the tj3* calls are 3.0 and absent from Debian bookworm. */
#include <turbojpeg.h>
#endif
