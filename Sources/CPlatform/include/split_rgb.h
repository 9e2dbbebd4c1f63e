#ifndef TESSERA_SPLIT_RGB_H
#define TESSERA_SPLIT_RGB_H
#include <stddef.h>
#include <stdint.h>
/* Splits `count` interleaved 8-bit RGB pixels at `src` into three planes. The planes must
   not overlap `src`. Byte shuffles (SSSE3) where the CPU has them, 16 pixels at a time:
   the TIFF reader does this for every pixel of an RGB slide, and a plain loop is ~4x
   slower; the result is the same either way. */
void tessera_split_rgb(const uint8_t *src, uint8_t *red, uint8_t *green, uint8_t *blue, size_t count);
#endif
