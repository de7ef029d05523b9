! eigen_deflation — the k largest eigenvalues of a dense symmetric matrix by power iteration
! with Hotelling deflation, through ScaLAPACK/PBLAS on a 2-D block-cyclic matrix; Fortran with
! `use mpi` (integer communicator) and `use srs`.
!
!   mpiexec -n 4 eigen_deflation [--n 64] [--nb 8] [--k 3] [--iters 60] [--grid RxC]
!                                [--sleep-ms 0] [--out FILE]
!
! For each eigenvalue: `iters` power steps  y = A x (PDGEMV), lambda = x.y (PDDOT),
! x = y / ||y|| (PDNRM2, PDSCAL); then deflation  A := A - lambda x x^T (PDGER), so the next
! eigenvalue becomes the dominant one, and x restarts from a fixed vector. A changes during the
! run: a restart needs the deflated A, not the one it started from.
!
! A is n x n in nb x nb blocks on an R x C BLACS grid (row-major process order; default the most
! square grid with R <= C); x is an n x 1 distributed vector in process column 0. Both are
! registered with SRS's block_cyclic_2d distribution. A resumed run builds its own grid for its
! own process count, lets SRS read its local pieces of A and x — already in ScaLAPACK's local
! layout (column-major, leading dimension = NUMROC) — and hands them to PBLAS as they are.
!
! SRS: 14 calls (marked "! SRS"). Output: the eigenvalues (%.17g); with --out the eigenvalues
! followed by the final (deflated) A in global column-major order, as raw doubles.
program eigen_deflation
  use, intrinsic :: iso_fortran_env, only: int64, real64, output_unit, error_unit
  use, intrinsic :: iso_c_binding, only: c_int
  use mpi
  use srs
  implicit none

  integer, external :: numroc
  integer :: n = 64, nb = 8, k = 3, iters = 60, nprow = 0, npcol = 0, sleep_ms = 0
  character(len=512) :: out = ''
  real(real64), allocatable, target :: a(:, :), x(:), eigenvalues(:)
  real(real64), allocatable :: y(:)
  integer, target :: step
  integer :: rank, nprocs, ictxt, myrow, mycol, mloc, nloc, xloc, info, ierr, mpierr
  integer :: desca(9), descx(9)
  type(srs_distribution) :: matrix_dist, vector_dist
  real(real64) :: lambda
  logical :: stop_requested

  call MPI_Init(mpierr)
  call MPI_Comm_rank(MPI_COMM_WORLD, rank, mpierr)
  call MPI_Comm_size(MPI_COMM_WORLD, nprocs, mpierr)
  call parse_options()
  call blacs_get(-1, 0, ictxt)
  call blacs_gridinit(ictxt, 'R', nprow, npcol)
  call blacs_gridinfo(ictxt, nprow, npcol, myrow, mycol)
  mloc = numroc(n, nb, myrow, 0, nprow)
  nloc = numroc(n, nb, mycol, 0, npcol)
  xloc = merge(mloc, 0, mycol == 0)
  call descinit(desca, n, n, nb, nb, 0, 0, ictxt, mloc, info)
  call descinit(descx, n, 1, nb, 1, 0, 0, ictxt, mloc, info)
  allocate (a(mloc, nloc), x(mloc), y(mloc), eigenvalues(k))
  call assemble_matrix()
  call start_vector()
  eigenvalues = 0
  step = 0

  call srs_init(MPI_COMM_WORLD, ierr=ierr)                                              ! SRS
  call check('srs_init')
  call srs_distribution_block_cyclic_2d(int(n, int64), int(n, int64), int(nb, int64), & ! SRS
                                        int(nb, int64), nprow, npcol, 0, 0, matrix_dist)
  call srs_distribution_block_cyclic_2d(int(n, int64), 1_int64, int(nb, int64), 1_int64, & ! SRS
                                        nprow, npcol, 0, 0, vector_dist)
  if (srs_restart_value() == 1) then                                                    ! SRS
    call srs_read('A', a, matrix_dist, ierr)                                            ! SRS
    call check('srs_read A')
    call srs_read('x', x(1:xloc), vector_dist, ierr)                                    ! SRS
    call check('srs_read x')
    call srs_read('eigenvalues', eigenvalues, SRS_DIST_SAME, ierr)                      ! SRS
    call check('srs_read eigenvalues')
    call srs_read('step', step, SRS_DIST_SAME, ierr)                                    ! SRS
    call check('srs_read step')
    if (rank == 0) write (output_unit, '(a,i0,a,i0,a,i0,a)') 'eigen_deflation: resumed at step ', &
      step, ' on a ', nprow, ' x ', npcol, ' grid'
  end if
  call srs_register('A', a, int(n, int64)**2, matrix_dist, ierr)                       ! SRS
  call check('srs_register A')
  call srs_register('x', x(1:xloc), int(n, int64), vector_dist, ierr)                   ! SRS
  call check('srs_register x')
  call srs_register('eigenvalues', eigenvalues, int(k, int64), SRS_DIST_NONE, ierr)     ! SRS
  call check('srs_register eigenvalues')
  call srs_register('step', step, 1_int64, SRS_DIST_NONE, ierr)                         ! SRS
  call check('srs_register step')

  if (rank == 0) then
    write (output_unit, '(a,i0,a,i0,a,i0)') 'eigen_deflation: running on a ', nprow, ' x ', &
      npcol, ' grid from step ', step
    flush (output_unit)
  end if
  do while (step < k * iters)
    call power_step()
    step = step + 1
    if (mod(step, iters) == 0) then
      eigenvalues(step / iters) = lambda
      call pdger(n, n, -lambda, x, 1, 1, descx, 1, x, 1, 1, descx, 1, a, 1, 1, desca)
      call start_vector()
      if (rank == 0) then
        write (output_unit, '(a,i0,a,es24.17,a,i0)') 'eigen_deflation: lambda(', step / iters, &
          ') = ', lambda, ', A deflated at step ', step
        flush (output_unit)
      end if
    end if
    if (sleep_ms > 0) call sleep_milliseconds(sleep_ms)
    call srs_check_stop(stop_requested, ierr)                                           ! SRS
    call check('srs_check_stop')
    if (stop_requested) then
      if (rank == 0) write (output_unit, '(a,i0,a)') 'eigen_deflation: stopped at step ', &
        step, ', checkpoint committed'
      call blacs_exit(1)
      call MPI_Finalize(mpierr)
      stop
    end if
  end do

  call report()
  call srs_finish(ierr)                                                                 ! SRS
  call check('srs_finish')
  call blacs_exit(1)
  call MPI_Finalize(mpierr)

contains

  ! One power step: y = A x, lambda = x.y, x = y / ||y||. lambda is made known on every rank
  ! (PBLAS leaves scalar results in the vector's process column only).
  subroutine power_step()
    real(real64) :: norm, values(2)
    call pdgemv('N', n, n, 1.0_real64, a, 1, 1, desca, x, 1, 1, descx, 1, 0.0_real64, y, 1, 1, &
                descx, 1)
    values = 0
    call pddot(n, values(1), x, 1, 1, descx, 1, y, 1, 1, descx, 1)
    call pdnrm2(n, values(2), y, 1, 1, descx, 1)
    if (mycol == 0) then
      call dgebs2d(ictxt, 'Row', ' ', 2, 1, values, 2)
    else
      call dgebr2d(ictxt, 'Row', ' ', 2, 1, values, 2, myrow, 0)
    end if
    lambda = values(1)
    norm = values(2)
    if (mycol == 0) x = y
    call pdscal(n, 1.0_real64 / norm, x, 1, 1, descx, 1)
  end subroutine power_step

  ! Global index (1-based) of local index l in a dimension split in blocks of nb over np.
  integer function global_index(l, p, np)
    integer, intent(in) :: l, p, np
    global_index = ((l - 1) / nb * np + p) * nb + mod(l - 1, nb) + 1
  end function global_index

  ! A(i, j) = n * 0.7**(i-1) on the diagonal + 1/(i+j): symmetric, eigenvalues well apart.
  subroutine assemble_matrix()
    integer :: i, j, gi, gj
    do j = 1, nloc
      gj = global_index(j, mycol, npcol)
      do i = 1, mloc
        gi = global_index(i, myrow, nprow)
        a(i, j) = 1.0_real64 / (gi + gj)
        if (gi == gj) a(i, j) = a(i, j) + n * 0.7_real64**(gi - 1)
      end do
    end do
  end subroutine assemble_matrix

  subroutine start_vector()
    integer :: i
    if (mycol /= 0) return
    do i = 1, mloc
      x(i) = 1.0_real64 + real(global_index(i, myrow, nprow), real64) / n
    end do
  end subroutine start_vector

  ! Rank 0 prints the eigenvalues and writes them and the whole deflated A (--out). A is
  ! assembled on rank 0 by a sum of disjoint pieces, which is exact.
  subroutine report()
    real(real64), allocatable :: full(:, :), total(:, :)
    integer :: i, j, unit
    allocate (full(n, n), total(n, n))
    full = 0
    do j = 1, nloc
      do i = 1, mloc
        full(global_index(i, myrow, nprow), global_index(j, mycol, npcol)) = a(i, j)
      end do
    end do
    call MPI_Reduce(full, total, n * n, MPI_DOUBLE_PRECISION, MPI_SUM, 0, MPI_COMM_WORLD, mpierr)
    if (rank /= 0) return
    do i = 1, k
      write (output_unit, '(a,i0,a,es24.17)') 'eigen_deflation: lambda(', i, ') = ', &
        eigenvalues(i)
    end do
    if (len_trim(out) > 0) then
      open (newunit=unit, file=trim(out), access='stream', form='unformatted', &
            status='replace', action='write')
      write (unit) eigenvalues, total
      close (unit)
    end if
  end subroutine report

  subroutine check(what)
    character(len=*), intent(in) :: what
    if (ierr == SRS_OK) return
    write (error_unit, '(a)') 'eigen_deflation: '//what//' failed: '//srs_error_string(ierr)// &
      ': '//srs_last_error()
    call MPI_Abort(MPI_COMM_WORLD, 1, mpierr)
  end subroutine check

  subroutine parse_options()
    character(len=512) :: name, value
    integer :: i, x_at
    i = 1
    do while (i < command_argument_count())
      call get_command_argument(i, name)
      call get_command_argument(i + 1, value)
      select case (trim(name))
      case ('--n')
        read (value, *) n
      case ('--nb')
        read (value, *) nb
      case ('--k')
        read (value, *) k
      case ('--iters')
        read (value, *) iters
      case ('--grid')
        x_at = index(value, 'x')
        read (value(:x_at - 1), *) nprow
        read (value(x_at + 1:), *) npcol
      case ('--sleep-ms')
        read (value, *) sleep_ms
      case ('--out')
        out = value
      case default
        call usage()
      end select
      i = i + 2
    end do
    if (nprow == 0) then
      nprow = int(sqrt(real(nprocs)))
      do while (mod(nprocs, nprow) /= 0)
        nprow = nprow - 1
      end do
      npcol = nprocs / nprow
    end if
    if (nprow * npcol /= nprocs .or. n < nb * max(nprow, npcol) .or. k < 1 .or. iters < 1 &
        .or. k > n) call usage()
  end subroutine parse_options

  subroutine usage()
    if (rank == 0) write (error_unit, '(a)') 'usage: eigen_deflation [--n N] [--nb NB] [--k K] '// &
      '[--iters I] [--grid RxC (R*C = ranks, N >= NB*max(R,C))] [--sleep-ms MS] [--out FILE]'
    call MPI_Abort(MPI_COMM_WORLD, 2, mpierr)
  end subroutine usage

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

end program eigen_deflation
