"""Bench code for the streaming units in Amaranth's simulator (``test_hw_streaming_*.py``).

``rtl_rows`` drives a unit's ``i`` stream with beats (lanes, mask, tlast) under random input
gaps and output backpressure, and collects the ``o`` beats; the tests compare them with the
golden model through the framing model of ``shiftmax.sim.framing`` (``ref_row_outputs``).
"""

from __future__ import annotations

import sys
from dataclasses import dataclass, field

import numpy as np
from amaranth.hdl import ClockDomain, Module
from amaranth.sim import Simulator

from shiftmax.sim.framing import RowShape, form_rows, ref_row_outputs

__all__ = ["StreamingRun", "rtl_rows", "ref_rows", "pack_fields", "check_rows", "row_masks",
           "source_rows"]


def pack_fields(layout, **values) -> int:
    """One payload word of a ``data.StructLayout`` from field values (ints or lane lists)."""
    word = 0
    for name, value in values.items():
        member = layout[name]
        shape = member.shape
        if isinstance(value, (list, tuple, np.ndarray)):
            width = shape.elem_shape.width if hasattr(shape, "elem_shape") else \
                shape.shape.width
            lanes = 0
            for k, lane in enumerate(value):
                lanes |= (int(lane) & ((1 << width) - 1)) << (k * width)
            value = lanes
        word |= (int(value) & ((1 << member.width) - 1)) << member.offset
    return word


def _field(layout, word: int, name: str) -> int:
    member = layout[name]
    return (word >> member.offset) & ((1 << member.width) - 1)


@dataclass
class StreamingRun:
    """The output beats of a run (data, last, user) and the cycles beats moved."""

    data: list[int] = field(default_factory=list)
    last: list[int] = field(default_factory=list)
    user: list[int] = field(default_factory=list)
    in_cycles: list[int] = field(default_factory=list)
    out_cycles: list[int] = field(default_factory=list)
    stall_violations: list[str] = field(default_factory=list)
    cycles: int = 0


def rtl_rows(unit, data: np.ndarray, mask: np.ndarray | None, last: np.ndarray, *,
             seed: int = 0, gap: float = 0.0, stall: float = 0.0,
             reset_after: int | None = None, limit: int | None = None) -> StreamingRun:
    """Stream the beats ``data`` (beats x P), ``mask`` (beats x P bools or None), ``last``
    (one tlast per beat) through ``unit``; with ``reset_after=k`` the reset is held for two
    cycles once k beats have been taken, and the run keeps only what comes out after it.
    """
    if hasattr(sys, "set_int_max_str_digits"):
        sys.set_int_max_str_digits(0)
    rng = np.random.default_rng(seed)
    run = StreamingRun()
    domain = ClockDomain("sync")
    module = Module()
    module.domains.sync = domain
    module.submodules.unit = unit
    in_layout = unit.i.payload.shape()
    out_layout = unit.o.payload.shape()
    words = [pack_fields(in_layout, data=list(data[b]), last=int(last[b]),
                         **({"mask": int(sum(int(bit) << j for j, bit in enumerate(mask[b])))}
                            if mask is not None and "mask" in dict(in_layout.members) else {}))
             for b in range(len(data))]
    slowdown = 1.0 / max(0.05, (1 - gap) * (1 - stall))
    if limit is None:
        limit = int(500 + 4 * unit.latency + 8 * slowdown * len(words))
    payload_in, payload_out = unit.i.payload.as_value(), unit.o.payload.as_value()

    async def bench(ctx):
        sent = 0
        offered = None
        reset_pending = reset_after is not None
        idle = 0
        for cycle in range(limit):
            if reset_pending and sent == reset_after:
                ctx.set(unit.i.valid, 0)
                ctx.set(domain.rst, 1)
                await ctx.tick()
                await ctx.tick()
                ctx.set(domain.rst, 0)
                reset_pending = False
                offered = None
                run.data.clear()
                run.last.clear()
                run.user.clear()
                run.in_cycles.clear()
                run.out_cycles.clear()
            valid = sent < len(words) and rng.random() >= gap
            ready = rng.random() >= stall
            ctx.set(unit.i.valid, int(valid))
            ctx.set(payload_in, words[sent] if valid else 0)
            ctx.set(unit.o.ready, int(ready))
            o_valid = ctx.get(unit.o.valid)
            o_word = ctx.get(payload_out)
            if offered is not None and (not o_valid or o_word != offered):
                run.stall_violations.append(f"cycle {cycle}: held beat {offered:#x} became "
                                            f"valid={o_valid} payload={o_word:#x}")
            if valid and ctx.get(unit.i.ready):
                sent += 1
                run.in_cycles.append(cycle)
            if o_valid and ready:
                run.data.append(_field(out_layout, o_word, "data"))
                run.last.append(_field(out_layout, o_word, "last"))
                run.user.append(_field(out_layout, o_word, "user"))
                run.out_cycles.append(cycle)
                idle = 0
            else:
                idle += 1
            offered = o_word if (o_valid and not ready) else None
            await ctx.tick()
            if sent == len(words) and not reset_pending and idle > 4 * unit.latency + 64:
                run.cycles = cycle
                break

    sim = Simulator(module)
    sim.add_clock(1e-8)
    sim.add_testbench(bench)
    sim.run()
    return run


def ref_rows(unit_name: str, params: dict, data, mask, last):
    """The rows the contract forms from the beats, and their expected output beats."""
    shape = RowShape(unit_name, params)
    rows, framer = form_rows(data, mask, last, n=shape.n, lanes_per_beat=shape.lanes_per_beat)
    return rows, ref_row_outputs(shape, rows), shape


def check_rows(expectations, run: StreamingRun) -> None:
    """Every expected output beat came out, in order, with its data, last and user bits."""
    expected = [beat for row in expectations for beat in row.beats]
    assert not run.stall_violations, run.stall_violations[:3]
    assert len(run.data) == len(expected), (
        f"{len(run.data)} output beats, expected {len(expected)}")
    beats_per_row = len(expectations[0].beats) if expectations else 1
    for k, beat in enumerate(expected):
        row = expectations[k // beats_per_row]
        got = (run.data[k] & beat.care, run.last[k], run.user[k])
        want = (beat.data & beat.care, beat.last, beat.user)
        assert got == want, (
            f"output beat {k} (row {k // beats_per_row}, {row.row.reason or 'well-formed'}): "
            f"expected data/last/user {want[0]:#x}/{want[1]}/{want[2]}, got "
            f"{got[0]:#x}/{got[1]}/{got[2]}; row input {row.row.elements.tolist()}, mask "
            f"{row.row.mask.astype(int).tolist()}, expected values {row.values}")


def row_masks(kind: str, rows: int, n: int, rng: np.random.Generator) -> np.ndarray:
    """Masks of ``rows`` rows (True = absent): ``"none"``, ``"random"``, ``"causal"`` (row t
    keeps elements 0 .. t mod n) or ``"full"`` (every element absent)."""
    if kind == "none":
        return np.zeros((rows, n), dtype=bool)
    if kind == "random":
        return rng.random((rows, n)) < rng.random((rows, 1))
    if kind == "causal":
        return np.arange(n)[np.newaxis, :] > (np.arange(rows) % n)[:, np.newaxis]
    if kind == "full":
        return np.ones((rows, n), dtype=bool)
    raise ValueError(f"kind must be none, random, causal or full, not {kind!r}")


def source_rows(shape, elements: np.ndarray, masks: np.ndarray | None, kinds,
                rng: np.random.Generator, *, noise: int = 3) -> list:
    """Source beats of rows: ``kinds[i]`` is ``"good"``, ``"early"`` (tlast on a random beat
    before R - 1) or ``"missing"`` (no tlast on beat R - 1, then 1 to ``noise`` beats)."""
    from shiftmax.sim.framing import early_tlast_row, missing_tlast_row, well_formed_row

    rows = []
    for i, kind in enumerate(kinds):
        mask = None if masks is None else masks[i]
        if kind == "early":
            beats = int(rng.integers(1, shape.beats_per_row))
            rows.append(early_tlast_row(shape, elements[i], mask, beats, rng))
        elif kind == "missing":
            rows.append(missing_tlast_row(shape, elements[i], mask, int(rng.integers(1, noise + 1)),
                                          rng))
        else:
            rows.append(well_formed_row(shape, elements[i], mask, rng))
    return rows
