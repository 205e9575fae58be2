#!/usr/bin/env python3
"""Reads a qweave result file (schema qweave/1, docs/hdf5.md) with h5py: an example for users.

usage: python3 validation/read_result.py results.h5
"""
import sys

import h5py
import numpy


def main(path):
    with h5py.File(path, "r") as f:
        if f.attrs.get("format") != "qweave/1":
            sys.exit(f"{path}: not a qweave/1 result file")
        for name, value in f.attrs.items():
            if name in ("circuit", "config"):
                value = f"{len(value.splitlines())} lines"
            print(f"{name:10} {value}")
        if not f.attrs["complete"]:
            print("warning: complete = 0, the run did not finish cleanly")

        if "/state/amplitudes" in f:
            psi = f["/state/amplitudes"][...]  # compound {r, i} -> complex128
            assert psi.dtype == numpy.complex128
            print(f"amplitudes: {psi.shape[0]}, norm^2 = {numpy.vdot(psi, psi).real:.12f}")
            n = int(f.attrs["qubits"])
            for index in numpy.argsort(-abs(psi))[:8]:
                if abs(psi[index]) > 0:
                    # bit q of the index is qubit q: print qubit 0 first
                    label = "".join(str((index >> q) & 1) for q in range(n))
                    print(f"  |q0..q{n - 1} = {label}>  {psi[index]:.6f}")

        for table in ("/measurements", "/detectors", "/observables"):
            if table in f:
                d = f[table]
                bits = int(d.attrs["bits"])
                unpacked = numpy.unpackbits(d[...], axis=1, count=bits, bitorder="little")
                print(f"{table}: {unpacked.shape[0]} shots x {bits} bits")
                for shot in unpacked[:4]:
                    print("  " + "".join(map(str, shot)))

        if "/summary" in f:
            for name, d in f["/summary"].items():
                print(f"summary {name} = {d[()]} {d.attrs['units']} ({d.attrs['description']})")


if __name__ == "__main__":
    if len(sys.argv) != 2:
        sys.exit(__doc__)
    main(sys.argv[1])
