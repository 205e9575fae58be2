#!/usr/bin/env bash
# Runs a fixed set of seeded runs through every engine and writes one HDF5 file each into DIR.
# The GPU check runs it with the CUDA build and compares the files with the same runs of the CPU
# build (bench/compare_h5.py): for a seed, samples, records and link episodes must be identical.
#   bench/gpu-identity.sh BUILD/qweave DIR
set -euo pipefail
q=$1; d=$2
mkdir -p "$d"
cd "$(dirname "$0")/.."
run() { local name=$1; shift; "$q" "$@" -o "$d/$name.h5" -q > /dev/null || echo "FAILED: $name" >&2; }
run ghz_sv          sim examples/ghz.stim --shots 20000 --seed 7
run qft_sv_state    sim examples/qft.qasm --shots 20000 --seed 7 --save-state
run remote_nv_traj  sim examples/remote_cnot.stim --platform nv_centre --shots 20000 --seed 7
run remote_ion_dm   sim examples/remote_cnot.stim --platform trapped_ion --engine dm --shots 20000 --seed 7 --save-state
run teleported_traj sim examples/teleported_cnot.stim --platform superconducting --shots 20000 --seed 7
run rep_frame       sim examples/repetition_code.stim --engine frame --shots 20000 --seed 7
run rep_frame_meas  sim examples/repetition_code.stim --engine frame --shots 10000 --seed 7 --measurements
run rep_sv          sim examples/repetition_code.stim --shots 5000 --seed 7
run link_cnot_sv    sim examples/remote_cnot_link.stim --shots 10000 --seed 7 --link ab=examples/links/nv_pompili2021.toml --t1 3600 --t2 1.5
run link_cnot_frame sim examples/remote_cnot_link.stim --engine frame --shots 50000 --seed 7 --link ab=examples/links/nv_pompili2021.toml --t1 3600 --t2 1.5
run split_frame     sim examples/surface_split.stim --engine frame --shots 50000 --seed 7
"$q" run examples/link_werner.toml -o "$d/link_werner.h5" -q > /dev/null || echo "FAILED: link_werner" >&2
"$q" run examples/link_fiber_chain.toml -o "$d/link_fiber_chain.h5" -q > /dev/null || echo "FAILED: link_fiber_chain" >&2
# The exact 4x4 chain with purification and amplitude damping (T1 = 0.2 s): the Pair4 kernel.
"$q" run examples/link_fiber_chain.toml --set 'link.state="density"' --set memory.t1_s=0.2 --set memory.t2_s=0.2 \
  --set experiment.episodes=5000 -o "$d/link_fiber_chain_density.h5" -q > /dev/null || echo "FAILED: link_fiber_chain_density" >&2
"$q" run examples/memory_split.toml -o "$d/memory_split.h5" -q > /dev/null || echo "FAILED: memory_split" >&2
for f in examples/links/*.toml; do
  b=$(basename "$f" .toml)
  "$q" run "$f" --set experiment.episodes=20000 -o "$d/links_$b.h5" -q > /dev/null || echo "FAILED: links_$b" >&2
done
