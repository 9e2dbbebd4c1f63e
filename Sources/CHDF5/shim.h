#ifndef TESSERA_CHDF5_SHIM_H
#define TESSERA_CHDF5_SHIM_H
#include <hdf5.h>
/* HDF5's native type ids and property defaults are macros that call H5open() at run
   time; Swift imports none of them, so each is a function here. */
static inline hid_t tessera_h5t_native_int8(void) { return H5T_NATIVE_INT8; }
static inline hid_t tessera_h5t_native_uint8(void) { return H5T_NATIVE_UINT8; }
static inline hid_t tessera_h5t_native_int16(void) { return H5T_NATIVE_INT16; }
static inline hid_t tessera_h5t_native_uint16(void) { return H5T_NATIVE_UINT16; }
static inline hid_t tessera_h5t_native_int32(void) { return H5T_NATIVE_INT32; }
static inline hid_t tessera_h5t_native_uint32(void) { return H5T_NATIVE_UINT32; }
static inline hid_t tessera_h5t_native_int64(void) { return H5T_NATIVE_INT64; }
static inline hid_t tessera_h5t_native_uint64(void) { return H5T_NATIVE_UINT64; }
static inline hid_t tessera_h5t_native_float(void) { return H5T_NATIVE_FLOAT; }
static inline hid_t tessera_h5t_native_double(void) { return H5T_NATIVE_DOUBLE; }
static inline hid_t tessera_h5p_default(void) { return H5P_DEFAULT; }
static inline hid_t tessera_h5s_all(void) { return H5S_ALL; }
static inline unsigned tessera_h5f_acc_rdonly(void) { return H5F_ACC_RDONLY; }
static inline unsigned tessera_h5f_acc_trunc(void) { return H5F_ACC_TRUNC; }
static inline hid_t tessera_h5e_default(void) { return H5E_DEFAULT; }
static inline hid_t tessera_h5p_dataset_access(void) { return H5P_DATASET_ACCESS; }
static inline hid_t tessera_h5t_c_s1(void) { return H5T_C_S1; }
static inline hid_t tessera_h5p_file_access(void) { return H5P_FILE_ACCESS; }
static inline hid_t tessera_h5p_dataset_create(void) { return H5P_DATASET_CREATE; }
/* Silences HDF5's automatic error-stack printing; Tessera reports errors itself. */
static inline void tessera_h5_silence_errors(void) { H5Eset_auto2(H5E_DEFAULT, NULL, NULL); }
#endif
