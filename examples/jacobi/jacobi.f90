! jacobi — Jacobi iteration for the Poisson problem -lap(u) = 1 on the unit square, u = 0 on the
! boundary, in Fortran with `use mpi_f08` and `use srs`.
!
!   mpiexec -n 3 jacobi [--n 128] [--iters 5000] [--tol 1e-8] [--sleep-ms 0] [--out FILE]
!
! Grid: n x n points including the boundary, u(i, j) column-major. Each rank owns a block of
! whole columns (ScaLAPACK's 1 x P block layout: nb = ceil(n/P) columns per rank, the last rank
! the rest), stored as u(1:n, 0:ncols+1) with one ghost column on each side exchanged every
! iteration. The iteration stops when max |u_new - u| < tol or after `iters` iterations; a
! maximum is exact in any order, so the run is bitwise identical on any process count.
!
! SRS: 9 calls (marked "! SRS"): the owned columns u(:, 1:ncols) — a rank-2 section,
! contiguous because it spans whole columns — with SRS's block_cyclic_2d distribution on the
! 1 x P grid, and the iteration counter. A resumed run builds the distribution for its own P and
! reads its own columns back.
program jacobi
  use, intrinsic :: iso_fortran_env, only: int64, real64, output_unit, error_unit
  use, intrinsic :: iso_c_binding, only: c_int
  use mpi_f08
  use srs
  implicit none

  integer :: n = 128, iters = 5000, sleep_ms = 0
  real(real64) :: tol = 1.0e-8_real64
  character(len=512) :: out = ''
  real(real64), allocatable, target :: u(:, :)
  real(real64), allocatable :: unew(:, :)
  integer, target :: iteration
  integer :: rank, nprocs, nb, ncols, first_col, ierr
  real(real64) :: h2, change, global_change
  type(srs_distribution) :: columns
  logical :: stop_requested

  call MPI_Init()
  call MPI_Comm_rank(MPI_COMM_WORLD, rank)
  call MPI_Comm_size(MPI_COMM_WORLD, nprocs)
  call parse_options()
  nb = (n + nprocs - 1) / nprocs
  if ((nprocs - 1) * nb >= n) then
    if (rank == 0) write (error_unit, '(a,i0,a,i0,a)') 'jacobi: ', nprocs, &
      ' ranks is too many for ', n, ' columns'
    call MPI_Finalize()
    error stop 2
  end if
  first_col = rank * nb + 1                  ! global index of my first column
  ncols = min(nb, n - rank * nb)
  allocate (u(n, 0:ncols + 1), unew(n, ncols))
  u = 0
  h2 = (1.0_real64 / (n - 1))**2
  iteration = 0

  call srs_init(MPI_COMM_WORLD, ierr=ierr)                                              ! SRS
  call check('srs_init')
  call srs_distribution_block_cyclic_2d(int(n, int64), int(n, int64), int(n, int64), &  ! SRS
                                        int(nb, int64), 1, nprocs, 0, 0, columns, ierr)
  if (srs_restart_value() == 1) then                                                    ! SRS
    call srs_read('u', u(:, 1:ncols), columns, ierr)                                    ! SRS
    call check('srs_read u')
    call srs_read('iteration', iteration, SRS_DIST_SAME, ierr)                          ! SRS
    call check('srs_read iteration')
    if (rank == 0) write (output_unit, '(a,i0,a,i0,a)') 'jacobi: resumed at step ', &
      iteration, ' on ', nprocs, ' ranks'
  end if
  call srs_register('u', u(:, 1:ncols), int(n, int64)**2, columns, ierr)               ! SRS
  call check('srs_register u')
  call srs_register('iteration', iteration, 1_int64, SRS_DIST_NONE, ierr)               ! SRS
  call check('srs_register iteration')

  if (rank == 0) then
    write (output_unit, '(a,i0,a,i0)') 'jacobi: running on ', nprocs, ' ranks from step ', &
      iteration
    flush (output_unit)
  end if
  global_change = huge(1.0_real64)
  do while (iteration < iters)
    call exchange_ghost_columns()
    call sweep(change)
    call MPI_Allreduce(change, global_change, 1, MPI_DOUBLE_PRECISION, MPI_MAX, MPI_COMM_WORLD)
    iteration = iteration + 1
    if (global_change < tol) exit
    if (sleep_ms > 0) call sleep_milliseconds(sleep_ms)
    call srs_check_stop(stop_requested, ierr)                                                     ! SRS
    call check('srs_check_stop')
    if (stop_requested) then
      if (rank == 0) write (output_unit, '(a,i0,a)') 'jacobi: stopped at step ', iteration, &
        ', checkpoint committed'
      call MPI_Finalize()
      stop
    end if
  end do

  call report()
  call srs_finish(ierr)                                                                 ! SRS
  call check('srs_finish')
  call MPI_Finalize()

contains

  subroutine exchange_ghost_columns()
    integer :: left, right
    left = merge(rank - 1, MPI_PROC_NULL, rank > 0)
    right = merge(rank + 1, MPI_PROC_NULL, rank < nprocs - 1)
    call MPI_Sendrecv(u(:, ncols), n, MPI_DOUBLE_PRECISION, right, 0, u(:, 0), n, &
                      MPI_DOUBLE_PRECISION, left, 0, MPI_COMM_WORLD, MPI_STATUS_IGNORE)
    call MPI_Sendrecv(u(:, 1), n, MPI_DOUBLE_PRECISION, left, 1, u(:, ncols + 1), n, &
                      MPI_DOUBLE_PRECISION, right, 1, MPI_COMM_WORLD, MPI_STATUS_IGNORE)
  end subroutine exchange_ghost_columns

  ! One Jacobi sweep over my interior points; change = max |u_new - u| on this rank.
  subroutine sweep(change)
    real(real64), intent(out) :: change
    integer :: i, j, jg
    change = 0
    do j = 1, ncols
      jg = first_col + j - 1
      unew(:, j) = u(1:n, j)
      if (jg == 1 .or. jg == n) cycle
      do i = 2, n - 1
        unew(i, j) = 0.25_real64 * (u(i - 1, j) + u(i + 1, j) + u(i, j - 1) + u(i, j + 1) + h2)
        change = max(change, abs(unew(i, j) - u(i, j)))
      end do
    end do
    u(:, 1:ncols) = unew
  end subroutine sweep

  ! Rank 0 gathers the field, prints its sum and norm, writes it (raw doubles) to --out.
  subroutine report()
    real(real64), allocatable :: field(:, :)
    integer, allocatable :: counts(:), displs(:)
    integer :: r, unit
    allocate (counts(nprocs), displs(nprocs), field(n, merge(n, 1, rank == 0)))
    do r = 0, nprocs - 1
      counts(r + 1) = n * min(nb, n - r * nb)
      displs(r + 1) = n * r * nb
    end do
    call MPI_Gatherv(u(:, 1:ncols), n * ncols, MPI_DOUBLE_PRECISION, field, counts, displs, &
                     MPI_DOUBLE_PRECISION, 0, MPI_COMM_WORLD)
    if (rank /= 0) return
    write (output_unit, '(a,i0,a,i0,a,es24.17,a,es24.17,a,es10.3)') 'jacobi: n=', n, &
      ' steps=', iteration, ' sum=', sum(field), ' norm=', norm2(field), ' change=', &
      global_change
    if (len_trim(out) > 0) then
      open (newunit=unit, file=trim(out), access='stream', form='unformatted', &
            status='replace', action='write')
      write (unit) field
      close (unit)
    end if
  end subroutine report

  subroutine check(what)
    character(len=*), intent(in) :: what
    if (ierr == SRS_OK) return
    write (error_unit, '(a)') 'jacobi: '//what//' failed: '//srs_error_string(ierr)//': '// &
      srs_last_error()
    call MPI_Abort(MPI_COMM_WORLD, 1)
  end subroutine check

  subroutine parse_options()
    character(len=512) :: name, value
    integer :: k
    k = 1
    do while (k < command_argument_count())
      call get_command_argument(k, name)
      call get_command_argument(k + 1, value)
      select case (trim(name))
      case ('--n')
        read (value, *) n
      case ('--iters')
        read (value, *) iters
      case ('--tol')
        read (value, *) tol
      case ('--sleep-ms')
        read (value, *) sleep_ms
      case ('--out')
        out = value
      case default
        if (rank == 0) write (error_unit, '(a)') 'usage: jacobi [--n N] [--iters K] '// &
          '[--tol T] [--sleep-ms MS] [--out FILE]'
        call MPI_Abort(MPI_COMM_WORLD, 2)
      end select
      k = k + 2
    end do
    if (n < 3) call MPI_Abort(MPI_COMM_WORLD, 2)
  end subroutine parse_options

  subroutine sleep_milliseconds(ms)
    integer, intent(in) :: ms
    interface
      integer(c_int) function usleep(microseconds) bind(C, name='usleep')
        import :: c_int
        integer(c_int), value :: microseconds
      end function usleep
    end interface
    if (usleep(int(ms, c_int) * 1000_c_int) /= 0) continue
  end subroutine sleep_milliseconds

end program jacobi
