"""Shared bench code for the Amaranth-simulator tests of the hardware (``test_hw_*.py``).

``rtl_...`` functions run the design in Amaranth's simulator; the tests compare them with
``ref_...`` functions computed by the golden model. Lanes are packed little-end first: lane k
at bits ``[k*width +: width]``.
"""

from __future__ import annotations

import sys
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

import numpy as np
from amaranth.hdl import ClockDomain, Module
from amaranth.lib import data
from amaranth.sim import Simulator

from shiftmax.sim.vectors import pack_rows, unpack_word

__all__ = ["rtl_combinational", "rtl_pipeline", "rtl_stage",
           "StreamRun", "rtl_stream", "mismatch"]


def _raw(member):
    """The bits of a member (a View over an array layout is read and written as one word)."""
    return member.as_value() if isinstance(member, data.View) else member


def _run(design, bench: Callable) -> None:
    # Amaranth's simulator compiles wide constants through decimal strings: allow the
    # thousands of digits of a 1000-lane word.
    if hasattr(sys, "set_int_max_str_digits"):
        sys.set_int_max_str_digits(0)
    sim = Simulator(design)
    sim.add_clock(1e-8, if_exists=True)
    sim.add_testbench(bench)
    sim.run()


def rtl_combinational(component, vectors: Sequence[dict], outputs: Sequence[str]) -> list[dict]:
    """Apply each dict of input member -> value and read ``outputs`` (latency-0 components).

    Array members are set and read as packed words (see :func:`shiftmax.sim.vectors.pack_rows`).
    """
    results = []

    async def bench(ctx):
        for vector in vectors:
            for member, value in vector.items():
                ctx.set(_raw(getattr(component, member)), value)
            results.append({name: ctx.get(_raw(getattr(component, name))) for name in outputs})

    _run(component, bench)
    return results


def rtl_pipeline(component, vectors: Sequence[dict], outputs: Sequence[str]) -> list[dict]:
    """Like :func:`rtl_combinational` for a component with ``.latency`` register stages.

    One vector enters per clock; the outputs are read ``component.latency`` cycles later.
    """
    latency = component.latency
    if latency == 0:
        return rtl_combinational(component, vectors, outputs)
    results = []
    module = Module()
    module.submodules.dut = component

    async def bench(ctx):
        for cycle in range(len(vectors) + latency):
            if cycle < len(vectors):
                for member, value in vectors[cycle].items():
                    ctx.set(_raw(getattr(component, member)), value)
            if cycle >= latency:
                results.append({name: ctx.get(_raw(getattr(component, name)))
                                for name in outputs})
            await ctx.tick()

    _run(module, bench)
    return results


@dataclass
class StreamRun:
    """What came out of a unit: result words in order, with the cycles beats moved."""

    outputs: list[int] = field(default_factory=list)
    in_cycles: list[int] = field(default_factory=list)
    out_cycles: list[int] = field(default_factory=list)
    stall_violations: list[str] = field(default_factory=list)
    outputs_before_reset: list[int] = field(default_factory=list)


def rtl_stream(unit, words: Sequence[int], *, seed: int = 0, gap: float = 0.0,
               stall: float = 0.0, reset_after: int | None = None,
               reset_cycles: int = 2) -> StreamRun:
    """Stream ``words`` through an AXI4-Stream unit with random input gaps and backpressure.

    ``gap`` is the probability that the source withholds ``s_axis_tvalid`` in a cycle,
    ``stall`` the probability that the sink drops ``m_axis_tready``. A result offered while
    stalled must stay valid and unchanged (violations are listed in ``stall_violations``).

    With ``reset_after=k``, ``rst`` is held for ``reset_cycles`` cycles once k beats have
    entered; whatever left before that is in ``outputs_before_reset``, and ``outputs`` holds
    only what left after it, which must be exactly the results of ``words[k:]``.
    """
    rng = np.random.default_rng(seed)
    run = StreamRun()
    domain = ClockDomain("sync")
    module = Module()
    module.domains.sync = domain
    module.submodules.unit = unit
    slowdown = 1.0 / max(0.05, (1 - gap) * (1 - stall))
    limit = int(100 + 2 * unit.latency + 4 * slowdown * unit.input_cycles * len(words))
    expected = len(words) - (reset_after or 0)

    async def bench(ctx):
        sent = 0
        offered = None  # a result held under backpressure in the previous cycle
        reset_pending = reset_after is not None
        for cycle in range(limit):
            if reset_pending and sent == reset_after:
                ctx.set(unit.s_axis_tvalid, 0)
                ctx.set(domain.rst, 1)
                for _ in range(reset_cycles):
                    await ctx.tick()
                ctx.set(domain.rst, 0)
                reset_pending = False
                offered = None
                run.outputs_before_reset, run.outputs = run.outputs, []
                run.in_cycles.clear()
                run.out_cycles.clear()
            valid = sent < len(words) and rng.random() >= gap
            ready = rng.random() >= stall
            ctx.set(unit.s_axis_tvalid, int(valid))
            ctx.set(unit.s_axis_tdata, int(words[sent]) if valid else 0)
            ctx.set(unit.m_axis_tready, int(ready))
            m_valid = ctx.get(unit.m_axis_tvalid)
            m_data = ctx.get(unit.m_axis_tdata)
            if offered is not None and (not m_valid or m_data != offered):
                run.stall_violations.append(
                    f"cycle {cycle}: held result {offered:#x} became valid={m_valid} "
                    f"data={m_data:#x}")
            if valid and ctx.get(unit.s_axis_tready):
                sent += 1
                run.in_cycles.append(cycle)
            if m_valid and ready:
                run.outputs.append(m_data)
                run.out_cycles.append(cycle)
            offered = m_data if (m_valid and not ready) else None
            await ctx.tick()
            if not reset_pending and sent == len(words) and len(run.outputs) >= expected:
                # Run a few more cycles: nothing else may come out.
                for _ in range(unit.latency + 2):
                    ctx.set(unit.s_axis_tvalid, 0)
                    ctx.set(unit.m_axis_tready, 1)
                    if ctx.get(unit.m_axis_tvalid):
                        run.outputs.append(ctx.get(unit.m_axis_tdata))
                    await ctx.tick()
                break

    _run(module, bench)
    return run


def rtl_stage(component, inputs: dict[str, tuple[np.ndarray, int]],
              outputs: dict[str, tuple[int, int | None, bool]]) -> dict[str, np.ndarray]:
    """Run a stage on rows of data; one row per clock, outputs read after ``.latency``.

    ``inputs`` maps a member to (array of rows, bits per lane): a 2-D array is packed as
    lanes, a 1-D array gives one scalar per row. ``outputs`` maps a member to
    (bits per lane, lanes or None for a scalar, signed); returns int64 arrays of rows.
    """
    rows = len(next(iter(inputs.values()))[0])
    packed = {name: pack_rows(np.asarray(array).reshape(rows, -1), width)
              for name, (array, width) in inputs.items()}
    vectors = [{name: words[row] for name, words in packed.items()} for row in range(rows)]
    results = rtl_pipeline(component, vectors, list(outputs))
    unpacked = {}
    for name, (width, count, signed) in outputs.items():
        values = [unpack_word(result[name], count or 1, width, signed=signed)
                  for result in results]
        array = np.array(values, dtype=np.int64)
        unpacked[name] = array if count is not None else array[:, 0]
    return unpacked


def mismatch(inputs: np.ndarray, expected: np.ndarray, actual: np.ndarray) -> str:
    """A failure message naming the first differing row: input, expected and actual."""
    bad = np.flatnonzero(np.any(np.atleast_2d((expected != actual).reshape(len(expected), -1)),
                                axis=-1))
    if not len(bad):
        return "no mismatch"
    row = bad[0]
    return (f"{len(bad)} of {len(expected)} rows differ; first row {row}: input "
            f"{np.asarray(inputs)[row].tolist()}, expected {np.asarray(expected)[row].tolist()}, "
            f"got {np.asarray(actual)[row].tolist()}")
