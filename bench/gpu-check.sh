#!/usr/bin/env bash
# The one GPU check, for a machine lent through the device tool (CUDA, CMake, ninja; no registry).
# Prepare here:  ../shared/tools/gpu-kit.sh .gpukit   (with EXTRA_PKGS below) and carry .gpukit.
#   EXTRA_PKGS="libopenblas0-pthread libopenblas-pthread-dev libopenblas-dev liblapack3 liblapack-dev \
#               libblas3 libblas-dev libgfortran5" ../shared/tools/gpu-kit.sh .gpukit
# There:         bash bench/gpu-check.sh     (builds the CUDA backend with all cores, runs the test
#                suite on the GPU, the kernel benchmarks at 26-30 qubits, prints a short table)
# Budget: under 8 minutes in all.
set -euo pipefail
cd "$(dirname "$0")/.."
out=${OUT:-/tmp/qweave-gpu-check}
mkdir -p "$out"
kit=/opt/qweave-kit
if [ -d .gpukit ]; then
  mkdir -p "$kit"
  for f in .gpukit/*.deb; do dpkg -x "$f" "$kit"; done
  export CMAKE_PREFIX_PATH="$kit/usr" PATH="$kit/usr/bin:$PATH"
  export LD_LIBRARY_PATH="$kit/usr/lib/x86_64-linux-gnu:$kit/usr/lib/x86_64-linux-gnu/hdf5/openmpi:$kit/usr/lib/x86_64-linux-gnu/openblas-pthread:${LD_LIBRARY_PATH:-}"
  export OPAL_PREFIX="$kit/usr"
  hdf5_args=(-DHDF5_C_INCLUDE_DIR="$kit/usr/include/hdf5/openmpi"
             -DHDF5_C_LIBRARY_hdf5="$kit/usr/lib/x86_64-linux-gnu/hdf5/openmpi/libhdf5.so"
             -DHDF5_INCLUDE_DIRS="$kit/usr/include/hdf5/openmpi;$kit/usr/lib/x86_64-linux-gnu/openmpi/include"
             -DHDF5_LIBRARIES="$kit/usr/lib/x86_64-linux-gnu/hdf5/openmpi/libhdf5.so"
             -DRANDOM123_INCLUDE_DIR="$kit/usr/include"
             -DMPI_HOME="$kit/usr/lib/x86_64-linux-gnu/openmpi")
else
  hdf5_args=()
fi
export PATH="$PATH:/usr/local/cuda/bin"
nvidia-smi --query-gpu=name,memory.total,driver_version --format=csv,noheader | tee "$out/gpu.txt"
arch=$(nvidia-smi --query-gpu=compute_cap --format=csv,noheader | head -1 | tr -d .)
start=$(date +%s)
cmake -S . -B build-gpu -G Ninja -DQWEAVE_BACKEND=cuda -DCMAKE_CUDA_ARCHITECTURES="$arch" \
  -DQWEAVE_MPI=OFF "${hdf5_args[@]}" > "$out/cmake.log" 2>&1 || { tail -40 "$out/cmake.log"; exit 1; }
cmake --build build-gpu -j "$(nproc)" > "$out/build.log" 2>&1 || { tail -40 "$out/build.log"; exit 1; }
echo "build: $(( $(date +%s) - start )) s"
ctest --test-dir build-gpu -j 4 --timeout 120 > "$out/ctest.log" 2>&1 || true
tail -3 "$out/ctest.log"
# CPU vs CUDA: the same seed must give the same samples. Build the cpu backend too (all cores, no
# tests) and compare the printed outcome histograms of noisy and noiseless runs, line for line.
cmake -S . -B build-cpu -G Ninja -DQWEAVE_MPI=OFF -DQWEAVE_TESTS=OFF -DQWEAVE_BENCH=OFF "${hdf5_args[@]}" \
  > "$out/cmake-cpu.log" 2>&1 && cmake --build build-cpu -j "$(nproc)" > "$out/build-cpu.log" 2>&1
same=0; differ=0
for args in "examples/ghz.stim --shots 100000" "examples/qft.qasm --shots 20000" \
            "examples/remote_cnot.stim --platform nv_centre --shots 20000" \
            "examples/remote_cnot.stim --platform trapped_ion --engine dm --shots 20000"; do
  for b in cpu gpu; do
    # shellcheck disable=SC2086
    build-$b/qweave sim $args --seed 7 --no-output | grep -v "time " | sed 's/engine .* on [a-z]*/engine/' > "$out/hist-$b.txt"
  done
  if cmp -s "$out/hist-cpu.txt" "$out/hist-gpu.txt"; then same=$((same+1)); else differ=$((differ+1)); echo "DIFFER: $args"; fi
done
echo "cpu vs cuda outcome histograms: $same identical, $differ different"
QWEAVE_BENCH_QUBITS=26,28,30 timeout 240 build-gpu/bench/qweave_bench --benchmark_min_time=0.2 \
  --benchmark_format=json --benchmark_out="$out/bench.json" > "$out/bench.txt" 2>&1 || true
python3 bench/table.py "$out/bench.json" --device "$(head -1 "$out/gpu.txt")" | tee "$out/table.md"
