#!/usr/bin/env python3
"""Cross-checks qweave's Stim-format path against Stim and an independent dense-matrix reference.

usage: python3 validation/crosscheck_stim.py [QWEAVE_BINARY]   (default: build/qweave in the repo)

1. Amplitudes: seeded random circuits over every unitary gate of docs/circuits-stim.md (all of Stim's
   one- and two-qubit Cliffords, SPP/SPP_DAG, qweave's extension gates), with broadcast targets,
   aliases and REPEAT blocks, on 3, 8, 14 and 20 qubits with about 10 gates per qubit. qweave runs them
   with --save-state and no shots. The reference applies one matrix per gate with numpy in complex128:
   Clifford matrices come from Stim (`stim.Tableau.from_named_gate(...).to_unitary_matrix`), extension
   gate matrices from their textbook formulas written out below. Tolerance 1e-10 on every amplitude,
   after removing the global phase (Stim's tableau unitaries carry arbitrary global phases).
   Pure-Clifford circuits are also checked against Stim's tableau: qweave's state must be a +1
   eigenvector of every stabilizer generator (exact, 1e-10), and for n ≤ 14 equal to
   `stim.TableauSimulator().state_vector()` to 1e-5 only, because Stim returns complex64.
2. Sampling: a Clifford circuit with mid-circuit MR/MRX, then M (some inverted), MX, MY, MZZ and MPP
   at the end, 20000 qweave shots against 100000 shots of Stim's `compile_sampler()`. Every record
   bit and pairwise parity that is constant in Stim must be constant, with the same value, in
   qweave; the others must have qweave's mean within 5σ of Stim's (two-sample z-test). Then all
   parities at once: every qweave shot must lie in the affine space spanned by Stim's shots, and be
   uniform over it (chi-square, 5σ), as a noiseless Clifford record is.

Exit status: 0 pass, 1 failure, 77 when a Python dependency (numpy, h5py, stim) is missing.
"""
import cmath
import math
import os
import random
import subprocess
import sys
import tempfile
import time

SKIP = 77
try:
    import numpy as np
    import h5py
    import stim
except ImportError as e:  # optional validation: never a hard dependency
    print(f"SKIP: missing Python dependency: {(e.name or '?').split('.')[0]} ({e}); "
          f"install with: pip install stim h5py numpy")
    sys.exit(SKIP)

AMPLITUDE_TOL = 1e-10
STIM_STATE_TOL = 1e-5  # stim.TableauSimulator.state_vector is complex64
STIM_STATE_MAX_QUBITS = 14  # stim's state_vector takes ~20 s at 20 qubits; the stabilizer check stays
SIZES = (3, 8, 14, 20)
SHOTS = 20000
STIM_SHOTS = 100000
SIGMAS = 5

CLIFFORD_1Q = ["I", "X", "Y", "Z", "C_XYZ", "C_ZYX", "C_NXYZ", "C_XNYZ", "C_XYNZ", "C_NZYX",
               "C_ZNYX", "C_ZYNX", "H", "H_XY", "H_YZ", "H_NXY", "H_NXZ", "H_NYZ", "S", "S_DAG",
               "SQRT_X", "SQRT_X_DAG", "SQRT_Y", "SQRT_Y_DAG"]
CLIFFORD_2Q = ["CX", "CY", "CZ", "CXSWAP", "CZSWAP", "ISWAP", "ISWAP_DAG", "SQRT_XX", "SQRT_XX_DAG",
               "SQRT_YY", "SQRT_YY_DAG", "SQRT_ZZ", "SQRT_ZZ_DAG", "SWAP", "SWAPCX", "XCX", "XCY",
               "XCZ", "YCX", "YCY", "YCZ", "II"]
# Aliases that Stim also accepts (so that the pure-Clifford circuits stay readable by Stim) ...
STIM_ALIASES = {"H": ["H_XZ"], "S": ["SQRT_Z"], "S_DAG": ["SQRT_Z_DAG"], "CX": ["CNOT", "ZCX"],
                "CY": ["ZCY"], "CZ": ["ZCZ"], "CZSWAP": ["SWAPCZ"]}
# ... and qweave-only aliases, used in the circuits that Stim does not read.
QWEAVE_ALIASES = {"SQRT_X": ["SX"], "SQRT_X_DAG": ["SX_DAG"], "U3": ["U"], "P": ["U1", "PHASE"],
                  "CP": ["CPHASE"], "CCX": ["TOFFOLI"], "CSWAP": ["FREDKIN"]}

# qweave's extension gates: name -> (targets per application, number of arguments).
EXTENSION = {"T": (1, 0), "T_DAG": (1, 0), "RX": (1, 1), "RY": (1, 1), "RZ": (1, 1), "U3": (1, 3),
             "P": (1, 1), "RXX": (2, 1), "RYY": (2, 1), "RZZ": (2, 1), "CH": (2, 0), "CSX": (2, 0),
             "CP": (2, 1), "CRX": (2, 1), "CRY": (2, 1), "CRZ": (2, 1), "CU": (2, 4), "CCX": (3, 0),
             "CCZ": (3, 0), "CSWAP": (3, 0), "C3X": (4, 0), "C4X": (5, 0)}

I2 = np.eye(2, dtype=complex)
PX = np.array([[0, 1], [1, 0]], dtype=complex)
PY = np.array([[0, -1j], [1j, 0]], dtype=complex)
PZ = np.array([[1, 0], [0, -1]], dtype=complex)


class Failure(Exception):
    pass


# ---- reference matrices (little-endian: the first target is the lowest index bit) ----

def rotation(pauli, theta):
    """exp(−iθP/2) for a Pauli (or Pauli product) matrix P."""
    return math.cos(theta / 2) * np.eye(len(pauli)) - 1j * math.sin(theta / 2) * pauli


def u3(theta, phi, lam):
    """OpenQASM's u3 (Cross et al., arXiv:1707.03429, Eq. 2 with its global phase removed)."""
    c, s = math.cos(theta / 2), math.sin(theta / 2)
    return np.array([[c, -cmath.exp(1j * lam) * s],
                     [cmath.exp(1j * phi) * s, cmath.exp(1j * (phi + lam)) * c]])


def controlled(u, controls):
    """u on the high targets, applied when all `controls` low targets are |1⟩."""
    dim_c, dim_t = 2 ** controls, len(u)
    m = np.eye(dim_c * dim_t, dtype=complex)
    on = [dim_c - 1 + dim_c * t for t in range(dim_t)]  # indices with every control bit set
    m[np.ix_(on, on)] = u
    return m


def extension_matrix(name, args):
    if name == "T":
        return np.diag([1, cmath.exp(1j * math.pi / 4)])
    if name == "T_DAG":
        return np.diag([1, cmath.exp(-1j * math.pi / 4)])
    if name in ("RX", "RY", "RZ"):
        return rotation({"RX": PX, "RY": PY, "RZ": PZ}[name], args[0])
    if name == "U3":
        return u3(*args)
    if name == "P":
        return np.diag([1, cmath.exp(1j * args[0])])
    if name in ("RXX", "RYY", "RZZ"):
        p = {"RXX": PX, "RYY": PY, "RZZ": PZ}[name]
        return rotation(np.kron(p, p), args[0])
    if name == "CH":
        return controlled(np.array([[1, 1], [1, -1]]) / math.sqrt(2), 1)
    if name == "CSX":
        return controlled(np.array([[1 + 1j, 1 - 1j], [1 - 1j, 1 + 1j]]) / 2, 1)
    if name == "CP":
        return controlled(np.diag([1, cmath.exp(1j * args[0])]), 1)
    if name in ("CRX", "CRY", "CRZ"):
        return controlled(rotation({"CRX": PX, "CRY": PY, "CRZ": PZ}[name], args[0]), 1)
    if name == "CU":
        theta, phi, lam, gamma = args
        return controlled(cmath.exp(1j * gamma) * u3(theta, phi, lam), 1)
    if name == "CCX":
        return controlled(PX, 2)
    if name == "CCZ":
        return controlled(PZ, 2)
    if name == "CSWAP":
        swap = np.array([[1, 0, 0, 0], [0, 0, 1, 0], [0, 1, 0, 0], [0, 0, 0, 1]])
        return controlled(swap, 1)
    if name == "C3X":
        return controlled(PX, 3)
    if name == "C4X":
        return controlled(PX, 4)
    raise KeyError(name)


_clifford_cache = {}
# Stim's tableau unitaries are complex64. Every real and imaginary part of a Clifford unitary in the
# phase convention Stim picks is one of these values; snapping to the nearest one restores the
# exact complex128 matrix (float32 errors are ~1e-8, the gaps are > 0.2).
_CLIFFORD_ENTRIES = np.array([-1, -math.sqrt(0.5), -0.5, 0, 0.5, math.sqrt(0.5), 1])


def exact_clifford(m):
    def snap(x):
        nearest = _CLIFFORD_ENTRIES[np.abs(x[..., None] - _CLIFFORD_ENTRIES).argmin(axis=-1)]
        if np.max(np.abs(nearest - x)) > 1e-5:
            raise Failure(f"unexpected entry in Stim's Clifford unitary:\n{m}")
        return nearest
    exact = snap(m.real.astype(np.float64)) + 1j * snap(m.imag.astype(np.float64))
    if not np.allclose(exact.conj().T @ exact, np.eye(len(exact)), atol=1e-14):
        raise Failure(f"snapping Stim's Clifford unitary did not give a unitary:\n{m}")
    return exact


def clifford_matrix(name):
    if name not in _clifford_cache:
        _clifford_cache[name] = exact_clifford(
            stim.Tableau.from_named_gate(name).to_unitary_matrix(endian="little"))
    return _clifford_cache[name]


def spp_matrix(product, dagger):
    """SPP of a Pauli product, from Stim: returns (matrix, qubits) with qubits[0] the lowest bit."""
    qubits = []
    local = []
    for factor in product.split("*"):
        inverted = factor.startswith("!")
        pauli, q = factor.lstrip("!")[0], int(factor.lstrip("!")[1:])
        qubits.append(q)
        local.append(f"{'!' if inverted else ''}{pauli}{len(qubits) - 1}")
    c = stim.Circuit(f"{'SPP_DAG' if dagger else 'SPP'} {'*'.join(local)}")
    return exact_clifford(c.to_tableau().to_unitary_matrix(endian="little")), qubits


class State:
    """An n-qubit state as a tensor of shape (2,)*n whose axis a holds qubit order[a].

    Gates permute the axes instead of moving them back, so that every gate costs one tensordot.
    """

    def __init__(self, n):
        self.n = n
        self.psi = np.zeros((2,) * n, dtype=np.complex128)
        self.psi[(0,) * n] = 1
        self.order = list(range(n - 1, -1, -1))  # C order: axis 0 is the highest bit

    def apply(self, u, targets):
        """Applies the 2^k × 2^k matrix u (the first target is u's lowest bit) to `targets`."""
        k = len(targets)
        # u reshaped to (2,)*2k has its row axes, then its column axes, for targets k−1 … 0.
        axes = [self.order.index(t) for t in reversed(targets)]
        self.psi = np.tensordot(u.reshape((2,) * (2 * k)), self.psi,
                                axes=(list(range(k, 2 * k)), axes))
        self.order = list(reversed(targets)) + [q for a, q in enumerate(self.order) if a not in axes]

    def vector(self):
        """The amplitudes, index bit q = qubit q."""
        standard = [self.order.index(q) for q in range(self.n - 1, -1, -1)]
        return np.ascontiguousarray(np.transpose(self.psi, standard)).reshape(-1)


# ---- random circuits ----

def angle(rng):
    return rng.choice([0.0, math.pi / 2, -math.pi, 1e-3]) if rng.random() < 0.1 else \
        rng.uniform(-2 * math.pi, 2 * math.pi)


def random_ops(n, count, rng, clifford_only):
    """Unitary operations (name_as_written, canonical_name, args, targets), `count` gate
    applications in all (a broadcast instruction counts once per group of targets)."""
    names = [(g, 1) for g in CLIFFORD_1Q] + [(g, 2) for g in CLIFFORD_2Q]
    if not clifford_only:
        names += [(g, a) for g, (a, _) in EXTENSION.items() if a <= n]
    ops = []
    applications = 0
    while applications < count:
        if rng.random() < 0.05:
            products = [random_product(n, rng) for _ in range(rng.randint(1, 2))]
            ops.append(("SPP_DAG" if rng.random() < 0.5 else "SPP", None, [], products))
            applications += len(products)
            continue
        name, arity = rng.choice(names)
        if arity > n:
            continue
        nargs = EXTENSION[name][1] if name in EXTENSION else 0
        args = [angle(rng) for _ in range(nargs)]
        groups = rng.choice([1, 1, 1, 2, 3]) if arity * 2 <= n else 1
        targets = []
        while len(targets) < groups * arity:  # broadcast: groups may share qubits, not within one
            targets += rng.sample(range(n), arity)
        written = name
        aliases = STIM_ALIASES.get(name, []) + ([] if clifford_only else QWEAVE_ALIASES.get(name, []))
        if aliases and rng.random() < 0.3:
            written = rng.choice(aliases)
        ops.append((written, name, args, targets))
        applications += groups
    return ops


def random_product(n, rng):
    qs = rng.sample(range(n), rng.randint(1, min(3, n)))
    return "*".join(f"{'!' if rng.random() < 0.2 else ''}{rng.choice('XYZ')}{q}" for q in qs)


def op_text(op):
    written, _, args, targets = op
    a = f"({', '.join(repr(x) for x in args)})" if args else ""
    return f"{written}{a} {' '.join(str(t) for t in targets)}"


def random_circuit(n, count, rng, clifford_only):
    """Stim text and the flat list of operations it means (REPEAT bodies repeated)."""
    ops = random_ops(n, count, rng, clifford_only)
    lines, flat = [], []
    i = 0
    while i < len(ops):
        if rng.random() < 0.03 and i + 3 <= len(ops):
            reps = rng.randint(2, 3)
            body = ops[i:i + 3]
            lines.append(f"REPEAT {reps} {{")
            lines += ["    " + op_text(o) for o in body]
            lines.append("}")
            flat += body * reps
            i += 3
        else:
            lines.append(op_text(ops[i]))
            flat.append(ops[i])
            i += 1
        if rng.random() < 0.05:
            lines.append("TICK")
    return "\n".join(lines) + "\n", flat


def reference_state(n, flat):
    state = State(n)
    for written, name, args, targets in flat:
        if name is None:  # SPP / SPP_DAG: one product per target
            for product in targets:
                u, qubits = spp_matrix(product, written == "SPP_DAG")
                state.apply(u, qubits)
            continue
        u = extension_matrix(name, args) if name in EXTENSION else clifford_matrix(name)
        k = int(round(math.log2(len(u))))
        for g in range(0, len(targets), k):
            state.apply(u, targets[g:g + k])
    return state.vector()


# ---- running qweave ----

def run_qweave(binary, tmp, name, text, shots, seed):
    path = os.path.join(tmp, name + ".stim")
    out = os.path.join(tmp, name + ".h5")
    with open(path, "w") as f:
        f.write(text)
    cmd = [binary, "sim", path, "--shots", str(shots), "--seed", str(seed), "--output", out, "-q"]
    if shots == 0:
        cmd.append("--save-state")
    r = subprocess.run(cmd, capture_output=True, text=True)
    if r.returncode != 0:
        raise Failure(f"qweave failed on {path} (exit {r.returncode}):\n{r.stdout}{r.stderr}")
    with h5py.File(out, "r") as f:
        if f.attrs.get("format") != "qweave/1" or not f.attrs["complete"]:
            raise Failure(f"{out}: not a complete qweave/1 result file")
        psi = f["/state/amplitudes"][...] if "/state/amplitudes" in f else None
        table = None
        if "/measurements" in f:
            m = f["/measurements"]
            table = np.unpackbits(m[...], axis=1, count=int(m.attrs["bits"]), bitorder="little")
    return psi, table


def phase_aligned_difference(psi, ref):
    """max |psi·e^{iφ} − ref| over amplitudes, with φ the best global phase."""
    overlap = np.vdot(psi, ref)
    phase = overlap / abs(overlap) if abs(overlap) > 0 else 1.0
    return float(np.max(np.abs(psi * phase - ref)))


def stabilizer_violation(psi, n, pauli):
    """max |P·psi − psi| for a stim.PauliString P (bit q of the index = qubit q).

    Y|b⟩ = i(−1)^b |1−b⟩, so (P·psi)[i ⊕ x] = sign · i^{#Y} · (−1)^{popcount(i & z)} · psi[i], with x
    the mask of X/Y factors and z the mask of Y/Z factors.
    """
    x = z = n_y = 0
    for q in range(n):
        f = pauli[q]  # 0 = I, 1 = X, 2 = Y, 3 = Z
        if f in (1, 2):
            x |= 1 << q
        if f in (2, 3):
            z |= 1 << q
        n_y += f == 2
    index = np.arange(2 ** n, dtype=np.int64)
    parity = np.zeros(2 ** n, dtype=np.int64)
    for q in range(n):
        if z >> q & 1:
            parity ^= (index >> q) & 1
    image = np.empty_like(psi)
    image[index ^ x] = complex(pauli.sign) * 1j ** n_y * (1 - 2 * parity) * psi
    return float(np.max(np.abs(image - psi)))


def check_amplitudes(binary, tmp):
    worst = {"numpy": 0.0, "stim": 0.0, "stabilizer": 0.0}
    covered = set()
    for n in SIZES:
        for clifford_only in (False, True):
            kind = "clifford" if clifford_only else "mixed"
            rng = random.Random(2000 + 2 * n + clifford_only)
            text, flat = random_circuit(n, 10 * n, rng, clifford_only)
            covered |= {written if name is None else name for written, name, _, _ in flat}
            t0 = time.time()
            psi, _ = run_qweave(binary, tmp, f"{kind}_{n}", text, shots=0, seed=n)
            t1 = time.time()
            ref = reference_state(n, flat)
            t2 = time.time()
            if psi is None or psi.shape != ref.shape:
                raise Failure(f"{kind} n={n}: qweave wrote no state or the wrong number of amplitudes")
            diff = phase_aligned_difference(psi, ref)
            worst["numpy"] = max(worst["numpy"], diff)
            message = (f"  stim {kind:8s} n={n:2d} ops={len(flat):3d}: max|Δamp| vs numpy = "
                       f"{diff:.3e}")
            if diff > AMPLITUDE_TOL:
                raise Failure(f"{kind} n={n}: amplitudes differ from the numpy reference by "
                              f"{diff:.3e} (tolerance {AMPLITUDE_TOL:g}); circuit:\n{text}")
            if clifford_only:
                sim = stim.TableauSimulator()
                sim.do_circuit(stim.Circuit(text))
                # Exact check in complex128: qweave's state is a +1 eigenvector of each of the n
                # stabilizer generators that Stim's tableau gives.
                stab = max(stabilizer_violation(psi, n, g) for g in sim.canonical_stabilizers())
                worst["stabilizer"] = max(worst["stabilizer"], stab)
                message += f", max|Sψ−ψ| = {stab:.1e}"
                if stab > AMPLITUDE_TOL:
                    raise Failure(f"{kind} n={n}: qweave's state is not stabilized by Stim's "
                                  f"stabilizers (max|Sψ−ψ| = {stab:.3e}); circuit:\n{text}")
                if n <= STIM_STATE_MAX_QUBITS:
                    ref_stim = np.asarray(sim.state_vector(endian="little"), dtype=np.complex128)
                    diff_stim = phase_aligned_difference(psi, ref_stim)
                    worst["stim"] = max(worst["stim"], diff_stim)
                    message += f", vs stim state_vector = {diff_stim:.1e}"
                    if diff_stim > STIM_STATE_TOL:
                        raise Failure(f"{kind} n={n}: amplitudes differ from Stim's TableauSimulator "
                                      f"by {diff_stim:.3e} (tolerance {STIM_STATE_TOL:g}); "
                                      f"circuit:\n{text}")
            print(message + f" (qweave {t1 - t0:.2f}s, reference {t2 - t1:.2f}s)")
    missing = set(CLIFFORD_1Q + CLIFFORD_2Q + list(EXTENSION) + ["SPP", "SPP_DAG"]) - covered
    if missing:  # guards the generator: a change of seeds or weights must not drop a gate
        raise Failure(f"the random circuits no longer use {sorted(missing)}; change the seeds")
    return worst


def sampling_circuit(rng):
    """A Clifford circuit on 8 qubits with mid-circuit resetting measurements and final
    measurements of several kinds, built so that some record bits and parities are deterministic."""
    n = 8
    ops = lambda count: [op_text(o) for o in random_ops(n, count, rng, clifford_only=True)]
    lines = ["H 0 1 2 3 4 5 6 7"] + ops(12)
    lines += ["MR 2 !5", "MRX 6"]  # random results; afterwards qubits 2, 5 are |0⟩ and 6 is |+⟩
    after = ops(12)
    lines += after
    # D = the gates after the resets maps the stabilizers Z2, Z5, X6 of the reset qubits to
    # D·P·D†, whatever the earlier results were: measuring those is deterministic (0).
    d = stim.Circuit("\n".join([f"I {' '.join(map(str, range(n)))}"] + after)).to_tableau()
    for p in ("Z2", "Z5", "X6"):
        pauli = stim.PauliString(n)
        pauli[int(p[1:])] = p[0]
        image = d(pauli)
        factors = [f"{'XYZ'[image[q] - 1]}{q}" for q in range(len(image)) if image[q]]
        lines.append(f"MPP {'!' if image.sign == -1 else ''}{'*'.join(factors)}")
    lines += ["M 0 !1 2", "MX 3", "MX 3", "MY !4", "MZZ 5 6", "MPP X0*Z3 !Y2*Y5*X7 Z1*Z4",
              "MR 7", "M !7 6"]  # MX 3 twice: equal results; M !7 after MR 7: always 1
    return "\n".join(lines) + "\n"


def gf2_rows(table):
    """The distinct rows of a 0/1 table, each as a Python int (bit b = column b)."""
    weights = [1 << b for b in range(table.shape[1])]
    return [sum(w for w, v in zip(weights, row) if v) for row in np.unique(table, axis=0)]


def affine_space_checks(table, ref):
    """Checks all parities at once, not only pairs.

    The record of a Clifford circuit with Pauli measurements and no noise is uniformly distributed
    over an affine subspace r0 + V of GF(2)^bits. Stim's samples give r0 and a basis of V (with
    100000 shots every direction of V appears). Every qweave shot must lie in r0 + V (this is every
    deterministic parity, of any weight), and its coordinates in the basis must be uniform over
    GF(2)^dim V (chi-square, Wilson–Hilferty normal approximation, 5σ).
    """
    rows = gf2_rows(ref)
    r0 = rows[0]
    basis = {}  # pivot bit -> basis vector whose highest set bit is the pivot
    for row in rows:
        v = row ^ r0
        while v:
            pivot = v.bit_length() - 1
            if pivot not in basis:
                basis[pivot] = v
                break
            v ^= basis[pivot]
    pivots = sorted(basis)
    dim = len(pivots)
    problems = []
    weights = [1 << b for b in range(table.shape[1])]
    counts = {}
    for row in table:
        v = sum(w for w, x in zip(weights, row) if x) ^ r0
        coordinate = 0
        for i in range(dim - 1, -1, -1):
            if v >> pivots[i] & 1:
                v ^= basis[pivots[i]]
                coordinate |= 1 << i
        if v:
            problems.append(f"a qweave shot violates a deterministic parity of Stim's records "
                            f"(off the affine space by bits {bin(v)})")
            break
        counts[coordinate] = counts.get(coordinate, 0) + 1
    message = (f"  stim sampling: records span an affine space of dimension {dim} "
               f"({table.shape[1] - dim} independent deterministic parities)")
    cells = 2 ** dim
    # With 2^dim − 1 ≥ 1000 degrees of freedom the normal approximation holds down to ~1 expected
    # count per cell (Koehler & Larntz, JASA 75, 336 (1980)); we ask for 4.
    if not problems and cells <= len(table) / 4:
        expected = len(table) / cells
        observed = np.array([counts.get(c, 0) for c in range(cells)], dtype=float)
        statistic = float(np.sum((observed - expected) ** 2) / expected)
        k = cells - 1
        z = ((statistic / k) ** (1 / 3) - (1 - 2 / (9 * k))) / math.sqrt(2 / (9 * k))
        message += f"; uniformity chi² = {statistic:.1f} for {k} dof (z = {z:.2f})"
        if z > SIGMAS:
            problems.append(f"qweave's records are not uniform over the affine space "
                            f"(chi² {statistic:.1f} for {k} dof, z = {z:.1f})")
    print(message)
    return problems


def check_sampling(binary, tmp):
    text = sampling_circuit(random.Random(31))
    t0 = time.time()
    _, table = run_qweave(binary, tmp, "sampling", text, shots=SHOTS, seed=4242)
    t1 = time.time()
    circuit = stim.Circuit(text)
    bits = circuit.num_measurements
    if table is None or table.shape != (SHOTS, bits):
        raise Failure(f"sampling: expected /measurements of shape ({SHOTS}, {bits}), got "
                      f"{None if table is None else table.shape}")
    ref = circuit.compile_sampler(seed=4242).sample(STIM_SHOTS).astype(np.uint8)

    # Every record bit and every pairwise parity.
    def columns(t):
        cols = [(f"bit {b}", t[:, b]) for b in range(bits)]
        cols += [(f"bit {a} ^ bit {b}", t[:, a] ^ t[:, b])
                 for a in range(bits) for b in range(a + 1, bits)]
        return cols

    deterministic = random_count = 0
    worst_z = 0.0
    problems = []
    for (label, q), (_, s) in zip(columns(table), columns(ref)):
        mean_q, mean_s = q.mean(), s.mean()
        if s.min() == s.max():
            # Over 100000 Stim shots a random (p = 1/2 in a Clifford circuit) value is never constant.
            deterministic += 1
            if q.min() != q.max() or q[0] != s[0]:
                problems.append(f"{label}: deterministic ({int(s[0])}) in Stim, qweave mean "
                                f"{mean_q:.4f}")
            continue
        random_count += 1
        pooled = (mean_q * SHOTS + mean_s * STIM_SHOTS) / (SHOTS + STIM_SHOTS)
        sigma = math.sqrt(pooled * (1 - pooled) * (1 / SHOTS + 1 / STIM_SHOTS))
        z = abs(mean_q - mean_s) / sigma
        worst_z = max(worst_z, z)
        if z > SIGMAS:
            problems.append(f"{label}: qweave mean {mean_q:.4f}, Stim mean {mean_s:.4f} "
                            f"({z:.1f}σ)")
    print(f"  stim sampling: {bits} record bits; bits and pairwise parities: {deterministic} "
          f"deterministic, {random_count} random with worst |z| = {worst_z:.2f} "
          f"(qweave {SHOTS} shots {t1 - t0:.2f}s)")
    problems += affine_space_checks(table, ref)
    if problems:
        raise Failure("sampling: qweave's records disagree with Stim's compile_sampler():\n  " +
                      "\n  ".join(problems[:20]) + f"\ncircuit:\n{text}")
    if deterministic == 0 or random_count == 0:
        raise Failure("sampling: the test circuit should have both deterministic and random bits")
    return worst_z


def main():
    root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    binary = sys.argv[1] if len(sys.argv) > 1 else os.path.join(root, "build", "qweave")
    if not os.access(binary, os.X_OK):
        print(f"FAIL: qweave binary not found or not executable: {binary}")
        return 1
    start = time.time()
    with tempfile.TemporaryDirectory(prefix="qweave-crosscheck-stim-") as tmp:
        try:
            worst = check_amplitudes(binary, tmp)
            check_sampling(binary, tmp)
        except Failure as e:
            print(f"FAIL: {e}")
            return 1
    print(f"PASS: qweave agrees with Stim and the numpy reference (worst amplitude difference "
          f"{worst['numpy']:.3e}; stabilizers {worst['stabilizer']:.1e}; vs Stim's complex64 state "
          f"{worst['stim']:.1e}; {time.time() - start:.1f}s)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
