#!/usr/bin/env python3
"""Cross-checks `qweave dem` against Stim's detector error models.

usage: python3 validation/crosscheck_dem.py [QWEAVE_BINARY]   (default: build/qweave in the repo)

For each circuit below (Stim's generated repetition, rotated surface and colour codes with every
generated noise option, and hand-written circuits with MPP, MXX/MYY, SPP, feedback, E, MR(p) and a
Pauli-target OBSERVABLE_INCLUDE), the circuit is written to a file with str(circuit), `qweave dem` is
run on it, and its output is parsed by stim.DetectorErrorModel (so it must be valid DEM text).
Both models are flattened and read into {frozenset(symptoms): probability} (repeated symptom sets
combined with p(1-q) + q(1-p)); the key sets must be equal and every probability equal within 1e-12
relative. Detector coordinates must equal circuit.get_detector_coordinates(), and the numbers of
detectors and observables must match. Stim runs with decompose_errors=False.

Exit status: 0 pass, 1 failure, 77 when stim is missing.
"""
import os
import subprocess
import sys
import tempfile

SKIP = 77
try:
    import stim
except ImportError as e:  # optional validation: never a hard dependency
    print(f"SKIP: missing Python dependency: stim ({e}); pip install stim")
    sys.exit(SKIP)

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))

HAND_WRITTEN = {
    "products_feedback": """
R 0 1 2 3
H 0
CX 0 1
DEPOLARIZE1(0.01) 0 1
MPP(0.02) X0*X1 Z0*Z1
DETECTOR rec[-2]
DETECTOR rec[-1]
E(0.03) X0 Z1
Y_ERROR(0.04) 2
SQRT_XX 0 1
SQRT_XX_DAG 0 1
MXX 0 1
MZZ(0.01) 0 1
DETECTOR rec[-2] rec[-4]
DETECTOR rec[-1] rec[-3]
M(0.05) 2
CX rec[-1] 3
X_ERROR(0.06) 3
SWAP 2 3
ISWAP 0 1
ISWAP_DAG 0 1
M 2 3
DETECTOR rec[-3] rec[-2]
DETECTOR rec[-1]
OBSERVABLE_INCLUDE(0) rec[-1]
RX 0
Z_ERROR(0.07) 0
SPP Z0
C_XYZ 0
DEPOLARIZE2(0.08) 0 1
C_ZYX 0
SPP_DAG Z0
MRX(0.01) 0
DETECTOR rec[-1]
R 1
H_YZ 1
Y_ERROR(0.01) 1
X_ERROR(0.02) 1
MY 1
OBSERVABLE_INCLUDE(2) rec[-1]
""",
    "pauli_observable": """
R 0 1
H 0
CX 0 1
X_ERROR(0.1) 0
Z_ERROR(0.2) 1
OBSERVABLE_INCLUDE(1) X0 X1
OBSERVABLE_INCLUDE(0) Z0 Z1
M 2
DETECTOR(1, 2) rec[-1]
""",
}


def generated():
    noise = dict(after_clifford_depolarization=0.01, before_measure_flip_probability=0.01)
    full = dict(after_clifford_depolarization=0.001, before_measure_flip_probability=0.002,
                after_reset_flip_probability=0.003, before_round_data_depolarization=0.004)
    yield "rotated_memory_x_d3_r2", stim.Circuit.generated(
        "surface_code:rotated_memory_x", distance=3, rounds=2, **noise)
    yield "repetition_d5_r4", stim.Circuit.generated("repetition_code:memory", distance=5, rounds=4, **full)
    yield "rotated_memory_z_d3_r3", stim.Circuit.generated(
        "surface_code:rotated_memory_z", distance=3, rounds=3, **full)
    yield "unrotated_memory_z_d3_r2", stim.Circuit.generated(
        "surface_code:unrotated_memory_z", distance=3, rounds=2, **full)
    yield "color_xyz_d3_r2", stim.Circuit.generated("color_code:memory_xyz", distance=3, rounds=2, **full)
    for name, text in HAND_WRITTEN.items():
        yield name, stim.Circuit(text)


def as_dict(dem):
    out = {}
    for inst in dem.flattened():
        if inst.type != "error":
            continue
        key = frozenset(str(t) for t in inst.targets_copy())
        p = inst.args_copy()[0]
        q = out.get(key, 0.0)
        out[key] = q * (1 - p) + (1 - q) * p
    return {k: v for k, v in out.items() if k and v != 0}


def check(binary, name, circuit, tmp):
    path = os.path.join(tmp, name + ".stim")
    with open(path, "w") as f:
        f.write(str(circuit) + "\n")
    run = subprocess.run([binary, "dem", path], capture_output=True, text=True)
    if run.returncode != 0:
        return [f"qweave dem failed ({run.returncode}): {run.stderr.strip()}"]
    problems = []
    ours = stim.DetectorErrorModel(run.stdout)
    theirs = circuit.detector_error_model(decompose_errors=False)
    a, b = as_dict(ours), as_dict(theirs)
    for k in sorted(set(b) - set(a), key=sorted)[:5]:
        problems.append(f"missing mechanism {sorted(k)} (stim p={b[k]})")
    for k in sorted(set(a) - set(b), key=sorted)[:5]:
        problems.append(f"extra mechanism {sorted(k)} (qweave p={a[k]})")
    bad = [k for k in set(a) & set(b) if abs(a[k] - b[k]) > 1e-12 * abs(b[k])]
    for k in sorted(bad, key=sorted)[:5]:
        problems.append(f"{sorted(k)}: qweave p={a[k]!r}, stim p={b[k]!r}")
    if ours.num_detectors != circuit.num_detectors:
        problems.append(f"num_detectors {ours.num_detectors} != {circuit.num_detectors}")
    if ours.num_observables != circuit.num_observables:
        problems.append(f"num_observables {ours.num_observables} != {circuit.num_observables}")
    ours_coords = {k: list(v) for k, v in ours.get_detector_coordinates().items() if len(v)}
    theirs_coords = {k: list(v) for k, v in circuit.get_detector_coordinates().items() if len(v)}
    if ours_coords != theirs_coords:
        problems.append("detector coordinates differ")
    print(f"{'ok  ' if not problems else 'FAIL'} {name}: {len(a)} mechanisms, "
          f"{circuit.num_detectors} detectors")
    return problems


def main():
    binary = sys.argv[1] if len(sys.argv) > 1 else os.path.join(REPO, "build", "qweave")
    failures = 0
    with tempfile.TemporaryDirectory() as tmp:
        for name, circuit in generated():
            problems = check(binary, name, circuit, tmp)
            for p in problems:
                print(f"    {p}")
            failures += bool(problems)
    print("PASS" if failures == 0 else f"FAIL: {failures} circuit(s)")
    return 0 if failures == 0 else 1


if __name__ == "__main__":
    sys.exit(main())
