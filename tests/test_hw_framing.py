# amaranth: UnusedElaboratable=no
"""The row framer of the streaming units against the framing model of ``shiftmax.sim``."""

import numpy as np
import pytest
from amaranth.hdl import ClockDomain, Module
from amaranth.sim import Simulator
from streaming_bench import pack_fields, source_rows

from shiftmax.hw.framing import RowFramer
from shiftmax.sim.framing import RowShape, beats_of_rows, form_rows


def ref_framed_beats(n: int, p: int, vb: int, data, mask, last, *, fill: bool):
    """The beats the framer must emit: per formed row, its lanes (absent ones at -2**vb),
    absent bits, first, last and the row's malformed flag on its last beat."""
    rows, _ = form_rows(data, mask, last, n=n, lanes_per_beat=p)
    r = -(-n // p)
    beats = []
    for row in rows:
        count = r if fill else len(row.beats)
        elements = np.zeros(r * p, dtype=np.int64)
        absent = np.ones(r * p, dtype=bool)
        elements[:n], absent[:n] = row.elements, row.mask
        for b in range(count):
            lanes = elements[b * p:(b + 1) * p]
            gone = absent[b * p:(b + 1) * p]
            beats.append((tuple(int(v) for v in np.where(gone, -(1 << vb), lanes)),
                          tuple(bool(g) for g in gone), b == 0, b == count - 1,
                          row.malformed if b == count - 1 else None))
    return beats


def rtl_framed_beats(framer: RowFramer, data, mask, last, *, seed: int, gap: float,
                     no_space: float):
    rng = np.random.default_rng(seed)
    layout = framer.i.payload.shape()
    words = [pack_fields(layout, data=list(data[b]), last=int(last[b]),
                         mask=int(sum(int(m) << j for j, m in enumerate(mask[b]))))
             for b in range(len(data))]
    width, p = framer.width, len(data[0])
    beats = []
    module = Module()
    module.domains.sync = ClockDomain("sync")
    module.submodules.framer = framer

    async def bench(ctx):
        sent = 0
        for _ in range(20 * len(words) + 50):
            valid = sent < len(words) and rng.random() >= gap
            ctx.set(framer.i.valid, int(valid))
            ctx.set(framer.i.payload.as_value(), words[sent] if valid else 0)
            ctx.set(framer.space, int(rng.random() >= no_space))
            if ctx.get(framer.valid):
                raw = ctx.get(framer.lanes.as_value())
                lanes = [(raw >> (j * width)) & ((1 << width) - 1) for j in range(p)]
                lanes = tuple(v - (1 << width) if v >> (width - 1) else v for v in lanes)
                absent = ctx.get(framer.absent)
                last_beat = bool(ctx.get(framer.last))
                beats.append((lanes, tuple(bool(absent >> j & 1) for j in range(p)),
                              bool(ctx.get(framer.first)), last_beat,
                              bool(ctx.get(framer.malformed)) if last_beat else None))
            if valid and ctx.get(framer.i.ready):
                sent += 1
            await ctx.tick()

    sim = Simulator(module)
    sim.add_clock(1e-8)
    sim.add_testbench(bench)
    sim.run()
    return beats


@pytest.mark.parametrize("n, p", [(10, 3), (9, 8), (5, 1), (12, 4)])
@pytest.mark.parametrize("fill", [True, False], ids=["fill", "no-fill"])
def test_framer_emits_the_rows_the_contract_forms(n, p, fill):
    vb = 5
    shape = RowShape("shiftmax", dict(n=n, value_bits=vb, lanes_per_beat=p, mask=True))
    rng = np.random.default_rng(n * p)
    kinds = list(rng.choice(["good", "good", "early", "missing"], size=16))
    if shape.beats_per_row < 2:
        kinds = ["good" if k == "early" else k for k in kinds]
    elements = rng.integers(-(1 << vb), 1 << vb, size=(16, n))
    masks = rng.random((16, n)) < 0.3
    data, mask, last, _ = beats_of_rows(source_rows(shape, elements, masks, kinds, rng))
    framer = RowFramer(n=n, lanes_per_beat=p, value_bits=vb, mask=True, fill=fill)
    expected = ref_framed_beats(n, p, vb, data, mask, last, fill=fill)
    actual = rtl_framed_beats(framer, data, mask, last, seed=1, gap=0.3, no_space=0.3)
    assert len(actual) == len(expected)
    for k, (want, got) in enumerate(zip(expected, actual, strict=True)):
        assert want == got, f"beat {k}: expected {want}, got {got}"


@pytest.mark.parametrize("kwargs, message", [
    (dict(lanes_per_beat=10), "lanes_per_beat must be at most 9"),
    (dict(n=1), "n must be at least 2"),
    (dict(width=5), "width must be at least 8"),
    (dict(absent_value=128), "absent_value must be at most 127"),
])
def test_bad_parameters_are_rejected(kwargs, message):
    with pytest.raises(ValueError, match=message):
        RowFramer(**{**dict(n=10, lanes_per_beat=3, value_bits=7), **kwargs})
