#ifndef TESSERA_CDEFLATE_SHIM_H
#define TESSERA_CDEFLATE_SHIM_H
/* libdeflate 1.14 (Debian bookworm): whole-buffer zlib compression and CRC-32,
   for the render's PNG container (Sources/Render/Encode/PNGEncoder.swift). */
#include <libdeflate.h>
#endif
