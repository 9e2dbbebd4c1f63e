#ifndef TESSERA_COPENJPEG_SHIM_H
#define TESSERA_COPENJPEG_SHIM_H
#include <openjpeg.h>
#endif
