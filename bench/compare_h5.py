#!/usr/bin/env python3
"""Compares the HDF5 files of two runs of bench/gpu-identity.sh (CPU build vs CUDA build) dataset by
dataset: prints one line per file (identical / max difference), and exits 1 if a sampled quantity
(measurements, detectors, observables, link episodes) differs. Timing datasets are skipped."""
import os
import sys

import h5py
import numpy as np

SKIP = ("wall_time", "decode_time", "decode_wall", "sample_time", "time_per", "throughput")


def datasets(path):
    out = {}
    with h5py.File(path, "r") as f:
        def visit(name, obj):
            if isinstance(obj, h5py.Dataset) and not any(s in name for s in SKIP):
                out[name] = obj[()]
        f.visititems(visit)
    return out


def main(ref_dir, new_dir):
    bad = 0
    rows = []
    for fn in sorted(os.listdir(ref_dir)):
        if not fn.endswith(".h5"):
            continue
        newp = os.path.join(new_dir, fn)
        if not os.path.exists(newp):
            rows.append((fn, "MISSING in the CUDA run"))
            bad += 1
            continue
        a, b = datasets(os.path.join(ref_dir, fn)), datasets(newp)
        differ, maxdiff = [], 0.0
        for k in sorted(set(a) | set(b)):
            if k not in a or k not in b:
                differ.append(k)
                continue
            x, y = np.asarray(a[k]), np.asarray(b[k])
            if x.shape != y.shape:
                differ.append(k)
                continue
            if x.dtype.kind in "fc":
                with np.errstate(invalid="ignore"):
                    d = float(np.nanmax(np.abs(x - y))) if x.size else 0.0
                if not np.array_equal(x, y, equal_nan=True):
                    maxdiff = max(maxdiff, d)
                    differ.append(f"{k} (max |diff| {d:.2e})")
            elif not np.array_equal(x, y):
                differ.append(k)
        if differ:
            sampled = [k for k in differ if any(s in k for s in ("measurements", "detectors", "observables", "attempts", "links/"))]
            bad += bool(sampled)
            rows.append((fn, "differs: " + ", ".join(differ[:6])))
        else:
            rows.append((fn, f"identical ({len(a)} datasets)"))
    for fn, r in rows:
        print(f"| {fn} | {r} |")
    print(f"cpu vs cuda: {sum(r.startswith('identical') for _, r in rows)} of {len(rows)} files identical")
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1], sys.argv[2]))
