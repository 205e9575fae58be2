#!/usr/bin/env python3
"""Dense-engine speed suite: qweave fused vs unfused vs Qiskit Aer (and qsim when importable) on CPU.

The same circuits for every simulator, built from one gate list and written as OpenQASM 2.0 (qweave,
Aer) or Stim text with noise (qweave), or built as cirq circuits (qsim):
  * random circuits in the style of Boixo et al. 2018 / Arute et al. 2019: per cycle a random
    sqrt(X), sqrt(Y) or sqrt(W) on every qubit (never the same twice in a row on a qubit), then CZ
    on one of four coupler patterns of a 2D grid (ABCDCDAB); CZ instead of fSim because qelib1 has
    no fSim. 20, 22, 24, 26 qubits, 10 cycles.
  * QFT of a basis state (24 qubits), GHZ (24 qubits).
  * noisy: the 12-qubit random circuit with DEPOLARIZE1(1e-3) after every 1-qubit gate and
    DEPOLARIZE2(1e-2) after every CZ, 10^4 trajectories (Aer: the equivalent depolarizing errors).
Every simulator runs with 2 threads, double precision (qsim: single, its only precision in qsimcirq;
compare it with --qweave-single), measurement of all qubits at the end
(terminal measurements: one state, shots sampled from it; the noisy circuit: one trajectory per shot).
Times are wall-clock, the fastest of --repeat runs: qweave's process (parse, run, sample; no output file), Aer's and qsim's run()
call in this process (circuit construction excluded).

  flock /tmp/qweave-cpu.lock python3 bench/dense_suite.py build/qweave --out bench/results/cpu-dense-speed.json
  /tmp/qsimvenv/bin/python bench/dense_suite.py ...   (an interpreter with qsimcirq, if any)
  python3 bench/dense_suite.py --table results.json ...   (a Markdown table of one or more runs)
  python3 bench/dense_suite.py build/qweave --sizes 20,30 --write /tmp/circuits   (the circuits only)
"""
import argparse
import json
import math
import os
import platform
import random
import subprocess
import sys
import tempfile
import time

SQW = (math.pi / 2, -math.pi / 4, math.pi / 4)  # sqrt(W) = U3(pi/2, -pi/4, pi/4) up to a phase


def grid(n):
    cols = math.ceil(math.sqrt(n))
    pos = {q: (q // cols, q % cols) for q in range(n)}
    at = {v: q for q, v in pos.items()}
    patterns = {"A": [], "B": [], "C": [], "D": []}
    for q, (r, c) in pos.items():
        if (r, c + 1) in at:
            patterns["A" if c % 2 == 0 else "B"].append((q, at[(r, c + 1)]))
        if (r + 1, c) in at:
            patterns["C" if r % 2 == 0 else "D"].append((q, at[(r + 1, c)]))
    return patterns


def random_circuit(n, cycles, seed):
    rng = random.Random(seed)
    pat = grid(n)
    order = "ABCDCDAB"
    last = [None] * n
    gates = []
    for cyc in range(cycles):
        for q in range(n):
            g = rng.choice([x for x in ("sx", "sy", "sw") if x != last[q]])
            last[q] = g
            gates.append((g, q))
        for a, b in pat[order[cyc % len(order)]]:
            gates.append(("cz", a, b))
    return gates


def qft_circuit(n):
    gates = [("x", 0), ("x", 2)]
    for j in reversed(range(n)):
        gates.append(("h", j))
        for k in reversed(range(j)):
            gates.append(("cp", math.pi / 2 ** (j - k), k, j))
    for j in range(n // 2):
        gates.append(("swap", j, n - 1 - j))
    return gates


def ghz_circuit(n):
    return [("h", 0)] + [("cx", q, q + 1) for q in range(n - 1)]


def to_qasm(n, gates):
    out = ['OPENQASM 2.0;', 'include "qelib1.inc";', f"qreg q[{n}];", f"creg c[{n}];"]
    for g in gates:
        name = g[0]
        if name == "sx":
            out.append(f"sx q[{g[1]}];")
        elif name == "sy":
            out.append(f"ry(pi/2) q[{g[1]}];")
        elif name == "sw":
            out.append(f"u3({SQW[0]!r},{SQW[1]!r},{SQW[2]!r}) q[{g[1]}];")
        elif name in ("x", "h"):
            out.append(f"{name} q[{g[1]}];")
        elif name in ("cz", "cx", "swap"):
            out.append(f"{name} q[{g[1]}],q[{g[2]}];")
        elif name == "cp":
            out.append(f"cu1({g[1]!r}) q[{g[2]}],q[{g[3]}];")
    out.append("measure q -> c;")
    return "\n".join(out) + "\n"


def to_stim(n, gates, p1, p2):
    out = []
    for g in gates:
        name = g[0]
        if name == "sx":
            out.append(f"SQRT_X {g[1]}")
        elif name == "sy":
            out.append(f"SQRT_Y {g[1]}")
        elif name == "sw":
            out.append(f"U3({SQW[0]!r},{SQW[1]!r},{SQW[2]!r}) {g[1]}")
        elif name == "cz":
            out.append(f"CZ {g[1]} {g[2]}")
        else:
            raise ValueError(name)
        if len(g) == 2 and p1 > 0:
            out.append(f"DEPOLARIZE1({p1!r}) {g[1]}")
        if len(g) == 3 and p2 > 0:
            out.append(f"DEPOLARIZE2({p2!r}) {g[1]} {g[2]}")
    out.append("M " + " ".join(str(q) for q in range(n)))
    return "\n".join(out) + "\n"


def time_qweave(qweave, path, shots, fusion, threads, extra=()):
    cmd = [qweave, "sim", path, "--shots", str(shots), "--no-output", "--threads", str(threads), "-q"]
    if not fusion:
        cmd.append("--no-fusion")
    cmd += list(extra)
    t0 = time.perf_counter()
    subprocess.run(cmd, check=True)
    return time.perf_counter() - t0


def aer_circuit(qasm):
    from qiskit import qasm2
    return qasm2.loads(qasm, custom_instructions=qasm2.LEGACY_CUSTOM_INSTRUCTIONS)


def time_aer(qasm, shots, threads, noise=None):
    from qiskit_aer import AerSimulator
    sim = AerSimulator(method="statevector", precision="double", max_parallel_threads=threads,
                       noise_model=noise)
    circ = aer_circuit(qasm)
    from qiskit import transpile
    circ = transpile(circ, sim, optimization_level=0)
    t0 = time.perf_counter()
    res = sim.run(circ, shots=shots).result()
    dt = time.perf_counter() - t0
    assert res.success, res.status
    return dt


def aer_noise(p1, p2):
    from qiskit_aer.noise import NoiseModel, depolarizing_error
    nm = NoiseModel()
    # Stim's DEPOLARIZE1(p): X, Y, Z with p/3 each = Aer's depolarizing lambda = 4p/3;
    # DEPOLARIZE2(p): 15 Paulis with p/15 each = lambda = 16p/15.
    nm.add_all_qubit_quantum_error(depolarizing_error(4 * p1 / 3, 1), ["sx", "ry", "u3", "u"])
    nm.add_all_qubit_quantum_error(depolarizing_error(16 * p2 / 15, 2), ["cz"])
    return nm


def cirq_circuit(n, gates):
    import cirq
    q = cirq.LineQubit.range(n)
    ops = []
    for g in gates:
        name = g[0]
        if name == "sx":
            ops.append(cirq.X(q[g[1]]) ** 0.5)
        elif name == "sy":
            ops.append(cirq.Y(q[g[1]]) ** 0.5)
        elif name == "sw":
            ops.append(cirq.PhasedXPowGate(phase_exponent=0.25, exponent=0.5)(q[g[1]]))
        elif name == "x":
            ops.append(cirq.X(q[g[1]]))
        elif name == "h":
            ops.append(cirq.H(q[g[1]]))
        elif name == "cz":
            ops.append(cirq.CZ(q[g[1]], q[g[2]]))
        elif name == "cx":
            ops.append(cirq.CNOT(q[g[1]], q[g[2]]))
        elif name == "swap":
            ops.append(cirq.SWAP(q[g[1]], q[g[2]]))
        elif name == "cp":
            ops.append(cirq.CZPowGate(exponent=g[1] / math.pi)(q[g[2]], q[g[3]]))
    return cirq.Circuit(ops)


def time_qsim(n, gates, threads, fused):
    import qsimcirq
    circ = cirq_circuit(n, gates)
    sim = qsimcirq.QSimSimulator(qsimcirq.QSimOptions(cpu_threads=threads, max_fused_gate_size=fused))
    t0 = time.perf_counter()
    sim.simulate(circ)
    return time.perf_counter() - t0


def table(paths):
    """Markdown table from one or more --out files."""
    rows = []
    for p in paths:
        with open(p) as f:
            rows += json.load(f)["rows"]
    def f(x):
        return "" if x is None else (f"{x:.3g}" if x < 10 else f"{x:.1f}")
    out = ["| circuit | qubits | gates | shots | qweave fused (s) | qweave unfused (s) | fused speed-up | "
           "Aer (s) | qweave vs Aer | qweave single (s) | qsim, float (s) | qweave single vs qsim |",
           "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|"]
    for r in rows:
        out.append(f"| {r['circuit']} | {r['qubits']} | {r['gates']} | {r['shots']} | {f(r['qweave_fused_s'])} | "
                   f"{f(r.get('qweave_unfused_s'))} | {f(r.get('fused_speedup'))}x | {f(r['aer_s'])} | "
                   f"{f(r['vs_aer'])}x | {f(r.get('qweave_single_fused_s'))} | {f(r.get('qsim_s'))} | "
                   f"{f(r.get('single_vs_qsim')) + 'x' if r.get('single_vs_qsim') else ''} |")
    return "\n".join(out)


def main():
    if len(sys.argv) > 1 and sys.argv[1] == "--table":
        print(table(sys.argv[2:]))
        return
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("qweave")
    ap.add_argument("--out", default="")
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--sizes", default="20,22,24,26")
    ap.add_argument("--cycles", type=int, default=10)
    ap.add_argument("--only", default="", help="comma-separated circuit names to run")
    ap.add_argument("--qweave-single", default="",
                    help="a single-precision qweave (build-single/qweave) to time too: qsim runs in float")
    ap.add_argument("--skip-unfused-above", type=int, default=99)
    ap.add_argument("--write", default="",
                    help="only write the circuits (.qasm, the noisy one .stim) into this folder")
    ap.add_argument("--repeat", type=int, default=2,
                    help="runs per timing, the fastest kept (other jobs share this machine)")
    args = ap.parse_args()
    os.environ["OMP_NUM_THREADS"] = str(args.threads)
    try:
        import qsimcirq  # noqa: F401
        have_qsim = True
    except ImportError:
        have_qsim = False

    cases = []
    for n in [int(x) for x in args.sizes.split(",")]:
        cases.append((f"random-{n}", n, random_circuit(n, args.cycles, 1000 + n), 1000, None))
    cases.append(("qft-24", 24, qft_circuit(24), 1000, None))
    cases.append(("ghz-24", 24, ghz_circuit(24), 1000, None))
    cases.append(("noisy-random-12", 12, random_circuit(12, args.cycles, 1012), 10000, (1e-3, 1e-2)))
    if args.only:
        keep = set(args.only.split(","))
        cases = [c for c in cases if c[0] in keep]

    if args.write:
        os.makedirs(args.write, exist_ok=True)
        for name, n, gates, shots, noise in cases:
            ext = ".stim" if noise else ".qasm"
            with open(os.path.join(args.write, name + ext), "w") as f:
                f.write(to_stim(n, gates, *noise) if noise else to_qasm(n, gates))
        return

    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        for name, n, gates, shots, noise in cases:
            qasm = to_qasm(n, gates)
            if noise:
                path = os.path.join(tmp, name + ".stim")
                with open(path, "w") as f:
                    f.write(to_stim(n, gates, *noise))
            else:
                path = os.path.join(tmp, name + ".qasm")
                with open(path, "w") as f:
                    f.write(qasm)
            row = {"circuit": name, "qubits": n, "gates": len(gates), "shots": shots}
            best = lambda f: min(f() for _ in range(args.repeat))
            row["qweave_fused_s"] = best(lambda: time_qweave(args.qweave, path, shots, True, args.threads))
            if n <= args.skip_unfused_above:
                row["qweave_unfused_s"] = best(lambda: time_qweave(args.qweave, path, shots, False, args.threads))
            if args.qweave_single:
                row["qweave_single_fused_s"] = best(lambda: time_qweave(args.qweave_single, path, shots, True, args.threads))
            row["aer_s"] = best(lambda: time_aer(qasm, shots, args.threads, aer_noise(*noise) if noise else None))
            if have_qsim and not noise:
                row["qsim_s"] = best(lambda: time_qsim(n, gates, args.threads, 4))
            # Effective bandwidth of the fused run: one read and one write of the state per gate.
            state_bytes = 16 * 2 ** n
            row["qweave_fused_us_per_gate"] = 1e6 * row["qweave_fused_s"] / len(gates)
            row["qweave_fused_effective_GBps"] = 2 * state_bytes * len(gates) / row["qweave_fused_s"] / 1e9
            if "qweave_unfused_s" in row:
                row["fused_speedup"] = row["qweave_unfused_s"] / row["qweave_fused_s"]
            row["vs_aer"] = row["aer_s"] / row["qweave_fused_s"]
            if "qsim_s" in row:
                row["vs_qsim"] = row["qsim_s"] / row["qweave_fused_s"]
                if "qweave_single_fused_s" in row:
                    row["single_vs_qsim"] = row["qsim_s"] / row["qweave_single_fused_s"]
            rows.append(row)
            print(json.dumps(row), flush=True)

    meta = {"machine": platform.processor() or platform.machine(), "cpus": os.cpu_count(),
            "threads": args.threads, "cycles": args.cycles, "python": sys.version.split()[0]}
    try:
        import qiskit_aer
        meta["qiskit_aer"] = qiskit_aer.__version__
    except ImportError:
        pass
    if have_qsim:
        import qsimcirq
        meta["qsimcirq"] = qsimcirq.__version__
    if args.out:
        with open(args.out, "w") as f:
            json.dump({"meta": meta, "rows": rows}, f, indent=1)


if __name__ == "__main__":
    main()
