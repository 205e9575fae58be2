#!/usr/bin/env python3
"""qweave --engine frame --format-out b8/01 read back by Stim's own reader (stim.read_shot_data_file):
the detection events and observables must equal the HDF5 file's, on a generated surface code and on
a Stim-generated one. Skips (77) without stim/h5py.
    python3 validation/frame_formats.py build/qweave"""
import os
import subprocess
import sys
import tempfile

try:
    import h5py
    import numpy as np
    import stim
except ImportError as e:
    print(f"skipped: {e}")
    sys.exit(77)

qweave = sys.argv[1] if len(sys.argv) > 1 else "build/qweave"
bad = 0
with tempfile.TemporaryDirectory() as tmp:
    circuits = {
        "stim_surface": str(stim.Circuit.generated("surface_code:rotated_memory_z", distance=3, rounds=3,
                                                   after_clifford_depolarization=0.01,
                                                   before_measure_flip_probability=0.01)),
    }
    gen = os.path.join(tmp, "gen.stim")
    subprocess.run([qweave, "gen", "surface", "-d", "5", "-r", "2", "-p", "0.005", "--basis", "X", "-o", gen], check=True)
    circuits["qweave_gen_x"] = open(gen).read()
    for name, text in circuits.items():
        path = os.path.join(tmp, name + ".stim")
        open(path, "w").write(text)
        c = stim.Circuit(text)
        D, O = c.num_detectors, c.num_observables
        base = [qweave, "sim", path, "--engine", "frame", "--shots", "3000", "--seed", "9", "-q"]
        subprocess.run(base + ["-o", os.path.join(tmp, "a.h5")], check=True)
        subprocess.run(base + ["--format-out", "b8", "-o", os.path.join(tmp, "a.b8")], check=True)
        subprocess.run(base + ["--format-out", "01", "-o", os.path.join(tmp, "d.01"), "--obs-out",
                               os.path.join(tmp, "o.01")], check=True)
        with h5py.File(os.path.join(tmp, "a.h5")) as f:
            det = np.unpackbits(f["detectors"][()], axis=1, bitorder="little")[:, :D].astype(bool)
            obs = np.unpackbits(f["observables"][()], axis=1, bitorder="little")[:, :O].astype(bool)
        b8 = stim.read_shot_data_file(path=os.path.join(tmp, "a.b8"), format="b8", num_detectors=D, num_observables=O)
        d01 = stim.read_shot_data_file(path=os.path.join(tmp, "d.01"), format="01", num_detectors=D)
        o01 = stim.read_shot_data_file(path=os.path.join(tmp, "o.01"), format="01", num_observables=O)
        ok = (np.array_equal(b8[:, :D], det) and np.array_equal(b8[:, D:], obs) and np.array_equal(d01, det)
              and np.array_equal(o01, obs))
        print(f"{name}: {D} detectors, {O} observables, detection fraction {det.mean():.4f}: "
              f"{'same bits' if ok else 'MISMATCH'} (b8, 01)")
        bad += not ok
sys.exit(1 if bad else 0)
