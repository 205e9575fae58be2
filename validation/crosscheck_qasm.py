#!/usr/bin/env python3
"""Cross-checks qweave's OpenQASM 2.0 path against Qiskit (an independent simulator).

usage: python3 validation/crosscheck_qasm.py [QWEAVE_BINARY]   (default: build/qweave in the repo)

1. Amplitudes: seeded random circuits over the qelib1.inc gates plus parameterised user-defined gates,
   on 3, 8, 14 and 20 qubits with about 10 gates per qubit. qweave runs them with --save-state and
   no shots; Qiskit (`qiskit.qasm2.loads` + `Statevector`, complex128) gives the reference. The two
   states must agree to 1e-10 in every amplitude after the global phase is removed (qelib1.inc's
   rz, sx, u1... differ from qweave's table gates by global phases, see docs/circuits-qasm.md).
2. Sampling: a circuit with terminal `measure`s on a few qubits, 20000 shots; qweave's outcome
   frequencies must pass a chi-square test and a total-variation bound against the exact
   probabilities from Qiskit's state vector, and the same tests must reject two deliberately wrong
   distributions (power check).

Exit status: 0 pass, 1 failure, 77 when a Python dependency (numpy, h5py, qiskit, scipy) is missing.
"""
import math
import os
import random
import re
import subprocess
import sys
import tempfile
import time

SKIP = 77
try:
    import numpy as np
    import h5py
    import qiskit.qasm2
    from qiskit.quantum_info import Statevector
    from scipy.stats import chi2 as chi2_dist
except ImportError as e:  # optional validation: never a hard dependency
    print(f"SKIP: missing Python dependency: {(e.name or '?').split('.')[0]} ({e}); "
          f"install with: pip install qiskit h5py numpy scipy")
    sys.exit(SKIP)

AMPLITUDE_TOL = 1e-10
SIZES = (3, 8, 14, 20)
SHOTS = 20000

# (name, qubits, parameters) for the qelib1.inc gates used in the random circuits.
GATES_1Q = [("x", 0), ("y", 0), ("z", 0), ("h", 0), ("s", 0), ("sdg", 0), ("t", 0), ("tdg", 0),
            ("sx", 0), ("sxdg", 0), ("rx", 1), ("ry", 1), ("rz", 1), ("p", 1), ("u1", 1),
            ("u2", 2), ("u3", 3), ("u", 3), ("U", 3), ("id", 0)]
GATES_2Q = [("cx", 0), ("CX", 0), ("cy", 0), ("cz", 0), ("ch", 0), ("swap", 0), ("crx", 1),
            ("cry", 1), ("crz", 1), ("cp", 1), ("cu1", 1), ("cu3", 3), ("cu", 4), ("csx", 0),
            ("rxx", 1), ("rzz", 1)]
GATES_3Q = [("ccx", 0), ("cswap", 0), ("rccx", 0)]
GATES_4Q = [("c3x", 0), ("rc3x", 0), ("c3sqrtx", 0)]
GATES_5Q = [("c4x", 0)]

# User gates: parameters used inside expressions, one calling the other, one using only U and CX.
USER_GATES = """\
gate mix(a, b) p, q {
  rx(a) p; cx p, q; ry(b / 2 + 0.25) q; u3(a, -b, a * b) p; cz p, q; crz(2 * a - pi / 3) q, p;
}
gate uc(th) p, q { U(th, th^2, -th) p; CX p, q; U(0, 0, sin(th)) q; CX p, q; }
gate deep(a, b, c) p, q, r { mix(a, c) p, q; uc(b) q, r; ccx p, q, r; rzz(a + b + c) p, r; }
"""
USER_CALLS = [("mix", 2, 2), ("uc", 2, 1), ("deep", 3, 3)]  # (name, qubits, parameters)


class Failure(Exception):
    pass


def angle(rng):
    """A random parameter, written so that both parsers read the same double."""
    form = rng.random()
    if form < 0.15:
        return rng.choice(["pi/4", "-pi/2", "3*pi/8", "pi", "0", "-(pi/7)"])
    return repr(rng.uniform(-2 * math.pi, 2 * math.pi))


def random_qasm(n, n_gates, rng, measured=None):
    lines = ['OPENQASM 2.0;', 'include "qelib1.inc";']
    # Two registers, so that qubit numbering across qregs is exercised too.
    a = max(1, n // 3)
    lines += [f"qreg a[{a}];", f"qreg b[{n - a}];"]
    qubit = [f"a[{i}]" for i in range(a)] + [f"b[{i}]" for i in range(n - a)]
    if measured:
        lines.append(f"creg c[{len(measured)}];")
    lines.append(USER_GATES)
    lines.append("h a;")  # register broadcast
    pools = [(GATES_1Q, 1)]
    if n >= 2:
        pools.append((GATES_2Q, 2))
    if n >= 3:
        pools.append((GATES_3Q, 3))
    if n >= 4:
        pools.append((GATES_4Q, 4))
    if n >= 5:
        pools.append((GATES_5Q, 5))
    weights = [6, 4, 1, 0.5, 0.3][:len(pools)]
    for g in range(n_gates):
        if n >= 3 and rng.random() < 0.06:
            name, arity, nparams = rng.choice(USER_CALLS)
            if arity > n:
                continue
        else:
            pool, arity = rng.choices(pools, weights)[0]
            name, nparams = rng.choice(pool)
        qs = rng.sample(range(n), arity)
        params = f"({', '.join(angle(rng) for _ in range(nparams))})" if nparams else ""
        lines.append(f"{name}{params} {', '.join(qubit[q] for q in qs)};")
        if rng.random() < 0.02:
            lines.append("barrier a, b;")
    if measured:
        for bit, q in enumerate(measured):
            lines.append(f"measure {qubit[q]} -> c[{bit}];")
    return "\n".join(lines) + "\n"


def run_qweave(binary, tmp, name, text, shots, seed):
    path = os.path.join(tmp, name + ".qasm")
    out = os.path.join(tmp, name + ".h5")
    with open(path, "w") as f:
        f.write(text)
    cmd = [binary, "sim", path, "--shots", str(shots), "--seed", str(seed), "--save-state",
           "--output", out, "-q"]
    r = subprocess.run(cmd, capture_output=True, text=True)
    if r.returncode != 0:
        raise Failure(f"qweave failed on {path} (exit {r.returncode}):\n{r.stdout}{r.stderr}")
    with h5py.File(out, "r") as f:
        if f.attrs.get("format") != "qweave/1" or not f.attrs["complete"]:
            raise Failure(f"{out}: not a complete qweave/1 result file")
        psi = f["/state/amplitudes"][...]
        table = None
        if "/measurements" in f:
            m = f["/measurements"]
            table = np.unpackbits(m[...], axis=1, count=int(m.attrs["bits"]), bitorder="little")
    return psi, table


def reference_state(text):
    # qiskit.qasm2 knows only the original qelib1.inc gates unless told about the newer ones
    # (u, p, sx, swap, rxx, ...) that Qiskit's qelib1.inc adds; this maps them to Qiskit's gates.
    circuit = qiskit.qasm2.loads(text, custom_instructions=qiskit.qasm2.LEGACY_CUSTOM_INSTRUCTIONS)
    circuit.remove_final_measurements(inplace=True)
    return np.asarray(Statevector(circuit).data, dtype=np.complex128)


def phase_aligned_difference(psi, ref):
    """max |psi·e^{iφ} − ref| over amplitudes, with φ the best global phase."""
    overlap = np.vdot(psi, ref)
    phase = overlap / abs(overlap) if abs(overlap) > 0 else 1.0
    return float(np.max(np.abs(psi * phase - ref)))


def check_amplitudes(binary, tmp):
    worst = 0.0
    covered = set()
    for n in SIZES:
        rng = random.Random(1000 + n)
        text = random_qasm(n, 10 * n, rng)
        covered |= set(re.findall(r"^(\w+)", text, re.MULTILINE))
        t0 = time.time()
        psi, _ = run_qweave(binary, tmp, f"random_{n}", text, shots=0, seed=n)
        t1 = time.time()
        ref = reference_state(text)
        t2 = time.time()
        if psi.shape != ref.shape:
            raise Failure(f"n={n}: qweave wrote {psi.shape[0]} amplitudes, expected {ref.shape[0]}")
        norm_error = abs(np.vdot(psi, psi).real - 1.0)
        diff = phase_aligned_difference(psi, ref)
        worst = max(worst, diff)
        print(f"  qasm n={n:2d} gates={10 * n:3d}: max|Δamp| = {diff:.3e}, |norm²−1| = "
              f"{norm_error:.1e} (qweave {t1 - t0:.2f}s, qiskit {t2 - t1:.2f}s)")
        if not diff <= AMPLITUDE_TOL or not norm_error <= AMPLITUDE_TOL:
            path = os.path.join(tmp, f"random_{n}.qasm")
            raise Failure(f"n={n}: amplitudes differ from Qiskit by {diff:.3e} (tolerance "
                          f"{AMPLITUDE_TOL:g}); circuit:\n{text}\n(also written to {path})")
    used = {g for pool in (GATES_1Q, GATES_2Q, GATES_3Q, GATES_4Q, GATES_5Q) for g, _ in pool}
    missing = (used | {name for name, _, _ in USER_CALLS}) - covered
    if missing:  # guards the generator: a change of seeds or weights must not drop a gate
        raise Failure(f"the random circuits no longer use {sorted(missing)}; change the seeds")
    return worst


def distribution_tests(counts, p, shots):
    """Chi-square p-value and total-variation distance of the observed counts against p.

    The TV bound: E[TV] ≤ ½·Σ sqrt(p_k/N) ≤ ½·sqrt(K/N) (Cauchy–Schwarz), and TV of N samples has
    bounded differences 1/N, so by McDiarmid P(TV ≥ E[TV] + t) ≤ exp(−2Nt²); t = 4/sqrt(N) gives a
    false-alarm probability below 1e-13.
    """
    support = p > 1e-12
    tv = 0.5 * float(np.abs(counts / shots - p).sum())
    tv_bound = 0.5 * math.sqrt(np.count_nonzero(support) / shots) + 4 / math.sqrt(shots)
    if np.any(counts[~support] > 0):
        return 0.0, tv, 0.0  # an outcome of probability 0 was seen: certainly wrong
    expected = p[support] * shots
    observed = counts[support].astype(float)
    # Pool outcomes with expected count < 5 into one bin so that the chi-square law applies.
    small = expected < 5
    if small.any():
        expected = np.append(expected[~small], expected[small].sum())
        observed = np.append(observed[~small], observed[small].sum())
    statistic = float(np.sum((observed - expected) ** 2 / expected))
    p_value = float(chi2_dist.sf(statistic, max(1, len(expected) - 1)))
    return p_value, tv, tv_bound


def check_sampling(binary, tmp):
    n = 7
    measured = [5, 1, 3, 6]  # not in qubit order: record bit b is the b-th measure statement
    k = len(measured)
    text = random_qasm(n, 25, random.Random(77), measured=measured)
    t0 = time.time()
    psi, table = run_qweave(binary, tmp, "sampling", text, shots=SHOTS, seed=12345)
    t1 = time.time()
    if table is None or table.shape != (SHOTS, k):
        raise Failure(f"sampling: expected /measurements of shape ({SHOTS}, {k}), got "
                      f"{None if table is None else table.shape}")
    state = Statevector(reference_state(text))
    # probabilities(qargs): qargs[0] is the least significant bit of the outcome index, as in the
    # record, where bit b of the outcome is record bit b.
    p = np.asarray(state.probabilities(measured), dtype=float)
    outcome = (table.astype(np.int64) << np.arange(k)).sum(axis=1)
    counts = np.bincount(outcome, minlength=2 ** k)

    # With --save-state and only terminal measurements, the saved state is the one before them.
    diff = phase_aligned_difference(psi, state.data)
    if not diff <= AMPLITUDE_TOL:
        raise Failure(f"sampling circuit: saved state differs from Qiskit by {diff:.3e}")

    p_value, tv, tv_bound = distribution_tests(counts, p, SHOTS)
    print(f"  sampling n={n}, {k} measured bits, {SHOTS} shots: chi² p-value = {p_value:.3f}, "
          f"TV = {tv:.4f} (bound {tv_bound:.4f}) (qweave {t1 - t0:.2f}s)")
    if p_value < 1e-6 or tv > tv_bound:
        raise Failure(f"sampling: qweave's outcome frequencies do not match Qiskit's probabilities "
                      f"(chi² p-value {p_value:.2e}, TV {tv:.4f} > {tv_bound:.4f})\n"
                      f"counts   {counts.tolist()}\nexpected {(p * SHOTS).round(1).tolist()}\n"
                      f"circuit:\n{text}")

    # Power check: the same tests must reject plausible bugs, or passing them means nothing.
    swapped = np.array([(i & ~3) | ((i & 1) << 1) | ((i >> 1) & 1) for i in range(2 ** k)])
    wrong = {
        "record bits 0 and 1 swapped": p[swapped],
        "last measured qubit replaced by qubit 0":
            np.asarray(state.probabilities(measured[:-1] + [0]), dtype=float),
    }
    for label, q in wrong.items():
        distance = 0.5 * float(np.abs(q - p).sum())
        wp, wtv, wbound = distribution_tests(counts, q, SHOTS)
        print(f"    power check ({label}, TV from truth {distance:.3f}): p-value = {wp:.1e}, "
              f"TV = {wtv:.4f}")
        if distance < 0.1:
            raise Failure(f"sampling: the power check '{label}' is too close to the truth "
                          f"(TV {distance:.3f}); choose another circuit seed")
        if wp >= 1e-6 or wtv <= wbound:
            raise Failure(f"sampling: the tests failed to reject a wrong distribution ({label})")


def main():
    root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    binary = sys.argv[1] if len(sys.argv) > 1 else os.path.join(root, "build", "qweave")
    if not os.access(binary, os.X_OK):
        print(f"FAIL: qweave binary not found or not executable: {binary}")
        return 1
    start = time.time()
    with tempfile.TemporaryDirectory(prefix="qweave-crosscheck-qasm-") as tmp:
        try:
            worst = check_amplitudes(binary, tmp)
            check_sampling(binary, tmp)
        except Failure as e:
            print(f"FAIL: {e}")
            return 1
    print(f"PASS: qweave agrees with Qiskit (worst amplitude difference {worst:.3e}, "
          f"{time.time() - start:.1f}s)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
