# amaranth: UnusedElaboratable=no
"""Measure the two exact forms of a streaming shiftmax's sum (docs/streaming.md).

A streaming shiftmax cannot know a row's maximum before the row's last beat, and a running
sum shifted at each new maximum is not exact. Two exact forms remain:

- ``two-pass`` (what :class:`shiftmax.hw.streaming_shiftmax.StreamingShiftmax` builds): read
  the row back from a buffer once the maximum is known; per beat P distances, P one-hot
  terms, a P-term adder tree, then one accumulator;
- ``histogram``: per beat, count the lanes at each distance ``0 .. 2e`` below the beat's
  maximum; keep counts per distance below the running maximum, shifting both histograms by
  how far the running maximum rose; at the row's end ``S = sum cnt[d] * 2**(2e - d)``.

This script builds the sum block of each form (the part that differs: not the input
framing, the max tree or the output pass) for P lanes and synthesises it with yosys
(``synth_xilinx -family xc7``), printing LUT counts as JSON. The histogram block is a
measurement model, checked here against the golden sum on random rows in Amaranth's
simulator, and not part of the generated hardware::

    .venv/bin/python tools/streaming_sum_forms.py --n 197 --lanes 16 --out build/sum_forms
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import numpy as np
from amaranth.back import verilog
from amaranth.hdl import Cat, Const, Module, Mux, Signal, signed
from amaranth.lib import data, wiring
from amaranth.lib.wiring import In, Out
from amaranth.sim import Simulator

from shiftmax.golden import FixedPoint, exp_sum, exp_terms, floor_input
from shiftmax.hw.adder_tree import SaturatingAdderTree
from shiftmax.hw.distance import Distance, distance_bits
from shiftmax.hw.max_tree import MaxTree
from shiftmax.hw.pipeline import is_greater, register, unsigned_bits, wire
from shiftmax.hw.shift_exp import ShiftExp

sys.path.insert(0, str(Path(__file__).resolve().parent))
import report_flow  # noqa: E402


class _SumBlock(wiring.Component):
    """Common ports: P floored lanes, first/last/valid of the beat, the row's exact sum."""

    def __init__(self, *, n: int, lanes: int, width: int, exp_bitwidth: int) -> None:
        self.n, self.p, self.width, self.e = n, lanes, width, exp_bitwidth
        self.total_bits = n.bit_length() + 2 * exp_bitwidth
        super().__init__({
            "values": In(data.ArrayLayout(signed(width), lanes)),
            "maximum": In(signed(width)),  # two-pass: the row's maximum; histogram: unused
            "valid": In(1), "first": In(1), "last": In(1),
            "total": Out(self.total_bits), "done": Out(1),
        })


class TwoPassSum(_SumBlock):
    """Pass 2 of the streaming shiftmax: distances, terms, P-term tree, accumulator."""

    def elaborate(self, platform) -> Module:
        m = Module()
        db = distance_bits(self.width, self.e)
        m.submodules.distance = dist = Distance(n=self.p, width=self.width, exp_bitwidth=self.e)
        m.d.comb += [dist.maximum.eq(self.maximum), dist.values.eq(self.values)]
        d = register(m, dist.distance.as_value(), name="d")
        m.submodules.exp = exp = ShiftExp(n=self.p, exp_bitwidth=self.e, distance_bits=db)
        bits = self.p.bit_length() + 2 * self.e
        m.submodules.tree = tree = SaturatingAdderTree(n=self.p, exp_bitwidth=self.e,
                                                       buffer_bitwidth=bits + 1,
                                                       register_every=2)
        m.d.comb += [exp.distance.eq(d), tree.term.eq(exp.term)]
        beat = register(m, tree.total, name="beat")
        delay = 2 + tree.latency
        valid, first, last = self.valid, self.first, self.last
        for _ in range(delay):
            valid, first, last = (register(m, v) for v in (valid, first, last))
        total = Signal(self.total_bits, name="acc")
        with m.If(valid):
            m.d.sync += total.eq(Mux(first, 0, total) + beat)
        m.d.sync += self.done.eq(valid & last)
        m.d.comb += self.total.eq(total)
        return m


class HistogramSum(_SumBlock):
    """The histogram form: counts per distance below the running maximum."""

    def elaborate(self, platform) -> Module:
        m = Module()
        e2, p = 2 * self.e, self.p
        bins = e2 + 1
        cb = unsigned_bits(self.n)
        # Beat side (feed-forward): the beat's maximum, each lane's distance below it, the
        # beat's histogram.
        m.submodules.max_tree = tree = MaxTree(n=p, width=self.width, register_every=2)
        m.d.comb += tree.values.eq(self.values)
        values = self.values.as_value()
        for _ in range(tree.latency):
            values = register(m, values)
        beat_max = tree.maximum
        m.submodules.distance = dist = Distance(n=p, width=self.width, exp_bitwidth=self.e)
        m.d.comb += [dist.maximum.eq(beat_max), dist.values.eq(values)]
        beat_max = register(m, beat_max, name="beat_max")
        d = register(m, dist.distance.as_value(), name="d")
        db = distance_bits(self.width, self.e)
        counts = []
        for b in range(bins):
            hits = Cat(*(d[j * db:(j + 1) * db] == b for j in range(p)))
            counts.append(sum(hits[j] for j in range(p)))
        beat_hist = register(m, Cat(*(c[:cb] for c in counts)), name="beat_hist")
        beat_max = register(m, beat_max, name="beat_max2")
        valid, first, last = self.valid, self.first, self.last
        for _ in range(tree.latency + 2):
            valid, first, last = (register(m, v) for v in (valid, first, last))

        # The loop: new running maximum, both histograms shifted to it, added bin by bin.
        top = Signal(signed(self.width), name="top")
        hist = Signal(bins * cb, name="hist")
        new_top = wire(m, Mux(first | is_greater(beat_max, top), beat_max, top), name="new_top")
        sb = unsigned_bits(bins)

        def shifted(h, amount):
            # Bin k moves to bin k + amount; what passes 2e is dropped.
            return _bin_shift(m, h, wire(m, Mux(amount > bins, bins, amount)[:sb + 1]), bins, cb)

        old = Mux(first, Const(0, bins * cb), shifted(hist, (new_top - top).as_unsigned()))
        new = shifted(beat_hist, (new_top - beat_max).as_unsigned())
        summed = Cat(*((old[k * cb:(k + 1) * cb] + new[k * cb:(k + 1) * cb])[:cb]
                       for k in range(bins)))
        with m.If(valid):
            m.d.sync += [top.eq(new_top), hist.eq(summed)]
        done = register(m, valid & last, name="done_r")
        # At the row's end: S = sum cnt[d] << (2e - d), registered.
        weighted = sum(hist[k * cb:(k + 1) * cb] << (e2 - k) for k in range(bins))
        m.d.sync += [self.total.eq(weighted), self.done.eq(done)]
        return m


def _bin_shift(m: Module, h, amount, bins: int, cb: int):
    """Bins of ``h`` moved up by ``amount`` (a barrel shifter over whole bins)."""
    result = h
    for level in range(amount.shape().width):
        step = 1 << level
        moved = Cat(Const(0, min(step, bins) * cb), result)[:bins * cb]
        result = wire(m, Mux(amount[level], moved, result))
    return result


def check(block: _SumBlock, rows: np.ndarray) -> None:
    """The block's row sums equal the golden exact sum (no clamp: B is large)."""
    p, e = block.p, block.e
    floored = floor_input(FixedPoint(rows, block.width - 1, 0))
    want = exp_sum(exp_terms(floored.max(-1, keepdims=True) - floored, e), 62).tolist()
    got = []

    async def bench(ctx):
        for row, fl in zip(rows, floored, strict=True):
            beats = -(-len(row) // p)
            padded = np.full(beats * p, -(1 << (block.width - 1)), dtype=np.int64)
            padded[:len(row)] = fl
            for b in range(beats):
                word = 0
                for j in range(p):
                    word |= (int(padded[b * p + j]) & ((1 << block.width) - 1)) << (j * block.width)
                ctx.set(block.values.as_value(), word)
                ctx.set(block.maximum, int(fl.max()))
                ctx.set(block.valid, 1)
                ctx.set(block.first, int(b == 0))
                ctx.set(block.last, int(b == beats - 1))
                await ctx.tick()
                if ctx.get(block.done):
                    got.append(ctx.get(block.total))
        ctx.set(block.valid, 0)
        for _ in range(20):
            await ctx.tick()
            if ctx.get(block.done):
                got.append(ctx.get(block.total))

    sim = Simulator(block)
    sim.add_clock(1e-8)
    sim.add_testbench(bench)
    sim.run()
    if got != want:
        raise SystemExit(f"{type(block).__name__} is not exact: {got[:4]} != {want[:4]}")


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=197)
    parser.add_argument("--lanes", type=int, default=16)
    parser.add_argument("--value-bits", type=int, default=7)
    parser.add_argument("--exp-bitwidth", type=int, default=10)
    parser.add_argument("--out", type=Path, default=Path("build/sum_forms"))
    args = parser.parse_args(argv)
    args.out.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(1)
    vb = args.value_bits
    # Rows of whole beats for the check (the blocks have no absent lanes).
    whole = args.lanes * max(1, args.n // args.lanes)
    rows = rng.integers(-(1 << vb), 1 << vb, size=(8, whole)) // rng.integers(1, 9, (8, 1))
    results = {}
    for cls in (TwoPassSum, HistogramSum):
        kwargs = dict(n=args.n, lanes=args.lanes, width=vb + 1, exp_bitwidth=args.exp_bitwidth)
        check(cls(**kwargs), rows)
        name = cls.__name__.lower()
        (args.out / f"{name}.v").write_text(verilog.convert(cls(**kwargs), name=name))
        cells = report_flow.synth_xc7(args.out, [f"{name}.v"], top=name, tag=name)
        results[name] = report_flow.xc7_summary(next(iter(cells.values())))
    print(json.dumps(results))


if __name__ == "__main__":
    main()
