#ifndef TESSERA_GDCM_BRIDGE_H
#define TESSERA_GDCM_BRIDGE_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/// Decodes ONE compressed DICOM frame (its fragment bytes, concatenated) with GDCM's
/// JPEG (baseline, extended, lossless), JPEG-LS or JPEG 2000 codec into `out`, which
/// holds exactly `out_length` bytes (columns × rows × samples × bits_allocated / 8).
/// No C++ exception leaves this function: any failure returns non-zero with a message
/// in `error`. `out_planar` receives the planar configuration of the decoded samples
/// and `out_photometric` the photometric interpretation after decoding (a codec may
/// turn YBR_FULL_422 into RGB).
int tessera_gdcm_decode_frame(const char *transfer_syntax, const uint8_t *data, size_t length,
                              uint32_t columns, uint32_t rows, uint16_t samples, uint16_t bits_allocated,
                              uint16_t bits_stored, uint16_t pixel_representation, const char *photometric,
                              uint8_t *out, size_t out_length, int *out_planar,
                              char *out_photometric, size_t photometric_capacity,
                              char *error, size_t error_capacity);

/// Whether GDCM's codecs decode this transfer syntax (1) or not (0).
int tessera_gdcm_can_decode(const char *transfer_syntax);

/// GDCM's version, for the provenance.
const char *tessera_gdcm_version(void);

#ifdef __cplusplus
}
#endif

#endif
