! The Fortran binding in one run (`use mpi`, integer communicator), under the real daemons at
! several process counts: errors through ierr before srs_init and after srs_finish, distribution
! constructors and srs_local_count against DESIGN.md's definitions, srs_register of every datatype
! at ranks 0..2 and the arrays it must refuse, srs_checkpoint, srs_check_stop, error strings.
program api_test
  use, intrinsic :: iso_c_binding, only: c_int, c_int64_t, c_ptr, c_loc, c_f_pointer
  use, intrinsic :: iso_fortran_env, only: int32, int64, real32, real64, output_unit
  use mpi
  use srs
  use srs_test_support
  implicit none

  integer :: rank, nprocs, ierr, mpierr, total_failures
  real(real64), allocatable, target :: a(:)

  call MPI_Init(mpierr)
  call MPI_Comm_rank(MPI_COMM_WORLD, rank, mpierr)
  call MPI_Comm_size(MPI_COMM_WORLD, nprocs, mpierr)
  allocate (a(10))
  a = 1

  call before_init()
  call srs_init(MPI_COMM_WORLD, ierr=ierr)
  call expect_code(ierr, SRS_OK, 'srs_init (integer communicator, default config)')
  if (ierr == SRS_OK) then
    call expect(srs_restart_value() == 0, 'srs_restart_value() == 0 on a fresh job')
    call local_counts()
    call register_every_type()
    call refused_registrations()
    call not_a_restart()
    call distributions_free()
    call life_cycle_end()
  end if

  call MPI_Allreduce(failures, total_failures, 1, MPI_INTEGER, MPI_SUM, MPI_COMM_WORLD, mpierr)
  if (rank == 0) write (output_unit, '(a,i0,a,i0)') 'api_test: ranks ', nprocs, ', failures ', &
    total_failures
  call MPI_Finalize(mpierr)
  if (total_failures /= 0) error stop 1

contains

  subroutine before_init()
    type(srs_distribution) :: block
    logical :: stop
    call srs_distribution_block(block, ierr)
    call expect_code(ierr, SRS_OK, 'distributions are local and work before srs_init')
    call expect(block%handle /= 0, 'srs_distribution_block gives a handle')
    call expect(srs_restart_value() < 0, 'srs_restart_value() < 0 before srs_init')
    call srs_read('x', a, block, ierr)
    call expect_code(ierr, SRS_ERR_FAILED_PRECONDITION, 'srs_read before srs_init')
    call expect(srs_last_error_code() == SRS_ERR_FAILED_PRECONDITION, 'srs_last_error_code')
    call srs_register('x', a, int(10 * nprocs, int64), block, ierr)
    call expect_code(ierr, SRS_ERR_FAILED_PRECONDITION, 'srs_register before srs_init')
    call srs_check_stop(stop, ierr)
    call expect_code(ierr, SRS_ERR_FAILED_PRECONDITION, 'srs_check_stop before srs_init')
    call expect(.not. stop, 'srs_check_stop: stop is .false. on error')
    call srs_checkpoint(ierr)
    call expect_code(ierr, SRS_ERR_FAILED_PRECONDITION, 'srs_checkpoint before srs_init')
    call expect(index(srs_error_string(SRS_ERR_NOT_FOUND), 'SRS_ERR_NOT_FOUND') == 1, &
                'srs_error_string names the code: '//srs_error_string(SRS_ERR_NOT_FOUND))
    call expect(srs_datatype_size(SRS_DOUBLE_COMPLEX) == 16 .and. &
                srs_datatype_size(SRS_INT32) == 4, 'srs_datatype_size')
    call srs_distribution_free(block, ierr)
    call expect_code(ierr, SRS_OK, 'srs_distribution_free')
  end subroutine before_init

  ! srs_local_count against the definitions, for several global sizes (some smaller than P).
  subroutine local_counts()
    type(srs_distribution) :: d(4)
    type(layout) :: l(4)
    integer(int64) :: n, count
    integer(int64), allocatable :: idx(:)
    integer :: k, r, sizes(5) = [0, 1, 7, 100, 1001]
    integer :: s
    character(len=80) :: what
    l(1)%kind = KIND_BLOCK
    l(2)%kind = KIND_CYCLIC
    l(3) = layout(kind=KIND_BLOCK_CYCLIC, block=4)
    call srs_distribution_block(d(1))
    call srs_distribution_cyclic(d(2))
    call srs_distribution_block_cyclic(4_int64, d(3))
    do s = 1, size(sizes)
      n = sizes(s)
      do k = 1, 3
        do r = 0, nprocs - 1
          call srs_local_count(d(k), n, r, nprocs, count, ierr)
          call owned_indices(l(k), n, r, nprocs, idx)
          write (what, '(a,i0,a,i0,a,i0)') 'srs_local_count kind ', k, ' n ', n, ' rank ', r
          call expect_code(ierr, SRS_OK, trim(what))
          call expect(count == size(idx), trim(what))
        end do
      end do
    end do
    ! 2-D: 9 x 7 in 2 x 3 blocks on the grid this process count gives.
    l(4) = layout(kind=KIND_2D, rows=9, cols=7, mb=2, nb=3)
    call grid_shape(nprocs, l(4)%nprow, l(4)%npcol)
    call srs_distribution_block_cyclic_2d(9_int64, 7_int64, 2_int64, 3_int64, l(4)%nprow, &
                                          l(4)%npcol, 0, 0, d(4), ierr)
    call expect_code(ierr, SRS_OK, 'srs_distribution_block_cyclic_2d')
    do r = 0, nprocs - 1
      call srs_local_count(d(4), 63_int64, r, nprocs, count, ierr)
      call owned_indices(l(4), 63_int64, r, nprocs, idx)
      call expect(ierr == SRS_OK .and. count == size(idx), 'srs_local_count 2-D')
    end do
    call srs_local_count(d(1), -1_int64, 0, nprocs, count, ierr)
    call expect(ierr /= SRS_OK, 'srs_local_count refuses a negative global count')
    do k = 1, 4
      call srs_distribution_free(d(k))
    end do
  end subroutine local_counts

  ! Every datatype, ranks 0, 1 and 2, each with the distribution that fits it.
  subroutine register_every_type()
    real(real32), allocatable, target, save :: r32(:, :)
    real(real64), allocatable, target, save :: r64(:)
    integer(int32), target, save :: i32
    integer(int64), allocatable, target, save :: i64(:, :)
    complex(real32), allocatable, target, save :: c32(:)
    complex(real64), target, save :: c64
    type(srs_distribution), save :: block, bc2
    integer(int64) :: count
    call srs_distribution_block(block)
    call srs_distribution_block_cyclic(2_int64, bc2)
    ! rank 2, real32: 2 x k columns per rank, block_cyclic(2) of 2*(3P+1) elements.
    call srs_local_count(bc2, 2_int64 * (3 * nprocs + 1), rank, nprocs, count)
    allocate (r32(2, count / 2))
    r32 = 1.5
    call srs_register('r32', r32, 2_int64 * (3 * nprocs + 1), bc2, ierr)
    call expect_code(ierr, SRS_OK, 'register real32 rank 2')
    call srs_local_count(block, 17_int64, rank, nprocs, count)
    allocate (r64(count))
    r64 = 2.5
    call srs_register('r64', r64, 17_int64, block, ierr)
    call expect_code(ierr, SRS_OK, 'register real64 rank 1')
    i32 = rank
    call srs_register('i32', i32, 1_int64, SRS_DIST_NONE, ierr)
    call expect_code(ierr, SRS_OK, 'register int32 rank 0 (NONE)')
    allocate (i64(3, 2))
    i64 = 7
    call srs_register('i64', i64, 6_int64, SRS_DIST_NONE, ierr)
    call expect_code(ierr, SRS_OK, 'register int64 rank 2 (NONE)')
    call srs_local_count(block, 5_int64, rank, nprocs, count)
    allocate (c32(count))
    c32 = (1.0, -1.0)
    call srs_register('c32', c32, 5_int64, block, ierr)
    call expect_code(ierr, SRS_OK, 'register complex(real32) rank 1 (some ranks may hold 0)')
    c64 = (0.5_real64, 0.25_real64)
    call srs_register('c64', c64, 1_int64, SRS_DIST_NONE, ierr)
    call expect_code(ierr, SRS_OK, 'register complex(real64) rank 0')
    ! Re-registering a name replaces the record.
    call srs_register('r64', r64, 17_int64, block, ierr)
    call expect_code(ierr, SRS_OK, 're-register a name')
    call srs_checkpoint(ierr)
    call expect_code(ierr, SRS_OK, 'srs_checkpoint of every type')
  end subroutine register_every_type

  subroutine refused_registrations()
    real(real64), allocatable, target :: m(:, :)
    type(srs_distribution) :: block, bad_grid
    character(len=:), allocatable :: msg
    call srs_distribution_block(block)
    allocate (m(4, 3))
    m = 0
    call srs_register('section', m(1, :), int(3 * nprocs, int64), block, ierr)
    call expect_code(ierr, SRS_ERR_INVALID_ARGUMENT, 'register a non-contiguous section')
    msg = srs_last_error()
    call expect(index(msg, 'contiguous') > 0, 'the message says why: '//msg)
    call srs_register('wrong_size', a, int(10 * nprocs + nprocs, int64), block, ierr)
    call expect_code(ierr, SRS_ERR_INVALID_ARGUMENT, 'register an array of the wrong size')
    call expect(index(srs_last_error(), 'wrong_size') > 0, 'the message names the array')
    call srs_register('none_size', a, 11_int64, SRS_DIST_NONE, ierr)
    call expect_code(ierr, SRS_ERR_INVALID_ARGUMENT, 'register NONE with a count /= size')
    call srs_register('same', a, 10_int64, SRS_DIST_SAME, ierr)
    call expect_code(ierr, SRS_ERR_INVALID_ARGUMENT, 'register with SRS_DIST_SAME')
    call srs_register('', a, int(10 * nprocs, int64), block, ierr)
    call expect_code(ierr, SRS_ERR_INVALID_ARGUMENT, 'register an empty name')
    call srs_distribution_block_cyclic_2d(4_int64, 4_int64, 1_int64, 1_int64, nprocs + 1, 1, 0, &
                                          0, bad_grid)
    call srs_register('bad_grid', m, 16_int64, bad_grid, ierr)
    call expect_code(ierr, SRS_ERR_INVALID_ARGUMENT, 'register with a grid /= process count')
    ! Without ierr nothing aborts; the error is kept for srs_last_error.
    call srs_register('section', m(1, :), int(3 * nprocs, int64), block)
    call expect(srs_last_error_code() == SRS_ERR_INVALID_ARGUMENT, 'error kept without ierr')
    call srs_distribution_free(block)
    call srs_distribution_free(bad_grid)
  end subroutine refused_registrations

  subroutine not_a_restart()
    type(srs_distribution) :: block
    integer :: dtype
    integer(int64) :: gc
    call srs_distribution_block(block)
    call srs_read('r64', a, block, ierr)
    call expect_code(ierr, SRS_ERR_FAILED_PRECONDITION, 'srs_read on a fresh run')
    call srs_query('r64', dtype, gc, ierr)
    call expect_code(ierr, SRS_ERR_NOT_FOUND, 'srs_query on a fresh run')
    call srs_distribution_free(block)
  end subroutine not_a_restart

  ! Map and function distributions; free makes the handle null; freeing NONE is a no-op.
  subroutine distributions_free()
    type(srs_distribution) :: map, func, none
    real(real64), allocatable, target, save :: mine(:)
    integer(c_int64_t), target, save :: func_global_count = 20
    integer(c_int) :: owners(0:20)
    integer(int64) :: count
    integer :: k
    owners = [(int(mod(k, nprocs), c_int), k = 0, 20)]
    call srs_distribute_map_create(owners, map, ierr)
    call expect_code(ierr, SRS_OK, 'srs_distribute_map_create')
    call srs_local_count(map, 21_int64, rank, nprocs, count, ierr)
    call expect(ierr == SRS_OK .and. count == count_owned(owners), 'map local count')
    call srs_distribute_func_create(reversed_block, c_loc(func_global_count), func, ierr)
    call expect_code(ierr, SRS_OK, 'srs_distribute_func_create')
    call srs_local_count(func, 20_int64, rank, nprocs, count, ierr)
    call expect_code(ierr, SRS_OK, 'srs_local_count of a function distribution')
    allocate (mine(count))
    mine = rank
    call srs_register('func_array', mine, 20_int64, func, ierr)
    call expect_code(ierr, SRS_OK, 'register with a function distribution')
    call srs_checkpoint(ierr)
    call expect_code(ierr, SRS_OK, 'checkpoint with a function distribution')
    call srs_distribution_free(map, ierr)
    call expect(ierr == SRS_OK .and. map%handle == 0, 'free makes the handle null')
    none = SRS_DIST_NONE
    call srs_distribution_free(none, ierr)
    call expect_code(ierr, SRS_OK, 'freeing SRS_DIST_NONE is a no-op')
  end subroutine distributions_free

  integer(int64) function count_owned(owners)
    integer(c_int), intent(in) :: owners(:)
    count_owned = count(owners == rank)
  end function count_owned

  subroutine life_cycle_end()
    logical :: stop
    call srs_check_stop(stop, ierr)
    call expect_code(ierr, SRS_OK, 'srs_check_stop with no stop pending')
    call expect(.not. stop, 'no stop pending')
    call srs_finish(ierr)
    call expect_code(ierr, SRS_OK, 'srs_finish')
    call srs_read('r64', a, SRS_DIST_SAME, ierr)
    call expect_code(ierr, SRS_ERR_FAILED_PRECONDITION, 'srs_read after srs_finish')
  end subroutine life_cycle_end

  ! Block, with each rank's elements stored in reverse order; user points to the global count.
  function reversed_block(global_index, np, user, owner, local_index) bind(C) result(rc)
    integer(c_int64_t), value :: global_index
    integer(c_int), value :: np
    type(c_ptr), value :: user
    integer(c_int), intent(out) :: owner
    integer(c_int64_t), intent(out) :: local_index
    integer(c_int) :: rc
    integer(c_int64_t), pointer :: n
    integer(c_int64_t) :: per
    call c_f_pointer(user, n)
    per = (n + np - 1) / np
    owner = int(global_index / per, c_int)
    local_index = min(per, n - owner * per) - 1 - (global_index - owner * per)
    rc = 0
  end function reversed_block

end program api_test
