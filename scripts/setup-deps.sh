#!/usr/bin/env bash
# Installs the Debian 12 packages SRS builds and tests with. Idempotent: packages that are
# already present are not touched, and apt-get is only run when something is missing.
set -euo pipefail

packages=(
  build-essential cmake ninja-build pkg-config git
  mpich libmpich-dev libhdf5-mpich-dev hdf5-tools
  libgrpc++-dev protobuf-compiler-grpc libprotobuf-dev protobuf-compiler
  libabsl-dev libgtest-dev libgmock-dev gfortran
  libsqlite3-dev libxxhash-dev libscalapack-mpich-dev
  python3-h5py-serial iproute2 procps
  libssl-dev openssl libcli11-dev ccache
  slurm-wlm slurm-client munge util-linux
)

missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done

if ((${#missing[@]})); then
  echo "setup-deps: installing ${missing[*]}"
  if [ "$(id -u)" -ne 0 ]; then
    echo "setup-deps: need root to install packages (run as root, or install: ${missing[*]})" >&2
    exit 1
  fi
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends "${missing[@]}"
else
  echo "setup-deps: all packages present"
fi

# Some of the packages above (libscalapack-mpich-dev -> mpi-default-bin) install Open MPI too,
# and Debian's alternatives then make plain mpicc, mpicxx, mpif90, mpiexec and mpirun Open MPI's,
# whose headers are not installed. Point them (and CMake's find_package(MPI), which starts from
# them) at MPICH, the MPI SRS is built with. Idempotent: only a differing choice is changed.
prefer_alternative() {  # NAME PATH
  local name=$1 path=$2 current
  [ -e "$path" ] || return 0
  current=$(update-alternatives --query "$name" 2>/dev/null | sed -n 's/^Value: //p')
  [ "$current" = "$path" ] && return 0
  if [ "$(id -u)" -ne 0 ]; then
    echo "setup-deps: $name is '${current:-unset}', not MPICH; as root: update-alternatives --set $name $path" >&2
    return 0
  fi
  update-alternatives --set "$name" "$path" >/dev/null
  echo "setup-deps: $name -> $path"
}
prefer_alternative mpi /usr/bin/mpicc.mpich
prefer_alternative mpirun /usr/bin/mpirun.mpich
