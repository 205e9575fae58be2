#!/usr/bin/env bash
# The one GPU check, for a machine lent through the device tool (CUDA, CMake, ninja; no registry).
# Prepare here: bash bench/gpu-prep.sh (the kit of Debian packages, the stim wheel, the CPU build's
# seeded reference runs and a clean copy of HEAD in .snap/; it says what to carry).
# There:  bash .snap/bench/gpu-check.sh    (or bench/gpu-check.sh; .gpukit, .whl and .gpuref are
#         looked for beside the source tree and one folder up)
# It builds the CUDA backend with all cores, runs the test suite on the GPU, the same seeded runs as
# .gpuref with the CUDA build (compared dataset by dataset: CPU vs CUDA must be identical), the
# kernel benchmarks at 26-30 qubits, the noise and link benchmarks and the frame engine against Stim
# on one core, and prints a short table. Budget: under 8 minutes in all; every step has a timeout.
set -uo pipefail
cd "$(dirname "$0")/.."
prep=.; [ -d $prep/.gpukit ] || [ ! -d ../.gpukit ] || prep=..
# Logs and results go to a work folder; at the end they are packed into one archive under $OUT
# (the device tool brings back at most 8 files), with the summary tables beside it.
out=/tmp/qweave-gpu-check
rm -rf "$out"; mkdir -p "$out"
finish() {
  if [ -n "${OUT:-}" ]; then
    tar -czf "$OUT/gpu-check-logs.tgz" -C "$out" . 2>/dev/null
    cat "$out"/gpu.txt "$out"/identity.md "$out"/table.md "$out"/frame.md "$out"/qec.txt > "$OUT/summary.md" 2>/dev/null
  fi
}
trap finish EXIT
t_start=$(date +%s)
stamp() { echo "[$(( $(date +%s) - t_start )) s] $*"; }
kit=/opt/qweave-kit
hdf5_args=()
if [ -d $prep/.gpukit ]; then
  mkdir -p "$kit"
  for f in $prep/.gpukit/*.deb; do dpkg -x "$f" "$kit"; done
  export CMAKE_PREFIX_PATH="$kit/usr" PATH="$kit/usr/bin:$PATH"
  export LD_LIBRARY_PATH="$kit/usr/lib/x86_64-linux-gnu:$kit/usr/lib/x86_64-linux-gnu/hdf5/serial:$kit/usr/lib/x86_64-linux-gnu/openblas-pthread:${LD_LIBRARY_PATH:-}"
  if ! ldconfig -p | grep -q "libcurl.so.4 " || ! ldconfig -p | grep -q "libcrypto.so.3 "; then
    mkdir -p /opt/qweave-fallback
    for f in $prep/.gpukit/fallback/*.deb; do dpkg -x "$f" /opt/qweave-fallback; done
    export LD_LIBRARY_PATH="$LD_LIBRARY_PATH:/opt/qweave-fallback/usr/lib/x86_64-linux-gnu:/opt/qweave-fallback/lib/x86_64-linux-gnu"
    stamp "libcurl/libcrypto from the fallback kit"
  fi
  # No compiler wrapper (h5cc) there: FindHDF5 takes the serial library from these hints alone.
  hdf5_args=(-DHDF5_C_COMPILER_EXECUTABLE=/bin/false
             -DHDF5_C_INCLUDE_DIR="$kit/usr/include/hdf5/serial"
             -DHDF5_C_LIBRARY_hdf5="$kit/usr/lib/x86_64-linux-gnu/hdf5/serial/libhdf5.so"
             -DRANDOM123_INCLUDE_DIR="$kit/usr/include"
             -DBLAS_LIBRARIES="$kit/usr/lib/x86_64-linux-gnu/openblas-pthread/libblas.so.3"
             -DLAPACK_LIBRARIES="$kit/usr/lib/x86_64-linux-gnu/openblas-pthread/liblapack.so.3")
fi
export PATH="$PATH:/usr/local/cuda/bin"
nvidia-smi --query-gpu=name,memory.total,driver_version --format=csv,noheader | tee "$out/gpu.txt"
gpu=$(head -1 "$out/gpu.txt" | cut -d, -f1)
arch=$(nvidia-smi --query-gpu=compute_cap --format=csv,noheader | head -1 | tr -d .)
nvcc --version | tail -2 | head -1

# 1. Build (all cores).
cmake -S . -B build-gpu -G Ninja -DQWEAVE_BACKEND=cuda -DCMAKE_CUDA_ARCHITECTURES="$arch" \
  -DQWEAVE_MPI=OFF "${hdf5_args[@]}" > "$out/cmake.log" 2>&1 || { tail -40 "$out/cmake.log"; exit 1; }
timeout 300 cmake --build build-gpu -j "$(nproc)" > "$out/build.log" 2>&1 || { grep -B2 -A12 "error" "$out/build.log" | head -60; tail -20 "$out/build.log"; exit 1; }
stamp "build done"

# 2. The test suite on the GPU (validation scripts excluded: they need Python packages).
timeout 120 ctest --test-dir build-gpu -j 8 --timeout 100 -LE validation > "$out/ctest.log" 2>&1
grep -E "tests passed|Failed|\*\*\*" "$out/ctest.log" | head -30
stamp "tests done"

# 3. CPU vs CUDA: the same seeded runs, compared file by file.
if [ -d $prep/.gpuref ]; then
  timeout 120 bash bench/gpu-identity.sh "$PWD/build-gpu/qweave" "$out/ident" 2>&1 | tail -5
  python3 bench/compare_h5.py $prep/.gpuref "$out/ident" | tee "$out/identity.md"
  rm -rf "$out/ident"
fi
stamp "identity done"

# 4. Benchmarks (QWEAVE_GPU_CHECK_QUICK=1: stop here, for a short re-check of correctness).
if [ -n "${QWEAVE_GPU_CHECK_QUICK:-}" ]; then stamp "quick check done"; exit 0; fi
QWEAVE_BENCH_QUBITS=26,30 timeout 150 build-gpu/bench/qweave_bench --benchmark_min_time=0.2 \
  --benchmark_format=json --benchmark_out="$out/bench.json" > "$out/bench.txt" 2>&1
python3 bench/table.py "$out/bench.json" --device "$gpu" | tee "$out/table.md"
timeout 45 build-gpu/bench/qweave_noise_bench --benchmark_min_time=0.2 > "$out/noise.txt" 2>&1
grep -E "^(density|trajector)" "$out/noise.txt" | cut -c1-160
timeout 45 build-gpu/bench/qweave_link_bench --benchmark_min_time=0.2 > "$out/link.txt" 2>&1
grep -E "^(chain|elementary)" "$out/link.txt" | cut -c1-160
stamp "kernel benchmarks done"
if [ -d $prep/.whl ]; then
  python3 -m pip install -q --no-index --no-deps --no-compile --no-cache-dir --target /tmp/site $prep/.whl/*.whl \
    && export PYTHONPATH=/tmp/site
  QWEAVE_FRAME_THREADS=all QWEAVE_STIM_MAX_SHOTS=100000 timeout 90 python3 bench/frame_vs_stim.py build-gpu/qweave 4000000 \
    | tee "$out/frame.md"
fi
# Memory experiments end to end (sampling on the GPU, decoding on the CPU cores): SD6 p = 0.001,
# rounds = d, union-find and MWPM; qweave prints its sampling and decoding times.
qec=$(mktemp --suffix=.toml)
printf '[experiment]\nkind = "memory"\nseed = 1\n[code]\ntype = "surface"\n[noise]\np = 0.001\n' > "$qec"
for spec in "5 1000000 union_find" "11 200000 union_find" "21 20000 union_find" "11 50000 mwpm"; do
  read -r d n dec <<<"$spec"
  echo "memory d=$d shots=$n decoder=$dec:"
  timeout 60 build-gpu/qweave run "$qec" --no-output --set code.distance=$d --set experiment.shots=$n \
    --set "decoder.kind=\"$dec\"" 2>&1 | grep -E "logical error rate|decoding|time" | tee -a "$out/qec.txt"
done
stamp "all done"
