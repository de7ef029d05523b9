/* The few things the Fortran module srs cannot do through BIND(C) alone.
 *
 *  - SRS_Init takes a C MPI_Comm; Fortran has an MPI_Fint handle (`use mpi`, or the MPI_VAL
 *    component of `use mpi_f08`'s type(MPI_Comm)). MPI_Comm_f2c is the only portable conversion.
 *  - The module mirrors srs.h's constants as Fortran parameters (the sentinel distributions, the
 *    datatype codes, the status codes). The static assertions below stop the build if the header
 *    and the module ever disagree, so a changed value cannot silently corrupt a Fortran run.
 */
#include <mpi.h>
#include <stdint.h>

#include "srs/srs.h"

int srs_fortran_init(MPI_Fint comm, const char* config_path) {
  return SRS_Init(MPI_Comm_f2c(comm), config_path);
}

/* Kept equal to the parameters in srs.f90. */
_Static_assert(sizeof(MPI_Fint) == sizeof(int), "srs.f90: MPI_Fint passed as c_int");
_Static_assert((intptr_t)SRS_DIST_NONE == 1, "srs.f90: SRS_DIST_NONE");
_Static_assert((intptr_t)SRS_DIST_SAME == 2, "srs.f90: SRS_DIST_SAME");
_Static_assert(sizeof(SRS_Distribution) == sizeof(intptr_t), "srs.f90: handle is c_intptr_t");
_Static_assert(sizeof(SRS_Datatype) == sizeof(int), "srs.f90: SRS_Datatype passed as c_int");
_Static_assert(SRS_CHAR == 1 && SRS_INT32 == 2 && SRS_INT64 == 3 && SRS_FLOAT == 4 &&
                   SRS_DOUBLE == 5 && SRS_FLOAT_COMPLEX == 6 && SRS_DOUBLE_COMPLEX == 7 &&
                   SRS_INT == 8 && SRS_LONG == 9,
               "srs.f90: datatype codes");
_Static_assert(SRS_OK == 0 && SRS_ERR_CANCELLED == -1 && SRS_ERR_UNKNOWN == -2 &&
                   SRS_ERR_INVALID_ARGUMENT == -3 && SRS_ERR_DEADLINE_EXCEEDED == -4 &&
                   SRS_ERR_NOT_FOUND == -5 && SRS_ERR_ALREADY_EXISTS == -6 &&
                   SRS_ERR_PERMISSION_DENIED == -7 && SRS_ERR_RESOURCE_EXHAUSTED == -8 &&
                   SRS_ERR_FAILED_PRECONDITION == -9 && SRS_ERR_ABORTED == -10 &&
                   SRS_ERR_OUT_OF_RANGE == -11 && SRS_ERR_UNIMPLEMENTED == -12 &&
                   SRS_ERR_INTERNAL == -13 && SRS_ERR_UNAVAILABLE == -14 &&
                   SRS_ERR_DATA_LOSS == -15 && SRS_ERR_UNAUTHENTICATED == -16,
               "srs.f90: status codes");
