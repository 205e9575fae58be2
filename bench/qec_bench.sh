#!/usr/bin/env bash
# Memory-experiment throughput on this machine (bench/results/cpu-qec.md): SD6 rotated surface code,
# rounds = d, p = 0.001 (or $P), both decoders; qweave run prints sampling and decoding times.
#   bench/qec_bench.sh [build/qweave]      (under flock /tmp/qweave-cpu.lock on shared machines)
set -euo pipefail
bin=${1:-build/qweave}
p=${P:-0.001}
exp=$(mktemp --suffix=.toml)
trap 'rm -f "$exp"' EXIT
printf '[experiment]\nkind = "memory"\nseed = 1\n[code]\ntype = "surface"\n[noise]\np = %s\n' "$p" > "$exp"
printf '| d | decoder | shots | detectors | detection fraction | logical error rate | decode us/shot (1 core) | sampling s | decoding s (wall) | total s | shots/s end to end |\n'
printf '|---|---|---|---|---|---|---|---|---|---|---|\n'
for d in 3 5 7 9 11; do
  for dec in mwpm union_find; do
    shots=$(( d <= 5 ? 100000 : (d <= 9 ? 40000 : 20000) ))
    t0=$(date +%s.%N)
    out=$("$bin" run "$exp" --no-output --set code.distance=$d --set experiment.shots=$shots --set "decoder.kind=\"$dec\"")
    t1=$(date +%s.%N)
    det=$(sed -n 's/.* \([0-9]*\) detectors.*detection fraction \([0-9.e-]*\).*/\1 \2/p' <<<"$out")
    ler=$(sed -n 's/.*logical error rate \([0-9.e-]*\) per shot \[\([0-9.e-]*\), \([0-9.e-]*\)\].*/\1 [\2, \3]/p' <<<"$out")
    us=$(sed -n 's/.*decoding \([0-9.e+-]*\) us per shot; sampling \([0-9.e+-]*\) s, decoding \([0-9.e+-]*\) s.*/\1 \2 \3/p' <<<"$out")
    read -r ndet frac <<<"$det"; read -r dus samp dwall <<<"$us"
    total=$(echo "$t1 - $t0" | bc -l)
    printf '| %s | %s | %s | %s | %s | %s | %s | %s | %s | %.2f | %.0f |\n' "$d" "$dec" "$shots" "$ndet" "$frac" "$ler" "$dus" "$samp" "$dwall" "$total" "$(echo "$shots / $total" | bc -l)"
  done
done
