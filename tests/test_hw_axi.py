# amaranth: UnusedElaboratable=no
"""The AXI4-Stream adapter and the lane helpers: ports from payload fields, lanes in order."""

import numpy as np
import pytest
from amaranth.hdl import Module, Signal, signed
from amaranth.lib import data, stream, wiring
from amaranth.lib.wiring import In, Out
from amaranth.sim import Simulator

from shiftmax.golden import argmax
from shiftmax.hw import Argmax, AxiStream, Shiftmax, pack_lanes, unpack_lanes
from shiftmax.sim.vectors import pack_rows, unpack_word


def test_pack_and_unpack_lanes_round_trip_signed_values():
    rng = np.random.default_rng(0)
    values = [int(v) for v in rng.integers(-128, 128, size=10)]
    word = pack_lanes(values, 8)
    assert word == pack_rows(np.array([values]), 8)[0]
    assert unpack_lanes(word, 10, 8, signed=True) == values
    assert unpack_lanes(word, 10, 8) == unpack_word(word, 10, 8)


def test_lane_helpers_build_and_split_words_in_a_design():
    lanes = [Signal(signed(4), name=f"lane{k}") for k in range(3)]
    word = Signal(12)
    m = Module()
    m.d.comb += word.eq(pack_lanes(lanes, 4))
    view = unpack_lanes(word, 3, 4, signed=True)
    back = [Signal(signed(4), name=f"back{k}") for k in range(3)]
    m.d.comb += [b.eq(view[k]) for k, b in enumerate(back)]
    seen = []

    async def bench(ctx):
        for values in ([1, -2, 7], [-8, 0, -1]):
            for lane, value in zip(lanes, values, strict=True):
                ctx.set(lane, value)
            seen.append((ctx.get(word), [ctx.get(b) for b in back]))

    sim = Simulator(m)
    sim.add_testbench(bench)
    sim.run()
    assert seen == [(pack_lanes([1, -2, 7], 4), [1, -2, 7]),
                    (pack_lanes([-8, 0, -1], 4), [-8, 0, -1])]


def test_ports_follow_the_payload_fields():
    plain = AxiStream(Argmax(n=10, value_bits=7)).signature.members
    assert set(plain) == {"s_axis_tdata", "s_axis_tvalid", "s_axis_tready", "m_axis_tdata",
                          "m_axis_tvalid", "m_axis_tready"}
    masked = AxiStream(Shiftmax(n=6, value_bits=7, mask=True)).signature.members
    assert masked["s_axis_tdata"].shape == 48 and masked["s_axis_tuser"].shape == 6
    assert masked["m_axis_tdata"].shape == 66 and "m_axis_tuser" not in masked
    flagged = AxiStream(Argmax(n=6, value_bits=7, mask=True)).signature.members
    assert flagged["s_axis_tuser"].flow == In and flagged["m_axis_tuser"].flow == Out
    assert flagged["m_axis_tuser"].shape == 1


def test_the_adapter_reads_the_unit_description_through():
    unit = Shiftmax(n=4, value_bits=7, flow_control="skid")
    axi = AxiStream(unit)
    assert axi.unit is unit
    assert (axi.latency, axi.params, axi.flow_control, axi.beats_per_row, axi.memory_bits) == \
        (unit.latency, unit.params, "skid", 1, 0)


def test_a_component_without_stream_members_is_rejected():
    class Flat(wiring.Component):
        x: In(4)
        y: Out(4)

    with pytest.raises(TypeError, match="unit must have stream members i"):
        AxiStream(Flat())

    class Unstructured(wiring.Component):
        i: In(stream.Signature(8))
        o: Out(stream.Signature(8))

    with pytest.raises(TypeError, match="StructLayout"):
        AxiStream(Unstructured())


def test_a_unit_connects_to_a_matching_stream_with_wiring_connect():
    """A source declared with the unit's own input layout joins it through wiring.connect."""
    unit = Argmax(n=4, value_bits=3, flow_control="fifo")
    rows = np.array([[1, -2, 3, 3], [-8, -8, -8, -8], [0, 7, -1, 7], [5, 4, 3, 2]])

    class Source(wiring.Component):
        def __init__(self):
            super().__init__({"o": Out(stream.Signature(unit.in_layout)),
                              "rows": In(data.ArrayLayout(signed(4), 4)),
                              "go": In(1)})

        def elaborate(self, platform):
            m = Module()
            m.d.comb += [self.o.payload.data.eq(self.rows), self.o.valid.eq(self.go)]
            return m

    m = Module()
    m.submodules.source = source = Source()
    m.submodules.unit = unit
    wiring.connect(m, source.o, unit.i)
    results = []

    async def bench(ctx):
        ctx.set(unit.o.ready, 1)
        sent = 0
        for _ in range(40):
            ctx.set(source.go, int(sent < len(rows)))
            if sent < len(rows):
                ctx.set(source.rows, [int(v) for v in rows[sent]])
            if sent < len(rows) and ctx.get(unit.i.ready):
                sent += 1
            if ctx.get(unit.o.valid):
                results.append(ctx.get(unit.o.payload.data))
            await ctx.tick()

    sim = Simulator(m)
    sim.add_clock(1e-8)
    sim.add_testbench(bench)
    sim.run()
    assert results == argmax(rows).tolist()
