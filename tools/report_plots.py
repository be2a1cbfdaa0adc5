"""The hardware report's plots, one function per plot, from the results ``tools/report.py`` builds.

    from report_plots import write_plots
    plots = write_plots(results, targets, OUT, meta=meta)   # [Plot(path, title, caption)]

``results`` is report.json's ``"results"`` (key -> one configuration's measurements:
``unit``, ``group``, ``params``, ``label``, ``xc7``, ``fmax_mhz``, ``sim``), ``targets`` its
``"targets"`` (the checked targets: the LUT and Fmax bounds are read from their text, so the
lines drawn are the bounds checked), ``meta`` its ``"meta"`` (the device). A plot whose data
is missing from a run (``--quick``, ``--only``) is not written. Every axis is labelled with
its unit; targets are dashed lines in the colour of the unit they apply to; the published
anchors (``ANCHORS``) are black markers, drawn where the plot's quantity and N apply.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

__all__ = ["ANCHORS", "Plot", "PLOTS", "area_at_n10", "area_vs_n", "fmax_at_n10",
           "latency_vs_n", "lut_targets", "fmax_fraction", "targets_at_n10", "write_plots"]

#: Published figures of other generators, for scale (docs/results.md, "Published anchors":
#: Vivado HLS estimates, Vivado LUT counting). ``every``: clock cycles per new vector.
ANCHORS: tuple[dict[str, Any], ...] = (
    {"name": "hls4ml softmax_stable", "unit": "shiftmax", "n": 3, "lut": 360, "dsp": 3,
     "bram18": 3, "latency": 2, "every": None},
    {"name": "hls4ml softmax_stable (io_stream)", "unit": "shiftmax", "n": 10, "lut": 2180,
     "dsp": 1, "bram18": 2, "latency": 22, "every": 10},
    {"name": "FINN LabelSelect", "unit": "argmax", "n": 27, "lut": 102, "ff": 112,
     "latency": None, "every": None},
)
ANCHOR_MARKERS = {"hls4ml": "D", "FINN": "*"}

#: One colour per unit (and one for the folded argmax), the same in every plot.
COLOURS = {"shiftmax": "tab:blue", "argmax": "tab:orange", "argmax folded": "tab:green",
           "topk": "tab:purple"}
DPI = 120


@dataclass(frozen=True)
class Plot:
    """A written plot: its file, a title and a one-sentence caption (for the HTML page)."""

    path: Path
    title: str
    caption: str


# --------------------------------------------------------------------------------------------
# Reading the results


def _pyplot():
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


def designs(results: dict[str, dict]) -> list[dict]:
    """The measured designs (not the ceiling adder)."""
    return [r for r in results.values() if r.get("unit") not in (None, "ceiling")]


def is_folded(result: dict) -> bool:
    p = result.get("params", {})
    return p.get("lanes_per_cycle") not in (None, p.get("n"))


def family(result: dict) -> str:
    """The colour family: the unit, with the folded argmax apart."""
    return f"{result['unit']} folded" if is_folded(result) else result["unit"]


def colour(result_or_family: dict | str) -> str:
    name = result_or_family if isinstance(result_or_family, str) else family(result_or_family)
    return COLOURS.get(name, COLOURS.get(name.split()[0], "tab:gray"))


def pipelining(params: dict) -> str:
    return (f"K={params.get('register_every', '?')}, "
            f"stage {'on' if params.get('stage_registers') else 'off'}")


def variant(result: dict) -> str:
    """What besides N and the pipelining tells designs of a unit apart."""
    p = result.get("params", {})
    parts = []
    if p.get("output") not in (None, "index") or result["unit"] == "argmax":
        parts.append(p.get("output", "index"))
    if is_folded(result):
        parts.append(f"folded P={p['lanes_per_cycle']}")
    for name in ("lanes_per_beat", "flow_control", "k"):
        if p.get(name) not in (None, p.get("n"), "enable"):
            parts.append(f"{name}={p[name]}")
    return " ".join(parts)


def short_label(result: dict) -> str:
    """``argmax index folded P=2, K=1, stage on`` (N and VB left out: the plot says them)."""
    return " ".join(filter(None, (result["unit"], variant(result)))) + \
        ", " + pipelining(result.get("params", {}))


def lut_targets(targets: list[dict]) -> dict[str, int]:
    """unit -> the xc7 LUT bound its N=10 rows are checked against (``<= 1090``)."""
    bounds: dict[str, int] = {}
    for target in targets:
        match = re.fullmatch(r"\s*<=\s*(\d+)\s*", str(target.get("target", "")))
        if match and target.get("name", "").endswith("xc7 LUTs"):
            unit = target["name"].split()[0]
            bounds[unit] = min(bounds.get(unit, 1 << 62), int(match.group(1)))
    return bounds


def fmax_fraction(targets: list[dict]) -> float | None:
    """The Fmax bound as a fraction of the ceiling adder (``>= 0.75 x ceiling``)."""
    for target in targets:
        match = re.match(r"\s*>=\s*([\d.]+)\s*x\s*ceiling", str(target.get("target", "")))
        if match:
            return float(match.group(1))
    return None


def ceiling_mhz(results: dict[str, dict]) -> float | None:
    for result in results.values():
        if result.get("unit") == "ceiling":
            return result.get("fmax_mhz")
    return None


def at_n10(results: dict[str, dict]) -> list[dict]:
    """The N=10 designs, shiftmax first, then argmax, then any other unit."""
    order = {"shiftmax": 0, "argmax": 1}
    rows = [r for r in designs(results) if r.get("params", {}).get("n") == 10]
    return sorted(rows, key=lambda r: (order.get(r["unit"], 2), r["unit"], is_folded(r),
                                       variant(r), r["params"].get("register_every", 0),
                                       bool(r["params"].get("stage_registers"))))


def _device(meta: dict | None) -> str:
    return (meta or {}).get("device", "ECP5")


def _anchor(axes, x: float, y: float, name: str, text: str, offset=(6, 4)) -> None:
    marker = next((m for prefix, m in ANCHOR_MARKERS.items() if name.startswith(prefix)), "o")
    axes.scatter([x], [y], marker=marker, s=70, color="black", zorder=5)
    axes.annotate(text, (x, y), textcoords="offset points", xytext=offset, fontsize=7.5,
                  bbox={"boxstyle": "round,pad=0.15", "facecolor": "white", "alpha": 0.8,
                        "edgecolor": "none"})


def _plain_log_ticks(axis) -> None:
    """Ticks of a log axis at 1-2-5 steps, written as plain numbers (10, 200, not 2x10^2)."""
    from matplotlib.ticker import FixedLocator, NullLocator, ScalarFormatter

    axis.set_major_locator(FixedLocator([m * 10 ** e for e in range(5) for m in (1, 2, 5)]))
    axis.set_minor_locator(NullLocator())
    axis.set_major_formatter(ScalarFormatter())


def _save(figure, path: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    figure.tight_layout()
    figure.savefig(path, dpi=DPI, bbox_inches="tight")
    _pyplot().close(figure)


# --------------------------------------------------------------------------------------------
# The plots


def area_vs_n(results: dict[str, dict], targets: list[dict], path: Path,
              meta: dict | None = None) -> bool:
    """xc7 LUTs against N, log-log: a line per design family measured at several N, the other
    N=10 pipelining options as small points, the LUT targets and the published anchors."""
    rows = [r for r in designs(results) if r.get("xc7", {}).get("lut") is not None]
    if len({r["params"]["n"] for r in rows}) < 2:  # a run at one N: the N=10 plots show it
        return False
    plt = _pyplot()
    figure, axes = plt.subplots(figsize=(9.5, 5))
    series: dict[tuple[str, str], list[dict]] = {}
    for r in rows:
        series.setdefault((short_label(r), family(r)), []).append(r)
    for (label, fam), members in series.items():
        points = sorted((r["params"]["n"], r["xc7"]["lut"]) for r in members)
        if len({n for n, _ in points}) > 1:
            axes.plot(*zip(*points, strict=True), marker="o", color=colour(fam), label=label)
    lone = [r for (_, _), members in series.items() for r in members
            if len({m["params"]["n"] for m in members}) == 1]
    for fam in sorted({family(r) for r in lone}):
        points = [(r["params"]["n"], r["xc7"]["lut"]) for r in lone if family(r) == fam]
        axes.scatter(*zip(*points, strict=True), s=14, alpha=0.5, color=colour(fam),
                     label=f"{fam}, options measured at one N only")
    for unit, bound in lut_targets(targets).items():
        axes.axhline(bound, color=colour(unit), linestyle="--", linewidth=1)
        axes.annotate(f"{unit} target at N=10: <= {bound} LUT", (0.01, bound),
                      xycoords=("axes fraction", "data"), textcoords="offset points",
                      xytext=(2, 3), fontsize=7.5, color=colour(unit))
    for anchor in ANCHORS:
        _anchor(axes, anchor["n"], anchor["lut"], anchor["name"],
                f"{anchor['name']} N={anchor['n']}")
    axes.scatter([], [], marker="D", color="black", label="published (Vivado HLS estimates)")
    axes.set_xscale("log")
    axes.set_yscale("log")
    _plain_log_ticks(axes.xaxis)
    axes.set_xlabel("N (lanes per row)")
    axes.set_ylabel("xc7 LUTs (count, yosys synth_xilinx)")
    axes.set_title("Area against N")
    axes.grid(True, which="major", alpha=0.3)
    axes.legend(fontsize=7.5, loc="upper left", bbox_to_anchor=(1.01, 1.0))
    _save(figure, path)
    return True


def area_at_n10(results: dict[str, dict], targets: list[dict], path: Path,
                meta: dict | None = None) -> bool:
    """xc7 LUTs of every N=10 design, one bar each, the unit's LUT target as a black dashed
    line across its own bars, the published N=10 (or nearest) anchors as hatched grey bars."""
    rows = [r for r in at_n10(results) if r.get("xc7", {}).get("lut") is not None]
    if not rows:
        return False
    bars = [(short_label(r), r["xc7"]["lut"], colour(r), r["unit"], None) for r in rows]
    for anchor in ANCHORS:
        if anchor["n"] in (10, 27):
            bars.append((f"{anchor['name'].split(' (')[0]} N={anchor['n']} (published)",
                         anchor["lut"],
                         "lightgray", anchor["unit"], "//"))
    order = {"shiftmax": 0, "argmax": 1}
    bars.sort(key=lambda bar: (order.get(bar[3], 2), bar[3]))
    plt = _pyplot()
    figure, axes = plt.subplots(figsize=(8, 0.32 * len(bars) + 1.6))
    # Top to bottom, a gap between units (room for the target's label).
    positions, y = [], 0.0
    for number, bar in enumerate(bars):
        if number and bar[3] != bars[number - 1][3]:
            y -= 0.8
        positions.append(y)
        y -= 1.0
    for y, (_, value, fill, _, hatch) in zip(positions, bars, strict=True):
        axes.barh(y, value, color=fill, hatch=hatch, edgecolor="dimgray" if hatch else fill)
        axes.annotate(f"{value:,}", (value, y), textcoords="offset points", xytext=(3, -3),
                      fontsize=7)
    axes.set_yticks(positions, [bar[0] for bar in bars], fontsize=7.5)
    for unit, bound in lut_targets(targets).items():
        ys = [y for y, bar in zip(positions, bars, strict=True) if bar[3] == unit]
        if ys:
            # Black: the line crosses bars of the unit's own colour.
            axes.vlines(bound, min(ys) - 0.45, max(ys) + 0.45, color="black",
                        linestyle="--", linewidth=1.2, zorder=4)
            axes.annotate(f"{unit} target <= {bound} LUT", (bound, max(ys) + 0.45),
                          textcoords="offset points", xytext=(3, 2), fontsize=7.5,
                          color="black", zorder=5,
                          bbox={"boxstyle": "round,pad=0.1", "facecolor": "white",
                                "alpha": 0.85, "edgecolor": "none"})
    axes.set_xlabel("xc7 LUTs (count, yosys synth_xilinx; published rows: Vivado HLS)")
    axes.set_title("Area at N = 10 against the targets")
    axes.set_xlim(0, max(bar[1] for bar in bars) * 1.12)
    axes.grid(True, axis="x", alpha=0.3)
    _save(figure, path)
    return True


def fmax_at_n10(results: dict[str, dict], targets: list[dict], path: Path,
                meta: dict | None = None) -> bool:
    """ECP5 Fmax of every N=10 design (one bar per pipelining option), the ceiling adder's
    Fmax and the target fraction of it as lines."""
    rows = [r for r in at_n10(results) if r.get("fmax_mhz")]
    if not rows:
        return False
    ceiling = ceiling_mhz(results)
    fraction = fmax_fraction(targets)
    plt = _pyplot()
    figure, axes = plt.subplots(figsize=(8, 0.32 * len(rows) + 1.6))
    positions = list(range(len(rows)))[::-1]
    for y, r in zip(positions, rows, strict=True):
        axes.barh(y, r["fmax_mhz"], color=colour(r))
        text = f"{r['fmax_mhz']:.0f}" + (f" ({r['fmax_mhz'] / ceiling:.2f} x)" if ceiling
                                         else "")
        axes.annotate(text, (r["fmax_mhz"], y), textcoords="offset points", xytext=(3, -3),
                      fontsize=7)
    axes.set_yticks(positions, [short_label(r) for r in rows], fontsize=7.5)
    if ceiling:
        axes.axvline(ceiling, color="black", linewidth=1,
                     label=f"ceiling: registered 32-bit adder, {ceiling:.0f} MHz")
        if fraction:
            axes.axvline(fraction * ceiling, color="tab:red", linestyle="--", linewidth=1.2,
                         label=f"target: {fraction:g} x ceiling = {fraction * ceiling:.0f} MHz")
        axes.legend(fontsize=7.5, loc="lower center", bbox_to_anchor=(0.5, 1.0), ncol=2,
                    frameon=False)
    axes.set_xlabel(f"Fmax (MHz), nextpnr-ecp5 on {_device(meta)}, median over seeds")
    axes.set_title("Fmax at N = 10 against pipelining", pad=22)
    axes.set_xlim(0, max([r["fmax_mhz"] for r in rows] + [ceiling or 0]) * 1.18)
    axes.grid(True, axis="x", alpha=0.3)
    _save(figure, path)
    return True


def targets_at_n10(results: dict[str, dict], targets: list[dict], path: Path,
                   meta: dict | None = None) -> bool:
    """Area against speed at N = 10, one panel per unit with a LUT target: each design a
    point (xc7 LUTs, Fmax / ceiling), the region that meets both targets shaded."""
    ceiling = ceiling_mhz(results)
    fraction = fmax_fraction(targets)
    bounds = lut_targets(targets)
    panels = [(unit, [r for r in at_n10(results) if r["unit"] == unit and r.get("fmax_mhz")
                      and r.get("xc7", {}).get("lut") is not None])
              for unit in bounds]
    panels = [(unit, rows) for unit, rows in panels if rows]
    if not panels or not ceiling or not fraction:
        return False
    plt = _pyplot()
    figure, all_axes = plt.subplots(1, len(panels), figsize=(6.4 * len(panels), 4.6),
                                    squeeze=False)
    for axes, (unit, rows) in zip(all_axes[0], panels, strict=True):
        bound = bounds[unit]
        xs = [r["xc7"]["lut"] for r in rows]
        ys = [r["fmax_mhz"] / ceiling for r in rows]
        right = max(xs + [bound]) * 1.12
        axes.fill_between([0, bound], fraction, 1.05, color="tab:green", alpha=0.12,
                          label="meets both targets")
        axes.axvline(bound, color=colour(unit), linestyle="--", linewidth=1,
                     label=f"LUT target <= {bound}")
        axes.axhline(fraction, color="tab:red", linestyle="--", linewidth=1,
                     label=f"Fmax target >= {fraction:g} x ceiling")
        # Labels in a column right of the points, in the points' vertical order, at least a
        # line apart, each joined to its point: close points stay readable.
        order = sorted(range(len(rows)), key=lambda i: ys[i])
        spots, last = {}, -1.0
        for i in order:
            last = max(ys[i], last + 0.055)
            spots[i] = last
        shift = max(0.0, max(spots.values()) - 1.0)
        for i, r in enumerate(rows):
            axes.scatter([xs[i]], [ys[i]], color=colour(r), s=30, zorder=4)
            text = short_label(r).removeprefix(unit).lstrip(", ")
            axes.annotate(text, (xs[i], ys[i]), xytext=(right * 1.04, spots[i] - shift),
                          fontsize=6.5, va="center", annotation_clip=False,
                          arrowprops={"arrowstyle": "-", "color": "gray", "linewidth": 0.5,
                                      "shrinkA": 0, "shrinkB": 3})
        axes.set_xlim(0, right)
        axes.set_ylim(0, 1.05)
        axes.set_xlabel("xc7 LUTs (count, yosys synth_xilinx)")
        axes.set_ylabel("ECP5 Fmax / ceiling adder's Fmax (ratio)")
        axes.set_title(f"{unit}, N = 10")
        axes.grid(True, alpha=0.3)
        axes.legend(fontsize=7, loc="upper center", bbox_to_anchor=(0.5, -0.13), ncol=3,
                    frameon=False)
    _save(figure, path)
    return True


def _registry_latency(unit: str, params: dict) -> int:
    from shiftmax.units import unit as registry_unit

    return registry_unit(unit).build(**params).latency


def latency_vs_n(results: dict[str, dict], targets: list[dict], path: Path,
                 meta: dict | None = None,
                 latency_of: Callable[[str, dict], int] = _registry_latency) -> bool:
    """Latency against N: each unit's formula (its ``.latency``, from ``latency_of(unit,
    params)``) for three pipelining options at the measured N=10 row's other parameters, the
    latencies measured under Icarus as black dots, hls4ml's published latencies as anchors."""
    measured = [r for r in designs(results) if r.get("sim", {}).get("latency") is not None]
    if not measured:
        return False
    plt = _pyplot()
    figure, axes = plt.subplots(figsize=(9.5, 4.8))
    sizes = [2, 3, 4, 8, 10, 16, 32, 64, 100, 128, 197, 256, 512, 1000]
    options = ({"register_every": 1, "stage_registers": True},
               {"register_every": 2, "stage_registers": True},
               {"register_every": 0, "stage_registers": False})
    styles = ("-", "--", ":")
    drawn = 0
    rank = {"shiftmax": 0, "argmax": 1}
    for unit in sorted({r["unit"] for r in measured if not is_folded(r)},
                       key=lambda name: (rank.get(name, 2), name)):
        base = next((r["params"] for r in at_n10(results)
                     if r["unit"] == unit and not is_folded(r)), None)
        if base is None:
            continue
        for option, style in zip(options, styles, strict=True):
            try:
                curve = [latency_of(unit, {**base, **option, "n": n}) for n in sizes]
            except Exception:  # noqa: BLE001 - no curve for a unit that cannot be built here
                continue
            axes.plot(sizes, curve, linestyle=style, marker=".", color=colour(unit),
                      label=f"{unit} formula, {pipelining(option)}")
            drawn += 1
    if not drawn and len({r["params"]["n"] for r in measured}) < 2:
        plt.close(figure)  # a few dots at one N: the report's table says it better
        return False
    axes.scatter([r["params"]["n"] for r in measured], [r["sim"]["latency"] for r in measured],
                 color="black", zorder=4, s=14, label="measured under Icarus (every design)")
    for anchor in ANCHORS:
        if anchor.get("latency") is not None:
            _anchor(axes, anchor["n"], anchor["latency"], anchor["name"],
                    f"{anchor['name']} N={anchor['n']}: {anchor['latency']}")
    axes.scatter([], [], marker="D", color="black", label="published (Vivado HLS estimate)")
    axes.set_xscale("log")
    _plain_log_ticks(axes.xaxis)
    axes.set_xlabel("N (lanes per row)")
    axes.set_ylabel("latency (clock cycles, beat in to result out)")
    axes.set_title("Latency against N")
    axes.grid(True, alpha=0.3)
    axes.legend(fontsize=7, loc="upper left", bbox_to_anchor=(1.01, 1.0))
    _save(figure, path)
    return True


#: file name, title, caption, function: the order of the HTML page.
PLOTS: tuple[tuple[str, str, str, Callable[..., bool]], ...] = (
    ("targets_n10.png", "Targets at N = 10",
     "Each N = 10 design by area and speed; a point in the shaded region meets both targets.",
     targets_at_n10),
    ("luts_n10.png", "Area at N = 10",
     "xc7 LUTs of every N = 10 design; dashed: each unit's LUT target; hatched: published "
     "figures of other generators (FINN's at N = 27).", area_at_n10),
    ("fmax_vs_pipelining.png", "Fmax at N = 10",
     "ECP5 Fmax of every N = 10 design; solid: the ceiling adder; dashed: the Fmax target.",
     fmax_at_n10),
    ("luts_vs_n.png", "Area against N",
     "xc7 LUTs against N (log-log); dashed: the N = 10 LUT targets; black: published "
     "figures.", area_vs_n),
    ("latency_vs_n.png", "Latency against N",
     "Latency formulas of three pipelining options, the measured latencies (black dots) and "
     "hls4ml's published latencies.", latency_vs_n),
)


def write_plots(results: dict[str, dict], targets: list[dict], out: Path,
                meta: dict | None = None, **options: Any) -> list[Plot]:
    """Write every plot that has data into ``out``; returns those written, in page order.

    ``options`` go to the plot functions that take them (``latency_of`` for
    ``latency_vs_n``).
    """
    import inspect

    written = []
    for name, title, caption, function in PLOTS:
        accepted = inspect.signature(function).parameters
        extra = {key: value for key, value in options.items() if key in accepted}
        if function(results, targets, Path(out) / name, meta, **extra):
            written.append(Plot(Path(out) / name, title, caption))
    return written
