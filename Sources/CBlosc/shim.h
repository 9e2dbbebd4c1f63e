#ifndef TESSERA_CBLOSC_SHIM_H
#define TESSERA_CBLOSC_SHIM_H
#include <blosc.h>
#endif
