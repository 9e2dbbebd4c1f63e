#ifndef TESSERA_CHDF4_SHIM_H
#define TESSERA_CHDF4_SHIM_H
/* libhdf4-alt-dev installs its headers in /usr/include/hdf; they include one another with
   quotes, so this one include needs no extra search path. HDF4 and HDF5 export no common
   symbol, so both live in one process. */
#include <hdf/mfhdf.h>
#include <string.h>

/* The chunk lengths of an SDS (HDF_CHUNK_DEF is a union of C arrays, awkward in Swift).
   `flags` gets HDF_NONE for a contiguous SDS, else HDF_CHUNK (| HDF_COMP / HDF_NBIT). */
static inline intn tessera_sd_chunk_lengths(int32 sds, int32 rank, int32 *lengths, int32 *flags) {
    HDF_CHUNK_DEF def;
    memset(&def, 0, sizeof def);
    if (SDgetchunkinfo(sds, &def, flags) == FAIL) return FAIL;
    for (int32 i = 0; i < rank && i < H4_MAX_VAR_DIMS; i++) lengths[i] = def.chunk_lengths[i];
    return SUCCEED;
}

/* An SDS's compression coder (COMP_CODE_*) and, for deflate, its level. */
static inline intn tessera_sd_compression(int32 sds, int32 *coder, int32 *deflate_level) {
    comp_coder_t type = COMP_CODE_NONE;
    comp_info info;
    memset(&info, 0, sizeof info);
    if (SDgetcompinfo(sds, &type, &info) == FAIL) return FAIL;
    *coder = (int32)type;
    *deflate_level = type == COMP_CODE_DEFLATE ? (int32)info.deflate.level : 0;
    return SUCCEED;
}

/* Whether this build of the library can decode `coder` (Debian's has no szip). */
static inline int tessera_hdf4_can_decode(int32 coder) {
    uint32 config = 0;
    if (HCget_config_info((comp_coder_t)coder, &config) == FAIL) return 0;
    return (config & COMP_DECODER_ENABLED) != 0;
}
#endif
