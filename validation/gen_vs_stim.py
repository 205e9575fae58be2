#!/usr/bin/env python3
"""Checks the circuits of `qweave gen` with Stim.

usage: python3 validation/gen_vs_stim.py [QWEAVE_BINARY]   (default: build/qweave in the repository)

For monolithic, split and GHZ-distributed surface and repetition code memories (both bases; SD6 noise,
interface noise, Bell-pair fidelities, platform presets and a link experiment):

* Stim parses the text; numbers of qubits, detectors and observables as expected.
* Signs: the noiseless circuit is run in Stim's TableauSimulator (random outcomes drawn by Stim) five
  times, and every DETECTOR parity and the observable, evaluated from the raw measurement record, is 0.
  (Detection-event samplers compare against a reference sample and cannot see a wrong sign.)
* Distance: len(circuit.shortest_graphlike_error()) equals d (Stim decomposes the hyperedges).
* Rates: 100 000 shots of `qweave sim --engine frame` and of Stim's detector sampler on the same
  text: every detector's fire rate and the observable's flip rate agree within 5 sigma
  (sigma^2 = p(1-p)(1/n1 + 1/n2), p from the pooled rate, floor of 2 counts).
* `qweave dem` of every circuit equals Stim's detector_error_model (mechanism sets equal,
  probabilities within 1e-12 relative; PAULI_CHANNEL_* as independent mechanisms in both).
* With PyMatching (optional): SD6 surface memories at p = 0.001 decoded from Stim's model of our
  circuit: the logical error rate falls from d = 3 to d = 5 and is far below the raw observable flip
  rate; Stim's generated circuit at the same p is decoded alongside for comparison (printed; ours is
  2-4x higher, from SD6's idle noise in every layer). And the layouts alone: both noiseless circuits
  (ours and Stim's generated) through one common noise pass (p = 0.003 after H/CX, on M/R, no idle)
  give logical error rates within 5 sigma of each other at d = 3, 5 (200 000 shots).
* For the monolithic surface code with odd d, the detector count equals that of
  stim.Circuit.generated("surface_code:rotated_memory_{x,z}") at the same d and rounds, and both
  circuits have distance d; the two DEM sizes are printed (qweave's SD6 adds idle noise in every layer,
  Stim's generated noise has none, so they are not expected to be equal).

Exit status: 0 pass, 1 failure, 77 when stim, numpy or h5py is missing.
"""
import os
import subprocess
import sys
import tempfile

SKIP = 77
try:
    import h5py
    import numpy as np
    import stim
except ImportError as e:  # optional validation: never a hard dependency
    print(f"SKIP: missing Python dependency ({e}); pip install stim numpy h5py")
    sys.exit(SKIP)
try:
    import pymatching
except ImportError:  # the decoding check only
    pymatching = None

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
SHOTS = 100_000

CASES = [
    # (code, distance, rounds, basis, extra options)
    ("surface", 3, 3, "Z", ["--p", "0.002"]),
    ("surface", 3, 4, "X", ["--p", "0.002"]),
    ("surface", 5, 5, "Z", ["--p", "0.001"]),
    ("surface", 4, 2, "X", ["--p", "0.002"]),
    ("repetition", 5, 3, "Z", ["--p", "0.01"]),
    ("repetition", 4, 3, "X", ["--p", "0.01"]),
    ("surface", 5, 3, "Z", ["--p", "0.001", "--modules", "2", "--interface-error", "0.02",
                            "--interface-idle", "0.002"]),
    ("surface", 5, 3, "X", ["--p", "0.001", "--modules", "3", "--interface-error", "0.02",
                            "--bell-fidelity", "0.95", "--purification-rounds", "1"]),
    ("repetition", 5, 2, "Z", ["--p", "0.01", "--modules", "2", "--interface-error", "0.05"]),
    ("surface", 3, 3, "Z", ["--p", "0.001", "--partition", "distributed", "--bell-fidelity", "0.97",
                            "--interface-idle", "0.001"]),
    ("surface", 3, 2, "X", ["--p", "0.001", "--partition", "distributed", "--bell-fidelity", "0.9",
                            "--purification-rounds", "1"]),
    ("repetition", 3, 3, "Z", ["--p", "0.005", "--partition", "distributed", "--bell-fidelity", "0.95"]),
    ("surface", 3, 3, "Z", ["--platform", "superconducting", "--modules", "2", "--link-wait", "2e-5",
                            "--bell-fidelity", "0.98"]),
    ("surface", 3, 2, "X", ["--platform", "trapped_ion", "--modules", "2",
                            "--link", os.path.join(REPO, "examples", "links", "ions_main2025.toml")]),
]


def noiseless(circuit):
    return circuit.without_noise()


def detector_values(circuit, record):
    """Parities of every DETECTOR and OBSERVABLE_INCLUDE of a flattened circuit on one record."""
    dets, obs, m = [], {}, 0
    for inst in circuit.flattened():
        name = inst.name
        if name == "DETECTOR" or name == "OBSERVABLE_INCLUDE":
            v = 0
            for t in inst.targets_copy():
                v ^= int(record[m + t.value])  # t.value is negative: rec[-k]
            if name == "DETECTOR":
                dets.append(v)
            else:
                k = int(inst.gate_args_copy()[0])
                obs[k] = obs.get(k, 0) ^ v
        else:
            m += stim.Circuit(str(inst)).num_measurements
    return dets, obs


def as_dict(dem):
    """{frozenset of target strings: probability} of a flattened DEM, repeated sets combined by XOR."""
    out = {}
    for inst in dem.flattened():
        if inst.type != "error":
            continue
        key = frozenset(str(t) for t in inst.targets_copy())
        p = inst.args_copy()[0]
        q = out.get(key, 0.0)
        out[key] = q * (1 - p) + (1 - q) * p
    return {k: v for k, v in out.items() if k and v != 0}


def compare_dems(binary, path, circuit):
    """`qweave dem` against Stim's model of the same text (PAULI_CHANNEL_* read as independent
    mechanisms in both: Stim's approximate_disjoint_errors)."""
    run = subprocess.run([binary, "dem", path], capture_output=True, text=True)
    if run.returncode != 0:
        return [f"qweave dem failed: {run.stderr.strip()}"]
    a = as_dict(stim.DetectorErrorModel(run.stdout))
    b = as_dict(circuit.detector_error_model(decompose_errors=False, approximate_disjoint_errors=True))
    problems = []
    if set(a) != set(b):
        problems.append(f"DEM mechanism sets differ: {len(set(a) - set(b))} extra, {len(set(b) - set(a))} missing")
    bad = [k for k in set(a) & set(b) if abs(a[k] - b[k]) > 1e-12 * b[k]]
    if bad:
        problems.append(f"{len(bad)} DEM probabilities differ, e.g. {sorted(bad[0])}: {a[bad[0]]} vs {b[bad[0]]}")
    return problems


def decoded(circuit, shots, seed):
    """Logical error rate with PyMatching on Stim's decomposed model, and the raw observable flip rate."""
    dets, obs = circuit.compile_detector_sampler(seed=seed).sample(shots, separate_observables=True)
    matching = pymatching.Matching.from_detector_error_model(circuit.detector_error_model(decompose_errors=True))
    predicted = matching.decode_batch(dets)
    return float(np.mean(predicted[:, 0] != obs[:, 0])), float(np.mean(obs[:, 0]))


def uniform_noise(circuit, p):
    """The same noise pass for any H/CX/R/M circuit (REPEAT blocks kept): DEPOLARIZE1/2 after H and
    CX/CZ, flips before measurements and after resets. No idle noise, so both circuits get equal noise
    whatever their idle layers."""
    out = stim.Circuit()
    for inst in circuit:
        if isinstance(inst, stim.CircuitRepeatBlock):
            out.append(stim.CircuitRepeatBlock(inst.repeat_count, uniform_noise(inst.body_copy(), p)))
            continue
        name, targets = inst.name, inst.targets_copy()
        if name in ("M", "MR"):
            out.append("X_ERROR", targets, p)
        if name == "MX":
            out.append("Z_ERROR", targets, p)
        out.append(inst)
        if name in ("CX", "CZ"):
            out.append("DEPOLARIZE2", targets, p)
        elif name == "H":
            out.append("DEPOLARIZE1", targets, p)
        elif name in ("R", "MR"):
            out.append("X_ERROR", targets, p)
        elif name == "RX":
            out.append("Z_ERROR", targets, p)
    return out


def decoding_check(binary):
    """Below threshold the decoded logical error rate falls with the distance, and decoding helps."""
    failures = []
    shots = 200_000
    for basis in "XZ":
        rates = {}
        for d in (3, 5):
            text = subprocess.run([binary, "gen", "surface", "--distance", str(d), "--rounds", str(d), "--basis",
                                   basis, "--p", "0.001"], check=True, capture_output=True, text=True).stdout
            ours, raw = decoded(stim.Circuit(text), shots, 21)
            ref = stim.Circuit.generated(f"surface_code:rotated_memory_{basis.lower()}", distance=d, rounds=d,
                                         after_clifford_depolarization=0.001, before_measure_flip_probability=0.001,
                                         after_reset_flip_probability=0.001,
                                         before_round_data_depolarization=0.001)
            theirs, _ = decoded(ref, shots, 22)
            rates[d] = ours
            print(f"decoded (PyMatching) surface {basis} d={d} r={d} p=0.001: logical error rate {ours:.2e} "
                  f"(raw flips {raw:.3f}); Stim's generated circuit {theirs:.2e}")
            if not ours < raw / 5:
                failures.append(f"surface {basis} d={d}: decoding gives {ours}, raw observable flips {raw}")
        if not rates[5] < rates[3]:
            failures.append(f"surface {basis}: logical error rate does not fall with d: {rates}")
        # The layouts judged alone: both noiseless circuits through the same noise pass at p = 0.003.
        for d in (3, 5):
            text = subprocess.run([binary, "gen", "surface", "--distance", str(d), "--rounds", str(d), "--basis",
                                   basis], check=True, capture_output=True, text=True).stdout
            ref = stim.Circuit.generated(f"surface_code:rotated_memory_{basis.lower()}", distance=d, rounds=d)
            ours, _ = decoded(uniform_noise(stim.Circuit(text), 0.003), shots, 23)
            theirs, _ = decoded(uniform_noise(ref, 0.003), shots, 24)
            sigma = np.sqrt((ours + theirs) / 2 * 2 / shots)
            print(f"same noise (p = 0.003, no idle) surface {basis} d={d}: logical error rate {ours:.2e}, "
                  f"Stim's generated layout {theirs:.2e} ({abs(ours - theirs) / sigma:.1f} sigma)")
            if abs(ours - theirs) > 5 * sigma:
                failures.append(f"surface {basis} d={d} under equal noise: {ours} vs Stim's layout {theirs}")
    return failures


def main(binary):
    failures = []
    with tempfile.TemporaryDirectory() as tmp:
        for code, d, rounds, basis, extra in CASES:
            label = f"{code} d={d} r={rounds} {basis} {' '.join(os.path.basename(x) for x in extra)}"
            args = [binary, "gen", code, "--distance", str(d), "--rounds", str(rounds), "--basis", basis] + extra
            text = subprocess.run(args, check=True, capture_output=True, text=True).stdout
            circuit = stim.Circuit(text)

            # Signs: actual detector parities of noiseless runs are 0.
            clean = noiseless(circuit)
            for trial in range(5):
                sim = stim.TableauSimulator(seed=trial)
                sim.do(clean.flattened())
                dets, obs = detector_values(clean, sim.current_measurement_record())
                if any(dets) or any(obs.values()):
                    failures.append(f"{label}: noiseless run {trial}: detectors "
                                    f"{[i for i, v in enumerate(dets) if v]} observables {obs} are 1")
                    break

            path = os.path.join(tmp, "c.stim")
            with open(path, "w") as f:
                f.write(text)
            failures += [f"{label}: {p}" for p in compare_dems(binary, path, circuit)]

            distance = len(circuit.shortest_graphlike_error())
            if distance != d:
                failures.append(f"{label}: shortest graphlike error has {distance} mechanisms, expected {d}")

            # Rates: qweave's frame engine against Stim's detector sampler.
            out = os.path.join(tmp, "c.h5")
            subprocess.run([binary, "sim", path, "--engine", "frame", "--shots", str(SHOTS), "--seed", "7",
                            "-o", out, "-q"], check=True, capture_output=True)
            with h5py.File(out, "r") as f:
                ours_d = np.unpackbits(f["/detectors"][...], axis=1, count=circuit.num_detectors, bitorder="little")
                ours_o = np.unpackbits(f["/observables"][...], axis=1, count=1, bitorder="little")
            theirs_d, theirs_o = circuit.compile_detector_sampler(seed=11).sample(SHOTS, separate_observables=True)
            a = np.concatenate([ours_d, ours_o], axis=1).sum(axis=0).astype(float)
            b = np.concatenate([theirs_d, theirs_o], axis=1).sum(axis=0).astype(float)
            pooled = np.maximum((a + b) / (2 * SHOTS), 2.0 / SHOTS)
            sigma = np.sqrt(pooled * (1 - pooled) * 2 / SHOTS)
            z = np.abs(a - b) / SHOTS / sigma
            worst = int(np.argmax(z))
            if z[worst] > 5:
                failures.append(f"{label}: rate of {'L0' if worst == circuit.num_detectors else f'D{worst}'}: "
                                f"qweave {a[worst] / SHOTS:.5f} vs stim {b[worst] / SHOTS:.5f} ({z[worst]:.1f} sigma)")

            line = (f"{label}: {circuit.num_qubits} qubits, {circuit.num_detectors} detectors, distance {distance}, "
                    f"detection fraction {a[:-1].mean() / SHOTS:.4f} (stim {b[:-1].mean() / SHOTS:.4f}), "
                    f"L0 {a[-1] / SHOTS:.4f} (stim {b[-1] / SHOTS:.4f})")
            if code == "surface" and "--modules" not in extra and "--partition" not in extra:
                p = float(extra[extra.index("--p") + 1])
                ref = stim.Circuit.generated(f"surface_code:rotated_memory_{basis.lower()}", distance=d,
                                             rounds=rounds, after_clifford_depolarization=p,
                                             before_measure_flip_probability=p, after_reset_flip_probability=p,
                                             before_round_data_depolarization=p)
                # For even d Stim orients the patch the other way round (the other check type on the
                # memory basis), so the counts are compared for odd d only.
                if d % 2 == 1 and ref.num_detectors != circuit.num_detectors:
                    failures.append(f"{label}: {circuit.num_detectors} detectors, Stim's generated circuit has "
                                    f"{ref.num_detectors}")
                ref_distance = len(ref.shortest_graphlike_error())
                ours_dem = circuit.detector_error_model(decompose_errors=True)
                ref_dem = ref.detector_error_model(decompose_errors=True)
                line += (f"; Stim generated: distance {ref_distance}, DEM errors {ref_dem.num_errors} "
                         f"(ours {ours_dem.num_errors})")
            print(line)
    if pymatching is not None:
        failures += decoding_check(binary)
    else:
        print("pymatching missing: decoding check skipped (pip install pymatching)")
    for f in failures:
        print("FAIL:", f)
    return 1 if failures else 0


if __name__ == "__main__":
    binary = sys.argv[1] if len(sys.argv) > 1 else os.path.join(REPO, "build", "qweave")
    sys.exit(main(binary))
