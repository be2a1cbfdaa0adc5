# amaranth: UnusedElaboratable=no
"""The flow-control forms around any fixed-latency datapath (shiftmax.hw.flow)."""

import numpy as np
import pytest
from amaranth.hdl import ClockDomain, Module, Value, unsigned
from amaranth.lib import data
from amaranth.sim import Simulator
from rtl_sim import mismatch

from shiftmax.golden import argmax
from shiftmax.hw import ArgmaxTree, Shiftmax
from shiftmax.hw.flow import (
    FIFO_BANK_BITS,
    FIFO_GROUP_BANKS,
    FLOW_CONTROLS,
    FixedLatencyStream,
    fifo_depth,
    flow_latency,
    flow_memory_bits,
)
from shiftmax.hw.pipeline import register
from shiftmax.sim.vectors import pack_rows


def ref_argmax(rows: np.ndarray) -> list[int]:
    return argmax(rows).tolist()


def rtl_stream_component(component, words, *, seed: int, gap: float, stall: float):
    """Drive ``component.i`` / read ``component.o`` with random gaps and backpressure.

    Returns (results in order, cycles beats went in, cycles results came out, violations of
    the rule that an offered result holds until taken).
    """
    rng = np.random.default_rng(seed)
    results, ins, outs, violations = [], [], [], []
    m = Module()
    m.domains.sync = ClockDomain("sync")
    m.submodules.dut = component

    async def bench(ctx):
        sent, held = 0, None
        for cycle in range(40 * len(words) + 100):
            valid = sent < len(words) and rng.random() >= gap
            ready = rng.random() >= stall
            ctx.set(component.i.valid, int(valid))
            ctx.set(Value.cast(component.i.payload), int(words[sent]) if valid else 0)
            ctx.set(component.o.ready, int(ready))
            o_valid = ctx.get(component.o.valid)
            o_data = ctx.get(Value.cast(component.o.payload))
            if held is not None and (not o_valid or o_data != held):
                violations.append(cycle)
            if valid and ctx.get(component.i.ready):
                sent += 1
                ins.append(cycle)
            if o_valid and ready:
                results.append(o_data)
                outs.append(cycle)
            held = o_data if o_valid and not ready else None
            await ctx.tick()
            if len(results) == len(words):
                break

    sim = Simulator(m)
    sim.add_clock(1e-8)
    sim.add_testbench(bench)
    sim.run()
    return results, ins, outs, violations


@pytest.mark.parametrize("flow_control", FLOW_CONTROLS)
@pytest.mark.parametrize("register_every", [0, 1])
def test_a_component_with_a_fixed_latency_becomes_a_stream(flow_control, register_every):
    tree = ArgmaxTree(n=6, value_bits=4, register_every=register_every)
    unit = FixedLatencyStream(tree, output="index", flow_control=flow_control)
    # A combinational tree gets an output register; a pipelined one keeps its own latency.
    assert unit.latency == flow_latency(max(tree.latency, 1), flow_control)
    rng = np.random.default_rng(register_every)
    rows = rng.integers(-16, 16, size=(120, 6))
    rows[::5] = rows[::5] // 8 * 8
    results, _, _, violations = rtl_stream_component(unit, pack_rows(rows, 5), seed=3,
                                                     gap=0.3, stall=0.5)
    assert not violations, violations[:5]
    assert results == ref_argmax(rows), mismatch(rows, np.array(ref_argmax(rows)),
                                                 np.array(results))


@pytest.mark.parametrize("flow_control", FLOW_CONTROLS)
def test_a_datapath_callback_becomes_a_stream(flow_control):
    lanes = data.ArrayLayout(unsigned(4), 3)

    def datapath(m, payload, step):
        total = (payload[0] + payload[1] + payload[2])[:6]
        return register(m, register(m, total))

    unit = FixedLatencyStream(datapath, in_shape=lanes, out_shape=unsigned(6), latency=2,
                              flow_control=flow_control)
    rows = np.random.default_rng(1).integers(0, 16, size=(60, 3))
    results, ins, outs, _ = rtl_stream_component(unit, pack_rows(rows, 4), seed=0, gap=0,
                                                 stall=0)
    assert results == rows.sum(axis=1).tolist()
    assert ins == list(range(len(rows))), "one beat per clock while the output is ready"
    assert outs == [c + unit.latency for c in ins]


def test_a_wide_fifo_keeps_its_write_groups_in_step():
    # 200 bits: 7 banks of the FIFO in 2 write groups, each with its own write enable, write
    # pointer and "a result waiting" flag.
    width = 200
    assert -(-width // FIFO_BANK_BITS) > FIFO_GROUP_BANKS

    def datapath(m, payload, step):
        return register(m, register(m, register(m, payload)))

    unit = FixedLatencyStream(datapath, in_shape=unsigned(width), out_shape=unsigned(width),
                              latency=3, flow_control="fifo")
    rng = np.random.default_rng(11)
    words = [int.from_bytes(rng.bytes(width // 8), "little") for _ in range(150)]
    for stall in (0.5, 0.9):
        results, _, _, violations = rtl_stream_component(unit, words, seed=2, gap=0.2,
                                                         stall=stall)
        assert not violations
        assert results == words


@pytest.mark.parametrize("flow_control", FLOW_CONTROLS)
def test_a_long_stall_loses_nothing_and_a_full_pipeline_restarts(flow_control):
    tree = ArgmaxTree(n=4, value_bits=3, register_every=1)
    unit = FixedLatencyStream(tree, output="index", flow_control=flow_control)
    rows = np.random.default_rng(7).integers(-8, 8, size=(80, 4))
    results, _, _, violations = rtl_stream_component(unit, pack_rows(rows, 4), seed=5, gap=0.0,
                                                     stall=0.9)
    assert not violations
    assert results == ref_argmax(rows)


@pytest.mark.parametrize("flow_control", FLOW_CONTROLS)
def test_ready_is_a_register_in_the_skid_and_fifo_forms(flow_control):
    """The enable form's i.ready follows o.ready within a cycle; the other two do not."""
    unit = Shiftmax(n=3, value_bits=3, exp_bitwidth=2, buffer_bitwidth=6,
                    flow_control=flow_control)
    m = Module()
    m.domains.sync = ClockDomain("sync")
    m.submodules.unit = unit
    follows = []

    async def bench(ctx):
        ctx.set(unit.i.valid, 1)
        ctx.set(unit.o.ready, 0)
        for _ in range(unit.latency + 20):  # fill it up: the output waits, not taken
            await ctx.tick()
        stalled = ctx.get(unit.i.ready)
        ctx.set(unit.o.ready, 1)           # the same cycle: no clock edge in between
        follows.append((stalled, ctx.get(unit.i.ready)))

    sim = Simulator(m)
    sim.add_clock(1e-8)
    sim.add_testbench(bench)
    sim.run()
    stalled, released = follows[0]
    assert stalled == 0
    assert released == (1 if flow_control == "enable" else 0)


def test_fifo_credits_and_memory_follow_the_latency():
    assert fifo_depth(9) == 12
    assert flow_memory_bits(9, "fifo", 110) == 16 * 110
    assert flow_memory_bits(9, "skid", 110) == flow_memory_bits(9, "enable", 110) == 0
    # Latency 16 (datapath 14): 17 credits, so the memory holds at most 16 results.
    assert Shiftmax(n=10, value_bits=7, register_every=1, flow_control="fifo").memory_bits \
        == 16 * 110


def test_bad_datapaths_are_rejected():
    with pytest.raises(TypeError, match="callback needs latency"):
        FixedLatencyStream(lambda m, p, s: p)
    with pytest.raises(TypeError, match="datapath must be"):
        FixedLatencyStream(3)
    with pytest.raises(ValueError, match="output must name a port member"):
        FixedLatencyStream(ArgmaxTree(n=3, value_bits=2), output="nothing")
    with pytest.raises(ValueError, match="flow_control must be one of"):
        FixedLatencyStream(ArgmaxTree(n=3, value_bits=2), flow_control="valve")
