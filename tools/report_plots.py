"""The hardware report's plots, one function per plot, from the results ``tools/report.py`` builds.

    from report_plots import write_plots
    plots = write_plots(results, targets, OUT, meta=meta)   # [Plot(path, title, caption)]

``results`` is report.json's ``"results"`` (key -> one configuration's measurements:
``unit``, ``group``, ``params``, ``label``, ``wrapper``, ``xc7``, ``fmax_mhz``, ``pnr``,
``sim``), ``targets`` its ``"targets"`` (the checked targets), ``meta`` its ``"meta"`` (the
device). The bounds drawn are the bounds checked: read from each target's text and tied to
the design it is checked on (its ``key`` when the target has one, else the design its name
describes, see ``target_bounds``). A plot whose data is missing from a run (``--quick``,
``--only``) is not written. Every axis is labelled with its unit; targets are dashed lines or
marks; the published anchors (``ANCHORS``) are black markers, drawn where the plot's quantity
and N apply.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

__all__ = ["ANCHORS", "Bound", "Plot", "PLOTS", "area_at_n10", "area_vs_n", "fmax_at_n10",
           "latency_vs_n", "margins", "stream_area_vs_n", "stream_vs_p", "target_bounds",
           "target_margins", "write_plots"]

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
    for name in ("lanes_per_beat", "k"):
        if p.get(name) not in (None, p.get("n")):
            parts.append(f"{name}={p[name]}")
    return " ".join(parts)


def short_label(result: dict) -> str:
    """``argmax index folded P=2, K=1, stage on, skid`` (N and VB left out: the plot says
    them); the flow control when the design has one, the wrapper when it is not the chain."""
    text = " ".join(filter(None, (result["unit"], variant(result)))) + \
        ", " + pipelining(result.get("params", {}))
    if result.get("params", {}).get("flow_control"):
        text += f", {result['params']['flow_control']}"
    if result.get("wrapper", "chain") != "chain":
        text += f" [{result['wrapper']} wrapper]"
    return text


def ceiling_for(results: dict[str, dict], result: dict | None = None) -> float | None:
    """Fmax of the ceiling adder measured in the same wrapper as ``result`` (the chain
    wrapper's when None)."""
    wrapper = (result or {}).get("wrapper", "chain")
    ceilings = {r.get("wrapper", "chain"): r.get("fmax_mhz") for r in results.values()
                if r.get("unit") == "ceiling"}
    return ceilings.get(wrapper)


@dataclass(frozen=True)
class Bound:
    """One checked target of one design: ``quantity`` (``"lut"``, ``"fmax_mhz"`` or
    ``"fmax_min_mhz"``) must stay at or below (``upper``) or reach ``value``."""

    key: str
    quantity: str
    value: float | None  # None: the ceiling it is relative to was not measured
    upper: bool
    name: str
    fraction: float | None = None  # of the ceiling, for Fmax bounds


_ATTRIBUTES = (("n", r"\bN=(\d+)"), ("k", r"\bK=(\d+)"), ("stage", r"\bstage[ =](on|off)"),
               ("folded", r"\bfolded P=(\d+)"), ("output", r"\b(index|onehot)\b"),
               ("form", r"\b(enable|skid|fifo)\b"), ("wrapper", r"\b(lfsr) wrapper"))


def _attributes(text: str) -> dict[str, str]:
    found = {"unit": text.split()[0] if text.split() else ""}
    for name, pattern in _ATTRIBUTES:
        match = re.search(pattern, text)
        if match:
            found[name] = match.group(1)
    return found


def _match(target_name: str, results: dict[str, dict]) -> str | None:
    """The key of the one design a target's name describes (report.py names a target after
    its row: unit, N, VB, output, fold, K, stage, flow control, wrapper), else None.

    What the name leaves out matches anything, except the fold and the wrapper: no ``folded``
    means not folded, no wrapper means the chain wrapper.
    """
    wanted = _attributes(target_name.split(":")[0])
    wanted.setdefault("folded", None)
    wanted["wrapper"] = _attributes(target_name).get("wrapper")  # after the colon too
    keys = []
    for key, result in results.items():
        have = _attributes(result.get("label", ""))
        have.setdefault("folded", None)
        have.setdefault("wrapper", None)
        if all(have.get(name) == value for name, value in wanted.items()
               if value is not None or name in ("folded", "wrapper")):
            keys.append(key)
    return keys[0] if len(keys) == 1 else None


def target_bounds(results: dict[str, dict], targets: list[dict]) -> list[Bound]:
    """The numeric targets (xc7 LUTs, Fmax) tied to the designs they are checked on.

    A target dict with ``key`` (the design's result key) is tied to it directly; otherwise its
    name is matched against the designs' labels. Targets that match no single design (or are
    not numeric: throughput, DSP / BRAM) are left out.
    """
    bounds = []
    for target in targets:
        name, text = str(target.get("name", "")), str(target.get("target", ""))
        key = target.get("key") or _match(name, results)
        if key not in results:
            continue
        lut = re.fullmatch(r"\s*<=\s*(\d+)\s*", text)
        fmax = re.match(r"\s*>=\s*([\d.]+)\s*x\s*ceiling", text)
        if lut and name.endswith("xc7 LUTs"):
            bounds.append(Bound(key, "lut", float(lut.group(1)), True, name))
        elif fmax and "Fmax" in name:
            fraction = float(fmax.group(1))
            ceiling = ceiling_for(results, results[key])
            quantity = "fmax_min_mhz" if "every seed" in text else "fmax_mhz"
            bounds.append(Bound(key, quantity, fraction * ceiling if ceiling else None, False,
                                name, fraction))
    return bounds


def _number(value) -> float | None:
    """The first number of a measured value (``931``, ``"279.33 MHz = 0.7858 x"``)."""
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return float(value)
    match = re.match(r"\s*([-+]?\d[\d,]*\.?\d*)", str(value))
    return float(match.group(1).replace(",", "")) if match else None


def margins(targets: list[dict]) -> list[tuple[str, float | None, str, bool | None]]:
    """Per target: name, margin in % (positive: met with room; None: not numeric or not
    measured), the text to print, and the verdict."""
    rows = []
    for target in targets:
        text, verdict = str(target.get("target", "")), target.get("pass")
        measured = _number(target.get("measured")) if verdict is not None else None
        upper = re.fullmatch(r"\s*<=\s*([\d.]+)\s*", text)
        lower = re.search(r"=\s*([\d.]+)\s*MHz", text) if text.startswith(">=") else None
        margin = None
        if measured is not None and upper:
            bound = float(upper.group(1))
            margin = 100.0 * (bound - measured) / bound
            note = f"{measured:g} vs <= {bound:g}"
        elif measured is not None and lower:
            bound = float(lower.group(1))
            margin = 100.0 * (measured - bound) / bound
            note = f"{measured:.1f} MHz vs >= {bound:.1f} MHz"
        else:
            note = {True: "PASS", False: "FAIL", None: "not measured"}[verdict]
        rows.append((str(target.get("name", "")), margin, note, verdict))
    return rows


def lut_lines(results: dict[str, dict], targets: list[dict]) -> list[tuple[float, str, str]]:
    """(bound, colour family, design label) of every LUT target."""
    return [(b.value, family(results[b.key]), short_label(results[b.key]))
            for b in target_bounds(results, targets) if b.quantity == "lut"]


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
    for value, fam in dict.fromkeys((value, fam) for value, fam, _ in
                                    lut_lines(results, targets)):
        n = {results[b.key]["params"].get("n") for b in target_bounds(results, targets)
             if b.quantity == "lut" and b.value == value and family(results[b.key]) == fam}
        where = f" at N={n.pop()}" if len(n) == 1 else ""
        axes.axhline(value, color=colour(fam), linestyle="--", linewidth=1)
        axes.annotate(f"{fam} target{where}: <= {value:g} LUT", (0.01, value),
                      xycoords=("axes fraction", "data"), textcoords="offset points",
                      xytext=(2, 3), fontsize=7, color=colour(fam))
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
    """xc7 LUTs of every N=10 design, one bar each; a design's LUT target as a black dashed
    mark across its bar; the published N=10 (or nearest) anchors as hatched grey bars."""
    rows = [r for r in at_n10(results) if r.get("xc7", {}).get("lut") is not None]
    if not rows:
        return False
    bounds = {b.key: b.value for b in target_bounds(results, targets) if b.quantity == "lut"}
    bars = [(short_label(r), r["xc7"]["lut"], colour(r), r["unit"], None, bounds.get(r["key"]))
            for r in rows]
    for anchor in ANCHORS:
        if anchor["n"] in (10, 27):
            bars.append((f"{anchor['name'].split(' (')[0]} N={anchor['n']} (published)",
                         anchor["lut"], "lightgray", anchor["unit"], "//", None))
    order = {"shiftmax": 0, "argmax": 1}
    bars.sort(key=lambda bar: (order.get(bar[3], 2), bar[3]))
    plt = _pyplot()
    figure, axes = plt.subplots(figsize=(8.5, 0.3 * len(bars) + 1.6))
    # Top to bottom, a gap between units.
    positions, y = [], 0.0
    for number, bar in enumerate(bars):
        if number and bar[3] != bars[number - 1][3]:
            y -= 0.8
        positions.append(y)
        y -= 1.0
    for y, (_, value, fill, _, hatch, bound) in zip(positions, bars, strict=True):
        axes.barh(y, value, color=fill, hatch=hatch, edgecolor="dimgray" if hatch else fill)
        note = f"{value:,}" + (f"  (target <= {bound:,.0f})" if bound else "")
        axes.annotate(note, (max(value, bound or 0), y), textcoords="offset points",
                      xytext=(4, -3), fontsize=7)
        if bound:
            # Black: the mark crosses bars of the unit's own colour.
            axes.vlines(bound, y - 0.48, y + 0.48, color="black", linestyle="--",
                        linewidth=1.4, zorder=4)
    axes.vlines([], 0, 0, color="black", linestyle="--", label="the design's LUT target")
    axes.set_yticks(positions, [bar[0] for bar in bars], fontsize=7.5)
    axes.set_xlabel("xc7 LUTs (count, yosys synth_xilinx; published rows: Vivado HLS)")
    axes.set_title("Area at N = 10")
    axes.set_xlim(0, max(bar[1] for bar in bars) * 1.3)
    axes.grid(True, axis="x", alpha=0.3)
    if bounds:
        axes.legend(fontsize=7.5, loc="lower right")
    _save(figure, path)
    return True


def fmax_at_n10(results: dict[str, dict], targets: list[dict], path: Path,
                meta: dict | None = None) -> bool:
    """ECP5 Fmax of every N=10 design (bar: median over seeds; whiskers: the seeds' range), each
    design's Fmax targets as black marks across its bar (dashed: median, dotted: every seed),
    the ceiling adders' Fmax as lines."""
    rows = [r for r in at_n10(results) if r.get("fmax_mhz")]
    if not rows:
        return False
    bounds: dict[str, list[Bound]] = {}
    for bound in target_bounds(results, targets):
        if bound.quantity != "lut" and bound.value:
            bounds.setdefault(bound.key, []).append(bound)
    plt = _pyplot()
    figure, axes = plt.subplots(figsize=(8.5, 0.3 * len(rows) + 1.8))
    positions = list(range(len(rows)))[::-1]
    for y, r in zip(positions, rows, strict=True):
        axes.barh(y, r["fmax_mhz"], color=colour(r))
        seeds = [run["fmax_mhz"] for run in r.get("pnr", []) if run.get("fmax_mhz")]
        if len(seeds) > 1:
            axes.errorbar([r["fmax_mhz"]], [y], xerr=[[r["fmax_mhz"] - min(seeds)],
                                                     [max(seeds) - r["fmax_mhz"]]],
                          color="black", linewidth=0.8, capsize=2)
        ceiling = ceiling_for(results, r)
        text = f"{r['fmax_mhz']:.0f}" + (f" ({r['fmax_mhz'] / ceiling:.2f} x)" if ceiling
                                         else "")
        marks = bounds.get(r["key"], [])
        for bound in marks:
            axes.vlines(bound.value, y - 0.48, y + 0.48, color="black", zorder=4,
                        linestyle="--" if bound.quantity == "fmax_mhz" else ":", linewidth=1.4)
        if marks:
            text += "  target " + ", ".join(
                f"{b.fraction:g} x{'' if b.quantity == 'fmax_mhz' else ' every seed'}"
                for b in marks)
        axes.annotate(text, (max([r["fmax_mhz"], *seeds]), y), textcoords="offset points",
                      xytext=(4, -3), fontsize=7)
    axes.set_yticks(positions, [short_label(r) for r in rows], fontsize=7.5)
    ceilings = sorted({(r.get("wrapper", "chain"), r["fmax_mhz"]) for r in results.values()
                       if r.get("unit") == "ceiling" and r.get("fmax_mhz")})
    for (wrapper, mhz), style in zip(ceilings, ("-", "-.", ":"), strict=False):
        axes.axvline(mhz, color="gray", linestyle=style, linewidth=1,
                     label=f"ceiling: registered 32-bit adder, {wrapper} wrapper, {mhz:.0f} MHz")
    axes.vlines([], 0, 0, color="black", linestyle="--", label="target (median)")
    if any(b.quantity == "fmax_min_mhz" for marks in bounds.values() for b in marks):
        axes.vlines([], 0, 0, color="black", linestyle=":", label="target (every seed)")
    if any(len(r.get("pnr", [])) > 1 for r in rows):
        axes.errorbar([], [], xerr=[], color="black", linewidth=0.8, capsize=2,
                      label="range over the seeds")
    axes.legend(fontsize=7, loc="upper center", bbox_to_anchor=(0.5, -0.07), ncol=2,
                frameon=False)
    axes.set_xlabel(f"Fmax (MHz), nextpnr-ecp5 on {_device(meta)}, median over seeds")
    axes.set_title("Fmax at N = 10")
    top = max([r["fmax_mhz"] for r in rows] + [mhz for _, mhz in ceilings])
    axes.set_xlim(0, top * 1.4)
    axes.grid(True, axis="x", alpha=0.3)
    _save(figure, path)
    return True


def target_margins(results: dict[str, dict], targets: list[dict], path: Path,
                   meta: dict | None = None) -> bool:
    """Every target of the report's table, one bar each: how far the measurement is from its
    bound, in % of the bound (right of 0: met), green when met, red when missed; targets
    without a number (throughput, DSP / BRAM) or not measured as a label at 0."""
    rows = margins(targets)
    if not rows:
        return False
    plt = _pyplot()
    figure, axes = plt.subplots(figsize=(10, 0.3 * len(rows) + 1.4))
    positions = list(range(len(rows)))[::-1]
    for y, (_, margin, note, verdict) in zip(positions, rows, strict=True):
        fill = {True: "tab:green", False: "tab:red", None: "lightgray"}[verdict]
        if margin is not None:
            axes.barh(y, margin, color=fill)
            text = f"{note} ({margin:+.1f}%)"
            axes.annotate(text, (max(margin, 0), y), textcoords="offset points",
                          xytext=(3, -3), fontsize=7)
        else:
            axes.scatter([0], [y], marker="s", color=fill, zorder=3)
            axes.annotate(note, (0, y), textcoords="offset points", xytext=(6, -3),
                          fontsize=7)
    axes.axvline(0, color="black", linewidth=1)
    axes.set_yticks(positions, [name for name, *_ in rows], fontsize=7)
    numbers = [abs(margin) for _, margin, _, _ in rows if margin is not None] or [10.0]
    axes.set_xlim(-max(numbers) * 1.15, max(numbers) * 1.9)
    axes.set_xlabel("margin to the target (% of the bound; right of 0: met)")
    met = sum(verdict is True for *_, verdict in rows)
    axes.set_title(f"Targets: {met} of {len(rows)} met")
    axes.grid(True, axis="x", alpha=0.3)
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
            form = f", {base['flow_control']}" if base.get("flow_control") else ""
            axes.plot(sizes, curve, linestyle=style, marker=".", color=colour(unit),
                      label=f"{unit} formula, {pipelining(option)}{form}")
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
def _streaming_shiftmax(results: dict[str, dict]) -> list[dict]:
    """The streaming shiftmax rows (lanes_per_beat below N) measured in the chain wrapper."""
    return [r for r in designs(results) if r["unit"] == "shiftmax"
            and r.get("params", {}).get("lanes_per_beat") not in (None, r["params"].get("n"))
            and r.get("wrapper", "chain") == "chain" and r.get("xc7")]


def stream_area_vs_n(results: dict[str, dict], targets: list[dict], path: Path,
                     meta: dict | None = None, lanes: int = 16) -> bool:
    """xc7 LUTs (LUT-RAM included) and BRAM18 of the streaming shiftmax against N at fixed P:
    the row lives in memory, so the logic should stay flat as N grows."""
    rows = sorted((r for r in _streaming_shiftmax(results)
                   if r["params"]["lanes_per_beat"] == lanes), key=lambda r: r["params"]["n"])
    if len(rows) < 2:
        return False
    plt = _pyplot()
    figure, axes = plt.subplots(figsize=(7, 4.2))
    n = [r["params"]["n"] for r in rows]
    axes.plot(n, [r["xc7"]["lut"] for r in rows], marker="o", color=colour("shiftmax"),
              label="xc7 LUTs (LUT-RAM included)")
    axes.plot(n, [r["xc7"].get("lut_memory", 0) for r in rows], marker="s", linestyle=":",
              color=colour("shiftmax"), label="of which LUT-RAM / SRL")
    for r in rows:
        axes.annotate(f"{r['xc7']['lut']} LUT, {r['xc7']['bram18']} BRAM18",
                      (r["params"]["n"], r["xc7"]["lut"]), textcoords="offset points",
                      xytext=(-40, 8), fontsize=7.5)
    first = rows[0]["xc7"]["lut"]
    axes.axhline(1.25 * first, color="tab:red", linestyle="--", linewidth=1,
                 label=f"target: 1.25 x the N={rows[0]['params']['n']} row")
    axes.set_xscale("log")
    axes.set_xticks(n, [str(x) for x in n])
    axes.xaxis.set_minor_locator(__import__("matplotlib").ticker.NullLocator())
    axes.set_xlim(min(n) / 1.5, max(n) * 1.5)
    axes.set_ylim(0, max(1.25 * first, max(r["xc7"]["lut"] for r in rows)) * 1.25)
    axes.set_xlabel("N (elements per row)")
    axes.set_ylabel("xc7 LUTs (count, yosys synth_xilinx)")
    p = rows[0]["params"]
    axes.set_title(f"Streaming shiftmax: area against N at P={lanes} "
                   f"(VB={p['value_bits']}, K={p['register_every']}, {p.get('flow_control')})")
    axes.grid(True, alpha=0.3)
    axes.legend(fontsize=7.5, loc="lower right")
    _save(figure, path)
    return True


def stream_vs_p(results: dict[str, dict], targets: list[dict], path: Path,
                meta: dict | None = None, n: int = 197) -> bool:
    """xc7 LUTs and ECP5 Fmax (median of the seeds, and as a fraction of the ceiling) of the
    streaming shiftmax against P at fixed N."""
    rows = sorted((r for r in _streaming_shiftmax(results) if r["params"]["n"] == n),
                  key=lambda r: r["params"]["lanes_per_beat"])
    if len(rows) < 2:
        return False
    plt = _pyplot()
    figure, axes = plt.subplots(figsize=(7, 4.2))
    lanes = [r["params"]["lanes_per_beat"] for r in rows]
    axes.plot(lanes, [r["xc7"]["lut"] for r in rows], marker="o", color=colour("shiftmax"),
              label="xc7 LUTs (LUT-RAM included)")
    axes.set_xscale("log", base=2)
    axes.set_xticks(lanes, [str(p) for p in lanes])
    axes.set_xlabel("P (elements per beat)")
    axes.set_ylabel("xc7 LUTs (count, yosys synth_xilinx)", color=colour("shiftmax"))
    axes.set_ylim(0, max(r["xc7"]["lut"] for r in rows) * 1.2)
    right = axes.twinx()
    with_fmax = [r for r in rows if r.get("fmax_mhz")]
    if with_fmax:
        right.plot([r["params"]["lanes_per_beat"] for r in with_fmax],
                   [r["fmax_mhz"] for r in with_fmax], marker="^", color="tab:red",
                   label="ECP5 Fmax (median of seeds)")
        ceiling = ceiling_for(results)
        if ceiling:
            right.axhline(0.75 * ceiling, color="tab:red", linestyle="--", linewidth=1,
                          label=f"0.75 x ceiling ({0.75 * ceiling:.0f} MHz)")
        right.set_ylim(0, max([r["fmax_mhz"] for r in with_fmax] + [ceiling or 0]) * 1.15)
    right.set_ylabel(f"Fmax (MHz, nextpnr-ecp5, {_device(meta)})", color="tab:red")
    handles = axes.get_legend_handles_labels()
    more = right.get_legend_handles_labels()
    axes.legend(handles[0] + more[0], handles[1] + more[1], fontsize=7.5, loc="lower left")
    p = rows[0]["params"]
    axes.set_title(f"Streaming shiftmax N={n}: area and Fmax against P "
                   f"(VB={p['value_bits']}, K={p['register_every']}, {p.get('flow_control')})")
    axes.grid(True, alpha=0.3)
    _save(figure, path)
    return True


PLOTS: tuple[tuple[str, str, str, Callable[..., bool]], ...] = (
    ("targets.png", "Targets",
     "Every target of the table: the margin between measurement and bound, green when met, "
     "red when missed.", target_margins),
    ("luts_n10.png", "Area at N = 10",
     "xc7 LUTs of every N = 10 design; dashed marks: a design's LUT target; hatched: "
     "published figures of other generators (FINN's at N = 27).", area_at_n10),
    ("fmax_vs_pipelining.png", "Fmax at N = 10",
     "ECP5 Fmax of every N = 10 design (median over seeds); black marks: the design's Fmax "
     "targets; grey lines: the ceiling adders.", fmax_at_n10),
    ("luts_vs_n.png", "Area against N",
     "xc7 LUTs against N (log-log); dashed: the LUT targets; black: published figures.",
     area_vs_n),
    ("latency_vs_n.png", "Latency against N",
     "Latency formulas of three pipelining options, the measured latencies (black dots) and "
     "hls4ml's published latencies.", latency_vs_n),
    ("stream_luts_vs_n.png", "Streaming shiftmax: area against N",
     "xc7 LUTs of the streaming shiftmax at P=16 against N (the row is kept in memory, so the "
     "logic should stay flat), with the 1.25 x target.", stream_area_vs_n),
    ("stream_vs_p.png", "Streaming shiftmax: area and Fmax against P",
     "xc7 LUTs and ECP5 Fmax of the streaming shiftmax at N=197 against the elements per "
     "beat P.", stream_vs_p),
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
