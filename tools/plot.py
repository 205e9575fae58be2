#!/usr/bin/env python3
"""Plots of qweave result files.

  tools/plot.py rate-vs-distance F1.h5 [F2.h5 ...] [-o out.png] [--channel-uses-per-s R]
  tools/plot.py threshold F.h5 [-o out.png] [--per-shot]

threshold: a memory-experiment sweep (kind = "memory" with [sweep] over code.distance and one
  physical error key, docs/experiments.md): the logical error rate per round (--per-shot: per shot)
  of every point /points/<i> against the swept physical error rate, one curve per distance, with
  the Wilson 95% intervals as bars; the estimated threshold /summary/threshold as a vertical line
  with its bootstrap interval (threshold_low, threshold_high) shaded.

rate-vs-distance: one point per link result file (written by `qweave run` for kind = "link"), or
  one per finished point of a link sweep file ([sweep] over link.length_km and any other keys):
  * top panel: delivered pair rate /summary/rate_hz against the total distance (the experiment's
    link.length_km), with the repeaterless PLOB bound in pairs per second;
  * bottom panel: mean fidelity /summary/fidelity_mean (error bars: fidelity_standard_error).
Files and points are grouped into one line per configuration (source, scheme, segments,
purification and rounds, memory cut-off, memories per node, state path), sorted by distance. The distance and the configuration come from the
`config` attribute: the experiment TOML with its --set overrides appended as "# --set k=v" comments.

PLOB in pairs per second. The file holds plob_bound = -log2(1 - eta), ebit per channel use, for the
transmissivity eta of the whole distance (Pirandola et al., Nat. Commun. 8, 15043 (2017)). A
channel use is one optical mode sent through the whole distance; the bound per second is
plob_bound x (channel uses per second). Two clocks are drawn, both from what the file holds:
  * dashed, "source clock": channel uses per second = 1 / link.attempt_time_s, the configured time
    of the nodes' local operations per attempt. A direct, repeaterless link with the same hardware
    can send one mode per such period without waiting for a herald (the photons are pipelined), so
    the flight time is not charged to it: the most favourable bound for the direct link, and the
    one a repeater has to beat to claim an advantage;
  * dotted, "heralded direct link": 1 / (link.attempt_time_s + L n / c), the attempt time qweave
    itself charges a single segment of the whole length L (local operations plus the photon's
    flight to the midpoint and the herald's return; n = link.fibre_index, default 1.44), i.e. a
    direct link that waits for each herald before the next attempt.
--channel-uses-per-s R replaces both by one curve at a clock of R. For a werner source plob_bound
is computed from its success probability (docs/experiments.md), not from a fibre.
"""
import argparse
import math
import re
import sys

try:
    import tomllib
except ImportError:  # Python < 3.11
    tomllib = None


def parse_config(text):
    """The experiment TOML with the '# --set table.key=value' overrides applied."""
    if tomllib is None:
        sys.exit("plot.py: needs Python >= 3.11 (tomllib) to read the config attribute")
    cfg = tomllib.loads(text)
    for m in re.finditer(r"^# --set ([A-Za-z0-9_.]+)=(.*)$", text, re.MULTILINE):
        key, value = m.group(1), m.group(2).strip()
        try:
            v = tomllib.loads("v = " + value)["v"]
        except tomllib.TOMLDecodeError:
            v = value
        table = cfg
        parts = key.split(".")
        for p in parts[:-1]:
            table = table.setdefault(p, {})
        table[parts[-1]] = v
    return cfg


SUMMARY_NAMES = ("rate_hz", "plob_bound", "fidelity_mean", "fidelity_standard_error",
                 "success_probability", "time_mean_s")


def link_row(path, cfg, s):
    """One plotted point: the configuration that matters for grouping, and the summary values."""
    link = cfg.get("link", {})
    memory = cfg.get("memory", {})
    return {
        "path": path,
        "length_km": float(link.get("length_km", 0.0)),
        "attempt_time_s": float(link.get("attempt_time_s", 0.0)),
        "source": link.get("source", "werner"),
        "scheme": link.get("scheme", "double_click"),
        "segments": int(link.get("segments", 1)),
        "purification": link.get("purification", "none"),
        "rounds": int(link.get("purification_rounds", 0)),
        "cutoff_s": memory.get("cutoff_s", math.inf),
        "memories": int(memory.get("qubits_per_node", 1)),
        "state": link.get("state", "bell_diagonal"),
        "attenuation": float(link.get("attenuation_db_per_km", 0.2)),
        "fibre_index": float(link.get("fibre_index", 1.44)),
        **s,
    }


def read_link_file(path):
    """The rows of a link result file: one for a single run, one per finished point of a sweep
    (/points/<i>, whose attributes hold the swept "table.key" values and the summary)."""
    import copy

    import h5py

    with h5py.File(path, "r") as f:
        if f.attrs.get("format") != "qweave/1":
            sys.exit(f"plot.py: {path}: not a qweave/1 result file")
        if not f.attrs.get("complete", 0):
            print(f"plot.py: warning: {path}: the run did not finish cleanly", file=sys.stderr)
        text = f.attrs.get("config", "")
        if isinstance(text, bytes):
            text = text.decode()
        if not text:
            sys.exit(f"plot.py: {path}: no config attribute (not a link experiment)")
        cfg = parse_config(text)
        if cfg.get("experiment", {}).get("kind") != "link":
            sys.exit(f"plot.py: {path}: experiment kind is not \"link\"")
        if "points" not in f:
            s = {}
            for name in SUMMARY_NAMES:
                key = "/summary/" + name
                s[name] = float(f[key][()]) if key in f else math.nan
            return [link_row(path, cfg, s)]
        cfg.pop("sweep", None)
        rows = []
        for name in sorted(f["points"], key=int):
            a = f["points"][name].attrs
            if not a.get("complete", 0):
                continue
            point = copy.deepcopy(cfg)
            for key, value in a.items():
                if "." not in key:
                    continue
                table, k = key.split(".", 1)
                if isinstance(value, bytes):
                    value = value.decode()
                point.setdefault(table, {})[k] = value.item() if hasattr(value, "item") else value
            s = {n: float(a[n]) if n in a else math.nan for n in SUMMARY_NAMES}
            rows.append(link_row(f"{path}:/points/{name}", point, s))
        return rows


def series_key(r):
    return (r["source"], r["scheme"] if r["source"] == "fiber" else "", r["segments"],
            r["purification"], r["rounds"], r["cutoff_s"], r["memories"], r["state"])


def series_label(key):
    source, scheme, segments, purification, rounds, cutoff, memories, state = key
    parts = [f"{segments} segment" + ("s" if segments != 1 else "")]
    if purification != "none" and rounds > 0:
        parts.append(f"{rounds}x {purification.upper()}")
    else:
        parts.append("no purification")
    parts.append(scheme.replace("_", "-") if source == "fiber" else "werner source")
    if isinstance(cutoff, (int, float)) and math.isfinite(cutoff):
        parts.append(f"cut-off {cutoff * 1e3:g} ms")
    if memories != 1:
        parts.append(f"{memories} memories per node")
    if state == "density":
        parts.append("4x4 states")
    return ", ".join(parts)


def rate_vs_distance(args):
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    rows = [row for p in args.files for row in read_link_file(p)]
    groups = {}
    for r in rows:
        groups.setdefault(series_key(r), []).append(r)

    fig, (ax_rate, ax_fid) = plt.subplots(2, 1, figsize=(6.4, 6.4), sharex=True, dpi=args.dpi)
    markers = "osD^v<>"
    for i, (key, rs) in enumerate(sorted(groups.items(), key=lambda kv: str(kv[0]))):
        rs.sort(key=lambda r: r["length_km"])
        x = [r["length_km"] for r in rs]
        label = series_label(key)
        ax_rate.plot(x, [r["rate_hz"] for r in rs], marker=markers[i % len(markers)], ms=4, label=label)
        ax_fid.errorbar(x, [r["fidelity_mean"] for r in rs],
                        yerr=[r["fidelity_standard_error"] for r in rs],
                        marker=markers[i % len(markers)], ms=4, capsize=2, label=label)

    # PLOB: one curve per clock and loss (usually one pair of curves for all files).
    c_km_per_s = 299792.458
    plob = {}
    for r in rows:
        if args.channel_uses_per_s is not None:
            clocks = [("given clock", args.channel_uses_per_s)]
        else:
            if not r["attempt_time_s"] > 0:
                sys.exit(f"plot.py: {r['path']}: link.attempt_time_s is 0; give --channel-uses-per-s")
            flight = r["length_km"] * r["fibre_index"] / c_km_per_s if r["source"] == "fiber" else 0.0
            clocks = [("source clock", 1.0 / r["attempt_time_s"]),
                      ("heralded direct link", 1.0 / (r["attempt_time_s"] + flight))]
        for name, uses in clocks:
            loss = (r["attenuation"], r["attempt_time_s"]) if r["source"] == "fiber" else r["path"]
            k = (name, r["source"], loss)
            plob.setdefault(k, {})[r["length_km"]] = (r["plob_bound"] * uses, uses)
    for k, pts in sorted(plob.items(), key=lambda kv: str(kv[0])):
        xs = sorted(pts)
        name = k[0]
        if name == "source clock":
            label, style = f"PLOB, source clock ({pts[xs[0]][1]:.3g} uses/s)", "k--"
        elif name == "heralded direct link":
            label, style = "PLOB, heralded direct link (1 use per attempt + L/c)", "k:"
        else:
            label, style = f"PLOB ({pts[xs[0]][1]:.3g} uses/s)", "k--"
        ax_rate.plot(xs, [pts[x][0] for x in xs], style, lw=1.2, label=label)

    ax_rate.set_yscale("log")
    ax_rate.set_ylabel("delivered pairs per second")
    ax_rate.grid(True, which="both", alpha=0.3)
    ax_rate.legend(fontsize=7)
    ax_rate.set_title("Entanglement distribution: rate and fidelity vs distance", fontsize=10)
    ax_fid.set_xlabel("total distance (km)")
    ax_fid.set_ylabel("mean fidelity  ⟨Φ+|ρ|Φ+⟩")
    ax_fid.grid(True, alpha=0.3)
    ax_fid.legend(fontsize=7)
    fig.tight_layout()
    if args.output:
        fig.savefig(args.output)
        print(f"wrote {args.output}")
    else:
        plt.show()


def read_sweep_file(path):
    import h5py

    with h5py.File(path, "r") as f:
        if f.attrs.get("format") != "qweave/1":
            sys.exit(f"plot.py: {path}: not a qweave/1 result file")
        if not f.attrs.get("complete", 0):
            print(f"plot.py: warning: {path}: the run did not finish cleanly (plotting the finished points)",
                  file=sys.stderr)
        if "points" not in f:
            sys.exit(f"plot.py: {path}: no /points (not a memory sweep)")
        points = []
        for name in f["points"]:
            a = dict(f["points"][name].attrs)
            if int(a.get("complete", 0)) != 1:
                continue
            points.append(a)
        summary = {}
        if "summary" in f:
            for k in ("threshold", "threshold_low", "threshold_high"):
                if k in f["summary"]:
                    summary[k] = float(f["summary"][k][()])
            axis = f["summary"].attrs.get("threshold_axis")
            if axis is not None:
                summary["axis"] = axis.decode() if isinstance(axis, bytes) else str(axis)
    if not points:
        sys.exit(f"plot.py: {path}: no complete points")
    return points, summary


def threshold(args):
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    points, summary = read_sweep_file(args.file)
    axis = summary.get("axis")
    if axis is None:
        swept = sorted({k for p in points for k in p if "." in k and k != "code.distance"})
        varying = [k for k in swept if len({float(p[k]) for p in points if k in p}) > 1]
        if len(varying) != 1:
            sys.exit(f"plot.py: {args.file}: cannot tell the physical error axis among {swept}")
        axis = varying[0]
    suffix = "" if args.per_shot else "_per_round"
    curves = {}
    for p in points:
        if axis not in p:
            continue
        curves.setdefault(int(p["distance"]), []).append(
            (float(p[axis]), float(p["logical_error_rate" + suffix]),
             float(p["logical_error_rate" + suffix + "_low"]), float(p["logical_error_rate" + suffix + "_high"])))
    fig, ax = plt.subplots(figsize=(6.4, 4.8), dpi=args.dpi)
    markers = "osD^v<>"
    for i, (d, rows) in enumerate(sorted(curves.items())):
        rows.sort()
        x = [r[0] for r in rows]
        y = [r[1] for r in rows]
        lo = [max(r[1] - r[2], 0) for r in rows]
        hi = [max(r[3] - r[1], 0) for r in rows]
        ax.errorbar(x, y, yerr=[lo, hi], marker=markers[i % len(markers)], ms=4, capsize=2, label=f"d = {d}")
    if args.per_shot:
        # The file's threshold is a per-round crossing: mark the per-shot crossings of successive
        # distances instead (log-log interpolation between the bracketing points).
        ds = sorted(curves)
        for a, b in zip(ds, ds[1:]):
            ra = dict((r[0], r[1]) for r in curves[a])
            rb = dict((r[0], r[1]) for r in curves[b])
            xs = sorted(set(ra) & set(rb))
            for x0, x1 in zip(xs, xs[1:]):
                f0 = math.log(rb[x0]) - math.log(ra[x0]) if ra[x0] > 0 and rb[x0] > 0 else None
                f1 = math.log(rb[x1]) - math.log(ra[x1]) if ra[x1] > 0 and rb[x1] > 0 else None
                if f0 is None or f1 is None or f0 * f1 > 0 or f0 == f1:
                    continue
                lx = math.log(x0) + (math.log(x1) - math.log(x0)) * f0 / (f0 - f1)
                ax.axvline(math.exp(lx), color="k", ls=":", lw=1, label=f"d={a}/{b} cross at {math.exp(lx):.3g}")
                print(f"d={a}/{b}: per-shot curves cross at {math.exp(lx):.4g}")
                break
    elif "threshold" in summary:
        t = summary["threshold"]
        ax.axvline(t, color="k", ls="--", lw=1,
                   label=f"threshold {t:.3g} [{summary.get('threshold_low', t):.3g}, "
                         f"{summary.get('threshold_high', t):.3g}]")
        if "threshold_low" in summary and "threshold_high" in summary:
            ax.axvspan(summary["threshold_low"], summary["threshold_high"], color="k", alpha=0.1)
    ax.set_xscale("log")
    ax.set_yscale("log")
    ax.set_xlabel(f"physical error rate ({axis})")
    ax.set_ylabel("logical error rate " + ("per shot" if args.per_shot else "per round"))
    ax.grid(True, which="both", alpha=0.3)
    ax.legend(fontsize=8)
    ax.set_title("Memory experiment: logical vs physical error rate", fontsize=10)
    fig.tight_layout()
    if args.output:
        fig.savefig(args.output)
        print(f"wrote {args.output}")
    else:
        plt.show()


def main(argv=None):
    parser = argparse.ArgumentParser(
        prog="plot.py", description="Plots of qweave result files (HDF5, docs/hdf5.md).",
        formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    p = sub.add_parser(
        "rate-vs-distance", help="delivered rate (with the PLOB bound) and fidelity vs distance",
        description=__doc__.split("rate-vs-distance:", 1)[1].strip(),
        formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("files", nargs="+", metavar="FILE.h5", help="link result files, one point each")
    p.add_argument("-o", "--output", metavar="OUT.png", help="write the figure here (default: show it)")
    p.add_argument("--channel-uses-per-s", type=float, default=None, metavar="R",
                   help="channel uses per second for the PLOB bound in pairs/s (default: two "
                        "curves, 1 / link.attempt_time_s and 1 / (link.attempt_time_s + L n / c))")
    p.add_argument("--dpi", type=int, default=100, help="resolution of the saved figure (default 100)")
    p.set_defaults(run=rate_vs_distance)
    t = sub.add_parser(
        "threshold", help="logical vs physical error rate per distance, with the threshold",
        description=__doc__.split("threshold:", 1)[1].strip(),
        formatter_class=argparse.RawDescriptionHelpFormatter)
    t.add_argument("file", metavar="FILE.h5", help="memory sweep result file")
    t.add_argument("-o", "--output", metavar="OUT.png", help="write the figure here (default: show it)")
    t.add_argument("--per-shot", action="store_true", help="logical error rate per shot instead of per round")
    t.add_argument("--dpi", type=int, default=100, help="resolution of the saved figure (default 100)")
    t.set_defaults(run=threshold)
    args = parser.parse_args(argv)
    args.run(args)


if __name__ == "__main__":
    main()
