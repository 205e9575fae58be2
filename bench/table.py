#!/usr/bin/env python3
"""Prints a Markdown table from qweave_bench's JSON output (--benchmark_format=json):
achieved bandwidth of each kernel and its fraction of the copy kernel measured in the same run."""
import argparse
import json
import sys

p = argparse.ArgumentParser()
p.add_argument("json_file")
p.add_argument("--device", default="", help="device name for the heading")
a = p.parse_args()
with open(a.json_file) as f:
    data = json.load(f)
ctx = data.get("context", {})
print(f"### qweave_bench {a.device or ctx.get('host_name', '')}".rstrip())
print(f"date {ctx.get('date', '?')}, {ctx.get('num_cpus', '?')} CPUs, "
      f"build {ctx.get('library_build_type', '?')}")
print()
print("| kernel | qubits | time per pass (ms) | GB/s | copy GB/s | fraction of copy |")
print("|---|---:|---:|---:|---:|---:|")
for b in data.get("benchmarks", []):
    if b.get("run_type") == "aggregate":
        continue
    name = b["name"].split("/")[0]
    n = int(b.get("qubits", 0))
    gbps = b.get("GBps", 0.0)
    copy = b.get("copy_GBps", gbps if name == "copy" else 0.0)
    frac = b.get("copy_frac", 1.0 if name == "copy" else 0.0)
    ms = b["real_time"] if b.get("time_unit") == "ms" else b["real_time"] / 1e6
    print(f"| {name} | {n} | {ms:.2f} | {gbps:.2f} | {copy:.2f} | {frac:.2f} |")
sys.exit(0)
