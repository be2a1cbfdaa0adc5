# amaranth: UnusedElaboratable=no
"""The streaming Argmax in Amaranth's simulator: golden rows, framing, masks, throughput."""

import numpy as np
import pytest
from streaming_bench import check_rows, ref_rows, row_masks, rtl_rows, source_rows

from shiftmax.hw.streaming_argmax import StreamingArgmax
from shiftmax.sim.framing import RowShape, beats_of_rows


def ref_streaming_argmax(params: dict, data, mask, last):
    return ref_rows("argmax", params, data, mask if params.get("mask") else None, last)


def rtl_streaming_argmax(params: dict, data, mask, last, **stream):
    return rtl_rows(StreamingArgmax(**params), data, mask, last, **stream)


def run_rows(params: dict, elements, masks=None, kinds=None, *, seed=0, gap=0.0, stall=0.0,
             noise=3, **stream):
    shape = RowShape("argmax", params)
    rng = np.random.default_rng(seed)
    rows = source_rows(shape, elements, masks, kinds or ["good"] * len(elements), rng,
                       noise=noise)
    data, mask, last, _ = beats_of_rows(rows)
    _, expected, _ = ref_streaming_argmax(params, data, mask, last)
    run = rtl_streaming_argmax(params, data, mask, last, seed=seed, gap=gap, stall=stall,
                               **stream)
    return expected, run, (data, mask, last)


def random_elements(params: dict, rows: int, rng) -> np.ndarray:
    vb = params["value_bits"]
    x = rng.integers(-(1 << vb), 1 << vb, size=(rows, params["n"]))
    x[::3] = np.maximum(x[::3] // 16 * 16, -(1 << vb))  # ties between lanes and beats
    x[1::5] = -(1 << vb)                                # every element at the lowest value
    return x


CONFIGS = [
    dict(n=10, value_bits=7, lanes_per_beat=3),
    dict(n=9, value_bits=4, lanes_per_beat=8, output="onehot"),          # P = N - 1
    dict(n=7, value_bits=15, lanes_per_beat=1, register_every=1),        # P = 1
    dict(n=20, value_bits=5, lanes_per_beat=6, register_every=0, stage_registers=False),
    dict(n=17, value_bits=3, lanes_per_beat=4, mask=True, output="onehot"),
    dict(n=10, value_bits=7, lanes_per_beat=3, flow_control="enable"),
    dict(n=17, value_bits=3, lanes_per_beat=4, mask=True, output="onehot",
         flow_control="enable"),
    dict(n=20, value_bits=5, lanes_per_beat=6, register_every=0, stage_registers=False,
         flow_control="enable"),
]


@pytest.mark.parametrize("params", CONFIGS, ids=lambda p: "-".join(f"{v}" for v in p.values()))
def test_rows_back_to_back_match_golden_under_gaps_and_backpressure(params):
    rng = np.random.default_rng(params["n"])
    x = random_elements(params, 30, rng)
    masks = row_masks("random", 30, params["n"], rng) if params.get("mask") else None
    expected, run, _ = run_rows(params, x, masks, seed=3, gap=0.3, stall=0.4)
    check_rows(expected, run)


@pytest.mark.parametrize("kind", ["random", "causal", "full"])
def test_masked_elements_rank_below_present_ones(kind):
    params = dict(n=11, value_bits=3, lanes_per_beat=4, mask=True)
    rng = np.random.default_rng(4)
    x = random_elements(params, 20, rng)
    masks = row_masks(kind, 20, params["n"], rng)
    expected, run, _ = run_rows(params, x, masks, seed=1, gap=0.2, stall=0.3)
    check_rows(expected, run)
    if kind == "full":
        assert run.data == [0] * 20 and run.user == [1] * 20


@pytest.mark.parametrize("flow_control", ["fifo", "enable"])
@pytest.mark.parametrize("stall", [0.3, 0.8])
def test_malformed_rows_are_flagged_and_good_neighbours_unharmed(stall, flow_control):
    # Long noise after a missing tlast: beats are dropped while a result waits (ce low, or
    # no credit left); early tlasts on beat 0 make one-beat rows back to back.
    params = dict(n=10, value_bits=7, lanes_per_beat=3, mask=True, flow_control=flow_control)
    kinds = ["good", "early", "good", "missing", "missing", "good", "early", "good"] * 2
    rng = np.random.default_rng(6)
    x = random_elements(params, len(kinds), rng)
    masks = row_masks("random", len(kinds), params["n"], rng)
    expected, run, _ = run_rows(params, x, masks, kinds, seed=2, gap=0.1, stall=stall,
                                noise=12)
    check_rows(expected, run)
    assert [row.flagged for row in expected] == [kind != "good" for kind in kinds]


@pytest.mark.parametrize("flow_control", ["fifo", "enable"])
def test_reset_in_mid_row_empties_the_unit(flow_control):
    params = {**CONFIGS[0], "flow_control": flow_control}
    rng = np.random.default_rng(8)
    x = random_elements(params, 10, rng)
    rows = source_rows(RowShape("argmax", params), x, None, ["good"] * 10, rng)
    data, mask, last, starts = beats_of_rows(rows)
    cut = starts[4] + 1
    run = rtl_streaming_argmax(params, data, mask, last, seed=4, gap=0.2, stall=0.6,
                               reset_after=cut)
    _, expected, _ = ref_streaming_argmax(params, data[cut:], mask[cut:], last[cut:])
    check_rows(expected, run)


@pytest.mark.parametrize("params", CONFIGS[:4] + CONFIGS[5:], ids=[
    "p3", "p-n-1", "p1", "unregistered", "p3-enable", "mask-enable", "unregistered-enable"])
def test_one_beat_per_clock_sustained_and_latency_as_documented(params):
    rng = np.random.default_rng(2)
    expected, run, (data, _, last) = run_rows(params, random_elements(params, 10, rng))
    check_rows(expected, run)
    unit = StreamingArgmax(**params)
    assert run.in_cycles == list(range(run.in_cycles[0], run.in_cycles[0] + len(data)))
    row_ends = [run.in_cycles[b] for b in np.flatnonzero(last)]
    assert {o - i for i, o in zip(row_ends, run.out_cycles, strict=True)} == {unit.latency}


def test_parameters_and_properties():
    unit = StreamingArgmax(n=1000, value_bits=15, lanes_per_beat=16)
    assert unit.beats_per_row == 63 and unit.input_cycles == 1
    assert unit.params["lanes_per_beat"] == 16 and unit.flow_control == "fifo"
    assert unit.o.payload.shape()["data"].width == 10
    # The output FIFO holds index and flag; a one-hot result is decoded after it.
    assert unit.memory_bits > 0 and unit.memory_bits % 11 == 0
    onehot = StreamingArgmax(n=1000, value_bits=15, lanes_per_beat=16, output="onehot")
    assert onehot.o.payload.shape()["data"].width == 1000
    assert onehot.memory_bits == unit.memory_bits
    enable = StreamingArgmax(n=1000, value_bits=15, lanes_per_beat=16, flow_control="enable")
    assert enable.memory_bits == 0 and enable.latency == unit.latency - 2


@pytest.mark.parametrize("kwargs, message", [
    (dict(lanes_per_beat=None), "lanes_per_beat must be given"),
    (dict(lanes_per_beat=10), "lanes_per_beat must be at most 9"),
    (dict(lanes_per_cycle=2), "lanes_per_cycle folds the one-beat-per-row Argmax"),
    (dict(flow_control="skid"), "flow_control must be 'enable' or 'fifo'"),
    (dict(output="value"), "output must be one of"),
])
def test_bad_parameters_are_rejected(kwargs, message):
    with pytest.raises(ValueError, match=message):
        StreamingArgmax(**{**dict(n=10, value_bits=7, lanes_per_beat=3), **kwargs})
