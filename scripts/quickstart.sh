#!/usr/bin/env bash
# qweave quick start on Debian 12: installs what is missing, builds, and then
#   scripts/quickstart.sh example   runs the default example (a distance-3 surface code memory split
#                                   across two NV modules 10 km apart; logical error rate, HDF5 file)
#   scripts/quickstart.sh test      runs the whole test suite (CTest)
# Environment: BUILD_DIR (default build), JOBS (default: nproc), QWEAVE_CMAKE_ARGS (extra options).
set -euo pipefail
cd "$(dirname "$0")/.."
what=${1:-example}
case "$what" in example|test|build) ;; *) echo "usage: $0 example|test|build" >&2; exit 2 ;; esac

packages=(
  g++ cmake ninja-build pkg-config python3
  libthrust-dev libopenmpi-dev openmpi-bin libhdf5-openmpi-dev
  libgtest-dev libgmock-dev libbenchmark-dev libtomlplusplus-dev libcli11-dev libfmt-dev
  libopenblas-dev liblapack-dev librandom123-dev liblemon-dev
)
missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  echo "qweave: installing ${missing[*]}"
  sudo=""
  [ "$(id -u)" -ne 0 ] && sudo="sudo"
  $sudo apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

build=${BUILD_DIR:-build}
jobs=${JOBS:-$(nproc)}
# shellcheck disable=SC2086
cmake -S . -B "$build" -G Ninja ${QWEAVE_CMAKE_ARGS:-} >/dev/null
cmake --build "$build" -j "$jobs"

case "$what" in
  example)
    "$build/qweave" run examples/memory_split.toml --output memory_split.h5
    "$build/qweave" info memory_split.h5
    ;;
  test)
    ctest --test-dir "$build" --output-on-failure -j "$jobs"
    ;;
  build) ;;
esac
