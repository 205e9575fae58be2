#!/usr/bin/env python3
"""Pauli-frame throughput: qweave --engine frame vs Stim's detector sampler on rotated surface-code
memory circuits (d rounds, p = 0.001 circuit-level noise), measured in the same run, one core each
(qweave --threads 1; Stim samples on one thread). Needs `pip install stim`; prints a Markdown table.
    python3 bench/frame_vs_stim.py build/qweave [shots]
With QWEAVE_FRAME_THREADS=all, qweave runs without --threads 1 (a CUDA build on its GPU; Stim stays
on one core, the reference the issue's goal is stated against). QWEAVE_STIM_MAX_SHOTS caps Stim's
shots (the comparison is then of shots per second, each side timed on its own shot count), so that
a GPU can be given enough shots to leave its start-up cost behind."""
import os
import subprocess
import sys
import tempfile
import time

try:
    import stim
except ImportError:
    print("stim is not installed (pip install stim): nothing to compare with")
    sys.exit(77)

qweave = sys.argv[1] if len(sys.argv) > 1 else "build/qweave"
shots = int(sys.argv[2]) if len(sys.argv) > 2 else 100000
p = 0.001
stim_cap = int(os.environ.get("QWEAVE_STIM_MAX_SHOTS", "0")) or None
print(f"| d | qubits | detectors | shots (qweave) | shots (stim) | qweave s | stim s | qweave shots/s | stim shots/s | qweave / stim |")
print("|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
with tempfile.TemporaryDirectory() as tmp:
    for d in (5, 11, 21):
        c = stim.Circuit.generated("surface_code:rotated_memory_x", distance=d, rounds=d,
                                   after_clifford_depolarization=p, before_round_data_depolarization=p,
                                   before_measure_flip_probability=p, after_reset_flip_probability=p)
        path = os.path.join(tmp, f"sc{d}.stim")
        with open(path, "w") as f:
            f.write(str(c))
        n = shots if d < 21 else max(shots // 10, 6400)
        t0 = time.perf_counter()
        threads = [] if os.environ.get("QWEAVE_FRAME_THREADS") == "all" else ["--threads", "1"]
        subprocess.run([qweave, "sim", path, "--engine", "frame", "--shots", str(n), *threads,
                        "--no-output", "-q"], check=True)
        tq = time.perf_counter() - t0
        sampler = c.compile_detector_sampler()
        t0 = time.perf_counter()
        ns = min(n, stim_cap) if stim_cap else n
        sampler.sample(ns, separate_observables=True)
        ts = time.perf_counter() - t0
        print(f"| {d} | {c.num_qubits} | {c.num_detectors} | {n} | {ns} | {tq:.3f} | {ts:.3f} | {n / tq:.0f} | "
              f"{ns / ts:.0f} | {(n / tq) / (ns / ts):.2f} |", flush=True)
