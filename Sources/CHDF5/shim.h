// Debian's libhdf5 (serial) for the Keras importer. Several of HDF5's handles and flags are macros that
// expand to library calls or globals, which Swift cannot import: these inline functions return them.
#ifndef RECURRENT_CHDF5_SHIM_H
#define RECURRENT_CHDF5_SHIM_H
#include <hdf5.h>

static inline hid_t chdf5_native_float(void) { return H5T_NATIVE_FLOAT; }
static inline hid_t chdf5_file_access_class(void) { return H5P_FILE_ACCESS; }
static inline unsigned chdf5_read_only(void) { return H5F_ACC_RDONLY; }
/// Turns off HDF5's automatic printing of error stacks to stderr (failures are reported as typed errors).
static inline herr_t chdf5_silence_errors(void) { return H5Eset_auto2(H5E_DEFAULT, NULL, NULL); }
#endif
