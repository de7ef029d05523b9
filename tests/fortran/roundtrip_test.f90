! Every datatype and rank of the Fortran binding through a real checkpoint and restart, on a
! different process count (driven by roundtrip.sh under the real daemons; `use mpi_f08`).
!
!   roundtrip_test write   registers the arrays below, then calls srs_check_stop until a stop
!                          from outside commits the checkpoint (prints "running", "stopped").
!   roundtrip_test read    on any process count: reads every array back, redistributed to this
!                          run's layout, and checks every element; checks the errors a wrong read
!                          reports through ierr; srs_finish.
program roundtrip_test
  use, intrinsic :: iso_c_binding, only: c_int
  use, intrinsic :: iso_fortran_env, only: int32, int64, real32, real64, output_unit
  use mpi_f08
  use srs
  use srs_test_support
  implicit none

  integer, parameter :: N_R32 = 101, N_R64 = 101, N_I32_BLOCKS = 37, N_I64 = 50, N_C32 = 29
  integer, parameter :: N_MAP = 40
  character(len=16) :: mode
  integer :: rank, nprocs, ierr, total_failures
  type(layout) :: l_block, l_cyclic, l_bc3, l_c2d, l_r2d

  call MPI_Init()
  call MPI_Comm_rank(MPI_COMM_WORLD, rank)
  call MPI_Comm_size(MPI_COMM_WORLD, nprocs)
  call get_command_argument(1, mode)

  l_block%kind = KIND_BLOCK
  l_cyclic%kind = KIND_CYCLIC
  l_bc3%kind = KIND_BLOCK_CYCLIC
  l_bc3%block = 3
  l_c2d = layout(kind=KIND_2D, rows=13, cols=11, mb=2, nb=3)
  l_r2d = layout(kind=KIND_2D, rows=20, cols=17, mb=4, nb=3)
  call grid_shape(nprocs, l_c2d%nprow, l_c2d%npcol)
  call grid_shape(nprocs, l_r2d%nprow, l_r2d%npcol)

  call srs_init(MPI_COMM_WORLD, '', ierr)
  call expect_code(ierr, SRS_OK, 'srs_init (mpi_f08 communicator)')
  if (ierr == SRS_OK) then
    select case (trim(mode))
    case ('write')
      call write_phase()
    case ('read')
      call read_phase()
    case default
      call expect(.false., 'usage: roundtrip_test write|read')
    end select
  end if

  call MPI_Allreduce(failures, total_failures, 1, MPI_INTEGER, MPI_SUM, MPI_COMM_WORLD)
  if (rank == 0) write (output_unit, '(a,a,a,i0,a,i0)') 'roundtrip_test ', trim(mode), &
    ': ranks ', nprocs, ', failures ', total_failures
  call MPI_Finalize()
  if (total_failures /= 0) error stop 1

contains

  subroutine write_phase()
    real(real32), allocatable, target :: r32(:)
    real(real64), allocatable, target :: r64(:), r2d(:, :), map(:), mine(:)
    integer(int32), allocatable, target :: i32(:, :)
    integer(int64), allocatable, target :: i64(:)
    complex(real32), allocatable, target :: c32(:)
    complex(real64), allocatable, target :: c2d(:, :)
    integer(int32), target :: step
    real(real64), target :: dscalar
    integer(int64), target :: i64scalar
    complex(real64), target :: cscalar
    type(srs_distribution) :: block, cyclic, bc3, c2d_dist, r2d_dist, map_dist
    integer(c_int), allocatable :: owners(:)
    integer(int64), allocatable :: idx(:)
    integer(int64) :: g
    logical :: stop
    integer :: k

    call expect(srs_restart_value() == 0, 'a fresh run has srs_restart_value() == 0')
    call srs_distribution_block(block, ierr)
    call expect_code(ierr, SRS_OK, 'srs_distribution_block')
    call srs_distribution_cyclic(cyclic, ierr)
    call expect_code(ierr, SRS_OK, 'srs_distribution_cyclic')
    call srs_distribution_block_cyclic(3_int64, bc3, ierr)
    call expect_code(ierr, SRS_OK, 'srs_distribution_block_cyclic')
    call make_2d(l_c2d, c2d_dist)
    call make_2d(l_r2d, r2d_dist)
    allocate (owners(N_MAP))
    do k = 1, N_MAP
      owners(k) = int(mod((k - 1) * 7 / 3, nprocs), c_int)
    end do
    call srs_distribute_map_create(owners, map_dist, ierr)
    call expect_code(ierr, SRS_OK, 'srs_distribute_map_create')

    call owned_indices(l_block, int(N_R32, int64), rank, nprocs, idx)
    r32 = real(value_r64(idx, 1), real32)
    call srs_register('r32_block', r32, int(N_R32, int64), block, ierr)
    call expect_code(ierr, SRS_OK, 'register real32 rank 1 block')

    call owned_indices(l_cyclic, int(N_R64, int64), rank, nprocs, idx)
    r64 = value_r64(idx, 2)
    call srs_register('r64_cyclic', r64, int(N_R64, int64), cyclic, ierr)
    call expect_code(ierr, SRS_OK, 'register real64 rank 1 cyclic')

    call owned_indices(l_bc3, 3_int64 * N_I32_BLOCKS, rank, nprocs, idx)
    i32 = reshape(int(value_i64(idx, 3), int32), [3, size(idx) / 3])
    call srs_register('i32_bc', i32, 3_int64 * N_I32_BLOCKS, bc3, ierr)
    call expect_code(ierr, SRS_OK, 'register int32 rank 2 block_cyclic(3)')

    call owned_indices(l_block, int(N_I64, int64), rank, nprocs, idx)
    i64 = value_i64(idx, 4)
    call srs_register('i64_block', i64, int(N_I64, int64), block, ierr)
    call expect_code(ierr, SRS_OK, 'register int64 rank 1 block')

    call owned_indices(l_cyclic, int(N_C32, int64), rank, nprocs, idx)
    c32 = cmplx(value_r64(idx, 5), -real(idx, real64), real32)
    call srs_register('c32_cyclic', c32, int(N_C32, int64), cyclic, ierr)
    call expect_code(ierr, SRS_OK, 'register complex(real32) rank 1 cyclic')

    call owned_indices(l_c2d, l_c2d%rows * l_c2d%cols, rank, nprocs, idx)
    c2d = reshape(cmplx(value_r64(idx, 6), real(idx, real64), real64), [local_rows(l_c2d), local_cols(l_c2d)])
    call srs_register('c64_2d', c2d, l_c2d%rows * l_c2d%cols, c2d_dist, ierr)
    call expect_code(ierr, SRS_OK, 'register complex(real64) rank 2 block_cyclic_2d')

    call owned_indices(l_r2d, l_r2d%rows * l_r2d%cols, rank, nprocs, idx)
    r2d = reshape(value_r64(idx, 7), [local_rows(l_r2d), local_cols(l_r2d)])
    call srs_register('r64_2d', r2d, l_r2d%rows * l_r2d%cols, r2d_dist, ierr)
    call expect_code(ierr, SRS_OK, 'register real64 rank 2 block_cyclic_2d')

    map = [(value_r64(g, 8), g = 0, N_MAP - 1)]
    map = pack(map, owners == rank)
    call srs_register('r64_map', map, int(N_MAP, int64), map_dist, ierr)
    call expect_code(ierr, SRS_OK, 'register real64 rank 1 map')

    step = 1000 + rank
    dscalar = 3.25_real64 + rank
    i64scalar = 2_int64**40 + rank
    cscalar = cmplx(1.5_real64, -2.5_real64 - rank, real64)
    mine = [(real(rank * 10 + k, real64), k = 1, rank + 2)]
    call srs_register('step', step, 1_int64, SRS_DIST_NONE, ierr)
    call expect_code(ierr, SRS_OK, 'register int32 scalar NONE')
    call srs_register('dscalar', dscalar, 1_int64, SRS_DIST_NONE, ierr)
    call expect_code(ierr, SRS_OK, 'register real64 scalar NONE')
    call srs_register('i64scalar', i64scalar, 1_int64, SRS_DIST_NONE, ierr)
    call expect_code(ierr, SRS_OK, 'register int64 scalar NONE')
    call srs_register('cscalar', cscalar, 1_int64, SRS_DIST_NONE, ierr)
    call expect_code(ierr, SRS_OK, 'register complex(real64) scalar NONE')
    call srs_register('mine', mine, int(size(mine), int64), SRS_DIST_NONE, ierr)
    call expect_code(ierr, SRS_OK, 'register real64 rank 1 NONE')

    if (rank == 0) then
      write (output_unit, '(a,i0,a)') 'roundtrip_test: running on ', nprocs, ' ranks'
      flush (output_unit)
    end if
    do k = 1, 3000  ! 60 s at most
      call srs_check_stop(stop, ierr)
      call expect_code(ierr, SRS_OK, 'srs_check_stop')
      if (stop .or. ierr /= SRS_OK) exit
      call sleep_20ms()
    end do
    call expect(stop, 'the stop request arrived and its checkpoint committed')
    if (rank == 0 .and. stop) write (output_unit, '(a)') 'roundtrip_test: stopped'
  end subroutine write_phase

  subroutine read_phase()
    real(real32), allocatable, target :: r32(:)
    real(real64), allocatable, target :: r64(:), r2d(:, :), map(:), as_real(:), mine(:)
    integer(int32), allocatable, target :: i32(:, :)
    integer(int64), allocatable, target :: i64(:)
    complex(real32), allocatable, target :: c32(:)
    complex(real64), allocatable, target :: c2d(:, :)
    integer(int32), target :: step
    real(real64), target :: dscalar
    integer(int64), target :: i64scalar
    complex(real64), target :: cscalar
    type(srs_distribution) :: block, cyclic, bc3, c2d_dist, r2d_dist, wrong_grid
    integer(int64), allocatable :: idx(:)
    integer(int64) :: gc
    integer :: dtype, old_nprocs

    call expect(srs_restart_value() == 1, 'a resumed run has srs_restart_value() == 1')
    call srs_distribution_block(block)
    call srs_distribution_cyclic(cyclic)
    call srs_distribution_block_cyclic(3_int64, bc3)
    call make_2d(l_c2d, c2d_dist)
    call make_2d(l_r2d, r2d_dist)

    call owned_indices(l_block, int(N_R32, int64), rank, nprocs, idx)
    allocate (r32(size(idx)))
    call srs_read('r32_block', r32, block, ierr)
    call expect_code(ierr, SRS_OK, 'read real32 rank 1 block')
    call expect(all(r32 == real(value_r64(idx, 1), real32)), 'real32 block values')

    call owned_indices(l_cyclic, int(N_R64, int64), rank, nprocs, idx)
    allocate (r64(size(idx)))
    call srs_read('r64_cyclic', r64, cyclic, ierr)
    call expect_code(ierr, SRS_OK, 'read real64 rank 1 cyclic')
    call expect(all(r64 == value_r64(idx, 2)), 'real64 cyclic values')

    call owned_indices(l_bc3, 3_int64 * N_I32_BLOCKS, rank, nprocs, idx)
    allocate (i32(3, size(idx) / 3))
    call srs_read('i32_bc', i32, bc3, ierr)
    call expect_code(ierr, SRS_OK, 'read int32 rank 2 block_cyclic(3)')
    call expect(all(reshape(i32, [size(idx)]) == int(value_i64(idx, 3), int32)), &
                'int32 block_cyclic values')

    call owned_indices(l_block, int(N_I64, int64), rank, nprocs, idx)
    allocate (i64(size(idx)), as_real(size(idx)))
    call srs_read('i64_block', i64, block, ierr)
    call expect_code(ierr, SRS_OK, 'read int64 rank 1 block')
    call expect(all(i64 == value_i64(idx, 4)), 'int64 block values')
    call srs_read('i64_block', as_real, block, ierr)
    call expect_code(ierr, SRS_OK, 'read int64 array into real64 (conversion)')
    call expect(all(as_real == real(value_i64(idx, 4), real64)), 'int64 -> real64 values')

    call owned_indices(l_cyclic, int(N_C32, int64), rank, nprocs, idx)
    allocate (c32(size(idx)))
    call srs_read('c32_cyclic', c32, cyclic, ierr)
    call expect_code(ierr, SRS_OK, 'read complex(real32) rank 1 cyclic')
    call expect(all(c32 == cmplx(value_r64(idx, 5), -real(idx, real64), real32)), &
                'complex(real32) values')

    call owned_indices(l_c2d, l_c2d%rows * l_c2d%cols, rank, nprocs, idx)
    allocate (c2d(local_rows(l_c2d), local_cols(l_c2d)))
    call srs_read('c64_2d', c2d, c2d_dist, ierr)
    call expect_code(ierr, SRS_OK, 'read complex(real64) rank 2 on a new grid')
    call expect(all(reshape(c2d, [size(idx)]) == cmplx(value_r64(idx, 6), real(idx, real64), &
                                                       real64)), 'complex(real64) 2-D values')

    call owned_indices(l_r2d, l_r2d%rows * l_r2d%cols, rank, nprocs, idx)
    allocate (r2d(local_rows(l_r2d), local_cols(l_r2d)))
    call srs_read('r64_2d', r2d, r2d_dist, ierr)
    call expect_code(ierr, SRS_OK, 'read real64 rank 2 on a new grid')
    call expect(all(reshape(r2d, [size(idx)]) == value_r64(idx, 7)), 'real64 2-D values')

    call owned_indices(l_block, int(N_MAP, int64), rank, nprocs, idx)
    allocate (map(size(idx)))
    call srs_read('r64_map', map, block, ierr)
    call expect_code(ierr, SRS_OK, 'read a map-distributed array as block')
    call expect(all(map == value_r64(idx, 8)), 'map -> block values')

    step = -1
    dscalar = -1
    i64scalar = -1
    cscalar = 0
    call srs_read('step', step, SRS_DIST_SAME, ierr)
    call expect_code(ierr, SRS_OK, 'read int32 scalar SAME')
    call expect(step == 1000, 'SAME gives rank 0''s int32 value')
    call srs_read('dscalar', dscalar, SRS_DIST_SAME, ierr)
    call expect_code(ierr, SRS_OK, 'read real64 scalar SAME')
    call expect(dscalar == 3.25_real64, 'SAME gives rank 0''s real64 value')
    call srs_read('i64scalar', i64scalar, SRS_DIST_SAME, ierr)
    call expect_code(ierr, SRS_OK, 'read int64 scalar SAME')
    call expect(i64scalar == 2_int64**40, 'SAME gives rank 0''s int64 value')
    call srs_read('cscalar', cscalar, SRS_DIST_SAME, ierr)
    call expect_code(ierr, SRS_OK, 'read complex(real64) scalar SAME')
    call expect(cscalar == cmplx(1.5_real64, -2.5_real64, real64), 'SAME complex value')

    call srs_query('c64_2d', dtype, gc, ierr)
    call expect_code(ierr, SRS_OK, 'srs_query')
    call expect(dtype == SRS_DOUBLE_COMPLEX .and. gc == l_c2d%rows * l_c2d%cols, &
                'srs_query reports the stored type and global count')
    call srs_query('r32_block', dtype, gc, ierr)
    call expect(dtype == SRS_FLOAT .and. gc == N_R32, 'srs_query real32')

    ! Errors come back through ierr, the same on every rank, and leave the job usable.
    call srs_read('no_such_array', r64, block, ierr)
    call expect_code(ierr, SRS_ERR_NOT_FOUND, 'read of an unknown name')
    call expect(len(srs_last_error()) > 0, 'srs_last_error explains the failure')
    call expect(srs_last_error_code() == SRS_ERR_NOT_FOUND, 'srs_last_error_code')
    call srs_read('r64_cyclic', r64(1:size(r64) - 1), cyclic, ierr)
    call expect_code(ierr, SRS_ERR_INVALID_ARGUMENT, 'read into too small an array')
    call srs_read('r64_cyclic', r2d(1, :), cyclic, ierr)
    call expect_code(ierr, SRS_ERR_INVALID_ARGUMENT, 'read into a non-contiguous section')
    call srs_distribution_block_cyclic_2d(13_int64, 11_int64, 2_int64, 3_int64, nprocs + 1, 1, &
                                          0, 0, wrong_grid)
    call srs_read('c64_2d', c2d, wrong_grid, ierr)
    call expect(ierr /= SRS_OK, 'read with a grid that does not match the process count')

    ! NONE: each rank its own old piece, only with the same process count.
    old_nprocs = -1
    allocate (mine(nprocs + 2))
    mine = -1
    call srs_read('mine', mine, SRS_DIST_NONE, ierr)
    call get_environment_variable_int('SRS_TEST_OLD_NP', old_nprocs)
    if (old_nprocs == nprocs) then
      call expect_code(ierr, SRS_OK, 'read NONE on the same process count')
      call expect(all(mine(1:rank + 2) == [(real(rank * 10 + dtype, real64), dtype = 1, rank + 2)]), &
                  'NONE values')
    else
      call expect_code(ierr, SRS_ERR_INVALID_ARGUMENT, 'read NONE on another process count')
    end if

    ! Still usable after the errors: one more correct read.
    r64 = 0
    call srs_read('r64_cyclic', r64, cyclic, ierr)
    call expect_code(ierr, SRS_OK, 'a correct read after the failed ones')
    call owned_indices(l_cyclic, int(N_R64, int64), rank, nprocs, idx)
    call expect(all(r64 == value_r64(idx, 2)), 'real64 cyclic values after errors')

    call srs_finish(ierr)
    call expect_code(ierr, SRS_OK, 'srs_finish')
  end subroutine read_phase

  subroutine make_2d(l, d)
    type(layout), intent(in) :: l
    type(srs_distribution), intent(out) :: d
    call srs_distribution_block_cyclic_2d(l%rows, l%cols, l%mb, l%nb, l%nprow, l%npcol, 0, 0, &
                                          d, ierr)
    call expect_code(ierr, SRS_OK, 'srs_distribution_block_cyclic_2d')
  end subroutine make_2d

  ! ScaLAPACK's NUMROC for this rank's grid row / column.
  integer function local_rows(l)
    type(layout), intent(in) :: l
    local_rows = numroc(l%rows, l%mb, rank / l%npcol, l%nprow)
  end function local_rows

  integer function local_cols(l)
    type(layout), intent(in) :: l
    local_cols = numroc(l%cols, l%nb, mod(rank, l%npcol), l%npcol)
  end function local_cols

  integer function numroc(n, nb, iproc, nprocs_dim)
    integer(int64), intent(in) :: n, nb
    integer, intent(in) :: iproc, nprocs_dim
    integer(int64) :: nblocks, count
    nblocks = n / nb
    count = (nblocks / nprocs_dim) * nb
    if (iproc < mod(nblocks, int(nprocs_dim, int64))) then
      count = count + nb
    else if (iproc == mod(nblocks, int(nprocs_dim, int64))) then
      count = count + mod(n, nb)
    end if
    numroc = int(count)
  end function numroc

  subroutine get_environment_variable_int(name, value)
    character(len=*), intent(in) :: name
    integer, intent(inout) :: value
    character(len=32) :: text
    integer :: status
    call get_environment_variable(name, text, status=status)
    if (status == 0) read (text, *) value
  end subroutine get_environment_variable_int

  subroutine sleep_20ms()
    interface
      integer(c_int) function usleep(microseconds) bind(C, name='usleep')
        import :: c_int
        integer(c_int), value :: microseconds
      end function usleep
    end interface
    if (usleep(20000_c_int) /= 0) continue
  end subroutine sleep_20ms

end program roundtrip_test
