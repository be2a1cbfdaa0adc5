# amaranth: UnusedElaboratable=no
"""The one-beat TopK unit in Amaranth's simulator: golden topk, masks, stream behaviour, reset.

The bench here (:func:`rtl_beats`) drives any unit of the stream protocol (``i``/``o``
stream members, payload structs) and is shared with the streaming form's tests.
"""

from __future__ import annotations

import itertools
import os
import sys
from dataclasses import dataclass, field

import numpy as np
import pytest
from amaranth.hdl import ClockDomain, Module, Shape
from amaranth.sim import Simulator

from shiftmax.golden import argmax
from shiftmax.golden.topk import topk
from shiftmax.hw.topk import TopK

FULL = os.environ.get("SHIFTMAX_HW_FULL") == "1"


# --- the bench -----------------------------------------------------------------------------

def pack_fields(layout, fields: dict) -> int:
    """A payload word from integer fields (each masked to its width, placed at its offset)."""
    word = 0
    for name, value in fields.items():
        member = layout[name]
        width = Shape.cast(member.shape).width
        word |= (int(value) & ((1 << width) - 1)) << member.offset
    return word


def field_of(layout, word: int, name: str) -> int:
    member = layout[name]
    width = Shape.cast(member.shape).width
    return (word >> member.offset) & ((1 << width) - 1)


def pack_lanes(values, width: int) -> int:
    word = 0
    for j, v in enumerate(values):
        word |= (int(v) & ((1 << width) - 1)) << (j * width)
    return word


def unpack_lanes(word: int, count: int, width: int, *, signed: bool = False) -> list[int]:
    lanes = []
    for j in range(count):
        v = (word >> (j * width)) & ((1 << width) - 1)
        if signed and v >> (width - 1):
            v -= 1 << width
        lanes.append(v)
    return lanes


@dataclass
class BeatRun:
    """What came out of a unit: output payload words in order, and when beats moved."""

    outputs: list[int] = field(default_factory=list)
    in_cycles: list[int] = field(default_factory=list)
    out_cycles: list[int] = field(default_factory=list)
    stall_violations: list[str] = field(default_factory=list)
    outputs_before_reset: list[int] = field(default_factory=list)
    ready_cycles: list[int] = field(default_factory=list)


def rtl_beats(unit, beats: list[int], *, seed: int = 0, gap: float = 0.0, stall: float = 0.0,
              reset_after: int | None = None, reset_cycles: int = 2,
              expected_outputs: int | None = None) -> BeatRun:
    """Send the payload words ``beats`` to ``unit.i`` with random gaps and backpressure.

    ``gap`` is the probability that the source withholds ``i.valid`` in a cycle, ``stall``
    that the sink drops ``o.ready``. A result offered while stalled must stay valid and
    unchanged (violations are listed). With ``reset_after=b``, reset is held for
    ``reset_cycles`` once ``b`` beats have been taken; what left before is in
    ``outputs_before_reset``. The run ends once every beat is in and ``expected_outputs``
    results came out (then a few idle cycles must bring nothing more).
    """
    if hasattr(sys, "set_int_max_str_digits"):
        sys.set_int_max_str_digits(0)
    rng = np.random.default_rng(seed)
    run = BeatRun()
    domain = ClockDomain("sync")
    module = Module()
    module.domains.sync = domain
    module.submodules.unit = unit
    slowdown = 1.0 / max(0.05, (1 - gap) * (1 - stall))
    limit = int(200 + 4 * unit.latency + 4 * slowdown * len(beats))
    expected = expected_outputs if expected_outputs is not None else len(beats)

    async def bench(ctx):
        sent = 0
        offered = None
        reset_pending = reset_after is not None
        for cycle in range(limit):
            if reset_pending and sent == reset_after:
                ctx.set(unit.i.valid, 0)
                ctx.set(domain.rst, 1)
                for _ in range(reset_cycles):
                    await ctx.tick()
                ctx.set(domain.rst, 0)
                reset_pending = False
                offered = None
                run.outputs_before_reset, run.outputs = run.outputs, []
                run.in_cycles.clear()
                run.out_cycles.clear()
            valid = sent < len(beats) and rng.random() >= gap
            ready = rng.random() >= stall
            ctx.set(unit.i.valid, int(valid))
            ctx.set(unit.i.payload.as_value(), beats[sent] if valid else 0)
            ctx.set(unit.o.ready, int(ready))
            o_valid = ctx.get(unit.o.valid)
            o_data = ctx.get(unit.o.payload.as_value())
            if offered is not None and (not o_valid or o_data != offered):
                run.stall_violations.append(f"cycle {cycle}: held {offered:#x} became "
                                            f"valid={o_valid} data={o_data:#x}")
            if ctx.get(unit.i.ready):
                run.ready_cycles.append(cycle)
            if valid and ctx.get(unit.i.ready):
                sent += 1
                run.in_cycles.append(cycle)
            if o_valid and ready:
                run.outputs.append(o_data)
                run.out_cycles.append(cycle)
            offered = o_data if (o_valid and not ready) else None
            await ctx.tick()
            if not reset_pending and sent == len(beats) and len(run.outputs) >= expected:
                for _ in range(unit.latency + 4):
                    ctx.set(unit.i.valid, 0)
                    ctx.set(unit.o.ready, 1)
                    if ctx.get(unit.o.valid):
                        run.outputs.append(ctx.get(unit.o.payload.as_value()))
                    await ctx.tick()
                break

    sim = Simulator(module)
    sim.add_clock(1e-8)
    sim.add_testbench(bench)
    sim.run()
    return run


def decode_topk(unit, words: list[int]) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(indices, values, user) arrays from output payload words of a TopK unit."""
    layout = unit.o.payload.shape()
    ib, width, k = unit.index_bits, unit.value_bits + 1, unit.k
    indices, values, users = [], [], []
    for word in words:
        payload = field_of(layout, word, "data")
        indices.append(unpack_lanes(payload, k, ib))
        values.append(unpack_lanes(payload >> (k * ib), k, width, signed=True)
                      if unit.output == "index-value" else [0] * k)
        users.append(field_of(layout, word, "user") if "user" in dict(layout) else 0)
    shape = (len(words), k)
    return (np.array(indices, dtype=np.int64).reshape(shape),
            np.array(values, dtype=np.int64).reshape(shape), np.array(users, dtype=np.int64))


def mismatch(rows, masks, expected, actual) -> str:
    bad = [r for r in range(len(expected)) if not np.array_equal(expected[r], actual[r])]
    if not bad:
        return "no mismatch"
    r = bad[0]
    mask = None if masks is None else np.asarray(masks)[r].astype(int).tolist()
    return (f"{len(bad)} of {len(expected)} rows differ; first row {r}: input "
            f"{np.asarray(rows)[r].tolist()} mask {mask}, expected "
            f"{np.asarray(expected)[r].tolist()}, got {np.asarray(actual)[r].tolist()}")


# --- one-beat TopK -------------------------------------------------------------------------

def ref_topk(x, k, mask=None) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(indices, values, too-few-present flags) by the golden model."""
    indices, values = topk(x, k, mask=mask)
    few = np.zeros(len(x), dtype=np.int64) if mask is None else \
        ((~np.asarray(mask, dtype=bool)).sum(axis=-1) < k).astype(np.int64)
    return indices, values, few


def rtl_topk(x, params: dict, mask=None, **stream):
    """Run the rows of ``x`` (and their masks) through a TopK; (indices, values, user, run)."""
    unit = TopK(**params)
    layout = unit.i.payload.shape()
    width = unit.value_bits + 1
    beats = []
    for r, row in enumerate(np.asarray(x)):
        fields = {"data": pack_lanes(row, width)}
        if unit.mask:
            fields["mask"] = pack_lanes(np.asarray(mask)[r].astype(int), 1)
        beats.append(pack_fields(layout, fields))
    run = rtl_beats(unit, beats, **stream)
    return (*decode_topk(unit, run.outputs), run)


def check_against_golden(x, params, mask=None, **stream):
    indices, values, user, run = rtl_topk(x, params, mask, **stream)
    exp_indices, exp_values, exp_few = ref_topk(x, params["k"], mask)
    assert not run.stall_violations, run.stall_violations[:3]
    assert np.array_equal(exp_indices, indices), mismatch(x, mask, exp_indices, indices)
    if params.get("output") == "index-value":
        assert np.array_equal(exp_values, values), mismatch(x, mask, exp_values, values)
    if params.get("mask"):
        assert np.array_equal(exp_few, user), mismatch(x, mask, exp_few, user)
    return run


def every_row(n: int, value_bits: int) -> np.ndarray:
    lo, hi = -(1 << value_bits), 1 << value_bits
    return np.array(list(itertools.product(range(lo, hi), repeat=n)), dtype=np.int64)


@pytest.mark.parametrize("n, value_bits", [(3, 2), (4, 1)] + ([(4, 2)] if FULL else []))
def test_every_input_of_tiny_rows_every_k(n, value_bits):
    x = every_row(n, value_bits)
    for k in range(1, n + 1):
        check_against_golden(x, dict(n=n, value_bits=value_bits, k=k, output="index-value",
                                     register_every=1, stage_registers=k % 2 == 0))


@pytest.mark.parametrize("n, k", [(3, 2), (4, 3)] + ([(4, 1), (4, 4), (3, 3)] if FULL else []))
def test_every_input_and_mask_of_tiny_rows(n, k):
    x = every_row(n, 1)
    masks = np.array(list(itertools.product((0, 1), repeat=n)), dtype=bool)
    rows = np.repeat(x, len(masks), axis=0)
    mask = np.tile(masks, (len(x), 1))
    check_against_golden(rows, dict(n=n, value_bits=1, k=k, output="index-value", mask=True,
                                    register_every=0), mask)


CONFIGS = [
    dict(n=10, value_bits=15, k=3),
    dict(n=10, value_bits=7, k=5, output="index-value", register_every=1, flow_control="skid"),
    dict(n=13, value_bits=3, k=13, output="index-value", register_every=0,
         stage_registers=False, flow_control="enable"),
    dict(n=2, value_bits=1, k=1, output="index-value"),
    dict(n=7, value_bits=31, k=2, output="index-value", register_every=3),
    dict(n=17, value_bits=4, k=4, mask=True, output="index-value", register_every=1),
    dict(n=9, value_bits=2, k=3, mask=True, stage_registers=False),
]


def config_id(params: dict) -> str:
    return "-".join(f"{key[:2]}{value}" for key, value in params.items())


def random_rows(rng, count: int, n: int, value_bits: int) -> np.ndarray:
    lo, hi = -(1 << value_bits), 1 << value_bits
    x = rng.integers(lo, hi, size=(count, n), dtype=np.int64)
    x[::5] = x[::5, :1]                               # every lane equal
    x[1::5] = np.maximum(x[1::5] // 4 * 4, lo)        # coarse values: many ties
    x[2::7] = rng.choice([lo, hi - 1], size=(len(x[2::7]), n))   # the two extremes
    return x


@pytest.mark.parametrize("params", CONFIGS, ids=config_id)
def test_matches_golden_under_gaps_and_backpressure(params):
    rng = np.random.default_rng(params["n"] * 7 + params["k"])
    x = random_rows(rng, 120, params["n"], params["value_bits"])
    mask = None
    if params.get("mask"):
        mask = rng.random(x.shape) < rng.choice([0.1, 0.5, 0.9, 1.0], size=(len(x), 1))
    check_against_golden(x, params, mask, seed=3, gap=0.3, stall=0.4)


def test_ties_keep_the_lower_index_first():
    x = np.array([[3, 5, 5, 1], [-2, -2, -2, -2], [0, 1, 0, 1], [-8, -8, 7, 7], [7, 7, 7, -8]])
    indices, _, _, _ = rtl_topk(x, dict(n=4, value_bits=3, k=3, register_every=1))
    assert np.array_equal(indices, ref_topk(x, 3)[0])
    assert indices.tolist()[:2] == [[1, 2, 0], [0, 1, 2]]


def test_k_of_one_agrees_with_argmax():
    rng = np.random.default_rng(5)
    x = random_rows(rng, 100, 11, 3)
    indices, _, _, _ = rtl_topk(x, dict(n=11, value_bits=3, k=1))
    assert np.array_equal(indices[:, 0], argmax(x)), mismatch(x, None, argmax(x), indices[:, 0])


def test_k_of_n_is_a_full_sort():
    rng = np.random.default_rng(6)
    x = random_rows(rng, 60, 8, 5)
    indices, values, _, _ = rtl_topk(x, dict(n=8, value_bits=5, k=8, output="index-value"))
    order = np.lexsort((np.arange(8)[np.newaxis].repeat(len(x), 0), -x), axis=-1)
    assert np.array_equal(indices, order)
    assert np.array_equal(values, np.take_along_axis(x, order, axis=-1))


def test_fully_masked_rows_list_indices_in_order_and_are_flagged():
    x = np.array([[5, -3, 2, 7, 0], [1, 1, 1, 1, 1], [-4, 3, 3, -4, 0]])
    mask = np.array([[1, 1, 1, 1, 1], [0, 1, 1, 1, 1], [1, 0, 1, 0, 1]], dtype=bool)
    indices, values, user, _ = rtl_topk(
        x, dict(n=5, value_bits=3, k=3, output="index-value", mask=True), mask)
    assert np.array_equal(indices, ref_topk(x, 3, mask)[0])
    assert indices.tolist() == [[0, 1, 2], [0, 1, 2], [1, 3, 0]]
    assert values.tolist() == [[5, -3, 2], [1, 1, 1], [3, -4, -4]]
    assert user.tolist() == [1, 1, 1]


@pytest.mark.parametrize("params", CONFIGS, ids=config_id)
def test_result_arrives_latency_cycles_after_its_input(params):
    rng = np.random.default_rng(1)
    x = rng.integers(-2, 2, size=(12, params["n"]))
    mask = rng.random(x.shape) < 0.3 if params.get("mask") else None
    run = check_against_golden(x, params, mask)
    unit = TopK(**params)
    assert run.in_cycles == list(range(len(x)))
    assert {o - i for i, o in zip(run.in_cycles, run.out_cycles, strict=True)} == {unit.latency}


@pytest.mark.parametrize("params", CONFIGS[:3], ids=config_id)
def test_reset_in_mid_stream_empties_the_pipeline(params):
    rng = np.random.default_rng(2)
    x = random_rows(rng, 40, params["n"], params["value_bits"])
    unit = TopK(**params)
    layout = unit.i.payload.shape()
    beats = [pack_fields(layout, {"data": pack_lanes(row, unit.value_bits + 1)}) for row in x]
    run = rtl_beats(unit, beats, seed=1, gap=0.2, stall=0.3, reset_after=15,
                    expected_outputs=len(x) - 15)
    indices, _, _ = decode_topk(unit, run.outputs)
    assert np.array_equal(indices, ref_topk(x[15:], params["k"])[0])


@pytest.mark.parametrize("params, latency", [
    # 1 (output register) + tree: node levels (groups of 4, merges at levels 3 and 4 for
    # n = 10), a register after even levels below the top, one inside each with
    # stage_registers; + 1 for skid, + 2 for fifo.
    (dict(n=10, value_bits=15, k=3, flow_control="enable"), 1 + 1 + 3),
    (dict(n=10, value_bits=15, k=3, register_every=1, stage_registers=False,
          flow_control="enable"), 1 + 2),
    (dict(n=10, value_bits=15, k=3, register_every=0, stage_registers=False,
          flow_control="skid"), 1 + 1),
    (dict(n=300, value_bits=15, k=5, register_every=2), 1 + 4 + 8 + 2),
])
def test_latency_follows_the_formula(params, latency):
    assert TopK(**params).latency == latency


def test_properties_describe_the_unit():
    unit = TopK(n=10, value_bits=15, k=3, output="index-value", mask=True,
                flow_control="enable")
    assert (unit.input_cycles, unit.beats_per_row, unit.memory_bits) == (1, 1, 0)
    assert unit.flow_control == "enable"
    assert unit.params == {"n": 10, "value_bits": 15, "k": 3, "output": "index-value",
                           "register_every": 2, "stage_registers": True,
                           "flow_control": "enable", "lanes_per_beat": 10, "mask": True}
    assert TopK(n=10, value_bits=15, k=3).flow_control == "fifo"
    assert TopK(n=10, value_bits=15, k=3, flow_control="fifo").memory_bits > 0
    assert len(unit.o.payload.data.as_value()) == 3 * 4 + 3 * 16


@pytest.mark.parametrize("kwargs, error, match", [
    (dict(n=10, value_bits=7, k=0), ValueError, "k must be"),
    (dict(n=10, value_bits=7, k=11), ValueError, "k must be at most n = 10, not 11"),
    (dict(n=10, value_bits=7, k=2.0), TypeError, "k must be an integer"),
    (dict(n=1, value_bits=7, k=1), ValueError, "n must be at least 2"),
    (dict(n=10, value_bits=32, k=1), ValueError, "value_bits must be at most 31"),
    (dict(n=10, value_bits=7, k=1, output="onehot"), ValueError, "output must be one of"),
    (dict(n=10, value_bits=7, k=1, mask=1), TypeError, "mask must be True or False"),
    (dict(n=10, value_bits=7, k=1, lanes_per_beat=4), ValueError, "StreamingTopK"),
    (dict(n=10, value_bits=7, k=1, flow_control="credit"), ValueError, "flow_control"),
])
def test_bad_parameters_are_rejected(kwargs, error, match):
    with pytest.raises(error, match=match):
        TopK(**kwargs)
