#ifndef TESSERA_COPENSLIDE_SHIM_H
#define TESSERA_COPENSLIDE_SHIM_H
/* Debian bookworm ships OpenSlide 3.4.1: no DICOM, no cache or ICC calls (those are 4.0). */
#include <openslide.h>
#endif
