! A user's program built against the installed package: find_package(SRS) -> SRS::srs_fortran.
! Without daemons srs_init must fail cleanly through ierr (no abort), and everything local works.
program srs_fortran_outside
  use, intrinsic :: iso_fortran_env, only: int64, real64
  use mpi_f08
  use srs
  implicit none
  type(srs_distribution) :: block
  integer(int64) :: count
  integer :: ierr, rank, nprocs
  call MPI_Init()
  call MPI_Comm_rank(MPI_COMM_WORLD, rank)
  call MPI_Comm_size(MPI_COMM_WORLD, nprocs)
  call srs_distribution_block(block, ierr)
  if (ierr /= SRS_OK) error stop 'srs_distribution_block'
  call srs_local_count(block, 10_int64, rank, nprocs, count, ierr)
  if (ierr /= SRS_OK .or. count < 10 / nprocs) error stop 'srs_local_count'
  call srs_init(MPI_COMM_WORLD, '/nonexistent/srs.config', ierr)
  if (ierr == SRS_OK) error stop 'srs_init with a missing config must fail'
  if (len(srs_last_error()) == 0) error stop 'srs_last_error must explain'
  if (rank == 0) print '(a)', 'srs_fortran_outside: ok ('//srs_error_string(ierr)//')'
  call MPI_Finalize()
end program srs_fortran_outside
