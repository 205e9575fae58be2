# Gate-fusion checks for a lent GPU machine (docs/performance.md). Sourced by bench/gpu-check.sh after
# it has built build-gpu (cuda) and build-cpu and set $out:   source bench/gpu-fusion-check.sh
# About 1-2 minutes: CPU vs CUDA outcome histograms of fused (and one unfused) runs must be identical;
# a 30-qubit random circuit fused vs --no-fusion; the fused-block and 1q/2q kernels at 30 qubits as
# fractions of copy bandwidth.
python3 bench/dense_suite.py build-gpu/qweave --sizes 20,30 --write /tmp/qw-circ
fsame=0; fdiffer=0
for args in "/tmp/qw-circ/random-20.qasm --shots 20000" "/tmp/qw-circ/random-20.qasm --shots 20000 --no-fusion" \
            "/tmp/qw-circ/qft-24.qasm --shots 20000" "/tmp/qw-circ/noisy-random-12.stim --shots 2000" \
            "examples/remote_cnot.stim --platform trapped_ion --engine dm --shots 20000 --fusion-qubits 3"; do
  for b in cpu gpu; do
    # shellcheck disable=SC2086
    build-$b/qweave sim $args --seed 7 --no-output | grep -v "time " | sed 's/engine .* on [a-z]*/engine/' > "$out/fhist-$b.txt"
  done
  if cmp -s "$out/fhist-cpu.txt" "$out/fhist-gpu.txt"; then fsame=$((fsame+1)); else fdiffer=$((fdiffer+1)); echo "FUSED DIFFER: $args"; fi
done
echo "fused runs, cpu vs cuda outcome histograms: $fsame identical, $fdiffer different"
for f in "" --no-fusion; do
  t0=$(date +%s.%N)
  build-gpu/qweave sim /tmp/qw-circ/random-30.qasm --shots 1000 --no-output -q $f
  echo "random-30 (423 gates) ${f:-fused}: $(python3 -c 'import sys; print(round(float(sys.argv[1]) - float(sys.argv[2]), 2))' "$(date +%s.%N)" "$t0") s"
done | tee "$out/fusion-30.txt"
QWEAVE_BENCH_QUBITS=30 timeout 120 build-gpu/bench/qweave_bench --benchmark_filter='copy|gate1q|gate2q|cnot|fused' \
  --benchmark_min_time=0.2 --benchmark_format=json --benchmark_out="$out/bench-fused.json" > /dev/null 2>&1 || true
python3 bench/table.py "$out/bench-fused.json" --device "$(head -1 "$out/gpu.txt")" | tee "$out/table-fused.md"
