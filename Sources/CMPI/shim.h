// Open MPI's handles (MPI_COMM_WORLD, MPI_FLOAT, MPI_SUM, …) are macros over the addresses of
// library globals, which Swift cannot import; these static inline functions return them.
#ifndef RECURRENT_CMPI_SHIM_H
#define RECURRENT_CMPI_SHIM_H
#include <mpi.h>

static inline MPI_Comm recurrent_mpi_comm_world(void) { return MPI_COMM_WORLD; }
static inline MPI_Datatype recurrent_mpi_float(void) { return MPI_FLOAT; }
static inline MPI_Datatype recurrent_mpi_double(void) { return MPI_DOUBLE; }
static inline MPI_Datatype recurrent_mpi_byte(void) { return MPI_BYTE; }
static inline MPI_Op recurrent_mpi_sum(void) { return MPI_SUM; }
static inline MPI_Op recurrent_mpi_max(void) { return MPI_MAX; }
static inline MPI_Errhandler recurrent_mpi_errors_return(void) { return MPI_ERRORS_RETURN; }
static inline int recurrent_mpi_thread_funneled(void) { return MPI_THREAD_FUNNELED; }
static inline void *recurrent_mpi_in_place(void) { return MPI_IN_PLACE; }
static inline int recurrent_mpi_success(void) { return MPI_SUCCESS; }
static inline int recurrent_mpi_max_error_string(void) { return MPI_MAX_ERROR_STRING; }

#endif
