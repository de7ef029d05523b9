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
