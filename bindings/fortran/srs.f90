! SRS — Stop Restart Software: the Fortran module `srs`.
!
! Hand-written ISO_C_BINDING interfaces over the C API in srs/srs.h (see DESIGN.md §2), in the
! style of mpi_f08 and HDF5-Fortran: every procedure takes an optional `ierr` as its last
! argument, strings are passed as trim(s)//c_null_char, communicators come from `use mpi`
! (integer) or `use mpi_f08` (type(MPI_Comm)).
!
!   use srs
!   type(srs_distribution) :: block
!   real(real64), allocatable, target :: u(:,:)      ! registered arrays need TARGET (or POINTER)
!   integer, target :: iter
!   call srs_init(MPI_COMM_WORLD)
!   call srs_distribution_block(block)
!   if (srs_restart_value() == 1) then
!     call srs_read('u', u, block)                     ! redistributed to this run's layout
!     call srs_read('iter', iter, SRS_DIST_SAME)
!   end if
!   call srs_register('u', u, n_global, block)         ! records the address, does not copy
!   call srs_register('iter', iter, 1_int64, SRS_DIST_NONE)
!   do while (iter < max_iter)
!     ...
!     call srs_check_stop(stop)
!     if (stop) then; call MPI_Finalize(); stop; end if  ! checkpoint committed: leave
!   end do
!   call srs_finish()
!
! Errors. With `ierr` present it receives SRS_OK (0) or a negative SRS_ERR_* code. Without it
! nothing aborts either (unlike MPI's default handler, a failed checkpoint must not kill a
! simulation): the code and message are kept and srs_last_error() / srs_last_error_code()
! return them until the next failure.
!
! Arrays. srs_register and srs_read take real32, real64, int32, int64, complex(real32) and
! complex(real64) arrays of any rank (scalars included); the element type and the local element
! count come from the array. The array must be contiguous (SRS keeps its address) and, for
! srs_register, have the TARGET or POINTER attribute in the caller so that the address stays
! valid and the values are in memory at each srs_check_stop. Multi-dimensional arrays are one
! 1-D array of size(array) elements to SRS, in Fortran (column-major) element order.
! The module checks what it can see and the C API cannot: srs_register fails if size(array) is
! not the local count the distribution gives this rank, srs_read with a distribution if the
! array is too small for what it will receive (INVALID_ARGUMENT, on every rank, instead of a
! buffer overrun). A read with SRS_DIST_NONE or SRS_DIST_SAME receives an old rank's own count,
! which the API does not report: the array must be large enough, as in C.
module srs
  use, intrinsic :: iso_c_binding
  use, intrinsic :: iso_fortran_env, only: int32, int64, real32, real64
  use mpi_f08, only: MPI_Comm, MPI_Comm_rank, MPI_Comm_size, MPI_Allreduce, MPI_LOGICAL, &
                     MPI_LAND
  implicit none
  private

  ! ---- Status codes (srs.h; the C shim asserts they agree) ------------------------------------
  integer, parameter, public :: SRS_OK = 0
  integer, parameter, public :: SRS_ERR_CANCELLED = -1
  integer, parameter, public :: SRS_ERR_UNKNOWN = -2
  integer, parameter, public :: SRS_ERR_INVALID_ARGUMENT = -3
  integer, parameter, public :: SRS_ERR_DEADLINE_EXCEEDED = -4
  integer, parameter, public :: SRS_ERR_NOT_FOUND = -5
  integer, parameter, public :: SRS_ERR_ALREADY_EXISTS = -6
  integer, parameter, public :: SRS_ERR_PERMISSION_DENIED = -7
  integer, parameter, public :: SRS_ERR_RESOURCE_EXHAUSTED = -8
  integer, parameter, public :: SRS_ERR_FAILED_PRECONDITION = -9
  integer, parameter, public :: SRS_ERR_ABORTED = -10
  integer, parameter, public :: SRS_ERR_OUT_OF_RANGE = -11
  integer, parameter, public :: SRS_ERR_UNIMPLEMENTED = -12
  integer, parameter, public :: SRS_ERR_INTERNAL = -13
  integer, parameter, public :: SRS_ERR_UNAVAILABLE = -14
  integer, parameter, public :: SRS_ERR_DATA_LOSS = -15
  integer, parameter, public :: SRS_ERR_UNAUTHENTICATED = -16

  ! ---- Datatype codes (SRS_Datatype), as srs_query reports them --------------------------------
  integer, parameter, public :: SRS_CHAR = 1
  integer, parameter, public :: SRS_INT32 = 2
  integer, parameter, public :: SRS_INT64 = 3
  integer, parameter, public :: SRS_FLOAT = 4
  integer, parameter, public :: SRS_DOUBLE = 5
  integer, parameter, public :: SRS_FLOAT_COMPLEX = 6
  integer, parameter, public :: SRS_DOUBLE_COMPLEX = 7
  integer, parameter, public :: SRS_INT = 8
  integer, parameter, public :: SRS_LONG = 9

  ! ---- Distributions -------------------------------------------------------------------------
  ! The C opaque pointer SRS_Distribution, as an integer of the same size. A fresh variable is
  ! the null handle; srs_distribution_free sets it back to null.
  type, bind(C), public :: srs_distribution
    integer(c_intptr_t) :: handle = 0
  end type srs_distribution

  type(srs_distribution), parameter, public :: SRS_DIST_NONE = srs_distribution(1_c_intptr_t)
  type(srs_distribution), parameter, public :: SRS_DIST_SAME = srs_distribution(2_c_intptr_t)

  ! A user-defined distribution (srs_distribute_func_create): for the 0-based global_index of an
  ! array over nprocs ranks, set the 0-based owner rank and the 0-based index in its local
  ! buffer; return 0 (non-zero = error).
  abstract interface
    function srs_distribute_func(global_index, nprocs, user, owner, local_index) bind(C) &
        result(rc)
      import :: c_int, c_int64_t, c_ptr
      integer(c_int64_t), value :: global_index
      integer(c_int), value :: nprocs
      type(c_ptr), value :: user
      integer(c_int), intent(out) :: owner
      integer(c_int64_t), intent(out) :: local_index
      integer(c_int) :: rc
    end function srs_distribute_func
  end interface
  public :: srs_distribute_func

  ! ---- Public procedures ---------------------------------------------------------------------
  public :: srs_init, srs_restart_value, srs_register, srs_read, srs_query
  public :: srs_check_stop, srs_checkpoint, srs_finish
  public :: srs_distribution_block, srs_distribution_cyclic, srs_distribution_block_cyclic
  public :: srs_distribution_block_cyclic_2d, srs_distribute_map_create
  public :: srs_distribute_func_create, srs_distribution_free, srs_local_count
  public :: srs_datatype_size, srs_error_string, srs_last_error, srs_last_error_code

  ! srs_init(comm, config, ierr): comm from `use mpi` (integer) or `use mpi_f08`.
  interface srs_init
    module procedure srs_init_f08, srs_init_int
  end interface srs_init

  ! srs_register(name, array, global_count, d, ierr)
  interface srs_register
    module procedure srs_register_r32, srs_register_r64, srs_register_i32, srs_register_i64, &
                     srs_register_c32, srs_register_c64
  end interface srs_register

  ! srs_read(name, array, d, ierr)
  interface srs_read
    module procedure srs_read_r32, srs_read_r64, srs_read_i32, srs_read_i64, srs_read_c32, &
                     srs_read_c64
  end interface srs_read

  ! ---- The C API ------------------------------------------------------------------------------
  interface
    function c_init(comm, config) bind(C, name='srs_fortran_init') result(rc)
      import :: c_int, c_char
      integer(c_int), value :: comm
      character(kind=c_char), dimension(*), intent(in) :: config
      integer(c_int) :: rc
    end function c_init
    function c_restart_value() bind(C, name='SRS_Restart_Value') result(rc)
      import :: c_int
      integer(c_int) :: rc
    end function c_restart_value
    function c_register(name, data, dtype, global_count, dist) bind(C, name='SRS_Register') &
        result(rc)
      import :: c_int, c_char, c_ptr, c_int64_t, c_intptr_t
      character(kind=c_char), dimension(*), intent(in) :: name
      type(c_ptr), value :: data
      integer(c_int), value :: dtype
      integer(c_int64_t), value :: global_count
      integer(c_intptr_t), value :: dist
      integer(c_int) :: rc
    end function c_register
    function c_read(name, data, dtype, dist) bind(C, name='SRS_Read') result(rc)
      import :: c_int, c_char, c_ptr, c_intptr_t
      character(kind=c_char), dimension(*), intent(in) :: name
      type(c_ptr), value :: data
      integer(c_int), value :: dtype
      integer(c_intptr_t), value :: dist
      integer(c_int) :: rc
    end function c_read
    function c_query(name, dtype, global_count) bind(C, name='SRS_Query') result(rc)
      import :: c_int, c_char, c_int64_t
      character(kind=c_char), dimension(*), intent(in) :: name
      integer(c_int), intent(out) :: dtype
      integer(c_int64_t), intent(out) :: global_count
      integer(c_int) :: rc
    end function c_query
    function c_check_stop() bind(C, name='SRS_Check_Stop') result(rc)
      import :: c_int
      integer(c_int) :: rc
    end function c_check_stop
    function c_checkpoint() bind(C, name='SRS_Checkpoint') result(rc)
      import :: c_int
      integer(c_int) :: rc
    end function c_checkpoint
    function c_finish() bind(C, name='SRS_Finish') result(rc)
      import :: c_int
      integer(c_int) :: rc
    end function c_finish
    function c_dist_block(out) bind(C, name='SRS_Distribution_block') result(rc)
      import :: c_int, c_intptr_t
      integer(c_intptr_t), intent(out) :: out
      integer(c_int) :: rc
    end function c_dist_block
    function c_dist_cyclic(out) bind(C, name='SRS_Distribution_cyclic') result(rc)
      import :: c_int, c_intptr_t
      integer(c_intptr_t), intent(out) :: out
      integer(c_int) :: rc
    end function c_dist_cyclic
    function c_dist_block_cyclic(block_size, out) bind(C, name='SRS_Distribution_block_cyclic') &
        result(rc)
      import :: c_int, c_int64_t, c_intptr_t
      integer(c_int64_t), value :: block_size
      integer(c_intptr_t), intent(out) :: out
      integer(c_int) :: rc
    end function c_dist_block_cyclic
    function c_dist_block_cyclic_2d(rows, cols, mb, nb, nprow, npcol, rsrc, csrc, out) &
        bind(C, name='SRS_Distribution_block_cyclic_2d') result(rc)
      import :: c_int, c_int64_t, c_intptr_t
      integer(c_int64_t), value :: rows, cols, mb, nb
      integer(c_int), value :: nprow, npcol, rsrc, csrc
      integer(c_intptr_t), intent(out) :: out
      integer(c_int) :: rc
    end function c_dist_block_cyclic_2d
    function c_dist_map(global_count, owner, out) bind(C, name='SRS_DistributeMap_Create') &
        result(rc)
      import :: c_int, c_int64_t, c_intptr_t
      integer(c_int64_t), value :: global_count
      integer(c_int), dimension(*), intent(in) :: owner
      integer(c_intptr_t), intent(out) :: out
      integer(c_int) :: rc
    end function c_dist_map
    function c_dist_func(fn, user, out) bind(C, name='SRS_DistributeFunc_Create') result(rc)
      import :: c_int, c_funptr, c_ptr, c_intptr_t
      type(c_funptr), value :: fn
      type(c_ptr), value :: user
      integer(c_intptr_t), intent(out) :: out
      integer(c_int) :: rc
    end function c_dist_func
    function c_dist_free(d) bind(C, name='SRS_Distribution_free') result(rc)
      import :: c_int, c_intptr_t
      integer(c_intptr_t), intent(inout) :: d
      integer(c_int) :: rc
    end function c_dist_free
    function c_local_count(d, global_count, rank, nprocs, count) &
        bind(C, name='SRS_Local_count') result(rc)
      import :: c_int, c_int64_t, c_intptr_t
      integer(c_intptr_t), value :: d
      integer(c_int64_t), value :: global_count
      integer(c_int), value :: rank, nprocs
      integer(c_int64_t), intent(out) :: count
      integer(c_int) :: rc
    end function c_local_count
    function c_datatype_size(dtype) bind(C, name='SRS_Datatype_size') result(n)
      import :: c_int
      integer(c_int), value :: dtype
      integer(c_int) :: n
    end function c_datatype_size
    function c_error_string(code) bind(C, name='SRS_Error_string') result(s)
      import :: c_int, c_ptr
      integer(c_int), value :: code
      type(c_ptr) :: s
    end function c_error_string
    function c_last_error() bind(C, name='SRS_Last_error') result(s)
      import :: c_ptr
      type(c_ptr) :: s
    end function c_last_error
    function c_strlen(s) bind(C, name='strlen') result(n)
      import :: c_ptr, c_size_t
      type(c_ptr), value :: s
      integer(c_size_t) :: n
    end function c_strlen
  end interface

  ! ---- State of this rank's binding ----------------------------------------------------------
  ! The communicator's shape, for the size checks of srs_register and srs_read.
  logical :: initialised = .false.
  type(MPI_Comm) :: srs_comm
  integer :: my_rank = 0, my_nprocs = 1
  ! The last failure: its code, and its message when the module itself detected it (otherwise
  ! the message is the C library's SRS_Last_error()).
  integer :: last_code = SRS_OK
  logical :: last_is_binding = .false.
  character(len=:), allocatable :: binding_message

contains

  ! ---- Life cycle ----------------------------------------------------------------------------

  ! Collective. comm: the communicator every SRS collective runs on (usually MPI_COMM_WORLD);
  ! config: path of an srs.config, '' or absent = $SRS_CONFIG, ./srs.config, the SRS_* env.
  subroutine srs_init_f08(comm, config, ierr)
    type(MPI_Comm), intent(in) :: comm
    character(len=*), intent(in), optional :: config
    integer, intent(out), optional :: ierr
    integer(c_int) :: rc
    if (present(config)) then
      rc = c_init(int(comm%MPI_VAL, c_int), trim(config)//c_null_char)
    else
      rc = c_init(int(comm%MPI_VAL, c_int), c_null_char)
    end if
    if (rc == SRS_OK) then
      srs_comm = comm
      call MPI_Comm_rank(comm, my_rank)
      call MPI_Comm_size(comm, my_nprocs)
      initialised = .true.
    end if
    call set_status(rc, ierr)
  end subroutine srs_init_f08

  subroutine srs_init_int(comm, config, ierr)
    integer, intent(in) :: comm
    character(len=*), intent(in), optional :: config
    integer, intent(out), optional :: ierr
    type(MPI_Comm) :: f08_comm
    f08_comm%MPI_VAL = comm
    call srs_init_f08(f08_comm, config, ierr)
  end subroutine srs_init_int

  ! 0: fresh start; 1: continuing from a checkpoint; negative: not initialised. Local.
  integer function srs_restart_value()
    srs_restart_value = int(c_restart_value())
  end function srs_restart_value

  ! Collective. stop = .true.: a stop was requested and the checkpoint of every registered array
  ! is committed; leave (MPI_Finalize) without srs_finish. On error stop = .false.
  subroutine srs_check_stop(stop, ierr)
    logical, intent(out) :: stop
    integer, intent(out), optional :: ierr
    integer(c_int) :: rc
    rc = c_check_stop()
    stop = rc == 1
    call set_status(min(rc, 0_c_int), ierr)
  end subroutine srs_check_stop

  ! Collective. Checkpoints every registered array now and goes on.
  subroutine srs_checkpoint(ierr)
    integer, intent(out), optional :: ierr
    call set_status(c_checkpoint(), ierr)
  end subroutine srs_checkpoint

  ! Collective. The job is complete: its checkpoints are deleted.
  subroutine srs_finish(ierr)
    integer, intent(out), optional :: ierr
    integer(c_int) :: rc
    rc = c_finish()
    if (rc == SRS_OK) initialised = .false.
    call set_status(rc, ierr)
  end subroutine srs_finish

  ! Local. The stored type (SRS_DOUBLE, ...) and global element count of array `name` in the
  ! checkpoint being restarted from.
  subroutine srs_query(name, dtype, global_count, ierr)
    character(len=*), intent(in) :: name
    integer, intent(out) :: dtype
    integer(int64), intent(out) :: global_count
    integer, intent(out), optional :: ierr
    integer(c_int) :: rc, t
    integer(c_int64_t) :: n
    t = 0
    n = 0
    rc = c_query(trim(name)//c_null_char, t, n)
    dtype = int(t)
    global_count = int(n, int64)
    call set_status(rc, ierr)
  end subroutine srs_query

  ! ---- Distributions (all local) -------------------------------------------------------------

  subroutine srs_distribution_block(d, ierr)
    type(srs_distribution), intent(out) :: d
    integer, intent(out), optional :: ierr
    call set_status(c_dist_block(d%handle), ierr)
  end subroutine srs_distribution_block

  subroutine srs_distribution_cyclic(d, ierr)
    type(srs_distribution), intent(out) :: d
    integer, intent(out), optional :: ierr
    call set_status(c_dist_cyclic(d%handle), ierr)
  end subroutine srs_distribution_cyclic

  subroutine srs_distribution_block_cyclic(block_size, d, ierr)
    integer(int64), intent(in) :: block_size
    type(srs_distribution), intent(out) :: d
    integer, intent(out), optional :: ierr
    call set_status(c_dist_block_cyclic(int(block_size, c_int64_t), d%handle), ierr)
  end subroutine srs_distribution_block_cyclic

  ! ScaLAPACK's layout of a rows x cols matrix on an nprow x npcol BLACS grid (row-major rank
  ! order, blacs_gridinit(ctxt, 'R', ...)); the local piece is the local matrix ScaLAPACK uses,
  ! A(lld, *) with lld = numroc(rows, mb, myrow, rsrc, nprow). Grid coordinates are 0-based.
  subroutine srs_distribution_block_cyclic_2d(rows, cols, mb, nb, nprow, npcol, rsrc, csrc, d, &
                                              ierr)
    integer(int64), intent(in) :: rows, cols, mb, nb
    integer, intent(in) :: nprow, npcol, rsrc, csrc
    type(srs_distribution), intent(out) :: d
    integer, intent(out), optional :: ierr
    call set_status(c_dist_block_cyclic_2d(int(rows, c_int64_t), int(cols, c_int64_t), &
                                           int(mb, c_int64_t), int(nb, c_int64_t), &
                                           int(nprow, c_int), int(npcol, c_int), &
                                           int(rsrc, c_int), int(csrc, c_int), d%handle), ierr)
  end subroutine srs_distribution_block_cyclic_2d

  ! owner(i) (0-based rank) holds global element i-1; size(owner) is the global count. Copied.
  subroutine srs_distribute_map_create(owner, d, ierr)
    integer(c_int), dimension(:), intent(in) :: owner
    type(srs_distribution), intent(out) :: d
    integer, intent(out), optional :: ierr
    call set_status(c_dist_map(size(owner, kind=c_int64_t), owner, d%handle), ierr)
  end subroutine srs_distribute_map_create

  ! fn: a BIND(C) function with the srs_distribute_func interface; user (c_null_ptr if unused)
  ! is passed to it and must outlive the handle.
  subroutine srs_distribute_func_create(fn, user, d, ierr)
    procedure(srs_distribute_func) :: fn
    type(c_ptr), intent(in) :: user
    type(srs_distribution), intent(out) :: d
    integer, intent(out), optional :: ierr
    call set_status(c_dist_func(c_funloc(fn), user, d%handle), ierr)
  end subroutine srs_distribute_func_create

  ! Frees the handle and makes it null. Freeing SRS_DIST_NONE/SAME or a null handle is a no-op.
  subroutine srs_distribution_free(d, ierr)
    type(srs_distribution), intent(inout) :: d
    integer, intent(out), optional :: ierr
    call set_status(c_dist_free(d%handle), ierr)
  end subroutine srs_distribution_free

  ! How many elements of a global_count-element array 0-based rank `rank` of `nprocs` holds.
  subroutine srs_local_count(d, global_count, rank, nprocs, count, ierr)
    type(srs_distribution), intent(in) :: d
    integer(int64), intent(in) :: global_count
    integer, intent(in) :: rank, nprocs
    integer(int64), intent(out) :: count
    integer, intent(out), optional :: ierr
    integer(c_int64_t) :: n
    n = 0
    call set_status(c_local_count(d%handle, int(global_count, c_int64_t), int(rank, c_int), &
                                  int(nprocs, c_int), n), ierr)
    count = int(n, int64)
  end subroutine srs_local_count

  ! ---- Errors --------------------------------------------------------------------------------

  ! Bytes per element of an SRS datatype code (0 if unknown).
  integer function srs_datatype_size(dtype)
    integer, intent(in) :: dtype
    srs_datatype_size = int(c_datatype_size(int(dtype, c_int)))
  end function srs_datatype_size

  ! The name and meaning of a status code, e.g. "SRS_ERR_NOT_FOUND: not found".
  function srs_error_string(code) result(msg)
    integer, intent(in) :: code
    character(len=:), allocatable :: msg
    msg = c_to_fortran_string(c_error_string(int(code, c_int)))
  end function srs_error_string

  ! The detailed message of the last failed SRS call on this rank ("" if none): which array,
  ! which rank, which depot, why.
  function srs_last_error() result(msg)
    character(len=:), allocatable :: msg
    if (last_is_binding) then
      msg = binding_message
    else
      msg = c_to_fortran_string(c_last_error())
    end if
  end function srs_last_error

  ! The status code of the last failed SRS call on this rank (SRS_OK if none failed yet).
  integer function srs_last_error_code()
    srs_last_error_code = last_code
  end function srs_last_error_code

  ! ---- Internals -----------------------------------------------------------------------------

  subroutine set_status(rc, ierr)
    integer(c_int), intent(in) :: rc
    integer, intent(out), optional :: ierr
    if (present(ierr)) ierr = int(rc)
    if (rc /= SRS_OK) then
      last_code = int(rc)
      last_is_binding = .false.
    end if
  end subroutine set_status

  ! An error the module detected before calling C.
  subroutine binding_error(code, msg, ierr)
    integer, intent(in) :: code
    character(len=*), intent(in) :: msg
    integer, intent(out), optional :: ierr
    if (present(ierr)) ierr = code
    last_code = code
    last_is_binding = .true.
    binding_message = msg
  end subroutine binding_error

  function c_to_fortran_string(p) result(s)
    type(c_ptr), intent(in) :: p
    character(len=:), allocatable :: s
    character(kind=c_char), pointer :: chars(:)
    integer :: n, i
    if (.not. c_associated(p)) then
      s = ''
      return
    end if
    n = int(c_strlen(p))
    call c_f_pointer(p, chars, [n])
    allocate (character(len=n) :: s)
    do i = 1, n
      s(i:i) = chars(i)
    end do
  end function c_to_fortran_string

  function itoa(i) result(s)
    integer(int64), intent(in) :: i
    character(len=:), allocatable :: s
    character(len=24) :: buf
    write (buf, '(i0)') i
    s = trim(buf)
  end function itoa

  ! The local element count `d` gives this rank for a global_count-element array; .false. if
  ! it cannot be known here (not initialised, SRS_DIST_NONE/SAME, or the C call refuses, in which
  ! case the C call that follows reports why).
  logical function distribution_count(d, global_count, count)
    type(srs_distribution), intent(in) :: d
    integer(int64), intent(in) :: global_count
    integer(int64), intent(out) :: count
    integer(c_int64_t) :: n
    count = -1
    distribution_count = .false.
    if (.not. initialised) return
    if (d%handle == SRS_DIST_NONE%handle .or. d%handle == SRS_DIST_SAME%handle) return
    if (c_local_count(d%handle, int(global_count, c_int64_t), int(my_rank, c_int), &
                      int(my_nprocs, c_int), n) /= SRS_OK) return
    count = int(n, int64)
    distribution_count = .true.
  end function distribution_count

  subroutine register_any(name, data, contiguous, local_size, dtype, global_count, d, ierr)
    character(len=*), intent(in) :: name
    type(c_ptr), intent(in) :: data
    logical, intent(in) :: contiguous
    integer(int64), intent(in) :: local_size, global_count
    integer(c_int), intent(in) :: dtype
    type(srs_distribution), intent(in) :: d
    integer, intent(out), optional :: ierr
    integer(int64) :: expected
    logical :: known
    if (.not. contiguous) then
      call binding_error(SRS_ERR_INVALID_ARGUMENT, 'srs_register("'//trim(name)// &
                         '"): the array is not contiguous; SRS keeps its address, so register '// &
                         'a contiguous array (or a contiguous section)', ierr)
      return
    end if
    if (d%handle == SRS_DIST_NONE%handle) then
      known = .true.
      expected = global_count
    else
      known = distribution_count(d, global_count, expected)
    end if
    if (initialised .and. known .and. expected /= local_size) then
      call binding_error(SRS_ERR_INVALID_ARGUMENT, 'srs_register("'//trim(name)//'"): rank '// &
                         itoa(int(my_rank, int64))//' of '//itoa(int(my_nprocs, int64))// &
                         ' passes an array of '//itoa(local_size)//' elements, but the '// &
                         'distribution gives it '//itoa(expected)//' of global_count '// &
                         itoa(global_count), ierr)
      return
    end if
    call set_status(c_register(trim(name)//c_null_char, pointer_or_null(data, local_size), &
                               dtype, int(global_count, c_int64_t), d%handle), ierr)
  end subroutine register_any

  ! srs_read is collective: an array this rank refuses (not contiguous, too small) must fail the
  ! read on every rank, or the others would wait in SRS_Read forever. One small allreduce decides
  ! (a read happens once per restart, so it costs nothing that matters).
  subroutine read_any(name, data, contiguous, local_size, dtype, d, ierr)
    character(len=*), intent(in) :: name
    type(c_ptr), intent(in) :: data
    logical, intent(in) :: contiguous
    integer(int64), intent(in) :: local_size
    integer(c_int), intent(in) :: dtype
    type(srs_distribution), intent(in) :: d
    integer, intent(out), optional :: ierr
    character(len=:), allocatable :: problem
    integer(c_int) :: stored_type
    integer(c_int64_t) :: global_count
    integer(int64) :: needed
    logical :: known, all_ok

    problem = ''
    if (.not. contiguous) then
      problem = 'rank '//itoa(int(my_rank, int64))//' passes an array that is not contiguous'
    else if (initialised .and. d%handle /= SRS_DIST_NONE%handle .and. &
             d%handle /= SRS_DIST_SAME%handle) then
      ! NONE and SAME are not checked: what they receive is an old rank's own count (for an
      ! array stored as NONE, SRS_Query reports the sum over the old ranks), which the public
      ! API does not tell.
      known = .false.
      if (c_query(trim(name)//c_null_char, stored_type, global_count) == SRS_OK) then
        known = distribution_count(d, int(global_count, int64), needed)
      end if
      if (known .and. local_size < needed) then
        problem = 'rank '//itoa(int(my_rank, int64))//' passes an array of '// &
                  itoa(local_size)//' elements, but it receives '//itoa(needed)// &
                  ' (global_count '//itoa(int(global_count, int64))//')'
      end if
    end if
    if (initialised) then
      call MPI_Allreduce(len(problem) == 0, all_ok, 1, MPI_LOGICAL, MPI_LAND, srs_comm)
    else
      all_ok = len(problem) == 0
    end if
    if (.not. all_ok) then
      if (len(problem) == 0) problem = 'the array of another rank is refused (see its message)'
      call binding_error(SRS_ERR_INVALID_ARGUMENT, 'srs_read("'//trim(name)//'"): '//problem, &
                         ierr)
      return
    end if
    call set_status(c_read(trim(name)//c_null_char, pointer_or_null(data, local_size), dtype, &
                           d%handle), ierr)
  end subroutine read_any

  type(c_ptr) function pointer_or_null(data, n)
    type(c_ptr), intent(in) :: data
    integer(int64), intent(in) :: n
    pointer_or_null = data
    if (n == 0) pointer_or_null = c_null_ptr
  end function pointer_or_null

  ! ---- The type-specific procedures behind srs_register and srs_read ---------------------------

  subroutine srs_register_r32(name, array, global_count, d, ierr)
    character(len=*), intent(in) :: name
    real(real32), dimension(..), intent(in), target :: array
    integer(int64), intent(in) :: global_count
    type(srs_distribution), intent(in) :: d
    integer, intent(out), optional :: ierr
    call register_any(name, c_loc(array), is_contiguous(array), size(array, kind=int64), &
                      SRS_FLOAT, global_count, d, ierr)
  end subroutine srs_register_r32

  subroutine srs_read_r32(name, array, d, ierr)
    character(len=*), intent(in) :: name
    real(real32), dimension(..), intent(inout), target :: array
    type(srs_distribution), intent(in) :: d
    integer, intent(out), optional :: ierr
    call read_any(name, c_loc(array), is_contiguous(array), size(array, kind=int64), &
                  SRS_FLOAT, d, ierr)
  end subroutine srs_read_r32

  subroutine srs_register_r64(name, array, global_count, d, ierr)
    character(len=*), intent(in) :: name
    real(real64), dimension(..), intent(in), target :: array
    integer(int64), intent(in) :: global_count
    type(srs_distribution), intent(in) :: d
    integer, intent(out), optional :: ierr
    call register_any(name, c_loc(array), is_contiguous(array), size(array, kind=int64), &
                      SRS_DOUBLE, global_count, d, ierr)
  end subroutine srs_register_r64

  subroutine srs_read_r64(name, array, d, ierr)
    character(len=*), intent(in) :: name
    real(real64), dimension(..), intent(inout), target :: array
    type(srs_distribution), intent(in) :: d
    integer, intent(out), optional :: ierr
    call read_any(name, c_loc(array), is_contiguous(array), size(array, kind=int64), &
                  SRS_DOUBLE, d, ierr)
  end subroutine srs_read_r64

  subroutine srs_register_i32(name, array, global_count, d, ierr)
    character(len=*), intent(in) :: name
    integer(int32), dimension(..), intent(in), target :: array
    integer(int64), intent(in) :: global_count
    type(srs_distribution), intent(in) :: d
    integer, intent(out), optional :: ierr
    call register_any(name, c_loc(array), is_contiguous(array), size(array, kind=int64), &
                      SRS_INT32, global_count, d, ierr)
  end subroutine srs_register_i32

  subroutine srs_read_i32(name, array, d, ierr)
    character(len=*), intent(in) :: name
    integer(int32), dimension(..), intent(inout), target :: array
    type(srs_distribution), intent(in) :: d
    integer, intent(out), optional :: ierr
    call read_any(name, c_loc(array), is_contiguous(array), size(array, kind=int64), &
                  SRS_INT32, d, ierr)
  end subroutine srs_read_i32

  subroutine srs_register_i64(name, array, global_count, d, ierr)
    character(len=*), intent(in) :: name
    integer(int64), dimension(..), intent(in), target :: array
    integer(int64), intent(in) :: global_count
    type(srs_distribution), intent(in) :: d
    integer, intent(out), optional :: ierr
    call register_any(name, c_loc(array), is_contiguous(array), size(array, kind=int64), &
                      SRS_INT64, global_count, d, ierr)
  end subroutine srs_register_i64

  subroutine srs_read_i64(name, array, d, ierr)
    character(len=*), intent(in) :: name
    integer(int64), dimension(..), intent(inout), target :: array
    type(srs_distribution), intent(in) :: d
    integer, intent(out), optional :: ierr
    call read_any(name, c_loc(array), is_contiguous(array), size(array, kind=int64), &
                  SRS_INT64, d, ierr)
  end subroutine srs_read_i64

  subroutine srs_register_c32(name, array, global_count, d, ierr)
    character(len=*), intent(in) :: name
    complex(real32), dimension(..), intent(in), target :: array
    integer(int64), intent(in) :: global_count
    type(srs_distribution), intent(in) :: d
    integer, intent(out), optional :: ierr
    call register_any(name, c_loc(array), is_contiguous(array), size(array, kind=int64), &
                      SRS_FLOAT_COMPLEX, global_count, d, ierr)
  end subroutine srs_register_c32

  subroutine srs_read_c32(name, array, d, ierr)
    character(len=*), intent(in) :: name
    complex(real32), dimension(..), intent(inout), target :: array
    type(srs_distribution), intent(in) :: d
    integer, intent(out), optional :: ierr
    call read_any(name, c_loc(array), is_contiguous(array), size(array, kind=int64), &
                  SRS_FLOAT_COMPLEX, d, ierr)
  end subroutine srs_read_c32

  subroutine srs_register_c64(name, array, global_count, d, ierr)
    character(len=*), intent(in) :: name
    complex(real64), dimension(..), intent(in), target :: array
    integer(int64), intent(in) :: global_count
    type(srs_distribution), intent(in) :: d
    integer, intent(out), optional :: ierr
    call register_any(name, c_loc(array), is_contiguous(array), size(array, kind=int64), &
                      SRS_DOUBLE_COMPLEX, global_count, d, ierr)
  end subroutine srs_register_c64

  subroutine srs_read_c64(name, array, d, ierr)
    character(len=*), intent(in) :: name
    complex(real64), dimension(..), intent(inout), target :: array
    type(srs_distribution), intent(in) :: d
    integer, intent(out), optional :: ierr
    call read_any(name, c_loc(array), is_contiguous(array), size(array, kind=int64), &
                  SRS_DOUBLE_COMPLEX, d, ierr)
  end subroutine srs_read_c64
end module srs
