#!/usr/bin/env python3
"""Memory experiments of qweave (frame engine + its own MWPM / union-find decoders) against Stim's
sampler + PyMatching on the same circuits.

usage: python3 validation/memory_vs_stim.py [QWEAVE_BINARY] [--shots N]   (default: build/qweave)

For each configuration below, `qweave run` runs a memory experiment (kind = "memory", no sweep) and
writes its result file; the generated circuit is read back from the file's `circuit` attribute, so
Stim works on the very same text. Stim samples it (compile_detector_sampler, separate observables)
and PyMatching decodes with Stim's model (detector_error_model(decompose_errors=True)). The two
logical error rates are independent binomial estimates of, ideally, the same number; they must agree
within 4 sigma (sigma^2 = p(1-p)(1/n1 + 1/n2), p pooled, floor of 2 counts). The union-find decoder
is run on the first configurations as well and must not be better than PyMatching by more than
4 sigma, nor worse than 1.5x.

Exit status: 0 pass, 1 failure, 77 when stim, pymatching, numpy or h5py is missing.
"""
import math
import os
import subprocess
import sys
import tempfile

SKIP = 77
try:
    import h5py
    import numpy as np
    import pymatching
    import stim
except ImportError as e:  # optional validation: never a hard dependency
    print(f"SKIP: missing Python dependency ({e}); pip install stim pymatching h5py numpy")
    sys.exit(SKIP)

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))

# (label, TOML body without [experiment], shots)
CONFIGS = [
    ("surface d=3 Z p=0.005", '[code]\ntype = "surface"\ndistance = 3\nbasis = "Z"\n[noise]\np = 0.005\n', 100000),
    ("surface d=3 X p=0.005", '[code]\ntype = "surface"\ndistance = 3\nbasis = "X"\n[noise]\np = 0.005\n', 100000),
    ("surface d=5 Z p=0.005", '[code]\ntype = "surface"\ndistance = 5\nbasis = "Z"\n[noise]\np = 0.005\n', 60000),
    ("surface d=5 X p=0.003", '[code]\ntype = "surface"\ndistance = 5\nbasis = "X"\n[noise]\np = 0.003\n', 60000),
    ("repetition d=7 p=0.02", '[code]\ntype = "repetition"\ndistance = 7\n[noise]\np = 0.02\n', 60000),
    ("surface d=5 Z p=0.003, 2 modules split, interface 0.02",
     '[code]\ntype = "surface"\ndistance = 5\n[noise]\np = 0.003\n[modules]\ncount = 2\npartition = "split"\n'
     'interface_error = 0.02\ninterface_idle = 0.002\n', 60000),
    ("surface d=3 Z p=0.002, distributed (GHZ), Bell pairs F=0.99",
     '[code]\ntype = "surface"\ndistance = 3\n[noise]\np = 0.002\n[modules]\npartition = "distributed"\n'
     'bell_fidelity = 0.99\n', 60000),
    ("surface d=3 Z, nv_centre platform, 2 modules split, Bell pairs F=0.97",
     '[code]\ntype = "surface"\ndistance = 3\n[noise]\nplatform = "nv_centre"\n[modules]\ncount = 2\n'
     'bell_fidelity = 0.97\n', 60000),
]


def run_qweave(binary, body, shots, decoder, seed, tmp, tag):
    toml = os.path.join(tmp, f"{tag}.toml")
    out = os.path.join(tmp, f"{tag}.h5")
    with open(toml, "w") as f:
        f.write(f'[experiment]\nkind = "memory"\nshots = {shots}\nseed = {seed}\n{body}'
                f'[decoder]\nkind = "{decoder}"\n')
    subprocess.run([binary, "run", toml, "-o", out, "-q"], check=True)
    with h5py.File(out, "r") as f:
        errors = int(round(float(f["/summary/logical_errors"][()])))
        circuit = f.attrs["circuit"]
        t = float(f["/summary/decode_time_per_shot_s"][()])
    if isinstance(circuit, bytes):
        circuit = circuit.decode()
    return errors, circuit, t


def run_stim(text, shots, seed):
    c = stim.Circuit(text)
    det, obs = c.compile_detector_sampler(seed=seed).sample(shots, separate_observables=True)
    m = pymatching.Matching.from_detector_error_model(c.detector_error_model(decompose_errors=True))
    pred = m.decode_batch(det)
    return int(np.any(pred != obs, axis=1).sum())


def z_score(k1, n1, k2, n2):
    p = (k1 + k2) / (n1 + n2)
    var = max(p * (1 - p), 2.0 / (n1 + n2)) * (1 / n1 + 1 / n2)
    return (k1 / n1 - k2 / n2) / math.sqrt(var)


def main():
    args = [a for a in sys.argv[1:] if not a.startswith("--")]
    binary = args[0] if args else os.path.join(REPO, "build", "qweave")
    scale = 1.0
    if "--shots" in sys.argv:
        scale = float(sys.argv[sys.argv.index("--shots") + 1]) / 100000
    failures = []
    with tempfile.TemporaryDirectory() as tmp:
        for i, (label, body, shots) in enumerate(CONFIGS):
            shots = max(1000, int(shots * scale))
            ours, text, t_ours = run_qweave(binary, body, shots, "mwpm", 100 + i, tmp, f"c{i}")
            theirs = run_stim(text, shots, 200 + i)
            z = z_score(ours, shots, theirs, shots)
            line = (f"{label}: qweave+MWPM {ours}/{shots} = {ours / shots:.5f} ({t_ours * 1e6:.1f} us/shot), "
                    f"Stim+PyMatching {theirs}/{shots} = {theirs / shots:.5f}, z = {z:+.2f}")
            if i < 3:
                uf, _, t_uf = run_qweave(binary, body, shots, "union_find", 100 + i, tmp, f"u{i}")
                zu = z_score(uf, shots, theirs, shots)
                line += f"; union-find {uf}/{shots} = {uf / shots:.5f} ({t_uf * 1e6:.1f} us/shot, z = {zu:+.2f})"
                if zu < -4 or uf > 1.5 * theirs + 10:
                    failures.append(f"{label}: union-find {uf} vs PyMatching {theirs}")
            print(line, flush=True)
            if abs(z) > 4:
                failures.append(f"{label}: z = {z:+.2f}")
    if failures:
        print("FAIL:\n  " + "\n  ".join(failures))
        return 1
    print("PASS: logical error rates of qweave (frame engine + MWPM) agree with Stim + PyMatching")
    return 0


if __name__ == "__main__":
    sys.exit(main())
