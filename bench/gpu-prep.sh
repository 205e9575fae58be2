#!/usr/bin/env bash
# Prepares, on this (CPU) machine, what bench/gpu-check.sh needs on a lent GPU machine that has CUDA,
# CMake and ninja but no package registry, and stays under the device tool's 64 MiB:
#   .gpukit/   Debian packages for the CUDA build with QWEAVE_MPI=OFF (serial HDF5, OpenBLAS,
#              header-only libraries, GoogleTest/Benchmark; no OpenMPI), and .gpukit/fallback/ with
#              libcurl4 and its libraries, unpacked there only if the machine lacks libcurl.so.4
#   .whl/      the stim wheel for Python 3.12 (frame engine vs Stim on the GPU machine)
#   .gpuref/   the seeded runs of bench/gpu-identity.sh with the CPU build (build/qweave) of this tree
#   .snap/     a clean copy of HEAD, so that uncommitted edits in the tree do not reach the GPU build
# Then:  device run, carry [.snap, .gpukit, .whl, .gpuref], command: bash .snap/bench/gpu-check.sh
set -euo pipefail
cd "$(dirname "$0")/.."
for d in .gpukit .whl .gpuref .snap; do grep -qx "/$d/" .git/info/exclude || echo "/$d/" >> .git/info/exclude; done
if [ ! -d .gpukit ]; then
  EXTRA_PKGS="libopenblas0-pthread libgfortran5 liblemon-dev libtomlplusplus3" ../shared/tools/gpu-kit.sh .gpukit
  # MPI is off on the GPU machine: drop OpenMPI, the MPI-parallel HDF5 and their runtime libraries.
  rm -f .gpukit/libhdf5-openmpi* .gpukit/libopenmpi* .gpukit/openmpi-* .gpukit/libpmix2* \
        .gpukit/libhwloc15* .gpukit/libevent-* .gpukit/libfabric1* .gpukit/libucx0* .gpukit/libmunge2* \
        .gpukit/libpsm* .gpukit/librdmacm1* .gpukit/libibverbs1* .gpukit/libnl-* .gpukit/libnuma1*
  mkdir -p .gpukit/fallback
  (cd .gpukit/fallback && apt-get download libbrotli1 libcom-err2 libcurl4 libffi8 libgmp10 libgnutls30 \
     libgssapi-krb5-2 libhogweed6 libidn2-0 libk5crypto3 libkeyutils1 libkrb5-3 libkrb5support0 \
     libldap-2.5-0 libnettle8 libnghttp2-14 libp11-kit0 libpsl5 librtmp1 libsasl2-2 libssh2-1 libssl3 \
     libtasn1-6 libunistring2 libzstd1 >/dev/null 2>&1)
fi
if [ ! -d .whl ]; then
  python3 -m pip download -q --no-deps --only-binary=:all: --python-version 3.12 --implementation cp \
    --platform manylinux_2_28_x86_64 --platform manylinux_2_17_x86_64 -d .whl stim==1.16.0
fi
rm -rf .gpuref .snap
bash bench/gpu-identity.sh "$PWD/build/qweave" .gpuref
mkdir -p .snap && git archive HEAD | tar -x -C .snap
du -sh .gpukit .whl .gpuref .snap
