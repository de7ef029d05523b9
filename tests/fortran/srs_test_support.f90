! Helpers shared by the Fortran tests: where each global element of a distribution lives (from
! DESIGN.md §2's definitions, written independently of the library), the value every element
! holds, and failure counting that agrees across ranks.
module srs_test_support
  use, intrinsic :: iso_fortran_env, only: int32, int64, real32, real64, output_unit
  implicit none
  private
  public :: KIND_BLOCK, KIND_CYCLIC, KIND_BLOCK_CYCLIC, KIND_2D, layout, grid_shape, owner_of
  public :: owned_indices, value_r64, value_i64, expect, expect_code, failures

  integer, parameter :: KIND_BLOCK = 1, KIND_CYCLIC = 2, KIND_BLOCK_CYCLIC = 3, KIND_2D = 4

  ! A distribution as the test understands it (independent of the library's handle).
  type layout
    integer :: kind = KIND_BLOCK
    integer(int64) :: block = 1                 ! block_cyclic
    integer(int64) :: rows = 0, cols = 0, mb = 1, nb = 1   ! 2-D
    integer :: nprow = 1, npcol = 1
  end type layout

  integer :: failures = 0

contains

  ! The most square nprow x npcol grid with nprow <= npcol.
  subroutine grid_shape(nprocs, nprow, npcol)
    integer, intent(in) :: nprocs
    integer, intent(out) :: nprow, npcol
    nprow = int(sqrt(real(nprocs)))
    do while (mod(nprocs, nprow) /= 0)
      nprow = nprow - 1
    end do
    npcol = nprocs / nprow
  end subroutine grid_shape

  ! 0-based rank holding 0-based global element g of n, on nprocs ranks.
  integer function owner_of(l, g, n, nprocs) result(owner)
    type(layout), intent(in) :: l
    integer(int64), intent(in) :: g, n
    integer, intent(in) :: nprocs
    integer(int64) :: base, extra, i, j
    select case (l%kind)
    case (KIND_BLOCK)
      base = n / nprocs
      extra = mod(n, int(nprocs, int64))
      if (g < extra * (base + 1)) then
        owner = int(g / (base + 1))
      else
        owner = int(extra + (g - extra * (base + 1)) / base)
      end if
    case (KIND_CYCLIC)
      owner = int(mod(g, int(nprocs, int64)))
    case (KIND_BLOCK_CYCLIC)
      owner = int(mod(g / l%block, int(nprocs, int64)))
    case default
      i = mod(g, l%rows)
      j = g / l%rows
      owner = int(mod(i / l%mb, int(l%nprow, int64))) * l%npcol + &
              int(mod(j / l%nb, int(l%npcol, int64)))
    end select
  end function owner_of

  ! The global indices rank `rank` holds, in its local order. For every distribution SRS has
  ! (including the 2-D one's column-major local piece) that is increasing global order.
  subroutine owned_indices(l, n, rank, nprocs, idx)
    type(layout), intent(in) :: l
    integer(int64), intent(in) :: n
    integer, intent(in) :: rank, nprocs
    integer(int64), allocatable, intent(out) :: idx(:)
    integer(int64) :: g, k
    k = 0
    do g = 0, n - 1
      if (owner_of(l, g, n, nprocs) == rank) k = k + 1
    end do
    allocate (idx(k))
    k = 0
    do g = 0, n - 1
      if (owner_of(l, g, n, nprocs) == rank) then
        k = k + 1
        idx(k) = g
      end if
    end do
  end subroutine owned_indices

  ! What global element g of an array holds (exact in every type the tests use).
  elemental real(real64) function value_r64(g, salt)
    integer(int64), intent(in) :: g
    integer, intent(in) :: salt
    value_r64 = real(g, real64) + 0.25_real64 + 1000.0_real64 * salt
  end function value_r64

  elemental integer(int64) function value_i64(g, salt)
    integer(int64), intent(in) :: g
    integer, intent(in) :: salt
    value_i64 = 3 * g + 1 + 100000_int64 * salt
  end function value_i64

  subroutine expect(ok, what)
    logical, intent(in) :: ok
    character(len=*), intent(in) :: what
    if (.not. ok) then
      failures = failures + 1
      write (output_unit, '(a)') 'FAIL: '//what
      flush (output_unit)
    end if
  end subroutine expect

  subroutine expect_code(ierr, code, what)
    use srs, only: srs_error_string, srs_last_error
    integer, intent(in) :: ierr, code
    character(len=*), intent(in) :: what
    if (ierr /= code) then
      failures = failures + 1
      write (output_unit, '(a,i0,a,i0,a)') 'FAIL: '//what//': ierr ', ierr, ' (expected ', &
        code, ') '//srs_error_string(ierr)//' / '//srs_last_error()
      flush (output_unit)
    end if
  end subroutine expect_code

end module srs_test_support
