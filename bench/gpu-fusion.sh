#!/usr/bin/env bash
# Gate fusion on a lent GPU machine, short (about 2 minutes after the machine starts): builds only
# qweave and qweave_bench, checks that fused runs give the CPU build's results bit for bit (HDF5
# files made here by `bench/gpu-fusion.sh --reference`, carried in .gpuref/fusion), times a 30-qubit
# random circuit fused vs --no-fusion, and measures the fused-block kernels at 30 qubits as fractions
# of the copy kernel. Carry .snap .gpukit .gpuref/fusion (bench/gpu-prep.sh, then this with
# --reference); run bash .snap/bench/gpu-fusion.sh
set -uo pipefail
cd "$(dirname "$0")/.."
runs() {  # $1: qweave binary, $2: output folder, $3: circuit folder
  local q=$1 d=$2 c=$3
  mkdir -p "$d"
  "$q" sim "$c/random-20.qasm" --shots 20000 --seed 7 --save-state -o "$d/random20_fused.h5" -q
  "$q" sim "$c/random-20.qasm" --shots 20000 --seed 7 --no-fusion -o "$d/random20_unfused.h5" -q
  "$q" sim "$c/qft-24.qasm" --shots 20000 --seed 7 -o "$d/qft24_fused.h5" -q
  "$q" sim "$c/noisy-random-12.stim" --shots 2000 --seed 7 -o "$d/noisy12_fused.h5" -q
  "$q" sim examples/remote_cnot.stim --platform trapped_ion --engine dm --shots 20000 --seed 7 \
    --fusion-qubits 3 -o "$d/remote_dm_fused3.h5" -q
}
if [ "${1:-}" = "--reference" ]; then  # here, with the CPU build of the same commit
  rm -rf .gpuref/fusion && mkdir -p .gpuref/fusion
  python3 bench/dense_suite.py build/qweave --sizes 20,30 --write .gpuref/fusion/circ > /dev/null
  runs "$PWD/build/qweave" .gpuref/fusion .gpuref/fusion/circ
  exit 0
fi
prep=.; [ -d .gpukit ] || [ ! -d ../.gpukit ] || prep=..
out=/tmp/qweave-gpu-fusion; rm -rf "$out"; mkdir -p "$out"
t0=$(date +%s)
kit=/opt/qweave-kit; mkdir -p "$kit"
for f in $prep/.gpukit/*.deb; do dpkg -x "$f" "$kit"; done
export CMAKE_PREFIX_PATH="$kit/usr" LD_LIBRARY_PATH="$kit/usr/lib/x86_64-linux-gnu:$kit/usr/lib/x86_64-linux-gnu/hdf5/serial:$kit/usr/lib/x86_64-linux-gnu/openblas-pthread:${LD_LIBRARY_PATH:-}"
if ! ldconfig -p | grep -q "libcurl.so.4 "; then
  mkdir -p /opt/qweave-fallback; for f in $prep/.gpukit/fallback/*.deb; do dpkg -x "$f" /opt/qweave-fallback; done
  export LD_LIBRARY_PATH="$LD_LIBRARY_PATH:/opt/qweave-fallback/usr/lib/x86_64-linux-gnu:/opt/qweave-fallback/lib/x86_64-linux-gnu"
fi
export PATH="$PATH:/usr/local/cuda/bin"
gpu=$(nvidia-smi --query-gpu=name --format=csv,noheader | head -1)
arch=$(nvidia-smi --query-gpu=compute_cap --format=csv,noheader | head -1 | tr -d .)
cmake -S . -B build-gpu -G Ninja -DQWEAVE_BACKEND=cuda -DCMAKE_CUDA_ARCHITECTURES="$arch" -DQWEAVE_MPI=OFF \
  -DQWEAVE_TESTS=OFF -DHDF5_C_COMPILER_EXECUTABLE=/bin/false -DHDF5_C_INCLUDE_DIR="$kit/usr/include/hdf5/serial" \
  -DHDF5_C_LIBRARY_hdf5="$kit/usr/lib/x86_64-linux-gnu/hdf5/serial/libhdf5.so" -DRANDOM123_INCLUDE_DIR="$kit/usr/include" \
  -DBLAS_LIBRARIES="$kit/usr/lib/x86_64-linux-gnu/openblas-pthread/libblas.so.3" \
  -DLAPACK_LIBRARIES="$kit/usr/lib/x86_64-linux-gnu/openblas-pthread/liblapack.so.3" > "$out/cmake.log" 2>&1 \
  || { tail -30 "$out/cmake.log"; exit 1; }
timeout 240 cmake --build build-gpu -j "$(nproc)" --target qweave qweave_bench > "$out/build.log" 2>&1 \
  || { grep -A8 error "$out/build.log" | head -40; exit 1; }
echo "[$(( $(date +%s) - t0 )) s] built"
runs "$PWD/build-gpu/qweave" "$out/runs" "$prep/.gpuref/fusion/circ"
python3 bench/compare_h5.py "$prep/.gpuref/fusion" "$out/runs" | tee "$out/identity.md"
for f in "" --no-fusion; do
  s=$(date +%s.%N)
  build-gpu/qweave sim "$prep/.gpuref/fusion/circ/random-30.qasm" --shots 1000 --no-output -q $f
  python3 -c "import sys; print(f'random-30 ${f:-fused}: {float(sys.argv[2]) - float(sys.argv[1]):.2f} s')" "$s" "$(date +%s.%N)"
done | tee "$out/random30.txt"
echo "[$(( $(date +%s) - t0 )) s] runs done"
QWEAVE_BENCH_QUBITS=30 timeout 150 build-gpu/bench/qweave_bench --benchmark_filter='copy|gate1q_low|fused' \
  --benchmark_min_time=0.2 --benchmark_format=json --benchmark_out="$out/bench.json" > /dev/null 2>&1
python3 bench/table.py "$out/bench.json" --device "$gpu" | tee "$out/table.md"
if [ -n "${OUT:-}" ]; then cat "$out/identity.md" "$out/random30.txt" "$out/table.md" > "$OUT/fusion-summary.md"; fi
echo "[$(( $(date +%s) - t0 )) s] all done"
